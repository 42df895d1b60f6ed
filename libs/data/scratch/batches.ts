import { openDataset } from '../src/read/dataset';
const ds = await openDataset('/tmp/exp/ds1');
const verify = process.argv[2] === '1'; const shuffle = process.argv[3] === '1'; const reuse = process.argv[4] === '1';
for (let rep = 0; rep < 5; rep++) {
  const t = performance.now(); const c0 = process.cpuUsage();
  let bytes = 0, n = 0; const seen = new Set<number>();
  for await (const b of ds.batches('train', { batchSize: 256, verify, shuffle, reuseBuffers: reuse, epoch: rep })) { bytes += b.images.byteLength; n += b.size; if (rep === 0) for (let i = 0; i < b.size; i++) seen.add(b.images[i * 12288]); }
  const dt = (performance.now() - t) / 1000; const cpu = process.cpuUsage(c0);
  console.log(n, (bytes / dt / 1e6).toFixed(0), 'MB/s wall', (bytes / ((cpu.user + cpu.system) / 1e6) / 1e6).toFixed(0), 'MB/cpu-s', 'user', (cpu.user/1e3).toFixed(0), 'sys', (cpu.system/1e3).toFixed(0), 'rss', (process.memoryUsage().rss / 1e6).toFixed(0), rep === 0 ? seen.size : '');
}
