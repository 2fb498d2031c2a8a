#!/usr/bin/python3
"""The MLP pruning recipe in PyTorch, as a reference for Shears's numbers.

    torch_prune_reference.py [--model models/fashion_mnist_mlp.onnx] [--sparsity 0.5]

Loads the Gemm weights of the ONNX MLP into torch.nn.Linear layers, applies
torch.nn.utils.prune.global_unstructured (L1, the given amount) to every layer but the last,
and prints the test accuracy on the 10,000 Fashion-MNIST images next to the dense one:
the recipe Shears's main job runs as shears-prune{granularity=unstructured scope=global
exclude=<last layer>}. With --shears (PYTHONPATH holding build/python) it also prunes the
ONNX model with that pipeline, compiles it, and exits 1 unless Shears's accuracy is within
--tolerance points (default 0.3) of PyTorch's and at most --max-drop points (default 1) below
the dense model's.
"""
import argparse
import sys
from pathlib import Path

import onnx
import torch
from onnx import numpy_helper
from torch.nn.utils import prune

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fashion_mnist import load  # noqa: E402


def linears(model_path):
    """The Gemm layers of the ONNX MLP as torch Linear modules, in order."""
    graph = onnx.load(model_path).graph
    inits = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    layers = []
    for node in graph.node:
        if node.op_type != "Gemm":
            continue
        w, b = inits[node.input[1]], inits[node.input[2]]
        trans_b = any(a.name == "transB" and a.i for a in node.attribute)
        w = w if trans_b else w.t()
        layer = torch.nn.Linear(w.shape[1], w.shape[0])
        layer.weight.data.copy_(w)
        layer.bias.data.copy_(b)
        layers.append(layer)
    return layers


def accuracy(layers, x, y):
    h = torch.from_numpy(x)
    with torch.no_grad():
        for i, layer in enumerate(layers):
            h = layer(h)
            if i + 1 < len(layers):
                h = torch.relu(h)
    return (h.argmax(1).numpy() == y).mean()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=str(Path(__file__).resolve().parent.parent / "models/fashion_mnist_mlp.onnx"))
    p.add_argument("--sparsity", type=float, default=0.5)
    p.add_argument("--shears", action="store_true", help="compare with Shears's shears-prune")
    p.add_argument("--tolerance", type=float, default=0.3, help="accuracy points")
    p.add_argument("--max-drop", type=float, default=1.0,
                   help="accuracy points Shears's pruned model may lose against dense")
    args = p.parse_args()
    x, y = load("test")
    layers = linears(args.model)
    dense = accuracy(layers, x, y)
    prune.global_unstructured([(l, "weight") for l in layers[:-1]],
                              pruning_method=prune.L1Unstructured, amount=args.sparsity)
    pruned = accuracy(layers, x, y)
    print(f"torch global L1 unstructured {args.sparsity:.0%} (last layer dense): "
          f"dense {dense:.2%}, pruned {pruned:.2%}")
    if not args.shears:
        return 0
    import shears
    graph = onnx.load(args.model).graph
    last = [n.name for n in graph.node if n.op_type == "Gemm"][-1]
    module = shears.import_onnx(args.model)
    module.run_pipeline(f"shears-prune{{sparsity={args.sparsity} granularity=unstructured "
                        f"scope=global exclude={last}}}")
    ours = (shears.compile(module)(x).argmax(1) == y).mean()
    ok = (abs(ours - pruned) * 100 <= args.tolerance and
          (dense - ours) * 100 <= args.max_drop)
    print(f"shears {'OK' if ok else 'FAIL'}: pruned {ours:.2%}, "
          f"{abs(ours - pruned) * 100:.2f} points from PyTorch (tolerance {args.tolerance}), "
          f"{(dense - ours) * 100:.2f} below dense (at most {args.max_drop})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
