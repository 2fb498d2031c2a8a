//===- DataMovement.cpp - constants, reshapes, slices, gather, resize ----===//

#include "LoweringUtils.h"
#include "Patterns.h"

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::shears;
using namespace mlir::shears::lowering;

namespace {

struct ConstantLowering : ShearsPattern<ConstantOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    // A rank-0 memref.global needs its value as a splat, which a resource
    // blob cannot give: a scalar becomes a plain dense attribute.
    TypedAttr value = op.getValue();
    auto resource = dyn_cast<DenseResourceElementsAttr>(value);
    AsmResourceBlob *blob =
        resource ? resource.getRawHandle().getBlob() : nullptr;
    if (blob && resource.getType().getRank() == 0) {
      bool splat = false;
      if (DenseElementsAttr::isValidRawBuffer(resource.getType(),
                                              blob->getData(), splat))
        value = DenseElementsAttr::getFromRawBuffer(resource.getType(),
                                                    blob->getData());
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

template <typename OpTy> struct ReshapeLowering : ShearsPattern<OpTy> {
  using ShearsPattern<OpTy>::ShearsPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename ShearsPattern<OpTy>::OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(
        op, reshapeTo(rewriter, op.getLoc(), adaptor.getInput(), op.getType()));
    return success();
  }
};

/// A broadcasting copy into a tensor sized by the sources' dimensions.
struct ExpandLowering : ShearsPattern<ExpandOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    SmallVector<Value> sizes;
    for (auto [source, dim] :
         llvm::zip(adaptor.getSources(), op.getSourceDims()))
      sizes.push_back(tensor::DimOp::create(rewriter, loc, source, dim));
    rewriter.replaceOp(
        op,
        elementwise(
            rewriter, loc, type, adaptor.getInput(),
            [](OpBuilder &, Location, ValueRange a) { return a[0]; }, sizes));
    return success();
  }
};

struct TransposeLowering : ShearsPattern<TransposeOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value init = emptyTensor(rewriter, loc, op.getType(), adaptor.getInput(),
                             op.getPerm());
    rewriter.replaceOp(op, linalg::TransposeOp::create(rewriter, loc,
                                                       adaptor.getInput(), init,
                                                       op.getPerm())
                               .getResult()[0]);
    return success();
  }
};

/// Concat as inserts into an empty tensor (tensor.concat does not bufferize
/// directly). The inserts follow the order in which their operands are
/// computed, each right after its operand (in the concat's block): an
/// operand computed into a tensor.empty is then computed in place, into its
/// slice of the result (eliminate-empty-tensors gives it that slice as its
/// destination), and not copied. Operands from elsewhere are inserted at the
/// concat.
struct ConcatLowering : ShearsPattern<ConcatOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t axis = op.getAxis();
    if (type.isDynamicDim(axis))
      return rewriter.notifyMatchFailure(op, "dynamic concat axis");
    Block *block = op->getBlock();
    // Where an operand is available: after its op, or at the start of the
    // block for a block argument; at the concat if it comes from elsewhere.
    auto definedAt = [&](Value value) -> Operation * {
      Operation *def = value.getDefiningOp();
      if (def && def->getBlock() == block)
        return def;
      if (!def && cast<BlockArgument>(value).getOwner() == block)
        return nullptr;
      return op->getPrevNode();
    };
    auto before = [](Operation *a, Operation *b) {
      return b && (!a || a->isBeforeInBlock(b));
    };
    struct Part {
      Value value;
      int64_t offset;
      Operation *at;
    };
    SmallVector<Part> parts;
    int64_t offset = 0;
    for (Value input : adaptor.getInputs()) {
      parts.push_back({input, offset, definedAt(input)});
      offset += tensorType(input).getDimSize(axis);
    }
    llvm::stable_sort(parts, [&](const Part &a, const Part &b) {
      return before(a.at, b.at);
    });
    auto setAfter = [&](Operation *at) {
      if (at)
        rewriter.setInsertionPointAfter(at);
      else
        rewriter.setInsertionPointToStart(block);
    };
    OpBuilder::InsertionGuard guard(rewriter);
    setAfter(parts.front().at);
    Value result = emptyTensor(rewriter, loc, type, parts.front().value);
    for (const Part &part : parts) {
      Operation *resultAt = result.getDefiningOp();
      setAfter(before(part.at, resultAt) ? resultAt : part.at);
      SmallVector<OpFoldResult> offsets(type.getRank(),
                                        rewriter.getIndexAttr(0));
      offsets[axis] = rewriter.getIndexAttr(part.offset);
      SmallVector<OpFoldResult> sizes =
          tensor::getMixedSizes(rewriter, loc, part.value);
      SmallVector<OpFoldResult> strides(type.getRank(),
                                        rewriter.getIndexAttr(1));
      result = tensor::InsertSliceOp::create(rewriter, loc, part.value, result,
                                             offsets, sizes, strides);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A static strided slice of `input` with `resultType`.
Value extractSlice(OpBuilder &b, Location loc, Value input,
                   RankedTensorType resultType, ArrayRef<int64_t> axes,
                   ArrayRef<int64_t> starts, ArrayRef<int64_t> steps) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, input);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  for (auto [i, axis] : llvm::enumerate(axes)) {
    // An empty slice may start at the end (ONNX clamps its start there),
    // where tensor.extract_slice takes no offset: it starts at 0.
    int64_t size = resultType.getDimSize(axis);
    offsets[axis] = b.getIndexAttr(size == 0 ? 0 : starts[i]);
    sizes[axis] = b.getIndexAttr(size);
    strides[axis] = b.getIndexAttr(steps[i]);
  }
  return tensor::ExtractSliceOp::create(b, loc, resultType, input, offsets,
                                        sizes, strides);
}

