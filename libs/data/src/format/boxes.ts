/**
 * Checks of object boxes, shared by the writer (examples on their way in) and
 * the reader (rows of a shard another tool may have written).
 */
import { DataError } from '@ddinit/core';
import type { Box } from './example';
import type { DatasetFeatures } from './features';

/**
 * Each box's class is a class index and its corners are finite with
 * 0 ≤ x0 < x1 ≤ width and 0 ≤ y0 < y1 ≤ height (the sides known for raw images only).
 * @param where the example, e.g. `split 'train' example 'train-00042'`; a bad box is named `…boxes[k].field`.
 * @throws DataError naming the box and field, what was expected and what arrived.
 */
export function checkBoxes(boxes: readonly Box[], features: DatasetFeatures, where: string): void {
  const image = features.image;
  const classes = features.classNames.length;
  const width = image.encoding === 'raw' ? image.width : Infinity;
  const height = image.encoding === 'raw' ? image.height : Infinity;
  boxes.forEach((box, k) => {
    const at = `${where} boxes[${k}]`;
    if (!Number.isInteger(box.class) || box.class < 0 || (classes > 0 && box.class >= classes)) {
      throw new DataError('box class is not a class index', { where: `${at}.class`, expected: `0…${classes - 1}`, actual: box.class });
    }
    checkSpan(box.x0, box.x1, width, `${at}.x0`, ['x0', 'x1', 'width']);
    checkSpan(box.y0, box.y1, height, `${at}.y0`, ['y0', 'y1', 'height']);
  });
}

function checkSpan(lo: number, hi: number, side: number, where: string, names: [string, string, string]): void {
  if (Number.isFinite(lo) && Number.isFinite(hi) && lo >= 0 && lo < hi && hi <= side) return;
  throw new DataError(`box corners ${names[0]}, ${names[1]} are not inside the image`, {
    where,
    expected: `0 ≤ ${names[0]} < ${names[1]} ≤ ${side === Infinity ? `the image ${names[2]}` : side}`,
    actual: `${names[0]} ${lo}, ${names[1]} ${hi}`,
  });
}
