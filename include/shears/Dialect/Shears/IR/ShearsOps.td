//===- ShearsOps.td - Shears op definitions ----------------*- tablegen -*-===//

#ifndef SHEARS_OPS_TD
#define SHEARS_OPS_TD

include "shears/Dialect/Shears/IR/ShearsDialect.td"
include "shears/Dialect/Shears/IR/ShearsInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

def Shears_FloatTensor : RankedTensorOf<[AnyFloat]>;
def Shears_IndexTensor : RankedTensorOf<[I32, I64]>;
def Shears_NumberTensor : RankedTensorOf<[AnyFloat, AnyInteger]>;
def Shears_BoolTensor : RankedTensorOf<[I1]>;
// What arith computes on: floats and signless integers (signed in ONNX).
def Shears_ArithmeticTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;

// Ops whose result type follows from operands and attributes; their verifier
// checks the written result type against the inferred one.
class Shears_InferredOp<string mnemonic, list<Trait> traits = []>
    : Shears_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor])>;

def ChannelFlow : DeclareOpInterfaceMethods<ChannelFlowOpInterface,
                                            ["getDimMappings"]>;
// Ops that also say what a constant channel becomes through them.
def ChannelFlowFolding : DeclareOpInterfaceMethods<ChannelFlowOpInterface,
    ["getDimMappings", "foldConstantChannel"]>;
// Ops that also drop indices they select by position (slice, split).
def ChannelFlowSelecting : DeclareOpInterfaceMethods<ChannelFlowOpInterface,
    ["getDimMappings", "foldConstantChannel", "removeOperandChannels"]>;

//===----------------------------------------------------------------------===//
// Constants and weighted ops
//===----------------------------------------------------------------------===//

def Shears_ConstantOp : Shears_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "A constant tensor (weights are dense_resource blobs)";
  let description = [{
    ```mlir
    %w = shears.constant dense_resource<fc1.weight> : tensor<300x784xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Shears_LinearOp : Shears_InferredOp<"linear", [ChannelFlow,
    DeclareOpInterfaceMethods<PrunableOpInterface,
      ["getPrunedBias", "getResultChannelDim", "getInputChannelDim"]>]> {
  let summary = "Fully connected layer: y = x * W^T + b, W is [out, in]";
  let description = [{
    `input` is `[..., in]`, `weight` is `[out, in]`, the optional `bias` is
    `[out]`; the result is `[..., out]` (ONNX Gemm with transB, or MatMul with
    a constant right-hand side, after transposing it).
  }];
  let arguments = (ins Shears_FloatTensor:$input, Shears_FloatTensor:$weight,
                       Optional<Shears_FloatTensor>:$bias);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_MatMulOp : Shears_InferredOp<"matmul", [ChannelFlowFolding]> {
  let summary = "Batched matrix product with numpy broadcasting (ONNX MatMul)";
  let arguments = (ins Shears_FloatTensor:$lhs, Shears_FloatTensor:$rhs);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_Conv2DOp : Shears_InferredOp<"conv2d", [ChannelFlow,
    DeclareOpInterfaceMethods<PrunableOpInterface,
      ["getPrunedBias", "getResultChannelDim", "getInputChannelDim",
       "setGroups"]>]> {
  let summary = "2-D convolution, NCHW input, [out, in/groups, kh, kw] filter";
  let description = [{
    `pads` is `[top, left, bottom, right]`. `groups` equal to the number of
    input and output channels is a depthwise convolution.
  }];
  let arguments = (ins Shears_FloatTensor:$input, Shears_FloatTensor:$weight,
                       Optional<Shears_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_ConvTransposeOp : Shears_InferredOp<"conv_transpose",
    [ChannelFlow]> {
  let summary = "2-D transposed convolution, NCHW input, [in, out/groups, kh, "
                "kw] filter";
  let description = [{
    The gradient of `shears.conv2d` with respect to its input (ONNX
    ConvTranspose): each input pixel adds the filter, scaled by it, at
    `strides` apart. The result's spatial size is
    `stride * (in - 1) + dilation * (k - 1) + 1 - pad_begin - pad_end`;
    `pads` is `[top, left, bottom, right]`, and a negative pad adds rows
    (columns) that hold only the bias on that side: ONNX's `output_padding`
    and `output_shape` are negative end pads.

    Channels do not flow through it: the convolutions around it keep theirs.
  }];
  let arguments = (ins Shears_FloatTensor:$input, Shears_FloatTensor:$weight,
                       Optional<Shears_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_BatchNormOp : Shears_InferredOp<"batch_norm", [ChannelFlowFolding]> {
  let summary = "Inference batch normalization over dimension 1";
  let description = [{
    y = scale * (x - mean) / sqrt(var + epsilon) + bias, every parameter a
    `[C]` tensor. The canonicalizer folds it into a preceding convolution or
    linear layer whose weights are constants.
  }];
  let arguments = (ins Shears_FloatTensor:$input, Shears_FloatTensor:$scale,
                       Shears_FloatTensor:$bias, Shears_FloatTensor:$mean,
                       Shears_FloatTensor:$variance,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:`
    functional-type(operands, results)
  }];
  let hasCanonicalizer = 1;
}

