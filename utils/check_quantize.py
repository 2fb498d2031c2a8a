#!/usr/bin/python3
"""Checks a model quantized to int8 by `shears quantize` against ONNX Runtime and fp32.

    check_quantize.py --model M.onnx --workdir DIR [--method minmax] [--samples 1000]
                      [--options "--weights int4 --group-size 64"] [--max-drop 0.01]
                      [--max-ratio 0.30]

Calibrates on 512 Fashion-MNIST training images (shaped like the model's input), quantizes
with METHOD, and checks: the QDQ file passes onnx.checker and is at most --max-ratio times the
fp32 file; where it holds bit-packed int4 or binary weights (BitShift nodes), the same model
stored with --bit-packing=false gives bitwise the same outputs in ONNX Runtime and in Shears;
ONNX Runtime runs it, and its outputs on SAMPLES test images agree with Shears's compiled int8
run (the predicted class on at least 99% of the images, every output within 3% of the largest
output: ONNX Runtime's fused int8 kernels round some activations differently, by a step or
more, and the difference propagates); with quantized activations, every one of them (each
DequantizeLinear of a QuantizeLinear, made an output of a copy of the file) is within one
quantization step of ONNX Runtime's when it runs the file node by node (graph optimizations
disabled: the file's own semantics; a float sum can round to either side); and the test
accuracy of Shears's int8 run loses at most --max-drop (default 0.01) of fp32's. --options go
to `shears quantize` as they are (e.g. --activations none --weights int4). Prints `quantize OK
<model> METHOD: accuracy A (fp32 F), file ratio R, agreement G, max abs diff D`, after a line
on the quantized activations where there are any.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fashion_mnist  # noqa: E402
from ort_compare import graph_inputs, run_ort  # noqa: E402

BIN = Path(__file__).resolve().parent.parent / "build" / "bin"


def with_quantized_activations(path, dst):
    """Writes to `dst` a copy of the QDQ model at `path` whose quantized activations are outputs
    too: each DequantizeLinear of a QuantizeLinear's result, through an Identity named probeI
    (a file name for ort_run.js). Returns [(DequantizeLinear node name, its scale)]."""
    model = onnx.load(str(path))
    graph = model.graph
    scales = {t.name: numpy_helper.to_array(t) for t in graph.initializer
              if not t.dims}
    quantized = {n.output[0] for n in graph.node if n.op_type == "QuantizeLinear"}
    probes = []
    for node in list(graph.node):
        if (node.op_type != "DequantizeLinear" or node.input[0] not in quantized
                or node.input[1] not in scales):
            continue
        probe = f"probe{len(probes)}"
        graph.node.append(helper.make_node("Identity", [node.output[0]], [probe]))
        graph.output.append(
            helper.make_tensor_value_info(probe, onnx.TensorProto.FLOAT, None))
        probes.append((node.name, float(scales[node.input[1]])))
    onnx.save(model, str(dst))
    return probes


def quantization_steps(probes, ort_dir, outputs, names):
    """Per probe, |ORT's integer - Shears's| over every element (the values divided by the
    scale are the integers less the zero point)."""
    return [np.abs(np.round(np.load(ort_dir / f"probe{i}.npy") / scale)
                   - np.round(outputs[names.index(f"probe{i}")] / scale))
            for i, (_, scale) in enumerate(probes)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--method", default="minmax")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--options", default="", help="more options for shears quantize")
    parser.add_argument("--max-drop", type=float, default=0.01)
    parser.add_argument("--max-ratio", type=float, default=0.30)
    args = parser.parse_args()
    import shears

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    name, _, dims = graph_inputs(args.model)[0]
    shape = (-1,) + tuple(dims[1:])
    test, labels = fashion_mnist.load("test")
    calib = work / "calib.npy"
    np.save(calib, fashion_mnist.calibration_images(512).reshape(shape))
    x = test[:args.samples].reshape(shape)
    labels = labels[:args.samples]
    samples = work / "x.npy"
    np.save(samples, x)

    options = args.options.split()
    tag = "".join(c for c in args.options if c.isalnum())
    quantized = work / f"quantized.{args.method}{tag}.onnx"
    static = not ({"none", "dynamic"} & set(options))
    calibration = ["--calibration", f"{name}={calib}"] if static else []
    def quantize(path, *more):
        subprocess.run([str(BIN / "shears"), "quantize", args.model, *calibration, "--method",
                        args.method, *options, *more, "-o", str(path)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        onnx.checker.check_model(onnx.load(str(path)), full_check=True)

    def run_both(path, out):
        ok, err = run_ort(path, {name: samples}, out)
        if not ok:
            sys.exit(f"FAIL: ONNX Runtime cannot run {path}: {err}")
        return (np.load(next(out.glob("*.npy"))),
                shears.compile(shears.import_onnx(str(path)))(x))

    quantize(quantized)
    ratio = os.path.getsize(quantized) / os.path.getsize(args.model)
    if ratio > args.max_ratio:
        sys.exit(f"FAIL: the quantized file is {ratio:.3f}x the fp32 file (at most "
                 f"{args.max_ratio})")

    ort, int8 = run_both(quantized, work / "ort")
    packed = sum(n.op_type == "BitShift" for n in onnx.load(str(quantized)).graph.node)
    if packed:
        unpacked = quantized.with_suffix(".int8.onnx")
        quantize(unpacked, "--bit-packing=false")
        ort_unpacked, int8_unpacked = run_both(unpacked, work / "ort-unpacked")
        if not (np.array_equal(ort, ort_unpacked) and np.array_equal(int8, int8_unpacked)):
            sys.exit("FAIL: the bit-packed file's outputs differ from the int8-stored one's")
        print(f"bit-packed weights give the int8-stored file's outputs (file ratio "
              f"{ratio:.3f}, {os.path.getsize(unpacked) / os.path.getsize(args.model):.3f} "
              f"in int8)")
    fp32 = shears.compile(shears.import_onnx(args.model))(x)
    agreement = float((ort.argmax(1) == int8.argmax(1)).mean())
    diff = float(np.abs(ort - int8).max())
    if agreement < 0.99 or diff > 0.03 * np.abs(ort).max():
        sys.exit(f"FAIL: ONNX Runtime and Shears agree on {agreement:.1%} of the classes, "
                 f"max abs diff {diff:.3g} (largest output {np.abs(ort).max():.3g})")
    probed = work / f"probed.{args.method}{tag}.onnx"
    probes = with_quantized_activations(quantized, probed)
    if probes:
        names = [o.name for o in onnx.load(str(probed)).graph.output]
        outputs = shears.compile(shears.import_onnx(str(probed)))(x)
        steps = {}
        for level in ("disabled", "all"):
            out = work / f"ort-probed-{level}"
            ok, err = run_ort(probed, {name: samples}, out, optimization=level)
            if not ok:
                sys.exit(f"FAIL: ONNX Runtime cannot run {probed}: {err}")
            steps[level] = quantization_steps(probes, out, outputs, names)
        for (node, _), d in zip(probes, steps["disabled"]):
            if d.max() > 1:
                sys.exit(f"FAIL: {node}: Shears's integers differ from ONNX Runtime's (graph "
                         f"optimizations disabled) by up to {d.max():.0f} steps, in "
                         f"{int((d > 1).sum())} of {d.size} values")
        off = sum(int((d > 0).sum()) for d in steps["disabled"])
        total = sum(d.size for d in steps["disabled"])
        fused = max(float(d.max()) for d in steps["all"])
        print(f"{len(probes)} quantized activations within one step of ONNX Runtime's run "
              f"node by node ({off} of {total} integers one step off; with its fused int8 "
              f"kernels, up to {fused:.0f} steps off)")
    accuracy = float((int8.argmax(1) == labels).mean())
    reference = float((fp32.argmax(1) == labels).mean())
    if accuracy < reference - args.max_drop:
        sys.exit(f"FAIL: int8 accuracy {accuracy:.4f}, fp32 {reference:.4f}")
    print(f"quantize OK {Path(args.model).name} {args.method} {args.options}".rstrip()
          + f": accuracy {accuracy:.4f} "
          f"(fp32 {reference:.4f}), file ratio {ratio:.3f}, agreement {agreement:.1%}, "
          f"max abs diff {diff:.3g}")


if __name__ == "__main__":
    main()
