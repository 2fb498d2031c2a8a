#!/usr/bin/python3
"""Runs ONNX's own backend test data (Debian's libonnx-testdata) through shears-run.

    conformance.py --shears-run PATH [--suites node,pytorch-converted] [--filter REGEX]
                   [--subset fast] [--jobs N] [--timeout S] [--threads N] [--verbose]
                   [--write-docs docs/SupportedOps.md]
                   [--baseline test/conformance/baseline.txt [--update-baseline]]

Every test directory (DATA/<suite>/<test>/, DATA = $ONNX_TESTDATA or
/usr/share/libonnx-testdata/data) holds model.onnx and test_data_set_*/{input,output}_N.pb.
A test is named <suite>/<test> and is
  skipped  when the model uses an op the importer does not support (the list comes from
           `shears-translate --list-onnx-ops`, the shears-translate next to shears-run; any
           domain but the default one counts as unsupported), or when a graph input/output is not a tensor whose type a
           .npy file can hold (sequences, optionals, strings, bfloat16);
  run      otherwise: input_N.pb is written as <graph input>.npy (the pb's name if it names a
           graph input, else the N-th graph input that is not an initializer) and given to
           `shears-run model.onnx --input NAME=FILE.npy ... --output-dir DIR [--threads N]`.
           A graph input that an op reads as a shape-like operand (CONSTANT_OPERANDS: Reshape's
           shape, Resize's scales, Tile's repeats, Range's bounds, ScatterND's indices, which
           Shears takes only at import time as torch's slice assignments have them...) is instead made an
           initializer holding input_N.pb in a copy of model.onnx, which shears-run runs: Shears
           compiles for static shapes, so it needs these at compile time (onnx-mlir's backend
           tests mark the same inputs CONSTANT_INPUT);
           each output_N.pb is compared with DIR/<graph output>.npy (same name rule; characters
           outside [A-Za-z0-9._-] may be written as '_') by |actual - expected| <=
           atol + rtol*|expected| with ONNX's rtol=1e-3, atol=1e-7; NaNs match NaNs; integer and
           bool outputs, shapes and dtypes must match exactly.
A run test ends as one of
  pass;
  fail-import   shears-run failed and its stderr mentions import/unsupported, but not
                lowering/legalize/JIT compilation;
  fail-compile  any other nonzero exit (runtime errors and crashes included);
  fail-numeric  exit 0 but an output is missing, unreadable or differs;
  timeout       no exit after --timeout seconds (the whole process group is killed);
  error         the test data itself could not be read or matched to the graph.

--subset fast: a fixed choice of FAST_CAP (60) tests. Candidates are the supported tests whose
model.onnx is below 1 MB and whose name contains, case-insensitively, a supported op that the
model uses (or FAST_ALIASES: batchnorm, avgpool, linear); the longest such op names the
test: test_gemm_transposeA -> Gemm, test_Conv2d -> Conv. Each op's candidates alternate
between suites (name order within a suite); then one test per op (in op-name order) is taken
per round until 60 are picked. That keeps the lit test fast and touches the supported ops
in both suites.

--baseline FILE lists, one per line ('#' starts a comment), the tests that passed when it was
recorded; a missing or empty file is an empty baseline. The exit status is nonzero if a
selected baseline test no longer passes; new passes are printed. --update-baseline rewrites
FILE with the tests passing now (entries outside this run's selection are kept). Without
--baseline the exit status is nonzero if any supported test failed.

--write-docs FILE writes a Markdown table: for each supported op, the opsets seen in the run
tests that use it and how many of them passed (a test counts for every op it contains), then
the failing tests with their class.

The last line printed is always `N passed, M failed, K skipped` (M: run tests that did not
pass; K: selected tests that were skipped).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, numpy_helper

import numpy as np

from ort_compare import compare_arrays

DATA = Path(os.environ.get("ONNX_TESTDATA", "/usr/share/libonnx-testdata/data"))
SUITES = ("node", "pytorch-converted")
# The ONNX ops the importer supports; main() asks the binary (--list-onnx-ops).
SUPPORTED_OPS = frozenset()
NPY_TYPES = frozenset([
    TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BOOL,
    TensorProto.INT8, TensorProto.INT16, TensorProto.INT32, TensorProto.INT64,
    TensorProto.UINT8, TensorProto.UINT16, TensorProto.UINT32, TensorProto.UINT64])
RTOL, ATOL = 1e-3, 1e-7
# stderr of a failed shears-run: a lowering/JIT failure is fail-compile even if a diagnostic
# says "unsupported"; otherwise an import-looking message is fail-import.
COMPILE_ERROR = re.compile(r"lowering|legalize|JIT compilation", re.IGNORECASE)
IMPORT_ERROR = re.compile(r"import|unsupported|not supported", re.IGNORECASE)
FAST_CAP, FAST_MAX_BYTES = 60, 1 << 20
FAST_ALIASES = {"AveragePool": "avgpool", "BatchNormalization": "batchnorm", "Gemm": "linear"}
# Operands (by position) that fix a result's shape or an attribute-like value: a graph input
# feeding one is bound into the model as an initializer (see the module docstring).
CONSTANT_OPERANDS = {
    "ConstantOfShape": {0}, "Expand": {1}, "OneHot": {1}, "Pad": {1, 2, 3}, "Range": {0, 1, 2},
    "ReduceL1": {1}, "ReduceL2": {1}, "ReduceLogSum": {1}, "ReduceLogSumExp": {1},
    "ReduceMax": {1}, "ReduceMean": {1}, "ReduceMin": {1}, "ReduceProd": {1}, "ReduceSum": {1},
    "ReduceSumSquare": {1}, "Reshape": {1}, "Resize": {1, 2, 3}, "ScatterND": {1},
    "Slice": {1, 2, 3, 4},
    "Split": {1}, "Squeeze": {1}, "Tile": {1}, "TopK": {1}, "Trilu": {1}, "Unsqueeze": {1},
    "Upsample": {1},
}
FAILURE_CLASSES = ("fail-import", "fail-compile", "fail-numeric", "timeout", "error")


@dataclass
class Test:
    suite: str
    path: Path
    opset: int
    ops: frozenset
    inputs: list  # graph inputs that are not initializers, in order
    outputs: list
    constant_inputs: frozenset = frozenset()  # bound as initializers (CONSTANT_OPERANDS)
    skip: str = ""  # why the test is not run; empty if it is
    status: str = "skipped"
    detail: str = ""

    @property
    def name(self):
        return f"{self.suite}/{self.path.name}"


def op_types(graph):
    """Op types of `graph` and its subgraphs; ops outside the default domain keep the domain."""
    ops = set()
    for node in graph.node:
        ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}")
        for attr in node.attribute:
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                ops |= op_types(sub)
    return ops


def npy_tensor(value_info):
    t = value_info.type
    return t.WhichOneof("value") == "tensor_type" and t.tensor_type.elem_type in NPY_TYPES


def load_test(suite, path):
    model = onnx.load(str(path / "model.onnx"), load_external_data=False)
    graph = model.graph
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    ops = frozenset(op_types(graph))
    inits = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in inits]
    names = {i.name for i in inputs}
    constant = frozenset(name for node in graph.node
                         for i, name in enumerate(node.input)
                         if name in names and i in CONSTANT_OPERANDS.get(node.op_type, ()))
    test = Test(suite, path, opset, ops, [i.name for i in inputs], [o.name for o in graph.output],
                constant)
    if ops - SUPPORTED_OPS:
        test.skip = "unsupported op(s): " + ", ".join(sorted(ops - SUPPORTED_OPS))
    elif not all(npy_tensor(v) for v in inputs + list(graph.output)):
        test.skip = "an input or output is not a tensor a .npy file can hold"
    return test


def discover(suites, pattern):
    tests = []
    for suite in suites:
        for path in sorted((DATA / suite).iterdir()):
            if (path / "model.onnx").is_file() and re.search(pattern, f"{suite}/{path.name}"):
                tests.append(load_test(suite, path))
    return tests


def fast_subset(tests):
    """See --subset fast in the module docstring."""
    by_op = defaultdict(lambda: defaultdict(list))  # op -> suite -> tests
    ops = sorted(SUPPORTED_OPS, key=lambda op: (-len(op), op))  # longest name first
    for t in sorted(tests, key=lambda t: t.name):
        if t.skip or (t.path / "model.onnx").stat().st_size >= FAST_MAX_BYTES:
            continue
        name = t.path.name.lower()
        op = next((op for op in ops if op in t.ops and
                   (op.lower() in name or FAST_ALIASES.get(op, op.lower()) in name)), None)
        if op:
            by_op[op][t.suite].append(t)
    # Each op's tests alternate between suites; then take one test of every op per round.
    queues = [interleave(list(by_op[op].values())) for op in sorted(by_op)]
    picked = interleave(queues)[:FAST_CAP]
    return sorted(picked, key=lambda t: t.name)


def interleave(lists):
    """[[a1, a2], [b1]] -> [a1, b1, a2]."""
    depth = max(map(len, lists), default=0)
    return [l[i] for i in range(depth) for l in lists if i < len(l)]


def read_pb(path):
    tensor = TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return tensor


def numbered(folder, prefix):
    files = list(folder.glob(f"{prefix}_*.pb"))
    return sorted(files, key=lambda f: int(f.stem.rsplit("_", 1)[1]))


def bind(tensors, names, kind):
    """Graph names for input_N.pb/output_N.pb: the pb's own name if it is one, else position."""
    bound = [t.name if t.name in names else names[i] if i < len(names) else None
             for i, t in enumerate(tensors)]
    complete = kind == "output" or len(bound) == len(names)
    if None in bound or len(set(bound)) != len(bound) or not complete:
        raise ValueError(f"{kind}_N.pb files {bound} do not match the graph {kind}s {names}")
    return bound


