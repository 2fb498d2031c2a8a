#!/usr/bin/python3
"""Compares every DIR_A/*.npy with the same file in DIR_B (like np.allclose: |a-b| <= atol +
rtol*|a|). Prints one line per file; exits 1 on a mismatch, a missing file or a shape/dtype
mismatch."""
import argparse
import sys

from ort_compare import compare_dirs


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("dir_a", help="expected outputs")
    p.add_argument("dir_b", help="actual outputs")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-4)
    args = p.parse_args()
    ok, _ = compare_dirs(args.dir_a, args.dir_b, args.rtol, args.atol)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
