import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RecordBatchReader, tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { defaultDatasetPath } from '../embedded/default-dataset';
import { schemaToFeatures } from './arrow-schema';

describe('shards are plain Arrow IPC files', () => {
  it('read with apache-arrow alone, as a file (footer) and as a stream (after the magic)', async () => {
    const bytes = await readFile(join(defaultDatasetPath(), 'test-00000.arrow'));
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(1000);
    expect(table.schema.fields.map((f) => `${f.name}: ${String(f.type)}`)).toEqual(['image: FixedSizeList[784]<Uint8>', 'label: Int32', 'id: Utf8']);
    expect(table.schema.metadata.get('height')).toBe('28');
    expect(JSON.parse(table.schema.metadata.get('class_names') ?? '[]')[9]).toBe('Ankle boot');
    expect(schemaToFeatures(table.schema, 'test').image).toEqual({ encoding: 'raw', height: 28, width: 28, channels: 1, layout: 'HWC' });
    expect(table.getChild('image')?.get(0)?.length).toBe(784);

    // The bytes between the leading magic and the footer are an Arrow stream on their own.
    const stream = RecordBatchReader.from(bytes.subarray(8)).open();
    expect(stream.schema.metadata.get('label_kind')).toBe('class');
    let rows = 0;
    for (const batch of stream) rows += batch.numRows;
    expect(rows).toBe(1000);
  });
});
