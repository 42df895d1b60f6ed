/**
 * Choosing the tfjs backend at run time.
 *
 * `auto` prefers the fastest backend that is installed and works:
 * `@tensorflow/tfjs-node-gpu` (CUDA; installed in the GPU container image), then
 * `@tensorflow/tfjs-node` (native CPU), then wasm (SIMD, with ddinit's training
 * kernels registered), then the pure-JavaScript cpu backend. An explicitly named
 * backend that is missing is an error, never a silent downgrade.
 *
 * Only applications and tools call this; libraries use whatever backend is set.
 *
 * @example
 * const selection = await selectBackend('auto', { logger });
 * // selection.name === 'wasm', selection.skipped lists why node-gpu and node were not used
 */
import * as tf from '@tensorflow/tfjs';
import { BackendError } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { loadNativeBlas } from '@ddinit/native-blas';
import { setLinalgProvider } from '../linalg/linalg-provider';
import { createLapackProvider, LAPACK_PROVIDER_NAME } from './lapack-provider';
import { registerWasmTrainingKernels } from './wasm-kernels';

import { BACKEND_NAMES, type BackendChoice, type BackendName } from './backend-names';

export { BACKEND_NAMES };
export type { BackendChoice, BackendName };

export interface SkippedBackend {
  name: BackendName;
  reason: string;
}

export interface BackendSelection {
  /** The ddinit name of the chosen backend. */
  name: BackendName;
  /** The name tfjs knows it by (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  /** Backends tried before the chosen one, with the reason each was not used. */
  skipped: SkippedBackend[];
  /** Kernels ddinit registered on the chosen backend (wasm only). */
  registeredKernels: string[];
  /**
   * On wasm: whether convolutions and matrix products run on the OpenBLAS addon
   * (`@ddinit/native-blas`), with its configuration and threads, or why not. While it
   * is active, QR and the dense eigensolver of @ddinit/core run on its LAPACK (`lapack`).
   */
  nativeBlas?: NativeBlasStatus;
}

export type NativeBlasStatus = { active: true; config: string; threads: number; lapack: string } | { active: false; reason: string };

export interface SelectBackendOptions {
  logger?: Logger;
  /**
   * On wasm, use the OpenBLAS addon when it is built (default true; the
   * environment variable DDINIT_NATIVE_BLAS=0 also turns it off).
   */
  nativeBlas?: boolean;
}

type Attempt = { ok: true; tfBackend: string; registeredKernels: string[]; nativeBlas?: NativeBlasStatus } | { ok: false; reason: string };

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(specifier);
}

async function importOptional(specifier: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await import(/* @vite-ignore */ specifier);
    return { ok: true };
  } catch (error) {
    if (isModuleNotFound(error, specifier)) {
      return { ok: false, reason: `${specifier} is not installed` };
    }
    return { ok: false, reason: `${specifier} failed to load: ${(error as Error).message ?? String(error)}` };
  }
}

async function activate(tfBackend: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const ok = await tf.setBackend(tfBackend);
    if (!ok) return { ok: false, reason: `tfjs could not initialize the '${tfBackend}' backend` };
    await tf.ready();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `the '${tfBackend}' backend failed to initialize: ${(error as Error).message}` };
  }
}

