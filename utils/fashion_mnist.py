"""Fashion-MNIST from Debian's dataset-fashion-mnist package.

    images, labels = load("test")  # float32 [10000, 784] in [0, 1], int64 [10000]

SHEARS_FASHION_MNIST overrides the directory holding the four idx .gz files."""
import gzip
import os
from pathlib import Path

import numpy as np

ROOT = Path(os.environ.get("SHEARS_FASHION_MNIST", "/usr/share/datasets/fashion-mnist"))
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
_PREFIX = {"train": "train", "test": "t10k"}


def _read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got, count = np.frombuffer(data, ">u4", 2)
    if got != magic:
        raise ValueError(f"{path}: bad idx magic {got:#x}")
    header = 16 if magic == 2051 else 8
    return np.frombuffer(data, np.uint8, offset=header), int(count)


def load(split):
    """Returns (images float32 [n, 784] scaled to [0, 1], labels int64 [n]) for 'train' or 'test'."""
    if split not in _PREFIX:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    prefix = ROOT / _PREFIX[split]
    pixels, n = _read_idx(f"{prefix}-images-idx3-ubyte.gz", 2051)
    labels, m = _read_idx(f"{prefix}-labels-idx1-ubyte.gz", 2049)
    if n != m or pixels.size != n * 784 or labels.size != n:
        raise ValueError(f"{prefix}-*: inconsistent image/label files")
    return (pixels.reshape(n, 784).astype(np.float32) / 255.0), labels.astype(np.int64)


def calibration_images(count, seed=0):
    """`count` training images drawn at random (the same ones for a seed), float32 [count, 784]:
    samples for calibration, never test images."""
    images, _ = load("train")
    return images[np.random.default_rng(seed).permutation(len(images))[:count]]
