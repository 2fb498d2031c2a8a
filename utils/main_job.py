#!/usr/bin/python3
"""Prune, compile and measure: the main job's sweep over granularity and sparsity.

For each model (default: the embedded Fashion-MNIST MLP and CNN), for each
granularity (unstructured with one global threshold, output channels per
layer) and sparsity, it prunes the imported model with the `shears-prune`
pipeline (magnitude criterion, the classifier layer kept dense), exports it to
ONNX, counts its parameters, JIT-compiles it, measures its accuracy on the
10,000 Fashion-MNIST test images (with per-class and macro precision, recall
and F1 and the confusion matrix) and its median latency at batch 1 and 256
against the dense model. Then, for accuracy only, the same sweep for every
criterion: magnitude, l2, random, taylor (gradients of 2048 training images
from utils/onnx_gradients.py) and activation (input norms of 1024 training
images from `shears calibrate`). Then quantization: `shears quantize` with
int8 weights only and with calibrated int8 inputs (minmax, percentile,
entropy on 1024 training images), and the 50%-channel-pruned model
quantized (prune, then quantize), and int4 (groups of 64) and binary weights,
without and with quantization-aware training (utils/finetune.py --quantize):
accuracy, file size, latency. Then Deep Compression's
pack: pruned (unstructured, global, activation criterion) at 50-90%, packed by
`shears pack` with 4- and 5-bit weight sharing and Huffman coding, and the
fine-tuned models below packed with 3 and 4 bits: accuracy, bytes and the
ratio to the dense file. Then reconstruction: every layer
pruned at the same sparsity (and 2:4) by magnitude, activation (Wanda) and
obs (SparseGPT, Gram matrices of 2048 training images). Then low-rank
factorization (`shears lowrank`) under parameter budgets, by plain and
data-aware SVD, and Tucker-2 where a model has k x k convolutions. Then
per-layer sparsities allocated from `shears sensitivity` under a parameter
budget against one sparsity for all, and for channels under a latency budget
(the models timed at batch 8, one thread) against one sparsity as fast. Then
fine-tuning (utils/finetune.py, 3 epochs) of the MLP at 92% and the CNN at 70%
channels on fractions of the training set. Then, with the default models, the
tiny vision transformer (models/fashion_mnist_vit.onnx): attention heads and
MLP neurons pruned, alone and together (accuracy, size, latency), and Wanda
against magnitude on its linear layers; and the
recommender (models/recommender.onnx) pruned, by recall@10, NDCG@10 and hit
rate. Prints
the tables and writes them as JSON and a PNG plot into the output
directory.

    PYTHONPATH=build/python /usr/bin/python3 utils/main_job.py [MODEL.onnx ...] [--out out/]
"""
import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "build" / "python"))
sys.path.insert(0, str(REPO / "utils"))

import shears  # noqa: E402
import fashion_mnist  # noqa: E402
import metrics  # noqa: E402

DEFAULT_MODELS = [REPO / "models" / "fashion_mnist_mlp.onnx", REPO / "models" / "fashion_mnist_cnn.onnx"]
# The tiny ViT of models/train_fashion_mnist_vit.py: 2 layers of 4 heads of 16 features.
TRANSFORMER = REPO / "models" / "fashion_mnist_vit.onnx"
HEAD_FEATURES = 16
TRANSFORMER_SPARSITIES = [0.25, 0.5, 0.75]
GRANULARITIES = ["unstructured", "channel"]
SPARSITIES = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9]
CRITERIA = ["magnitude", "l2", "random", "taylor", "activation"]
BIN = REPO / "build" / "bin"
# shears-prune is insert-masks -> fold-masks -> eliminate-dead-neurons ->
# canonicalize; the expansion serves where the pipeline is not registered.
PRUNE = "shears-prune{{{options}}}"
PRUNE_EXPANDED = ("shears-insert-masks{{{options}}},shears-fold-masks,"
                  "shears-eliminate-dead-neurons,canonicalize")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def report(module, tmp):
    """The shears-report of `module` (not changed) as a dict."""
    path = os.path.join(tmp, "report.json")
    module.clone().run_pipeline(f'shears-report{{table=false json="{path}"}}')
    with open(path) as f:
        return json.load(f)


def onnx_bytes(module, tmp):
    path = os.path.join(tmp, "model.onnx")
    module.export_onnx(path)
    return os.path.getsize(path)


class Prune:
    """Runs shears-prune (or its expansion, said once, where the Python
    package lacks the pipeline) on a clone of a module."""

    def __init__(self, template=None):
        self.template = template or PRUNE
        self.used = self.template

    def __call__(self, module, **options):
        text = " ".join(f"{k}={v}" for k, v in options.items())
        pruned = module.clone()
        try:
            pruned.run_pipeline(self.used.format(options=text))
        except shears.Error as e:
            if self.used != PRUNE or "does not refer to a registered pass" not in str(e):
                raise
            log("note: shears-prune is not registered in the Python package; "
                "running its passes one by one")
            self.used = PRUNE_EXPANDED
            pruned.run_pipeline(self.used.format(options=text))
        return pruned


def median_latency_ms(model, x, budget_s, max_runs, warmup=3):
    """Median wall time of model(x) in ms over up to `max_runs` runs or
    about `budget_s` seconds (at least 3 runs)."""
    for _ in range(warmup):
        model(x)
    times = []
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < 3 or time.perf_counter() - start < budget_s):
        t = time.perf_counter()
        model(x)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times)), len(times)


class Data:
    """Test images shaped for a model's input, or random inputs for a model
    that does not take Fashion-MNIST images (accuracy is then unknown)."""

    def __init__(self):
        self.images, self.labels = fashion_mnist.load("test")

    def for_model(self, spec):
        shape = tuple(spec.shape)
        if spec.dtype == np.float32 and shape[1:] in [(784,), (1, 28, 28), (28, 28)]:
            return self.images.reshape((-1,) + shape[1:]), self.labels
        rng = np.random.default_rng(0)
        static = tuple(d if d is not None else 1 for d in shape[1:])
        return rng.standard_normal((256,) + static).astype(spec.dtype), None


def percent(accuracy, sign="%"):
    """An accuracy in [0, 1] as a table cell: "88.83%", or "-" where unknown."""
    return "-" if accuracy is None else f"{accuracy * 100:.2f}{sign}"


def predictions_of(model, x):
    return np.concatenate([model(x[i:i + 2000]) for i in range(0, len(x), 2000)]).argmax(axis=1)


def accuracy_of(model, x, labels):
    if labels is None:
        return None
    return float((predictions_of(model, x) == labels).mean())


def evaluate(model, x, labels):
    """Accuracy, per-class and macro precision / recall / F1 and the
    confusion matrix (utils/metrics.py), or None without labels."""
    if labels is None:
        return None
    return metrics.classification(labels, predictions_of(model, x), len(fashion_mnist.CLASSES))


