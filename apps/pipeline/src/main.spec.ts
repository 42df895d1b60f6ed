/**
 * The CLI's lazy command table: `ddinit --help` lists commands from summaries
 * without importing their modules, so each summary must say what the module
 * registers; `--version` prints the package version.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import packageJson from '../package.json' with { type: 'json' };
import { COMMANDS, EXIT_BAD_INPUT, EXIT_OK, main } from './main';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(argv), out };
  } finally {
    spy.mockRestore();
    err.mockRestore();
  }
}

const BIN = resolve(import.meta.dirname, '../bin/ddinit.js');

/** The CommonJS modules (tfjs is one) a run of the built bin with `args` loaded. */
function modulesLoadedBy(args: string[]): string[] {
  const script = `await import(${JSON.stringify(BIN)});
const { createRequire } = await import('node:module');
process.stderr.write('\\nloaded ' + JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'ddinit', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  expect(run.status).toBe(0);
  return JSON.parse(run.stderr.split('\nloaded ').at(-1) ?? '[]');
}

describe('ddinit main', () => {
  it('loads no command module for --help and --version, and tfjs once a command runs (built bin)', () => {
    if (!existsSync(resolve(import.meta.dirname, '../dist/cli.js'))) throw new Error('not built: run `npx nx run pipeline:build`');
    for (const flag of ['--help', '--version']) expect(modulesLoadedBy([flag]).filter((m) => m.includes('@tensorflow'))).toEqual([]);
    // `pretrain` imports its stage (and tfjs) with its module; `config` and an up-to-date `init` no longer do.
    expect(modulesLoadedBy(['pretrain', '--help']).some((m) => m.includes('@tensorflow/tfjs'))).toBe(true);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('lists %s with the description its module registers', async (name, entry) => {
    const program = new Command('ddinit');
    (await entry.load())(program);
    const registered = program.commands.find((c) => c.name() === name);
    expect(registered?.description()).toBe(entry.summary);
  });

  it('prints the pipeline package version for --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await capture([flag]);
      expect(run.code).toBe(EXIT_OK);
      expect(run.out.trim()).toBe(packageJson.version);
    }
  });

  it('lists every command for --help, and refuses an unknown one with exit 2', async () => {
    const help = await capture(['--help']);
    expect(help.code).toBe(EXIT_OK);
    for (const c of COMMANDS) expect(help.out).toContain(c.name);
    expect((await capture(['nope'])).code).toBe(EXIT_BAD_INPUT);
  });
});
