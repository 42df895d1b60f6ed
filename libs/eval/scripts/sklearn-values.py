#!/usr/bin/env python3
"""Writes src/testing/sklearn-values.json: seeded random metric inputs and scikit-learn's values for them.

The specs of @ddinit/eval compare the TypeScript metrics with these values (tolerance 1e-6) without Python.
Regenerate after changing the cases, with Debian's Python (apt-get install python3-sklearn; a pyenv or venv python3
does not see Debian's packages):

    /usr/bin/python3 libs/eval/scripts/sklearn-values.py && npx prettier --write libs/eval/src/testing/sklearn-values.json

Average precision: scikit-learn's average_precision_score; the VOC07 11-point and envelope APs are computed here
from scikit-learn's precision_recall_curve (scikit-learn has no function for them). Ignored examples (label -1)
are removed before scikit-learn sees them, which is what "neither positive nor negative" means.
"""
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    confusion_matrix,
    jaccard_score,
    precision_recall_curve,
    top_k_accuracy_score,
)

SEED = 20261207
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'src', 'testing', 'sklearn-values.json')


def curve_points(scores, labels):
    """scikit-learn's curve, descending thresholds, without its appended (P=1, R=0) end point."""
    precision, recall, _ = precision_recall_curve(labels, scores)
    return precision[:-1][::-1], recall[:-1][::-1]


def voc07(precision, recall):
    return sum(max([p for p, r in zip(precision, recall) if r >= i / 10], default=0.0) for i in range(11)) / 11


def envelope(precision, recall):
    env = np.maximum.accumulate(precision[::-1])[::-1]
    return float(np.sum(np.diff(np.concatenate([[0.0], recall])) * env))


def class_aps(scores, labels):
    kept = labels != -1
    s, y = scores[kept], labels[kept]
    if y.sum() == 0:
        return None
    precision, recall = curve_points(s, y)
    return {
        'non-interpolated': float(average_precision_score(y, s)),
        'voc07-11point': float(voc07(precision, recall)),
        'voc-envelope': envelope(precision, recall),
    }


def ranking_case(rng, n, ties, ignore_share):
    labels = (rng.random(n) < 0.3).astype(np.int64)
    # Scores that lean towards the positives, so the APs are far from both 0 and 1.
    scores = rng.normal(size=n) + 0.8 * labels
    if ties:
        scores = np.round(scores * 2) / 2  # a handful of distinct values: many tied thresholds
    labels[rng.random(n) < ignore_share] = -1
    return {'n': n, 'ties': ties, 'scores': scores.tolist(), 'labels': labels.tolist(), 'ap': class_aps(scores, labels)}


def map_case(rng, n, classes):
    labels = (rng.random((n, classes)) < 0.25).astype(np.int64)
    labels[:, classes - 1] = 0  # a class without positives
    labels[rng.random((n, classes)) < 0.1] = -1
    scores = rng.normal(size=(n, classes)) + labels.clip(0, 1)
    per_class = [class_aps(scores[:, c], labels[:, c]) for c in range(classes)]
    means = {
        m: float(np.mean([a[m] for a in per_class if a is not None]))
        for m in ('non-interpolated', 'voc07-11point', 'voc-envelope')
    }
    return {'n': n, 'classes': classes, 'scores': scores.ravel().tolist(), 'labels': labels.ravel().tolist(), 'perClass': per_class, 'mean': means}


def confusion_case(rng, n, classes, used):
    truth = rng.integers(0, used, size=n)
    predicted = np.where(rng.random(n) < 0.6, truth, rng.integers(0, used, size=n))
    truth_with_ignore = np.where(rng.random(n) < 0.1, 255, truth)
    kept = truth_with_ignore != 255
    t, p = truth_with_ignore[kept], predicted[kept]
    labels = list(range(classes))
    cm = confusion_matrix(t, p, labels=labels)
    union = cm.sum(axis=0) + cm.sum(axis=1) - np.diag(cm)
    jaccard = jaccard_score(t, p, labels=labels, average=None, zero_division=0)
    iou = [float(jaccard[c]) if union[c] > 0 else None for c in labels]
    support, predicted_count = cm.sum(axis=1), cm.sum(axis=0)
    return {
        'classes': classes,
        'truth': truth_with_ignore.tolist(),
        'predicted': predicted.tolist(),
        'confusion': cm.ravel().tolist(),
        'precision': [float(cm[c, c] / predicted_count[c]) if predicted_count[c] > 0 else None for c in labels],
        'recall': [float(cm[c, c] / support[c]) if support[c] > 0 else None for c in labels],
        'iou': iou,
        'meanIoU': float(np.mean([v for v in iou if v is not None])),
        'absent': [c for c in labels if union[c] == 0],
    }


def top_k_case(rng, n, classes, ties):
    truth = rng.integers(0, classes, size=n)
    scores = rng.random((n, classes))
    if ties:
        scores = np.round(scores * 2) / 2  # values 0, 0.5, 1: ties in almost every row
    accuracy = {str(k): float(top_k_accuracy_score(truth, scores, k=k, labels=list(range(classes)))) for k in (1, 2, 3, 5)}
    return {'classes': classes, 'ties': ties, 'scores': scores.ravel().tolist(), 'truth': truth.tolist(), 'accuracy': accuracy}


def main():
    rng = np.random.default_rng(SEED)
    fixture = {
        'generator': 'libs/eval/scripts/sklearn-values.py',
        'seed': SEED,
        'sklearn': sklearn.__version__,
        'numpy': np.__version__,
        'ranking': [ranking_case(rng, 60, False, 0.0), ranking_case(rng, 400, False, 0.1), ranking_case(rng, 300, True, 0.1), ranking_case(rng, 500, True, 0.0)],
        'map': map_case(rng, 250, 6),
        'confusion': confusion_case(rng, 2000, 8, 7),
        'topK': [top_k_case(rng, 300, 10, False), top_k_case(rng, 300, 6, True)],
    }
    with open(OUT, 'w') as f:
        json.dump(fixture, f, indent=1)
        f.write('\n')
    print(f'wrote {os.path.relpath(OUT)} (scikit-learn {sklearn.__version__})', file=sys.stderr)


if __name__ == '__main__':
    main()
