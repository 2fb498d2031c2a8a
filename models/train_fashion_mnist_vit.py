#!/usr/bin/python3
"""Trains a tiny vision transformer on Fashion-MNIST and exports it to ONNX.

    models/train_fashion_mnist_vit.py [--epochs 8] [-o models/fashion_mnist_vit.onnx]

The network (71,946 parameters, 331 KB as ONNX, at the defaults):

    conv7x7 stride 7 (1->64): 16 patches of 64 features, + learned positions   [N,16,64]
    2 x torch.nn.TransformerEncoderLayer: pre-LayerNorm, 4 heads of 16,
        MLP 64->128->64 with GELU                                           [N,16,64]
    LayerNorm, mean over the patches, linear(64->10)                        [N,10]

The attention is torch.nn.MultiheadAttention's: one projection packs Q, K and V, and the heads
are reshaped into the batch dim; this is what `shears prune --granularity channel` prunes as
heads (and the MLP's neurons), while the residual stream, which LayerNorm normalizes over its
64 channels, stays.

Inputs are images scaled to [0, 1] (no normalization); the ONNX model (opset 13) maps `input`
[N, 1, 28, 28] to logits `output` [N, 10], with a dynamic batch dimension N. AdamW (weight
decay 0.05), one-cycle learning rate (peak 3e-3), batch 128, seed 0, 2 threads.

Result (8 epochs): test accuracy 0.8817 on the 10,000 test images, 396 s of training on 2 shared
cores; models/fashion_mnist_vit.onnx is its output.
"""
import argparse
import sys
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "utils"))
sys.path.insert(0, str(REPO / "models"))
import fashion_mnist  # noqa: E402
# The same training loop, evaluation and ONNX export (opset 13, [N, 1, 28, 28] -> [N, 10]) as
# the CNN's.
from train_fashion_mnist_cnn import finish, train  # noqa: E402


class FashionViT(nn.Module):
    def __init__(self, dim=64, heads=4, mlp=128, layers=2, patch=7):
        super().__init__()
        self.patches = nn.Conv2d(1, dim, patch, stride=patch)
        self.positions = nn.Parameter(torch.randn(1, (28 // patch) ** 2, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patches(x).flatten(2).transpose(1, 2) + self.positions
        return self.head(self.norm(self.encoder(x)).mean(1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("-o", "--output", type=Path, default=REPO / "models" / "fashion_mnist_vit.onnx")
    args = p.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    images, labels = fashion_mnist.load("train")
    x_train, y_train = torch.from_numpy(images).reshape(-1, 1, 28, 28), torch.from_numpy(labels)
    images, labels = fashion_mnist.load("test")
    x_test, y_test = torch.from_numpy(images).reshape(-1, 1, 28, 28), torch.from_numpy(labels)

    model = FashionViT()
    batch = 128
    steps = args.epochs * ((len(x_train) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    elapsed = train(model, opt, sched, x_train, y_train, x_test, y_test, args.epochs, batch)
    finish(model, x_test, y_test, elapsed, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
