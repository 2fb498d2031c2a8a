//===- ShearsDialect.td - Shears dialect definition --------*- tablegen -*-===//

#ifndef SHEARS_DIALECT_TD
#define SHEARS_DIALECT_TD

include "mlir/IR/OpBase.td"

def Shears_Dialect : Dialect {
  let name = "shears";
  let summary = "Neural-network ops at ONNX granularity, made for pruning";
  let description = [{
    The `shears` dialect models inference graphs imported from ONNX. Tensors
    are NCHW; every weighted op stores its weight with output channels in
    dimension 0 (linear weights are `[out, in]`, convolution filters are
    `[out, in / groups, kh, kw]`). Weights are `shears.constant` ops holding
    `dense_resource` blobs, so that large models do not live in the context's
    attribute storage.

    Two op interfaces let passes reason about channels without switching on op
    names: `PrunableOpInterface` (where the weight, its channel dimensions and
    the bias are) and `ChannelFlowOpInterface` (how a channel of an operand
    dimension reappears in a result dimension).
  }];
  let cppNamespace = "::mlir::shears";
  let hasConstantMaterializer = 1;
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

class Shears_Op<string mnemonic, list<Trait> traits = []>
    : Op<Shears_Dialect, mnemonic, traits>;

#endif // SHEARS_DIALECT_TD
