/** The pipeline configuration as a JSON Schema, for editors (YAML language servers, VS Code). */
import { z } from 'zod';
import { PipelineConfigSchema } from './pipeline-config';

export function pipelineConfigJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(PipelineConfigSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'ddinit pipeline configuration',
    description:
      'Configuration of `ddinit init`, `ddinit pretrain`, `ddinit finetune` and `ddinit evaluate` (their `pretrain`, `finetune` and `evaluate` sections) and `ddinit k8s render` (flags and DDINIT_* variables override it).',
  };
}