struct SliceLowering : ShearsPattern<SliceOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op,
                       extractSlice(rewriter, op.getLoc(), adaptor.getInput(),
                                    op.getType(), op.getAxes(), op.getStarts(),
                                    op.getSteps()));
    return success();
  }
};

struct SplitLowering : ShearsPattern<SplitOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    int64_t axis = op.getAxis(), offset = 0;
    SmallVector<Value> results;
    for (auto [result, size] : llvm::zip(op.getResults(), op.getSizes())) {
      results.push_back(extractSlice(rewriter, op.getLoc(), adaptor.getInput(),
                                     cast<RankedTensorType>(result.getType()),
                                     axis, offset, 1));
      offset += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct PadLowering : ShearsPattern<PadOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getType().getRank();
    ArrayRef<int64_t> pads = op.getPads();
    SmallVector<OpFoldResult> low, high;
    for (int64_t d = 0; d < rank; ++d) {
      low.push_back(rewriter.getIndexAttr(pads[d]));
      high.push_back(rewriter.getIndexAttr(pads[d + rank]));
    }
    Value value = floatConstant(rewriter, loc, op.getType().getElementType(),
                                op.getValue().convertToDouble());
    rewriter.replaceOpWithNewOp<tensor::PadOp>(
        op, op.getType(), adaptor.getInput(), low, high, value);
    return success();
  }
};

/// result[..., i..., ...] = data[..., clamp(indices[i...]), ...]
struct GatherLowering : ShearsPattern<GatherOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    Value data = adaptor.getData(), indices = adaptor.getIndices();
    int64_t axis = op.getAxis();
    int64_t indicesRank = tensorType(indices).getRank();
    int64_t rank = type.getRank();
    MLIRContext *ctx = rewriter.getContext();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < indicesRank; ++d)
      indexExprs.push_back(getAffineDimExpr(axis + d, ctx));
    // Dynamic result dims come from data (outside the gathered range) or
    // from indices.
    SmallVector<Value> dynamic;
    for (int64_t d = 0; d < rank; ++d) {
      if (!type.isDynamicDim(d))
        continue;
      if (d < axis)
        dynamic.push_back(tensor::DimOp::create(rewriter, loc, data, d));
      else if (d < axis + indicesRank)
        dynamic.push_back(
            tensor::DimOp::create(rewriter, loc, indices, d - axis));
      else
        dynamic.push_back(
            tensor::DimOp::create(rewriter, loc, data, d - indicesRank + 1));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         type.getElementType(), dynamic);
    Value axisSize = tensor::DimOp::create(rewriter, loc, data, axis);
    SmallVector<AffineMap> maps = {
        AffineMap::get(rank, 0, indexExprs, ctx),
        AffineMap::getMultiDimIdentityMap(rank, ctx)};
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, type, indices, init, maps, iterators,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  // ONNX allows negative indices; out-of-range ones are clamped
                  // rather than read out of bounds.
                  Value index =
                      arith::IndexCastOp::create(b, l, b.getIndexType(), a[0]);
                  Value zero = arith::ConstantIndexOp::create(b, l, 0);
                  Value one = arith::ConstantIndexOp::create(b, l, 1);
                  Value negative = arith::CmpIOp::create(
                      b, l, arith::CmpIPredicate::slt, index, zero);
                  index = arith::SelectOp::create(
                      b, l, negative,
                      arith::AddIOp::create(b, l, index, axisSize), index);
                  index = arith::MaxSIOp::create(b, l, index, zero);
                  index = arith::MinSIOp::create(
                      b, l, index, arith::SubIOp::create(b, l, axisSize, one));
                  SmallVector<Value> coords;
                  for (int64_t d = 0; d < axis; ++d)
                    coords.push_back(linalg::IndexOp::create(b, l, d));
                  coords.push_back(index);
                  for (int64_t d = axis + indicesRank; d < rank; ++d)
                    coords.push_back(linalg::IndexOp::create(b, l, d));
                  linalg::YieldOp::create(
                      b, l,
                      Value(tensor::ExtractOp::create(b, l, data, coords)));
                })
                .getResult(0));
    return success();
  }
};

