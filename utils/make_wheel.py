#!/usr/bin/python3
"""Packs the built Python package into a wheel that pip installs without network.

    make_wheel.py --package build/python/shears --archive build/lib/libshears_kernels.a
                  [--archive build/lib/libshears_gpu_runtime.a] --out build/python/dist
                  [--version 0.1.0]

The wheel holds shears/__init__.py, the extension (shears/_shears*.so, which needs Debian's
libMLIR and libLLVM 22 at run time) and the micro-kernel archives under shears/lib/, which
shears.compile_library links into each model (the package points the compiler at them). It is
tagged for this interpreter and platform (e.g. cp311-cp311-linux_x86_64). Install it with

    /usr/bin/python3 -m pip install --no-index build/python/dist/shears-*.whl
"""
import argparse
import base64
import hashlib
import os
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", type=Path, required=True, help="the built package directory")
    p.add_argument("--archive", type=Path, action="append", default=[],
                   help="a static library to ship in shears/lib (repeat)")
    p.add_argument("--out", type=Path, required=True, help="directory for the wheel")
    p.add_argument("--version", default="0.1.0")
    args = p.parse_args()

    files = []  # (name in the wheel, path)
    init = args.package / "__init__.py"
    extensions = sorted(args.package.glob("_shears*.so"))
    missing = [str(f) for f in [init, *args.archive] if not f.is_file()]
    if missing or not extensions:
        sys.exit(f"make_wheel.py: error: not built: {', '.join(missing) or args.package / '_shears*.so'}")
    files += [("shears/__init__.py", init)] + [(f"shears/{e.name}", e) for e in extensions]
    files += [(f"shears/lib/{a.name}", a) for a in args.archive]

    impl = f"cp{sys.version_info.major}{sys.version_info.minor}"
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    tag = f"{impl}-{impl}-{platform}"
    dist = f"shears-{args.version}.dist-info"
    metadata = (f"Metadata-Version: 2.1\nName: shears\nVersion: {args.version}\n"
                "Summary: Shears: prune, quantize and compile ONNX models with MLIR\n"
                "Requires-Dist: numpy\n").encode()
    wheel = (f"Wheel-Version: 1.0\nGenerator: shears make_wheel.py\nRoot-Is-Purelib: false\n"
             f"Tag: {tag}\n").encode()

    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"shears-{args.version}-{tag}.whl"
    # Written beside the target and renamed over it: no half-written wheel.
    fd, tmp = tempfile.mkstemp(dir=args.out, suffix=".tmp")
    os.close(fd)
    try:
        records = []
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, path in files:
                data = path.read_bytes()
                info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                info.external_attr = (0o755 if name.endswith(".so") else 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
                records.append(record_line(name, data))
            for name, data in ((f"{dist}/METADATA", metadata), (f"{dist}/WHEEL", wheel)):
                z.writestr(name, data)
                records.append(record_line(name, data))
            records.append(f"{dist}/RECORD,,")
            z.writestr(f"{dist}/RECORD", "\n".join(records) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(target)


if __name__ == "__main__":
    main()
