/**
 * Typed-array views of a record batch's columns (no copies), and the rows of
 * a whole shard addressed by row number.
 */
import type { Data, RecordBatch } from 'apache-arrow';
import { DataError } from '@ddinit/core';
import { checkBoxes } from '../format/boxes';
import type { Box, Example } from '../format/example';
import { BOX_FIELDS } from '../format/arrow-schema';
import type { DatasetFeatures } from '../format/features';

const decoder = new TextDecoder();

/** Fixed-size bytes per row (`FixedSizeList<Uint8>`) or variable bytes (`Binary`). */
export type BytesColumn =
  { kind: 'fixed'; values: Uint8Array; stride: number; offset: number } | { kind: 'variable'; values: Uint8Array; offsets: Int32Array; offset: number };

export interface BatchColumns {
  rows: number;
  image: BytesColumn;
  label?: { values: Int32Array; offset: number };
  multiLabel?: { offsets: Int32Array; values: Int32Array; offset: number; valuesOffset: number };
  mask?: BytesColumn;
  boxes?: BoxesColumn;
  id: { values: Uint8Array; offsets: Int32Array; offset: number };
}

/** Views of a `boxes` column: list offsets, then one array per struct field (`BOX_FIELDS` order) with its offset. */
export interface BoxesColumn {
  offsets: Int32Array;
  offset: number;
  fields: { values: Int32Array | Float32Array | Uint8Array; offset: number }[];
  /** The features the boxes are checked against when read. */
  features: DatasetFeatures;
  where: string;
}

function boxesColumn(data: Data, features: DatasetFeatures, where: string): BoxesColumn {
  const struct = data.children[0];
  if (struct === undefined || struct.children.length !== BOX_FIELDS.length) {
    throw new DataError('boxes column is not a list of box structs', { where, expected: `List<Struct<${BOX_FIELDS.join(', ')}>>`, actual: String(data.type) });
  }
  const fields = struct.children.map((child) => ({ values: child.values as Int32Array | Float32Array | Uint8Array, offset: struct.offset + child.offset }));
  return { offsets: data.valueOffsets as Int32Array, offset: data.offset, fields, features, where };
}

function bytesColumn(data: Data, where: string): BytesColumn {
  const type = String(data.type);
  if (type.startsWith('FixedSizeList')) {
    const child = data.children[0];
    const stride = (data.type as unknown as { listSize: number }).listSize;
    return { kind: 'fixed', values: child.values as Uint8Array, stride, offset: data.offset * stride + child.offset };
  }
  if (type === 'Binary') {
    return { kind: 'variable', values: data.values as Uint8Array, offsets: data.valueOffsets as Int32Array, offset: data.offset };
  }
  throw new DataError('unexpected column type', { where, expected: 'FixedSizeList<Uint8> or Binary', actual: type });
}

/**
 * A column the dataset's features promise (`label`, `mask`): `batchColumns`
 * adds it whenever the features name it, so a missing one is a shard that does
 * not match its manifest.
 */
export function requiredColumn<T>(column: T | undefined, name: string, where: string): T {
  if (column === undefined)
    throw new DataError('the shard lacks a column its dataset features promise', { where, expected: `a '${name}' column`, actual: 'none' });
  return column;
}

/** Views of the columns of `batch` (whose schema has been checked against `features`). */
export function batchColumns(batch: RecordBatch, features: DatasetFeatures, where: string): BatchColumns {
  const column = (name: string): Data => {
    const index = batch.schema.fields.findIndex((f) => f.name === name);
    if (index < 0) throw new DataError(`column '${name}' is missing`, { where });
    return batch.data.children[index];
  };
  if (batch.data.children.some((child) => child.nullCount > 0)) {
    throw new DataError('shard has null values; the format has none', { where });
  }
  const columns: BatchColumns = { rows: batch.numRows, image: bytesColumn(column('image'), where), id: idColumn(column('id')) };
  if (features.label === 'class') {
    const data = column('label');
    columns.label = { values: data.values as Int32Array, offset: data.offset };
  } else if (features.label === 'multi') {
    const data = column('label');
    const child = data.children[0];
    columns.multiLabel = {
      offsets: data.valueOffsets as Int32Array,
      values: child.values as Int32Array,
      offset: data.offset,
      valuesOffset: child.offset,
    };
  }
  if (features.mask !== 'none') columns.mask = bytesColumn(column('mask'), where);
  if (features.boxes !== 'none') columns.boxes = boxesColumn(column('boxes'), features, where);
  return columns;
}

