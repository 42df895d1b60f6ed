import { createDatasetWriter } from '../src/write/dataset-writer';
import { LocalStore } from '../src/storage/local-store';
import { readShard } from '../src/read/shard-reader';
import { parseManifest } from '../src/format/manifest';
import { rmSync } from 'node:fs';

const dir = process.argv[3] ?? '/tmp/exp/ds1';
rmSync(dir, { recursive: true, force: true });
const H = 64, W = 64, C = 3;
const n = Number(process.argv[2] ?? 20000);
const w = await createDatasetWriter(dir, { name: 'bench', features: { image: { encoding: 'raw', height: H, width: W, channels: C }, label: 'class', classNames: ['a','b','c'] }, maxShardBytes: 64 << 20 });
let t = performance.now();
const img = new Uint8Array(H * W * C);
for (let i = 0; i < n; i++) { img.fill(i & 255); await w.write('train', { id: `ex-${i}`, image: img.slice(), label: i % 3 }); }
const m = await w.close();
console.log('write', ((performance.now() - t) / 1000).toFixed(2), 's', m.splits.train.shards.length, 'shards', m.splits.train.shards[0]);
const store = new LocalStore(dir);
const man = parseManifest(new TextDecoder().decode(await store.readAll('manifest.json')), 'm');
for (let rep = 0; rep < 0; rep++) {
t = performance.now();
let bytes = 0, rows = 0;
for (const s of man.splits.train.shards) {
  for await (const b of readShard(store, s, { features: man.features })) { rows += b.numRows; const d = b.getChild('image')!.data[0]; bytes += d.children[0].values.byteLength; }
}
const dt = (performance.now() - t) / 1000;
console.log('read', rows, 'rows', (bytes / dt / 1e6).toFixed(0), 'MB/s');
}
