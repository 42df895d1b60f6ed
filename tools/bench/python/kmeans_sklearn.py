"""scikit-learn MiniBatchKMeans on the k-means benchmark's data (tools/bench/src/kmeans.ts).

Usage: /usr/bin/python3 kmeans_sklearn.py DATA.f32 ROWS COLS K SEED CENTRES_OUT.f32 [N_INIT]

Reads a row-major float32 matrix, fits MiniBatchKMeans with scikit-learn's defaults
(k-means++ init, batch_size=1024, n_init=3 as in sklearn 1.2; N_INIT=1 is what
n_init='auto' means from sklearn 1.4 on) and writes the centres as row-major float32.
Prints one JSON line: sklearn version, fit seconds, sklearn's own
inertia, iterations and steps. The caller evaluates both inertias the same way.
"""
import json
import sys
import time

import numpy as np


def main() -> None:
    if len(sys.argv) not in (7, 8):
        sys.exit(__doc__)
    path, rows, cols, k, seed, out = sys.argv[1:7]
    rows, cols, k, seed = int(rows), int(cols), int(k), int(seed)
    n_init = int(sys.argv[7]) if len(sys.argv) == 8 else 3
    try:
        import sklearn
        from sklearn.cluster import MiniBatchKMeans
    except ImportError as error:  # reported, not raised: the bench then runs ours alone
        print(json.dumps({"available": False, "reason": str(error)}))
        return
    x = np.fromfile(path, dtype=np.float32)
    if x.size != rows * cols:
        sys.exit(f"{path}: expected {rows}x{cols} float32 values, got {x.size}")
    x = x.reshape(rows, cols)
    model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=n_init, batch_size=1024)
    start = time.perf_counter()
    model.fit(x)
    seconds = time.perf_counter() - start
    model.cluster_centers_.astype(np.float32).tofile(out)
    print(
        json.dumps(
            {
                "available": True,
                "version": sklearn.__version__,
                "numpy": np.__version__,
                "n_init": n_init,
                "seconds": seconds,
                "inertia": float(model.inertia_),
                "iterations": int(model.n_iter_),
                "steps": int(model.n_steps_),
            }
        )
    )


if __name__ == "__main__":
    main()
