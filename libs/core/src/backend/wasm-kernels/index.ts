/**
 * Kernels the tfjs wasm backend (4.22) lacks or runs slowly, registered so that
 * every reference model trains on wasm. Filled in by the wasm-kernels work.
 */

/** Registers ddinit's wasm kernels (idempotent) and returns their names. */
export function registerWasmTrainingKernels(): string[] {
  return [];
}
