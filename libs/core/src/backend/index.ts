export { BACKEND_CHOICES, BACKEND_NAMES } from './backend-names';
export { selectBackend } from './select-backend';
export type { BackendChoice, BackendName, BackendSelection, NativeBlasStatus, SelectBackendOptions, SkippedBackend } from './select-backend';
export { registerWasmTrainingKernels, type RegisterWasmKernelsOptions } from './wasm-kernels';
