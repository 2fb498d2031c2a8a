#!/usr/bin/python3
"""Exports test models to ONNX (opset 13) with seeded random weights.

For each model NAME writes DIR/NAME.onnx (input `input`, output `output`, dynamic batch `N`;
skipped when it exists) and DIR/NAME.input.npy (seeded random float32, batch B), then prints the
file size and the ONNX op types with their attribute values.

BatchNorm layers get random weight and bias, then running statistics measured on random
inputs, so no BatchNorm is an identity and activations keep a sane scale through deep nets.
Biases that torchvision initializes to zero are made random too.
"""
import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torchvision
from torch import nn

OPSET = 13


class MLP(nn.Sequential):
    """LeNet-300-100."""

    def __init__(self):
        super().__init__(nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, 10))


class SmallCNN(nn.Module):
    """conv+bn+relu stem, a residual block, maxpool, flatten, linear on [N,1,28,28].

    torch folds a BatchNorm that directly follows a Conv into the Conv when exporting in eval
    mode; `post_bn` follows the residual Add, so it survives as a BatchNormalization node."""

    def __init__(self, width=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU())
        self.block = nn.Sequential(
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False))
        self.post_bn = nn.BatchNorm2d(width)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(width * 14 * 14, 10)

    def forward(self, x):
        x = self.stem(x)
        x = torch.relu(self.post_bn(x + self.block(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class TinyTransformer(nn.Module):
    """Two torch.nn.TransformerEncoderLayer (4 heads of 8, MLP 64) on [N, 8, 32] features and a
    10-way head. `causal`: GPT-style, pre-LayerNorm, a causal mask, the last position
    classified; else BERT-style, post-LayerNorm, the positions averaged.

    The layers get their own random weights: TransformerEncoder deep-copies one layer, and
    torch.onnx would share the identical initializers between them."""

    def __init__(self, causal=False):
        super().__init__()
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True,
                                           norm_first=causal)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 10)
        self.causal = causal
        with torch.no_grad():
            for p in self.encoder.parameters():
                nn.init.xavier_uniform_(p) if p.dim() > 1 else nn.init.uniform_(p, -0.1, 0.1)

    def forward(self, x):
        # The causal mask from the sequence length (ConstantOfShape -> Trilu, opset 14).
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1]) if self.causal else None
        y = self.encoder(x, mask=mask)
        return self.head(y[:, -1] if self.causal else y.mean(1))


IMAGENET = (3, 224, 224)
MODELS = {
    "mlp": (MLP, (784,)),
    "cnn": (SmallCNN, (1, 28, 28)),
    "resnet18": (lambda: torchvision.models.resnet18(weights=None), IMAGENET),
    "resnet50": (lambda: torchvision.models.resnet50(weights=None), IMAGENET),
    "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), IMAGENET),
    "squeezenet1_1": (lambda: torchvision.models.squeezenet1_1(weights=None), IMAGENET),
    "vgg11": (lambda: torchvision.models.vgg11(weights=None), IMAGENET),
}
# torchvision's ViT at a test's size: class token expanded over the batch,
# attention with heads reshaped from x.shape, LayerNorm and GELU decomposed.
MODELS["vit_tiny"] = (
    lambda: torchvision.models.vision_transformer.VisionTransformer(
        image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=32, mlp_dim=64,
        num_classes=10),
    (3, 32, 32))
# torchvision's Swin at a test's size: 56x56 images make 14x14 then 7x7 patch grids, which
# F.pad pads to the 4x4 windows (pads reversed by a Slice with step -1), and the shifted
# windows' attention mask is written by slice assignment (ScatterND).
MODELS["swin_tiny"] = (
    lambda: torchvision.models.swin_transformer.SwinTransformer(
        patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4],
        num_classes=10),
    (3, 56, 56))
MODELS["bert_tiny"] = (TinyTransformer, (8, 32))
MODELS["gpt_tiny"] = (lambda: TinyTransformer(causal=True), (8, 32))
# Models whose export needs a later opset than asked (torch exports triu from opset 14).
MIN_OPSET = {"gpt_tiny": 14}
# One classifier of each torchvision family (utils/check_torchvision.py).
TORCHVISION = ["alexnet", "convnext_tiny", "densenet121", "efficientnet_b0",
               "efficientnet_v2_s", "googlenet", "inception_v3", "maxvit_t", "mnasnet0_5",
               "mobilenet_v2", "mobilenet_v3_small", "regnet_x_400mf", "regnet_y_400mf",
               "resnet18", "resnext50_32x4d", "shufflenet_v2_x0_5", "squeezenet1_0", "swin_t",
               "vgg11_bn", "vit_b_32", "wide_resnet50_2"]
