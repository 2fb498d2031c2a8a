"""utils/finetune.py: the ONNX -> PyTorch -> ONNX round trip changes nothing
before training, training keeps the pruned weights at zero, gradual pruning
reaches its sparsity, and bad options fail without output."""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

SRC = Path(os.environ.get("SHEARS_SRC_ROOT", Path(__file__).resolve().parents[2]))
MODELS = Path(os.environ.get("SHEARS_MODELS", SRC / "build" / "models"))
FINETUNE = SRC / "utils" / "finetune.py"
SHEARS = MODELS.parent / "bin" / "shears"


def run(*args):
    return subprocess.run([sys.executable, str(FINETUNE), *map(str, args), "--quiet"],
                          capture_output=True, text=True)


def weights(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def shears_outputs(model, inputs, folder, *options):
    """`shears run MODEL` on the .npy `inputs` (input 'input'): its output."""
    subprocess.run([str(SHEARS), "run", str(model), "--input", f"input={inputs}", *options,
                    "--output-dir", str(folder)], check=True, capture_output=True)
    return np.load(next(Path(folder).glob("*.npy")))


@pytest.fixture(scope="module")
def pruned(tmp_path_factory):
    """The MLP pruned to 80% by `shears prune`: with sparse initializers, and
    the same weights stored dense."""
    folder = tmp_path_factory.mktemp("finetune")
    for name, extra in (("pruned", []), ("dense", ["--sparse-initializers=false"])):
        subprocess.run([str(SHEARS), "prune", str(MODELS / "mlp.onnx"), "--sparsity", "0.8",
                        "-o", str(folder / f"{name}.onnx"), *extra], check=True, capture_output=True)
    assert onnx.load(folder / "pruned.onnx").graph.sparse_initializer
    return folder / "pruned.onnx", folder / "dense.onnx"


def test_round_trip_without_training(pruned, tmp_path):
    """The sparse file in, its weights out bit for bit, and Shears runs the
    result to the same outputs."""
    sparse, dense = pruned
    out = tmp_path / "same.onnx"
    result = run(sparse, "-o", out, "--epochs", "0", "--samples", "64")
    assert result.returncode == 0, result.stderr
    before, after = weights(dense), weights(out)
    assert before.keys() == after.keys()
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])
    # The same kernels for both (timing could pick either for a layer where
    # they are close, and their sums round differently).
    np.testing.assert_array_equal(
        *(shears_outputs(path, MODELS / "mlp.input.npy", tmp_path / path.stem, "--time-sparse=false")
          for path in (dense, out)))


def test_training_keeps_zeros(pruned, tmp_path):
    sparse, dense = pruned
    out = tmp_path / "tuned.onnx"
    result = run(sparse, "-o", out, "--epochs", "1", "--samples", "512", "--teacher",
                 MODELS / "mlp.onnx", "--l1", "1e-6")
    assert result.returncode == 0, result.stderr
    assert "fine-tuned pruned.onnx: 1 epochs on 512 samples" in result.stdout
    original, tuned = weights(dense), weights(out)
    for name, w in tuned.items():
        if w.ndim == 2:
            assert np.all(w[original[name] == 0] == 0), name
            # +0.0, not -0.0 (a negative weight times a zero mask): sparse
            # formats store a -0.0 as a value.
            assert not np.signbit(w[w == 0]).any(), name
            assert not np.array_equal(w[original[name] != 0], original[name][original[name] != 0]), name


