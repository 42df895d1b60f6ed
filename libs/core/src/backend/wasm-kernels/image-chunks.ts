/**
 * Splitting a batch into chunks of whole images, so that an im2col-style
 * intermediate (`images · perImage` floats) stays under a memory budget.
 */
import type { TensorInfo } from '@tensorflow/tfjs';
import { heapFloat32, viewWithShape, type BackendWasm } from './wasm-backend';

/**
 * At most `maxElements` float32 values (default 2^24, 64 MiB) in one im2col /
 * col2im buffer. Mutable so that specs can force the multi-chunk path on small inputs.
 */
export const chunkBudget = { maxElements: 1 << 24 };

/**
 * `[b0, b1)` ranges covering `0..batch`, each with at most
 * `floor(maxElements / perImage)` images (and at least one).
 */
export function imageChunks(batch: number, perImage: number, maxElements = chunkBudget.maxElements): [number, number][] {
  const imagesPerChunk = Math.max(1, Math.floor(maxElements / Math.max(1, perImage)));
  const chunks: [number, number][] = [];
  for (let b0 = 0; b0 < batch; b0 += imagesPerChunk) chunks.push([b0, Math.min(batch, b0 + imagesPerChunk)]);
  return chunks;
}

/**
 * Images `[b0, b1)` of a channels-last tensor `[batch, h, w, c]` as a matrix
 * `[1, (b1 − b0)·h·w, c]`: a view of `info` when the range is the whole batch
 * (`owned: false`, do not release), otherwise a copy the caller releases.
 */
export function imageRows(backend: BackendWasm, info: TensorInfo, b0: number, b1: number): { rows: TensorInfo; owned: boolean } {
  const [batch, h, w, c] = info.shape;
  const shape = [1, (b1 - b0) * h * w, c];
  if (b0 === 0 && b1 === batch) return { rows: viewWithShape(info, shape), owned: false };
  const rows = backend.makeOutput(shape, 'float32');
  const perImage = h * w * c;
  heapFloat32(backend, rows).set(heapFloat32(backend, info).subarray(b0 * perImage, b1 * perImage));
  return { rows, owned: true };
}
