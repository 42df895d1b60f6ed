/**
 * The PASCAL VOC devkit's box AP on seeded random detection cases (written by
 * `/usr/bin/python3 libs/eval/scripts/voc-box-ap-values.py`), so the box AP spec
 * compares with the devkit's algorithm without Python.
 */
import type { LabelledBox, ScoredBox } from '../metrics/box-average-precision';
import fixture from './detection-voc-values.json';

type Methods = Record<'non-interpolated' | 'voc07-11point' | 'voc-envelope', number>;

export interface VocBoxValues {
  generator: string;
  seed: number;
  numpy: string;
  cases: { classes: number; truth: LabelledBox[][]; detections: ScoredBox[][]; perClass: (Methods | null)[]; mean: Methods }[];
}

export const vocBoxValues = fixture as VocBoxValues;