def run_case(test, case, work, args):
    """Runs one test_data_set_*; returns (status, detail)."""
    out_dir = work / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = ["--output-dir", str(out_dir)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    cmd += args.run_arg
    model_path = test.path / "model.onnx"
    try:
        inputs = [read_pb(pb) for pb in numbered(case, "input")]
        constants = []
        for i, (name, tensor) in enumerate(zip(bind(inputs, test.inputs, "input"), inputs)):
            if name in test.constant_inputs:
                constants.append(numpy_helper.from_array(numpy_helper.to_array(tensor), name))
                continue
            np.save(work / f"input_{i}.npy", numpy_helper.to_array(tensor))
            cmd += ["--input", f"{name}={work / f'input_{i}.npy'}"]
        if constants:
            model = onnx.load(str(model_path))
            bound = {t.name for t in constants}
            kept = [v for v in model.graph.input if v.name not in bound]
            del model.graph.input[:]
            model.graph.input.extend(kept)
            model.graph.initializer.extend(constants)
            model_path = work / "model.onnx"
            onnx.save(model, str(model_path))
        cmd = [args.shears_run, str(model_path)] + cmd
        expected = [read_pb(pb) for pb in numbered(case, "output")]
        out_names = bind(expected, test.outputs, "output")
    except (ValueError, TypeError, OSError, DecodeError) as e:
        return "error", f"{case.name}: {e}"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "timeout", f"no result after {args.timeout:g} s"
    stderr = stderr.replace(str(work), "$TMP").strip()
    if proc.returncode != 0:
        lines = [l for l in stderr.splitlines() if l.strip()]
        how = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
               else f"exit {proc.returncode}")
        detail = f"{how}: {lines[-1].strip()}" if lines else how
        is_import = IMPORT_ERROR.search(stderr) and not COMPILE_ERROR.search(stderr)
        return ("fail-import" if is_import else "fail-compile"), detail
    for name, tensor in zip(out_names, expected):
        files = [out_dir / f"{name}.npy",
                 out_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", name) + ".npy")]
        found = next((f for f in files if f.is_file()), None)
        if found is None:
            return "fail-numeric", f"output '{name}': no {name}.npy written"
        try:
            actual = np.load(found, allow_pickle=False)
        except (OSError, ValueError) as e:
            return "fail-numeric", f"output '{name}': unreadable .npy ({e})"
        same, _, msg = compare_arrays(numpy_helper.to_array(tensor), actual, RTOL, ATOL)
        if not same:
            return "fail-numeric", f"output '{name}': {msg}"
    return "pass", ""


def run_test(test, args):
    cases = sorted(p for p in test.path.glob("test_data_set_*") if p.is_dir())
    if not cases:
        test.status, test.detail = "error", "no test_data_set_* directory"
        return test
    with tempfile.TemporaryDirectory(prefix="shears-conformance-") as tmp:
        for case in cases:
            test.status, test.detail = run_case(test, case, Path(tmp), args)
            if test.status != "pass":
                break
    return test


def read_baseline(path):
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def write_baseline(path, names):
    header = ("# Tests that passed utils/conformance.py when this file was recorded; regenerate\n"
              "# with utils/conformance.py --shears-run build/bin/shears-run "
              "--baseline FILE --update-baseline\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "".join(f"{n}\n" for n in sorted(names)))


def write_docs(path, tests, selection):
    run = [t for t in tests if not t.skip]
    opsets, passed, total = defaultdict(set), defaultdict(int), defaultdict(int)
    for t in run:
        for op in t.ops:
            opsets[op].add(t.opset)
            total[op] += 1
            passed[op] += t.status == "pass"
    suites = sorted({t.suite for t in tests})
    lines = [
        "# Supported ONNX ops: conformance",
        "",
        f"Generated by `utils/conformance.py --shears-run build/bin/shears-run --write-docs {path}"
        f"{selection}`; do not edit by hand.",
        "",
        "The tests are ONNX's backend test data (Debian's libonnx-testdata). A test is run when",
        "every op in it is supported and its inputs and outputs are tensors a .npy file can hold;",
        f"outputs are compared with rtol={RTOL:g}, atol={ATOL:g}. A test counts for every op it",
        "contains. A graph input that fixes a shape (Reshape's shape, Resize's scales, Tile's",
        "repeats, Range's bounds, ...) or ScatterND's indices is made an initializer holding the",
        "test's value: Shears compiles for static shapes and needs these at compile time (and",
        "takes ScatterND's indices only there, as torch's slice assignments have them).",
        "",
        "| suite | tests | run | passed | skipped |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for s in suites:
        ts = [t for t in tests if t.suite == s]
        ok = sum(t.status == "pass" for t in ts)
        nrun = sum(not t.skip for t in ts)
        lines.append(f"| {s} | {len(ts)} | {nrun} | {ok} | {len(ts) - nrun} |")
    lines += ["", "| op | opsets in tests | passed / run tests |", "| --- | --- | ---: |"]
    for op in sorted(SUPPORTED_OPS):
        seen = ", ".join(map(str, sorted(opsets[op]))) or "-"
        lines.append(f"| {op} | {seen} | {passed[op]} / {total[op]} |")
    failed = [t for t in run if t.status != "pass"]
    lines += ["", f"## Failing tests ({len(failed)})", ""]
    lines += [f"- `{t.name}`: {t.status}" for t in failed] or ["None."]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shears-run", required=True, help="shears-run binary (path or name on PATH)")
    p.add_argument("--suites", default=",".join(SUITES), help="comma-separated suites under DATA")
    p.add_argument("--filter", default="", help="regex searched in <suite>/<test>")
    p.add_argument("--subset", choices=["fast"], help="a fixed fast subset (see above)")
    p.add_argument("--jobs", type=int, default=2, help="tests run in parallel (default 2)")
    p.add_argument("--timeout", type=float, default=60, help="seconds per test (default 60)")
    p.add_argument("--threads", type=int, help="passed to shears-run (default: not passed)")
    p.add_argument("--run-arg", action="append", default=[], metavar="ARG",
                   help="another argument for shears-run, e.g. --run-arg=--device=cuda (repeatable)")
    p.add_argument("--write-docs", type=Path, metavar="FILE")
    p.add_argument("--baseline", type=Path, metavar="FILE")
    p.add_argument("--update-baseline", action="store_true")
    p.add_argument("-v", "--verbose", action="store_true", help="also print passing tests")
    args = p.parse_args(argv)
    if args.update_baseline and not args.baseline:
        p.error("--update-baseline needs --baseline FILE")
    if args.jobs < 1 or args.timeout <= 0 or (args.threads is not None and args.threads < 1):
        p.error("--jobs, --timeout and --threads must be positive")
    exe = shutil.which(args.shears_run)
    if not exe:
        p.error(f"shears-run not found or not executable: {args.shears_run}")
    args.shears_run = os.path.abspath(exe)
    try:
        re.compile(args.filter)
    except re.error as e:
        p.error(f"bad --filter: {e}")
    args.suites = [s for s in args.suites.split(",") if s]
    missing = [s for s in args.suites if not (DATA / s).is_dir()]
    if missing:
        p.error(f"no test suite(s) {', '.join(missing)} under {DATA}")
    return args


def supported_ops(shears_run):
    """The op types `shears-translate --list-onnx-ops` prints (the one beside shears-run)."""
    translate = Path(shears_run).with_name("shears-translate")
    out = subprocess.run([str(translate), "--list-onnx-ops"], capture_output=True, text=True)
    if out.returncode != 0 or not out.stdout.split():
        sys.exit(f"error: {translate} --list-onnx-ops failed: {out.stderr.strip()}")
    return frozenset(out.stdout.split())


def main(argv):
    global SUPPORTED_OPS
    args = parse_args(argv)
    SUPPORTED_OPS = supported_ops(args.shears_run)
    tests = discover(args.suites, args.filter)
    if args.subset == "fast":
        tests = fast_subset(tests)
    to_run = [t for t in tests if not t.skip]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(lambda t: run_test(t, args), to_run))

    for t in to_run:
        if t.status != "pass" or args.verbose:
            print(f"{t.status.upper()}: {t.name}" + (f": {t.detail}" if t.detail else ""))
    passed = {t.name for t in to_run if t.status == "pass"}
    failed = len(to_run) - len(passed)
    skipped = len(tests) - len(to_run)
    for suite in args.suites:
        ts = [t for t in tests if t.suite == suite]
        nrun = sum(not t.skip for t in ts)
        ok = sum(t.name in passed for t in ts)
        if ts:
            print(f"{suite}: {ok} of {nrun} supported tests passed, {len(ts) - nrun} skipped")
    if failed:
        counts = {c: sum(t.status == c for t in to_run) for c in FAILURE_CLASSES}
        print("failures: " + ", ".join(f"{n} {c}" for c, n in counts.items() if n))

    status = 1 if failed else 0
    if args.baseline:
        baseline = read_baseline(args.baseline)
        selected = {t.name for t in tests}
        lost = sorted((baseline & selected) - passed)
        new = sorted(passed - baseline)
        gone = sorted(n for n in baseline if not (DATA / n / "model.onnx").is_file())
        if not baseline:
            print(f"baseline {args.baseline} is empty or missing")
        else:
            for name in new:
                print(f"NEW PASS: {name}")
        for name in gone:
            print(f"warning: baseline test {name} is not in the test data")
        for name in lost:
            print(f"REGRESSION: {name} passed in the baseline")
        if args.update_baseline:
            write_baseline(args.baseline, (baseline - selected - set(gone)) | passed)
            print(f"baseline {args.baseline} updated")
            lost = []
        status = 1 if lost else 0
    if args.write_docs:
        suites = ",".join(args.suites) if args.suites != list(SUITES) else ""
        flags = [("suites", suites), ("filter", args.filter), ("subset", args.subset)]
        selection = "".join(f" --{k} {v}" for k, v in flags if v)
        write_docs(args.write_docs, tests, selection)
    print(f"{len(passed)} passed, {failed} failed, {skipped} skipped")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
