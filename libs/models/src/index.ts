// Reference architectures, by name.
export { buildModel, modelNames, modelOptionsSchema, parseModelOptions } from './architectures/registry';
export type { ModelName, ModelOptions } from './architectures/registry';
export { CAFFENET_LAYOUT, CAFFENET_SMALL_LAYOUT, buildCaffenetLayout, caffenetOptionsSchema, caffenetSmallOptionsSchema } from './architectures/caffenet';
export type { CaffenetLayout, CaffenetOptions } from './architectures/caffenet';
export { VGG_PLAIN_MIN_DEPTH, vggPlainOptionsSchema, vggStageDepths } from './architectures/vgg-plain';
export type { VggPlainOptions } from './architectures/vgg-plain';
export { resnetSmallOptionsSchema } from './architectures/resnet-small';
export type { ResnetSmallOptions } from './architectures/resnet-small';
export { layerSeed } from './architectures/layer-seed';

// Custom layers (registered with tf.serialization on import).
export { GroupedConv2D } from './layers/grouped-conv2d';
export type { GroupedConv2DArgs } from './layers/grouped-conv2d';
export { CAFFENET_LRN, LocalResponseNormalization, caffeLrnConfig } from './layers/local-response-normalization';
export type { CaffeLrnParameters, LocalResponseNormalizationArgs, LrnParameters } from './layers/local-response-normalization';
export { InputNormalization } from './layers/input-normalization';
export type { InputNormalizationArgs, InputNormalizationConfig } from './layers/input-normalization';
export { axisPadding, convOutputLength, dilatedKernelSize } from './layers/conv-geometry';
export type { AxisPadding, PaddingMode } from './layers/conv-geometry';

// Model-graph adapter.
export { flattenModel } from './graph/model-graph';
export type { GraphNode, ModelGraph, TensorRef } from './graph/model-graph';
export { PARAMETER_LAYER_KINDS } from './graph/layer-kinds';
export type { ParameterLayerKind } from './graph/layer-kinds';
export { parameterLayers, roleOfVariable } from './graph/parameter-layers';
export type { ConvolutionGeometry, KernelInfo, ParameterLayer, WeightRole } from './graph/parameter-layers';
export { GraphExecutor } from './graph/graph-executor';
export { hasWeight, readBias, readKernel, readWeight, weightVariable, writeBias, writeKernel, writeWeight } from './graph/layer-weights';
export type { LayerTarget } from './graph/layer-weights';
export { filterRowsShape, filterRowsToKernel, kernelToFilterRows } from './graph/kernel-layout';
export type { KernelLayout } from './graph/kernel-layout';
