//===- Passes.td - Shears transformation passes ------------*- tablegen -*-===//

#ifndef SHEARS_TRANSFORMS_PASSES_TD
#define SHEARS_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def ShearsSummary : Pass<"shears-summary", "mlir::ModuleOp"> {
  let summary = "Prints a per-layer table of parameters and MACs";
  let description = [{
    Prints, for every op with a weight (found through PrunableOpInterface),
    its ONNX node name, weight shape, parameter count and multiply-accumulates
    per batch element, then the op counts and totals. The IR is unchanged.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let statistics = [
    Statistic<"numParameters", "parameters", "Weight and bias elements">,
  ];
}

def ShearsPrintChannelFlow : Pass<"shears-print-channel-flow"> {
  let summary = "Reports what the pruning interfaces say about each op";
  let description = [{
    Emits a remark on every op that implements PrunableOpInterface or
    ChannelFlowOpInterface: the weight's output/input channel dimensions and
    groups, and each dimension mapping from an operand to a result. Meant for
    tests and for checking how a new op answers the interfaces.
  }];
}

def ShearsInsertMasks : Pass<"shears-insert-masks", "mlir::ModuleOp"> {
  let summary = "Decides which weights go and inserts shears.mask ops";
  let description = [{
    For every op with a constant weight (found through PrunableOpInterface),
    scores its weights with `criterion`, groups them by `granularity` and
    masks the lowest-scoring `sparsity` fraction, per layer or with one
    threshold across layers (`scope=global`, scores normalized per layer for
    structures). Structured granularities decide per channel group (see
    ChannelGroups): coupled channels are kept or dropped together, scored by
    the sum of their members' scores. Deterministic; sparsity 0 inserts
    nothing.

    Criteria: `magnitude` (|w|; L1 of a structure), `l2` (L2 norm of a
    structure), `random` (seeded), `taylor` (|w * dL/dw|, first-order Taylor:
    the gradients come from the .npz file `gradients`, one array per weight
    named like its ONNX initializer, as utils/onnx_gradients.py writes them),
    `activation` (Wanda: |w| * the L2 norm of the input channel the weight
    reads, over calibration inputs; the norms come from the .npz file
    `activations`, one vector per layer named like its ONNX node, as
    `shears calibrate` writes them). Structures sum their weights' scores.
    A channel group (channel granularity) sums its producers' rows, each
    relative to its layer's mean, a block of channels (an attention head)
    by its rows' mean; with `activation` it also counts what the channel
    carries into the layers that read it (|w| * norm over its columns
    there, relative to the consumer's mean column), which ranks heads by
    their contribution to the output projection.
    Granularities: `unstructured`, `channel` (output channels/filters),
    `input-channel`, `n:m` (of every `m` consecutive weights along the input
    dim, the `n` largest are kept, as in 2:4; `sparsity` is then 1 - n/m and
    ignored), `block` (`block-rows` x `block-cols` tiles of a 2-D weight
    view). `layer-sparsity` overrides the sparsity of the layers whose node
    name matches a regex (`REGEX=SPARSITY`, the first match wins); with
    `scope=global` those layers keep their own sparsity outside the global
    threshold.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"sparsity", "sparsity", "double", "0.5",
           "Fraction of weights (or structures) to remove, in [0, 1)">,
    Option<"criterion", "criterion", "mlir::shears::PruneCriterion",
           "mlir::shears::PruneCriterion::Magnitude",
           "How weights (or structures) are scored",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::PruneCriterion::Magnitude, "magnitude",
                        "|w| (L1 of a structure)"),
             clEnumValN(mlir::shears::PruneCriterion::L2, "l2",
                        "L2 norm of a structure"),
             clEnumValN(mlir::shears::PruneCriterion::Random, "random",
                        "seeded random scores (a baseline)"),
             clEnumValN(mlir::shears::PruneCriterion::Taylor, "taylor",
                        "|w * dL/dw| (gradients=FILE.npz)"),
             clEnumValN(mlir::shears::PruneCriterion::Activation, "activation",
                        "|w| * input norm, Wanda (activations=FILE.npz)"),
             clEnumValN(mlir::shears::PruneCriterion::OBS, "obs",
                        "SparseGPT reconstruction (hessians=FILE.npz)"))}]>,
    Option<"granularity", "granularity", "mlir::shears::PruneGranularity",
           "mlir::shears::PruneGranularity::Unstructured",
           "What is removed together",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::PruneGranularity::Unstructured,
                        "unstructured", "single weights"),
             clEnumValN(mlir::shears::PruneGranularity::Channel, "channel",
                        "output channels, with their coupled channels"),
             clEnumValN(mlir::shears::PruneGranularity::InputChannel,
                        "input-channel", "input channels of each layer"),
             clEnumValN(mlir::shears::PruneGranularity::NM, "n:m",
                        "n of every m consecutive input weights kept"),
             clEnumValN(mlir::shears::PruneGranularity::Block, "block",
                        "block-rows x block-cols blocks"))}]>,
    Option<"n", "n", "int64_t", "2", "N of N:M: weights kept per group of M">,
    Option<"m", "m", "int64_t", "4", "M of N:M">,
    Option<"blockRows", "block-rows", "int64_t", "4", "Rows of a block">,
    Option<"blockCols", "block-cols", "int64_t", "4", "Columns of a block">,
    Option<"scope", "scope", "mlir::shears::PruneScope",
           "mlir::shears::PruneScope::Layer", "Where the threshold is taken",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::PruneScope::Layer, "layer",
                        "each layer at the sparsity"),
             clEnumValN(mlir::shears::PruneScope::Global, "global",
                        "one threshold over all layers"))}]>,
    Option<"exclude", "exclude", "std::string", "\"\"",
           "Regex of ONNX node names whose weights stay dense">,
    ListOption<"layerSparsity", "layer-sparsity", "std::string",
               "REGEX=SPARSITY: the sparsity of layers whose node name "
               "matches REGEX">,
    Option<"minChannels", "min-channels", "int64_t", "1",
           "Channels kept at least per layer or group">,
    Option<"roundTo", "round-to", "int64_t", "1",
           "granularity=channel: channels kept per group rounded up to a "
           "multiple of this (8 or 16 suit engines with blocked layouts)">,
    Option<"seed", "seed", "int64_t", "0", "Seed of the random criterion">,
    Option<"gradients", "gradients", "std::string", "\"\"",
           ".npz of dL/dw per ONNX initializer name (criterion=taylor)">,
    Option<"activations", "activations", "std::string", "\"\"",
           ".npz of input-channel L2 norms per ONNX node name "
           "(criterion=activation)">,
    Option<"hessians", "hessians", "std::string", "\"\"",
           ".npz of the Gram matrices of the layers' inputs per ONNX node "
           "name (NAME.gram, from shears calibrate --gram; criterion=obs)">,
    Option<"damp", "damp", "double", "0.01",
           "criterion=obs and reconstruct: added to the Gram matrix's "
           "diagonal, relative to its mean (> 0)">,
    Option<"reconstruct", "reconstruct", "bool", "false",
           "granularity=channel: refit the layers that read pruned channels "
           "by least squares on their calibration inputs (hessians)">,
  ];
  let statistics = [
    Statistic<"numMaskedLayers", "masked-layers", "Layers given a mask">,
    Statistic<"numRefitLayers", "refit-layers",
              "Layers refit to the channels they keep (reconstruct)">,
    Statistic<"numPrunedWeights", "pruned-weights", "Weights masked to zero">,
  ];
}

