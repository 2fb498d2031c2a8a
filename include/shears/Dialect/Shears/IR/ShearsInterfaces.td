//===- ShearsInterfaces.td - Pruning-related op interfaces -*- tablegen -*-===//

#ifndef SHEARS_INTERFACES_TD
#define SHEARS_INTERFACES_TD

include "mlir/IR/OpBase.td"

def PrunableOpInterface : OpInterface<"PrunableOpInterface"> {
  let cppNamespace = "::mlir::shears";
  let description = [{
    An op with a weight whose output channels (and input channels) can be
    removed. The weight is a tensor operand; `getWeightOutputDim()` is the
    weight dimension that indexes the op's output channels (0 for every Shears
    op), `getWeightInputDim()` the one that indexes input channels (or -1 when
    there is none, as for an embedding table). `getResultChannelDim()` and
    `getInputChannelDim()` are the dimensions of the result and of the data
    input that carry those channels. `getGroups()` is the number of channel
    groups (depthwise convolution: groups == input channels).
  }];
  let methods = [
    InterfaceMethod<"The data operand (activations).", "::mlir::Value",
      "getPrunedInput">,
    InterfaceMethod<"The weight operand.", "::mlir::Value", "getWeight">,
    InterfaceMethod<"The bias operand, or null.", "::mlir::Value",
      "getPrunedBias", (ins), [{}], [{ return {}; }]>,
    InterfaceMethod<"Weight dimension indexed by output channels.",
      "int64_t", "getWeightOutputDim", (ins), [{}], [{ return 0; }]>,
    InterfaceMethod<"Weight dimension indexed by input channels, or -1.",
      "int64_t", "getWeightInputDim", (ins), [{}], [{ return 1; }]>,
    InterfaceMethod<"Result dimension that carries output channels.",
      "int64_t", "getResultChannelDim">,
    InterfaceMethod<"Data-input dimension that carries input channels, or -1.",
      "int64_t", "getInputChannelDim">,
    InterfaceMethod<"Number of channel groups.", "int64_t", "getGroups",
      (ins), [{}], [{ return 1; }]>,
    InterfaceMethod<[{
        Sets the number of channel groups (a depthwise convolution that lost
        channels). An op without groups only takes 1.
      }], "void", "setGroups", (ins "int64_t":$groups), [{}],
      [{
        if (groups != 1)
          ::llvm::report_fatal_error("setGroups on an op without groups");
      }]>,
  ];
}

def ElementwiseOpInterface : OpInterface<"ElementwiseOpInterface"> {
  let cppNamespace = "::mlir::shears";
  let description = [{
    An op whose every result element is a function of the operand elements at
    the same index (operands broadcast as numpy does). The op states that
    function once, in two forms: `buildScalar` builds it as IR on one element
    of each operand (the lowering to linalg puts it in a `linalg.generic`
    body), and `evaluate` computes it on numbers (passes use it to fold a
    channel that is constant, such as the output of a removed neuron).
  }];
  let methods = [
    InterfaceMethod<"Builds the result from one element of each operand.",
      "::mlir::Value", "buildScalar",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::ValueRange":$args)>,
    InterfaceMethod<[{
        The result for operands equal to `args`, or nullopt where it is not
        a number the op can state here.
      }], "std::optional<double>", "evaluate",
      (ins "::llvm::ArrayRef<double>":$args)>,
  ];
}

def ChannelFlowOpInterface : OpInterface<"ChannelFlowOpInterface"> {
  let cppNamespace = "::mlir::shears";
  let description = [{
    Describes how an index along an operand dimension reappears along a result
    dimension. Each `DimMapping` says: index `i` of operand `operandIndex`'s
    dimension `operandDim` is index `f(i)` of result `resultIndex`'s dimension
    `resultDim`, where `f` is
      * `Identity`: f(i) = i (elementwise ops, pooling, batch_norm parameters,
        transpose with its permutation),
      * `Offset`: f(i) = i + offset (concat; slice and split with a negative
        offset and only indices in `[0, extent)` of the result kept),
      * `Reshape` (dims unused): the op keeps the row-major order of the
        elements (reshape, flatten). A channel is a digit of the linear
        index, and it reappears in whichever result dimension holds that
        digit: flatten turns a channel into a block of features, a reshape
        that splits features into heads turns blocks of features into
        indices of the heads dimension.
    A dimension that appears in no mapping does not flow: a pass that tracks
    channels along it must treat them as coupled to everything (softmax over
    channels) and leave them unpruned. An op whose `Offset` mapping drops
    indices (slice, split) implements `removeOperandChannels`.
  }];
  let methods = [
    InterfaceMethod<[{
        Appends the dimension mappings of this op. The default is that of an
        elementwise op with numpy broadcasting: every operand dimension that
        is not broadcast maps to the result's.
      }], "void", "getDimMappings",
      (ins "::llvm::SmallVectorImpl<::mlir::shears::DimMapping> &":$mappings),
      [{}], [{ ::mlir::shears::getBroadcastDimMappings($_op, mappings); }]>,
    InterfaceMethod<[{
        The number a result channel holds everywhere when the operand channel
        it comes from holds `channel` everywhere (a removed neuron's constant
        output, which elimination folds into the next layer's bias).
        `operands[i]` is what operand i holds at that channel: the channel's
        number, a per-channel parameter's entry, or a constant that is the
        same everywhere; nullopt where it is none of those. Returns nullopt
        where the op cannot tell: the channel then stays. The default is
        `evaluate` for an elementwise op, nullopt for any other.
      }], "std::optional<double>", "foldConstantChannel",
      (ins "::llvm::ArrayRef<std::optional<double>>":$operands,
           "std::optional<double>":$channel),
      [{}], [{
        auto elementwise = ::llvm::dyn_cast<::mlir::shears::ElementwiseOpInterface>(
            $_op.getOperation());
        if (!elementwise ||
            !::llvm::all_of(operands, [](auto x) { return x.has_value(); }))
          return std::nullopt;
        ::llvm::SmallVector<double> args;
        for (std::optional<double> x : operands)
          args.push_back(*x);
        return elementwise.evaluate(args);
      }]>,
    InterfaceMethod<[{
        Follows the removal of the indices `removed` (ascending) along
        dimension `dim` of operand `operandIndex`: an op whose attributes
        name positions along it (a slice's bounds, a split's sizes) moves
        them so that it keeps selecting the same indices that stay. The
        default does nothing.
      }], "void", "removeOperandChannels",
      (ins "unsigned":$operandIndex, "int64_t":$dim,
           "::llvm::ArrayRef<int64_t>":$removed),
      [{}], [{ return; }]>,
  ];
}

#endif // SHEARS_INTERFACES_TD
