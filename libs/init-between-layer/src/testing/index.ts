// Helpers for this library's specs (not part of its public entry point).
export { normalizeChannels } from './normalize-channels';
export { capturePreActivations } from './pre-activations';
export { seededBatch } from './seeded-batch';
export { inceptionBlock, nestedInception, projectionResidual, twoSeriesPairs } from './dag-models';
