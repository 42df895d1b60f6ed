"""numpy's LAPACK on the matrices of the LAPACK benchmark (tools/bench/src/lapack.ts).

Usage: /usr/bin/python3 lapack_numpy.py KIND PATH ROWS COLS REPEATS

KIND `qr`: PATH holds a row-major float32 ROWS×COLS matrix; times
numpy.linalg.qr(a, mode='reduced') (sgeqrf + sorgqr on a Fortran-order copy).
KIND `eigh`: PATH holds a row-major float64 ROWS×ROWS symmetric matrix; times
numpy.linalg.eigh(a) (dsyevd, every pair). One untimed warm-up, then REPEATS timed
runs. Prints one JSON line: numpy version, the OpenBLAS configuration and threads it
runs on, and the median seconds.
"""
import ctypes
import json
import statistics
import sys
import time

import numpy as np


def openblas() -> dict:
    """The configuration of the OpenBLAS behind Debian's libblas.so.3, if that is OpenBLAS."""
    try:
        lib = ctypes.CDLL("libblas.so.3")
        lib.openblas_get_config.restype = ctypes.c_char_p
        return {"config": lib.openblas_get_config().decode(), "threads": lib.openblas_get_num_threads()}
    except (OSError, AttributeError) as error:
        return {"config": f"unknown ({error})", "threads": None}


def main() -> None:
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    kind, path, rows, cols, repeats = sys.argv[1:6]
    rows, cols, repeats = int(rows), int(cols), int(repeats)
    if kind == "qr":
        a = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
        run = lambda: np.linalg.qr(a, mode="reduced")  # noqa: E731
    elif kind == "eigh":
        a = np.fromfile(path, dtype=np.float64).reshape(rows, rows)
        run = lambda: np.linalg.eigh(a)  # noqa: E731
    else:
        sys.exit(f"unknown kind {kind}: expected qr or eigh")
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    print(json.dumps({"numpy": np.__version__, **openblas(), "seconds": statistics.median(times)}))


if __name__ == "__main__":
    main()
