#!/usr/bin/python3
"""Lists the PTX kernels in a module lowered by shears-lower-to-nvvm.

    extract_ptx.py lowered.mlir [--out DIR]

Reads the module's `gpu.binary` ops (one per kernel module, PTX as their object's assembly) and
its `gpu.launch_func` ops, and prints one line per binary
    binary <name>: target <sm_XY>, PTX <version>, entries <names>, maxntid <x,y,z>
then a summary line
    <B> binaries, <E> entries, <L> launches, every launched kernel present
(or `missing kernel <module>::<kernel>` lines and exit 1). With --out, writes each PTX text to
DIR/<name>.ptx.
"""
import argparse
import re
import sys
from pathlib import Path

BINARY = re.compile(r'gpu\.binary @(\w+)\s*\[#gpu\.object<#nvvm\.target<([^>]*)>.*?assembly = "((?:[^"\\]|\\.)*)"',
                    re.S)
LAUNCH = re.compile(r"gpu\.launch_func\s+(?:<[^>]*>\s+)?(?:async\s+\[[^\]]*\]\s+)?@(\w+)::@(\w+)")


def unescape(text):
    """MLIR string escapes: \\XX hex bytes, \\\\ and \\"."""
    return re.sub(r'\\([0-9A-Fa-f]{2}|\\|")',
                  lambda m: m.group(1) if m.group(1) in ('\\', '"') else chr(int(m.group(1), 16)),
                  text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("module", type=Path)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    text = args.module.read_text()
    entries = {}
    for name, target, assembly in BINARY.findall(text):
        ptx = unescape(assembly)
        chip = re.search(r'^\.target (\S+)', ptx, re.M)
        version = re.search(r'^\.version (\S+)', ptx, re.M)
        kernels = re.findall(r'\.entry (\w+)\(', ptx)
        bounds = sorted(set(re.findall(r'\.maxntid (\d+, \d+, \d+)', ptx)))
        entries[name] = set(kernels)
        print(f"binary {name}: target {chip.group(1) if chip else '?'}, "
              f"PTX {version.group(1) if version else '?'}, entries {' '.join(kernels) or 'none'}, "
              f"maxntid {'; '.join(b.replace(' ', '') for b in bounds) or 'none'}")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / f"{name}.ptx").write_text(ptx)
    launches = LAUNCH.findall(text)
    missing = [f"{m}::{k}" for m, k in launches if k not in entries.get(m, ())]
    for m in missing:
        print(f"missing kernel {m}")
    if missing:
        return 1
    print(f"{len(entries)} binaries, {sum(len(e) for e in entries.values())} entries, "
          f"{len(launches)} launches, every launched kernel present")
    return 0


if __name__ == "__main__":
    sys.exit(main())
