/**
 * `ddinit config schema` prints the JSON Schema of the pipeline configuration;
 * `ddinit config show` prints the configuration a run would use (defaults <
 * file < environment), as YAML.
 */
import { Command } from 'commander';
import { stringify } from 'yaml';
import { pipelineConfigJsonSchema } from '../config/config-json-schema';
import { loadPipelineConfig } from '../config/load-config';
import { studyConfigJsonSchema } from '../study/study-config';

export interface ConfigCommandIo {
  stdout: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
}

export function registerConfigCommand(program: Command, io: ConfigCommandIo = { stdout: process.stdout, env: process.env }): void {
  const config = program.command('config').description('the pipeline configuration: JSON Schema for editors, resolved values');
  config
    .command('schema')
    .description('print the JSON Schema of the pipeline config (docs/pipeline-config.schema.json is this output)')
    .option('--study', "the comparison study's config instead (docs/study-config.schema.json)")
    .action((flags: { study?: boolean }) => {
      io.stdout.write(`${JSON.stringify(flags.study === true ? studyConfigJsonSchema() : pipelineConfigJsonSchema(), null, 2)}\n`);
    });
  config
    .command('show')
    .description('print the resolved configuration (defaults < --config file < DDINIT_* environment)')
    .option('--config <file>', 'pipeline config, YAML or JSON')
    .action((flags: { config?: string }) => {
      io.stdout.write(stringify(loadPipelineConfig({ file: flags.config, env: io.env })));
    });
}
