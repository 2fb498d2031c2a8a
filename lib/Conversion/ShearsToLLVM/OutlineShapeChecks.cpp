//===- OutlineShapeChecks.cpp - Run-time checks of dynamic dimensions -----===//
//
// The entry function's code assumes, wherever two sizes meet, that they are
// equal; where one of them is dynamic nothing has checked it, and an input of
// the wrong shape (two batch sizes that differ, a dynamic reduction dimension
// of the wrong length, a reshape whose element count does not divide) would
// read and write out of bounds. Each such assumption becomes a comparison of
// two sizes in `<entry>_check_shapes`, computed from the inputs' dimensions
// only (upstream's result-dim resolution rewrites the size of an
// intermediate in terms of the inputs' sizes), which the entry point calls
// before the model.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"

#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Analysis/TopologicalSortUtils.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSOUTLINESHAPECHECKS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;

namespace {

/// "node 'NAME': " for the ONNX node `op` comes from, or "" without one.
std::string nodeOf(Operation *op) {
  StringRef name = shears::getLayerName(op);
  return name.empty() ? "" : ("node '" + name + "': ").str();
}

/// Two sizes that the code assumes equal, as index values in the entry
/// function, held as the operands of an anchor call so that rewriting them
/// in terms of the inputs' sizes keeps track of them.
struct Assumption {
  func::CallOp anchor;
  std::string message;
};

class Collector {
public:
  explicit Collector(func::FuncOp anchorDecl) : anchorDecl(anchorDecl) {}

  void visit(Operation *op) {
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op))
      return visitLinalg(linalgOp);
    if (auto cast = dyn_cast<tensor::CastOp>(op)) {
      auto from = dyn_cast<RankedTensorType>(cast.getSource().getType());
      auto to = dyn_cast<RankedTensorType>(cast.getType());
      if (!from || !to)
        return;
      for (int64_t d = 0; d < to.getRank(); ++d)
        if (from.isDynamicDim(d) && !to.isDynamicDim(d))
          assume(
              op, size(op, cast.getSource(), d), constant(op, to.getDimSize(d)),
              llvm::formatv("dimension {0} must be {1}", d, to.getDimSize(d)));
      return;
    }
    if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
      if (expand.getResultType().hasStaticShape())
        return;
      SmallVector<OpFoldResult> sizes = expand.getMixedOutputShape();
      OpBuilder b(op);
      for (auto [d, group] :
           llvm::enumerate(expand.getReassociationIndices())) {
        Value product = constant(op, 1);
        for (int64_t i : group)
          product = arith::MulIOp::create(
              b, op->getLoc(), product,
              getValueOrCreateConstantIndexOp(b, op->getLoc(), sizes[i]));
        assume(op, size(op, expand.getSrc(), d), product,
               llvm::formatv("the elements of dimension {0} cannot take the "
                             "new shape",
                             d));
      }
      return;
    }
    if (auto insert = dyn_cast<tensor::InsertSliceOp>(op)) {
      RankedTensorType source = insert.getSourceType();
      SmallVector<OpFoldResult> sizes = insert.getMixedSizes();
      if (source.getRank() != static_cast<int64_t>(sizes.size()))
        return; // Rank-reducing: which dims drop is not recorded here.
      OpBuilder b(op);
      for (int64_t d = 0; d < source.getRank(); ++d)
        if (source.isDynamicDim(d) || !getConstantIntValue(sizes[d]))
          assume(op, size(op, insert.getSource(), d),
                 getValueOrCreateConstantIndexOp(b, op->getLoc(), sizes[d]),
                 llvm::formatv("dimension {0} does not fill its slice", d));
    }
  }

  SmallVector<Assumption> take() { return std::move(assumptions); }

private:
  /// The loop dimensions of a linalg op that several operand dimensions
  /// give: all of them must be equal.
  void visitLinalg(linalg::LinalgOp op) {
    DenseMap<unsigned, std::pair<OpOperand *, int64_t>> first;
    for (OpOperand &operand : op->getOpOperands()) {
      auto type = dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type)
        continue;
      AffineMap map = op.getMatchingIndexingMap(&operand);
      for (auto [r, expr] : llvm::enumerate(map.getResults())) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        if (!dim)
          continue;
        auto [it, inserted] =
            first.try_emplace(dim.getPosition(), &operand, int64_t(r));
        if (inserted)
          continue;
        auto [firstOperand, firstDim] = it->second;
        auto firstType = cast<RankedTensorType>(firstOperand->get().getType());
        if (!firstType.isDynamicDim(firstDim) && !type.isDynamicDim(r))
          continue; // Static: the verifier's.
        assume(op, size(op, firstOperand->get(), firstDim),
               size(op, operand.get(), r),
               llvm::formatv("dimension {0} of operand {1} and dimension {2} "
                             "of operand {3} differ",
                             firstDim, firstOperand->getOperandNumber(), r,
                             operand.getOperandNumber()));
      }
    }
  }

  Value constant(Operation *op, int64_t value) {
    OpBuilder b(op);
    return arith::ConstantIndexOp::create(b, op->getLoc(), value);
  }

  Value size(Operation *op, Value tensor, int64_t d) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (!type.isDynamicDim(d))
      return constant(op, type.getDimSize(d));
    OpBuilder b(op);
    return tensor::DimOp::create(b, op->getLoc(), tensor, d);
  }

  void assume(Operation *op, Value lhs, Value rhs, const Twine &what) {
    OpBuilder b(op);
    auto anchor =
        func::CallOp::create(b, op->getLoc(), anchorDecl, ValueRange{lhs, rhs});
    assumptions.push_back({anchor, nodeOf(op) + what.str()});
  }

  func::FuncOp anchorDecl;
  SmallVector<Assumption> assumptions;
};

