//===- FoldMasks.cpp - Materialize masked weights -------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSFOLDMASKS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

/// The bits of a constant i1 mask (dense or dense_resource, one byte each).
static FailureOr<SmallVector<bool>> getConstantMask(Value value) {
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return failure();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    auto range = dense.getValues<bool>();
    return SmallVector<bool>(range.begin(), range.end());
  }
  auto data = getResourceBytes(attr, 1);
  if (failed(data))
    return failure();
  return llvm::to_vector(llvm::map_range(*data, [](char c) { return c != 0; }));
}

namespace {
struct ShearsFoldMasks : shears::impl::ShearsFoldMasksBase<ShearsFoldMasks> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<MaskOp> masks;
    getOperation().walk([&](MaskOp op) { masks.push_back(op); });
    for (MaskOp op : masks) {
      auto weights = getConstantFloats(op.getWeight());
      auto bits = getConstantMask(op.getMask());
      if (failed(weights) || failed(bits))
        continue; // Not constants: the mask stays and is lowered as a select.
      auto type = op.getType();
      auto maskType = op.getMask().getType();
      // Broadcast the mask: index each weight dim modulo the mask's size.
      SmallVector<int64_t> strides(type.getRank(), 1), maskStrides(
                                                           type.getRank(), 1);
      for (int64_t d = type.getRank() - 2; d >= 0; --d) {
        strides[d] = strides[d + 1] * type.getDimSize(d + 1);
        maskStrides[d] = maskStrides[d + 1] * maskType.getDimSize(d + 1);
      }
      for (int64_t i = 0, e = weights->size(); i < e; ++i) {
        int64_t maskIndex = 0;
        for (int64_t d = 0; d < type.getRank(); ++d) {
          int64_t coord = (i / strides[d]) % type.getDimSize(d);
          if (maskType.getDimSize(d) != 1)
            maskIndex += coord * maskStrides[d];
        }
        if (!(*bits)[maskIndex])
          (*weights)[i] = 0.0f;
      }
      OpBuilder b(op);
      std::string name = "masked";
      if (StringRef onnxName = getONNXName(op.getWeight().getLoc());
          !onnxName.empty())
        name = onnxName.str();
      Value folded =
          createWeightConstant(b, op.getWeight().getLoc(), type, *weights, name);
      Operation *weightOp = op.getWeight().getDefiningOp();
      Operation *maskOp = op.getMask().getDefiningOp();
      op.replaceAllUsesWith(folded);
      op.erase();
      for (Operation *dead : {weightOp, maskOp})
        if (dead && dead->use_empty())
          dead->erase();
    }
  }
};
} // namespace
