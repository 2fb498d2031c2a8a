#!/usr/bin/python3
"""Plots what `shears sensitivity` measured: per layer, accuracy (or, without
labels, the output error) against sparsity, one line a layer.

    utils/plot_sensitivity.py sens.json -o sens.png
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", help="JSON written by shears sensitivity")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    args = parser.parse_args()
    try:
        with open(args.report) as f:
            report = json.load(f)
        layers = report["layers"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        sys.exit(f"plot_sensitivity.py: cannot read '{args.report}': {e}")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    accuracy = all("accuracy" in layer for layer in layers)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for layer in layers:
        values = layer["accuracy"] if accuracy else layer["error"]
        axes.plot([s * 100 for s in layer["sparsities"]],
                  [v * 100 for v in values] if accuracy else values,
                  marker="o", label=f"{layer['name']} ({layer['parameters']})")
    axes.set_xlabel("sparsity of the layer alone (%)")
    axes.set_ylabel("accuracy (%)" if accuracy else "relative output error")
    if not accuracy:
        axes.set_yscale("symlog", linthresh=1e-4)
    title = "per-layer sensitivity"
    if report.get("options"):
        title += f" ({report['options']})"
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
