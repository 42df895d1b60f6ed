/**
 * Start-up benchmark (issue 12): wall time of the CLI's cheap paths, each
 * command run `--reps` times in a fresh process, from the workspace root.
 *
 *   npx nx run bench:startup                  # 10 runs each
 *   npx nx run bench:startup -- --reps 20
 *
 * Rows: `node -e 0` (the floor on this machine), `ddinit --help` and `--version`
 * from the build, `--help` from the sources through tsx (how the bin ran before
 * the build), `ddinit init` on an up-to-date artifact (the job alone) and
 * `npx nx run pipeline:init` on it (the job plus the Nx wrapper and its cached
 * build check), and two rows that split the wrapper: `npx nx --version` (npm's npx
 * and Nx's start) and `npx nx show projects` (plus the project graph; Nx reads
 * NX_ISOLATE_PLUGINS from the root .env). Needs the build (`npx nx run pipeline:build`). Prints one table
 * and the load average, then Nx's own timings of its phases in `nx run pipeline:init`
 * (code loading, project graph, task hashing; `NX_PERF_LOGGING`) without and with
 * the daemon; nothing is asserted. Wall time on a shared machine grows
 * with its load, so the table also gives CPU seconds (user + system, the command
 * and all its children, from GNU time at /usr/bin/time when it is there).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const reps = Number(process.argv[process.argv.indexOf('--reps') + 1]) || 10;
const env = { ...process.env, NX_DAEMON: 'false', NODE_OPTIONS: '' };
const OUT = 'tmp/bench-startup-init';
const INIT = ['--sample', '32', '--calibration-batch', '8', '--out', OUT, '--log-format', 'json'];

const CASES: { name: string; command: string[]; env?: NodeJS.ProcessEnv }[] = [
  { name: 'node -e 0', command: ['node', '-e', '0'] },
  { name: 'ddinit --help (build)', command: ['node', 'apps/pipeline/bin/ddinit.js', '--help'] },
  { name: 'ddinit --version (build)', command: ['node', 'apps/pipeline/bin/ddinit.js', '--version'] },
  { name: 'ddinit --help (sources, tsx)', command: ['node', '--conditions=@ddinit/source', '--import', 'tsx', 'apps/pipeline/src/cli.ts', '--help'] },
  { name: 'ddinit init, up to date', command: ['node', 'apps/pipeline/bin/ddinit.js', 'init', ...INIT] },
  { name: 'npx nx --version', command: ['npx', 'nx', '--version'] },
  { name: 'npx nx show projects', command: ['npx', 'nx', 'show', 'projects'] },
  { name: 'nx run pipeline:init, up to date', command: ['npx', 'nx', 'run', 'pipeline:init', '--', ...INIT] },
  // Nx's default outside CI: the daemon keeps the project graph between commands (its own CPU is not counted).
  { name: '  … with the Nx daemon', command: ['npx', 'nx', 'run', 'pipeline:init', '--', ...INIT], env: { NX_DAEMON: 'true' } },
];

const GNU_TIME = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'cpu %U %S'] : [];

/** Wall milliseconds and CPU seconds (NaN without GNU time) of one run. */
function run(command: string[], extraEnv: NodeJS.ProcessEnv = {}): { ms: number; cpu: number } {
  const full = [...GNU_TIME, ...command];
  const start = performance.now();
  const result = spawnSync(full[0] as string, full.slice(1), {
    cwd: ROOT,
    env: { ...env, ...extraEnv },
    stdio: ['ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${command.join(' ')} exited ${result.status}: ${result.stderr.slice(-500)}`);
  const cpu = /cpu (\S+) (\S+)\s*$/.exec(result.stderr);
  return { ms, cpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN };
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

// One full run first, so the init rows measure the up-to-date path.
run(['node', 'apps/pipeline/bin/ddinit.js', 'init', ...INIT]);
console.log(
  `start-up, ${reps} runs each, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`${'command'.padEnd(36)} ${'wall median s'.padStart(13)} ${'min s'.padStart(7)} ${'max s'.padStart(7)} ${'CPU median s'.padStart(12)}`);
for (const c of CASES) {
  run(c.command, c.env); // warm the file cache (and start the daemon)
  const runs = Array.from({ length: reps }, () => run(c.command, c.env));
  const wall = runs.map((r) => r.ms / 1000).sort((a, b) => a - b);
  const cpu = runs.map((r) => r.cpu).sort((a, b) => a - b);
  const f = (x: number): string => x.toFixed(3);
  console.log(
    `${c.name.padEnd(36)} ${f(quantile(wall, 0.5)).padStart(13)} ${f(wall[0] ?? NaN).padStart(7)} ${f(wall.at(-1) ?? NaN).padStart(7)} ${f(quantile(cpu, 0.5)).padStart(12)}`,
  );
}

/** Nx's own timings of its phases (`NX_PERF_LOGGING=true`) in one `nx run pipeline:init`, in ms (NaN: not logged). */
const PHASES = { 'code-loading': 'code loading', createProjectGraphAsync: 'project graph', hashMultipleTasks: 'task hashing' } as const;
function nxPhases(extraEnv: NodeJS.ProcessEnv): number[] {
  const command = ['node_modules/.bin/nx', 'run', 'pipeline:init', '--', ...INIT];
  const result = spawnSync(command[0] as string, command.slice(1), { cwd: ROOT, env: { ...env, ...extraEnv, NX_PERF_LOGGING: 'true' }, encoding: 'utf8' });
  const text = `${result.stdout}\n${result.stderr}`;
  return Object.keys(PHASES).map((phase) => Number(new RegExp(`Time taken for '${phase}' ([\\d.]+)ms`).exec(text)?.[1] ?? NaN));
}

// Where Nx's client spends its time, phase by phase: the graph is rebuilt at every
// command without the daemon and fetched from it with; hashing covers every task of the run.
console.log(`\nNx phases of nx run pipeline:init (NX_PERF_LOGGING), median ms of ${reps} runs`);
console.log(
  `${''.padEnd(20)} ${Object.values(PHASES)
    .map((name) => name.padStart(14))
    .join(' ')}`,
);
for (const [name, daemon] of [
  ['without the daemon', 'false'],
  ['with the daemon', 'true'],
] as const) {
  const runs = Array.from({ length: reps }, () => nxPhases({ NX_DAEMON: daemon }));
  const medians = Object.keys(PHASES).map((_, i) =>
    quantile(
      runs.map((r) => r[i] ?? NaN).sort((a, b) => a - b),
      0.5,
    ),
  );
  console.log(`${name.padEnd(20)} ${medians.map((m) => m.toFixed(0).padStart(14)).join(' ')}`);
}
spawnSync('npx', ['nx', 'daemon', '--stop'], { cwd: ROOT, env, stdio: 'ignore' });