def ShearsFoldMasks : Pass<"shears-fold-masks", "mlir::ModuleOp"> {
  let summary = "Materializes masked weights as new constants";
  let description = [{
    Replaces `shears.mask %w, %m` of constants by a constant with the masked
    weights zeroed (a new dense_resource blob); the old blobs go with their
    last user.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
}

def ShearsEliminateDeadNeurons
    : Pass<"shears-eliminate-dead-neurons", "mlir::ModuleOp"> {
  let summary = "Physically removes channels that cannot contribute";
  let description = [{
    Finds, per channel group (ChannelGroups), the channels whose weights are
    all zero in every producing layer and removes them from every member:
    output channels of producers (and their bias entries), input channels of
    consumers, batch_norm and other per-channel parameters, concat layouts
    and flatten blocks. A removed channel whose producer bias is non-zero
    still contributes a constant; it is folded into the consumers' biases
    (through relu where that is exact) so outputs do not change. A channel
    that no consumer reads (its weight columns are all zero in every
    consumer) goes from every member as well, whatever its producers compute.
    Input features of the model that no layer reads (the layers taking a
    function argument have all-zero weight columns for them: pixels or
    embedding inputs pruned away) go from those layers' weights; the layers
    then read the kept features through a `shears.gather`, so the model's
    inputs stay as they were, unless `shrink-inputs` removes them from the
    function's arguments too (its `shears.kept_features` attribute lists the
    original index of each feature kept).
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"shrinkInputs", "shrink-inputs", "bool", "false",
           "Also drop unused input features (changes the model's inputs)">,
  ];
  let statistics = [
    Statistic<"numRemovedChannels", "removed-channels",
              "Channels removed from producers">,
    Statistic<"numRemovedWeights", "removed-weights",
              "Weight and bias elements removed">,
    Statistic<"numRemovedInputs", "removed-inputs",
              "Input features no layer reads, removed">,
  ];
}

def ShearsQuantize : Pass<"shears-quantize", "mlir::ModuleOp"> {
  let summary = "Quantizes layers to int8 as quantize/dequantize pairs (QDQ)";
  let description = [{
    Rewrites every layer with a constant weight (convolutions and linear
    layers, found through PrunableOpInterface and named by their ONNX node)
    whose name `exclude` does not match:
    - its weight becomes a constant of `i8` behind a `shears.dequantize`,
      as `weights` says: `int8` with one scale per output channel
      (symmetric: scale = max|w| / 127, zero point 0; with `reduce-range`,
      max|w| / 64, as ONNX Runtime's reduce_range, so that AVX2's integer
      kernel can sum pairs of products in 16 bits); `int4`, values in
      [-8, 7] with one scale per `group-size` consecutive weights of an
      output channel (along a linear layer's input dim, or a filter's input
      channels and window flattened, but a filter takes int8 with static
      activations, as the integer convolution kernels need; a channel
      shorter than a group is one group; scale = max|w| / 7; the groups
      dequantized as rows of `group-size`, then reshaped); `binary`, the
      sign (+-1) with one scale per output channel, the mean of |w|
      (XNOR-Net). `layer-weights`
      overrides `weights` for the layers whose name its regex matches;
    - with `activations=static`, its input goes through `shears.quantize`
      to `ui8` and back with one scale and zero point for the tensor
      (asymmetric: [lo, hi] mapped onto [0, 255], 0 exactly representable),
      the range chosen by `method` from the statistics in `statistics`
      (the .npz `shears calibrate --quantization` writes: per node `NAME.range`
      and `NAME.histogram`):
      `minmax` takes the range seen; `percentile` clips both ends at the
      `percentile`-th percentile of |x|; `entropy` clips at the threshold
      whose 8-bit quantization of the histogram of |x| loses the least
      information (Kullback-Leibler divergence, as TensorRT and ONNX Runtime
      calibrate).
    With `activations=dynamic`, a linear layer's input goes through
    `shears.dynamic_quantize` (its own range, at run time, as ONNX's
    DynamicQuantizeLinear) and `shears.dequantize`; no statistics are
    needed. Biases stay f32. The result runs through the float lowering as
    fake quantization, and exports as QDQ ONNX.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"weights", "weights", "mlir::shears::WeightFormat",
           "mlir::shears::WeightFormat::Int8", "The format of the weights",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::WeightFormat::Int8, "int8",
                        "8 bits, a scale per output channel"),
             clEnumValN(mlir::shears::WeightFormat::Int4, "int4",
                        "4 bits, a scale per group of group-size weights"),
             clEnumValN(mlir::shears::WeightFormat::Binary, "binary",
                        "the sign, a scale per output channel"))}]>,
    ListOption<"layerWeights", "layer-weights", "std::string",
               "REGEX=FORMAT: the weights' format (int8, int4 or binary) of "
               "layers whose node name matches REGEX (the first match wins)">,
    Option<"reduceRange", "reduce-range", "bool", "false",
           "weights=int8: integers in [-64, 64] (7 bits and a sign), for "
           "CPUs whose integer kernel is AVX2's vpmaddubsw (16-bit pairs)">,
    Option<"groupSize", "group-size", "int64_t", "64",
           "weights=int4: weights per scale (a channel's last group padded "
           "with zeros)">,
    Option<"activations", "activations", "mlir::shears::QuantizedActivations",
           "mlir::shears::QuantizedActivations::Static",
           "How layer inputs are quantized",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::QuantizedActivations::Static, "static",
                        "ui8 with a scale calibrated ahead of time"),
             clEnumValN(mlir::shears::QuantizedActivations::Dynamic,
                        "dynamic",
                        "ui8 with the range of each input at run time "
                        "(linear layers; convolutions keep f32 inputs)"),
             clEnumValN(mlir::shears::QuantizedActivations::None, "none",
                        "not at all (weight-only quantization)"))}]>,
    Option<"method", "method", "mlir::shears::CalibrationMethod",
           "mlir::shears::CalibrationMethod::MinMax",
           "How an activation range is chosen from its statistics",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::CalibrationMethod::MinMax, "minmax",
                        "the range seen"),
             clEnumValN(mlir::shears::CalibrationMethod::Percentile,
                        "percentile", "clipped at a percentile of |x|"),
             clEnumValN(mlir::shears::CalibrationMethod::Entropy, "entropy",
                        "clipped where the KL divergence is least"))}]>,
    Option<"percentile", "percentile", "double", "99.99",
           "method=percentile: the percentile of |x| kept, in (0, 100]">,
    Option<"statistics", "statistics", "std::string", "\"\"",
           ".npz of activation statistics per ONNX node name "
           "(activations=static)">,
    Option<"exclude", "exclude", "std::string", "\"\"",
           "Regex of ONNX node names whose layers stay f32">,
  ];
  let statistics = [
    Statistic<"numQuantizedLayers", "quantized-layers",
              "Layers with int8 weights">,
    Statistic<"numQuantizedInputs", "quantized-inputs",
              "Layer inputs quantized to ui8">,
  ];
}

