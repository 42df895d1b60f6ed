/**
 * One example as writers take it and readers hand it out.
 */
export interface Example {
  /** Stable identifier (source file name, `train-000123`, …). */
  id: string;
  /**
   * Raw images: H·W·C bytes in HWC order (row-major, channels last).
   * Encoded images: the bytes of one PNG or JPEG file.
   */
  image: Uint8Array;
  /** A class index (label kind `class`), class indices (kind `multi`), absent for kind `none`. */
  label?: number | readonly number[];
  /** Raw masks: H·W class indices; encoded masks: a single-channel PNG of class indices. */
  mask?: Uint8Array;
}
