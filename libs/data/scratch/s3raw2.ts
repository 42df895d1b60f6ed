import { startS3rver } from '../src/testing';
import { LocalStore } from '../src/storage/local-store';
import { openStore } from '../src/storage/open-store';
import { get, Agent } from 'node:http';
const s3 = await startS3rver(['b']);
try {
  const client = s3.client();
  const src = new LocalStore('/tmp/exp/ds1');
  const dst = openStore('s3://b/ds1', { client });
  const data = await src.readAll('train-00000.arrow'); await dst.write('train-00000.arrow', [data]);
  const agent = new Agent({ keepAlive: true });
  const fetchRange = (a: number, b: number) => new Promise<number>((resolve, reject) => get(`${s3.endpoint}/b/ds1/train-00000.arrow`, { agent, headers: { range: `bytes=${a}-${b - 1}` } }, (res) => { let n = 0; res.on('data', (c: Buffer) => (n += c.length)); res.on('end', () => resolve(n)); res.on('error', reject); }).on('error', reject));
  for (const CH of [1 << 20, 8 << 20, 32 << 20]) for (let i = 0; i < 2; i++) {
    const t = performance.now(); let bytes = 0;
    for (let off = 0; off < data.length; off += CH) bytes += await fetchRange(off, Math.min(data.length, off + CH));
    console.log('raw http ranged', CH >> 20, 'MiB', (bytes / ((performance.now() - t) / 1000) / 1e6).toFixed(0), 'MB/s');
  }
  for (let i = 0; i < 2; i++) {
    const t = performance.now(); let bytes = 0;
    for (let off = 0; off < data.length; off += 8 << 20) { const r = await dst.read('train-00000.arrow', off, Math.min(data.length, off + (8 << 20))); bytes += r.length; }
    console.log('sdk ranged sequential', (bytes / ((performance.now() - t) / 1000) / 1e6).toFixed(0), 'MB/s');
  }
} finally { await s3.stop(); }
