/**
 * Every stage of the pipeline, declared once (stage-contract.ts says what a
 * declaration holds). The CLI commands (`ddinit init`, `ddinit pretrain`, `ddinit finetune`, `ddinit evaluate`,
 * `sweep-run --stage`), the Kubernetes renderer (`k8s render --stage`: the
 * Job's command, retries and grace period) and the skip-when-done logic
 * (`runStage`) all read it.
 */
import { initStage } from './init-stage';
import { evaluateStage } from './evaluate-stage';
import { finetuneStage } from './finetune-stage';
import { pretrainStage } from './pretrain-stage';
import { STAGE_NAMES, type StageConfigBase, type StageDefinition, type StageName } from './stage-contract';

export { STAGE_NAMES, type StageName };

/** One definition per name of `STAGE_NAMES` (a stage missing here fails typecheck). */
export const STAGE_REGISTRY = { init: initStage, pretrain: pretrainStage, finetune: finetuneStage, evaluate: evaluateStage } as const satisfies Record<
  StageName,
  { name: StageName }
>;

/** The definition of stage `name`, typed for a generic caller. */
export function stageDefinition(name: StageName): StageDefinition<StageConfigBase, unknown> {
  return STAGE_REGISTRY[name] as unknown as StageDefinition<StageConfigBase, unknown>;
}
