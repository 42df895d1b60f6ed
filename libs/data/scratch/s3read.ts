import { openDataset } from '../src/read/dataset';
import { startS3rver } from '../src/testing';
import { LocalStore } from '../src/storage/local-store';
import { openStore } from '../src/storage/open-store';
const s3 = await startS3rver(['b']);
try {
  const client = s3.client({ maxSockets: Number(process.argv[3] ?? 16) });
  const src = new LocalStore('/tmp/exp/ds1');
  const dst = openStore('s3://b/ds1', { client });
  let t = performance.now();
  for (const key of await src.list()) { const data = await src.readAll(key); await dst.write(key, [data]); }
  console.log('upload', ((performance.now() - t) / 1000).toFixed(1), 's');
  const ds = await openDataset('s3://b/ds1', { store: { client } });
  for (let rep = 0; rep < 3; rep++) {
    t = performance.now(); const c0 = process.cpuUsage(); let bytes = 0;
    for await (const b of ds.batches('train', { batchSize: 256, verify: process.argv[2] === '1', reuseBuffers: true, ids: false, concurrency: Number(process.argv[4] ?? 4), chunkBytes: Number(process.argv[5] ?? 8) << 20 })) bytes += b.images.byteLength;
    const dt = (performance.now() - t) / 1000; const cpu = process.cpuUsage(c0);
    console.log((bytes / dt / 1e6).toFixed(0), 'MB/s', 'user', (cpu.user / 1e3).toFixed(0), 'sys', (cpu.system / 1e3).toFixed(0));
  }
} finally { await s3.stop(); }
