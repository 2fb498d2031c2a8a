# -*- Python -*-
import os
import sys

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SHEARS"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "lit_support.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.shears_obj_root, "test")

config.substitutions.append(("%PATH%", config.environment["PATH"]))
# glibc's malloc asks for transparent huge pages (which this kernel setting
# gives on request only): first touches of large tensors take 512 times
# fewer page faults, dear on a virtual machine (importing vgg11: 20 -> 6 s;
# the plain suite 7.6 -> 5.7 min). ASan's allocator does not read it.
config.environment["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
# PyTorch's OpenMP threads sleep between parallel regions instead of
# spinning: lit runs two tests at once on two cores, and the spinning was 5%
# of the CPU time of the end-to-end tests (perf, e2e/torchvision.test beside
# e2e/gpu-emulated.test), taken from the other test.
config.environment["OMP_WAIT_POLICY"] = "PASSIVE"
# %python runs scripts that drive Shears's tools, ONNX Runtime and numpy;
# %python_ext those that import Shears's Python package (PYTHONPATH set).
python = python_ext = config.python_executable
if config.shears_sanitizers:
    # Tools abort on the first report (leaks included). Python is not built
    # with ASan: to import the package it preloads the runtime that the
    # package links, and its own leaks at exit are not ours. Other scripts
    # run without it, so that ONNX Runtime's and numpy's tensors do not go
    # through ASan's allocator (a fresh mapping per large block). valgrind
    # cannot run sanitized programs; ASan's leak checker takes its place.
    config.environment["ASAN_OPTIONS"] = "verify_asan_link_order=0:detect_leaks=1"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    python_ext = (f"env LD_PRELOAD={config.asan_runtime} "
                  f"ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 {python}")
    config.available_features.add("sanitizers")
    lit_config.note("sanitized build: the valgrind tests are unsupported here (ASan's leak "
                    "checker runs in every test instead; the plain build runs them)")
# Before %python, which is a prefix of it.
config.substitutions.append(("%python_ext", python_ext))
config.substitutions.append(("%python", python))
config.substitutions.append(("%shears_src", config.shears_src_root))
config.substitutions.append(("%shears_obj", config.shears_obj_root))
# Models generated once per build by the test set-up (utils/make_models.py).
config.substitutions.append(
    ("%models", os.path.join(config.shears_obj_root, "models")))

llvm_config.use_default_substitutions()
# Tests that would skip for a missing dependency fail under CI=true instead.
if "CI" in os.environ:
    config.environment["CI"] = os.environ["CI"]

# lit.local.cfg files import test/lit_support.py (missing_dependency).
sys.path.insert(0, os.path.dirname(__file__))
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.shears_tools_dir, config.llvm_tools_dir]
tools = ["shears-opt", "shears-translate", "shears-run", "shears-compile", "shears",
         "shears-kernel-check"]
llvm_config.add_tool_substitutions(tools, tool_dirs)


def cuda_device():
    """Why GPU execution tests cannot run here, or None when a CUDA driver
    sees a device (the same driver library Shears's runtime loads)."""
    import ctypes
    path = os.environ.get("SHEARS_CUDA_DRIVER") or "libcuda.so.1"
    try:
        cuda = ctypes.CDLL(path)
    except OSError as e:
        return f"no CUDA driver ({e})"
    count = ctypes.c_int(0)
    if cuda.cuInit(0) != 0 or cuda.cuDeviceGetCount(ctypes.byref(count)) != 0:
        return "the CUDA driver does not initialize"
    return None if count.value > 0 else "the CUDA driver sees no GPU"


# GPU execution tests (REQUIRES: cuda) run where a GPU is and are reported
# unsupported elsewhere, with the reason, under CI=true too: the GPU path is
# still checked there by its PTX and by running its mapped code on the CPU.
no_gpu = cuda_device()
if no_gpu:
    lit_config.note(f"GPU execution tests are skipped (unsupported): {no_gpu}")
else:
    config.available_features.add("cuda")