def Shears_LayerNormOp : Shears_InferredOp<"layer_norm", [ChannelFlow]> {
  let summary = "Layer normalization over the dimensions from `axis` on";
  let description = [{
    y = (x - mean) / sqrt(var + epsilon) * scale + bias, mean and variance
    taken over dimensions `axis` to the last; `scale` and `bias` have the
    shape of those dimensions (ONNX LayerNormalization, opset 17). Only the
    dimensions before `axis` carry channels through it: each normalized one
    depends on all the others.
  }];
  let arguments = (ins Shears_FloatTensor:$input, Shears_FloatTensor:$scale,
                       Shears_FloatTensor:$bias, I64Attr:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5">:$epsilon);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_GatherOp : Shears_InferredOp<"gather", [ChannelFlow,
    DeclareOpInterfaceMethods<PrunableOpInterface,
      ["getWeightOutputDim", "getWeightInputDim", "getResultChannelDim",
       "getInputChannelDim"]>]> {
  let summary = "Gathers slices of `data` along `axis` (ONNX Gather, embeddings)";
  let arguments = (ins AnyRankedTensor:$data, Shears_IndexTensor:$indices,
                       DefaultValuedAttr<I64Attr, "0">:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $data `,` $indices attr-dict `:` functional-type(operands, results)
  }];  // Constant indices must lie inside the gathered dimension; the lowering
  // clamps only the indices it cannot see before running.
  let hasVerifier = 1;
}

