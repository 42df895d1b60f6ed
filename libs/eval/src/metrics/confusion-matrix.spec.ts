import { DataError } from '@ddinit/core';
import { describe, expect, it } from 'vitest';
import { addToConfusionMatrix, confusionMatrix, emptyConfusionMatrix } from './confusion-matrix';

describe('the confusion matrix', () => {
  it('counts truth by row and prediction by column, dropping examples whose truth is the ignore label', () => {
    const m = confusionMatrix([0, 1, 2, 2, 1, 255], [0, 2, 2, 1, 1, 0], 3, { ignore: 255 });
    expect(Array.from(m.counts)).toEqual([1, 0, 0, 0, 1, 1, 0, 1, 1]);
  });

  it('sums batches into one matrix equal to the matrix of all examples at once', () => {
    const truth = [0, 1, 2, 2, 1, 0, 0];
    const predicted = [0, 2, 2, 1, 1, 1, 0];
    const summed = emptyConfusionMatrix(3);
    addToConfusionMatrix(summed, truth.slice(0, 3), predicted.slice(0, 3));
    addToConfusionMatrix(summed, truth.slice(3), predicted.slice(3));
    expect(Array.from(summed.counts)).toEqual(Array.from(confusionMatrix(truth, predicted, 3).counts));
  });

  it('refuses class indices out of range, an ignore label that is a class, and lengths that disagree', () => {
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(/truth\[1\]: a class index is out of range \(expected an integer in \[0, 3\), got 3\)/);
    expect(() => confusionMatrix([0, 1], [0, 255], 3, { ignore: 255 })).toThrow(/predicted\[1\]/);
    expect(() => confusionMatrix([0, 1], [0, 1], 3, { ignore: 1 })).toThrow(DataError);
    expect(() => confusionMatrix([0, 1], [0], 3)).toThrow(/predicted \(one per truth\): the inputs disagree in length/);
  });
});