def ShearsShareWeights : Pass<"shears-share-weights", "mlir::ModuleOp"> {
  let summary = "Clusters each layer's weights into a few shared values "
                "(Deep Compression's weight sharing)";
  let description = [{
    Replaces the non-zero weights of every convolution and linear layer
    (found through PrunableOpInterface, named by their ONNX node) whose name
    `exclude` does not match by the centroids of a one-dimensional k-means
    over them: with `bits` b, 2^b - 1 centroids, so that a weight's index
    into the layer's values, zero included, takes b bits. Zeros stay zero,
    so pruning survives. `conv-bits` and `linear-bits` give b by layer kind
    (8 and 5, Deep Compression's choice for AlexNet and VGG-16);
    `layer-bits` overrides it for the layers whose node name matches a regex
    (`REGEX=BITS`, the first match wins).

    The centroids start as `init` says (Han et al. compare the three and
    find linear best): `linear`, evenly spaced between the smallest and
    largest weight; `density`, at evenly spaced quantiles; `random`, at
    weights drawn with `seed`. Lloyd's iterations then run until no weight
    changes cluster (at most `iterations`). The result runs and exports as
    an ordinary f32 model; `shears pack` stores it with a codebook per layer
    and Huffman coding.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"convBits", "conv-bits", "int64_t", "8",
           "Bits per convolution weight, zero included (2 to 8)">,
    Option<"linearBits", "linear-bits", "int64_t", "5",
           "Bits per linear-layer weight, zero included (2 to 8)">,
    ListOption<"layerBits", "layer-bits", "std::string",
               "REGEX=BITS: the bits of layers whose node name matches REGEX">,
    Option<"init", "init", "mlir::shears::CentroidInit",
           "mlir::shears::CentroidInit::Linear",
           "Where the centroids start",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::CentroidInit::Linear, "linear",
                        "evenly spaced over [min, max]"),
             clEnumValN(mlir::shears::CentroidInit::Density, "density",
                        "at evenly spaced quantiles"),
             clEnumValN(mlir::shears::CentroidInit::Random, "random",
                        "at weights drawn at random"))}]>,
    Option<"iterations", "iterations", "int64_t", "100",
           "Lloyd iterations at most">,
    Option<"seed", "seed", "int64_t", "0", "Seed of init=random">,
    Option<"exclude", "exclude", "std::string", "\"\"",
           "Regex of ONNX node names whose weights keep their values">,
  ];
  let statistics = [
    Statistic<"numSharedLayers", "shared-layers",
              "Layers whose weights were clustered">,
  ];
}

