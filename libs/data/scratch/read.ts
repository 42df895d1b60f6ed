import { LocalStore } from '../src/storage/local-store';
import { readShard } from '../src/read/shard-reader';
import { parseManifest } from '../src/format/manifest';
import { BufferPool } from '../src/read/buffer-pool';
const pool = process.argv[4] === 'pool' ? new BufferPool() : undefined;
const dir = '/tmp/exp/ds1';
const store = new LocalStore(dir);
const man = parseManifest(new TextDecoder().decode(await store.readAll('manifest.json')), 'm');
const verify = process.argv[2] === '1';
const chunk = Number(process.argv[3] ?? 8) << 20;
for (let rep = 0; rep < 4; rep++) {
const t = performance.now(); const c0 = process.cpuUsage();
let bytes = 0, rows = 0;
for (const s of man.splits.train.shards) {
  for await (const b of readShard(store, s, { features: man.features, verify, chunkBytes: chunk, pool })) { rows += b.numRows; const d = b.getChild('image')!.data[0]; bytes += d.children[0].values.byteLength; }
}
const dt = (performance.now() - t) / 1000; const cpu = process.cpuUsage(c0);
console.log('read', rows, 'rows', (bytes / dt / 1e6).toFixed(0), 'MB/s wall;', (bytes / ((cpu.user + cpu.system) / 1e6) / 1e6).toFixed(0), 'MB per CPU-s (user', (cpu.user/1e3).toFixed(0), 'ms sys', (cpu.system/1e3).toFixed(0),'ms)');
}
