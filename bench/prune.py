#!/usr/bin/python3
"""Does channel pruning make Shears's compiled code faster in proportion to the MACs it removes?

    bench/prune.py [--models fashion_mnist_cnn,squeezenet1_1,mobilenet_v2,resnet18]
                   [--batches 1,8] [--sparsities 0.5] [--runs 5] [--min-round-ms 250]
                   [--stat median|best] [--max-seconds 1800] [--no-ort]
                   [--workdir build/bench/prune] [--json out.json]

For each model:
  prune   `shears prune MODEL.onnx --sparsity S --granularity channel -o NAME.sS.onnx` for each
          sparsity S (into --workdir; redone when the model or `shears` is newer), checking that
          the pruned file is smaller and has fewer parameters than the dense one;
  count   `shears report X.onnx --json` on the dense and every pruned model: totals.parameters and
          totals.macs_per_sample (multiply-adds of the convolutions and linear layers per sample);
  compile `shears-compile` of dense and pruned into --workdir (batch-independent .so files,
          rebuilt when stale), loaded once through the C runtime (bench/cpu.py's ShearsRuntime).
Then for each batch, the dense model and its pruned variants are timed in the same process:
  Shears  shearsModelRun through ctypes (one thread, set with shearsModelSetThreads where the
          runtime has it), inputs from bench/cpu.py's random_inputs;
  ORT     ONNX Runtime 1 thread on the same dense and pruned ONNX files (bench/ort_bench.js via
          cpu.py's ort_times), as a reference for what another engine gets from the same file.

Interleaving (the machine has 2 cores shared with other jobs, so load comes in bursts): after
one untimed warm-up call of every variant, the measurement is --runs rounds; in each round every
variant (dense and each sparsity) gets one slice of back-to-back calls lasting about
--min-round-ms (at least one call), then ONNX Runtime does the same, one node process per
variant and round (its load and one warm-up call are not timed). The order of the variants is
rotated from round to round (dense, pruned / pruned, dense, ...) so that neither side is
always first after a burst or a cache-cold start. Each slice keeps its median; a variant's
number is the median of its rounds (--stat best: its fastest round; the JSON has both, and every
round). A burst then hits one round of both sides rather than all the runs of one side.

Columns: params dense -> pruned; MAC ratio = pruned MACs / dense MACs; Shears and ORT ms per
batch (medians of rounds); speedup = dense ms / pruned ms; ideal = dense MACs / pruned MACs;
"÷ ideal" = Shears speedup / ideal (1.0: time falls exactly with the MACs; below: it falls less).
A second table puts the pruned model compiled by Shears against ONNX Runtime: "dense ORT ÷ pruned
Shears" = ORT's dense ms / Shears's pruned ms, and "pruned ORT ÷ pruned Shears" = ORT's ms on the
same pruned file / Shears's (above 1: pruned Shears is faster). 50% channel-pruned resnet18 by
Shears against dense resnet18 in ORT is
    bench/prune.py --models resnet18 --sparsities 0.5 --batches 1,8
A third table splits Shears's CPU time per call (getrusage over each slice) into user time (the
generated code) and system time with the minor page faults behind it: each run allocates its
buffers, and glibc hands big ones back to the kernel between runs, so they fault in (zero-filled)
again on every run; that cost follows the activations' size, not the MACs. To take it out, run with
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=4294967296.

--max-seconds caps the whole run: a model and batch whose estimate (3x the previous batch's
medians per sample, scaled by the batch and --runs) exceeds the time left is skipped, and the rounds stop early
(noted) when the budget runs out after the first. Models are looked up as models/NAME.onnx,
then build/models/NAME.onnx (--model-dir adds one). The Shears tools and runtime are those of
build/ (--bin, --runtime); a tool missing because it is being rebuilt is waited for.
"""
import argparse
import json
import os
import shlex
import resource
import statistics
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu  # noqa: E402  (bench/cpu.py: runtime, inputs, timing, ONNX Runtime; first: it sets
#                         the BLAS thread count before numpy loads)
import onnx  # noqa: E402
from cpu import Budget, Failure, fmt  # noqa: E402