def ShearsLowRank : Pass<"shears-low-rank", "mlir::ModuleOp"> {
  let summary = "Factors linear and convolution weights into two low-rank "
                "layers (truncated SVD, optionally whitened by calibration "
                "data)";
  let description = [{
    Replaces every linear layer and ungrouped convolution with a constant
    weight (found through PrunableOpInterface, named by its ONNX node) whose
    name `exclude` does not match by two layers of rank r, where that takes
    fewer parameters (r * (in + out) < in * out; `require-saving=false`
    factors regardless):
    - linear `NAME` with W [out, in] becomes `NAME.v` (weight [r, in], no
      bias) followed by `NAME.u` (weight [out, r], the bias);
    - a k x k convolution, its filter viewed as [out, in * k * k], becomes
      `NAME.v`, a k x k convolution with r filters and the original strides,
      pads and dilations, followed by `NAME.u`, a 1 x 1 convolution;
    - with `decomposition=tucker2`, a convolution with a window larger than
      1 x 1 and filter W [out, in, kh, kw] becomes three (Tucker-2, Kim et
      al. 2016): `NAME.v`, a 1 x 1 convolution to r_in channels (U_in^T),
      `NAME.core`, the kh x kw convolution from r_in to r_out channels with
      the original window (the core C), and `NAME.u`, a 1 x 1 convolution
      to the outputs with the bias (U_out); r_in * in + r_out * r_in * kh *
      kw + out * r_out parameters. U_out and U_in start as the leading left
      singular vectors of W unfolded along its output and its input channels
      (HOSVD) and are refined by alternating least squares (HOOI); C is W
      projected on both. Linear layers and 1 x 1 convolutions are factored
      by SVD either way; Tucker-2 is not data-aware (no `statistics`).
    The factors come from the truncated SVD W = U S V^T (U S^1/2 and
    S^1/2 V^T). With `statistics` (the .npz `shears calibrate --gram`
    writes: per layer `NAME.gram`, the Gram matrix G = X^T X of the
    layer's inputs, im2col patches for a convolution) the SVD is data-aware
    (SVD-LLM): it factors W L, L the Cholesky factor of G + d I (d =
    `damp` times the mean of G's diagonal), and multiplies the result by
    L^-1, so that truncation minimizes the error of the layer's outputs on
    the calibration data instead of the error of its weights.

    The rank of each layer (`rank-by`): `energy`, the smallest keeping that
    fraction of the sum of squared singular values; `error`, the smallest
    whose relative error (of W, or with `statistics` of the layer's outputs
    on the calibration data) is at most `max-error`; `rank`, the same rank
    for every layer; `params`, ranks chosen across all layers together so
    that the layers considered keep at most that fraction of their
    parameters, dropping the singular values that cost the least relative
    energy per parameter first (one threshold over all layers); `macs`, the
    same for multiply-accumulates per sample (a convolution's parameters
    weighted by its output positions, a Tucker-2 layer's first 1 x 1
    convolution by its input positions). A Tucker-2 layer has two ranks,
    each chosen on the singular values of its mode: `energy` keeps that
    fraction in each mode, `error` half of max-error^2 dropped in each (the
    HOSVD bound), `rank` the same for both; under a budget its ranks grow
    one at a time, the mode with the more energy per parameter (or MAC)
    first.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"rankBy", "rank-by", "mlir::shears::RankSelection",
           "mlir::shears::RankSelection::Energy", "How ranks are chosen",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::RankSelection::Energy, "energy",
                        "the smallest rank keeping `energy` of sum(s^2)"),
             clEnumValN(mlir::shears::RankSelection::Error, "error",
                        "the smallest rank with relative error <= max-error"),
             clEnumValN(mlir::shears::RankSelection::Rank, "rank",
                        "`rank` for every layer"),
             clEnumValN(mlir::shears::RankSelection::Params, "params",
                        "a budget: keep `params` of the layers' parameters"),
             clEnumValN(mlir::shears::RankSelection::Macs, "macs",
                        "a budget: keep `macs` of the layers' "
                        "multiply-accumulates"))}]>,
    Option<"decomposition", "decomposition", "mlir::shears::Decomposition",
           "mlir::shears::Decomposition::SVD",
           "How a convolution with a window larger than 1 x 1 is factored",
           [{::llvm::cl::values(
             clEnumValN(mlir::shears::Decomposition::SVD, "svd",
                        "a k x k convolution with r filters, then a 1 x 1 one"),
             clEnumValN(mlir::shears::Decomposition::Tucker2, "tucker2",
                        "1 x 1 to r_in channels, k x k to r_out, 1 x 1 to "
                        "the outputs (Tucker-2)"))}]>,
    Option<"energy", "energy", "double", "0.9",
           "rank-by=energy: fraction of sum(s^2) kept, in (0, 1]">,
    Option<"maxError", "max-error", "double", "0.1",
           "rank-by=error: relative Frobenius error allowed, in [0, 1)">,
    Option<"rank", "rank", "int64_t", "0",
           "rank-by=rank: the rank of every factored layer (at least 1)">,
    Option<"params", "params", "double", "0.5",
           "rank-by=params: fraction of the layers' parameters kept, in "
           "(0, 1]">,
    Option<"macs", "macs", "double", "0.5",
           "rank-by=macs: fraction of the layers' multiply-accumulates per "
           "sample kept, in (0, 1]">,
    Option<"statistics", "statistics", "std::string", "\"\"",
           ".npz of input Gram matrices per ONNX node name (NAME.gram, from "
           "shears calibrate --gram): data-aware SVD">,
    Option<"damp", "damp", "double", "0.01",
           "With statistics: added to the Gram matrix's diagonal, relative to "
           "its mean (> 0)">,
    Option<"requireSaving", "require-saving", "bool", "true",
           "Factor a layer only where that takes fewer parameters">,
    Option<"report", "report", "bool", "false",
           "Emit a remark per layer: its rank, the energy kept and its "
           "parameters">,
    Option<"exclude", "exclude", "std::string", "\"\"",
           "Regex of ONNX node names whose layers stay as they are">,
  ];
  let statistics = [
    Statistic<"numFactoredLayers", "factored-layers", "Layers factored">,
    Statistic<"numRemovedParameters", "removed-parameters",
              "Weight elements removed">,
  ];
}

