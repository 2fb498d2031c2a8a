"""Makes and checks .npy files for the runtime tests.

  npy.py save PATH EXPR    saves the array EXPR evaluates to
  npy.py check PATH EXPR   fails unless PATH holds EXPR bit for bit (NaNs
                           included): same dtype, shape and bytes; prints
                           "<name>: ok"

EXPR is Python with `np` (numpy) and `load` (np.load) in scope.
"""
import os
import sys

import numpy as np


def evaluate(expr):
    return np.asarray(eval(expr, {"np": np, "load": np.load}))


def main():
    command, path, expr = sys.argv[1:]
    if command == "save":
        np.save(path, evaluate(expr))
        return
    actual, expected = np.load(path), evaluate(expr)
    if actual.dtype != expected.dtype or actual.shape != expected.shape:
        sys.exit(f"{path}: {actual.dtype}{list(actual.shape)}, "
                 f"expected {expected.dtype}{list(expected.shape)}")
    if actual.tobytes() != expected.tobytes():
        sys.exit(f"{path}: {actual}, expected {expected}")
    print(f"{os.path.basename(path)}: ok")


if __name__ == "__main__":
    main()
