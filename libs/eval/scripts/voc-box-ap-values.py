#!/usr/bin/env python3
"""Writes src/testing/detection-voc-values.json: seeded random detection cases and the PASCAL VOC devkit's box AP for them.

The box AP spec of @ddinit/eval compares boxMeanAveragePrecision with these values (tolerance 1e-9) without Python.
`voc_eval` below is the VOC devkit's detection evaluation (VOCevaldet.m; its Python port in py-faster-rcnn's
voc_eval.py) with two deliberate changes, both documented in box-average-precision.ts:
- IoU on half-open pixels: area = (x1 - x0)(y1 - y0), without the devkit's +1;
- the 11 recall levels are exactly i/10 (numpy's arange(0, 1.1, 0.1) misses a recall of exactly 0.3).
Ground-truth boxes lie in disjoint tiles, so a detection overlaps at most one of them by IoU >= 0.5, where the devkit's
"box of highest IoU" and our "unmatched box of highest IoU" rules agree; scores are continuous, so there are no ties.
Needs only numpy (Debian's /usr/bin/python3 has it):

    /usr/bin/python3 libs/eval/scripts/voc-box-ap-values.py && npx prettier --write libs/eval/src/testing/detection-voc-values.json
"""
import json
import os

import numpy as np

SEED = 20261207
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'testing', 'detection-voc-values.json')
TILE = 40
TILES = 4  # a 160 x 160 canvas of 4 x 4 tiles, one ground-truth box at most per tile


def iou(d, boxes):
    """IoU of box d with each row of boxes (x0, y0, x1, y1), half-open pixels."""
    w = np.maximum(np.minimum(boxes[:, 2], d[2]) - np.maximum(boxes[:, 0], d[0]), 0)
    h = np.maximum(np.minimum(boxes[:, 3], d[3]) - np.maximum(boxes[:, 1], d[1]), 0)
    inter = w * h
    union = (d[2] - d[0]) * (d[3] - d[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return inter / union


def voc_eval(detections, truth, cls, threshold):
    """The devkit's matching for one class: (precision, recall) per ranked detection, or None without ground truth."""
    gt = {i: [b for b in boxes if b['class'] == cls] for i, boxes in enumerate(truth)}
    npos = sum(1 for boxes in gt.values() for b in boxes if not b['difficult'])
    if npos == 0:
        return None
    dets = [(d['score'], i, d) for i, ds in enumerate(detections) for d in ds if d['class'] == cls]
    dets.sort(key=lambda x: -x[0])
    taken = {i: [False] * len(b) for i, b in gt.items()}
    tp = np.zeros(len(dets))
    fp = np.zeros(len(dets))
    for k, (_, i, d) in enumerate(dets):
        boxes = np.array([[b['x0'], b['y0'], b['x1'], b['y1']] for b in gt[i]]).reshape(-1, 4)
        ovmax = -np.inf
        if len(boxes) > 0:
            overlaps = iou([d['x0'], d['y0'], d['x1'], d['y1']], boxes)
            jmax = int(np.argmax(overlaps))
            ovmax = overlaps[jmax]
        if ovmax >= threshold:
            if not gt[i][jmax]['difficult']:
                if not taken[i][jmax]:
                    tp[k] = 1
                    taken[i][jmax] = True
                else:
                    fp[k] = 1
        else:
            fp[k] = 1
    tp = np.cumsum(tp)
    fp = np.cumsum(fp)
    counted = (tp + fp) > 0  # the devkit's curve skips nothing; ignored detections only repeat the previous point
    return tp[counted] / (tp[counted] + fp[counted]), tp[counted] / npos


def aps(precision, recall):
    voc07 = sum(max([p for p, r in zip(precision, recall) if r >= i / 10], default=0.0) for i in range(11)) / 11
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    envelope = float(np.sum((mrec[1:] - mrec[:-1]) * mpre[1:]))
    non_interpolated = float(np.sum(np.diff(np.concatenate(([0.0], recall))) * precision))
    return {'non-interpolated': non_interpolated, 'voc07-11point': voc07, 'voc-envelope': envelope}


def jitter(rng, b, scale):
    w, h = b['x1'] - b['x0'], b['y1'] - b['y0']
    x0 = b['x0'] + rng.normal(0, scale) * w
    y0 = b['y0'] + rng.normal(0, scale) * h
    return {'x0': x0, 'y0': y0, 'x1': x0 + w * np.exp(rng.normal(0, scale)), 'y1': y0 + h * np.exp(rng.normal(0, scale))}


def make_case(rng, images, classes):
    truth, detections = [], []
    for _ in range(images):
        boxes, dets = [], []
        for tile in rng.choice(TILES * TILES, size=rng.integers(0, 5), replace=False):
            tx, ty = (tile % TILES) * TILE, (tile // TILES) * TILE
            w, h = rng.uniform(8, TILE - 2, size=2)
            x0, y0 = tx + rng.uniform(0, TILE - w), ty + rng.uniform(0, TILE - h)
            box = {'class': int(rng.integers(classes)), 'x0': x0, 'y0': y0, 'x1': x0 + w, 'y1': y0 + h, 'difficult': bool(rng.random() < 0.15)}
            boxes.append(box)
            for _ in range(rng.choice([0, 1, 1, 2])):  # missed, found, found twice (a duplicate)
                cls = box['class'] if rng.random() < 0.8 else int(rng.integers(classes))
                dets.append({'class': cls, 'score': float(rng.random()), **jitter(rng, box, 0.12)})
        for _ in range(rng.integers(0, 3)):  # detections on nothing
            x0, y0 = rng.uniform(0, TILE * TILES - 20, size=2)
            w, h = rng.uniform(5, 20, size=2)
            dets.append({'class': int(rng.integers(classes)), 'score': float(rng.random()), 'x0': x0, 'y0': y0, 'x1': x0 + w, 'y1': y0 + h})
        truth.append(boxes)
        detections.append(dets)
    return truth, detections


def rounded(lists):
    """Coordinates to 1/64 px (exact in binary), so the fixture's JSON holds exactly the values evaluated."""
    for boxes in lists:
        for b in boxes:
            for k in ('x0', 'y0', 'x1', 'y1'):
                b[k] = round(float(b[k]) * 64) / 64
    return lists


def main():
    rng = np.random.default_rng(SEED)
    cases = []
    for images, classes in [(12, 3), (20, 4), (30, 2)]:
        truth, detections = make_case(rng, images, classes)
        truth, detections = rounded(truth), rounded(detections)
        per_class = []
        for c in range(classes):
            curve = voc_eval(detections, truth, c, 0.5)
            per_class.append(None if curve is None else aps(*curve))
        defined = [p for p in per_class if p is not None]
        mean = {m: float(np.mean([p[m] for p in defined])) for m in defined[0]}
        cases.append({'classes': classes, 'truth': truth, 'detections': detections, 'perClass': per_class, 'mean': mean})
    with open(OUT, 'w') as f:
        json.dump({'generator': 'libs/eval/scripts/voc-box-ap-values.py', 'seed': SEED, 'numpy': np.__version__, 'cases': cases}, f)
        f.write('\n')


if __name__ == '__main__':
    main()
