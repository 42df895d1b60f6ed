import { startS3rver } from '../src/testing';
import { LocalStore } from '../src/storage/local-store';
import { openStore } from '../src/storage/open-store';
import { execSync } from 'node:child_process';
const s3 = await startS3rver(['b']);
try {
  const client = s3.client();
  const src = new LocalStore('/tmp/exp/ds1');
  const dst = openStore('s3://b/ds1', { client });
  const data = await src.readAll('train-00000.arrow'); await dst.write('train-00000.arrow', [data]);
  for (let i = 0; i < 3; i++) { const t = performance.now(); for (let off = 0; off < data.length; off += 8 << 20) execSync(`curl -s -o /dev/null -r ${off}-${Math.min(data.length, off + (8 << 20)) - 1} ${s3.endpoint}/b/ds1/train-00000.arrow`); console.log('curl ranged', (data.length / ((performance.now() - t) / 1000) / 1e6).toFixed(0)); }
  for (let i = 0; i < 3; i++) console.log('curl whole', execSync(`curl -s -o /dev/null -w '%{speed_download}' ${s3.endpoint}/b/ds1/train-00000.arrow`).toString());
  for (let i = 0; i < 3; i++) {
    const t = performance.now(); let bytes = 0;
    for (let off = 0; off < data.length; off += 8 << 20) { const r = await dst.read('train-00000.arrow', off, Math.min(data.length, off + (8 << 20))); bytes += r.length; }
    console.log('sdk ranged sequential', (bytes / ((performance.now() - t) / 1000) / 1e6).toFixed(0), 'MB/s');
  }
} finally { await s3.stop(); }
