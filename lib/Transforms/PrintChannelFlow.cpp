//===- PrintChannelFlow.cpp - Remarks from the pruning interfaces ---------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPRINTCHANNELFLOW
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

static StringRef kindName(DimMapping::Kind kind) {
  switch (kind) {
  case DimMapping::Kind::Identity:
    return "identity";
  case DimMapping::Kind::Offset:
    return "offset";
  case DimMapping::Kind::Reshape:
    return "reshape";
  }
  llvm_unreachable("unknown mapping kind");
}

namespace {
struct ShearsPrintChannelFlow
    : shears::impl::ShearsPrintChannelFlowBase<ShearsPrintChannelFlow> {
  using Base::Base;

  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (auto prunable = dyn_cast<PrunableOpInterface>(op))
        op->emitRemark() << "prunable: weight out dim "
                         << prunable.getWeightOutputDim() << ", in dim "
                         << prunable.getWeightInputDim() << ", result dim "
                         << prunable.getResultChannelDim() << ", input dim "
                         << prunable.getInputChannelDim() << ", groups "
                         << prunable.getGroups();
      auto flow = dyn_cast<ChannelFlowOpInterface>(op);
      if (!flow)
        return;
      SmallVector<DimMapping> mappings;
      flow.getDimMappings(mappings);
      InFlightDiagnostic remark = op->emitRemark() << "flow:";
      for (const DimMapping &m : mappings) {
        remark << " " << m.operandIndex;
        if (m.kind != DimMapping::Kind::Reshape)
          remark << "." << m.operandDim;
        remark << "->" << m.resultIndex;
        if (m.kind != DimMapping::Kind::Reshape)
          remark << "." << m.resultDim;
        remark << " " << kindName(m.kind);
        if (m.kind == DimMapping::Kind::Offset)
          remark << "(" << m.offset << ")";
      }
    });
    markAllAnalysesPreserved();
  }
};
} // namespace
