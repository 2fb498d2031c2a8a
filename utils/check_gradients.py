#!/usr/bin/python3
"""Checks utils/onnx_gradients.py against PyTorch autograd and finite differences.

    check_gradients.py --workdir DIR [--model models/fashion_mnist_cnn.onnx]

1. A small MLP exported by torch.onnx (initializers keep the parameter names): the mean and the
   --squared (RMS over batches) gradients equal torch autograd's on the module, within
   rtol 1e-4 / atol 1e-6.
2. A small CNN with BatchNorm (eval mode, folded into the convolutions by the exporter) plus a
   BatchNorm1d, slicing, reshaping with a dynamic batch and pooling ops: the interpreter's logits
   equal the module's (float64); the gradients of the tensors that keep their names (fc.*, bn3.*)
   equal torch autograd's; those of a few elements of a folded convolution weight and of the rest
   equal central finite differences of the loss, evaluated in float64 by the interpreter.
3. --model with the default Fashion-MNIST data and --samples 256: one finite float32 array per
   float initializer, of its shape.
4. A model with an unsupported op (Hardmax): nonzero exit, an error naming the op and the node, and no
   output file.
Prints one line per check and `gradients OK` when all pass; exits nonzero otherwise.
"""
import argparse
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper

UTILS = Path(__file__).resolve().parent
sys.path.insert(0, str(UTILS))
import onnx_gradients  # noqa: E402

FAILED = []


def check(ok, message):
    print(f"{message}: {'OK' if ok else 'FAIL'}", flush=True)
    if not ok:
        FAILED.append(message)


def fmt(values):
    return "[" + ", ".join(f"{v:.6g}" for v in values) + "]"


def stderr(r):
    """The tool's error, to show after a failed check."""
    return f"; {r.stderr.strip()}" if r.returncode else ""


def run_tool(*args):
    return subprocess.run([sys.executable, str(UTILS / "onnx_gradients.py"), "--quiet", *map(str, args)],
                          capture_output=True, text=True)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(20, 32), nn.Linear(32, 16), nn.Linear(16, 5)

    def forward(self, x):
        return self.fc3(torch.tanh(self.fc2(torch.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.conv2, self.bn2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(6)
        self.fc, self.bn3 = nn.Linear(12, 5), nn.BatchNorm1d(5, eps=1e-3)

    def forward(self, x):
        x = F.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2)
        x = torch.sigmoid(self.bn2(self.conv2(x)))
        x = torch.cat([F.adaptive_avg_pool2d(x, 1).flatten(1),
                       F.avg_pool2d(x[:, :, 1:, :], 3, 1, 1, count_include_pad=False)
                       .permute(0, 2, 3, 1).reshape(x.shape[0], -1)[:, ::6]], 1)
        return self.bn3(self.fc(x))


def export(module, example, path):
    module.eval()
    torch.onnx.export(module, example, path, opset_version=13, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})


def save_data(workdir, x, y):
    np.save(workdir / "x.npy", x)
    np.save(workdir / "y.npy", y)
    return ["--input", f"input={workdir / 'x.npy'}", "--labels", workdir / "y.npy"]


def check_mlp(workdir, batch=64):
    torch.manual_seed(0)
    mlp = MLP()
    x = torch.randn(300, 20)
    y = torch.randint(0, 5, (300,))
    export(mlp, x[:2], workdir / "mlp.onnx")
    data = save_data(workdir, x.numpy(), y.numpy())
    mean, rms = {}, {n: torch.zeros_like(p) for n, p in mlp.named_parameters()}
    mlp.zero_grad()
    F.cross_entropy(mlp(x), y).backward()
    mean = {n: p.grad.numpy().copy() for n, p in mlp.named_parameters()}
    for s in range(0, len(y), batch):  # the batches the tool takes, the last one short
        mlp.zero_grad()
        F.cross_entropy(mlp(x[s:s + batch]), y[s:s + batch]).backward()
        for n, p in mlp.named_parameters():
            rms[n] += len(y[s:s + batch]) * p.grad ** 2
    rms = {n: (r / len(y)).sqrt().numpy() for n, r in rms.items()}
    for squared, want in ((False, mean), (True, rms)):
        out = workdir / f"mlp{'-squared' if squared else ''}.npz"
        r = run_tool(workdir / "mlp.onnx", "-o", out, "--batch", batch, *data, *(["--squared"] if squared else []))
        got = dict(np.load(out)) if r.returncode == 0 else {}
        ok = r.returncode == 0 and set(got) == set(want) and all(
            got[n].dtype == np.float32 and got[n].shape == want[n].shape
            and np.allclose(got[n], want[n], rtol=1e-4, atol=1e-6) for n in want)
        diff = max((float(np.abs(got[n] - want[n]).max()) for n in want if n in got), default=float("nan"))
        check(ok, f"mlp {'rms' if squared else 'mean'} gradients of {sorted(want)} vs torch "
                  f"(max abs diff {diff:.2g}){stderr(r)}")


def check_bn_cnn(workdir, eps=1e-6):
    torch.manual_seed(1)
    cnn = CNN()
    for bn in (cnn.bn1, cnn.bn2, cnn.bn3):  # statistics that make the folding matter
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.2, 0.2)
    x = torch.randn(100, 1, 12, 12)
    y = torch.randint(0, 5, (100,))
    export(cnn, x[:2], workdir / "cnn.onnx")
    model = onnx.load(workdir / "cnn.onnx")
    ops = sorted({n.op_type for n in model.graph.node})
    data = save_data(workdir, x.numpy(), y.numpy())
    r = run_tool(workdir / "cnn.onnx", "-o", workdir / "cnn.npz", "--batch", 32, *data)
    check(r.returncode == 0, f"cnn exported with ops {ops}{stderr(r)}")
    if r.returncode != 0:
        return
    got = np.load(workdir / "cnn.npz")
    interp = onnx_gradients.Interpreter(model, torch.float64)
    feeds = {"input": x.double()}
    with torch.no_grad():
        diff = float((interp.run(feeds)[0] - cnn.double()(x.double())).abs().max())
    check(diff < 1e-6, f"cnn logits of the interpreter (float64) vs the module (max abs diff {diff:.2g})")
    cnn.float().zero_grad()
    F.cross_entropy(cnn(x), y).backward()
    kept = {n: p.grad.numpy() for n, p in cnn.named_parameters() if n in got}  # names not folded
    check(sorted(kept) == ["bn3.bias", "bn3.weight", "fc.bias", "fc.weight"] and all(
          np.allclose(got[n], g, rtol=1e-4, atol=1e-6) for n, g in kept.items()),
          f"cnn gradients of {sorted(kept)} vs torch")
    conv1 = next(n.input[1] for n in model.graph.node if n.op_type == "Conv")
    rng = np.random.default_rng(0)
    for name in [conv1] + [i.name for i in model.graph.initializer if i.name.startswith(("fc.", "bn3."))]:
        g = got[name].reshape(-1)
        picks = {int(np.abs(g).argmax()), int(rng.integers(g.size))}
        fd = []
        for k in picks:
            w = interp.params[name].data.view(-1)
            old = float(w[k])
            with torch.no_grad():
                w[k] = old + eps
                up = onnx_gradients.loss_of(interp, feeds, y).item()
                w[k] = old - eps
                down = onnx_gradients.loss_of(interp, feeds, y).item()
                w[k] = old
            fd.append((up - down) / (2 * eps))
        want = np.array(fd)
        have = g[list(picks)]
        check(np.allclose(have, want, rtol=1e-3, atol=1e-6),
              f"cnn gradient of {name}{list(picks)} {fmt(have)} vs finite differences {fmt(want)}")


