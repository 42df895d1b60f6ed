import { LocalStore } from '../src/storage/local-store';
import { PrefetchingReader } from '../src/read/prefetching-reader';
const store = new LocalStore('/tmp/exp/ds1');
const keys = (await store.list()).filter(k => k.endsWith('.arrow'));
for (let rep = 0; rep < 3; rep++) {
  const t = performance.now(); let bytes = 0;
  for (const k of keys) { const size = await store.size(k); for await (const c of new PrefetchingReader((a, b) => store.read(k, a, b), 0, size, { chunkBytes: 8 << 20 })) bytes += c.byteLength; }
  console.log('raw', (bytes / ((performance.now() - t) / 1000) / 1e6).toFixed(0), 'MB/s');
}
