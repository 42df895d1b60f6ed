/**
 * The built packages from outside the workspace, as a user's plain Node script
 * sees them: `node_modules` is the only link to the repository (no tsx, no
 * source condition, no NODE_PATH). Needs the build (`nx run pipeline:test`
 * builds first; this spec says so when dist/ is missing).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend } from '@ddinit/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PipelineConfigSchema } from '../config/pipeline-config';
import { runInitStage } from '../stages/init-stage';

const REPO = resolve(import.meta.dirname, '../../../..');
const BUILT = ['apps/pipeline/dist/index.js', 'apps/pipeline/dist/index.cjs', 'libs/models/dist/layers.cjs', 'libs/init-within-layer/dist/index.js'];
let outside: string;
let artifact: string;

/** Runs `node <script>` in the directory outside the workspace, with a clean environment. */
function runNode(script: string, source: string, args: string[] = []): { status: number | null; stdout: string; stderr: string } {
  writeFileSync(join(outside, script), source);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DDINIT_NATIVE_BLAS: 'off' };
  const run = spawnSync(process.execPath, [script, ...args], { cwd: outside, env, encoding: 'utf8', timeout: 300_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const lastJsonLine = (text: string): { losses: number[]; gap: number; layers: string[]; normalization: unknown } =>
  JSON.parse(text.trim().split('\n').at(-1) ?? '{}');

/** Load, check the normalization against the bare network, train 3 steps on 0–255 images. */
const trainScript = (imports: string): string => `${imports}
const dir = process.argv[2];
const model = await loadModel(dir);
const network = await loadModel(dir, { applyInputNormalization: false });
const { mean, std, scale } = network.getUserDefinedMetadata().ddinit.inputNormalization;
const [h, w, c] = model.inputs[0].shape.slice(1);
const classes = model.outputs[0].shape[1];
const images = tf.floor(tf.randomUniform([8, h, w, c], 0, 256, 'float32', 11));
const a = model.predict(images);
const b = network.predict(tf.div(tf.sub(tf.mul(images, scale), mean), std));
const gap = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / tf.max(tf.abs(b)).dataSync()[0];
const labels = tf.oneHot(tf.mod(tf.range(0, 8, 1, 'int32'), tf.scalar(classes, 'int32')), classes);
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const losses = [];
for (let step = 0; step < 3; step++) losses.push(await model.trainOnBatch(images, labels));
console.log(JSON.stringify({ losses, gap, layers: model.layers.map((l) => l.getClassName()), normalization: { scale, mean, std } }));
`;

/** The backend (wasm with ddinit's training kernels) is ESM-only: CommonJS reaches it by import(). */
const BACKEND_FROM_COMMONJS = "const { selectBackend } = await import('@ddinit/core/backend');\nawait selectBackend('wasm');";

beforeAll(async () => {
  const missing = BUILT.filter((f) => !existsSync(join(REPO, f)));
  if (missing.length > 0) throw new Error(`not built: ${missing.join(', ')} — run \`npx nx run pipeline:build\` (nx run pipeline:test does)`);
  outside = mkdtempSync(join(tmpdir(), 'ddinit-user-'));
  symlinkSync(join(REPO, 'node_modules'), join(outside, 'node_modules'), 'dir');
  artifact = join(outside, 'artifact');
  // As the CLI selects it (core/testing's useBackend also turns on tfjs's kernel leak checks).
  await selectBackend('wasm');
  const config = PipelineConfigSchema.parse({ out: artifact, sample: 32, calibrationBatch: 8, init: 'ddinit-pca+calibration' });
  await runInitStage(config, { backend: 'wasm' });
}, 600_000);
afterAll(() => rmSync(outside, { recursive: true, force: true }));

describe('the built packages outside the workspace', () => {
  it('an .mjs script loads the published model with loadModel and trains it 3 steps on 0–255 images', () => {
    const run = runNode(
      'train.mjs',
      trainScript(
        `import * as tf from '@tensorflow/tfjs';\nimport { selectBackend } from '@ddinit/core/backend';\nimport { loadModel } from '@ddinit/pipeline';\nawait selectBackend('wasm');`,
      ),
      [artifact],
    );
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const result = lastJsonLine(run.stdout);
    const report = JSON.parse(readFileSync(join(artifact, 'report.json'), 'utf8'));
    // The normalization the loader applies is the one the init used.
    expect(result.normalization).toEqual(report.data.normalization);
    expect(result.layers.slice(0, 2)).toEqual(['InputLayer', 'InputNormalization']);
    expect(result.gap).toBeLessThan(1e-4);
    expect(result.losses).toHaveLength(3);
    for (const loss of result.losses) expect(Number.isFinite(loss)).toBe(true);
  });

  it('a CommonJS script does the same through require()', () => {
    const run = runNode(
      'train.cjs',
      `(async () => {\nconst tf = require('@tensorflow/tfjs');\nconst { loadModel } = require('@ddinit/pipeline');\nrequire('@ddinit/models/layers');\n${trainScript(BACKEND_FROM_COMMONJS)}})().catch((e) => { console.error(e); process.exit(1); });`,
      [artifact],
    );
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const result = lastJsonLine(run.stdout);
    expect(result.gap).toBeLessThan(1e-4);
    for (const loss of result.losses) expect(Number.isFinite(loss)).toBe(true);
  });

  it("runs the README's library example as a plain .mjs file", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Using the libraries alone'));
    const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    expect(example).toContain('initializeWithinLayers');
    const run = runNode('example.mjs', example ?? '');
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^(true|false) \d+$/);
  });
});
