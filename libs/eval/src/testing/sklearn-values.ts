/**
 * scikit-learn's values on seeded random inputs (written by
 * `python3 libs/eval/scripts/sklearn-values.py`), so the metric specs compare
 * with scikit-learn without Python.
 */
import fixture from './sklearn-values.json';

type Methods = Record<'non-interpolated' | 'voc07-11point' | 'voc-envelope', number>;

export interface SklearnValues {
  generator: string;
  seed: number;
  sklearn: string;
  ranking: { n: number; ties: boolean; scores: number[]; labels: number[]; ap: Methods }[];
  map: { n: number; classes: number; scores: number[]; labels: number[]; perClass: (Methods | null)[]; mean: Methods };
  confusion: {
    classes: number;
    truth: number[];
    predicted: number[];
    confusion: number[];
    precision: (number | null)[];
    recall: (number | null)[];
    iou: (number | null)[];
    meanIoU: number;
    absent: number[];
  };
  topK: { classes: number; ties: boolean; scores: number[]; truth: number[]; accuracy: Record<string, number> }[];
}

export const sklearnValues = fixture as SklearnValues;
