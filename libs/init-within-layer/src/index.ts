// Within-layer data-dependent initialization (Krähenbühl et al. 2016, Algorithm 1).
export { initializeWithinLayers } from './initialize-within-layers';
export type { LayerInitStats, WithinLayerReport } from './initialize-within-layers';
export {
  FALLBACKS,
  LAYER_KINDS,
  LAYER_METHODS,
  RANDOM_METHODS,
  WITHIN_METHODS,
  fallbackOptionsSchema,
  isRandomMethod,
  layerRuleSchema,
  parseWithinLayerOptions,
  withinLayerOptionsSchema,
} from './within-layer-options';
export type { Fallback, LayerMethod, LayerRule, RandomMethod, WithinMethod, WithinLayerOptions, WithinLayerOptionsInput } from './within-layer-options';
export { nameMatcher, resolveLayerPlans } from './resolve-layer-plans';
export type { LayerPlan } from './resolve-layer-plans';

// Building blocks (pure functions on tensors), for callers that assemble their own loop.
export { DENSE_GEOMETRY, gatherPatches } from './gather-patches';
export type { GatheredPatches, PatchGeometry, PatchSamplingOptions } from './gather-patches';
export { randomFilters, randomKernel } from './random-filters';
export { BASELINE_METHODS, CAFFE_GAUSSIAN_STD, baselineKernel, baselineStd, initializeBaseline, kernelFans, orthogonalMatrixShape } from './baseline-weights';
export type { BaselineLayer, BaselineMethod } from './baseline-weights';
export { defaultOversampling, eigenMethodFor, whitenedFilters } from './whitened-filters';
export { kmeansFilters, patchFilters, unitWhitenedRows } from './kmeans-filters';
export type { KmeansFilterOptions } from './kmeans-filters';
export type { WhitenedFilterOptions, WhitenedFilterResult, WhitenedMethod } from './whitened-filters';
export { drawLayerWeights } from './draw-layer-weights';
export type { DrawnWeights } from './draw-layer-weights';
export { channelMoments, momentsOf, summarizeMoments } from './channel-moments';
export type { ChannelMoments } from './channel-moments';
export { measureLayerMoments } from './held-out-moments';
export type { LayerMoments } from './held-out-moments';
export { outputKernel, redrawOutputChannels, scaleOutputChannels } from './output-channels';
export { calibrateBatchNorm } from './calibrate-batch-norm';
export { isResidualAdd, isScalableEnd, scaleLayerOutput, solveResidualScales } from './rescale-residual';
export type { ResidualRescaleStats } from './rescale-residual';
export { drawsFromRows, extraImagesFor, filtersPerGroup, grownLayerInput, positionsPerImage } from './sample-growth';
export type { SampleGrowth } from './sample-growth';