def Shears_MaskOp : Shears_Op<"mask", [Pure, AllTypesMatch<["weight", "result"]>]> {
  let summary = "Zeroes the weights whose mask entry is false";
  let description = [{
    `mask` is an i1 tensor of the weight's rank whose dims each equal the
    weight's or 1 (broadcast): `tensor<300x1xi1>` on a `[300, 784]` weight
    keeps or drops whole output channels, a full-shape mask single weights.
    Pruning passes insert it on a prunable op's weight; shears-fold-masks
    materializes the result as a new constant.

    ```mlir
    %wm = shears.mask %w, %m : tensor<300x784xf32>, tensor<300x1xi1>
    ```
  }];
  let arguments = (ins Shears_FloatTensor:$weight,
                       RankedTensorOf<[I1]>:$mask);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $weight `,` $mask attr-dict `:` type($weight) `,` type($mask)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Shears_QuantizedTensor : RankedTensorOf<[I8, UI8]>;

class Shears_QuantizationOp<string mnemonic, string what>
    : Shears_Op<mnemonic, [Pure]> {
  let summary = what;
  let assemblyFormat = [{
    $input `,` $scale `,` $zero_point attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether the scale and zero point are one per slice along `axis`.
    bool isPerAxis() { return getScale().getType().getRank() == 1; }
  }];
}

def Shears_QuantizeOp : Shears_QuantizationOp<"quantize",
    "Affine quantization to 8-bit integers (ONNX QuantizeLinear)"> {
  let description = [{
    `q = saturate(round_half_to_even(x / scale) + zero_point)`, saturated to
    the range of the result's element type (`i8` is signed, `ui8`
    unsigned). `scale` (f32) and `zero_point` (the result's element type)
    are scalars, one for the whole tensor, or vectors with one entry per
    index of dimension `axis` (per channel).

    ```mlir
    %q = shears.quantize %x, %s, %zp
           : (tensor<?x784xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x784xui8>
    ```
  }];
  let arguments = (ins Shears_FloatTensor:$input, RankedTensorOf<[F32]>:$scale,
                       Shears_QuantizedTensor:$zero_point,
                       OptionalAttr<I64Attr>:$axis);
  let results = (outs Shears_QuantizedTensor:$result);
}

def Shears_DequantizeOp : Shears_QuantizationOp<"dequantize",
    "Integers back to f32 (ONNX DequantizeLinear)"> {
  let description = [{
    `x = (q - zero_point) * scale`, with `scale` and `zero_point` as for
    `shears.quantize`; `i32` inputs (quantized biases) are allowed too.
    A quantized weight is a `shears.constant` of integers behind a
    dequantize; `getConstantFloats` reads through it.

    ```mlir
    %w = shears.dequantize %wq, %s, %zp {axis = 0 : i64}
           : (tensor<300x784xi8>, tensor<300xf32>, tensor<300xi8>)
             -> tensor<300x784xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[I8, UI8, I32]>:$input,
                       RankedTensorOf<[F32]>:$scale,
                       RankedTensorOf<[I8, UI8, I32]>:$zero_point,
                       OptionalAttr<I64Attr>:$axis);
  let results = (outs RankedTensorOf<[F32]>:$result);
}

def Shears_DynamicQuantizeOp : Shears_Op<"dynamic_quantize",
    [Pure, InferTypeOpAdaptor]> {
  let summary = "ui8 quantization with the range of the tensor itself "
                "(ONNX DynamicQuantizeLinear)";
  let description = [{
    The scale and zero point map [min(x, 0), max(x, 0)] onto [0, 255] (scale
    (max - min) / 255, zero point round(-min / scale), saturated); `result`
    is `input` quantized with them as by `shears.quantize`. A tensor of
    zeros has scale 1 and zero point 0. What `shears-quantize
    {activations=dynamic}` puts before a layer, with a `shears.dequantize`
    of its three results.

    ```mlir
    %q, %s, %zp = shears.dynamic_quantize %x : tensor<?x784xf32>
    ```
  }];
  let arguments = (ins Shears_FloatTensor:$input);
  let results = (outs RankedTensorOf<[UI8]>:$result,
                      RankedTensorOf<[F32]>:$scale,
                      RankedTensorOf<[UI8]>:$zero_point);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

//===----------------------------------------------------------------------===//
// Elementwise ops
//===----------------------------------------------------------------------===//

// Elementwise ops state their scalar function once, in ShearsElementwise.cpp
// (ElementwiseOpInterface); lowering, constant folding of channels and
// channel flow all come from it.
def ShearsElementwise : DeclareOpInterfaceMethods<ElementwiseOpInterface>;

class Shears_BinaryOp<string mnemonic, string what,
                      Type operand = Shears_FloatTensor>
    : Shears_InferredOp<mnemonic, [ShearsElementwise, ChannelFlowOpInterface]> {
  let summary = what # " with numpy broadcasting";
  let arguments = (ins operand:$lhs, operand:$rhs);
  let results = (outs operand:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      return inferBroadcastType(loc, adaptor.getLhs(), adaptor.getRhs(),
                                types);
    }
  }];
}

def Shears_AddOp : Shears_BinaryOp<"add", "Elementwise sum",
                                   Shears_ArithmeticTensor> {
  let hasCanonicalizer = 1;
}
def Shears_SubOp : Shears_BinaryOp<"sub", "Elementwise difference",
                                   Shears_ArithmeticTensor>;
def Shears_MulOp : Shears_BinaryOp<"mul", "Elementwise product",
                                   Shears_ArithmeticTensor>;
def Shears_DivOp : Shears_BinaryOp<"div", "Elementwise quotient">;
def Shears_PowOp : Shears_BinaryOp<"pow", "Elementwise power lhs^rhs"> {
  let hasCanonicalizer = 1;
}
def Shears_FModOp : Shears_BinaryOp<"fmod",
    "Remainder with the sign of lhs (C's fmod; ONNX Mod with fmod = 1)">;
def Shears_PReluOp : Shears_BinaryOp<"prelu",
    "x where x >= 0, slope * x elsewhere (ONNX PRelu)">;
def Shears_AndOp : Shears_BinaryOp<"and", "Logical and", Shears_BoolTensor>;
def Shears_OrOp : Shears_BinaryOp<"or", "Logical or", Shears_BoolTensor>;
def Shears_XorOp : Shears_BinaryOp<"xor", "Logical exclusive or",
                                   Shears_BoolTensor>;
def Shears_MaxOp : Shears_BinaryOp<"max", "Elementwise maximum",
                                   Shears_ArithmeticTensor>;
def Shears_MinOp : Shears_BinaryOp<"min", "Elementwise minimum",
                                   Shears_ArithmeticTensor>;

class Shears_CompareOp<string mnemonic, string what>
    : Shears_InferredOp<mnemonic, [ShearsElementwise, ChannelFlowOpInterface]> {
  let summary = what # " with numpy broadcasting, an i1 result";
  let arguments = (ins Shears_ArithmeticTensor:$lhs,
                       Shears_ArithmeticTensor:$rhs);
  let results = (outs RankedTensorOf<[I1]>:$result);
  let assemblyFormat = [{
    $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      if (failed(inferBroadcastType(loc, adaptor.getLhs(), adaptor.getRhs(),
                                    types)))
        return ::mlir::failure();
      types.back() = ::llvm::cast<::mlir::RankedTensorType>(types.back())
                         .clone(::mlir::IntegerType::get(context, 1));
      return ::mlir::success();
    }
  }];
}

def Shears_EqualOp : Shears_CompareOp<"equal", "lhs == rhs">;
def Shears_LessOp : Shears_CompareOp<"less", "lhs < rhs">;
def Shears_GreaterOp : Shears_CompareOp<"greater", "lhs > rhs">;

def Shears_WhereOp : Shears_InferredOp<"where",
    [ShearsElementwise, ChannelFlowOpInterface]> {
  let summary = "lhs where the condition holds, rhs elsewhere (broadcast)";
  let description = [{
    Floats or integers (an integer Trilu's mask): the values are only
    selected, never computed.
  }];
  let arguments = (ins RankedTensorOf<[I1]>:$condition,
                       Shears_NumberTensor:$lhs, Shears_NumberTensor:$rhs);
  let results = (outs Shears_NumberTensor:$result);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

def Shears_CastOp : Shears_Op<"cast", [Pure, SameOperandsAndResultShape,
                                       ShearsElementwise,
                                       ChannelFlowOpInterface]> {
  let summary = "Element type conversion (ONNX Cast)";
  let description = [{
    Floats and signless integers of any width to one another, as ONNX's Cast:
    floats round to nearest even, floats to integers truncate toward zero
    (out of range is undefined, as in ONNX), integers narrow by dropping
    high bits and widen with their sign; to `i1`, anything that is not zero
    is true, and `i1` true is 1 in every other type. Unsigned integers are
    not signless and not taken: linalg works on signless integers only.

    ```mlir
    %y = shears.cast %x : tensor<2x3xf32> to tensor<2x3xf16>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat, AnySignlessInteger]>:$input);
  let results = (outs RankedTensorOf<[AnyFloat, AnySignlessInteger]>:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
}

class Shears_UnaryOp<string mnemonic, string what,
                     Type operand = Shears_FloatTensor>
    : Shears_Op<mnemonic, [Pure, SameOperandsAndResultType, ShearsElementwise,
                           ChannelFlowOpInterface]> {
  let summary = what;
  let arguments = (ins operand:$input);
  let results = (outs operand:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Shears_ReluOp : Shears_UnaryOp<"relu", "max(x, 0)">;
def Shears_SigmoidOp : Shears_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Shears_TanhOp : Shears_UnaryOp<"tanh", "Hyperbolic tangent">;
def Shears_ExpOp : Shears_UnaryOp<"exp", "e^x">;
def Shears_LogOp : Shears_UnaryOp<"log", "Natural logarithm">;
def Shears_NegOp : Shears_UnaryOp<"neg", "-x">;
def Shears_AbsOp : Shears_UnaryOp<"abs", "|x|">;
def Shears_SqrtOp : Shears_UnaryOp<"sqrt", "Square root">;
def Shears_ReciprocalOp : Shears_UnaryOp<"reciprocal", "1 / x">;
def Shears_ErfOp : Shears_UnaryOp<"erf", "Error function">;
def Shears_SoftplusOp : Shears_UnaryOp<"softplus", "log(1 + exp(x))">;
def Shears_SinOp : Shears_UnaryOp<"sin", "Sine">;
def Shears_CosOp : Shears_UnaryOp<"cos", "Cosine">;
def Shears_TanOp : Shears_UnaryOp<"tan", "Tangent">;
def Shears_AsinOp : Shears_UnaryOp<"asin", "Inverse sine">;
def Shears_AcosOp : Shears_UnaryOp<"acos", "Inverse cosine">;
def Shears_AtanOp : Shears_UnaryOp<"atan", "Inverse tangent">;
def Shears_SinhOp : Shears_UnaryOp<"sinh", "Hyperbolic sine">;
def Shears_CoshOp : Shears_UnaryOp<"cosh", "Hyperbolic cosine">;
def Shears_AsinhOp : Shears_UnaryOp<"asinh", "Inverse hyperbolic sine">;
def Shears_AcoshOp : Shears_UnaryOp<"acosh", "Inverse hyperbolic cosine">;
def Shears_AtanhOp : Shears_UnaryOp<"atanh", "Inverse hyperbolic tangent">;
def Shears_FloorOp : Shears_UnaryOp<"floor", "Largest integer not above x">;
def Shears_CeilOp : Shears_UnaryOp<"ceil", "Smallest integer not below x">;
def Shears_SignOp : Shears_UnaryOp<"sign", "1, -1 or 0 by the sign of x">;
def Shears_RoundOp : Shears_UnaryOp<"round",
    "Nearest integer, halves to even">;
def Shears_NotOp : Shears_UnaryOp<"not", "Logical not", Shears_BoolTensor>;
def Shears_HardSwishOp : Shears_UnaryOp<"hard_swish",
    "x * max(0, min(1, x / 6 + 1 / 2))">;

def Shears_LeakyReluOp : Shears_UnaryOp<"leaky_relu",
    "x where x >= 0, alpha * x elsewhere"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01">:$alpha);
}
def Shears_EluOp : Shears_UnaryOp<"elu",
    "x where x >= 0, alpha * (exp(x) - 1) elsewhere"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def Shears_SeluOp : Shears_UnaryOp<"selu",
    "gamma * x where x > 0, gamma * alpha * (exp(x) - 1) elsewhere"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma);
}
def Shears_ThresholdedReluOp : Shears_UnaryOp<"thresholded_relu",
    "x where x > alpha, 0 elsewhere"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha);
}
def Shears_HardSigmoidOp : Shears_UnaryOp<"hard_sigmoid",
    "max(0, min(1, alpha * x + beta))"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.2">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5">:$beta);
}

