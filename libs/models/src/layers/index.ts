/**
 * `@ddinit/models/layers`: ddinit's custom tfjs layers, registered with
 * `tf.serialization` when this module is imported, so `tf.loadLayersModel`
 * reads ddinit's model.json files. Light: tfjs and these layers only.
 */
export { GroupedConv2D } from './grouped-conv2d';
export type { GroupedConv2DArgs } from './grouped-conv2d';
export { CAFFENET_LRN, LocalResponseNormalization, caffeLrnConfig } from './local-response-normalization';
export type { CaffeLrnParameters, LocalResponseNormalizationArgs, LrnParameters } from './local-response-normalization';
export { InputNormalization } from './input-normalization';
export type { InputNormalizationArgs, InputNormalizationConfig } from './input-normalization';