/// Each result element reads the input at the coordinates ResizeOp's modes
/// give: one element (nearest), or the 2^k (linear) or 4^k (cubic)
/// neighbours of the k resized dimensions, weighted. Coordinates and weights
/// are computed in f64, as ONNX's reference does.
struct ResizeLowering : ShearsPattern<ResizeOp> {
  using ShearsPattern::ShearsPattern;
  LogicalResult
  matchAndRewrite(ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType(), inType = op.getInput().getType();
    int64_t rank = type.getRank();
    Value input = adaptor.getInput();
    Value init = emptyTensor(rewriter, loc, type, input);
    SmallVector<AffineMap> maps = {
        AffineMap::getMultiDimIdentityMap(rank, rewriter.getContext())};
    SmallVector<IteratorType> iterators(rank, IteratorType::parallel);
    StringRef mode = op.getMode();
    StringRef transform = op.getCoordinateTransformationMode();
    StringRef nearest = op.getNearestMode();
    auto body = [&](OpBuilder &b, Location l, ValueRange) {
      Type f64 = b.getF64Type();
      auto constant = [&](double v) { return floatConstant(b, l, f64, v); };
      auto clampedIndex = [&](Value x, int64_t size) {
        Value i = arith::FPToSIOp::create(b, l, b.getI64Type(), x);
        i = arith::IndexCastOp::create(b, l, b.getIndexType(), i);
        i = arith::MaxSIOp::create(b, l, i,
                                   arith::ConstantIndexOp::create(b, l, 0));
        return arith::MinSIOp::create(
            b, l, i, arith::ConstantIndexOp::create(b, l, size - 1));
      };
      // The index each copied or nearest dimension reads; for the others
      // (linear, cubic) the indices they blend and the weights of each.
      struct Tap {
        Value index, weight;
      };
      SmallVector<Value> coords(rank);
      SmallVector<std::pair<int64_t, SmallVector<Tap>>> blended;
      for (int64_t d = 0; d < rank; ++d) {
        Value i = linalg::IndexOp::create(b, l, d);
        if (op.isCopied(d)) {
          coords[d] = i;
          continue;
        }
        int64_t in = inType.getDimSize(d), out = type.getDimSize(d);
        double scale = op.getScales()[d];
        Value x = arith::IndexCastOp::create(b, l, b.getI64Type(), i);
        x = arith::SIToFPOp::create(b, l, f64, x);
        auto halfPixel = [&](double shift) {
          Value centre = arith::AddFOp::create(b, l, x, constant(0.5));
          Value scaled = arith::DivFOp::create(b, l, centre, constant(scale));
          return arith::SubFOp::create(b, l, scaled, constant(shift));
        };
        if (transform == "asymmetric")
          x = arith::DivFOp::create(b, l, x, constant(scale));
        else if (transform == "tf_half_pixel_for_nn")
          x = halfPixel(0.0);
        else if (transform == "align_corners")
          // ONNX divides by in * scale - 1, not by the floored out - 1.
          x = out == 1
                  ? constant(0.0)
                  : arith::MulFOp::create(
                        b, l, x, constant(double(in - 1) / (in * scale - 1)));
        else if (transform == "pytorch_half_pixel" && out == 1)
          x = constant(0.0);
        else
          x = halfPixel(0.5);
        if (mode == "nearest") {
          if (nearest == "round_prefer_floor")
            x = math::CeilOp::create(
                b, l, arith::SubFOp::create(b, l, x, constant(0.5)));
          else if (nearest == "round_prefer_ceil")
            x = math::FloorOp::create(
                b, l, arith::AddFOp::create(b, l, x, constant(0.5)));
          else if (nearest == "floor")
            x = math::FloorOp::create(b, l, x);
          else
            x = math::CeilOp::create(b, l, x);
          coords[d] = clampedIndex(x, in);
          continue;
        }
        Value floor = math::FloorOp::create(b, l, x);
        Value t = arith::SubFOp::create(b, l, x, floor);
        auto at = [&](int64_t k) {
          return arith::AddFOp::create(b, l, floor, constant(k));
        };
        auto sub = [&](Value a, Value c) {
          return arith::SubFOp::create(b, l, a, c).getResult();
        };
        SmallVector<Tap> taps;
        if (mode == "linear") {
          taps = {{clampedIndex(floor, in), sub(constant(1.0), t)},
                  {clampedIndex(at(1), in), t}};
        } else {
          // Keys' cubic kernel of a tap at distance |t - k|, k in [-1, 2].
          double a = op.getCubicCoeffA().convertToDouble();
          auto poly = [&](Value v, ArrayRef<double> c) {
            Value r = constant(c[0]);
            for (double ci : c.drop_front())
              r = arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, r, v),
                                        constant(ci));
            return r;
          };
          Value sum;
          for (int64_t k = -1; k <= 2; ++k) {
            Value dist = k <= 0 ? sub(t, constant(k)) : sub(constant(k), t);
            Value w = k == 0 || k == 1 ? poly(dist, {a + 2, -(a + 3), 0, 1})
                                       : poly(dist, {a, -5 * a, 8 * a, -4 * a});
            Value pos = at(k);
            if (op.getExcludeOutside()) {
              Value inside = arith::AndIOp::create(
                  b, l,
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, pos,
                                        constant(0.0)),
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLE, pos,
                                        constant(in - 1)));
              w = arith::SelectOp::create(b, l, inside, w, constant(0.0));
              sum = sum ? arith::AddFOp::create(b, l, sum, w) : w;
            }
            taps.push_back({clampedIndex(pos, in), w});
          }
          if (sum)
            for (Tap &tap : taps)
              tap.weight = arith::DivFOp::create(b, l, tap.weight, sum);
        }
        blended.push_back({d, std::move(taps)});
      }
      if (blended.empty())
        return Value(tensor::ExtractOp::create(b, l, input, coords));
      // Every combination of one tap per blended dimension.
      int64_t combinations = 1;
      for (auto &[d, taps] : blended)
        combinations *= taps.size();
      Type element = type.getElementType();
      Value result;
      for (int64_t c = 0; c < combinations; ++c) {
        Value w;
        int64_t rest = c;
        for (auto &[d, taps] : blended) {
          const Tap &tap = taps[rest % taps.size()];
          rest /= taps.size();
          coords[d] = tap.index;
          w = w ? arith::MulFOp::create(b, l, w, tap.weight) : tap.weight;
        }
        Value v = tensor::ExtractOp::create(b, l, input, coords);
        if (element != f64)
          w = arith::TruncFOp::create(b, l, element, w);
        Value term = arith::MulFOp::create(b, l, v, w);
        result = result ? arith::AddFOp::create(b, l, result, term) : term;
      }
      return result;
    };
    rewriter.replaceOp(
        op, linalg::GenericOp::create(
                rewriter, loc, type, ValueRange{}, init, maps, iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  linalg::YieldOp::create(b, l, body(b, l, args));
                })
                .getResult(0));
    return success();
  }
};

} // namespace

void mlir::shears::populateDataMovementPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantLowering, ReshapeLowering<ReshapeOp>,
               ReshapeLowering<FlattenOp>, ExpandLowering, TransposeLowering,
               ConcatLowering, SliceLowering, SplitLowering, PadLowering,
               GatherLowering, ResizeLowering>(patterns.getContext());
}
