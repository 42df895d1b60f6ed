/**
 * A photo folder for CaffeNet's init benchmark (issue 16):
 * `npx tsx src/caffenet-photos.ts <dir> [count=160] [seed=1]` writes `count` PNGs of
 * 227×227 px to `<dir>/photo/`, ready for
 * `ddinit data convert image-folder --split train=<dir> --size 227x227 --out <dataset>`.
 *
 * @ddinit/data embeds only five photos, so the images are drawn from them: image k is
 * cut from photo k mod 5 (each photo 32 times for 160) as a square of side
 * s = (0.4 + 0.6·u)·min(height, width) at a uniformly random position (u and the position
 * from the seeded Rng), mirrored left–right when a seeded coin says so, and box-averaged
 * down to 227×227. Same seed, same files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '@ddinit/core';
import { encodePng, loadNaturalPhotos } from '@ddinit/data';

const SIZE = 227;

type Photo = { data: Uint8Array; height: number; width: number; channels: number };

/** The side×side square at (top, left) of `photo`, box-averaged to SIZE×SIZE RGB, mirrored if asked. */
function crop(photo: Photo, top: number, left: number, side: number, mirror: boolean): Uint8Array {
  const out = new Uint8Array(SIZE * SIZE * 3);
  const edge = (i: number) => Math.floor((i * side) / SIZE);
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      const sum = [0, 0, 0];
      let n = 0;
      for (let sy = top + edge(y); sy < top + Math.max(edge(y + 1), edge(y) + 1); sy++)
        for (let sx = left + edge(x); sx < left + Math.max(edge(x + 1), edge(x) + 1); sx++, n++)
          for (let c = 0; c < 3; c++) sum[c] += photo.data[(sy * photo.width + sx) * photo.channels + c];
      const ox = mirror ? SIZE - 1 - x : x;
      for (let c = 0; c < 3; c++) out[(y * SIZE + ox) * 3 + c] = Math.round(sum[c] / n);
    }
  return out;
}

async function main(): Promise<void> {
  const [dir, countArg = '160', seedArg = '1'] = process.argv.slice(2);
  if (dir === undefined) throw new Error('usage: tsx src/caffenet-photos.ts <dir> [count=160] [seed=1]');
  const count = Number(countArg);
  const rng = Rng.fromSeed(Number(seedArg)).derive('caffenet-photos');
  const photos = await loadNaturalPhotos({ channels: 3 });
  mkdirSync(join(dir, 'photo'), { recursive: true });
  for (let k = 0; k < count; k++) {
    const photo = photos[k % photos.length];
    const side = Math.max(SIZE, Math.round((0.4 + 0.6 * rng.uniform()) * Math.min(photo.height, photo.width)));
    const top = rng.int(photo.height - side + 1);
    const left = rng.int(photo.width - side + 1);
    const mirror = rng.uniform() < 0.5;
    const data = crop(photo, top, left, side, mirror);
    writeFileSync(join(dir, 'photo', `${String(k).padStart(4, '0')}.png`), await encodePng({ data, height: SIZE, width: SIZE, channels: 3 }));
  }
  console.log(
    `${count} crops of ${SIZE}×${SIZE} from ${photos.length} photos (${photos.map((p) => `${p.id} ${p.width}×${p.height}`).join(', ')}) in ${join(dir, 'photo')}`,
  );
}

await main();
