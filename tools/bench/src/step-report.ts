/**
 * Printing the training-step benchmark: one table of medians, the ratios
 * measured side by side in the run, and per-kernel profiles.
 */

/** Backend labels of the rows: wasm with all of ddinit's kernels, wasm with its own 4.22 kernels (plus only the missing ones), cpu. */
export const BACKEND_LABELS = { ddinit: 'wasm (ddinit kernels)', baseline: 'wasm (4.22 kernels)', cpu: 'cpu' } as const;

export interface StepRow {
  model: string;
  batch: number;
  /** One of {@link BACKEND_LABELS}. */
  backend: string;
  forwardMs: number;
  stepMs: number;
  tensorsBefore: number;
  tensorsAfter: number;
}

export type KernelProfile = Map<string, { ms: number; calls: number }>;

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const lines = [pad(header, widths), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))];
  return lines.join('\n');
}

const ms = (v: number) => v.toFixed(0);

/** The table of medians, one row per network × backend (× kernel set). */
export function formatStepTable(rows: StepRow[]): string {
  return table(
    ['network', 'batch', 'backend', 'forward ms', 'fwd+bwd+update ms', 'step/forward', 'tensors before→after'],
    rows.map((r) => [
      r.model,
      String(r.batch),
      r.backend,
      ms(r.forwardMs),
      ms(r.stepMs),
      `${(r.stepMs / r.forwardMs).toFixed(2)}×`,
      `${r.tensorsBefore}→${r.tensorsAfter}`,
    ]),
  );
}

/** Ratios between rows of the same network: cpu vs wasm, wasm 4.22 kernels vs ddinit's. */
export function formatRatios(rows: StepRow[]): string[] {
  const lines: string[] = [];
  for (const model of [...new Set(rows.map((r) => r.model))]) {
    const of = (backend: string) => rows.find((r) => r.model === model && r.backend === backend);
    const wasm = of(BACKEND_LABELS.ddinit);
    const baseline = of(BACKEND_LABELS.baseline);
    const cpu = of(BACKEND_LABELS.cpu);
    if (wasm && baseline) {
      lines.push(
        `${model}: training step with wasm 4.22's own kernels / with ddinit's = ${(baseline.stepMs / wasm.stepMs).toFixed(2)}× ` +
          `(step/forward ${(baseline.stepMs / baseline.forwardMs).toFixed(2)}× → ${(wasm.stepMs / wasm.forwardMs).toFixed(2)}×)`,
      );
    }
    if (wasm && cpu) {
      lines.push(
        `${model}: cpu / wasm (ddinit kernels) = ${(cpu.forwardMs / wasm.forwardMs).toFixed(1)}× forward, ${(cpu.stepMs / wasm.stepMs).toFixed(1)}× training step`,
      );
    }
  }
  return lines;
}

/** Per-kernel milliseconds of one step, one column per profile, the `top` largest kernels and the total. */
export function formatProfiles(profiles: [string, KernelProfile][], top = 12): string {
  const names = new Set<string>();
  for (const [, p] of profiles) for (const name of p.keys()) names.add(name);
  const largest = (name: string) => Math.max(...profiles.map(([, p]) => p.get(name)?.ms ?? 0));
  const shown = [...names].sort((a, b) => largest(b) - largest(a)).slice(0, top);
  const cell = (p: KernelProfile, name: string) => {
    const e = p.get(name);
    return e === undefined ? '—' : `${ms(e.ms)} (${e.calls})`;
  };
  const total = (p: KernelProfile) => [...p.values()].reduce((s, e) => s + e.ms, 0);
  return table(
    ['kernel', ...profiles.map(([label]) => `${label} ms (calls)`)],
    [
      ...shown.map((name) => [name, ...profiles.map(([, p]) => cell(p, name))]),
      ['all kernels', ...profiles.map(([, p]) => ms(total(p)))],
    ],
  );
}
