import { openDataset } from '../src/read/dataset';
const ds = await openDataset(process.argv[2]);
const verify = process.argv[3] === '1';
const t = performance.now(); const c0 = process.cpuUsage(); let bytes = 0;
for await (const b of ds.batches('train', { batchSize: 256, verify, reuseBuffers: true, ids: false })) bytes += b.images.byteLength;
const dt = (performance.now() - t) / 1000; const cpu = process.cpuUsage(c0);
console.log((bytes / dt / 1e6).toFixed(0), 'MB/s wall', dt.toFixed(2), 's; cpu user', (cpu.user / 1e6).toFixed(2), 'sys', (cpu.system / 1e6).toFixed(2), 'rss', (process.resourceUsage().maxRSS / 1024).toFixed(0));
