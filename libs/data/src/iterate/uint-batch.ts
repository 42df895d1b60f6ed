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

/** A row's image (and mask) bytes at the batch's size, decoded when they were encoded. */
export interface DecodedRow {
  image: Uint8Array;
  mask?: Uint8Array;
  /** The resize's scale per axis, when an encoded image was decoded to another size (boxes scale with it). */
  scale?: { x: number; y: number };
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

  /** Rows the current batch still has room for. */
  get room(): number {
    return this.batchSize - this.filled;
  }

  /**
   * Decodes row `row`'s encoded image and mask to the `decode` size (fixed-size ones are
   * left as they are). Needs no batch slot, so the decodes of many rows can run at once.
   */
  async decodeRow(columns: BatchColumns, row: number, where: string): Promise<DecodedRow> {
    const decode = this.shape.decode;
    const image = rowBytes(columns.image, row);
    if (columns.image.kind !== 'fixed' && decode === undefined) {
      throw new DataError('encoded images need a decode size', { where, expected: 'options.decode = { height, width }' });
    }
    const maskColumn = this.batch.masks ? requiredColumn(columns.mask, 'mask', where) : undefined;
    const mask = maskColumn === undefined ? undefined : rowBytes(maskColumn, row);
    const [imageBytes, maskBytes] = await Promise.all([
      columns.image.kind === 'fixed'
        ? image
        : decodeImage(image, { channels: this.shape.channels as 1 | 3 | 4, resize: decode, where: `${where} row ${row}` }).then((raw) => raw.data),
      mask === undefined || maskColumn?.kind === 'fixed'
        ? mask
        : decodeImage(mask, { channels: 1, ...(decode ? { resize: decode } : {}), kernel: 'nearest', where: `${where} row ${row} mask` }).then(
            (raw) => raw.data,
          ),
    ]);
    // Boxes are in the stored image's pixels: they scale as the resize scaled the image.
    const scale = this.batch.boxes && columns.image.kind !== 'fixed' && decode ? await resizeScale(image, decode, `${where} row ${row}`) : undefined;
    return { image: imageBytes, ...(maskBytes === undefined ? {} : { mask: maskBytes }), ...(scale ? { scale } : {}) };
  }

  /** Like {@link add}, with the row's image and mask from {@link decodeRow}. */
  addDecoded(columns: BatchColumns, row: number, decoded: DecodedRow, where: string): void {
    const i = this.filled;
    this.batch.images.set(decoded.image, i * this.imageBytes);
    if (this.batch.masks) {
      if (decoded.mask === undefined) throw new DataError('a decoded row has no mask', { where: `${where} row ${row}`, expected: 'a mask' });
      this.batch.masks.set(decoded.mask, i * this.maskBytes);
    }
    if (this.batch.boxes) {
      const { x, y } = decoded.scale ?? { x: 1, y: 1 };
      this.batch.boxes.push(rowBoxes(columns, row, where).map((box) => ({ ...box, x0: box.x0 * x, x1: box.x1 * x, y0: box.y0 * y, y1: box.y1 * y })));
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

/** How a resize to `size` scales the stored image's pixel coordinates, per axis. */
async function resizeScale(image: Uint8Array, size: { height: number; width: number }, where: string): Promise<{ x: number; y: number }> {
  const original = await probeImage(image, where);
  return { x: size.width / original.width, y: size.height / original.height };
}
