#!/usr/bin/python3
"""Do import, JIT and AOT compilation take time linear in the depth of the graph?

    bench/depth.py [--depths 100,300,1000,3000] [--bin build/bin] [--workdir build/bench/depth]

For each depth N, a chain of N ops on a [1, 64] input (Relu, Add of a constant, Sigmoid, in
turn, so that no pass folds the chain away) is written as ONNX, then timed (wall clock, one
run each, best of --repeats):
  import   `shears-translate --import-onnx chain.onnx -o chain.mlir`
  jit      `shears-run chain.onnx --input x=x.npy` (import, lowering, JIT, one run)
  compile  `shears-compile chain.onnx -o chain.so` (import, lowering, object code, link)
Columns: seconds, and milliseconds per op; "x 1st" = the per-op time against the smallest
depth's (1.0: linear; 10 at 10x the depth would be quadratic). A 1000-op chain's import and JIT
run is also a test (test/Compiler/deep-chain.test), without timing.
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def chain(depth):
    nodes, inits, prev = [], [], "x"
    for i in range(depth):
        out = f"t{i}"
        kind = i % 3
        if kind == 0:
            nodes.append(helper.make_node("Relu", [prev], [out], name=f"relu{i}"))
        elif kind == 1:
            c = numpy_helper.from_array(np.full([1, 64], 0.01 * (i % 7), np.float32), f"c{i}")
            inits.append(c)
            nodes.append(helper.make_node("Add", [prev, c.name], [out], name=f"add{i}"))
        else:
            nodes.append(helper.make_node("Sigmoid", [prev], [out], name=f"sigmoid{i}"))
        prev = out
    nodes.append(helper.make_node("Identity", [prev], ["y"], name="out"))
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def check_chain(depth, x_path, y_path):
    """Asserts that y is chain(depth) of x, computed with numpy (the test's reference)."""
    v = np.load(x_path).astype(np.float64)
    for i in range(depth):
        kind = i % 3
        if kind == 0:
            v = np.maximum(v, 0)
        elif kind == 1:
            v = v + np.float32(0.01 * (i % 7))
        else:
            v = 1 / (1 + np.exp(-v))
    y = np.load(y_path)
    assert y.shape == v.shape, (y.shape, v.shape)
    np.testing.assert_allclose(y, v, rtol=1e-4, atol=1e-5)


def timed(cmd, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True)
        best = min(best, time.perf_counter() - start)
        if result.returncode != 0:
            sys.exit(f"{' '.join(map(str, cmd))} failed:\n{result.stderr}")
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--depths", default="100,300,1000,3000")
    p.add_argument("--bin", default=str(Path(__file__).resolve().parent.parent / "build" / "bin"))
    p.add_argument("--workdir", default="build/bench/depth")
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(args.bin)
    x = work / "x.npy"
    np.save(x, np.random.default_rng(0).standard_normal((1, 64)).astype(np.float32))
    depths = [int(d) for d in args.depths.split(",")]
    print(f"{'depth':>6} | {'import s':>9} {'ms/op':>6} {'x 1st':>6} | {'jit s':>8} {'ms/op':>6} {'x 1st':>6}"
          f" | {'compile s':>9} {'ms/op':>6} {'x 1st':>6}")
    first = None
    for depth in depths:
        model = work / f"chain{depth}.onnx"
        onnx.save(chain(depth), model)
        times = [
            timed([bin_dir / "shears-translate", "--import-onnx", model, "-o", work / f"chain{depth}.mlir"],
                  args.repeats),
            timed([bin_dir / "shears-run", model, "--input", f"x={x}"], args.repeats),
            timed([bin_dir / "shears-compile", model, "-o", work / f"chain{depth}.so"], args.repeats),
        ]
        per_op = [1000 * t / depth for t in times]
        first = first or per_op
        cells = " | ".join(f"{t:9.2f} {p:6.2f} {p / f:6.2f}" for t, p, f in zip(times, per_op, first))
        print(f"{depth:>6} | {cells}", flush=True)


if __name__ == "__main__":
    main()
