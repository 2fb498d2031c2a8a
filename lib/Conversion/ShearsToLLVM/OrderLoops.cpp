//===- OrderLoops.cpp - Loop order for LLVM's vectorizer ------------------===//

#include "shears/Conversion/Passes.h"

#include "../GeneralizeAndInterchange.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSORDERLOOPS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

/// Parallel loops, then reductions, then the parallel loop indexing the last
/// dim of the output; nullopt when there is nothing to gain.
static std::optional<SmallVector<unsigned>> loopOrder(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1)
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (outMap.getNumResults() == 0)
    return std::nullopt;
  auto last = dyn_cast<AffineDimExpr>(outMap.getResults().back());
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (!last || iterators[last.getPosition()] != utils::IteratorType::parallel)
    return std::nullopt;
  unsigned inner = last.getPosition();
  SmallVector<unsigned> order;
  for (auto [i, it] : llvm::enumerate(iterators))
    if (it == utils::IteratorType::parallel && i != inner)
      order.push_back(i);
  for (auto [i, it] : llvm::enumerate(iterators))
    if (it == utils::IteratorType::reduction)
      order.push_back(i);
  order.push_back(inner);
  return order;
}

namespace {
struct ShearsOrderLoops : shears::impl::ShearsOrderLoopsBase<ShearsOrderLoops> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](linalg::LinalgOp op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      std::optional<SmallVector<unsigned>> order = loopOrder(op);
      if (!order)
        continue;
      FailureOr<linalg::GenericOp> generic =
          shears::generalizeAndInterchange(rewriter, op, *order);
      if (failed(generic))
        continue;
      auto contract = arith::FastMathFlagsAttr::get(
          &getContext(), arith::FastMathFlags::contract);
      generic->getRegion().walk([&](Operation *inner) {
        if (isa<arith::MulFOp, arith::AddFOp>(inner))
          inner->setAttr("fastmath", contract);
      });
    }
  }
};
} // namespace
