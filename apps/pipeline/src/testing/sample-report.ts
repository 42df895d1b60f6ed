/** A plausible report for specs of the report renderers (not a measured result). */
import type { InitReport } from '../report/report-schema';

export function sampleReport(overrides: Partial<InitReport> = {}): InitReport {
  const kh = 5;
  const kw = 5;
  const cin = 1;
  const cout = 16;
  const values: number[] = [];
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) values.push(Math.sin(i * 1.3 + j * 0.7 + o) * (o % 3 === 0 ? -1 : 1));
  return {
    schemaVersion: 2,
    init: 'ddinit-kmeans+calibration',
    model: 'caffenet-small',
    backend: 'wasm',
    seed: 1,
    data: {
      source: 'embedded:fashion-mnist-sample',
      split: 'train',
      sampleSize: 160,
      sampleRule: 'set by sample (--sample)',
      inputShape: [28, 28, 1],
      normalization: { scale: 1 / 255, mean: [0.286], std: [0.353] },
    },
    within: { method: 'kmeans', beta: 0 },
    timings: { totalSeconds: 12.5, withinSeconds: 8.25, betweenSeconds: 3.5 },
    layers: ['conv1', 'conv2', 'conv3', 'fc6', 'fc8'].map((name, k) => ({
      name,
      kind: name.startsWith('fc') ? 'dense' : 'conv',
      method: name === 'fc8' ? 'gaussian' : 'kmeans',
      fallback: name === 'fc8' ? 'kmeans → gaussian: 160 rows < 10 centres × 20' : null,
      rows: name === 'fc8' ? null : 4000 - k * 500,
      // fc6 drew its rows from a grown sample (`sample` unset).
      images: name === 'fc8' ? null : name === 'fc6' ? 2048 : 160,
      outMean: 1e-5 * k,
      outStd: 1 - 1e-4 * k,
      worstMeanDeviation: 3e-4,
      worstStdDeviation: 8e-4,
      heldOutMean: 0.02 * k,
      heldOutStd: name === 'fc6' ? 2.4 : 1 + 0.03 * k,
      heldOutStrays: name === 'fc6',
      outStdBefore: 10 ** (k - 2),
      changeRateBefore: 10 ** (-k / 2),
      changeRateAfter: 0.05 * (1 + 0.001 * k),
      seconds: 0.5 + k,
    })),
    calibration: { iterations: 4, converged: true, maxLogDeviation: 0.004, outputStd: 1.02 },
    lsuv: null,
    heldOut: { images: 256, stdRatioLimit: 1.4, meanShiftLimit: 0.25, strayLayers: ['fc6'], loss: 2.41, chanceLoss: Math.log(10) },
    firstLayerFilters: { layer: 'conv1', shape: [kh, kw, cin, cout], values },
    configHash: '3f2a9c0d1e7b4a6c8d9e0f1a2b3c4d5e',
    codeVersion: '0.1.0',
    createdAt: '2026-11-27T10:00:00.000Z',
    ...overrides,
  };
}