def ShearsPrintChannelGroups : Pass<"shears-print-channel-groups",
                                   "mlir::func::FuncOp"> {
  let summary = "Reports the channel groups of each function";
  let description = [{
    Runs the ChannelGroups analysis and emits remarks: on the first producer
    of each group its number and size and whether it is prunable (or why
    not); on every member its role, offset and block size; on the owner of
    every per-channel parameter the operand and dimension. For tests.
  }];
}

def ShearsReport : Pass<"shears-report", "mlir::ModuleOp"> {
  let summary = "Prints per-layer parameters, sparsity and MACs, as a table "
                "and JSON";
  let description = [{
    For every op with a weight (found through PrunableOpInterface): its ONNX
    node name, op, weight shape, parameters (weight and bias elements), the
    non-zero ones (counted in constant weights; a weight that is not a
    constant, e.g. still behind `shears.mask`, counts as dense), the
    sparsity, multiply-accumulates per batch element and its output and
    input channels; then the totals and the op counts. The table goes to
    stdout, the same data as JSON to `json`. `onnx-bytes` adds the size of
    the model's ONNX file to the totals. The IR is unchanged.
    `shears-summary` prints the same table.
  }];
  let dependentDialects = ["mlir::shears::ShearsDialect"];
  let options = [
    Option<"json", "json", "std::string", "\"\"",
           "Also write the report as JSON to this file ('-' for stdout)">,
    Option<"onnxBytes", "onnx-bytes", "int64_t", "-1",
           "Size of the model's ONNX file, added to the totals (-1: unknown)">,
    Option<"table", "table", "bool", "true", "Print the table to stdout">,
  ];
  let statistics = [
    Statistic<"numParameters", "parameters", "Weight and bias elements">,
    Statistic<"numNonzeroParameters", "nonzero-parameters",
              "Non-zero weight and bias elements">,
  ];
}

#endif // SHEARS_TRANSFORMS_PASSES_TD
