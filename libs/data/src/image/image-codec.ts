/**
 * PNG/JPEG decoding and encoding through sharp (libvips, shipped as npm
 * packages: no system library or download needed).
 */
import sharp from 'sharp';
import { DataError } from '@ddinit/core';

/** A decoded image: `data` holds H·W·C bytes in HWC order. */
export interface RawImage {
  data: Uint8Array;
  height: number;
  width: number;
  channels: number;
}

export interface DecodeOptions {
  /** Channels wanted: 1 (grey), 3 (RGB) or 4 (RGBA). Default: 3. */
  channels?: 1 | 3 | 4;
  /** Resize to exactly this size (aspect ratio not kept). */
  resize?: { height: number; width: number };
  /** Resampling for `resize`: `bilinear` for images, `nearest` for label masks. Default `bilinear`. */
  kernel?: 'bilinear' | 'nearest';
  /** For messages: which file or example this is. */
  where?: string;
}

/**
 * Decodes a PNG or JPEG (EXIF orientation applied; alpha dropped unless 4
 * channels are asked for).
 * @throws DataError naming `where` when the bytes are not a decodable image.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeOptions = {}): Promise<RawImage> {
  const channels = options.channels ?? 3;
  try {
    let pipeline = sharp(bytes, { failOn: 'error' }).rotate();
    if (channels === 1) pipeline = pipeline.toColourspace('b-w');
    else if (channels === 3) pipeline = pipeline.removeAlpha().toColourspace('srgb');
    else pipeline = pipeline.ensureAlpha().toColourspace('srgb');
    if (options.resize) {
      pipeline = pipeline.resize(options.resize.width, options.resize.height, {
        fit: 'fill',
        kernel: options.kernel === 'nearest' ? 'nearest' : 'linear',
      });
    }
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new DataError('decoded image has an unexpected channel count', { where: options.where, expected: channels, actual: info.channels });
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), height: info.height, width: info.width, channels };
  } catch (cause) {
    if (cause instanceof DataError) throw cause;
    throw new DataError('not a decodable PNG or JPEG image', {
      where: options.where,
      actual: cause instanceof Error ? cause.message : String(cause),
      cause,
    });
  }
}

/** Encodes raw HWC bytes as PNG (lossless; 1, 3 or 4 channels). */
export async function encodePng(image: RawImage): Promise<Uint8Array> {
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 } })
    .png()
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Encodes raw HWC bytes as JPEG (quality 0–100, default 90). */
export async function encodeJpeg(image: RawImage, quality = 90): Promise<Uint8Array> {
  const buffer = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 } })
    .jpeg({ quality })
    .toBuffer();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Width, height and channel count from the file header, without decoding pixels. */
export async function probeImage(bytes: Uint8Array, where?: string): Promise<{ height: number; width: number; channels: number; format: string }> {
  try {
    const meta = await sharp(bytes).metadata();
    if (meta.width === undefined || meta.height === undefined || meta.format === undefined) throw new Error('no size in header');
    return { height: meta.height, width: meta.width, channels: meta.channels ?? 3, format: meta.format };
  } catch (cause) {
    throw new DataError('not a readable PNG or JPEG image', { where, actual: cause instanceof Error ? cause.message : String(cause), cause });
  }
}
