/**
 * The checks every metric makes on its inputs, so bad input fails with a
 * message naming the argument and the element instead of yielding NaN.
 */
import { DataError } from '@ddinit/core';

/** Numbers as the metrics take them: typed arrays or plain arrays. */
export type Numbers = ArrayLike<number>;

/** @throws DataError unless `values` has `length` elements. */
export function checkLength(values: Numbers, length: number, where: string): void {
  if (values.length !== length) throw new DataError('the inputs disagree in length', { where, expected: `${length} values`, actual: `${values.length}` });
}

/** @throws DataError naming the first element of `values` that is not a finite number. */
export function checkFinite(values: Numbers, where: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new DataError('a score is not a finite number', { where: `${where}[${i}]`, actual: values[i] });
  }
}

/** @throws DataError unless `value` is an integer class index in [0, classes). */
export function checkClassIndex(value: number, classes: number, where: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= classes) {
    throw new DataError('a class index is out of range', { where, expected: `an integer in [0, ${classes})`, actual: value });
  }
}

/** @throws DataError unless `classes` is a positive integer. */
export function checkClassCount(classes: number, where: string): void {
  if (!Number.isInteger(classes) || classes < 1) throw new DataError('the number of classes must be a positive integer', { where, actual: classes });
}
