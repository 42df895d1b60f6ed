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
  /** The objects of the image (datasets with boxes `xyxy`), possibly none. */
  boxes?: readonly Box[];
}

/**
 * One object's bounding box in pixel coordinates of the stored image: it covers
 * the pixels x0 ≤ x < x1, y0 ≤ y < y1 (the top-left pixel's corner is (0, 0);
 * PASCAL VOC's 1-based inclusive xmin…xmax becomes x0 = xmin − 1, x1 = xmax).
 */
export interface Box {
  /** Class index into the dataset's class names. */
  class: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Marked hard to recognise (PASCAL VOC's `difficult`); evaluation may ignore it. Default false. */
  difficult?: boolean;
}
