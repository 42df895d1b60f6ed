export { PRETEXT_HEAD_NAME, trunkOf, withPretextHead } from './pretext-model';
export type { PretextHeadOptions } from './pretext-model';
export { ROTATION_CLASSES, rotate90, rotationBatch } from './rotation';
