#!/usr/bin/python3
"""Trains LeNet-300-100 (784-300-100-10, ReLU) on Fashion-MNIST and exports it to ONNX.

    models/train_fashion_mnist.py [--epochs 10] [-o models/fashion_mnist_mlp.onnx]

Inputs are flattened and scaled to [0, 1]; the ONNX model (opset 13) maps `input` [N, 784] to
logits `output` [N, 10]. Adam, lr 1e-3 with cosine decay, batch 128, seed 0, 2 threads.

Result (10 epochs): test accuracy 0.8883 on the 10,000 test images (the same through ONNX
Runtime), about 40 s of training on 2 cores; the exported file is byte-for-byte reproducible.
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "utils"))
import fashion_mnist  # noqa: E402
from make_models import MLP, export  # noqa: E402


def forward(model, x):
    """model(x), with each Linear run as a 1x1 convolution: Debian's torch does matmuls with the
    reference BLAS, convolutions with oneDNN, about 10x faster."""
    for layer in model:
        if isinstance(layer, nn.Linear):
            x = F.conv2d(x[:, :, None, None], layer.weight[:, :, None, None], layer.bias).flatten(1)
        else:
            x = layer(x)
    return x


def accuracy(model, x, y):
    with torch.no_grad():
        return (forward(model, x).argmax(1) == y).float().mean().item()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("-o", "--output", type=Path, default=REPO / "models" / "fashion_mnist_mlp.onnx")
    args = p.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(2)
    x_train, y_train = map(torch.from_numpy, fashion_mnist.load("train"))
    x_test, y_test = map(torch.from_numpy, fashion_mnist.load("test"))

    model = MLP()
    batch = 128
    steps = args.epochs * ((len(x_train) + batch - 1) // batch)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    loss_fn = nn.CrossEntropyLoss()
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        for idx in torch.randperm(len(x_train)).split(batch):
            opt.zero_grad()
            loss_fn(forward(model, x_train[idx]), y_train[idx]).backward()
            opt.step()
            sched.step()
        model.eval()
        print(f"epoch {epoch + 1}: test accuracy {accuracy(model, x_test, y_test):.4f}")
    elapsed = time.time() - start

    export(model, (784,), args.output)
    print(f"test accuracy {accuracy(model, x_test, y_test):.4f} on {len(x_test)} images, "
          f"training {elapsed:.1f} s; wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