REPO = cpu.REPO
DEFAULT_MODELS = "fashion_mnist_cnn,squeezenet1_1,mobilenet_v2,resnet18"
TOOL_WAIT_S = 180  # how long to wait for a tool that is being rebuilt


# --------------------------------------------------------------------------------------------
# Tools: prune, report, compile
# --------------------------------------------------------------------------------------------

def wait_for(tool):
    """Returns once `tool` exists and is executable; it may vanish or be half-written for a while
    when someone rebuilds it."""
    deadline = time.time() + TOOL_WAIT_S
    while True:
        try:
            ready = os.access(tool, os.X_OK) and time.time() - tool.stat().st_mtime > 5
        except OSError:
            ready = False
        if ready:
            return
        if time.time() > deadline:
            raise Failure(f"{tool} is missing or not executable (waited {TOOL_WAIT_S} s)")
        print(f"  waiting for {tool} (being rebuilt?)", flush=True)
        time.sleep(10)


def retrying(tool, fn):
    """fn() after wait_for(tool), again while it cannot execute the tool (relinked under us)."""
    deadline = time.time() + TOOL_WAIT_S
    while True:
        wait_for(tool)
        try:
            return fn()
        except OSError as e:  # ENOENT, EACCES, ETXTBSY while the linker writes it
            if time.time() > deadline:
                raise Failure(f"cannot run {tool}: {e}")
            print(f"  {tool}: {e}; retrying", flush=True)
            time.sleep(10)