def side_inputs(path, spec, tmp):
    """Options that the taylor and activation criteria need, computed on
    training images: {criterion: option text}; a criterion whose side input
    cannot be made is left out, said on stderr."""
    import subprocess
    name = Path(path).stem
    options = {}
    grads = os.path.join(tmp, f"{name}.grads.npz")
    proc = subprocess.run([sys.executable, str(REPO / "utils" / "onnx_gradients.py"), str(path),
                           "-o", grads, "--samples", "2048", "--quiet"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode == 0:
        options["taylor"] = f"gradients={grads}"
    else:
        log(f"   taylor left out: {proc.stdout.strip()}")
    calib = os.path.join(tmp, f"{name}.calib.npy")
    np.save(calib, fashion_mnist.calibration_images(1024).reshape((-1,) + tuple(spec.shape[1:])))
    norms = os.path.join(tmp, f"{name}.norms.npz")
    proc = subprocess.run([str(BIN / "shears"), "calibrate", str(path), "--input",
                           f"{spec.name}={calib}", "-o", norms],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode == 0:
        options["activation"] = f"activations={norms}"
    else:
        log(f"   activation left out: {proc.stdout.strip()}")
    return options


def criteria_sweep(module, spec, exclude, data, prune, args, extra):
    """Test accuracy per criterion x granularity x sparsity (no timing) of
    `module`, whose input is `spec`; `extra` is side_inputs' options."""
    x, labels = data.for_model(spec)
    rows = []
    for criterion in args.criteria:
        if criterion in ("taylor", "activation") and criterion not in extra:
            continue
        for granularity in args.granularities:
            accuracies = {}
            for sparsity in args.sparsities:
                if sparsity == 0.0:
                    continue
                options = {"sparsity": sparsity, "criterion": criterion,
                           "granularity": granularity,
                           "scope": "global" if granularity == "unstructured" else "layer",
                           "exclude": f'"{exclude}"'}
                if criterion in extra:
                    key, value = extra[criterion].split("=", 1)
                    options[key] = value
                model = shears.compile(prune(module, **options))
                accuracies[sparsity] = accuracy_of(model, x, labels)
            rows.append({"criterion": criterion, "granularity": granularity,
                         "accuracy": accuracies})
            acc = " ".join(percent(a, "") for a in accuracies.values())
            log(f"   {criterion:>10} {granularity:>12}: {acc}")
    return rows


def time_all(entries, args):
    """Median latencies of every compiled model at batch 1 and 256. The
    machine may be busier at one moment than another (others build on it):
    the models take turns, in a shuffled order, over several rounds and each
    keeps its fastest round, so that a burst of load does not land on one
    configuration."""
    for row, _, _ in entries:
        row["latency_b1_ms"] = row["latency_b256_ms"] = float("inf")
        row["runs_b1"] = row["runs_b256"] = 0
    order = list(entries)
    rng = np.random.default_rng(0)
    for _ in range(args.rounds):
        # A different order each round: no model always runs first or after
        # the same neighbour.
        rng.shuffle(order)
        for row, model, x in order:
            for batch, max_runs in ((1, 1000), (256, 100)):
                xb = np.ascontiguousarray(x[:batch])
                ms, runs = median_latency_ms(model, xb, args.budget / args.rounds, max_runs)
                row[f"latency_b{batch}_ms"] = min(row[f"latency_b{batch}_ms"], ms)
                row[f"runs_b{batch}"] += runs


def sweep(path, data, prune, args, tmp):
    name = Path(path).stem
    log(f"== {name}: importing {path}")
    module = shears.import_onnx(path)
    dense_report = report(module, tmp)
    last = dense_report["layers"][-1]["name"]
    exclude = "^" + re.escape(last) + "$"
    entries = []

    def add(granularity, sparsity, pruned):
        started = time.perf_counter()
        r = report(pruned, tmp)["totals"]
        model = shears.compile(pruned)
        x, labels = data.for_model(model.inputs[0])
        evaluation = evaluate(model, x, labels)
        row = {"model": name, "granularity": granularity, "sparsity": sparsity,
               "parameters": r["parameters"], "nonzero_parameters": r["nonzero_parameters"],
               "onnx_bytes": onnx_bytes(pruned, tmp), "macs_per_sample": r["macs_per_sample"],
               "accuracy": evaluation and evaluation["accuracy"],
               "macro_f1": evaluation and evaluation["macro_f1"], "metrics": evaluation}
        acc = percent(row["accuracy"])
        log(f"   {granularity:>12} {sparsity:4.2f}: {row['nonzero_parameters']:>8} nonzero, "
            f"{row['onnx_bytes']:>8} bytes, accuracy {acc} ({time.perf_counter() - started:.1f} s)")
        entries.append((row, model, x))

    add("dense", 0.0, module)
    for granularity in args.granularities:
        for sparsity in args.sparsities:
            options = {"sparsity": sparsity, "criterion": "magnitude", "granularity": granularity,
                       "scope": "global" if granularity == "unstructured" else "layer",
                       "exclude": f'"{exclude}"'}
            add(granularity, sparsity, prune(module, **options))
    log(f"   timing {len(entries)} models at batch 1 and 256, {args.rounds} rounds")
    time_all(entries, args)
    rows = [row for row, _, _ in entries]
    dense = rows[0]
    for r in rows:
        r["speedup_b1"] = dense["latency_b1_ms"] / r["latency_b1_ms"]
        r["speedup_b256"] = dense["latency_b256_ms"] / r["latency_b256_ms"]
    spec = entries[0][1].inputs[0]
    entries.clear()
    log("   accuracy per criterion, granularity and sparsity")
    extra = side_inputs(path, spec, tmp)
    criteria = criteria_sweep(module, spec, exclude, data, prune, args, extra)
    log("   quantization")
    quantization = quantize_sweep(path, module, spec, data, prune, exclude, args, tmp)
    log("   Deep Compression pack")
    pack = pack_sweep(path, module, data, prune, extra, tmp)
    log("   reconstruction (every layer at one sparsity)")
    reconstruction = reconstruction_sweep(module, spec, data, prune, tmp)
    log("   low-rank factorization")
    low_rank = low_rank_sweep(module, spec, data, tmp)
    log("   allocation from sensitivity")
    allocation = allocation_sweep(module, spec, data, prune, tmp)
    log("   fine-tuning")
    fine_tuning = fine_tune_sweep(path, module, spec, data, tmp)
    if pack is not None:
        pack += pack_fine_tuned(path, fine_tuning, data, tmp)
    if fine_tuning:
        fine_tuning.pop("tuned")  # a file in tmp, gone after the run
    return {"model": name, "path": str(path), "input_onnx_bytes": os.path.getsize(path),
            "excluded": last, "dense_accuracy": dense["accuracy"], "dense_parameters":
            dense["parameters"], "dense_macs": dense["macs_per_sample"], "rows": rows,
            "criteria": criteria, "quantization": quantization, "pack": pack,
            "reconstruction": reconstruction, "low_rank": low_rank, "allocation": allocation,
            "fine_tuning": fine_tuning}


def transformer_sweep(path, data, prune, args, tmp):
    """The tiny ViT: attention heads and MLP neurons pruned (channel granularity, per layer),
    each alone and both, by magnitude and by activation (input norms of 1024 training images),
    with test accuracy, parameters, file bytes, the heads and neurons kept per layer and
    latency; then Wanda (activation criterion) against magnitude, unstructured per layer, on
    every linear layer but the classifier."""
    log(f"== {Path(path).stem}: importing {path}")
    module = shears.import_onnx(path)
    dense_report = report(module, tmp)
    classifier = "^" + re.escape(dense_report["layers"][-1]["name"]) + "$"
    spec = shears.compile(module).inputs[0]
    x, labels = data.for_model(spec)
    entries = []

    def add(kind, sparsity, pruned):
        layers = report(pruned, tmp)["layers"]
        model = shears.compile(pruned)
        row = {"pruned": kind, "sparsity": sparsity,
               "parameters": sum(l["parameters"] for l in layers),
               "onnx_bytes": onnx_bytes(pruned, tmp),
               "heads": [l["output_channels"] // (3 * HEAD_FEATURES) for l in layers
                         if l["name"].endswith("self_attn/MatMul")],
               "neurons": [l["output_channels"] for l in layers if "linear1" in l["name"]],
               "accuracy": accuracy_of(model, x, labels)}
        log(f"   {kind:>14} {sparsity:4.2f}: heads {row['heads']}, neurons {row['neurons']}, "
            f"accuracy {percent(row['accuracy'])}")
        entries.append((row, model, x))

    extra = side_inputs(path, spec, tmp)
    add("dense", 0.0, module)
    # Heads are the packed Q/K/V projections' channels, neurons the MLP's first layer's; the
    # residual stream (LayerNorm normalizes it over its channels) stays either way. The same
    # shapes chosen by activation (input norms, and what each channel carries into the layer
    # that reads it) give a second accuracy.
    for kind, exclude in (("heads", "linear1"), ("neurons", "self_attn"), ("heads+neurons", None)):
        for sparsity in TRANSFORMER_SPARSITIES:
            pattern = classifier if exclude is None else f"{exclude}|{classifier}"
            options = {"sparsity": sparsity, "granularity": "channel", "scope": "layer",
                       "exclude": f'"{pattern}"'}
            add(kind, sparsity, prune(module, criterion="magnitude", **options))
            if "activation" in extra:
                key, value = extra["activation"].split("=", 1)
                pruned = prune(module, criterion="activation", **options, **{key: value})
                entries[-1][0]["accuracy_activation"] = accuracy_of(shears.compile(pruned), x,
                                                                    labels)
    time_all(entries, args)
    rows = [row for row, _, _ in entries]
    for r in rows:
        r["speedup_b1"] = rows[0]["latency_b1_ms"] / r["latency_b1_ms"]
        r["speedup_b256"] = rows[0]["latency_b256_ms"] / r["latency_b256_ms"]
    entries.clear()
    unstructured = []
    for criterion in ("magnitude", "activation"):
        if criterion != "magnitude" and criterion not in extra:
            continue
        accuracies = {}
        for sparsity in TRANSFORMER_SPARSITIES:
            options = {"sparsity": sparsity, "criterion": criterion, "granularity": "unstructured",
                       "scope": "layer", "exclude": f'"{classifier}"'}
            if criterion in extra:
                key, value = extra[criterion].split("=", 1)
                options[key] = value
            accuracies[sparsity] = accuracy_of(shears.compile(prune(module, **options)), x, labels)
        unstructured.append({"criterion": criterion, "accuracy": accuracies})
        log(f"   {criterion:>14} unstructured: "
            + " ".join(percent(a, "") for a in accuracies.values()))
    return {"model": Path(path).stem, "path": str(path), "rows": rows,
            "unstructured": unstructured}


def print_transformer(result):
    if not result:
        return
    rows = result["rows"]
    print(f"\n{result['model']} ({result['path']}): attention heads (4 per layer, "
          f"{HEAD_FEATURES} features each) and MLP neurons (128 per layer) pruned per layer, "
          "by magnitude and by activation (the same shapes); the residual stream stays "
          "(LayerNorm normalizes it)")
    header = (f"{'pruned':<15}{'sparsity':>8}{'heads':>9}{'neurons':>11}{'params':>9}"
              f"{'file bytes':>12}{'magnitude':>11}{'activation':>12}{'b1 ms':>9}{'b256 ms':>10}"
              f"{'speedup b1':>12}{'speedup b256':>14}")
    print(header)
    print("-" * len(header))
    for r in rows:
        heads = ",".join(map(str, r["heads"]))
        neurons = ",".join(map(str, r["neurons"]))
        print(f"{r['pruned']:<15}{r['sparsity']:>8.2f}{heads:>9}{neurons:>11}{r['parameters']:>9}"
              f"{r['onnx_bytes']:>12}{percent(r['accuracy']):>11}"
              f"{percent(r.get('accuracy_activation', r['accuracy'] if r['sparsity'] == 0 else None)):>12}"
              f"{r['latency_b1_ms']:>9.3f}"
              f"{r['latency_b256_ms']:>10.3f}{r['speedup_b1']:>11.2f}x{r['speedup_b256']:>13.2f}x")
    print(f"\n{result['model']}: unstructured per layer (every linear layer but the classifier), "
          "test accuracy")
    header = f"{'criterion':<12}" + "".join(f"{s:>9.2f}" for s in TRANSFORMER_SPARSITIES)
    print(header)
    print("-" * len(header))
    for r in result["unstructured"]:
        name = "wanda" if r["criterion"] == "activation" else r["criterion"]
        print(f"{name:<12}" + "".join(f"{percent(a):>9}" for a in r["accuracy"].values()))


def print_reconstruction(result):
    rows = result.get("reconstruction")
    if not rows:
        return
    dense = result["dense_accuracy"]
    labels = list(rows[0]["accuracy"])
    print(f"\n{result['model']}: every layer pruned at one sparsity, post-training "
          f"(obs: SparseGPT on the Gram matrices of 2048 training images; activation: Wanda on "
          f"the same images; obs allocated: obs at per-layer sparsities allocated from its "
          f"sensitivity on 2000 other training images under the same parameter budget; "
          f"channel: output channels by magnitude per layer, global ch.: by one threshold "
          f"over every channel group, +refit: the "
          f"layers reading them refit by least squares on the same images); test accuracy (%) "
          f"and the change from dense {percent(dense)}")
    header = f"{'criterion':<17}" + "".join(f"{label:>16}" for label in labels)
    print(header)
    print("-" * len(header))
    for r in rows:
        cells = "".join(
            f"{'-':>16}" if r["accuracy"].get(label) is None else
            f"{r['accuracy'][label] * 100:>8.2f} ({(r['accuracy'][label] - dense) * 100:+5.2f})"
            for label in labels)
        print(f"{r['criterion']:<17}{cells}")


def print_low_rank(result):
    rows = result.get("low_rank")
    if not rows:
        return
    dense = result["dense_accuracy"]
    print(f"\n{result['model']}: low-rank factorization (shears lowrank --rank-by params; "
          f"data-aware: whitened by the Gram matrices of 2048 training images); dense "
          f"{result['dense_parameters']} parameters, {result['dense_macs']} MACs/sample, "
          f"accuracy {percent(dense)}")
    header = (f"{'budget':>7} {'method':<16}{'parameters':>11}{'of dense':>9}{'MACs':>10}"
              f"{'accuracy':>10}{'Δ points':>10}  ranks")
    print(header)
    print("-" * len(header))
    for r in rows:
        delta = "-" if r["accuracy"] is None else f"{(r['accuracy'] - dense) * 100:+.2f}"
        ranks = ", ".join(f"{k} {v}" for k, v in r["ranks"].items())
        print(f"{r['budget']:>7.2f} {r['method']:<16}{r['parameters']:>11}"
              f"{r['parameters'] / result['dense_parameters']:>9.2f}{r['macs_per_sample']:>10}"
              f"{percent(r['accuracy']):>10}{delta:>10}  {ranks}")


RECONSTRUCTION_SPARSITIES = [0.5, 0.6, 0.7, 0.8, 0.9]
RECONSTRUCTION_CRITERIA = ["magnitude", "activation", "obs"]
LOW_RANK_BUDGETS = [0.75, 0.5, 0.35, 0.25]


def calibration_for(spec, count):
    """`count` training images shaped for the model's input."""
    return fashion_mnist.calibration_images(count).reshape((-1,) + tuple(spec.shape[1:]))


def reconstruction_sweep(module, spec, data, prune, tmp):
    """Every layer (the classifier too) pruned at one sparsity, or 2:4, by
    magnitude, activation (Wanda: input norms) and obs (SparseGPT: the
    weights kept updated through the inverse Hessian), post-training, on
    2048 training images: test accuracy per criterion and sparsity."""
    x, labels = data.for_model(spec)
    calibration = calibration_for(spec, 2048)
    side = {"activation": ("activations", shears.calibrate(module, calibration)),
            "obs": ("hessians", shears.calibrate(module, calibration, gram=True))}
    paths = {}
    for criterion, (option, arrays) in side.items():
        paths[criterion] = os.path.join(tmp, f"{criterion}.npz")
        np.savez(paths[criterion], **arrays)
    settings = [(f"{s:.0%}", {"sparsity": s}) for s in RECONSTRUCTION_SPARSITIES]
    settings.append(("2:4", {"granularity": '"n:m"', "n": 2, "m": 4}))
    rows = []
    for criterion in RECONSTRUCTION_CRITERIA:
        accuracies = {}
        for label, options in settings:
            extra = {side[criterion][0]: paths[criterion]} if criterion in side else {}
            pruned = prune(module, criterion=criterion, **options, **extra)
            accuracies[label] = accuracy_of(shears.compile(pruned), x, labels)
        rows.append({"criterion": criterion, "accuracy": accuracies})
        log(f"   {criterion:>10}: " + " ".join(percent(a, "") for a in accuracies.values()))
    # obs with per-layer sparsities allocated from its own sensitivity
    # curves (2000 other training images with their labels).
    train_x, train_y = fashion_mnist.load("train")
    pick = np.random.default_rng(0).choice(len(train_x), 2000, replace=False)
    curves = shears.sensitivity(module, train_x[pick].reshape((-1,) + tuple(spec.shape[1:])),
                                train_y[pick].astype(np.int64),
                                sparsities=[0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
                                prune_options=f'criterion=obs hessians="{paths["obs"]}"')
    accuracies = {}
    for sparsity in RECONSTRUCTION_SPARSITIES:
        pruned = shears.prune(module, criterion="obs", hessians=paths["obs"],
                              budget=f"params={1 - sparsity:.4f}", sensitivity=curves)
        accuracies[f"{sparsity:.0%}"] = accuracy_of(shears.compile(pruned), x, labels)
    rows.append({"criterion": "obs allocated", "accuracy": accuracies})
    log("   obs allocated: " + " ".join(percent(a, "") for a in accuracies.values()))
    # Channels (magnitude, per layer or one threshold over every channel
    # group, as network slimming prunes), then the layers that read them
    # refit by least squares with an intercept (ThiNet; bias compensation).
    for label, scope, refit in (("channel", "layer", False), ("channel+refit", "layer", True),
                                ("global ch.", "global", False),
                                ("global ch.+refit", "global", True)):
        accuracies = {}
        for sparsity in RECONSTRUCTION_SPARSITIES:
            options = {"reconstruct": "true", "hessians": paths["obs"]} if refit else {}
            pruned = prune(module, sparsity=sparsity, granularity="channel", scope=scope,
                           **options)
            accuracies[f"{sparsity:.0%}"] = accuracy_of(shears.compile(pruned), x, labels)
        rows.append({"criterion": label, "accuracy": accuracies})
        log(f"   {label:>16}: " + " ".join(percent(a, "") for a in accuracies.values()))
    return rows


def low_rank_sweep(module, spec, data, tmp):
    """`shears lowrank` with one parameter budget over all layers (the
    fraction of the factored layers' parameters kept), by SVD, by
    data-aware SVD (Gram matrices of 2048 training images) and, for a model
    with k x k convolutions, by Tucker-2: test accuracy, parameters, MACs
    and the rank of each layer (Tucker-2: output/input ranks)."""
    x, labels = data.for_model(spec)
    grams = shears.calibrate(module, calibration_for(spec, 2048), gram=True)
    methods = [("SVD", "svd", None), ("data-aware SVD", "svd", grams)]
    if any(layer["op"] == "shears.conv2d" and np.prod(layer["weight_shape"][2:]) > 1
           for layer in report(module, tmp)["layers"]):
        methods.append(("Tucker-2", "tucker2", None))
    rows = []
    for budget in LOW_RANK_BUDGETS:
        for method, decomposition, statistics in methods:
            factored = shears.low_rank(module, rank_by="params", params=budget,
                                       decomposition=decomposition, statistics=statistics)
            totals = report(factored, tmp)
            ranks = {}
            for layer in totals["layers"]:
                base, _, part = layer["name"].rpartition(".")
                if part == "core":
                    ranks[base] = f"{layer['output_channels']}/{layer['input_channels']}"
                elif part == "v" and base not in ranks:
                    ranks[base] = layer["output_channels"]
            row = {"budget": budget, "method": method,
                   "parameters": totals["totals"]["parameters"],
                   "macs_per_sample": totals["totals"]["macs_per_sample"],
                   "ranks": ranks,
                   "accuracy": accuracy_of(shears.compile(factored), x, labels)}
            log(f"   {method:>15} params={budget}: {row['parameters']} parameters, "
                f"accuracy {percent(row['accuracy'])}")
            rows.append(row)
    return rows


# (model name, what is pruned, shears prune options, data fractions to
# fine-tune on, finetune.py options: the best of the settings tried by hand
# in docs/Reconstruction.md).
FINE_TUNING = {
    "fashion_mnist_mlp": ("92% unstructured, global",
                          ["--sparsity", "0.92", "--scope", "global"],
                          [(0.1, "random"), (0.1, "loss"), (0.3, "random"), (1.0, "random")],
                          ["--lr", "1e-2", "--batch", "64", "--temperature", "2"]),
    "fashion_mnist_cnn": ("70% channels, global",
                          ["--sparsity", "0.7", "--granularity", "channel", "--scope", "global"],
                          [(0.1, "random"), (1.0, "random")],
                          ["--lr", "2e-3", "--batch", "16", "--distill", "0.2"]),
}


def fine_tune_sweep(path, module, spec, data, tmp):
    """A pruned model fine-tuned for 3 epochs (utils/finetune.py: masks
    kept, distillation from the dense model, Adam with a cosine decay, the
    model's learning rate and batch from FINE_TUNING) on a fraction of the
    training set chosen at random or by per-sample loss: test accuracy
    against the fraction."""
    import subprocess
    name = Path(path).stem
    if name not in FINE_TUNING or data.for_model(spec)[1] is None:
        return None
    what, options, fractions, training = FINE_TUNING[name]
    pruned = os.path.join(tmp, f"{name}.finetune.pruned.onnx")
    full = None  # the model fine-tuned on all the data
    calib = os.path.join(tmp, f"{name}.finetune.calib.npy")
    np.save(calib, calibration_for(spec, 2048))
    command = [str(BIN / "shears"), "prune", str(path), *options, "-o", pruned]
    if "--reconstruct" in options:
        command += ["--calibration", f"{spec.name}={calib}"]
    subprocess.run(command, check=True, capture_output=True)
    x, labels = data.for_model(spec)
    rows = [{"fraction": 0.0, "select": "-", "accuracy": accuracy_of(shears.compile(shears.load(pruned)),
                                                                      x, labels)}]
    for fraction, how in fractions:
        tuned = os.path.join(tmp, f"{name}.finetune.onnx")
        proc = subprocess.run([sys.executable, str(REPO / "utils" / "finetune.py"), pruned, "-o", tuned,
                               "--epochs", "3", *training, "--teacher", str(path),
                               "--data-fraction", str(fraction), "--select", how, "--quiet"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log(f"   fine-tuning failed: {proc.stdout.strip()}")
            return None
        row = {"fraction": fraction, "select": how,
               "accuracy": accuracy_of(shears.compile(shears.load(tuned)), x, labels)}
        log(f"   fine-tuned on {fraction:.0%} ({how}): {percent(row['accuracy'])}")
        rows.append(row)
        if fraction == 1.0:
            full = os.path.join(tmp, f"{name}.finetune.full.onnx")
            os.replace(tuned, full)
    return {"pruned": what, "training": " ".join(training), "rows": rows,
            "sparsity": float(options[options.index("--sparsity") + 1]), "tuned": full}


def print_fine_tuning(result):
    tuning = result.get("fine_tuning")
    if not tuning:
        return
    dense = result["dense_accuracy"]
    print(f"\n{result['model']}: {tuning['pruned']}, fine-tuned for 3 epochs (utils/finetune.py "
          f"{tuning.get('training', '')}; masks kept, distilled from the dense model) on a "
          f"fraction of the 60,000 training "
          f"images; test accuracy (dense {percent(dense)}), compiled by Shears")
    header = f"{'data':>8} {'chosen':<8}{'accuracy':>10}{'Δ points':>10}"
    print(header)
    print("-" * len(header))
    for r in tuning["rows"]:
        data_cell = "none" if r["fraction"] == 0 else f"{r['fraction']:.0%}"
        print(f"{data_cell:>8} {r['select']:<8}{percent(r['accuracy']):>10}"
              f"{(r['accuracy'] - dense) * 100:>+10.2f}")


RECOMMENDER = REPO / "models" / "recommender.onnx"


def recommender_sweep(prune, tmp):
    """The recommender (models/recommender.onnx, trained by
    models/train_recommender.py on utils/recommender.py's data) pruned:
    output channels (embedding columns and MLP neurons; plain, and with the
    layers reading them refit on 2000 training pairs) and unstructured
    (magnitude, per layer: one global threshold empties the embeddings,
    whose weights are far smaller than the MLP's): recall@10, NDCG@10 and hit rate@10 against
    parameters."""
    import recommender
    data = recommender.make_data()
    module = shears.import_onnx(RECOMMENDER)
    pick = np.random.default_rng(0).choice(len(data["train"]), 2000, replace=False)
    pairs = {"user": data["train"][pick, 0].copy(), "item": data["train"][pick, 1].copy()}
    grams = os.path.join(tmp, "recommender.grams.npz")
    np.savez(grams, **shears.calibrate(module, pairs, gram=True))
    variants = [("dense", 0.0, {})]
    for sparsity in (0.25, 0.5):
        variants.append(("channel", sparsity, {"granularity": "channel"}))
        variants.append(("channel+refit", sparsity, {"granularity": "channel", "reconstruct": "true",
                                                     "hessians": grams}))
    for sparsity in (0.5, 0.8, 0.9):
        variants.append(("unstructured", sparsity, {}))
    rows = []
    for label, sparsity, options in variants:
        pruned = prune(module, sparsity=sparsity, **options) if sparsity else module
        model = shears.compile(pruned)
        totals = report(pruned, tmp)["totals"]
        row = {"variant": label, "sparsity": sparsity, "parameters": totals["parameters"],
               "nonzero_parameters": totals["nonzero_parameters"],
               **recommender.evaluate(lambda u, i: model(u, i)[:, 0], data)}
        log(f"   recommender {label} {sparsity:.2f}: {row['nonzero_parameters']} nonzero, "
            f"recall@10 {row['recall@10']:.4f}")
        rows.append(row)
    popularity = np.bincount(data["train"][:, 1], minlength=data["items"]).astype(float)
    baseline = recommender.evaluate(lambda u, i: popularity[i], data)
    return {"rows": rows, "popularity": baseline}


def print_recommender(result):
    if not result:
        return
    print(f"\nrecommender ({RECOMMENDER.name}: user and item embeddings of 32, MLP 64-64-32-1; "
          f"{recommender_shape()}): top-10 metrics over 5 held-out items per user, training items "
          f"excluded; compiled by Shears")
    header = (f"{'variant':<15}{'sparsity':>9}{'params':>9}{'nonzero':>9}{'recall@10':>11}"
              f"{'NDCG@10':>9}{'hit@10':>8}")
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        print(f"{r['variant']:<15}{r['sparsity']:>9.2f}{r['parameters']:>9}{r['nonzero_parameters']:>9}"
              f"{r['recall@10']:>11.4f}{r['ndcg@10']:>9.4f}{r['hit@10']:>8.3f}")
    p = result["popularity"]
    print(f"{'popularity':<15}{'-':>9}{'-':>9}{'-':>9}{p['recall@10']:>11.4f}{p['ndcg@10']:>9.4f}"
          f"{p['hit@10']:>8.3f}")


def recommender_shape():
    import recommender
    return (f"{recommender.USERS} users, {recommender.ITEMS} items, "
            f"{recommender.PER_USER} interactions each")


ALLOCATION_BUDGETS = [("unstructured", 0.3), ("channel", 0.5)]


def allocation_sweep(module, spec, data, prune, tmp):
    """Per-layer sparsities allocated from sensitivity curves (`shears
    sensitivity` on 2000 training images with their labels; magnitude) under
    one parameter budget, against one sparsity for every layer (and, for
    unstructured, one global threshold) at as many non-zero parameters as
    the allocated model keeps (the baselines' sparsity is searched for:
    channels remove their consumers' inputs too, and weights already zero
    count differently)."""
    x, labels = data.for_model(spec)
    if labels is None:
        return []
    train_x, train_y = fashion_mnist.load("train")
    pick = np.random.default_rng(0).choice(len(train_x), 2000, replace=False)
    samples = train_x[pick].reshape((-1,) + tuple(spec.shape[1:]))
    rows = []
    for granularity, keep in ALLOCATION_BUDGETS:
        # Channels make a model faster: their models are timed too.
        timed = granularity == "channel"
        curves = shears.sensitivity(module, samples, train_y[pick].astype(np.int64),
                                    sparsities=[0.3, 0.5, 0.7, 0.8, 0.9, 0.95],
                                    prune_options=f"granularity={granularity}",
                                    latency_batch=LATENCY_BATCH if timed else 0, threads=1)

        def measure(pruned):
            return (report(pruned, tmp)["totals"]["nonzero_parameters"],
                    accuracy_of(shears.compile(pruned), x, labels))

        allocated = shears.allocate(curves, f"params={keep}")
        row = {"granularity": granularity, "budget": keep, "allocation": allocated}
        row["allocated_nonzero"], row["allocated_accuracy"] = measure(
            shears.prune(module, granularity=granularity, sensitivity=curves,
                         budget=f"params={keep}"))

        def matched(**options):
            """The sparsity whose model keeps as many non-zero parameters as
            the allocated one (bisection), and that model's measures."""
            lo, hi = 0.0, 0.95
            for _ in range(10):
                mid = (lo + hi) / 2
                nonzero = report(prune(module, sparsity=mid, granularity=granularity, **options),
                                 tmp)["totals"]["nonzero_parameters"]
                lo, hi = (mid, hi) if nonzero > row["allocated_nonzero"] else (lo, mid)
            return (hi,) + measure(prune(module, sparsity=hi, granularity=granularity, **options))

        row["uniform_sparsity"], row["uniform_nonzero"], row["uniform_accuracy"] = matched()
        if granularity == "unstructured":
            row["global_sparsity"], row["global_nonzero"], row["global_accuracy"] = matched(
                scope="global")
        log(f"   {granularity:>12} params={keep}: allocated {percent(row['allocated_accuracy'])} "
            f"({row['allocated_nonzero']}), uniform {percent(row['uniform_accuracy'])} "
            f"({row['uniform_nonzero']})")
        rows.append(row)
        if timed:
            rows.append(latency_allocation(module, curves, keep, x, labels))
    return rows


LATENCY_BATCH = 8


def latency_allocation(module, curves, keep, x, labels):
    """`--budget latency=keep` from the timed channel curves, against one
    channel sparsity for every layer whose compiled model is as fast
    (bisection on the time measured), and against the parameter budget's
    allocation: each model's time over the dense model's, both run in
    turns (batch LATENCY_BATCH, one thread), and its accuracy."""
    dense = shears.compile(module, threads=1)
    xb = x[:LATENCY_BATCH]

    def measure(pruned):
        model = shears.compile(pruned, threads=1)
        ms, dense_ms = [], []
        for i in range(103):
            for m, times in ((model, ms), (dense, dense_ms)):
                start = time.perf_counter()
                m(xb)
                if i >= 3:
                    times.append(time.perf_counter() - start)
        return float(np.median(ms) / np.median(dense_ms)), accuracy_of(model, x, labels)

    row = {"granularity": "channel", "budget": keep, "kind": "latency",
           "allocation": shears.allocate(curves, f"latency={keep}"),
           "dense_latency_ms": curves["dense_latency_ms"]}
    row["allocated_time"], row["allocated_accuracy"] = measure(
        shears.prune(module, granularity="channel", sensitivity=curves, budget=f"latency={keep}"))
    row["params_time"], row["params_accuracy"] = measure(
        shears.prune(module, granularity="channel", sensitivity=curves, budget=f"params={keep}"))
    lo, hi = 0.0, 0.95
    for _ in range(7):
        mid = (lo + hi) / 2
        time_mid, _ = measure(shears.prune(module, granularity="channel", sparsity=mid))
        lo, hi = (mid, hi) if time_mid > row["allocated_time"] else (lo, mid)
    row["uniform_sparsity"] = hi
    row["uniform_time"], row["uniform_accuracy"] = measure(
        shears.prune(module, granularity="channel", sparsity=hi))
    log(f"   latency={keep}: allocated {percent(row['allocated_accuracy'])} at "
        f"{row['allocated_time']:.2f}x the dense time, uniform {percent(row['uniform_accuracy'])} "
        f"at {row['uniform_time']:.2f}x, params={keep} {percent(row['params_accuracy'])} at "
        f"{row['params_time']:.2f}x")
    return row


def print_allocation(result):
    rows = result.get("allocation")
    if not rows:
        return
    dense = result["dense_accuracy"]
    print(f"\n{result['model']}: sparsity per layer allocated from `shears sensitivity` "
          f"(2000 training images, magnitude) under a parameter budget, against one sparsity "
          f"for every layer at as many non-zero parameters; dense {percent(dense)}")
    header = (f"{'granularity':<14}{'budget':>7}{'uniform':>22}{'global':>22}{'allocated':>22}"
              f"{'gain':>8}  allocation")
    print(header)
    print("-" * len(header))

    def cell(accuracy, nonzero):
        return f"{percent(accuracy)} ({nonzero})"

    for r in rows:
        if r.get("kind") == "latency":
            continue
        glob = cell(r["global_accuracy"], r["global_nonzero"]) if "global_accuracy" in r else "-"
        gain = (r["allocated_accuracy"] - r["uniform_accuracy"]) * 100
        allocation = ", ".join(f"{k} {v:.0%}" for k, v in r["allocation"].items())
        print(f"{r['granularity']:<14}{r['budget']:>7.2f}"
              f"{cell(r['uniform_accuracy'], r['uniform_nonzero']):>22}{glob:>22}"
              f"{cell(r['allocated_accuracy'], r['allocated_nonzero']):>22}{gain:>+8.2f}  "
              f"{allocation}")
    print_latency_allocation(result, [r for r in rows if r.get("kind") == "latency"])


def print_latency_allocation(result, latency):
    if not latency:
        return
    print(f"\n{result['model']}: channels allocated under a latency budget (`shears sensitivity "
          f"--latency-batch {LATENCY_BATCH} --threads 1`, then --budget latency=F), against one "
          f"sparsity for every layer as fast and the parameter budget's allocation; time: the "
          f"compiled model's over the dense one's, run in turns at batch {LATENCY_BATCH}, one thread")
    header = (f"{'budget':>7}{'uniform':>22}{'params=F':>22}{'latency=F':>22}{'gain':>8}  allocation")
    print(header)
    print("-" * len(header))
    def cell(accuracy, ratio):
        return f"{percent(accuracy)} ({ratio:.2f}x)"

    for r in latency:
        gain = (r["allocated_accuracy"] - r["uniform_accuracy"]) * 100
        allocation = ", ".join(f"{k} {v:.0%}" for k, v in r["allocation"].items())
        print(f"{r['budget']:>7.2f}{cell(r['uniform_accuracy'], r['uniform_time']):>22}"
              f"{cell(r['params_accuracy'], r['params_time']):>22}"
              f"{cell(r['allocated_accuracy'], r['allocated_time']):>22}{gain:>+8.2f}  {allocation}")


PACK_SPARSITIES = [0.5, 0.6, 0.7, 0.8, 0.9]
PACK_LINEAR_BITS = [4, 5]


def pack_sweep(path, module, data, prune, extra_options, tmp):
    """Deep Compression's table: the model pruned (unstructured, one global threshold, the
    activation criterion on 1024 training images where it can be measured, else magnitude),
    then packed by `shears pack` (weights shared with linear_bits per linear-layer weight and
    8 per convolution weight, stored sparse and Huffman-coded): accuracy, bytes and the ratio
    to the dense ONNX file. Post-training: no fine-tuning. `extra_options` is side_inputs'."""
    criterion = "activation" if "activation" in extra_options else "magnitude"
    extra = {}
    if criterion == "activation":
        extra["activations"] = extra_options["activation"].split("=", 1)[1]
    rows = []

    def add(label, sparsity, bits, source, lossless=False):
        rows.append(pack_row(path, label, criterion, sparsity, bits, source, data, tmp, lossless))

    add("dense, lossless pack", 0.0, None, module, lossless=True)
    for bits in PACK_LINEAR_BITS:
        add(f"dense, {bits}-bit sharing", 0.0, bits, module)
    for sparsity in PACK_SPARSITIES:
        pruned = prune(module, sparsity=sparsity, criterion=criterion, granularity="unstructured",
                       scope="global", **extra)
        add(f"{sparsity:.0%} pruned, lossless", sparsity, None, pruned, lossless=True)
        for bits in PACK_LINEAR_BITS:
            add(f"{sparsity:.0%} pruned, {bits}-bit sharing", sparsity, bits, pruned)
    return rows


def pack_row(path, label, criterion, sparsity, bits, source, data, tmp, lossless=False):
    """One row of the pack table: `source` (a path or module) packed by `shears pack`, with
    linear_bits `bits` (or lossless), and the pack's accuracy, compiled from the .shears file."""
    name = Path(path).stem
    out = os.path.join(tmp, f"{name}.pack.shears")
    report = shears.pack(source, out, lossless=lossless,
                         **({} if lossless else {"linear_bits": bits}))
    model = shears.compile(shears.load(out))
    x, labels = data.for_model(model.inputs[0])
    row = {"model": name, "variant": label, "criterion": criterion, "sparsity": sparsity,
           "linear_bits": bits, "packed_bytes": report["packed_bytes"],
           "ratio": os.path.getsize(path) / report["packed_bytes"],
           "accuracy": accuracy_of(model, x, labels)}
    log(f"   {label:>30}: {row['packed_bytes']:>8} bytes ({row['ratio']:.1f}x), "
        f"accuracy {percent(row['accuracy'])}")
    return row


# Bits per linear-layer weight of the fine-tuned model's packs (Deep Compression's
# 40x on LeNet-300-100 came with retraining).
PACK_FINE_TUNED_BITS = [3, 4]


def pack_fine_tuned(path, fine_tuning, data, tmp):
    """Pack rows of the model fine-tuned on all the training data (fine_tune_sweep's)."""
    tuned = fine_tuning.get("tuned") if fine_tuning else None
    if not tuned:
        return []
    return [pack_row(path, f"{fine_tuning['pruned']}, fine-tuned, {bits}-bit sharing", "magnitude",
                     fine_tuning["sparsity"], bits, tuned, data, tmp)
            for bits in PACK_FINE_TUNED_BITS]


def print_pack(result):
    rows = result.get("pack")
    if not rows:
        return
    print(f"\n{result['model']}: Deep Compression pack (shears pack; pruned unstructured with one "
          f"global threshold, criterion {rows[0]['criterion']}; linear-layer weights shared with "
          f"the bits given, convolution weights with 8; no fine-tuning, but in the rows marked "
          f"fine-tuned: fine-tuning's model on all the training data, pruned by magnitude; ratio "
          f"to the dense ONNX file of {result['input_onnx_bytes']} bytes)")
    header = f"{'variant':<52}{'accuracy':>10}{'Δ points':>10}{'bytes':>10}{'ratio':>9}"
    print(header)
    print("-" * len(header))
    for r in rows:
        delta = "-" if r["accuracy"] is None else f"{(r['accuracy'] - result['dense_accuracy']) * 100:+.2f}"
        print(f"{r['variant']:<52}{percent(r['accuracy']):>10}{delta:>10}{r['packed_bytes']:>10}"
              f"{r['ratio']:>8.1f}x")


QUANTIZATIONS = [("int8 weights", ["--activations", "none"]),
                 ("int4 weights g64", ["--activations", "none", "--weights", "int4",
                                       "--group-size", "64"]),
                 ("binary weights", ["--activations", "none", "--weights", "binary"]),
                 ("int8 minmax", ["--method", "minmax"]),
                 ("int8 percentile", ["--method", "percentile"]),
                 ("int8 entropy", ["--method", "entropy"]),
                 ("int8 dynamic", ["--activations", "dynamic"])]


# Quantization-aware training (utils/finetune.py --quantize, distilled from
# the f32 model, on the 60,000 training images) before weight-only
# quantization: per model, (row label, format, options for both finetune.py
# and shears quantize, epochs, finetune.py's learning rate and batch).
QUANTIZATION_TRAINING = {
    "fashion_mnist_mlp": [("binary weights, trained", "binary", [], 3, ["--lr", "1e-3", "--batch", "64"]),
                          ("int4 weights g64, trained", "int4", [], 1, ["--lr", "1e-3", "--batch", "64"])],
    # The all-binary CNN trains to 82.57% (docs/Quantization.md); its
    # one-channel stem in int8 costs no bytes and does better.
    "fashion_mnist_cnn": [("binary, stem int8, trained", "binary", ["--layer-weights", "^/stem/=int8"], 3,
                           ["--lr", "1e-2", "--batch", "64"]),
                          ("int4 weights g64, trained", "int4", [], 1, ["--lr", "2e-3", "--batch", "64"])],
}


def slug(label):
    """`label` as part of a file name."""
    return re.sub(r"[^\w.-]+", "_", label)


def quantize_sweep(path, module, spec, data, prune, exclude, args, tmp):
    """Accuracy, file size and latency of the model quantized by `shears quantize` with each
    method (the activations calibrated on 1024 training images, statistics measured once), of
    the 50%-channel-pruned model quantized with entropy calibration (prune, then quantize), and
    of binary and int4 weights after quantization-aware training (QUANTIZATION_TRAINING)."""
    import subprocess
    name = Path(path).stem
    x, labels = data.for_model(spec)
    fashion = labels is not None
    if fashion:  # Fashion-MNIST: training images, not the test images
        x = fashion_mnist.calibration_images(1024)
    calib = os.path.join(tmp, f"{name}.qcalib.npy")
    np.save(calib, np.ascontiguousarray(x[:1024]).reshape(
        (-1,) + tuple(d if d is not None else 1 for d in spec.shape[1:])))

    def run(cmd):
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)}: {proc.stdout.strip()}")

    statistics = {}  # Per source model: its activations' statistics, measured once.

    def quantize(source, label, options):
        out = os.path.join(tmp, f"{name}.{slug(label)}.onnx")
        cmd = [str(BIN / "shears"), "quantize", str(source), "-o", out] + options
        if "--activations" not in options:  # static: calibrated
            if source not in statistics:
                statistics[source] = os.path.join(tmp, f"{Path(source).stem}.qstats.npz")
                run([str(BIN / "shears"), "calibrate", str(source), "--quantization",
                     "--input", f"{spec.name}={calib}", "-o", statistics[source]])
            cmd += ["--statistics", statistics[source]]
        run(cmd)
        return out

    entries = []

    def add(label, onnx_path, base_bytes):
        model = shears.compile(shears.import_onnx(onnx_path))
        x, labels = data.for_model(model.inputs[0])
        row = {"model": name, "variant": label, "onnx_bytes": os.path.getsize(onnx_path),
               "bytes_ratio": os.path.getsize(onnx_path) / base_bytes,
               "accuracy": accuracy_of(model, x, labels)}
        acc = percent(row["accuracy"])
        log(f"   {label:>24}: {row['onnx_bytes']:>8} bytes, accuracy {acc}")
        entries.append((row, model, x))

    dense_bytes = os.path.getsize(path)
    add("f32", str(path), dense_bytes)
    for label, options in QUANTIZATIONS:
        add(label, quantize(path, label, options), dense_bytes)
    pruned = prune(module, sparsity=0.5, criterion="magnitude", granularity="channel",
                   scope="layer", exclude=f'"{exclude}"')
    pruned_path = os.path.join(tmp, f"{name}.pruned50.onnx")
    pruned.export_onnx(pruned_path)
    add("pruned 50% channels", pruned_path, dense_bytes)
    add("pruned 50% + int8 entropy",
        quantize(pruned_path, "pruned int8 entropy", ["--method", "entropy"]), dense_bytes)
    trained = QUANTIZATION_TRAINING.get(name, []) if fashion else []  # finetune.py's data
    for label, form, options, epochs, training in trained:
        tuned = os.path.join(tmp, f"{name}.{slug(label)}.f32.onnx")
        log(f"   training for {label} ({epochs} epochs)")
        run([sys.executable, str(REPO / "utils" / "finetune.py"), str(path), "-o", tuned, "--quantize", form,
             "--epochs", str(epochs), "--teacher", str(path), *training, *options, "--quiet"])
        add(label, quantize(tuned, label, ["--activations", "none", "--weights", form, *options]), dense_bytes)
    log(f"   timing {len(entries)} quantized variants at batch 1 and 256, {args.rounds} rounds")
    time_all(entries, args)
    return [row for row, _, _ in entries]


def print_quantization(result):
    rows = result.get("quantization")
    if not rows:
        return
    print(f"\n{result['model']}: quantization (shears quantize; weights i8 per output channel, "
          f"inputs ui8 per tensor calibrated on 1024 training images; latency = median of "
          f"JIT-compiled calls, int8 layers on the integer kernels: AMX-INT8 or AVX512-VNNI)")
    header = (f"{'variant':<28}{'accuracy':>10}{'file bytes':>12}{'× f32':>8}{'b1 ms':>9}"
              f"{'b256 ms':>10}")
    print(header)
    print("-" * len(header))
    for r in rows:
        acc = percent(r["accuracy"])
        print(f"{r['variant']:<28}{acc:>10}{r['onnx_bytes']:>12}{r['bytes_ratio']:>8.3f}"
              f"{r['latency_b1_ms']:>9.3f}{r['latency_b256_ms']:>10.3f}")


def pipeline_name(pipeline):
    if pipeline == PRUNE:
        return "shears-prune"
    if pipeline == PRUNE_EXPANDED:
        return "shears-prune's passes one by one"
    return pipeline


def print_table(result, pipeline):
    print(f"\n{result['model']} ({result['path']}, {result['input_onnx_bytes']} bytes): "
          f"{pipeline_name(pipeline)}, magnitude, unstructured with scope=global, channel per "
          f"layer, '{result['excluded']}' kept dense; latency = median of JIT-compiled calls")
    header = (f"{'granularity':<13}{'sparsity':>8}{'params':>10}{'nonzero':>10}{'file bytes':>12}"
              f"{'accuracy':>10}{'macro F1':>10}{'b1 ms':>9}{'b256 ms':>10}{'speedup b1':>12}"
              f"{'speedup b256':>14}")
    print(header)
    print("-" * len(header))
    for r in result["rows"]:
        acc = percent(r["accuracy"])
        f1 = "-" if r.get("macro_f1") is None else f"{r['macro_f1']:.4f}"
        print(f"{r['granularity']:<13}{r['sparsity']:>8.2f}{r['parameters']:>10}"
              f"{r['nonzero_parameters']:>10}{r['onnx_bytes']:>12}{acc:>10}{f1:>10}"
              f"{r['latency_b1_ms']:>9.3f}{r['latency_b256_ms']:>10.3f}"
              f"{r['speedup_b1']:>11.2f}x{r['speedup_b256']:>13.2f}x")
    print_metrics(result)


def print_metrics(result):
    """Per-class precision, recall and F1 and the confusion matrix of the
    dense model and of the 50%-channel-pruned one (where they were run)."""
    for r in result["rows"]:
        if r.get("metrics") is None or not (
                r["granularity"] == "dense" or (r["granularity"] == "channel" and r["sparsity"] == 0.5)):
            continue
        m = r["metrics"]
        label = "dense" if r["granularity"] == "dense" else "50% channels"
        print(f"\n{result['model']} {label}: accuracy {percent(m['accuracy'])}, macro precision "
              f"{m['macro_precision']:.4f}, recall {m['macro_recall']:.4f}, F1 {m['macro_f1']:.4f}")
        names = fashion_mnist.CLASSES
        print(f"{'class':<13}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}   "
              f"confusion (rows: true class, columns: predicted)")
        per = m["per_class"]
        for i, name in enumerate(names):
            row = " ".join(f"{v:>4}" for v in m["confusion"][i])
            print(f"{name:<13}{per['precision'][i]:>10.4f}{per['recall'][i]:>8.4f}"
                  f"{per['f1'][i]:>8.4f}{per['support'][i]:>9}   {row}")


def print_criteria(result, sparsities):
    if not result["criteria"]:
        return
    dense = result["dense_accuracy"]
    dense_text = percent(dense)
    print(f"\n{result['model']}: test accuracy (%) without fine-tuning by criterion, granularity "
          f"and sparsity (dense {dense_text}; '{result['excluded']}' kept dense)")
    shown = [s for s in sparsities if s > 0]
    header = f"{'criterion':<12}{'granularity':<14}" + "".join(f"{s:>8.0%}" for s in shown)
    print(header)
    print("-" * len(header))
    for r in result["criteria"]:
        cells = "".join("       -" if r["accuracy"].get(s) is None else f"{r['accuracy'][s] * 100:>8.2f}"
                        for s in shown)
        print(f"{r['criterion']:<12}{r['granularity']:<14}{cells}")


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("accuracy", "test accuracy (%)", lambda r: None if r["accuracy"] is None else r["accuracy"] * 100),
              ("onnx_bytes", "ONNX file (KB)", lambda r: r["onnx_bytes"] / 1e3),
              ("latency_b1_ms", "latency, batch 1 (ms)", lambda r: r["latency_b1_ms"]),
              ("latency_b256_ms", "latency, batch 256 (ms)", lambda r: r["latency_b256_ms"])]
    columns = len(panels) + 2  # and accuracy by criterion, and quantization
    fig, axes = plt.subplots(len(results), columns, figsize=(4.2 * columns, 3.4 * len(results)),
                             squeeze=False)
    markers = {"unstructured": "o", "channel": "s"}
    for row_axes, result in zip(axes, results):
        rows = result["rows"]
        dense = rows[0]
        for ax, (key, label, value) in zip(row_axes, panels):
            if value(dense) is not None:
                ax.axhline(value(dense), color="gray", linestyle="--", linewidth=1, label="dense")
            for granularity in sorted({r["granularity"] for r in rows[1:]}, key=GRANULARITIES.index):
                points = [(r["sparsity"], value(r)) for r in rows[1:] if r["granularity"] == granularity]
                points = [(s, v) for s, v in points if v is not None]
                if points:
                    xs, ys = zip(*points)
                    ax.plot(xs, ys, marker=markers.get(granularity, "^"), label=granularity)
            ax.set_xlabel("sparsity")
            ax.set_ylabel(label)
            ax.set_title(f"{result['model']}: {label.split(' (')[0]}", fontsize=10)
            ax.grid(True, alpha=0.3)
            if key != "accuracy":
                ax.set_ylim(bottom=0)
        row_axes[0].legend(fontsize=8)
        ax = row_axes[-2]
        if value(dense) is not None:
            ax.axhline(dense["accuracy"] * 100, color="gray", linestyle="--", linewidth=1, label="dense")
        for r in result["criteria"]:
            points = [(float(s), a * 100) for s, a in r["accuracy"].items() if a is not None]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker=markers.get(r["granularity"], "^"),
                        linestyle="-" if r["granularity"] == "channel" else ":",
                        label=f"{r['criterion']} ({r['granularity']})")
        ax.set_xlabel("sparsity")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{result['model']}: accuracy by criterion", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6)
        quantized = [r for r in result.get("quantization", []) if r["accuracy"] is not None]
        ax = row_axes[-1]
        if quantized:
            positions = range(len(quantized))
            ax.bar(positions, [r["accuracy"] * 100 for r in quantized], color="tab:blue")
            for i, r in enumerate(quantized):
                ax.text(i, r["accuracy"] * 100, f"{r['bytes_ratio']:.2f}x\n{r['latency_b1_ms']:.3f} ms",
                        ha="center", va="bottom", fontsize=6)
            ax.set_xticks(list(positions))
            ax.set_xticklabels([r["variant"] for r in quantized], rotation=35, ha="right",
                               fontsize=6)
            low = min(r["accuracy"] for r in quantized) * 100
            ax.set_ylim(max(0, low - 5), 100)
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(f"{result['model']}: quantization (file ×f32, b1 ms)", fontsize=10)
        ax.grid(True, alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", type=Path, help="ONNX models (default: the embedded MLP and CNN)")
    parser.add_argument("--out", type=Path, default=REPO / "out", help="output directory (default: out/)")
    parser.add_argument("--sparsities", type=lambda s: [float(v) for v in s.split(",")], default=SPARSITIES)
    parser.add_argument("--granularities", type=lambda s: s.split(","), default=GRANULARITIES)
    parser.add_argument("--criteria", type=lambda s: s.split(","), default=CRITERIA,
                        help="criteria of the accuracy sweep (default: all five)")
    parser.add_argument("--budget", type=float, default=0.9,
                        help="seconds of timed runs per model and batch size, over all rounds")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of timing (each model keeps its best)")
    parser.add_argument("--pipeline", default=None,
                        help="pipeline template with {options}, instead of shears-prune{{{options}}}")
    args = parser.parse_args()
    models = args.models or DEFAULT_MODELS
    args.out.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    data = Data()
    prune = Prune(args.pipeline)
    results = []
    recommender_result = transformer_result = None
    with tempfile.TemporaryDirectory() as tmp:
        for path in models:
            results.append(sweep(path, data, prune, args, tmp))
        if not args.models:
            transformer_result = transformer_sweep(TRANSFORMER, data, prune, args, tmp)
            log("== recommender")
            recommender_result = recommender_sweep(prune, tmp)
    for result in results:
        print_table(result, prune.used)
        print_criteria(result, args.sparsities)
        print_quantization(result)
        print_pack(result)
        print_reconstruction(result)
        print_low_rank(result)
        print_allocation(result)
        print_fine_tuning(result)
    print_transformer(transformer_result)
    print_recommender(recommender_result)

    json_path = args.out / "prune_sweep.json"
    png_path = args.out / "prune_sweep.png"
    with open(json_path, "w") as f:
        json.dump({"pipeline": prune.used, "criterion": "magnitude",
                   "scope": {"unstructured": "global", "channel": "layer"},
                   "latency": "median wall time of one call from Python to the JIT-compiled "
                              "model, ms; the best of several rounds",
                   "models": results, "transformer": transformer_result,
                   "recommender": recommender_result}, f, indent=2)
    plot(results, png_path)
    print(f"\nwrote {json_path} and {png_path} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
