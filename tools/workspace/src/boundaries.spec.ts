/**
 * The module-boundary rules must really forbid the wrong imports: lint source
 * text as if it sat in each kind of project and check the verdicts.
 */
import { resolve } from 'node:path';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');
let eslint: ESLint;

async function messagesFor(relativePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(root, relativePath) });
  return result.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

beforeAll(() => {
  process.env.NX_DAEMON = 'false';
  eslint = new ESLint({ cwd: root });
});

describe('module boundaries', () => {
  it('allows a foundation library to use tfjs and another foundation library', async () => {
    const messages = await messagesFor(
      'libs/models/src/boundary-probe.ts',
      "import * as tf from '@tensorflow/tfjs';\nimport { Rng } from '@ddinit/core';\nexport const x = [tf, Rng];\n",
    );
    expect(messages).toEqual([]);
  });

  it('forbids the filesystem in algorithm and foundation libraries', async () => {
    for (const path of ['libs/core/src/probe.ts', 'libs/models/src/probe.ts', 'libs/init-within-layer/src/probe.ts']) {
      const messages = await messagesFor(path, "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n");
      expect(messages.join('\n'), path).toMatch(/no-restricted-imports: .*only data\/app code touches the filesystem/);
    }
  });

  it('forbids S3 and native backends in foundation libraries', async () => {
    const s3 = await messagesFor('libs/models/src/probe.ts', "import { S3Client } from '@aws-sdk/client-s3';\nexport const x = S3Client;\n");
    expect(s3.join('\n')).toMatch(/Only the data library and the app talk to S3/);
    const native = await messagesFor('libs/core/src/probe.ts', "import * as tfn from '@tensorflow/tfjs-node-gpu';\nexport const x = tfn;\n");
    expect(native.join('\n')).toMatch(/Only the app chooses a native backend/);
  });

  it('forbids stage libraries from choosing the backend', async () => {
    const messages = await messagesFor(
      'libs/init-between-layer/src/probe.ts',
      "import { selectBackend } from '@ddinit/core/backend';\nexport const x = selectBackend;\n",
    );
    expect(messages.join('\n')).toMatch(/Only the app chooses the backend/);
  });

  it('forbids a foundation library from depending on a tool', async () => {
    const messages = await messagesFor('libs/core/src/probe.ts', "import { x as y } from '@ddinit/workspace';\nexport const x = y;\n");
    expect(messages.join('\n')).toMatch(/enforce-module-boundaries/);
  });

  it('forbids unseeded randomness', async () => {
    const messages = await messagesFor('libs/models/src/probe.ts', 'export const x = Math.random();\n');
    expect(messages.join('\n')).toMatch(/Randomness is explicit/);
  });
});