def check_fashion_model(workdir, path):
    out = workdir / "fashion.npz"
    r = run_tool(path, "-o", out, "--samples", 256)
    floats = {i.name: tuple(i.dims) for i in onnx.load(path).graph.initializer
              if i.data_type in onnx_gradients.FLOAT_TYPES}
    got = dict(np.load(out)) if r.returncode == 0 else {}
    ok = (r.returncode == 0 and "256 samples" in r.stdout and set(got) == set(floats)
          and all(got[n].dtype == np.float32 and got[n].shape == floats[n] and np.isfinite(got[n]).all()
                  and np.abs(got[n]).max() > 0 for n in floats))
    check(ok, f"{Path(path).name}: {len(got)} of {len(floats)} float initializers, "
              f"shapes match, finite{stderr(r)}")


def check_unsupported(workdir):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
         helper.make_node("Hardmax", ["h"], ["y"], name="hardmax_node")], "hardmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.ones(12, np.float32))])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), workdir / "hardmax.onnx")
    np.save(workdir / "ex.npy", np.ones((8, 4), np.float32))
    np.save(workdir / "ey.npy", np.zeros(8, np.int64))
    out = workdir / "hardmax.npz"
    r = run_tool(workdir / "hardmax.onnx", "-o", out, "--input", f"x={workdir / 'ex.npy'}",
                 "--labels", workdir / "ey.npy")
    leftovers = [p.name for p in workdir.iterdir() if p.name.startswith("hardmax.npz")]
    check(r.returncode != 0 and "Hardmax" in r.stderr and "hardmax_node" in r.stderr and not leftovers,
          f"unsupported op: exit {r.returncode}, no output file {leftovers}, message "
          f"'{r.stderr.strip()}'")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workdir", required=True)
    p.add_argument("--model", default=str(UTILS.parent / "models" / "fashion_mnist_cnn.onnx"))
    args = p.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    check_mlp(workdir)
    check_bn_cnn(workdir)
    check_fashion_model(workdir, args.model)
    check_unsupported(workdir)
    if FAILED:
        print(f"gradients FAIL: {len(FAILED)} check(s) failed")
        return 1
    print("gradients OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
