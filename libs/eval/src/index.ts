// Metrics: pure functions on typed arrays.
export { topKAccuracy } from './metrics/top-k-accuracy';
export { addToConfusionMatrix, confusionMatrix, emptyConfusionMatrix } from './metrics/confusion-matrix';
export type { ConfusionMatrix, ConfusionOptions } from './metrics/confusion-matrix';
export { perClassPrecisionRecall } from './metrics/precision-recall';
export type { ClassPrecisionRecall } from './metrics/precision-recall';
export { IGNORE, countLabels, precisionRecallCurve } from './metrics/precision-recall-curve';
export type { PrecisionRecallCurve } from './metrics/precision-recall-curve';
export {
  AVERAGE_PRECISION_METHODS,
  averagePrecision,
  averagePrecisionOfCurve,
  envelopeAP,
  nonInterpolatedAP,
  voc07ElevenPointAP,
} from './metrics/average-precision';
export type { AveragePrecisionMethod } from './metrics/average-precision';
export { meanAveragePrecision } from './metrics/mean-average-precision';
export type { ClassAveragePrecision, MeanAveragePrecision } from './metrics/mean-average-precision';
export { SEGMENTATION_IGNORE, meanIoU } from './metrics/mean-iou';
export type { MeanIoU } from './metrics/mean-iou';
export type { Numbers } from './metrics/input-checks';
export { boxIoU, boxMeanAveragePrecision, matchDetections } from './metrics/box-average-precision';
export type {
  BoxAPOptions,
  BoxMeanAveragePrecision,
  ClassBoxAveragePrecision,
  LabelledBox,
  MatchOutcome,
  PixelBox,
  ScoredBox,
} from './metrics/box-average-precision';

// Heads without training and with frozen trunks.
export { knnClassify } from './knn/knn-classify';
export type { KnnMetric, KnnOptions, KnnResult, KnnVote } from './knn/knn-classify';
export { PROTOCOL_INPUT_SIDE, PROTOCOL_POOL_BUDGET, adaptivePool2d, defaultPoolBudget, pooledSize } from './probe/adaptive-pool';
export type { PoolingMode } from './probe/adaptive-pool';
export { FeatureTaps } from './probe/feature-taps';
export type { FeatureTapOptions, TappedLayer } from './probe/feature-taps';
export { LinearProbes, PROBE_DIVERGENCE_FACTOR, trainLinearProbes } from './probe/linear-probe';
export type { LinearProbeOptions, ProbeData, ProbeEvaluation } from './probe/linear-probe';

// Downstream heads: the shape the finetune and evaluate stages train and score.
export { HEAD_TASKS } from './heads/downstream-head';
export type { DownstreamHead, HeadBatch, HeadBox, HeadEvaluator, HeadMetrics, HeadOptions, HeadTargets, HeadTask } from './heads/downstream-head';
export { CLASSIFICATION_HEAD_NAME, classificationEvaluator, classificationHead, featureOutputOf } from './heads/classification-head';
export { DOWNSTREAM_HEADS, availableHeadTasks, createHead } from './heads/heads';
export type { HeadFactory } from './heads/heads';
export { fineTuneRates, layersInOrder } from './heads/fine-tune-rates';
export type { FineTuneRateOptions, LayerRates } from './heads/fine-tune-rates';
export { DETECTION_HEAD_DEFAULTS, DETECTION_LAYER_PREFIX, detectionFeatureMap, detectionHead, detectionLoss } from './heads/detection-head';
export type { DetectionHeadOptions, DetectionLossWeights } from './heads/detection-head';
export { IGNORED_CELL, assignDetectionTargets, decodeBox, encodeBox } from './heads/detection-targets';
export type { DetectionGrid, DetectionTargets } from './heads/detection-targets';
export { DECODE_DEFAULTS, decodeDetections, detectionChannels, nonMaxSuppression } from './heads/detection-decode';
export type { DecodeOptions } from './heads/detection-decode';
export { MULTILABEL_HEAD_LAYERS, maskedSigmoidCrossEntropy, multilabelHead } from './heads/multilabel-head';
export type { MultilabelHeadOptions } from './heads/multilabel-head';
export { SEGMENTATION_HEAD_LAYERS, SEGMENTATION_HIDDEN_DEFAULT, pixelSoftmaxCrossEntropy, segmentationHead } from './heads/segmentation-head';
export type { SegmentationHeadOptions } from './heads/segmentation-head';
export { BilinearUpsampling, interpolationMatrix } from './heads/segmentation-head-upsampling';
export type { BilinearUpsamplingArgs } from './heads/segmentation-head-upsampling';
