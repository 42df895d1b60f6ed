import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INITIALIZATIONS } from '../config/initializations';
import { main } from '../main';
import { registerConfigCommand } from './config-command';

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const code = await main(args, [(program) => registerConfigCommand(program, { stdout: { write: (t: string) => (stdout += t) }, env })]);
  return { code, stdout };
}

describe('ddinit config', () => {
  it('prints the JSON Schema, and docs/pipeline-config.schema.json is current', async () => {
    const { code, stdout } = await run(['config', 'schema']);
    expect(code).toBe(0);
    const schema = JSON.parse(stdout);
    expect(schema.properties.init.enum).toEqual([...INITIALIZATIONS]);
    expect(schema.properties.within).toBeUndefined();
    expect(schema.properties.sample.type).toBe('integer');
    expect(schema.additionalProperties).toBe(false);
    const committed = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../../docs/pipeline-config.schema.json'), 'utf8'));
    expect(committed, 'regenerate with: npx ddinit config schema > docs/pipeline-config.schema.json').toEqual(schema);
  });

  it('shows the resolved configuration with environment overrides', async () => {
    const { code, stdout } = await run(['config', 'show'], { DDINIT_SEED: '7', DDINIT_MODEL: 'vgg-plain-11' });
    expect(code).toBe(0);
    expect(parse(stdout)).toMatchObject({ seed: 7, model: 'vgg-plain-11', init: 'ddinit-kmeans+calibration', data: 'embedded' });
  });
});
