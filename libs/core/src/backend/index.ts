export { BACKEND_NAMES, selectBackend } from './select-backend';
export type { BackendChoice, BackendName, BackendSelection, SkippedBackend } from './select-backend';
export { registerWasmTrainingKernels } from './wasm-kernels';
