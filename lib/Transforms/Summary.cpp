//===- Summary.cpp - Per-layer parameter and MAC table --------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSSUMMARY
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

/// The ONNX node name carried by the importer's location, if any.
static std::string layerName(Operation *op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc()))
    return name.getName().str();
  return op->getName().getStringRef().str();
}

static std::string shapeString(ShapedType type) {
  std::string result;
  llvm::raw_string_ostream os(result);
  llvm::interleave(type.getShape(), os, "x");
  return result;
}

/// Multiply-accumulates per batch element: weight elements times the number
/// of output positions each is applied at.
static int64_t macsPerSample(PrunableOpInterface op) {
  auto weight = cast<ShapedType>(op.getWeight().getType());
  if (isa<GatherOp>(op))
    return 0;
  auto result = cast<ShapedType>(op->getResult(0).getType());
  int64_t positions = 1;
  // Every dim but the batch and the channel dim is a position.
  for (int64_t d = 1; d < result.getRank(); ++d)
    if (d != op.getResultChannelDim() && !result.isDynamicDim(d))
      positions *= result.getDimSize(d);
  return weight.getNumElements() * positions;
}

namespace {
struct ShearsSummary : shears::impl::ShearsSummaryBase<ShearsSummary> {
  using Base::Base;

  void runOnOperation() override {
    llvm::raw_ostream &os = llvm::outs();
    llvm::MapVector<StringRef, int64_t> opCounts;
    int64_t params = 0, macs = 0;
    os << llvm::formatv("{0,-36} {1,-18} {2,-14} {3,12} {4,14}\n", "layer",
                        "op", "weight", "params", "MACs/sample");
    getOperation().walk([&](Operation *op) {
      if (op->getDialect() &&
          isa<ShearsDialect>(op->getDialect()) && !isa<ConstantOp>(op))
        ++opCounts[op->getName().stripDialect()];
      auto prunable = dyn_cast<PrunableOpInterface>(op);
      if (!prunable)
        return;
      auto weight = cast<ShapedType>(prunable.getWeight().getType());
      int64_t layerParams = weight.getNumElements();
      if (Value bias = prunable.getPrunedBias())
        layerParams += cast<ShapedType>(bias.getType()).getNumElements();
      int64_t layerMacs = macsPerSample(prunable);
      params += layerParams;
      macs += layerMacs;
      os << llvm::formatv("{0,-36} {1,-18} {2,-14} {3,12} {4,14}\n",
                          layerName(op), op->getName().getStringRef(),
                          shapeString(weight), layerParams, layerMacs);
    });
    os << "ops:";
    for (auto [name, count] : opCounts)
      os << " " << name << "=" << count;
    os << "\n" << llvm::formatv("total: {0} parameters ({1:f2} MB as f32), "
                                "{2} MACs/sample\n",
                                params, params * 4.0 / 1e6, macs);
    numParameters = params;
    markAllAnalysesPreserved();
  }
};
} // namespace