const attempts: Record<BackendName, (options: SelectBackendOptions) => Promise<Attempt>> = {
  'node-gpu': async () => {
    const loaded = await importOptional('@tensorflow/tfjs-node-gpu');
    if (!loaded.ok) return { ok: false, reason: `${loaded.reason} (it is installed in the GPU container image)` };
    const active = await activate('tensorflow');
    return active.ok ? { ok: true, tfBackend: 'tensorflow', registeredKernels: [] } : active;
  },
  node: async () => {
    const loaded = await importOptional('@tensorflow/tfjs-node');
    if (!loaded.ok) return loaded;
    const active = await activate('tensorflow');
    return active.ok ? { ok: true, tfBackend: 'tensorflow', registeredKernels: [] } : active;
  },
  wasm: async (options) => {
    const loaded = await importOptional('@tensorflow/tfjs-backend-wasm');
    if (!loaded.ok) return loaded;
    const native = options.nativeBlas === false ? { ok: false as const, reason: 'turned off by the nativeBlas option' } : loadNativeBlas();
    const registeredKernels = registerWasmTrainingKernels({ native: native.ok ? native.blas : undefined });
    const nativeBlas: NativeBlasStatus = native.ok
      ? { active: true, config: native.config, threads: native.threads, lapack: LAPACK_PROVIDER_NAME }
      : { active: false, reason: native.reason };
    const active = await activate('wasm');
    if (active.ok && native.ok) setLinalgProvider(createLapackProvider(native.blas));
    return active.ok ? { ok: true, tfBackend: 'wasm', registeredKernels, nativeBlas } : active;
  },
  cpu: async () => {
    const active = await activate('cpu');
    return active.ok ? { ok: true, tfBackend: 'cpu', registeredKernels: [] } : active;
  },
};

/**
 * One short info line a person reads (`tfjs backend: wasm + native BLAS (2
 * threads)`); what was skipped and why, the kernels ddinit registered and the
 * OpenBLAS build go to a debug record, where a long value costs nobody a read.
 */
function logSelection(logger: Logger, selection: BackendSelection): void {
  const native = selection.nativeBlas;
  const threads = native?.active ? native.threads : undefined;
  logger.info(`tfjs backend: ${selection.name}${threads === undefined ? '' : ` + native BLAS (${threads} threads)`}`, {
    backend: selection.name,
    ...(threads === undefined ? {} : { blasThreads: threads }),
  });
  logger.debug('tfjs backend details', {
    skipped: selection.skipped.map((s) => `${s.name}: ${s.reason}`),
    registeredKernels: selection.registeredKernels,
    ...(native === undefined ? {} : { nativeBlas: native.active ? `${native.config}, ${native.threads} threads` : `off: ${native.reason}` }),
  });
}

/**
 * Sets the tfjs backend and says which one it is.
 *
 * @param choice `auto` (node-gpu > node > wasm > cpu) or one backend by name.
 * @throws BackendError when an explicitly named backend is missing or fails, or
 *   (with `auto`) when none works; the message lists every reason.
 */
export async function selectBackend(choice: BackendChoice = 'auto', options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const logger = options.logger ?? silentLogger;
  if (choice !== 'auto' && !BACKEND_NAMES.includes(choice)) {
    throw new BackendError('unknown backend', {
      where: 'backend',
      expected: `one of auto, ${BACKEND_NAMES.join(', ')}`,
      actual: choice,
    });
  }
  const candidates: BackendName[] = choice === 'auto' ? [...BACKEND_NAMES] : [choice];
  const skipped: SkippedBackend[] = [];
  setLinalgProvider(undefined); // the wasm attempt registers LAPACK again when its addon is active
  for (const name of candidates) {
    const attempt = await attempts[name](options);
    if (attempt.ok) {
      const selection: BackendSelection = {
        name,
        tfBackend: attempt.tfBackend,
        skipped,
        registeredKernels: attempt.registeredKernels,
        ...(attempt.nativeBlas === undefined ? {} : { nativeBlas: attempt.nativeBlas }),
      };
      logSelection(logger, selection);
      return selection;
    }
    skipped.push({ name, reason: attempt.reason });
    if (choice === 'auto') logger.debug(`backend ${name} skipped: ${attempt.reason}`);
  }
  const reasons = skipped.map((s) => `${s.name}: ${s.reason}`).join('; ');
  throw new BackendError(choice === 'auto' ? 'no tfjs backend could be initialized' : 'requested backend is not available', {
    where: 'backend',
    expected: choice === 'auto' ? 'one working backend' : choice,
    actual: reasons,
  });
}
