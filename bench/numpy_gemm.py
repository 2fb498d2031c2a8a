#!/usr/bin/python3
"""Times numpy's float32 matmul C[M,N] = A[M,K] @ B[K,N] (Debian's numpy calls cblas_sgemm of the
BLAS that /usr/lib/x86_64-linux-gnu/libblas.so.3 points at, OpenBLAS when it is installed).

    bench/numpy_gemm.py --shape M,K,N [--shape ...] [--runs 10] [--max-seconds 60]

One untimed warm-up call per shape, then up to --runs timed calls that fit in --max-seconds (at
least one). Prints one JSON line: {"blas": {...}, "results": [{"m", "k", "n", "times_ms"}]},
where "blas" names the BLAS library mapped into this process and, for OpenBLAS, its
configuration, core type and thread count. The thread count is what the environment says
(OPENBLAS_NUM_THREADS, OMP_NUM_THREADS): bench/cpu.py --gemm runs this script with them set.
"""
import argparse
import ctypes
import json
import sys
import time

import numpy as np


def blas_info():
    """The BLAS libraries mapped into this process, and what OpenBLAS says of itself."""
    libs = []
    try:
        for line in open("/proc/self/maps"):
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = path.rsplit("/", 1)[-1].lower()
            if ("blas" in name or "blis" in name or "mkl" in name) and path not in libs:
                libs.append(path)
    except OSError:
        pass
    info = {"numpy": np.__version__, "libraries": libs}
    for path in libs:
        if "openblas" not in path.rsplit("/", 1)[-1].lower():
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            info["openblas_config"] = lib.openblas_get_config().decode()
            info["openblas_core"] = lib.openblas_get_corename().decode()
            info["openblas_threads"] = lib.openblas_get_num_threads()
        except (OSError, AttributeError):
            continue
        break
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shape", action="append", required=True, metavar="M,K,N",
                   help="a GEMM shape; repeatable")
    p.add_argument("--runs", type=int, default=10, help="timed calls per shape (default 10)")
    p.add_argument("--max-seconds", type=float, default=60,
                   help="time budget for all shapes (default 60); at least one timed call each")
    args = p.parse_args()
    shapes = []
    for s in args.shape:
        try:
            m, k, n = (int(x) for x in s.split(","))
            if min(m, k, n) < 1:
                raise ValueError
        except ValueError:
            p.error(f"--shape wants three positive integers M,K,N, got '{s}'")
        shapes.append((m, k, n))
    if args.runs < 1:
        p.error("--runs must be positive")
    deadline = time.time() + args.max_seconds
    rng = np.random.default_rng(0)
    results = []
    for m, k, n in shapes:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
        start = time.perf_counter()
        np.matmul(a, b, out=c)
        warm = time.perf_counter() - start
        runs = max(1, min(args.runs, int((deadline - time.time()) / max(warm, 1e-9))))
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            np.matmul(a, b, out=c)
            times.append((time.perf_counter() - start) * 1e3)
        results.append({"m": m, "k": k, "n": n, "times_ms": times})
    print(json.dumps({"blas": blas_info(), "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