def run_tool(args, name, argv):
    tool = args.bin / name
    proc = retrying(tool, lambda: subprocess.run(
        [str(tool)] + [str(a) for a in argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True))
    if proc.returncode != 0:
        raise Failure(f"`{name} {' '.join(map(str, argv))}` failed (exit {proc.returncode}):\n"
                      f"{proc.stdout.strip()[-3000:]}")
    return proc.stdout


def stale(out, *inputs):
    return not out.is_file() or out.stat().st_mtime <= max(p.stat().st_mtime for p in inputs)


def prune(args, model_path, name, sparsity):
    """Writes NAME.s<S>.onnx in the workdir; returns (path, shears prune's summary or None)."""
    extra = shlex.split(args.prune_options)
    tag = "".join(c if c.isalnum() else "_" for c in "".join(extra))
    out = args.workdir / f"{name}.s{sparsity:g}{'.' + tag if tag else ''}.onnx"
    wait_for(args.bin / "shears")
    if not stale(out, model_path, args.bin / "shears"):
        return out, None
    text = run_tool(args, "shears", ["prune", model_path, "--sparsity", f"{sparsity:g}",
                                     "--granularity", "channel", *extra, "-o", out])
    if not out.is_file():
        raise Failure(f"shears prune exited 0 but wrote no {out}")
    return out, text.strip()


def report(args, path):
    """totals of `shears report PATH --json`."""
    out = args.workdir / (path.stem + ".report.json")
    run_tool(args, "shears", ["report", path, "--json", out, "--quiet"])
    totals = json.loads(out.read_text())["totals"]
    for key in ("parameters", "macs_per_sample"):
        if not isinstance(totals.get(key), int):
            raise Failure(f"shears report {path.name}: no integer totals.{key} in {out}")
    return totals


def compile_all(args, paths):
    """shears-compile each ONNX file into workdir/lib<stem>.so (unless fresh).

    Returns ({path: .so}, {path: seconds or None}). Dense and pruned must come from the same
    shears-compile: if it is rebuilt meanwhile, everything is compiled again with the new one."""
    tool = args.bin / "shears-compile"
    for _ in range(3):
        wait_for(tool)
        built = tool.stat().st_mtime
        sos, seconds = {}, {}
        for path in paths:
            sos[path] = args.workdir / f"lib{path.stem}.so"
            seconds[path] = retrying(tool, lambda: cpu.shears_compile(args, path, sos[path]))
        if tool.stat().st_mtime == built:
            return sos, seconds
        print(f"  {tool} was rebuilt while compiling; compiling again", flush=True)
    raise Failure(f"{tool} keeps being rebuilt")


# --------------------------------------------------------------------------------------------
# Interleaved timing
# --------------------------------------------------------------------------------------------

def shears_slice(model, target_ms):
    """Back-to-back calls for about target_ms (at least one).

    Returns (median ms, calls, per call: user CPU ms, system CPU ms, minor page faults), the
    last three from getrusage over the whole slice: system time here is mostly the kernel
    zero-filling pages that the run's buffers fault in."""
    times = []
    before = resource.getrusage(resource.RUSAGE_SELF)
    deadline = time.perf_counter() + target_ms / 1e3
    while not times or (time.perf_counter() < deadline and len(times) < 10000):
        start = time.perf_counter()
        model.run()
        times.append((time.perf_counter() - start) * 1e3)
    after = resource.getrusage(resource.RUSAGE_SELF)
    n = len(times)
    return (statistics.median(times), n, (after.ru_utime - before.ru_utime) * 1e3 / n,
            (after.ru_stime - before.ru_stime) * 1e3 / n, (after.ru_minflt - before.ru_minflt) / n)


def ort_slice(args, path, specs, runs, budget):
    times, _ = cpu.ort_times(args, path, specs, 1, runs, budget, None)
    return statistics.median(times), len(times)


def rotated(items, r):
    r %= len(items)
    return items[r:] + items[:r]


def measure(args, variants, specs, budget):
    """variants: [(key, compiled Shears model, ONNX path)] of one model and batch.

    Returns {key: {"shears": [round medians], "ort": [...], "shears_calls": n, ...}} and notes."""
    res = {k: {"shears": [], "ort": [], "shears_calls": 0, "ort_calls": 0, "user": [], "sys": [],
               "faults": []} for k, _, _ in variants}
    notes = []
    inputs = cpu.random_inputs(specs)
    for _, m, _ in variants:
        m.set_inputs(inputs)
        m.run()  # warm-up: first-touch page faults, lazy binding
    ort_runs = {}  # key -> timed runs per ORT round, sized after the first round
    for r in range(args.runs):
        if r and budget.left() <= 0:
            notes.append(f"{r} of {args.runs} rounds (--max-seconds)")
            break
        for key, m, _ in rotated(variants, r):
            med, n, user, sys_, faults = shears_slice(m, args.min_round_ms)
            res[key]["shears"].append(med)
            res[key]["shears_calls"] += n
            res[key]["user"].append(user)
            res[key]["sys"].append(sys_)
            res[key]["faults"].append(faults)
        if args.no_ort:
            continue
        for key, _, path in rotated(variants, r):
            runs = ort_runs.get(key, 3)
            med, n = ort_slice(args, path, specs, runs, budget)
            res[key]["ort"].append(med)
            res[key]["ort_calls"] += n
            ort_runs.setdefault(key, max(3, min(200, round(args.min_round_ms / max(med, 1e-3)))))
        print(f"    round {r + 1}: " + ", ".join(
            f"{k} Shears {fmt(res[k]['shears'][-1])}"
            + (f" ORT {fmt(res[k]['ort'][-1])}" if res[k]["ort"] else "")
            for k, _, _ in variants) + " ms", flush=True)
    return res, notes


# --------------------------------------------------------------------------------------------

def bench(args):
    budget = Budget(args.max_seconds)
    rt = cpu.ShearsRuntime(args.runtime)
    if not rt.has_threads:
        print(f"  note: {rt.path} has no shearsModelSetThreads: Shears runs at its default thread "
              f"count (pinned to 1 where the compiled library exports shears_uk_set_num_threads)",
              flush=True)
    rows = []
    per_sample = {}  # model -> ms per sample of one round's medians (all variants, both engines)
    for name in args.models:
        model_path = cpu.find_model(args, name)
        print(f"{name}: {model_path}", flush=True)
        dense_totals = report(args, model_path)
        pruned = []  # (sparsity, path, totals)
        for s in args.sparsities:
            path, summary = prune(args, model_path, name, s)
            if summary:
                print("  " + summary.replace("\n", "\n  "), flush=True)
            totals = report(args, path)
            dense_bytes, pruned_bytes = model_path.stat().st_size, path.stat().st_size
            check = []
            if pruned_bytes >= dense_bytes:
                check.append(f"pruned file not smaller ({pruned_bytes} >= {dense_bytes} bytes)")
            if s > 0 and totals["parameters"] >= dense_totals["parameters"]:
                check.append("no parameters removed")
            for c in check:
                print(f"  WARNING {name} sparsity {s:g}: {c}", flush=True)
            pruned.append((s, path, totals, dense_bytes, pruned_bytes, check))
        variants = [("dense", model_path)] + [(f"s{s:g}", path) for s, path, *_ in pruned]
        sos, secs = compile_all(args, [path for _, path in variants])
        compiled = [(key, rt.load(sos[path]), path) for key, path in variants]
        for _, m, _ in compiled:
            # One thread, like ORT here (the kernels' default is every CPU); a runtime without
            # shearsModelSetThreads leaves the code as it is (its note is in the header).
            m.set_threads(1)
        compile_s = {key: secs[path] for key, path in variants}
        model = onnx.load(str(model_path), load_external_data=False)
        for batch in args.batches:
            specs = cpu.input_specs(model, batch)
            if name in per_sample:
                # Warm-ups, ORT's extra runs and slices of several calls: about 3x the medians.
                estimate = 3 * per_sample[name] * batch * args.runs / 1e3
                if estimate > budget.left():
                    print(f"  {name} batch {batch}: skip (~{estimate:.0f} s > "
                          f"{max(budget.left(), 0):.0f} s left)", flush=True)
                    continue
            print(f"  {name} batch {batch}:", flush=True)
            with cpu.one_cpu(1):  # Shears and ORT on one thread each, on the same CPU
                res, notes = measure(args, compiled, specs, budget)
            rounds = len(res["dense"]["shears"])
            per_sample.setdefault(name, sum(statistics.median(v[e]) for v in res.values()
                                            for e in ("shears", "ort") if v[e]) / batch)
            d = res["dense"]
            d_s, d_o = statistics.median(d["shears"]), (statistics.median(d["ort"]) if d["ort"] else None)
            for s, path, totals, dense_bytes, pruned_bytes, check in pruned:
                p = res[f"s{s:g}"]
                p_s = statistics.median(p["shears"])
                p_o = statistics.median(p["ort"]) if p["ort"] else None
                ideal = dense_totals["macs_per_sample"] / totals["macs_per_sample"]
                row = OrderedDict(
                    model=name, batch=batch, sparsity=s,
                    params_dense=dense_totals["parameters"], params_pruned=totals["parameters"],
                    macs_dense=dense_totals["macs_per_sample"], macs_pruned=totals["macs_per_sample"],
                    mac_ratio=totals["macs_per_sample"] / dense_totals["macs_per_sample"],
                    bytes_dense=dense_bytes, bytes_pruned=pruned_bytes,
                    shears_dense_ms=d_s, shears_pruned_ms=p_s, shears_speedup=d_s / p_s,
                    ideal_speedup=ideal, shears_vs_ideal=d_s / p_s / ideal,
                    ort_dense_ms=d_o, ort_pruned_ms=p_o,
                    ort_speedup=(d_o / p_o) if d_o and p_o else None,
                    ort_dense_over_shears_pruned=(d_o / p_s) if d_o else None,
                    ort_pruned_over_shears_pruned=(p_o / p_s) if p_o else None,
                    rounds=rounds,
                    shears_dense_best_ms=min(d["shears"]), shears_pruned_best_ms=min(p["shears"]),
                    ort_dense_best_ms=min(d["ort"]) if d["ort"] else None,
                    ort_pruned_best_ms=min(p["ort"]) if p["ort"] else None,
                    shears_dense_rounds_ms=d["shears"], shears_pruned_rounds_ms=p["shears"],
                    ort_dense_rounds_ms=d["ort"], ort_pruned_rounds_ms=p["ort"],
                    shears_user_ms=[statistics.median(d["user"]), statistics.median(p["user"])],
                    shears_sys_ms=[statistics.median(d["sys"]), statistics.median(p["sys"])],
                    shears_page_faults=[statistics.median(d["faults"]), statistics.median(p["faults"])],
                    shears_calls=[d["shears_calls"], p["shears_calls"]],
                    ort_calls=[d["ort_calls"], p["ort_calls"]],
                    compile_s=[compile_s["dense"], compile_s[f"s{s:g}"]],
                    pruned_onnx=str(path), notes="; ".join(notes + check))
                rows.append(row)
                print(f"  {name} batch {batch} sparsity {s:g}: Shears {fmt(d_s)} -> {fmt(p_s)} ms "
                      f"({d_s / p_s:.2f}x, ideal {ideal:.2f}x); ORT {fmt(d_o)} -> {fmt(p_o)} ms"
                      + (f" ({d_o / p_o:.2f}x)" if d_o and p_o else ""), flush=True)
        for _, m, _ in compiled:
            m.close()
    return rows


def table(rows, stat="median"):
    """Markdown table of rows, with each variant's median round or (stat="best") fastest round."""
    head = ["model", "batch", "sparsity", "params dense→pruned", "MAC ratio", "Shears dense ms",
            "Shears pruned ms", "Shears speedup", "ideal speedup", "Shears ÷ ideal",
            "ORT 1T dense ms", "ORT 1T pruned ms", "ORT speedup"]
    lines = ["| " + " | ".join(head) + " |",
             "| --- | ---: | ---: | ---: |" + " ---: |" * (len(head) - 4)]

    def params(n):
        return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)

    def ratio(a, b):
        return a / b if a and b else None

    def x(v):
        return "-" if v is None else f"{v:.2f}x"

    suffix = "_best_ms" if stat == "best" else "_ms"
    for r in rows:
        sd, sp, od, op = (r[f"{e}_{v}{suffix}"] for e in ("shears", "ort") for v in ("dense", "pruned"))
        speedup = ratio(sd, sp)
        lines.append("| " + " | ".join([
            r["model"], str(r["batch"]), f"{r['sparsity']:g}",
            f"{params(r['params_dense'])}→{params(r['params_pruned'])}", f"{r['mac_ratio']:.3f}",
            fmt(sd), fmt(sp), x(speedup), x(r["ideal_speedup"]),
            f"{speedup / r['ideal_speedup']:.2f}" if speedup else "-",
            fmt(od), fmt(op), x(ratio(od, op))]) + " |")
    notes = [f"{r['model']} batch {r['batch']} sparsity {r['sparsity']:g}: {r['notes']}"
             for r in rows if r["notes"]]
    return lines + ([""] + ["- " + n for n in notes] if notes else [])


