import { describe, expect, it } from 'vitest';
import { confusionMatrix } from './confusion-matrix';
import { SEGMENTATION_IGNORE, meanIoU } from './mean-iou';

describe('mean IoU', () => {
  it('is TP / (TP + FP + FN) per class from the dataset-wide matrix, ignored pixels dropped', () => {
    const result = meanIoU(confusionMatrix([0, 1, 2, 2, 1, 255, 255], [0, 2, 2, 1, 1, 0, 2], 3, { ignore: SEGMENTATION_IGNORE }));
    expect(result.perClass[0]).toBeCloseTo(1, 12);
    expect(result.perClass[1]).toBeCloseTo(1 / 3, 12);
    expect(result.perClass[2]).toBeCloseTo(1 / 3, 12);
    expect(result.mean).toBeCloseTo(5 / 9, 12);
    expect(result.pixelAccuracy).toBeCloseTo(3 / 5, 12);
    expect(result.absent).toEqual([]);
  });

  it('lists a class absent from truth and prediction and leaves it out of the mean; a class predicted but absent scores 0', () => {
    const absent = meanIoU(confusionMatrix([0, 1, 2, 2, 1], [0, 2, 2, 1, 1], 4));
    expect(absent.perClass[3]).toBeNull();
    expect(absent.absent).toEqual([3]);
    expect(absent.mean).toBeCloseTo(5 / 9, 12);
    const falsePositive = meanIoU(confusionMatrix([0, 0], [0, 3], 4));
    expect(falsePositive.perClass).toEqual([0.5, null, null, 0]);
    expect(falsePositive.absent).toEqual([1, 2]);
    expect(falsePositive.mean).toBeCloseTo(0.25, 12);
  });

  it('has no mean when every pixel is ignored', () => {
    const result = meanIoU(confusionMatrix([255, 255], [0, 1], 2, { ignore: 255 }));
    expect(result.mean).toBeNull();
    expect(result.pixelAccuracy).toBeNull();
    expect(result.absent).toEqual([0, 1]);
  });
});
