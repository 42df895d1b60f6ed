/**
 * `@ddinit/models/layer-kinds`: the kinds of parameter layer ddinit initializes,
 * declared apart from the graph code so option and report schemas can name them
 * without loading tfjs (docs/RESULTS.md, "Start-up").
 */

/** The kinds of parameter layer ddinit initializes (rules of the within-layer options match them). */
export const PARAMETER_LAYER_KINDS = ['conv', 'dense', 'depthwise', 'separable', 'transposed', 'batchnorm'] as const;
export type ParameterLayerKind = (typeof PARAMETER_LAYER_KINDS)[number];
