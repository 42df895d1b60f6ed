/**
 * `@ddinit/pipeline` as a library: load the models ddinit publishes. Importing it
 * registers ddinit's custom tfjs layers. The CLI is bin/ddinit.js.
 */
export { loadModel, modelFileLocation, readModel, withInputNormalization } from './model/load-model';
export type { LoadModelOptions } from './model/load-model';
export { MODEL_FILE, WEIGHTS_FILE, inputNormalizationOf, modelFromFiles, modelToFiles } from './model/model-files';
export type { DdinitModelMetadata } from './model/model-files';
export { InputNormalization } from '@ddinit/models/layers';
export type { InputNormalizationConfig } from '@ddinit/models/layers';