/// Whether `value` is computed from the entry's arguments' dimensions by
/// pure index arithmetic; `slice` gets the ops that compute it.
bool fromInputDims(Value value, Block &entry,
                   llvm::SetVector<Operation *> &slice) {
  if (!value.getDefiningOp())
    return false;
  BackwardSliceOptions options;
  options.inclusive = true;
  options.omitBlockArguments = true;
  llvm::SetVector<Operation *> ops;
  if (failed(getBackwardSlice(value, &ops, options)))
    return false;
  for (Operation *op : ops) {
    if (auto dim = dyn_cast<tensor::DimOp>(op)) {
      auto arg = dyn_cast<BlockArgument>(dim.getSource());
      if (!arg || arg.getOwner() != &entry)
        return false;
      continue;
    }
    if (!isa<arith::ArithDialect, affine::AffineDialect>(op->getDialect()) ||
        !isPure(op) || op->getNumRegions())
      return false;
  }
  slice.insert(ops.begin(), ops.end());
  return true;
}

struct ShearsOutlineShapeChecks
    : shears::impl::ShearsOutlineShapeChecksBase<ShearsOutlineShapeChecks> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entry = module.lookupSymbol<func::FuncOp>(entryName);
    if (!entry || entry.isExternal())
      return;
    MLIRContext *ctx = &getContext();
    Location loc = entry.getLoc();
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Type index = b.getIndexType();

    // 1. Each assumption as an anchor call of two sizes.
    auto anchorDecl = func::FuncOp::create(
        b, loc, "__shears_assume_equal", b.getFunctionType({index, index}, {}));
    anchorDecl.setPrivate();
    Collector collector(anchorDecl);
    SmallVector<Operation *> ops;
    entry.walk([&](Operation *op) {
      if (isa<linalg::LinalgOp, tensor::CastOp, tensor::ExpandShapeOp,
              tensor::InsertSliceOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops)
      collector.visit(op);
    SmallVector<Assumption> assumptions = collector.take();

    // 2. Sizes of intermediates in terms of the inputs' sizes.
    RewritePatternSet patterns(ctx);
    memref::populateResolveRankedShapedTypeResultDimsPatterns(patterns);
    memref::populateResolveShapedTypeResultDimsPatterns(patterns);
    tensor::DimOp::getCanonicalizationPatterns(patterns, ctx);
    if (failed(applyPatternsGreedily(entry, std::move(patterns)))) {
      entry.emitError("resolving the sizes of intermediates did not converge");
      return signalPassFailure();
    }

    // 3. <entry>_check_shapes: 0, or 1 + the first assumption that fails.
    // The sizes are cloned there with their anchors; CSE and folding on that
    // function alone then make sizes equal by construction (one input dim
    // reached by two paths) one value. (CSE on the entry would merge its
    // tensor.empty ops, which makes bufferization quadratic in depth.)
    Block &body = entry.getBody().front();
    b.setInsertionPointAfter(entry);
    auto check = func::FuncOp::create(
        b, loc, entryName + "_check_shapes",
        b.getFunctionType(entry.getArgumentTypes(), {b.getI32Type()}));
    check->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
    Block *block = check.addEntryBlock();
    b.setInsertionPointToStart(block);
    IRMapping mapping;
    mapping.map(body.getArguments(), block->getArguments());
    SmallVector<std::pair<func::CallOp, StringRef>> cloned;
    for (Assumption &a : assumptions) {
      Value lhs = a.anchor.getOperand(0), rhs = a.anchor.getOperand(1);
      llvm::SetVector<Operation *> slice;
      if (lhs == rhs || !fromInputDims(lhs, body, slice) ||
          !fromInputDims(rhs, body, slice))
        continue; // Equal by construction, or depends on tensor contents.
      for (Operation *op : topologicalSort(slice))
        if (!mapping.contains(op->getResult(0)))
          b.clone(*op, mapping);
      cloned.push_back(
          {cast<func::CallOp>(b.clone(*a.anchor, mapping)), a.message});
    }
    IRRewriter rewriter(ctx);
    DominanceInfo dominance;
    eliminateCommonSubExpressions(rewriter, dominance, check);
    (void)applyPatternsGreedily(check, RewritePatternSet(ctx));
    SmallVector<Attribute> messages;
    SmallVector<std::pair<Value, Value>> compared;
    for (auto [anchor, message] : cloned) {
      if (anchor.getOperand(0) != anchor.getOperand(1)) {
        compared.push_back({anchor.getOperand(0), anchor.getOperand(1)});
        messages.push_back(b.getStringAttr(message));
      }
    }
    b.setInsertionPointToEnd(block);
    Value result = arith::ConstantIntOp::create(b, loc, 0, 32);
    for (int64_t i = compared.size() - 1; i >= 0; --i) {
      Value differ =
          arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                compared[i].first, compared[i].second);
      Value code = arith::ConstantIntOp::create(b, loc, i + 1, 32);
      result = arith::SelectOp::create(b, loc, differ, code, result);
    }
    func::ReturnOp::create(b, loc, result);
    for (auto [anchor, message] : cloned)
      anchor.erase();
    if (compared.empty())
      check.erase();
    else
      module->setAttr("shears.shape_checks", b.getArrayAttr(messages));

    // 4. The anchors go; the sizes only they used fold away later.
    for (Assumption &a : assumptions)
      a.anchor.erase();
    anchorDecl.erase();
  }
};
} // namespace