def test_gradual_pruning_and_data_selection(tmp_path):
    out = tmp_path / "gradual.onnx"
    result = run(MODELS / "mlp.onnx", "-o", out, "--epochs", "1", "--samples", "2000",
                 "--gradual", "0.75", "--data-fraction", "0.5", "--select", "loss",
                 "--json", tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    assert "on 1000 samples, weights 75.0% zero" in result.stdout
    for name, w in weights(out).items():
        if w.ndim == 2:
            assert abs((w == 0).mean() - 0.75) < 0.01, name
    import json
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["samples"] == 1000 and report["settings"]["select"] == "loss"
    assert 0 < report["accuracy_after"] <= 1


@pytest.mark.parametrize("args,message", [
    (["--data-fraction", "0"], "--data-fraction 0.0 is out of range"),
    (["--gradual", "1"], "--gradual 1.0 is out of range"),
    (["--lr", "0"], "must be positive"),
    (["--input", "x=a.npy"], "--input and --labels go together"),
    (["--lr", "1e30", "--samples", "512"], "training diverged: the loss is"),
])
def test_bad_options(args, message, tmp_path):
    out = tmp_path / "bad.onnx"
    result = run(MODELS / "mlp.onnx", "-o", out, *args)
    assert result.returncode != 0 and message in result.stderr
    assert not out.exists()


def test_bad_model(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    result = run(tmp_path / "broken.onnx", "-o", tmp_path / "out.onnx")
    assert result.returncode == 1 and "finetune.py: error:" in result.stderr
    assert not (tmp_path / "out.onnx").exists()


def test_transformer(tmp_path):
    """The interpreter runs the Fashion-MNIST ViT (decomposed LayerNorm: ReduceMean, Pow,
    Sqrt; GELU: Erf) to Shears's outputs, and its heads pruned by `shears prune` fine-tune."""
    sys.path.insert(0, str(SRC / "utils"))
    import torch
    from onnx_gradients import Interpreter
    vit = SRC / "models" / "fashion_mnist_vit.onnx"
    x = np.random.default_rng(0).random((4, 1, 28, 28), dtype=np.float32)
    np.save(tmp_path / "x.npy", x)
    expected = shears_outputs(vit, tmp_path / "x.npy", tmp_path / "out")
    with torch.no_grad():
        got = Interpreter(onnx.load(vit)).run({"input": torch.from_numpy(x)})[0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-4)
    pruned, tuned = tmp_path / "heads.onnx", tmp_path / "tuned.onnx"
    subprocess.run([str(SHEARS), "prune", str(vit), "--granularity", "channel", "--sparsity",
                    "0.5", "--exclude", "linear", "-o", str(pruned)], check=True, capture_output=True)
    result = run(pruned, "-o", tuned, "--epochs", "1", "--samples", "2048")
    assert result.returncode == 0, result.stderr
    assert "fine-tuned heads.onnx: 1 epochs on 2048 samples" in result.stdout
    # Its scalars (the attention's scale) stay constants: training them made it diverge.
    before, after = (float(v.rstrip("%")) for v in re.search(
        r"test accuracy ([\d.]+%) -> ([\d.]+%)", result.stdout).groups())
    assert after > before + 5, result.stdout
    scalars = {n: w for n, w in weights(pruned).items() if w.ndim == 0}
    assert scalars and all(np.array_equal(w, weights(tuned)[n]) for n, w in scalars.items())


def shears_quantize(model, out, form, options):
    subprocess.run([str(SHEARS), "quantize", str(model), "--activations", "none", "--weights", form,
                    *options, "-o", str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("form,options", [
    ("int8", ["--exclude", "/fc/|/0/"]),
    # 1568, 784, 100 and 72 inputs: last groups padded; the stem's 9 one group.
    ("int4", ["--group-size", "48"]),
    ("binary", ["--exclude", "stem|/4/", "--layer-weights", "block.3|/2/=int4",
                "--layer-weights", "block=int8", "--group-size", "32"]),
])
def test_fake_quantization_is_shears_quantize(form, options, tmp_path):
    """The graph `--quantize` trains is the model `shears quantize` writes:
    the interpreter with fine-tuning's fake quantization gives Shears's
    outputs for the quantized file, where the float model's differ."""
    sys.path.insert(0, str(SRC / "utils"))
    import torch
    from finetune import fake_quantize, quantized_layers
    from onnx_gradients import Interpreter
    given = dict(zip(options[::2], options[1::2]))
    group = int(given.get("--group-size", 64))
    exclude = given.get("--exclude")
    overrides = [tuple(v.rsplit("=", 1)) for k, v in zip(options[::2], options[1::2])
                 if k == "--layer-weights"]
    for name in ("cnn", "mlp"):
        quantized = shears_quantize(MODELS / f"{name}.onnx", tmp_path / f"{name}.q.onnx", form, options)
        inputs = MODELS / f"{name}.input.npy"
        expected = shears_outputs(quantized, inputs, tmp_path / name)
        model = onnx.load(MODELS / f"{name}.onnx")
        interp = Interpreter(model)
        with torch.no_grad():
            feeds = {"input": torch.from_numpy(np.load(inputs))}
            unquantized = interp.run(feeds)[0].numpy()
            layers = quantized_layers(model, interp, form, exclude, overrides)
            assert len(layers) == {"cnn": 4, "mlp": 3}[name] - (exclude is not None), layers
            interp.transforms = {n: lambda w, a=a, f=f: fake_quantize(w, a, f, group)
                                 for n, (a, f) in layers.items()}
            got = interp.run(feeds)[0].numpy()
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
        # Far closer than the float model, which is what the test tells apart.
        assert np.abs(got - expected).max() * 10 < np.abs(unquantized - expected).max(), (name, form)


def test_quantization_aware_training(tmp_path):
    """Binary weights trained with --quantize binary: accuracy rises, the
    file keeps float weights, and `shears quantize` of it scores on the test
    images what fine-tuning printed."""
    sys.path.insert(0, str(SRC / "utils"))
    import fashion_mnist
    out = tmp_path / "qat.onnx"
    result = run(MODELS / "mlp.onnx", "-o", out, "--quantize", "binary", "--epochs", "1",
                 "--samples", "4096", "--teacher", MODELS / "mlp.onnx")
    assert result.returncode == 0, result.stderr
    before, after = (float(v) for v in re.search(
        r"test accuracy with binary weights ([\d.]+)% -> ([\d.]+)%", result.stdout).groups())
    assert after > before + 3, result.stdout
    assert "shears quantize " + str(out) + " --activations none --weights binary" in result.stdout
    assert len(np.unique(weights(out)["0.weight"][0])) > 2  # float, not +-scale
    images, labels = fashion_mnist.load("test")
    np.save(tmp_path / "test.npy", images.reshape(-1, 784).astype(np.float32))
    binary = shears_quantize(out, tmp_path / "binary.onnx", "binary", [])
    logits = shears_outputs(binary, tmp_path / "test.npy", tmp_path / "binary")
    assert abs((logits.argmax(1) == labels).mean() * 100 - after) < 0.05


@pytest.mark.parametrize("args,message", [
    (["--quantize", "int3"], "invalid choice: 'int3'"),
    (["--quantize", "int4", "--group-size", "0"], "--group-size 0 is not positive"),
    (["--quantize", "int8", "--exclude", "("], "--exclude '(' is not a valid regex"),
    (["--quantize", "binary", "--exclude", "Gemm", "--samples", "64"],
     "--quantize: the model has no layer shears quantize quantizes"),
    (["--quantize", "int8", "--layer-weights", "Gemm=int2"], "is not REGEX=FORM"),
    (["--quantize", "int8", "--layer-weights", "(=int4"], "invalid regex"),
    (["--exclude", "Gemm"], "--exclude and --layer-weights go with --quantize"),
])
def test_bad_quantize_options(args, message, tmp_path):
    out = tmp_path / "bad.onnx"
    result = run(MODELS / "mlp.onnx", "-o", out, *args)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert not out.exists()


def test_quantize_refuses_unfolded_batch_norm(tmp_path):
    """A Conv followed by a BatchNormalization: shears quantize quantizes
    the folded filter, which training on the unfolded one would not match."""
    from onnx import TensorProto, helper
    rng = np.random.default_rng(0)
    arrays = {"w": rng.standard_normal((4, 1, 3, 3)), "s": np.ones(4), "b": np.zeros(4), "m": np.zeros(4),
              "v": np.ones(4), "fw": rng.standard_normal((10, 4 * 26 * 26))}
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["c"], name="conv"),
         helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["bn"], name="bn"),
         helper.make_node("Flatten", ["bn"], ["f"], name="flat"),
         helper.make_node("Gemm", ["f", "fw"], ["out"], name="fc", transB=1)], "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(a.astype(np.float32), n) for n, a in arrays.items()])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), tmp_path / "bn.onnx")
    result = run(tmp_path / "bn.onnx", "-o", tmp_path / "out.onnx", "--quantize", "int8", "--samples", "64")
    assert result.returncode == 1 and "node 'conv' (Conv) is followed by a BatchNormalization" in result.stderr
    assert not (tmp_path / "out.onnx").exists()
