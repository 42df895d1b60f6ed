export { BACKEND_NAMES, selectBackend } from './select-backend';
export type { BackendChoice, BackendName, BackendSelection, NativeBlasStatus, SelectBackendOptions, SkippedBackend } from './select-backend';
export { registerWasmTrainingKernels, type RegisterWasmKernelsOptions } from './wasm-kernels';