def Shears_ClipOp : Shears_UnaryOp<"clip", "Clamps to [min, max] (either bound optional)"> {
  let arguments = (ins Shears_FloatTensor:$input, OptionalAttr<F32Attr>:$min,
                       OptionalAttr<F32Attr>:$max);
  let hasVerifier = 1;
}

def Shears_SoftmaxOp : Shears_Op<"softmax",
    [Pure, SameOperandsAndResultType, ChannelFlowFolding]> {
  let summary = "Softmax along one axis (ONNX opset 13 semantics)";
  let description = [{
    With `log`, its logarithm (ONNX LogSoftmax), computed as
    `x - max - log(sum(exp(x - max)))` so that it stays finite where the
    softmax underflows.
  }];
  let arguments = (ins Shears_FloatTensor:$input,
                       I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

class Shears_PoolOp<string mnemonic, string what>
    : Shears_InferredOp<mnemonic, [ChannelFlowFolding]> {
  let summary = what # " over the spatial dims of an NCHW tensor";
  let description = "`pads` is `[top, left, bottom, right]`.";
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Shears_MaxPoolOp : Shears_PoolOp<"max_pool", "Max pooling"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
}

def Shears_AvgPoolOp : Shears_PoolOp<"avg_pool", "Average pooling"> {
  let arguments = (ins Shears_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel_shape,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$pads,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
}

def Shears_GlobalAvgPoolOp : Shears_PoolOp<"global_avg_pool",
                                           "Average"> {
  let arguments = (ins Shears_FloatTensor:$input);
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Shears_ReduceOp<string mnemonic, string what>
    : Shears_InferredOp<mnemonic, [ChannelFlowFolding]> {
  let summary = what # " over some dimensions";
  let description = [{
    Reduces `axes` (distinct, ascending, each in [0, rank)); they are kept as
    dimensions of size 1 when `keepdims` is set, dropped otherwise. The other
    dimensions, channels among them, pass through.
  }];
  let arguments = (ins Shears_FloatTensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      // An op being built from a dictionary may not have the default set.
      bool keepdims = !adaptor.getKeepdimsAttr() || adaptor.getKeepdims();
      return inferReduceType(loc, adaptor.getInput(), adaptor.getAxes(),
                             keepdims, types);
    }
    void $cppClass::getDimMappings(
        ::llvm::SmallVectorImpl<::mlir::shears::DimMapping> &mappings) {
      reduceDimMappings(getType().getRank() != getInput().getType().getRank(),
                        getInput().getType().getRank(), getAxes(), mappings);
    }
  }];
}

def Shears_ReduceSumOp : Shears_ReduceOp<"reduce_sum", "Sum">;
def Shears_ReduceMeanOp : Shears_ReduceOp<"reduce_mean", "Mean">;
def Shears_ReduceMaxOp : Shears_ReduceOp<"reduce_max", "Maximum">;
def Shears_ReduceMinOp : Shears_ReduceOp<"reduce_min", "Minimum">;
def Shears_ReduceL2Op : Shears_ReduceOp<"reduce_l2",
    "Euclidean norm sqrt(sum(x^2))">;
def Shears_ReduceProdOp : Shears_ReduceOp<"reduce_prod", "Product">;

class Shears_ArgReduceOp<string mnemonic, string what>
    : Shears_InferredOp<mnemonic, [ChannelFlow]> {
  let summary = "Index of the " # what # " along one axis (ONNX Arg" # what # ")";
  let description = [{
    The first index that holds the extreme value, or the last with
    `select_last_index`; `axis` is kept as a dimension of size 1 when
    `keepdims` is set, dropped otherwise.
  }];
  let arguments = (ins Shears_FloatTensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> loc,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      bool keepdims = !adaptor.getKeepdimsAttr() || adaptor.getKeepdims();
      if (failed(inferReduceType(loc, adaptor.getInput(), {static_cast<int64_t>(adaptor.getAxis())},
                                 keepdims, types)))
        return ::mlir::failure();
      types.back() = ::llvm::cast<::mlir::RankedTensorType>(types.back())
                         .clone(::mlir::IntegerType::get(context, 64));
      return ::mlir::success();
    }
    void $cppClass::getDimMappings(
        ::llvm::SmallVectorImpl<::mlir::shears::DimMapping> &mappings) {
      reduceDimMappings(getType().getRank() != getInput().getType().getRank(),
                        getInput().getType().getRank(),
                        {static_cast<int64_t>(getAxis())}, mappings);
    }
  }];
}

