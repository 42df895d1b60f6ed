export { denseEigenpairs } from './symmetric-eigen';
export type { Eigenpairs } from './symmetric-eigen';
export { symmetricMatrixFromTensor } from './symmetric-matrix';
export type { SymmetricMatrix } from './symmetric-matrix';
