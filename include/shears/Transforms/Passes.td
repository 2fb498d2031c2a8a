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

#endif // SHEARS_TRANSFORMS_PASSES_TD