class Segmentation(nn.Module):
    """A torchvision segmentation model's "out" map (its forward returns a dict)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


# Segmentation models upsample their maps back to the input's size with bilinear Resize.
SEGMENTATION = ["lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large"]
for _name in SEGMENTATION:
    MODELS[_name] = (lambda n=_name: Segmentation(getattr(torchvision.models.segmentation, n)(
        weights=None, weights_backbone=None, num_classes=4)), (3, 128, 128))
for _name in TORCHVISION:
    if _name not in MODELS:
        MODELS[_name] = (lambda n=_name: getattr(torchvision.models, n)(weights=None),
                         (3, 299, 299) if _name == "inception_v3" else IMAGENET)


def build(name):
    """The model `name` in eval mode with seeded random weights; returns (model, sample shape)."""
    ctor, shape = MODELS[name]
    torch.manual_seed(0)
    model = ctor()
    with torch.no_grad():
        # torchvision zero-initializes some biases; torch.onnx would then share the identical
        # initializers between layers through Identity nodes, which a trained model never has.
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None and not m.bias.any():
                m.bias.uniform_(-0.1, 0.1)
            # ViT zero-initializes its head: every output would be the bias.
            if isinstance(m, (nn.Conv2d, nn.Linear)) and not m.weight.any():
                nn.init.kaiming_uniform_(m.weight, a=5 ** 0.5)
        # Random affine parameters, then running statistics measured on random inputs: every
        # BatchNorm is far from an identity, yet activations keep a sane scale in deep nets.
        bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        for bn in bns:
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        if bns:
            model.train()
            for _ in range(2):
                model(torch.randn(8, *shape))
        for bn in bns:
            bn.momentum = 0.1
    return model.eval(), shape


def export(model, shape, path, opset=OPSET):
    """Exports `model` (eval mode) with input `input` [N, *shape] and output `output`."""
    torch.onnx.export(model, torch.zeros(2, *shape), str(path), opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      do_constant_folding=True)


def _attr_value(a):
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list):
        return "[" + ",".join(str(x) for x in v) + "]"
    if isinstance(v, onnx.TensorProto):
        arr = numpy_helper.to_array(v)
        return f"tensor{list(arr.shape)}={arr.tolist()}" if arr.size <= 4 else f"tensor{list(arr.shape)}"
    return f"{v:.7g}" if isinstance(v, float) else str(v)


def summarize(path):
    """Lines describing op types, their counts and the values each attribute takes."""
    model = onnx.load(str(path))
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    consts = {n.output[0]: n for n in g.node if n.op_type == "Constant"}
    counts = Counter(n.op_type for n in g.node)
    attrs = defaultdict(lambda: defaultdict(set))
    for n in g.node:
        for a in n.attribute:
            attrs[n.op_type][a.name].add(_attr_value(a))
        if n.op_type in ("Clip", "Reshape", "Gather", "Unsqueeze", "Concat", "Pad"):
            for i, x in enumerate(n.input[1:], 1):
                src = ("initializer" if x in inits else "Constant" if x in consts else
                       "empty" if not x else "computed")
                attrs[n.op_type][f"input{i}"].add(src)
    lines = [f"  ir_version={model.ir_version} opset={[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]}"
             f" initializers={len(inits)}"]
    for op in sorted(counts):
        detail = " ".join(f"{k}={'|'.join(sorted(v))}" for k, v in sorted(attrs[op].items()))
        lines.append(f"  {op} x{counts[op]} {detail}".rstrip())
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="output directory")
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of: %(default)s")
    p.add_argument("--batch", type=int, default=2, help="batch of the sample input (default 2)")
    p.add_argument("--opset", type=int, default=OPSET, help="ONNX opset (default %(default)s)")
    args = p.parse_args()
    names = [n for n in args.models.split(",") if n]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        p.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for name in names:
        path = args.out / f"{name}.onnx"
        shape = MODELS[name][1]
        if path.exists():
            status = "cached"
        else:
            model, shape = build(name)
            tmp = path.with_suffix(".onnx.tmp")
            export(model, shape, tmp, max(args.opset, MIN_OPSET.get(name, args.opset)))
            onnx.checker.check_model(str(tmp), full_check=True)
            tmp.rename(path)
            status = "exported"
        rng = np.random.default_rng(0)
        np.save(args.out / f"{name}.input.npy",
                rng.standard_normal((args.batch, *shape), dtype=np.float32))
        print(f"{name}: {path} {path.stat().st_size} bytes ({status})")
        print("\n".join(summarize(path)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
