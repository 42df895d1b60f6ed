/**
 * A checkpoint as bytes: what the trainer needs to continue exactly where it
 * stopped — the step, every model weight, every optimizer slot and iteration
 * count, and the caller's data cursor. Layout:
 *
 *   "DDTS" (4 bytes) · header length L (uint32 LE) · header (L bytes of JSON) · tensor data
 *
 * The header lists each tensor's key, dtype, shape and byte offset into the data
 * (4-byte aligned); float32 and int32 only. Storage and atomicity are the
 * caller's (the app publishes checkpoints through its artifact store).
 */
import { DataError } from '@ddinit/core';

export interface StateTensor {
  /** `weight:<name>` or `optimizer:<group>:<slot name>`. */
  key: string;
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export interface TrainingState {
  format: 'ddinit-training-state';
  version: 1;
  /** Steps completed. */
  step: number;
  /** The caller's data position (JSON), e.g. epoch and offset. */
  cursor: unknown;
  tensors: StateTensor[];
}

const MAGIC = 'DDTS';

export function encodeTrainingState(state: TrainingState): Uint8Array {
  let offset = 0;
  const entries = state.tensors.map((t) => {
    const entry = { key: t.key, dtype: t.dtype, shape: t.shape, offset, length: t.data.length };
    offset += t.data.length * 4;
    return entry;
  });
  const header = new TextEncoder().encode(
    JSON.stringify({ format: state.format, version: state.version, step: state.step, cursor: state.cursor, tensors: entries }),
  );
  const padded = Math.ceil(header.length / 4) * 4;
  const out = new Uint8Array(8 + padded + offset);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(4, padded, true);
  out.set(header, 8);
  out.fill(0x20, 8 + header.length, 8 + padded); // spaces: the header stays valid JSON
  state.tensors.forEach((t, i) => out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), 8 + padded + entries[i].offset));
  return out;
}

/** @throws DataError naming `where` when the bytes are not a complete training state. */
export function decodeTrainingState(bytes: Uint8Array, where: string): TrainingState {
  const fail = (what: string, actual?: unknown): never => {
    throw new DataError(`not a complete training checkpoint: ${what}`, { where, ...(actual === undefined ? {} : { actual }) });
  };
  if (bytes.length < 8 || new TextDecoder().decode(bytes.subarray(0, 4)) !== MAGIC) fail('no DDTS signature');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(4, true);
  if (8 + length > bytes.length) fail('header longer than the file', `${bytes.length} bytes`);
  let header: {
    format?: string;
    version?: number;
    step?: number;
    cursor?: unknown;
    tensors?: { key: string; dtype: string; shape: number[]; offset: number; length: number }[];
  };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  } catch {
    return fail('the header is not JSON');
  }
  const { step, tensors: entries } = header;
  if (header.format !== 'ddinit-training-state' || header.version !== 1 || step === undefined || !Number.isInteger(step) || !Array.isArray(entries)) {
    return fail('unknown header', `format ${header.format}, version ${header.version}`);
  }
  const base = 8 + length;
  const tensors = entries.map((e): StateTensor => {
    const end = base + e.offset + e.length * 4;
    if (end > bytes.length || (e.dtype !== 'float32' && e.dtype !== 'int32')) fail(`tensor ${e.key} is cut off or of an unknown type`, `${bytes.length} bytes`);
    const copy = bytes.slice(base + e.offset, end).buffer;
    return { key: e.key, dtype: e.dtype as StateTensor['dtype'], shape: e.shape, data: e.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy) };
  });
  const last = entries.reduce((m, e) => Math.max(m, e.offset + e.length * 4), 0);
  if (base + last !== bytes.length) fail('trailing or missing bytes', `${bytes.length} bytes, expected ${base + last}`);
  return { format: 'ddinit-training-state', version: 1, step, cursor: header.cursor ?? null, tensors };
}
