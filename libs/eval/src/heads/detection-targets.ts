/**
 * The detection head's grid and its targets (YOLO-v1-like): the image is cut
 * into `rows × cols` cells of s_x = W / cols by s_y = H / rows pixels (the last
 * feature map's grid; the stride need not be an integer), and a box belongs to
 * the cell holding its centre c = ((x0 + x1) / 2, (y0 + y1) / 2), half-open
 * pixels. That cell learns:
 *
 *   objectness 1,  the box's class,
 *   t_x = c_x / s_x − j,  t_y = c_y / s_y − i   (the centre's offset in the cell, in [0, 1)),
 *   t_w = ln((x1 − x0) / s_x),  t_h = ln((y1 − y0) / s_y)   (log size in cells),
 *
 * every other cell objectness 0. Two boxes whose centres share a cell collide:
 * a box that is not difficult wins over a difficult one, then the smaller box
 * (by area) wins, as FCOS resolves ambiguous locations, then the one listed
 * first; the others go unassigned (they can only be missed at evaluation, and
 * are counted). A cell won by a difficult box is ignored: neither objectness 1
 * nor 0, no class or box loss (VOC's rule for difficult objects).
 */
import { DataError } from '@ddinit/core';
import type { LabelledBox, PixelBox } from '../metrics/box-average-precision';

/** The grid of the head's feature map over an image. */
export interface DetectionGrid {
  rows: number;
  cols: number;
  /** The image's size in pixels (the boxes' coordinates). */
  height: number;
  width: number;
}

/** Objectness target of a cell a difficult box wins: left out of the objectness loss. */
export const IGNORED_CELL = -1;

export interface DetectionTargets {
  /** `[N · rows · cols]`: 1 the centre cell of a box, 0 background, {@link IGNORED_CELL} a difficult box's cell. */
  objectness: Float32Array;
  /** `[N · rows · cols]`: the class of a positive cell's box, −1 elsewhere. */
  classes: Int32Array;
  /** `[N · rows · cols · 4]`: (t_x, t_y, t_w, t_h) of a positive cell's box, 0 elsewhere. */
  box: Float32Array;
  /** Cells with objectness 1. */
  positives: number;
  /** Boxes that lost their cell to another box. */
  unassigned: number;
}

/** The cell holding the box's centre (clamped to the grid) and the box's (t_x, t_y, t_w, t_h). */
export function encodeBox(box: PixelBox, grid: DetectionGrid): { row: number; col: number; t: [number, number, number, number] } {
  const sx = grid.width / grid.cols;
  const sy = grid.height / grid.rows;
  const cx = (box.x0 + box.x1) / 2 / sx;
  const cy = (box.y0 + box.y1) / 2 / sy;
  const col = Math.min(grid.cols - 1, Math.max(0, Math.floor(cx)));
  const row = Math.min(grid.rows - 1, Math.max(0, Math.floor(cy)));
  return { row, col, t: [cx - col, cy - row, Math.log((box.x1 - box.x0) / sx), Math.log((box.y1 - box.y0) / sy)] };
}

/** The box a cell's (t_x, t_y, t_w, t_h) stands for, inverse of {@link encodeBox}, clipped to the image. */
export function decodeBox(row: number, col: number, t: ArrayLike<number>, grid: DetectionGrid): PixelBox {
  const sx = grid.width / grid.cols;
  const sy = grid.height / grid.rows;
  const cx = (col + t[0]) * sx;
  const cy = (row + t[1]) * sy;
  const w = sx * Math.exp(t[2]);
  const h = sy * Math.exp(t[3]);
  const clip = (v: number, size: number): number => Math.min(size, Math.max(0, v));
  return { x0: clip(cx - w / 2, grid.width), y0: clip(cy - h / 2, grid.height), x1: clip(cx + w / 2, grid.width), y1: clip(cy + h / 2, grid.height) };
}

/** Which of two boxes claiming one cell keeps it: not difficult first, then the smaller area (ties: the earlier one). */
function wins(a: LabelledBox, b: LabelledBox): boolean {
  if ((a.difficult === true) !== (b.difficult === true)) return b.difficult === true;
  return (a.x1 - a.x0) * (a.y1 - a.y0) < (b.x1 - b.x0) * (b.y1 - b.y0);
}

/**
 * The targets of a batch's boxes on `grid` (see the module doc).
 * @throws DataError naming the box (`boxes[i][b]`) with a class out of [0, classes) or a non-positive or non-finite size.
 */
export function assignDetectionTargets(boxes: readonly (readonly LabelledBox[])[], grid: DetectionGrid, classes: number): DetectionTargets {
  const cells = grid.rows * grid.cols;
  const targets: DetectionTargets = {
    objectness: new Float32Array(boxes.length * cells),
    classes: new Int32Array(boxes.length * cells).fill(-1),
    box: new Float32Array(boxes.length * cells * 4),
    positives: 0,
    unassigned: 0,
  };
  boxes.forEach((list, image) => {
    const owner = new Map<number, LabelledBox>();
    list.forEach((box, b) => {
      checkBox(box, classes, `boxes[${image}][${b}]`);
      const { row, col } = encodeBox(box, grid);
      const cell = row * grid.cols + col;
      const other = owner.get(cell);
      if (other === undefined || wins(box, other)) owner.set(cell, box);
    });
    targets.unassigned += list.length - owner.size;
    for (const [cell, box] of owner) {
      const at = image * cells + cell;
      if (box.difficult === true) {
        targets.objectness[at] = IGNORED_CELL;
        continue;
      }
      targets.objectness[at] = 1;
      targets.classes[at] = box.class;
      targets.box.set(encodeBox(box, grid).t, at * 4);
      targets.positives++;
    }
  });
  return targets;
}

function checkBox(box: LabelledBox, classes: number, where: string): void {
  if (!Number.isInteger(box.class) || box.class < 0 || box.class >= classes) {
    throw new DataError('a box class is out of range', { where: `${where}.class`, expected: `an integer in [0, ${classes})`, actual: box.class });
  }
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  if (!(Number.isFinite(w) && Number.isFinite(h) && w > 0 && h > 0)) {
    throw new DataError('a box has no area', { where, expected: 'finite x0 < x1, y0 < y1', actual: `${box.x0}, ${box.y0}, ${box.x1}, ${box.y1}` });
  }
}
