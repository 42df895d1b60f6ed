/**
 * The part of `ddinit init` that loads tfjs: the backend and the stage. The
 * command imports this module only when the artifact is not up to date
 * (init-command.ts; a relative import, as Nx's boundary rule wants libraries
 * imported statically).
 */
import { selectBackend } from '@ddinit/core/backend';
import type { PipelineConfig } from '../config/pipeline-config';
import type { ConsoleObservers } from '../observe/console-observers';
import { runInitStage, type InitOutcome } from '../stages/init-stage';

/** Selects the configured backend and runs the init stage on it. */
export async function runInitStageOnBackend(config: PipelineConfig, observers: ConsoleObservers): Promise<InitOutcome> {
  const selection = await selectBackend(config.backend, { logger: observers.logger });
  // The report says which kernels did the arithmetic: 'wasm + native BLAS/LAPACK (…)' when the OpenBLAS addon was used
  // (its convolutions and products, and core's QR and eigensolver).
  const backend = selection.nativeBlas?.active ? `${selection.name} + native BLAS/LAPACK (${selection.nativeBlas.threads} threads)` : selection.name;
  return runInitStage(config, { backend, logger: observers.logger, progress: observers.progress });
}
