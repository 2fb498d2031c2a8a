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

#endif // SHEARS_TRANSFORMS_PASSES_TD
