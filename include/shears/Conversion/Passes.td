//===- Passes.td - Shears lowering passes ------------------*- tablegen -*-===//

#ifndef SHEARS_CONVERSION_PASSES_TD
#define SHEARS_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertShearsToLinalg : Pass<"convert-shears-to-linalg"> {
  let summary = "Lowers shears ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Convolutions and pooling become linalg named ops (conv_2d_nchw_fchw,
    depthwise_conv_2d_nchw_chw, conv_2d_ngchw_gfchw, pooling_nchw_max/sum);
    contractions and elementwise ops become linalg.generic; shape ops become
    tensor ops. Dynamic dimensions (the batch) stay dynamic.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::tensor::TensorDialect",
  ];
}

def ShearsConvertToUKernels : Pass<"shears-convert-to-ukernels",
                                   "mlir::ModuleOp"> {
  let summary = "Turns convolutions, linear layers and MatMuls with constant "
                "weights into packed micro-kernel calls";
  let description = [{
    Data tiling at compile time: a `shears.conv2d`, `shears.linear` or
    `shears.matmul` (f32, static but for the leading batch dims) whose
    weights are constants becomes a `shears.ukernel` (`conv2d` as implicit
    GEMM, `dwconv2d` for depthwise, `gemm`) whose weight operand is a new
    constant in the kernel's packed layout (include/shears-c/Kernels.h):
    filters in row blocks of 8 output channels, k-major; GEMM right-hand
    sides in column panels of 32, k-major. The bias becomes the first part
    of the kernel's epilogue. A convolution whose output image is small
    for its reduction (7x7, 14x14) gets the channel-panel layout instead
    (flag SHEARS_UK_CONV_CHANNEL_PANELS: output channels along the vectors,
    the filter packed as GEMM panels). A 3x3 convolution with unit strides
    and dilations over a large enough image runs as Winograd F(2x2, 3x3)
    (flag SHEARS_UK_CONV_WINOGRAD, the filter transformed at compile time;
    option `winograd`). f32 max pooling becomes `maxpool2d`.
    Quantized (QDQ) convolutions and linear layers become `qconv2d` and
    `qgemm` (docs/Quantization.md) unless `integer-kernels` is off; for
    `isa=avx2` only those whose integer weights are all in [-64, 64]
    (`shears quantize --reduce-range`: vpmaddubsw sums two products in 16
    bits), the others run in f32. A
    linear layer whose weight has at most `sparse-density` of its values
    non-zero (pruned) becomes `spgemm` instead, the weight stored as its
    non-zeros by output row; with `time-sparse`, only where both kernels
    timed on the layer, on this machine, show spgemm the faster at every
    batch (docs/SparseStorage.md); a linear layer whose discardable
    attribute `shears.kernel` is "gemm" or "spgemm" runs on that kernel
    without timing (spgemm only where the density allows it), which is how a
    caller that timed the layers itself pins its choice (shears report
    --measure); any other value, or the attribute on another op, is an
    error. So does a pruned 1x1 convolution (unit
    strides, no padding, one group), on planes (flag
    SHEARS_UK_SPGEMM_PLANES: NCHW images); another pruned convolution of
    one group becomes `spconv2d`, its filter
    in spgemm's layout; both timed against `conv2d` on one image of their
    shape. A linear layer with weight-only
    int4 or binary weights (their integers all in [-8, 7], or all +-1 with
    a scale per output channel) becomes `wqgemm`, the weight kept in 4 or 1
    bits. Other contractions stay for the linalg path.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
  let options = [
    Option<"releaseWeights", "release-weights", "bool", "false",
           "Free a packed weight's original bytes once no op of the module "
           "refers to them (only when no other module shares the context's "
           "blobs: the tools set it for the model they load)">,
    Option<"integerKernels", "integer-kernels", "bool", "true",
           "Run quantized (QDQ) convolutions and linear layers on the "
           "integer kernels qconv2d and qgemm (off: f32 kernels on weights "
           "dequantized at compile time, for CPUs without AVX512-VNNI, AMX "
           "or AVX2, where the integer kernels are plain loops)">,
    Option<"sparseDensity", "sparse-density", "double",
           "::mlir::shears::kDefaultSparseDensity",
           "Linear layers and convolutions (one group) with at most this "
           "fraction of non-zero weights run on "
           "the sparse kernels spgemm and spconv2d (0: never)">,
    Option<"timeSparse", "time-sparse", "bool", "false",
           "Time gemm and spgemm on each linear layer at or below "
           "sparse-density, on this machine with the kernel variant `isa`, "
           "at batches 1, 4, 8 and 64 (a convolution: conv2d and the sparse "
           "kernel on one image), and keep the sparse one only where it takes "
           "at most 0.9 of the dense kernel's time at each (SparseChoice.h; "
           "where this machine cannot run `isa`, the density alone "
           "decides)">,
    Option<"isa", "isa", "std::string", "\"host\"",
           "Kernel variant time-sparse times: avx512, avx2, generic or host">,
    Option<"explainSparse", "explain-sparse", "bool", "false",
           "With time-sparse, a remark on each timed layer with both "
           "kernels' times and the choice">,
    Option<"winograd", "winograd", "bool", "true",
           "Run 3x3 convolutions with unit strides and dilations (one "
           "group, at least 16 input and output channels, output images of "
           "at least 8x8, Kernels.h) as Winograd F(2x2, 3x3): 16 "
           "multiply-adds for 2x2 outputs instead of 36, outputs within "
           "about 1e-5 relative of the direct convolution's">,
    Option<"winogradTile", "winograd-tile", "int64_t", "0",
           "Winograd's output tile: 2; 4 for F(4x4, 3x3) on output images of "
           "at least 28x28 (36 multiply-adds for 16 outputs: resnet18's 3x3 "
           "layers on 56x56 and 28x28 1.6x faster than with 2, but outputs "
           "within about 1e-4 relative, not 1e-5); or 0 (the default): 4 "
           "where such an image has at most 32 input channels (F(4x4)'s "
           "error grows with them: under 1e-5 there), else 2">,
  ];
}

def ShearsFoldInputGathers : Pass<"shears-fold-input-gathers"> {
  let summary = "Folds constant gathers of a layer's input channels into its "
                "weight";
  let description = [{
    A `shears.linear` or ungrouped `shears.conv2d` with a constant weight
    whose input is a `shears.gather` along its input channels by a constant
    vector of indices (what shears-eliminate-dead-neurons leaves in front of
    the layers reading a model input whose unread features it removed)
    reads the gather's data instead, through a weight widened to all the
    features, with zero columns for those not gathered. Done where the
    weight has at most `kDefaultSparseDensity` of its values non-zero (a
    sparse kernel skips the zero columns), or the multiply-adds the zero
    columns add for each gathered feature of a row are at most 64 (about
    the cost of the gather's copy); other users keep the gather.

    ```mlir
    %g = shears.gather %x, %idx {axis = 1 : i64} : (tensor<?x784xf32>, tensor<770xi64>) -> tensor<?x770xf32>
    %y = shears.linear %g, %w : (tensor<?x770xf32>, tensor<243x770xf32>) -> tensor<?x243xf32>
    // becomes
    %y = shears.linear %x, %w_wide : (tensor<?x784xf32>, tensor<243x784xf32>) -> tensor<?x243xf32>
    ```
  }];
}

def ShearsFuseEpilogues : Pass<"shears-fuse-epilogues"> {
  let summary = "Fuses residual adds, relu and clip into micro-kernels";
  let description = [{
    An elementwise op that is the only user of a `shears.ukernel` result
    joins the kernel's epilogue, applied to each output tile in registers:
    a `shears.add` of a tensor of the output's type (residual), then
    `shears.relu` or `shears.clip`, in the order the kernels apply them
    (bias, residual, activation). A residual computed in the function (not
    an argument or a constant) that no op reads after the add, nor the
    kernel itself, becomes the output too of a kernel that can compute in
    its residual's buffer (conv2d, gemm: Kernels.h): bufferization then puts
    the result there, with no buffer of its own.
  }];
}

def ShearsFuseRequantization : Pass<"shears-fuse-requantization"> {
  let summary = "Passes u8 tensors between integer micro-kernels";
  let description = [{
    An integer kernel (`qgemm`, `qconv2d`) whose f32 result only integer
    kernels read, each as its input and each quantizing it with the same
    scale and zero point, quantizes its output to u8 in its epilogue
    instead (SHEARS_UK_QUANT_OUTPUT_U8), and they read those bytes
    (SHEARS_UK_QUANT_INPUT_U8): the same integers, computed once, at a
    quarter of the memory traffic. Where other ops read the result in f32
    too (a residual block's output, which the next block also adds), the
    kernel writes the f32 output and its u8 copy (SHEARS_UK_QUANT_OUTPUT_BOTH,
    two results), and the integer kernels read the copy. Runs after
    shears-fuse-epilogues, whose activation comes before the quantization.
  }];
  let dependentDialects = ["mlir::tensor::TensorDialect"];
}

def ShearsOutlineShapeChecks
    : Pass<"shears-outline-shape-checks", "mlir::ModuleOp"> {
  let summary = "Checks at run time that the inputs' dynamic dimensions agree";
  let description = [{
    Runs on linalg on tensors, before bufferization. Where the entry function
    assumes two sizes equal and one of them is dynamic, a wrong input shape
    would read or write out of bounds; this pass states each assumption as a
    comparison of sizes computed from the inputs' dimensions alone, in a new
    function `<entry>_check_shapes`, with the same arguments, that returns 0
    or 1 + the index of the first assumption that fails. The assumptions:
    the operand dimensions that a linalg op's indexing maps tie to one loop;
    a `tensor.cast` to a static dimension; a `tensor.expand_shape` keeping
    each group's element count; a `tensor.insert_slice` source filling its
    slice. The module attribute `shears.shape_checks` lists their messages,
    in order, for shears-emit-entry-point, whose `shears_invoke` runs the
    check first. Sizes that depend on tensor contents are not checked.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::func::FuncDialect",
    "mlir::tensor::TensorDialect",
  ];
  let options = [
    Option<"entryName", "entry", "std::string", "\"shears_model\"",
           "Name of the entry function">,
  ];
}

def ShearsPlanMemory : Pass<"shears-plan-memory", "mlir::ModuleOp"> {
  let summary = "Places intermediate buffers in one workspace planned at "
                "compile time";
  let description = [{
    Runs after bufferization, before buffer deallocation. Every memref.alloc
    of the entry function that does not escape and whose size is static or
    follows one input dimension (the batch) becomes a memref.view into a new
    last argument of the entry function, `memref<?xi8>`: the workspace, which
    the runtime allocates once per model and reuses across calls. Buffers
    whose live ranges do not overlap share bytes (greedy interval colouring,
    largest first). The module attribute `shears.workspace` = {bytes, input,
    dim} gives its size at batch 1 and the input dimension that scales it.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
  ];
  let options = [
    Option<"entryName", "entry", "std::string", "\"shears_model\"",
           "Name of the entry function">,
  ];
}

def ShearsLowerUKernels : Pass<"shears-lower-ukernels", "mlir::ModuleOp"> {
  let summary = "Turns shears.ukernel on memrefs into calls of the kernels";
  let description = [{
    Runs after bufferization. Each `shears.ukernel` becomes a call of
    `shears_uk_<kernel>_<isa>(buffers, dims, iparams, fparams)`: operand
    pointers and the first input's sizes in stack arrays, parameters in
    constant globals. Operands that are strided views go through dense
    copies. `isa` picks the kernel variant: avx512, avx2, generic, or host
    (the best this machine runs). With `profile-sites`, each call is preceded
    by `shears_uk_profile_site(i)` for the i-th kernel, and the module gets
    `shears.profile_sites`, the layer (ONNX node) name of each i, so that a
    profile can say which layer each kernel's time was spent in (shears
    report --measure; include/shears-c/Kernels.h).
  }];
  let dependentDialects = [
    "mlir::LLVM::LLVMDialect", "mlir::arith::ArithDialect",
    "mlir::func::FuncDialect", "mlir::memref::MemRefDialect",
  ];
  let options = [
    Option<"isa", "isa", "std::string", "\"host\"",
           "Kernel variant: avx512, avx2, generic or host">,
    Option<"profileSites", "profile-sites", "bool", "false",
           "Mark each kernel call's site for the profile">,
  ];
}

def ShearsMarkBatchSeparable : Pass<"shears-mark-batch-separable",
                                    "mlir::ModuleOp"> {
  let summary = "Marks models whose batch the runtime may run in chunks";
  let description = [{
    Sets the unit module attribute `shears.batch_separable` when every input
    and output of the entry function has a dynamic leading dimension (the
    batch) and each batch element of the outputs depends only on the same
    batch element of the inputs, as far as a conservative op-by-op check on
    the shears dialect shows (no reduction, concatenation, slice, softmax or
    arg-extremum along dimension 0, no reshape moving elements across it, no
    dynamic quantization; unknown ops keep the model whole).
    shears-emit-entry-point records it in the signature as
    `"batch":{"dim":0}`, and the runtime may then run a large batch as calls
    on consecutive chunks of it, so that each call's intermediates stay in
    the caches (docs/CPUCodegen.md, "Batch chunks").
  }];
}

def ShearsPrepareEntry : Pass<"shears-prepare-entry", "mlir::ModuleOp"> {
  let summary = "Names the entry function for the C ABI and records its signature";
  let description = [{
    Renames the module's entry function (`main`, or the only public one) to
    `entry`, marks it `llvm.emit_c_interface`, and stores its signature as
    JSON in the module attribute `shears.signature` (input/output names from
    `shears.name`, dtypes, shapes with -1 for dynamic dims) for
    shears-emit-entry-point.
  }];
  let options = [
    Option<"entry", "entry", "std::string", "\"shears_model\"",
           "Name of the entry function in compiled code">,
  ];
}

def ShearsVerifyBackendContract : Pass<"shears-verify-backend-contract",
                                      "mlir::ModuleOp"> {
  let summary = "Checks that only linalg, tensor, arith, math and func remain";
  let description = [{
    Run before bufferization: any op outside those dialects (a shears op that
    was not lowered, say) is an error located at the op, so the backend never
    sees IR it cannot handle.
  }];
}

def ShearsOrderLoops : Pass<"shears-order-loops"> {
  let summary = "Orders linalg loops so that LLVM vectorizes the innermost";
  let description = [{
    Generalizes linalg ops with reductions (convolutions, pooling,
    contractions) and interchanges their loops: parallel loops outermost,
    then the reductions, and innermost the parallel loop that walks the
    output's contiguous last dimension (the output width of a convolution,
    the columns of a matmul). After lowering to loops, that innermost loop
    reads and writes consecutive elements with loop-invariant weights, which
    LLVM's loop vectorizer turns into SIMD code. Multiply-adds in these
    bodies are marked `contract` so they become FMAs.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def ShearsCopyResults : Pass<"shears-copy-results", "mlir::ModuleOp"> {
  let summary = "Makes public functions return freshly allocated buffers";
  let description = [{
    After bufferization a returned memref may alias an argument or a global.
    The C ABI hands every output buffer to the caller to free, so each one is
    copied into a new allocation here (buffer deallocation then frees the
    original where the function owns it).

    With `in-place`, a result that is already a buffer the function
    allocates (a `memref.alloc` in its body, returned once) is handed over
    as it is: the op that computes it writes the caller's buffer, and no
    copy follows (shears-plan-memory leaves such a buffer out of the
    workspace). The GPU backend needs every result filled by a copy, so it
    runs the pass without.
  }];
  let options = [
    Option<"inPlace", "in-place", "bool", /*default=*/"false",
           "Return buffers the function allocates without copying them">,
  ];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
}

def ShearsLowerCopies : Pass<"shears-lower-copies"> {
  let summary = "Turns memref.copy into linalg.copy";
  let description = [{
    memref.copy between buffers with non-identity layouts lowers to a call
    into MLIR's C runner utils, which neither the JIT nor a compiled model
    links. As linalg.copy it becomes plain loops.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def ShearsApproximateMath : Pass<"shears-approximate-math"> {
  let summary = "Replaces erf, exp and tanh by polynomial approximations";
  let description = [{
    Runs after linalg is lowered to loops. `math.erf`, `math.exp` and
    `math.tanh` would become calls of libm's scalar functions, one element
    at a time, which LLVM's vectorizer cannot widen: in a small vision
    transformer at batch 8, GELU's erf alone took 15% of the run and
    softmax's exp 5%. Upstream MLIR's polynomial approximations (the ones
    IREE and onnx-mlir use on the CPU) are arithmetic that vectorizes;
    their error is a few ulp (erf: below 1.2e-7 absolute), far inside the
    1e-4 that Shears's outputs are checked to against ONNX Runtime.
  }];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::math::MathDialect",
                           "mlir::vector::VectorDialect"];
}

def ShearsPromoteAccumulators : Pass<"shears-promote-accumulators"> {
  let summary = "Keeps a reduction's accumulator in a register across its loop";
  let description = [{
    Runs after linalg is lowered to scf loops. A reduction lowered to loops
    loads its output element, adds to it and stores it back on every
    iteration of the reduction loop: `out[i] = out[i] + x[i, k]`. LLVM
    cannot keep that element in a register, because it cannot prove that
    `out` and `x` do not overlap, so the loop is a chain through memory (and
    fully unrolled, a block whose scheduling grows quadratically).

    Linalg's semantics give what LLVM cannot prove: an op's inputs do not
    overlap the outputs it writes. For each `scf.for`, innermost first,
    whose only memory writes are stores at loop-invariant indices, each
    into a different memref that the loop reads only at those indices before
    the store, the element is loaded once before the loop, carried as an
    `iter_args` value, and stored once after it. A nest of reductions is
    promoted one loop at a time, outwards, while the indices stay invariant.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect",
                           "mlir::memref::MemRefDialect"];
}

def ShearsOutlineLoops : Pass<"shears-outline-loops", "mlir::ModuleOp"> {
  let summary = "Moves each top-level loop nest into its own function";
  let description = [{
    Runs after linalg is lowered to scf loops. In every function with at
    least `min-loops` top-level `scf.for` nests, each nest (what one linalg
    op became) moves into a new private function `<name>_loop<i>` with
    `passthrough = ["noinline"]`, called where the nest was: constants it
    uses are cloned into it, other values become arguments. LLVM's code
    generation grows faster than linearly with the size of a function, so a
    deep model compiles in time linear in its depth.
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
  let options = [
    Option<"minLoops", "min-loops", "int64_t", "2",
           "Functions with fewer top-level loop nests stay as they are">,
  ];
}

def ShearsEmitEntryPoint : Pass<"shears-emit-entry-point", "mlir::ModuleOp"> {
  let summary = "Adds the `shears_invoke` wrapper and `shears_signature`";
  let description = [{
    Runs on the LLVM dialect. Adds `void shears_invoke(void **args)`, which
    calls the entry function's C interface with `args[0]` the results buffer
    and `args[1 + i]` the descriptor of input i, and the NUL-terminated JSON
    global `shears_signature` with input/output names, dtypes and shapes
    (from the `shears.signature` attribute of shears-prepare-entry). With a
    `<entry>_check_shapes` (shears-outline-shape-checks), `shears_invoke`
    calls it first and stores its result in the `int32_t` that the argument
    after the entry function's last points to; the entry function runs only
    when it is 0. The signature's `checks` lists the messages.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
  let options = [
    Option<"entry", "entry", "std::string", "\"shears_model\"",
           "Name of the entry function">,
  ];
}

//===----------------------------------------------------------------------===//
// GPU (NVVM)
//===----------------------------------------------------------------------===//

def ShearsPlaceOnDevice : Pass<"shears-place-on-device", "mlir::ModuleOp"> {
  let summary = "Puts the entry function's buffers in GPU memory";
  let description = [{
    Runs after bufferization and buffer deallocation, before linalg is mapped
    to GPU loops. Everything the entry function computes then lives in device
    memory, and only `gpu` ops move bytes between host and device:
    - each input is copied to a device buffer on entry (`gpu.alloc`,
      `gpu.memcpy`), freed before the return;
    - each constant global (a weight) is read through its device copy,
      uploaded on first use and kept for the life of the model instance: a
      pointer slot per weight (`__shears_device_<name>`) filled by the
      runtime's `shears_gpu_constant(slot, host, bytes)`; the new public
      function `shears_release` frees them (the runtime calls it when the
      model is freed);
    - the workspace of shears-plan-memory becomes one device allocation per
      call of the size it planned (the module attribute `shears.workspace`
      is consumed: the host passes no workspace);
    - every other `memref.alloc`/`memref.dealloc` becomes
      `gpu.alloc`/`gpu.dealloc`;
    - each returned buffer stays on the host (malloc'd, for the caller) and
      is filled by a `gpu.memcpy` from the device result (through a dense
      device copy when the result is a strided view).
    Host code that would read or write device memory itself (a
    `memref.load` or `memref.store` outside a linalg op) is an error located
    at the op.
  }];
  let dependentDialects = [
    "mlir::LLVM::LLVMDialect", "mlir::arith::ArithDialect",
    "mlir::func::FuncDialect", "mlir::gpu::GPUDialect",
    "mlir::memref::MemRefDialect",
  ];
  let options = [
    Option<"entry", "entry", "std::string", "\"shears_model\"",
           "Name of the entry function">,
  ];
}

def ShearsMapToGPU : Pass<"shears-map-to-gpu", "mlir::func::FuncOp"> {
  let summary = "Turns linalg ops on memrefs into explicitly parallel loops "
                "mapped to GPU blocks and threads";
  let description = [{
    Each linalg op becomes an `scf.parallel` over its parallel dimensions
    (interchanged outermost first, so that a reduction never splits a
    kernel) with its reductions as sequential `scf.for` loops inside. The
    parallel dimensions are collapsed into one and tiled by `block-size`:
    the tile loop is mapped to `block_x`, the loop within a tile to
    `thread_x` (one output element per thread), any nested parallel loop to
    `sequential`. An op with no parallel dimension runs in one thread.
    Where threads run reductions, each computes 4 consecutive elements of a
    static dimension (an outer one where one fits, so that consecutive
    threads keep consecutive elements of the innermost): the 4 are unrolled
    and jammed into the reduction loops, so each value loaded serves 4
    accumulators.
    Consecutive ops over the same iteration space where each element of one
    feeds the same element of the next (a convolution and the relu after it,
    a chain of elementwise ops) run in one kernel, unless `fuse` is off:
    buffers they share otherwise must be disjoint (workspace views at
    disjoint offsets of shears-plan-memory's plan, or distinct allocations). A
    reduction's output element is carried through its loops in a register
    (loaded once before, stored once after) where nothing else in the loop
    touches its buffer. `convert-parallel-loops-to-gpu` then makes each a
    `gpu.launch`.
    With `tile-contractions` (the default), an f32 matrix product (batched
    or not) or convolution (as an implicit GEMM: rows are the dimensions
    only one operand has, columns those only the other has) whose rows and
    columns each number at least 64 and make at least `min-tiles` tiles
    (dynamic dimensions counting as 1) becomes a `gpu.launch` of its own
    instead: 128x128 output tiles per
    block of 256 threads, 8-deep slices of both operands staged in shared
    memory (workgroup attributions, two barriers a step), 8x8 outputs per
    thread accumulated in private memory from 4-wide vector loads, the next
    slices fetched while the current ones are used, edges guarded.
    With `precision` tf32, fp16 or bf16 the tiled kernels run on tensor
    cores: the slices hold the operands rounded to tf32 (to nearest, ties
    away from zero) or converted to f16 or bf16 (16 deep), and each of the
    block's 8 warps computes 64x32 outputs (f32 sums). tf32 and fp16: as 4x2
    `gpu.subgroup_mma` fragments of 16x16, each of which reaches the result
    through a 16x16 scratch of its warp in shared memory, with the same
    guards. bf16 (no WMMA form in the GPU dialect): as 4x4 `nvvm.mma.sync`
    products of 16x8x16 on registers packed from the slices as PTX lays
    them out, the sums in private memory. Ops below the tiled kernel's
    thresholds stay in f32.
  }];
  let dependentDialects = [
    "mlir::affine::AffineDialect", "mlir::arith::ArithDialect",
    "mlir::gpu::GPUDialect", "mlir::linalg::LinalgDialect",
    "mlir::LLVM::LLVMDialect", "mlir::memref::MemRefDialect",
    "mlir::NVVM::NVVMDialect", "mlir::scf::SCFDialect",
    "mlir::vector::VectorDialect",
  ];
  let options = [
    Option<"blockSize", "block-size", "int64_t", "256",
           "Threads per block">,
    Option<"fuse", "fuse", "bool", "true",
           "Run an op and the elementwise ops after it in one kernel">,
    Option<"tileContractions", "tile-contractions", "bool", "true",
           "Run large f32 matrix products and convolutions as shared-memory "
           "tiled kernels">,
    Option<"minTiles", "min-tiles", "int64_t", "256",
           "Tiles of 128x128 outputs a contraction needs for the tiled kernel "
           "(fewer leave the GPU's multiprocessors idle: an H200 has 132)">,
    Option<"precision", "precision", "std::string", "\"fp32\"",
           "What the tiled kernels multiply in: fp32 (CUDA cores), tf32, "
           "fp16 or bf16 (tensor cores, operands rounded, sums in f32)">,
  ];
}

def ShearsAlignSharedMemory
    : Pass<"shears-align-shared-memory", "mlir::gpu::GPUModuleOp"> {
  let summary = "Aligns kernels' shared-memory buffers for 128-bit accesses "
                "and WMMA";
  let description = [{
    Runs after kernel outlining. Gives each workgroup attribution of each
    `gpu.func` that has none an `llvm.align` of 32 bytes, which the NVVM
    lowering puts on the buffer's `.shared` variable: vector loads of 4
    floats from it (`ld.shared.v4.f32`, as shears-map-to-gpu's tiled matrix
    products make) need 16, WMMA's fragment loads and stores (its tensor
    core kernels) 32, and `gpu.launch` cannot state it.
  }];
}

def ShearsEmulateGPU : Pass<"shears-emulate-gpu", "mlir::ModuleOp"> {
  let summary = "Runs GPU-mapped code on the CPU, for testing the mapping "
                "where there is no GPU";
  let description = [{
    Runs after `convert-parallel-loops-to-gpu`, in place of kernel outlining
    and NVVM: each `gpu.launch` becomes `scf.for` loops over its blocks and
    threads (z, y, x, outermost first) around its body, `gpu.alloc`,
    `gpu.dealloc` and `gpu.memcpy` become their memref counterparts, and the
    weights' device copies (`shears_gpu_constant`) are the weights
    themselves. What the GPU pipeline computes can then be compared with the
    CPU's by numbers (`shears run --device cuda --emulate-gpu`). Where a
    kernel has barriers (the tiled contractions of shears-map-to-gpu), each
    phase between two barriers runs for every thread of a block before the
    next: workgroup attributions become one buffer, private attributions one
    slice per thread of a buffer, and a value one phase computes from ids
    and constants is computed again in the phase that uses it. A barrier
    under a condition or in a loop that carries values, a loaded value that
    crosses a barrier, clusters and dynamic shared memory are errors.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::memref::MemRefDialect",
    "mlir::scf::SCFDialect",
  ];
}

#endif // SHEARS_CONVERSION_PASSES_TD