def Shears_ArgMaxOp : Shears_ArgReduceOp<"arg_max", "Max">;
def Shears_ArgMinOp : Shears_ArgReduceOp<"arg_min", "Min">;

//===----------------------------------------------------------------------===//
// Shape ops
//===----------------------------------------------------------------------===//

def Shears_ReshapeOp : Shears_Op<"reshape", [Pure, ChannelFlowFolding]> {
  let summary = "Reshape to the result type (at most one dynamic dimension)";
  let description = [{
    The target shape is the result type. A dynamic result dimension takes
    whatever the element count leaves, like ONNX's -1.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Shears_FlattenOp : Shears_InferredOp<"flatten", [ChannelFlowFolding]> {
  let summary = "Flattens to 2-D: dims [0, axis) and [axis, rank)";
  let arguments = (ins AnyRankedTensor:$input,
                       DefaultValuedAttr<I64Attr, "1">:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Shears_TransposeOp : Shears_InferredOp<"transpose", [ChannelFlowFolding]> {
  let summary = "Permutes dimensions: result dim i is input dim perm[i]";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Shears_ExpandOp : Shears_Op<"expand", [Pure, ChannelFlow]> {
  let summary = "Broadcasts the input to the result's shape (numpy rules)";
  let description = [{
    The input's dimensions, aligned to the right, are each 1 or the result's.
    The result's dynamic dimensions take their sizes, in order, from
    dimension `source_dims[k]` of `sources[k]` (for ONNX's Expand to a shape
    computed from another tensor's, such as a class token broadcast over the
    batch).
  }];
  let arguments = (ins Shears_FloatTensor:$input,
                       Variadic<AnyRankedTensor>:$sources,
                       DenseI64ArrayAttr:$source_dims);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`sizes` `of` $sources^ `:` type($sources))? attr-dict `:`
    type($input) `->` type($result)
  }];
  let hasVerifier = 1;
}

def Shears_ConcatOp : Shears_InferredOp<"concat", [ChannelFlowFolding]> {
  let summary = "Concatenates along `axis`";
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
}

def Shears_SliceOp : Shears_InferredOp<"slice", [ChannelFlowSelecting]> {
  let summary = "Static strided slice along some axes (ONNX Slice)";
  let description = [{
    For each `axes[i]`, keeps indices `starts[i], starts[i] + steps[i], ...`
    up to (excluding) `ends[i]`. Starts and ends are already clamped to the
    dimension and non-negative; steps are positive.
  }];
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$axes,
                       DenseI64ArrayAttr:$starts, DenseI64ArrayAttr:$ends,
                       DenseI64ArrayAttr:$steps);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Shears_SplitOp : Shears_InferredOp<"split", [ChannelFlowSelecting]> {
  let summary = "Splits along `axis` into pieces of the given sizes";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis,
                       DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Shears_PadOp : Shears_InferredOp<"pad", [ChannelFlow]> {
  let summary = "Constant padding; `pads` is [begin_0.., end_0..] as in ONNX";
  let arguments = (ins Shears_FloatTensor:$input, DenseI64ArrayAttr:$pads,
                       DefaultValuedAttr<F32Attr, "0.0">:$value);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Shears_ResizeOp : Shears_Op<"resize", [Pure, ChannelFlowFolding]> {
  let summary = "Nearest, linear or cubic resize to the result's shape (ONNX Resize)";
  let description = [{
    Result index `i` of dimension `d` reads the input at the coordinate `x`
    that `coordinate_transformation_mode` gives, with `s = scales[d]` (ONNX's
    scale: given, or the result size over the input size):
    `half_pixel` (i + 0.5) / s - 0.5; `pytorch_half_pixel` the same, but 0
    where the result dimension has size 1; `align_corners`
    i * (in - 1) / (in * s - 1); `asymmetric` i / s; `tf_half_pixel_for_nn`
    (i + 0.5) / s.

    `mode = "nearest"` reads the element at `x` rounded by `nearest_mode`
    (`round_prefer_floor`, `round_prefer_ceil`, `floor`, `ceil`);
    `mode = "linear"` interpolates between `floor(x)` and `floor(x) + 1` in
    every resized dimension (bilinear on images); `mode = "cubic"` blends
    `floor(x) - 1` to `floor(x) + 2` with Keys' cubic kernel of parameter
    `cubic_coeff_a`, and with `exclude_outside` gives the taps outside the
    input weight 0 and renormalizes the others. Indices outside the input
    are clamped to its edge. Dimensions with scale 1 and the same size are
    copied; only they may be dynamic.

    ```mlir
    %y = shears.resize %x {mode = "nearest", scales = array<f32: 1.0, 1.0, 2.0, 2.0>}
           : (tensor<?x64x28x28xf32>) -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins Shears_FloatTensor:$input, DenseF32ArrayAttr:$scales,
                       DefaultValuedAttr<StrAttr, "\"nearest\"">:$mode,
                       DefaultValuedAttr<StrAttr, "\"half_pixel\"">:
                         $coordinate_transformation_mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:
                         $nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<BoolAttr, "false">:$exclude_outside);
  let results = (outs Shears_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let extraClassDeclaration = [{
    /// Whether dimension `d` is copied rather than resized.
    bool isCopied(int64_t d);
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

def Shears_UKernelOp : Shears_Op<"ukernel", [AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "A call of a CPU micro-kernel (include/shears-c/Kernels.h)";
  let description = [{
    Computes `outputs` (destination style) with the micro-kernel `kernel`
    (`bmm`, `conv2d`, `dwconv2d`, `gemm`, `maxpool2d`, `qconv2d`, `qgemm`,
    `spgemm` or `wqgemm`) from `inputs`, which hold
    weights already
    packed into the kernel's layout and the epilogue's operands; `iparams`
    and `fparams` fill the kernel's parameter slots. On tensors it has one
    result per output; after bufferization it works on memrefs and has none,
    and shears-lower-ukernels turns it into the call.

    ```mlir
    %y = shears.ukernel "conv2d" ins(%x, %packed, %bias : ...)
           outs(%init : tensor<?x64x56x56xf32>)
           iparams = [...] fparams = [0.0, 0.0] -> tensor<?x64x56x56xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyShaped>:$inputs,
                       Variadic<AnyShaped>:$outputs,
                       DenseI64ArrayAttr:$iparams,
                       DenseF32ArrayAttr:$fparams);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $kernel `ins` `(` $inputs `:` type($inputs) `)`
    `outs` `(` $outputs `:` type($outputs) `)`
    `iparams` `=` $iparams `fparams` `=` $fparams attr-dict
    (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getOutputsMutable(); }
    /// The iparams slot holding the epilogue flags (Kernels.h).
    unsigned getFlagsSlot();
    int64_t getFlags() { return getIparams()[getFlagsSlot()]; }
    /// Whether `kernel` reads each residual element before it writes the
    /// output element at the same place, and may so compute in its
    /// residual's buffer (conv2d, gemm: Kernels.h).
    static bool takesResidualInPlace(StringRef kernel);
    /// The residual operand of such a kernel; null for other kernels and
    /// without a residual.
    OpOperand *getResidualInPlace();
    /// Whether the kernel writes an output with a larger stride between
    /// images than it is dense (the OUT_STRIDE slot: conv2d, dwconv2d,
    /// maxpool2d).
    bool takesOutStride();
  }];
  let hasVerifier = 1;
}

#endif // SHEARS_OPS_TD
