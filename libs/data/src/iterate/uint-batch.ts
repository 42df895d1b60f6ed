/**
 * A batch of examples as bytes: the step between shards and float tensors.
 */
import { DataError } from '@ddinit/core';
import type { Box } from '../format/example';
import { decodeImage, probeImage } from '../image/image-codec';
import type { BatchColumns } from '../read/record-columns';
import { requiredColumn, rowBoxes, rowBytes, rowId } from '../read/record-columns';

/**
 * `images` is NHWC uint8 (`size·height·width·channels` bytes); `labels` one
 * class index per example (label kind `class`); `multiHot` `size·classes`
 * 0/1 bytes (kind `multi`); `masks` `size·height·width` class indices;
 * `boxes` one list of boxes per example, in the batch's pixel coordinates.
 */
export interface UintBatch {
  size: number;
  height: number;
  width: number;
  channels: number;
  images: Uint8Array;
  labels?: Int32Array;
  multiHot?: Uint8Array;
  classes: number;
  masks?: Uint8Array;
  boxes?: Box[][];
  ids: string[];
}

export interface AssemblerShape {
  height: number;
  width: number;
  channels: number;
  /** Number of classes (multi-hot width). */
  classes: number;
  label: 'class' | 'multi' | 'none';
  mask: boolean;
  boxes: boolean;
  /** Decode encoded images/masks to this size (needed for `encoded` datasets). */
  decode?: { height: number; width: number };
}

/** Fills batches row by row; hands out a batch each time `batchSize` rows are in. */
export class BatchAssembler {
  private batch: UintBatch;
  private filled = 0;
  private readonly imageBytes: number;
  private readonly maskBytes: number;

  constructor(
    private readonly shape: AssemblerShape,
    private readonly batchSize: number,
    /** Reuse the same arrays for every batch (valid until the next is requested). */
    private readonly reuse: boolean,
    private readonly withIds: boolean,
  ) {
    this.imageBytes = shape.height * shape.width * shape.channels;
    this.maskBytes = shape.height * shape.width;
    this.batch = this.allocate();
  }

  private allocate(): UintBatch {
    const { shape, batchSize } = this;
    return {
      size: 0,
      height: shape.height,
      width: shape.width,
      channels: shape.channels,
      images: new Uint8Array(batchSize * this.imageBytes),
      ...(shape.label === 'class' ? { labels: new Int32Array(batchSize) } : {}),
      ...(shape.label === 'multi' ? { multiHot: new Uint8Array(batchSize * shape.classes) } : {}),
      classes: shape.classes,
      ...(shape.mask ? { masks: new Uint8Array(batchSize * this.maskBytes) } : {}),
      ...(shape.boxes ? { boxes: [] } : {}),
      ids: [],
    };
  }

  get full(): boolean {
    return this.filled === this.batchSize;
  }

  get pending(): number {
    return this.filled;
  }

  /** Copies row `row` of `columns` (raw images and masks) into the batch. */
  add(columns: BatchColumns, row: number, where: string): void {
    if (columns.image.kind !== 'fixed' || (columns.mask !== undefined && columns.mask.kind !== 'fixed')) {
      throw new DataError('encoded images or masks need addDecoded', { where });
    }
    const i = this.filled;
    this.batch.images.set(rowBytes(columns.image, row), i * this.imageBytes);
    if (this.batch.masks) this.batch.masks.set(rowBytes(requiredColumn(columns.mask, 'mask', where), row), i * this.maskBytes);
    this.batch.boxes?.push(rowBoxes(columns, row, where));
    this.addLabelsAndId(columns, row, where);
  }

  /** Like {@link add}, decoding encoded images and masks to the `decode` size first. */
  async addDecoded(columns: BatchColumns, row: number, where: string): Promise<void> {
    const b = this.batch;
    const i = this.filled;
    const decode = this.shape.decode;
    const image = rowBytes(columns.image, row);
    if (columns.image.kind === 'fixed') {
      b.images.set(image, i * this.imageBytes);
    } else {
      if (decode === undefined) {
        throw new DataError('encoded images need a decode size', { where, expected: 'options.decode = { height, width }' });
      }
      const raw = await decodeImage(image, { channels: this.shape.channels as 1 | 3 | 4, resize: decode, where: `${where} row ${row}` });
      b.images.set(raw.data, i * this.imageBytes);
      if (b.boxes) {
        // Boxes are in the stored image's pixels: scale them as the resize scaled the image.
        const original = await probeImage(image, `${where} row ${row}`);
        const sx = decode.width / original.width;
        const sy = decode.height / original.height;
        b.boxes.push(rowBoxes(columns, row, where).map((box) => ({ ...box, x0: box.x0 * sx, x1: box.x1 * sx, y0: box.y0 * sy, y1: box.y1 * sy })));
      }
    }
    if (b.boxes && b.boxes.length === i) b.boxes.push(rowBoxes(columns, row, where));
    if (b.masks) {
      const maskColumn = requiredColumn(columns.mask, 'mask', where);
      const mask = rowBytes(maskColumn, row);
      if (maskColumn.kind === 'fixed') b.masks.set(mask, i * this.maskBytes);
      else {
        const raw = await decodeImage(mask, { channels: 1, ...(decode ? { resize: decode } : {}), kernel: 'nearest', where: `${where} row ${row} mask` });
        b.masks.set(raw.data, i * this.maskBytes);
      }
    }
    this.addLabelsAndId(columns, row, where);
  }

  private addLabelsAndId(columns: BatchColumns, row: number, where: string): void {
    const b = this.batch;
    const i = this.filled;
    if (b.labels) {
      const label = requiredColumn(columns.label, 'label', where);
      b.labels[i] = label.values[label.offset + row];
    }
    if (b.multiHot) {
      const m = requiredColumn(columns.multiLabel, 'label', where);
      const k = m.offset + row;
      const base = i * this.shape.classes;
      b.multiHot.fill(0, base, base + this.shape.classes);
      for (let j = m.offsets[k]; j < m.offsets[k + 1]; j++) {
        const c = m.values[m.valuesOffset + j];
        if (c >= this.shape.classes) throw new DataError('label out of range of the class names', { where, expected: `< ${this.shape.classes}`, actual: c });
        b.multiHot[base + c] = 1;
      }
    }
    if (this.withIds) b.ids.push(rowId(columns, row));
    this.filled++;
  }

  /** The filled batch (trimmed when partial); the assembler starts a new one. */
  take(): UintBatch {
    const b = this.batch;
    const n = this.filled;
    const out: UintBatch =
      n === this.batchSize
        ? { ...b, size: n }
        : {
            ...b,
            size: n,
            images: b.images.subarray(0, n * this.imageBytes),
            ...(b.labels ? { labels: b.labels.subarray(0, n) } : {}),
            ...(b.multiHot ? { multiHot: b.multiHot.subarray(0, n * this.shape.classes) } : {}),
            ...(b.masks ? { masks: b.masks.subarray(0, n * this.maskBytes) } : {}),
          };
    this.filled = 0;
    if (this.reuse) this.batch = { ...b, ids: [], ...(b.boxes ? { boxes: [] } : {}) };
    else this.batch = this.allocate();
    return out;
  }
}