def vs_ort_table(rows, stat="median"):
    """The pruned model compiled by Shears against ONNX Runtime (1 thread) on the dense and on
    the same pruned file: ORT ms / Shears pruned ms, above 1 when pruned Shears is faster."""
    head = ["model", "batch", "sparsity", "ORT 1T dense ms", "ORT 1T pruned ms", "Shears pruned ms",
            "dense ORT ÷ pruned Shears", "pruned ORT ÷ pruned Shears"]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    suffix = "_best_ms" if stat == "best" else "_ms"
    for r in rows:
        od, op, sp = r[f"ort_dense{suffix}"], r[f"ort_pruned{suffix}"], r[f"shears_pruned{suffix}"]
        lines.append("| " + " | ".join([
            r["model"], str(r["batch"]), f"{r['sparsity']:g}", fmt(od), fmt(op), fmt(sp),
            f"{od / sp:.2f}x" if od and sp else "-", f"{op / sp:.2f}x" if op and sp else "-"]) + " |")
    return lines


def cpu_table(rows):
    """Where Shears's time goes, dense vs pruned: CPU time per call split into user (the
    generated code) and system (mostly page faults on the run's buffers), medians of rounds."""
    lines = ["| model | batch | sparsity | user ms dense→pruned | user speedup | ideal speedup | "
             "sys ms dense→pruned | page faults dense→pruned |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        (ud, up), (sd, sp), (fd, fp) = r["shears_user_ms"], r["shears_sys_ms"], r["shears_page_faults"]
        lines.append(f"| {r['model']} | {r['batch']} | {r['sparsity']:g} | {fmt(ud)}→{fmt(up)} | "
                     f"{f'{ud / up:.2f}x' if up > 0 else '-'} | {r['ideal_speedup']:.2f}x | "
                     f"{fmt(sd)}→{fmt(sp)} | {fd:.0f}→{fp:.0f} |")
    return lines


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=DEFAULT_MODELS, help="comma-separated (default: %(default)s)")
    p.add_argument("--batches", default="1,8", help="comma-separated (default: %(default)s)")
    p.add_argument("--sparsities", default="0.5",
                   help="comma-separated channel sparsities in [0, 1) (default: %(default)s)")
    p.add_argument("--runs", type=int, default=5,
                   help="interleaved rounds per model and batch (default 5)")
    p.add_argument("--min-round-ms", type=float, default=250,
                   help="each variant's slice of a round repeats calls for about this long "
                        "(default 250; at least one call)")
    p.add_argument("--stat", choices=("median", "best"), default="median",
                   help="the table shows each variant's median round (default) or its fastest; "
                        "the JSON has both")
    p.add_argument("--max-seconds", type=float, default=1800, help="time budget (default 1800)")
    p.add_argument("--no-ort", action="store_true", help="time Shears only")
    p.add_argument("--prune-options", default="",
                   help="more options for shears prune, e.g. '--round-to 16'")
    p.add_argument("--bin", type=Path, default=REPO / "build" / "bin", help="Shears tools")
    p.add_argument("--runtime", type=Path, default=REPO / "build" / "lib" / "libshears_runtime.so")
    p.add_argument("--model-dir", type=Path, help="looked in first for NAME.onnx")
    p.add_argument("--workdir", type=Path, default=REPO / "build" / "bench" / "prune",
                   help="pruned models, reports and compiled libraries (default build/bench/prune)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    args.batches = cpu.parse_batches(p, args.batches)
    try:
        args.sparsities = [float(s) for s in args.sparsities.split(",") if s]
        if not args.sparsities or not all(0 <= s < 1 for s in args.sparsities):
            raise ValueError
    except ValueError:
        p.error("--sparsities wants numbers in [0, 1)")
    if len({f"{s:g}" for s in args.sparsities}) != len(args.sparsities):
        p.error("--sparsities has duplicates")
    if args.runs < 1:
        p.error("--runs must be positive")
    if args.min_round_ms < 0:
        p.error("--min-round-ms must not be negative")
    args.workdir.mkdir(parents=True, exist_ok=True)

    head = cpu.run_header([args.bin / "shears", args.bin / "shears-compile"])
    print(head, flush=True)
    start = time.time()
    try:
        rows = bench(args)
    except Failure as e:
        print(f"prune.py: error: {e}", file=sys.stderr)
        return 1
    what = "medians" if args.stat == "median" else "fastest"
    lines = ["", f"Channel pruning, {what} of {args.runs} interleaved rounds, ms per batch "
             f"({time.time() - start:.0f} s in all):", ""] + table(rows, args.stat)
    if not args.no_ort:
        lines += ["", "Pruned Shears against ONNX Runtime 1T (ORT ms ÷ Shears pruned ms; above 1: "
                  "pruned Shears is faster):", ""] + vs_ort_table(rows, args.stat)
    lines += ["", "Shears CPU time per call (getrusage; user: generated code, sys: mostly page "
              "faults):", ""] + cpu_table(rows)
    print("\n".join(lines))
    if args.json:
        args.json.write_text(json.dumps({"header": head, "argv": sys.argv, "rows": rows},
                                        indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