function idColumn(data: Data): BatchColumns['id'] {
  return { values: data.values as Uint8Array, offsets: data.valueOffsets as Int32Array, offset: data.offset };
}

/** The bytes of row `row` of a bytes column (a view). */
export function rowBytes(column: BytesColumn, row: number): Uint8Array {
  if (column.kind === 'fixed') {
    const start = column.offset + row * column.stride;
    return column.values.subarray(start, start + column.stride);
  }
  const i = column.offset + row;
  return column.values.subarray(column.offsets[i], column.offsets[i + 1]);
}

export function rowId(columns: BatchColumns, row: number): string {
  const { values, offsets, offset } = columns.id;
  return decoder.decode(values.subarray(offsets[offset + row], offsets[offset + row + 1]));
}

export function rowMultiLabel(columns: BatchColumns, row: number, where = 'shard'): number[] {
  const m = requiredColumn(columns.multiLabel, 'label', where);
  const i = m.offset + row;
  return Array.from(m.values.subarray(m.valuesOffset + m.offsets[i], m.valuesOffset + m.offsets[i + 1]));
}

/**
 * The boxes of row `row`, checked (a shard written by another tool may hold
 * anything): DataError naming the shard, the example id and the box field.
 */
export function rowBoxes(columns: BatchColumns, row: number, where = 'shard'): Box[] {
  const b = requiredColumn(columns.boxes, 'boxes', where);
  const i = b.offset + row;
  const [cls, x0, y0, x1, y1, difficult] = b.fields;
  const boxes: Box[] = [];
  for (let j = b.offsets[i]; j < b.offsets[i + 1]; j++) {
    const at = (field: (typeof b.fields)[number]) => field.values[field.offset + j];
    const box: Box = { class: at(cls), x0: at(x0), y0: at(y0), x1: at(x1), y1: at(y1) };
    if (at(difficult) !== 0) box.difficult = true;
    boxes.push(box);
  }
  checkBoxes(boxes, b.features, `${b.where} example '${rowId(columns, row)}'`);
  return boxes;
}

/** Row `row` as an {@link Example} with copied bytes (safe to keep). */
export function rowExample(columns: BatchColumns, row: number): Example {
  const example: Example = { id: rowId(columns, row), image: rowBytes(columns.image, row).slice() };
  if (columns.label) example.label = columns.label.values[columns.label.offset + row];
  if (columns.multiLabel) example.label = rowMultiLabel(columns, row);
  if (columns.mask) example.mask = rowBytes(columns.mask, row).slice();
  if (columns.boxes) example.boxes = rowBoxes(columns, row);
  return example;
}

/** All rows of one shard, addressed by shard row number. */
export class ShardRows {
  readonly batches: BatchColumns[];
  private readonly batchOf: Int32Array;
  private readonly rowIn: Int32Array;

  constructor(batches: BatchColumns[]) {
    this.batches = batches;
    const total = batches.reduce((t, b) => t + b.rows, 0);
    this.batchOf = new Int32Array(total);
    this.rowIn = new Int32Array(total);
    let row = 0;
    batches.forEach((batch, b) => {
      for (let r = 0; r < batch.rows; r++, row++) {
        this.batchOf[row] = b;
        this.rowIn[row] = r;
      }
    });
  }

  get rows(): number {
    return this.batchOf.length;
  }

  locate(row: number): [BatchColumns, number] {
    return [this.batches[this.batchOf[row]], this.rowIn[row]];
  }
}
