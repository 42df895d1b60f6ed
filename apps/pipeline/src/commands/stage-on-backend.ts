/**
 * The part of running a stage that loads tfjs: the backend and the stage's run.
 * stage-command.ts imports this module only when there is work to do (a stage
 * found up to date from its configuration and manifest never loads tfjs; a
 * relative import, as Nx's boundary rule wants libraries imported statically).
 */
import { selectBackend, type BackendChoice, type BackendSelection } from '@ddinit/core/backend';
import type { Observers } from '@ddinit/core';
import type { PipelineConfig } from '../config/pipeline-config';
import { runStage } from '../stages/run-stage';
import type { StageConfigBase, StageDefinition, StageOutcome } from '../stages/stage-contract';

/** Selects `backend` and runs `definition` on it through {@link runStage}. */
export async function runStageOnBackend<C extends StageConfigBase, R>(
  definition: StageDefinition<C, R>,
  config: C,
  options: { backend: BackendChoice; pipeline?: PipelineConfig; signal: AbortSignal },
  observers: Observers,
): Promise<StageOutcome<R>> {
  const backend = backendDescription(await selectBackend(options.backend, { logger: observers.logger }));
  return runStage(definition, config, { backend, ...observers, signal: options.signal }, options.pipeline);
}

/**
 * The backend as reports name it: which kernels did the arithmetic, 'wasm + native BLAS/LAPACK (…)'
 * when the OpenBLAS addon was used (its convolutions and products, and core's QR and eigensolver).
 */
export function backendDescription(selection: BackendSelection): string {
  return selection.nativeBlas?.active ? `${selection.name} + native BLAS/LAPACK (${selection.nativeBlas.threads} threads)` : selection.name;
}
