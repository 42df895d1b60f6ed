/**
 * The wasm kernel variants the training-step benchmark times step by step on
 * the same model. Adding a variant is adding one entry to
 * {@link WASM_KERNEL_VARIANTS}: `--kernels`, the table rows, the legend, the
 * ratio lines, `--profile` and the JSON lines all follow from the list.
 */
import { registerWasmTrainingKernels } from '@ddinit/core/backend';
import { loadNativeBlas } from '@ddinit/native-blas';

export interface WasmKernelVariant {
  /** Its name for `--kernels`. */
  name: string;
  /** The row's backend label (table and JSON lines). */
  backend: string;
  /** One line for the legend under the table. */
  description: string;
  /** Puts this variant's kernels in place on the wasm backend; called before each of its steps. */
  use(): void | Promise<void>;
  /** Why this variant cannot run on this machine, or undefined when it can. */
  unavailable?(): string | undefined;
}

const native = loadNativeBlas();

/** In table order; the one named {@link REFERENCE_VARIANT} is what the others are compared against. */
export const WASM_KERNEL_VARIANTS: readonly WasmKernelVariant[] = [
  {
    name: 'baseline',
    backend: 'wasm-baseline',
    description: "wasm 4.22's own kernels; only the ones it lacks (Conv2DBackpropFilter, depthwise backprops) come from ddinit",
    use: () => {
      registerWasmTrainingKernels({ kernels: 'missing' });
    },
  },
  {
    name: 'ddinit',
    backend: 'wasm',
    description: "all of ddinit's wasm training kernels (registerWasmTrainingKernels(), docs/wasm-kernels.md)",
    use: () => {
      registerWasmTrainingKernels({ kernels: 'all' });
    },
  },
  {
    name: 'native',
    backend: 'wasm-native',
    description: native.ok
      ? `ddinit's kernels with Conv2D, FusedConv2D, conv backprops, BatchMatMul and _FusedMatMul on OpenBLAS (@ddinit/native-blas; ${native.config}; ${native.threads} threads)`
      : `ddinit's kernels on OpenBLAS: not available (${native.reason})`,
    use: () => {
      if (!native.ok) throw new Error(`the native BLAS variant is not available: ${native.reason}`);
      registerWasmTrainingKernels({ kernels: 'all', native: native.blas });
    },
    unavailable: () => (native.ok ? undefined : native.reason),
  },
];

/** The variant left in place after the benchmark and that the ratio lines divide by. */
export const REFERENCE_VARIANT = 'ddinit';

/** The variant named `name`. @throws Error for a name not in {@link WASM_KERNEL_VARIANTS}. */
export function wasmKernelVariant(name: string): WasmKernelVariant {
  const found = WASM_KERNEL_VARIANTS.find((v) => v.name === name);
  if (found === undefined) throw new Error(`no wasm kernel variant named ${name}`);
  return found;
}
