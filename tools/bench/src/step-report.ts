/**
 * Printing the training-step benchmark: one table of medians (with the PyTorch
 * figures beside the tfjs ones when PyTorch is there), a legend, the ratios
 * measured side by side in the run, per-kernel profiles, and one JSON line per
 * row for scripts.
 */
import { TORCH_INSTALL_HINT } from './step-torch';
import { REFERENCE_VARIANT, WASM_KERNEL_VARIANTS, wasmKernelVariant } from './step-variants';

/** The cpu backend's row label; wasm rows carry their kernel variant's `backend` label (step-variants.ts). */
export const CPU_BACKEND = 'cpu';

export interface StepRow {
  model: string;
  batch: number;
  /** A wasm kernel variant's `backend` label or {@link CPU_BACKEND}. */
  backend: string;
  forwardMs: number;
  stepMs: number;
  tensorsBefore: number;
  tensorsAfter: number;
  /** The same network and batch in PyTorch (null when PyTorch is absent, off, or has no mirror of it). */
  torchForwardMs: number | null;
  torchStepMs: number | null;
}

/** What became of the PyTorch comparison in this run. */
export type TorchStatus =
  { mode: 'off' } | { mode: 'missing'; reason: string } | { mode: 'found'; python: string; version: string; threads: number[]; notes: string[] };

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

/** `a ÷ b` as `1.23×`, or `—` when there is no `b`. */
export function formatRatio(a: number, b: number | null): string {
  return b === null ? '—' : `${(a / b).toFixed(2)}×`;
}

const msOrDash = (v: number | null) => (v === null ? '—' : ms(v));

/** The table of medians, one row per network × backend (× wasm kernel variant), PyTorch beside each. */
export function formatStepTable(rows: StepRow[]): string {
  return table(
    [
      'network',
      'batch',
      'backend',
      'forward ms',
      'fwd+bwd+update ms',
      'step/forward',
      'torch forward ms',
      'torch step ms',
      'forward ÷ torch forward',
      'step ÷ torch step',
      'tensors before→after',
    ],
    rows.map((r) => [
      r.model,
      String(r.batch),
      r.backend,
      ms(r.forwardMs),
      ms(r.stepMs),
      formatRatio(r.stepMs, r.forwardMs),
      msOrDash(r.torchForwardMs),
      msOrDash(r.torchStepMs),
      formatRatio(r.forwardMs, r.torchForwardMs),
      formatRatio(r.stepMs, r.torchStepMs),
      `${r.tensorsBefore}→${r.tensorsAfter}`,
    ]),
  );
}

/** What each backend label of `rows` means, and where the torch columns come from. */
export function formatLegend(rows: StepRow[], torch: TorchStatus): string[] {
  const backends = new Set(rows.map((r) => r.backend));
  const lines = WASM_KERNEL_VARIANTS.filter((v) => backends.has(v.backend)).map((v) => `${v.backend}: ${v.description}`);
  if ([...backends].some((b) => b.startsWith('wasm'))) {
    for (const v of WASM_KERNEL_VARIANTS) {
      const reason = backends.has(v.backend) ? undefined : v.unavailable?.();
      if (reason !== undefined) lines.push(`${v.backend}: skipped, ${reason}`);
    }
  }
  if (backends.has(CPU_BACKEND)) lines.push(`${CPU_BACKEND}: the tfjs cpu backend (plain JavaScript)`);
  lines.push(formatTorchNote(torch));
  return lines;
}

/** Where the PyTorch columns come from, or why they are empty (one line, plus one per note). */
export function formatTorchNote(torch: TorchStatus): string {
  switch (torch.mode) {
    case 'off':
      return 'torch: not run (--torch off)';
    case 'missing':
      return `torch: PyTorch was not found (${torch.reason}); install it with \`${TORCH_INSTALL_HINT}\` or point DDINIT_TORCH_PYTHON at a Python with torch`;
    case 'found': {
      const threads = [...new Set(torch.threads)].join('/');
      return (
        `torch: PyTorch ${torch.version} (${torch.python} tools/bench/torch/step.py, same layer shapes, NCHW), ` +
        `${threads === '' ? '?' : threads} thread(s); tfjs wasm runs on 1 thread in Node, wasm-native's BLAS calls on all cores` +
        torch.notes.map((n) => `\ntorch: ${n}`).join('')
      );
    }
  }
}

/** Ratios between rows of the same network: each wasm kernel variant vs the reference one, cpu vs wasm. */
export function formatRatios(rows: StepRow[]): string[] {
  const lines: string[] = [];
  const reference = wasmKernelVariant(REFERENCE_VARIANT).backend;
  for (const model of [...new Set(rows.map((r) => r.model))]) {
    const of = (backend: string) => rows.find((r) => r.model === model && r.backend === backend);
    const wasm = of(reference);
    const cpu = of(CPU_BACKEND);
    if (wasm === undefined) continue;
    for (const variant of WASM_KERNEL_VARIANTS) {
      const other = variant.backend === reference ? undefined : of(variant.backend);
      if (other === undefined) continue;
      lines.push(
        `${model}: training step ${other.backend} / ${reference} = ${formatRatio(other.stepMs, wasm.stepMs)} ` +
          `(step/forward ${formatRatio(other.stepMs, other.forwardMs)} → ${formatRatio(wasm.stepMs, wasm.forwardMs)})`,
      );
    }
    if (cpu) {
      lines.push(
        `${model}: ${CPU_BACKEND} / ${reference} = ${(cpu.forwardMs / wasm.forwardMs).toFixed(1)}× forward, ${(cpu.stepMs / wasm.stepMs).toFixed(1)}× training step`,
      );
    }
  }
  return lines;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const round3OrNull = (v: number | null) => (v === null ? null : round3(v));

/** One JSON object per row (milliseconds to 0.001): network, backend, batch, forwardMs, stepMs, torchForwardMs, torchStepMs. */
export function formatJsonLines(rows: StepRow[]): string[] {
  return rows.map((r) =>
    JSON.stringify({
      network: r.model,
      backend: r.backend,
      batch: r.batch,
      forwardMs: round3(r.forwardMs),
      stepMs: round3(r.stepMs),
      torchForwardMs: round3OrNull(r.torchForwardMs),
      torchStepMs: round3OrNull(r.torchStepMs),
    }),
  );
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
    [...shown.map((name) => [name, ...profiles.map(([, p]) => cell(p, name))]), ['all kernels', ...profiles.map(([, p]) => ms(total(p)))]],
  );
}
