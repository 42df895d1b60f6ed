/**
 * The pixels of a composed scene: a seeded textured background, and item
 * resampling. Pure functions of their inputs and the random stream.
 */
import type { Rng } from '@ddinit/core';

/**
 * A textured grey background, `height·width` values (not yet rounded):
 *
 *   b(y, x) = level + Σ_{g=1,2} a_g · sin(2π f_g (x cos θ_g + y sin θ_g) + φ_g) + V(y, x) + ε(y, x)
 *
 * with level ~ U(60, 120), grating amplitudes a_g ~ U(6, 20), frequencies f_g ~ U(1/32, 1/6)
 * cycles per pixel, orientations θ_g and phases φ_g uniform; V a value noise (N(0, 12²) on a
 * grid of 8-pixel cells, bilinearly interpolated); ε pixel noise N(0, σ²), σ ~ U(4, 10).
 * Mid-grey on average, so bright Fashion-MNIST items stand out without the texture being flat.
 */
export function textureBackground(rng: Rng, height: number, width: number): Float64Array {
  const out = new Float64Array(height * width).fill(60 + 60 * rng.uniform());
  for (let g = 0; g < 2; g++) {
    const amplitude = 6 + 14 * rng.uniform();
    const frequency = 1 / 32 + (1 / 6 - 1 / 32) * rng.uniform();
    const angle = 2 * Math.PI * rng.uniform();
    const phase = 2 * Math.PI * rng.uniform();
    const fx = 2 * Math.PI * frequency * Math.cos(angle);
    const fy = 2 * Math.PI * frequency * Math.sin(angle);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) out[y * width + x] += amplitude * Math.sin(fx * x + fy * y + phase);
    }
  }
  addValueNoise(out, rng, height, width, 8, 12);
  const sigma = 4 + 6 * rng.uniform();
  for (let p = 0; p < out.length; p++) out[p] += sigma * rng.normal();
  return out;
}

/** Adds N(0, std²) values drawn on a grid of `cell`-pixel cells, bilinearly interpolated between grid points. */
function addValueNoise(out: Float64Array, rng: Rng, height: number, width: number, cell: number, std: number): void {
  const gh = Math.ceil(height / cell) + 1;
  const gw = Math.ceil(width / cell) + 1;
  const grid = new Float64Array(gh * gw);
  for (let k = 0; k < grid.length; k++) grid[k] = std * rng.normal();
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / cell);
    const ty = (y % cell) / cell;
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / cell);
      const tx = (x % cell) / cell;
      const top = grid[gy * gw + gx] * (1 - tx) + grid[gy * gw + gx + 1] * tx;
      const bottom = grid[(gy + 1) * gw + gx] * (1 - tx) + grid[(gy + 1) * gw + gx + 1] * tx;
      out[y * width + x] += top * (1 - ty) + bottom * ty;
    }
  }
}

/**
 * Bilinear resampling of a single-channel `h × w` image to `outH × outW`, with
 * half-pixel centres (output pixel centre (i + ½)·h/outH − ½ in source pixels,
 * edges clamped, as `tf.image.resizeBilinear(…, halfPixelCenters)`), rounded to bytes.
 */
export function resizeBilinear(src: Uint8Array, h: number, w: number, outH: number, outW: number): Uint8Array {
  const out = new Uint8Array(outH * outW);
  for (let i = 0; i < outH; i++) {
    const sy = Math.min(Math.max(((i + 0.5) * h) / outH - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const ty = sy - y0;
    for (let j = 0; j < outW; j++) {
      const sx = Math.min(Math.max(((j + 0.5) * w) / outW - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const tx = sx - x0;
      const top = src[y0 * w + x0] * (1 - tx) + src[y0 * w + x1] * tx;
      const bottom = src[y1 * w + x0] * (1 - tx) + src[y1 * w + x1] * tx;
      out[i * outW + j] = Math.round(top * (1 - ty) + bottom * ty);
    }
  }
  return out;
}
