"""numpy's LAPACK on the matrices of the LAPACK benchmark (tools/bench/src/lapack.ts).

Usage: /usr/bin/python3 lapack_numpy.py, then one request per line on stdin:

  KIND PATH ROWS COLS

KIND `qr`: PATH holds a row-major float32 ROWS×COLS matrix; runs
numpy.linalg.qr(a, mode='reduced'), which computes a float32 input in float64
(dgeqrf + dorgqr on a Fortran-order copy). KIND `qr32`: the same matrix through
scipy.linalg.qr(a, mode='economic') (sgeqrf + sorgqr, float32; Debian's python3-scipy).
KIND `eigh`: PATH holds a row-major float32 ROWS×ROWS symmetric matrix; runs
numpy.linalg.eigh(a), which stays in float32 (ssyevd, every pair). A matrix is read once and kept. Each request
is answered with one JSON line holding the seconds of that one run; the first line
printed (before any request) gives numpy's version and the OpenBLAS configuration and
threads it runs on. One process serves a whole benchmark, so its runs can alternate with
the caller's under the same load.
"""
import ctypes
import json
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
    print(json.dumps({"numpy": np.__version__, **openblas()}), flush=True)
    matrices = {}
    for line in sys.stdin:
        kind, path, rows, cols = line.split()
        rows, cols = int(rows), int(cols)
        if path not in matrices:
            matrices[path] = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
        a = matrices[path]
        start = time.perf_counter()
        if kind == "qr":
            np.linalg.qr(a, mode="reduced")
        elif kind == "qr32":
            import scipy.linalg  # only when asked: the rest needs numpy alone

            scipy.linalg.qr(a, mode="economic", overwrite_a=False, check_finite=False)
        elif kind == "eigh":
            np.linalg.eigh(a)
        else:
            sys.exit(f"unknown kind {kind}: expected qr, qr32 or eigh")
        print(json.dumps({"seconds": time.perf_counter() - start}), flush=True)


if __name__ == "__main__":
    main()
