// Test helpers for ddinit's specs (not part of the library API).
export { FIXTURE_INPUT_SHAPES, FIXTURE_NAMES, buildFixtureModel } from './fixture-models';
export type { FixtureName } from './fixture-models';
export { conv2dBackpropFilterFlat, installFastCpuConv2DBackpropFilter } from './fast-cpu-conv2d-backprop-filter';
export { lossAndGradients } from './train-step';
