export { CONTEXT_CLASSES, contextBatch, contextTask, defaultContextOptions } from './context-prediction';
export type { ContextOptions, ContextOptionsInput } from './context-prediction';
export { defaultJigsawOptions, jigsawBatch, jigsawTask } from './jigsaw';
export type { JigsawOptions, JigsawOptionsInput, JigsawTask } from './jigsaw';
export { checkDefences, defendPatches } from './patch-defences';
export type { ColourDefence, PatchDefences } from './patch-defences';
export {
  CENTRE_CELL,
  CONTEXT_REFERENCE_GEOMETRY,
  GRID_CELLS,
  JIGSAW_REFERENCE_GEOMETRY,
  checkGeometry,
  cutPatches,
  defaultGeometry,
  gridExtent,
  sampleGrid,
} from './patch-grid';
export type { GridGeometry } from './patch-grid';
export { hammingDistance, minimumHammingDistance, permutationSet } from './permutations';
export type { PermutationSetOptions } from './permutations';
export { PRETEXT_HEAD_NAME, trunkOf, withPretextHead } from './pretext-model';
export type { PretextHeadOptions } from './pretext-model';
export type { PretextModelOptions, PretextSetup, PretextTask, PretextTaskName } from './pretext-task';
export { ROTATION_CLASSES, rotate90, rotationBatch, rotationTask } from './rotation';
export { PatchGroups, withSiameseHead } from './siamese-head';
export type { FeatureReduction, Grouping, SiameseHeadOptions } from './siamese-head';
export { PRETEXT_TASKS, createPretextTask } from './tasks';
export type { PretextTaskConfig } from './tasks';
