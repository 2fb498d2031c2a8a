//===- ConvertToUKernels.cpp - Contractions onto packed micro-kernels -----===//
//
// Data tiling at the graph level, as IREE does it for mmt4d: a convolution,
// linear layer or MatMul whose weights are constants becomes a
// `shears.ukernel` whose weight operand is a new constant already in the
// micro-kernel's packed layout (include/shears-c/Kernels.h), so no packing
// of weights is left for run time. Activations are packed inside the kernel,
// tile by tile. The bias rides along as the first part of the epilogue;
// shears-fuse-epilogues adds the rest. Max pooling goes to the kernel that
// walks planes like a depthwise convolution.
//
//===----------------------------------------------------------------------===//

#include "shears/Conversion/Passes.h"
#include "shears/Conversion/SparseChoice.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "shears-c/Kernels.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSCONVERTTOUKERNELS
#include "shears/Conversion/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {

/// A static-shaped f32 tensor but for its leading `dynamicLeading` dims.
bool isF32WithStaticTail(Type type, unsigned dynamicLeading) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !tensor.getElementType().isF32())
    return false;
  for (auto [i, d] : llvm::enumerate(tensor.getShape()))
    if (ShapedType::isDynamic(d) && i >= dynamicLeading)
      return false;
  return true;
}

/// A window op's operand and result: f32 NCHW, static but for the batch.
bool isNCHWWithStaticCHW(RankedTensorType in, RankedTensorType out) {
  return in.getRank() == 4 && isF32WithStaticTail(in, 1) &&
         isF32WithStaticTail(out, 1);
}

/// An empty tensor of `type`, its dynamic dims read off `like` (the same
/// positions).
Value emptyLike(PatternRewriter &rewriter, Location loc, RankedTensorType type,
                Value like) {
  SmallVector<Value> dynamic;
  for (auto [i, d] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(d))
      dynamic.push_back(tensor::DimOp::create(rewriter, loc, like, i));
  return tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                 type.getElementType(), dynamic);
}

/// A name for a packed weight: the original's location name, if any.
std::string packedName(Value weight, StringRef suffix) {
  StringRef base = getONNXName(weight.getLoc());
  return ((base.empty() ? StringRef("weight") : base) + "." + suffix).str();
}

/// With release-weights: once a weight has been packed and its constant is
/// dead, frees the original bytes if no other op of the module refers to
/// them. Only for a module that is the only user of its context's blobs
/// (a tool lowering the model it loaded): the packed copy would otherwise
/// double the weights' memory for the rest of the compilation.
struct WeightReleaser {
  ModuleOp module;
  bool enabled = false;

  void release(PatternRewriter &rewriter, Value weight) const {
    auto constant = weight.getDefiningOp<ConstantOp>();
    if (!enabled || !constant || !constant->use_empty())
      return;
    auto attr = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
    rewriter.eraseOp(constant);
    if (!attr)
      return;
    DenseResourceElementsHandle handle = attr.getRawHandle();
    WalkResult used = module->walk([&](Operation *op) {
      for (NamedAttribute named : op->getAttrs())
        if (auto other = dyn_cast<DenseResourceElementsAttr>(named.getValue()))
          if (other.getRawHandle() == handle)
            return WalkResult::interrupt();
      return WalkResult::advance();
    });
    if (!used.wasInterrupted() && handle.getBlob())
      handle.getResource()->setBlob(AsmResourceBlob());
  }
};

/// A pattern that knows the WeightReleaser.
template <typename OpTy> struct PackingPattern : OpRewritePattern<OpTy> {
  PackingPattern(MLIRContext *context, const WeightReleaser &releaser,
                 PatternBenefit benefit = 1)
      : OpRewritePattern<OpTy>(context, benefit), releaser(releaser) {}
  const WeightReleaser &releaser;
};

SmallVector<float> fparamsNone() { return SmallVector<float>(SHEARS_UK_F_NUM); }

/// Whether a convolution runs faster with output channels along the vectors
/// (SHEARS_UK_CONV_CHANNEL_PANELS) than with pixels, by a rough cost per
/// multiply-add (fractions of the work; registers hold 32 multiply-adds a
/// cycle):
///  - each orientation wastes the unused lanes of its last panel (channel
///    panels of 32; pixel panels `pixelPanel` wide: 48 with the AVX-512
///    kernels, about 32 with the others);
///  - channel panels transpose the output once, about 32 / k;
///  - packing the im2col costs about half a cycle an element, used by `mg`
///    output channels: 16 / mg, except for a 1x1 convolution (read in place)
///    and where a padded copy of the input is read in place instead (the
///    AVX-512 kernels, Kernels.h): channel panels for a window with strides
///    1, or 2 without dilation; with pixels, the direct path (strides 1 or
///    2 and a reduction long enough for each), which wastes the lanes of its
///    wide pixels past each row and in the last panel of each band of rows
///    instead (squeezenet's 48x13x13 -> 192: 195 wide pixels in 5 panels of
///    48 for 169 outputs; channel panels ran it at 164 GFLOP/s, direct at
///    150).
/// So a 7x7 or 14x14 image with many channels and a long reduction goes to
/// channel panels; a large image, few channels or a short reduction (a
/// strided 1x1 convolution) stays with pixels.
bool preferChannelPanels(ArrayRef<int64_t> out, int64_t mg, int64_t k,
                         int64_t kh, int64_t kw, ArrayRef<int64_t> strides,
                         ArrayRef<int64_t> dilations, bool pointwise,
                         int64_t pixelPanel) {
  auto waste = [](int64_t size, int64_t panel) {
    int64_t panels = (size + panel - 1) / panel;
    return 1.0 - double(size) / double(panels * panel);
  };
  bool unitStrides = strides[0] == 1 && strides[1] == 1;
  bool plainStrides2 = strides[0] == 2 && strides[1] == 2 &&
                       dilations[0] == 1 && dilations[1] == 1;
  bool sliced = kh * kw > 1 && (unitStrides || plainStrides2);
  double packing = pointwise ? 0.0 : 16.0 / double(mg);
  double channels = waste(mg, SHEARS_UK_GEMM_NR) + 32.0 / double(k) +
                    (sliced ? 0.0 : packing);
  double pixels = waste(out[2] * out[3], pixelPanel) + packing;
  // (A strided 1x1 convolution has no window to slide: it runs on packed
  // pixel panels, not direct.)
  bool direct =
      sliced && (unitStrides ? k >= SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE1
                             : k >= SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE2);
  if (direct) {
    // Each band of rows fills panels of its own (64x56x56 -> 128, 3x3
    // stride 2: 4 bands of 7 rows of 29 wide pixels in 5 panels each, 18%
    // of the lanes unused where the whole image would have left 4%; channel
    // panels ran it 1.16-1.23x as fast on an Emerald Rapids Xeon).
    int64_t reach = unitStrides ? (kw - 1) * dilations[1] : (kw - 1) / 2;
    int64_t reachH = unitStrides ? (kh - 1) * dilations[0] : (kh - 1) / 2;
    int64_t wp = out[3] + reach;
    int64_t rows = shears_uk_conv_direct_band_rows(
        unitStrides ? 1 : 4, k / (kh * kw), wp, reachH, out[2]);
    auto panelsOf = [](int64_t wide) {
      return (wide + SHEARS_UK_CONV_DIRECT_NR - 1) / SHEARS_UK_CONV_DIRECT_NR;
    };
    int64_t bands = (out[2] + rows - 1) / rows;
    int64_t panels = (bands - 1) * panelsOf(rows * wp) +
                     panelsOf((out[2] - (bands - 1) * rows) * wp);
    pixels = 1.0 - double(out[2] * out[3]) /
                       double(panels * SHEARS_UK_CONV_DIRECT_NR);
  }
  return channels < pixels;
}

/// Whether a convolution runs as Winograd F(2x2, 3x3) (Kernels.h): a 3x3
/// window, unit strides and dilations, one group, and enough channels and
/// output pixels that its 16 GEMMs over the input channels, not its
/// transforms, take the time (a short reduction is bound by its stores; a
/// small image wastes the lanes of tiles past its edge and streams a filter
/// 16/9 the size).
bool preferWinograd(ArrayRef<int64_t> out, int64_t c, int64_t cout,
                    int64_t groups, int64_t kh, int64_t kw,
                    ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  return groups == 1 && kh == 3 && kw == 3 && strides[0] == 1 &&
         strides[1] == 1 && dilations[0] == 1 && dilations[1] == 1 && c >= 16 &&
         cout >= 16 && out[2] >= SHEARS_UK_WINOGRAD_MIN_SIZE &&
         out[3] >= SHEARS_UK_WINOGRAD_MIN_SIZE;
}

/// Input channels up to which `winograd-tile=0` (the default) takes F(4x4,
/// 3x3). Its error is about ten times F(2x2, 3x3)'s at any channel count
/// and grows with the channels summed in the transformed domain: simulated
/// in f32 against float64 (unit-variance outputs), at most 7.6e-6 over 16
/// channels, 6.1e-6 over 32, 1.7e-5 over 256 (F(2x2): 4.2e-7, 7.0e-7 and
/// 1.3e-6). Over so few channels F(2x2)'s GEMMs are too short to pay:
/// squeezenet1_1 (16x55x55 -> 64) took 0.94-0.97x its time with F(4x4)
/// there, its outputs moved by 2.4e-7; a 50%-channel-pruned resnet18
/// (32x56x56 -> 32) 0.92-0.95x, by 6.6e-7 (Emerald Rapids, batches 1 and
/// 8, 1 and 2 threads, alternating in one process).
constexpr int64_t kWinograd4x4AutoMaxChannels = 32;

/// The Winograd output tile for `wanted` (the pass's `winograd-tile`): 4
/// where asked (4, or 0 over at most kWinograd4x4AutoMaxChannels input
/// channels) on images of at least SHEARS_UK_WINOGRAD_4X4_MIN_SIZE (a
/// task's block is a row of tiles of one image: 4 tiles on a 14x14 image,
/// too few rows for the GEMM tiles), else 2. F(4x4, 3x3) takes 36
/// multiply-adds for 16 outputs (F(2x2, 3x3) 16 for 4), but its transforms
/// cost more, its tiles cover a multiple of 4 and its error is about ten
/// times larger.
int64_t winogradTile(ArrayRef<int64_t> out, int64_t channels,
                     int64_t wanted) {
  bool four =
      wanted == 4 || (wanted == 0 && channels <= kWinograd4x4AutoMaxChannels);
  return four && out[2] >= SHEARS_UK_WINOGRAD_4X4_MIN_SIZE &&
                 out[3] >= SHEARS_UK_WINOGRAD_4X4_MIN_SIZE
             ? 4
             : 2;
}

/// The conv2d / dwconv2d / maxpool2d slots (Kernels.h) of an NCHW window op
/// from `in` to `out`; `pads` are [top, left, bottom, right] (only top and
/// left matter: the output size bounds the windows).
SmallVector<int64_t> convSlots(ArrayRef<int64_t> in, ArrayRef<int64_t> out,
                               int64_t cout, int64_t kh, int64_t kw,
                               ArrayRef<int64_t> strides,
                               ArrayRef<int64_t> pads,
                               ArrayRef<int64_t> dilations, int64_t groups,
                               int64_t flags) {
  SmallVector<int64_t> iparams(SHEARS_UK_CONV_NUM_PARAMS);
  iparams[SHEARS_UK_CONV_C] = in[1];
  iparams[SHEARS_UK_CONV_H] = in[2];
  iparams[SHEARS_UK_CONV_W] = in[3];
  iparams[SHEARS_UK_CONV_COUT] = cout;
  iparams[SHEARS_UK_CONV_KH] = kh;
  iparams[SHEARS_UK_CONV_KW] = kw;
  iparams[SHEARS_UK_CONV_SH] = strides[0];
  iparams[SHEARS_UK_CONV_SW] = strides[1];
  iparams[SHEARS_UK_CONV_PT] = pads[0];
  iparams[SHEARS_UK_CONV_PL] = pads[1];
  iparams[SHEARS_UK_CONV_DH] = dilations[0];
  iparams[SHEARS_UK_CONV_DW] = dilations[1];
  iparams[SHEARS_UK_CONV_OH] = out[2];
  iparams[SHEARS_UK_CONV_OW] = out[3];
  iparams[SHEARS_UK_CONV_GROUPS] = groups;
  iparams[SHEARS_UK_CONV_FLAGS] = flags;
  return iparams;
}

/// When a linear layer or convolution runs on a sparse kernel (spgemm,
/// spconv2d; the pass's options).
struct SparseOptions {
  /// At most this fraction of its weights non-zero...
  double maxDensity;
  /// ... and, when set, the sparse kernel timed faster on this machine with
  /// this kernel variant (SparseChoice.h), with a remark when `explain` is
  /// set.
  bool time;
  std::string isa;
  bool explain;
};

/// Replaces `op` by the GEMM-shaped `kernel` (gemm, spgemm or wqgemm: the
/// gemm slots, then `moreIparams`) on `input` [..., K], the packed weight
/// operands `packed` ([K, N] as `original` was) and `bias`, with `flags`
/// besides the bias's (SHEARS_UK_SPGEMM_PLANES: `input` and the result are
/// NCHW images, a 1x1 convolution).
LogicalResult replaceWithGemmKernel(PatternRewriter &rewriter, Operation *op,
                                    StringRef kernel, Value input,
                                    ValueRange packed, Value bias, int64_t k,
                                    int64_t n, Value original,
                                    const WeightReleaser &releaser,
                                    ArrayRef<int64_t> moreIparams = {},
                                    int64_t flags = 0) {
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(op->getResult(0).getType());
  SmallVector<int64_t> iparams(SHEARS_UK_GEMM_NUM_PARAMS);
  iparams[SHEARS_UK_GEMM_K] = k;
  iparams[SHEARS_UK_GEMM_N] = n;
  iparams[SHEARS_UK_GEMM_A_RANK] = inType.getRank();
  iparams[SHEARS_UK_GEMM_FLAGS] = flags | (bias ? SHEARS_UK_HAS_BIAS : 0);
  iparams.append(moreIparams.begin(), moreIparams.end());
  SmallVector<Value> inputs = {input};
  inputs.append(packed.begin(), packed.end());
  if (bias)
    inputs.push_back(bias);
  Value init = emptyLike(rewriter, op->getLoc(), outType, input);
  rewriter.replaceOpWithNewOp<UKernelOp>(op, TypeRange{outType}, kernel, inputs,
                                         ValueRange{init}, iparams,
                                         fparamsNone());
  releaser.release(rewriter, original);
  return success();
}

/// Names a layer in remarks: "layer 'NAME'", or `what` when it has none.
std::string describeLayer(Operation *op, StringRef what) {
  StringRef name = getLayerName(op);
  return name.empty() ? what.str() : ("layer '" + name + "'").str();
}

struct Conv2DToUKernel : PackingPattern<Conv2DOp> {
  Conv2DToUKernel(MLIRContext *context, const WeightReleaser &releaser,
                  SparseOptions sparse, bool winograd, int64_t winogradTile)
      : PackingPattern(context, releaser), sparse(std::move(sparse)),
        winograd(winograd), winogradTileWanted(winogradTile) {}

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getResult().getType());
    auto filterType = cast<RankedTensorType>(op.getWeight().getType());
    if (!isNCHWWithStaticCHW(inType, outType) || !filterType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "not f32 NCHW with static CHW");
    FailureOr<SmallVector<float>> filter = getConstantFloats(op.getWeight());
    if (failed(filter))
      return rewriter.notifyMatchFailure(op, "filter is not a constant");
    Value bias = op.getBias();
    if (bias && !isF32WithStaticTail(bias.getType(), 0))
      return rewriter.notifyMatchFailure(op, "bias is not static f32");

    ArrayRef<int64_t> in = inType.getShape(), out = outType.getShape();
    int64_t groups = op.getGroups(), cout = filterType.getDimSize(0);
    int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
    int64_t k = filterType.getDimSize(1) * kh * kw;
    bool depthwise = groups > 1 && groups == in[1] && groups == cout;
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    SmallVector<int64_t> iparams =
        convSlots(in, out, cout, kh, kw, strides, pads, dilations, groups,
                  bias ? SHEARS_UK_HAS_BIAS : 0);

    Location loc = op.getLoc();
    Value weights = op.getWeight();
    if (!depthwise) {
      int64_t mg = cout / groups;
      bool pointwise = kh == 1 && kw == 1 && strides[0] == 1 &&
                       strides[1] == 1 && llvm::all_of(pads, [](int64_t p) {
                         return p == 0;
                       });
      // (resnet50's 256x14x14 -> 1024 in 5 pixel panels of 48, the last 4
      // pixels: 7.6 ms; in channel panels 6.8-7.1 ms.)
      int64_t pixelPanel =
          sparse.isa == "avx512" ? SHEARS_UK_CONV_DIRECT_NR : 32;
      bool channelPanels = preferChannelPanels(
          out, mg, k, kh, kw, strides, dilations, pointwise, pixelPanel);
      SmallVector<float> packed;
      SmallVector<int64_t> shape;
      if (winograd && preferWinograd(out, in[1], cout, groups, kh, kw, strides,
                                     dilations)) {
        // [T*T, ceil(Cout / NR), C, NR] (Kernels.h).
        int64_t tile = winogradTile(out, in[1], winogradTileWanted),
                t = tile + 2;
        packed.resize(shears_uk_winograd_filter_packed_size(cout, in[1], tile));
        shears_uk_pack_winograd_filter(filter->data(), cout, in[1], tile,
                                       packed.data());
        shape = {t * t, (cout + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR,
                 in[1], SHEARS_UK_GEMM_NR};
        iparams[SHEARS_UK_CONV_FLAGS] |=
            SHEARS_UK_CONV_WINOGRAD |
            (tile == 4 ? SHEARS_UK_CONV_WINOGRAD_4X4 : 0);
      } else if (channelPanels) {
        // [g, ceil(Mg / NR), K, NR] (Kernels.h).
        packed.resize(shears_uk_conv_filter_panels_packed_size(cout, k, groups));
        shears_uk_pack_conv_filter_panels(filter->data(), cout, k, groups,
                                          packed.data());
        shape = {groups, (mg + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR, k,
                 SHEARS_UK_GEMM_NR};
        iparams[SHEARS_UK_CONV_FLAGS] |= SHEARS_UK_CONV_CHANNEL_PANELS;
      } else {
        // [g, ceil(Mg / MR), K, MR] (Kernels.h).
        packed.resize(shears_uk_conv_filter_packed_size(cout, k, groups));
        shears_uk_pack_conv_filter(filter->data(), cout, k, groups,
                                   packed.data());
        shape = {groups, (mg + SHEARS_UK_CONV_MR - 1) / SHEARS_UK_CONV_MR, k,
                 SHEARS_UK_CONV_MR};
      }
      // A pruned convolution of one group may run sparse: 1x1 with unit
      // strides and no padding on spgemm's planes, any other on spconv2d.
      std::optional<SmallVector<float>> sparsePacked;
      if (groups == 1 && sparse.maxDensity > 0)
        sparsePacked = packSparseCandidate(*filter, cout, k, sparse.maxDensity,
                                           sparse.time);
      StringRef sparseKernel = pointwise ? "spgemm" : "spconv2d";
      SmallVector<int64_t> sparseIparams;
      if (pointwise) {
        sparseIparams.assign(SHEARS_UK_GEMM_NUM_PARAMS, 0);
        sparseIparams[SHEARS_UK_GEMM_K] = k;
        sparseIparams[SHEARS_UK_GEMM_N] = cout;
        sparseIparams[SHEARS_UK_GEMM_A_RANK] = 4;
        sparseIparams[SHEARS_UK_GEMM_FLAGS] = SHEARS_UK_SPGEMM_PLANES;
      } else {
        sparseIparams.assign(iparams.begin(), iparams.end());
        sparseIparams[SHEARS_UK_CONV_FLAGS] &=
            ~int64_t(SHEARS_UK_CONV_CHANNEL_PANELS | SHEARS_UK_CONV_WINOGRAD |
                     SHEARS_UK_CONV_WINOGRAD_4X4 | SHEARS_UK_HAS_BIAS);
      }
      if (sparsePacked && sparse.time) {
        std::optional<SparseChoice> choice = timeConvFormats(
            packed, iparams, sparseKernel, *sparsePacked, sparseIparams, in[1],
            in[2], in[3], cout * out[2] * out[3], sparse.isa);
        if (choice && sparse.explain)
          op.emitRemark() << describeLayer(op, "convolution") << " (" << kh
                          << "x" << kw << ", [" << cout << ", " << k << "], "
                          << shears_uk_spgemm_nonzeros(filter->data(), cout, k)
                          << " non-zero) runs on " << choice->describe();
        if (choice && !choice->sparse)
          sparsePacked.reset();
      }
      if (sparsePacked) {
        auto type = RankedTensorType::get({int64_t(sparsePacked->size())},
                                          rewriter.getF32Type());
        Value sparseWeight =
            createWeightConstant(rewriter, weights.getLoc(), type,
                                 *sparsePacked, packedName(weights, "sparse"));
        if (pointwise)
          return replaceWithGemmKernel(rewriter, op, "spgemm", op.getInput(),
                                       sparseWeight, bias, k, cout, weights,
                                       releaser, {}, SHEARS_UK_SPGEMM_PLANES);
        sparseIparams[SHEARS_UK_CONV_FLAGS] |= bias ? SHEARS_UK_HAS_BIAS : 0;
        SmallVector<Value> inputs = {op.getInput(), sparseWeight};
        if (bias)
          inputs.push_back(bias);
        Value init = emptyLike(rewriter, loc, outType, op.getInput());
        rewriter.replaceOpWithNewOp<UKernelOp>(
            op, TypeRange{outType}, "spconv2d", inputs, ValueRange{init},
            sparseIparams, fparamsNone());
        releaser.release(rewriter, weights);
        return success();
      }
      auto type = RankedTensorType::get(shape, rewriter.getF32Type());
      weights = createWeightConstant(rewriter, weights.getLoc(), type, packed,
                                     packedName(weights, "packed"));
    }
    SmallVector<Value> inputs = {op.getInput(), weights};
    if (bias)
      inputs.push_back(bias);
    Value init = emptyLike(rewriter, loc, outType, op.getInput());
    Value original = op.getWeight();
    rewriter.replaceOpWithNewOp<UKernelOp>(
        op, TypeRange{outType}, depthwise ? "dwconv2d" : "conv2d", inputs,
        ValueRange{init}, iparams, fparamsNone());
    if (!depthwise)
      releaser.release(rewriter, original);
    return success();
  }

  SparseOptions sparse;
  bool winograd;
  int64_t winogradTileWanted; // The pass's winograd-tile: 0, 2 or 4.
};

/// `input` [..., K] times a constant B ([K, N], element (k, n) at
/// k * strideK + n * strideN of `b`), plus `bias`.
/// B ([K, N] as in rewriteGemm) in gemm's packed panels.
SmallVector<float> packGemmB(ArrayRef<float> b, int64_t k, int64_t n,
                             int64_t strideK, int64_t strideN) {
  SmallVector<float> packed(shears_uk_gemm_b_packed_size(k, n));
  shears_uk_pack_gemm_b(b.data(), k, n, strideK, strideN, packed.data());
  return packed;
}

/// rewriteGemm with B already packed (packGemmB).
LogicalResult rewritePackedGemm(PatternRewriter &rewriter, Operation *op,
                                Value input, Value weight,
                                ArrayRef<float> packed, int64_t k, int64_t n,
                                Value bias, const WeightReleaser &releaser) {
  int64_t panels = (n + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR;
  auto type = RankedTensorType::get({panels, k, SHEARS_UK_GEMM_NR},
                                    rewriter.getF32Type());
  Value packedB = createWeightConstant(rewriter, weight.getLoc(), type, packed,
                                       packedName(weight, "packed"));
  return replaceWithGemmKernel(rewriter, op, "gemm", input, packedB, bias, k, n,
                               weight, releaser);
}

LogicalResult rewriteGemm(PatternRewriter &rewriter, Operation *op, Value input,
                          Value weight, ArrayRef<float> b, int64_t k, int64_t n,
                          int64_t strideK, int64_t strideN, Value bias,
                          const WeightReleaser &releaser) {
  return rewritePackedGemm(rewriter, op, input, weight,
                           packGemmB(b, k, n, strideK, strideN), k, n, bias,
                           releaser);
}

/// The input of a GEMM: f32, rank >= 1, static but for its leading dims,
/// the result the same.
bool isGemmOperand(Value input, Value result) {
  auto in = cast<RankedTensorType>(input.getType());
  auto out = cast<RankedTensorType>(result.getType());
  return in.getRank() >= 1 && out.getRank() == in.getRank() &&
         isF32WithStaticTail(in, in.getRank() - 1) &&
         isF32WithStaticTail(out, out.getRank() - 1) &&
         !ShapedType::isDynamic(in.getShape().back());
}

/// A linear layer on f32 [..., K] (static but for the leading dims) with a
/// static weight and an f32 bias, if any: what the GEMM kernels take.
bool isStaticF32Linear(LinearOp op) {
  return isGemmOperand(op.getInput(), op.getResult()) &&
         cast<RankedTensorType>(op.getWeight().getType()).hasStaticShape() &&
         (!op.getBias() || isF32WithStaticTail(op.getBias().getType(), 0));
}

/// The linear layer `op` on spgemm, its weight packed as `packed`
/// (packSparseCandidate's slices of rows).
LogicalResult rewriteSparseLinear(PatternRewriter &rewriter, LinearOp op,
                                  ArrayRef<float> packed, int64_t n, int64_t k,
                                  const WeightReleaser &releaser) {
  auto type =
      RankedTensorType::get({int64_t(packed.size())}, rewriter.getF32Type());
  Value weight = op.getWeight();
  Value sparse = createWeightConstant(rewriter, weight.getLoc(), type, packed,
                                      packedName(weight, "sparse"));
  return replaceWithGemmKernel(rewriter, op, "spgemm", op.getInput(), sparse,
                               op.getBias(), k, n, weight, releaser);
}

struct LinearToUKernel : PackingPattern<LinearOp> {
  LinearToUKernel(MLIRContext *context, const WeightReleaser &releaser,
                  SparseOptions sparse)
      : PackingPattern(context, releaser), sparse(std::move(sparse)) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    if (!isStaticF32Linear(op))
      return rewriter.notifyMatchFailure(op, "not a static f32 linear");
    FailureOr<SmallVector<float>> weight = getConstantFloats(op.getWeight());
    if (failed(weight))
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    std::optional<SmallVector<float>> sparsePacked;
    if (sparse.maxDensity > 0)
      sparsePacked =
          packSparseCandidate(*weight, n, k, sparse.maxDensity, sparse.time);
    // A kernel the caller pinned, else the density or timing decides.
    auto pinned = op->getAttrOfType<StringAttr>(kKernelAttrName);
    bool pinnedGemm = pinned && pinned.getValue() == "gemm";
    bool pinnedSparse = pinned && pinned.getValue() == "spgemm";
    if (pinnedGemm)
      sparsePacked.reset();
    if (sparsePacked && (!sparse.time || pinnedSparse))
      return rewriteSparseLinear(rewriter, op, *sparsePacked, n, k, releaser);
    // The dense panels, packed once: timed against the slices, then used
    // if gemm wins.
    SmallVector<float> dense =
        packGemmB(*weight, k, n, /*strideK=*/1, /*strideN=*/k);
    if (sparsePacked) {
      std::optional<SparseChoice> choice =
          timeLinearFormats(dense, *sparsePacked, k, n, sparse.isa);
      if (choice && sparse.explain) {
        op.emitRemark() << describeLayer(op, "linear layer") << " ([" << n
                        << ", " << k << "], "
                        << shears_uk_spgemm_nonzeros(weight->data(), n, k)
                        << " non-zero) runs on " << choice->describe();
      }
      if (!choice || choice->sparse)
        return rewriteSparseLinear(rewriter, op, *sparsePacked, n, k, releaser);
    }
    return rewritePackedGemm(rewriter, op, op.getInput(), op.getWeight(), dense,
                             k, n, op.getBias(), releaser);
  }

  SparseOptions sparse;
};

/// `value` = dequantize(quantize(input)) to ui8 and back with one constant
/// scale and zero point, or dequantize(dynamic_quantize(input)) (`dynamic`,
/// the scale and zero point found at run time): what shears-quantize puts
/// before a layer.
struct QuantizedActivation {
  Value input;
  float scale = 0;
  int32_t zeroPoint = 0;
  bool dynamic = false;
};
std::optional<QuantizedActivation> matchQuantizedActivation(Value value) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  if (auto dynamic =
          dequantize
              ? dequantize.getInput().getDefiningOp<DynamicQuantizeOp>()
              : nullptr) {
    if (dequantize.getScale() != dynamic.getScale() ||
        dequantize.getZeroPoint() != dynamic.getZeroPoint())
      return std::nullopt;
    QuantizedActivation activation;
    activation.input = dynamic.getInput();
    activation.dynamic = true;
    return activation;
  }
  auto quantize =
      dequantize ? dequantize.getInput().getDefiningOp<QuantizeOp>() : nullptr;
  if (!quantize || quantize.isPerAxis() || dequantize.isPerAxis() ||
      !quantize.getType().getElementType().isUnsignedInteger(8))
    return std::nullopt;
  auto scale = getConstantFloats(quantize.getScale());
  auto zeroPoint = getConstantInts(quantize.getZeroPoint());
  auto backScale = getConstantFloats(dequantize.getScale());
  auto backZeroPoint = getConstantInts(dequantize.getZeroPoint());
  if (failed(scale) || failed(zeroPoint) || failed(backScale) ||
      failed(backZeroPoint) || *scale != *backScale ||
      *zeroPoint != *backZeroPoint || !((*scale)[0] > 0))
    return std::nullopt;
  QuantizedActivation activation;
  activation.input = quantize.getInput();
  activation.scale = (*scale)[0];
  activation.zeroPoint = (*zeroPoint)[0];
  return activation;
}

/// `value` = dequantize of a constant i8 weight (output channels first)
/// with zero points 0, per tensor or per output channel: the integers and a
/// scale per output channel.
struct QuantizedWeight {
  SmallVector<int8_t> ints;
  SmallVector<float> scales;
};
std::optional<QuantizedWeight> matchQuantizedWeight(Value value) {
  auto dequantize = value.getDefiningOp<DequantizeOp>();
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!dequantize || !type || type.getRank() < 2 || !type.hasStaticShape() ||
      !dequantize.getInput().getType().getElementType().isSignlessInteger(8) ||
      (dequantize.isPerAxis() && *dequantize.getAxis() != 0))
    return std::nullopt;
  auto ints = getConstantInts(dequantize.getInput());
  auto scales = getConstantFloats(dequantize.getScale());
  auto zeroPoints = getConstantInts(dequantize.getZeroPoint());
  if (failed(ints) || failed(scales) || failed(zeroPoints) ||
      llvm::any_of(*zeroPoints, [](int32_t z) { return z != 0; }))
    return std::nullopt;
  QuantizedWeight weight;
  weight.ints.assign(ints->begin(), ints->end());
  weight.scales.assign(*scales);
  weight.scales.resize(type.getDimSize(0), (*scales)[0]);
  return weight;
}

/// The flag SHEARS_UK_QUANT_NARROW_WEIGHTS where every weight is in
/// [-64, 64], else 0; failure where the kernels of `isa` need it (AVX2's
/// vpmaddubsw sums two products in 16 bits; the plain integer loops it
/// would otherwise run are slower than the f32 kernels).
FailureOr<int64_t> narrowWeightsFlag(const QuantizedWeight &weight,
                                     StringRef isa) {
  bool narrow =
      llvm::all_of(weight.ints, [](int8_t w) { return w >= -64 && w <= 64; });
  if (narrow)
    return int64_t(SHEARS_UK_QUANT_NARROW_WEIGHTS);
  if (isa == "avx2")
    return failure();
  return int64_t(0);
}

/// The sum of each output channel's integer weights.
SmallVector<float> channelSums(const QuantizedWeight &weight) {
  int64_t channels = weight.scales.size();
  int64_t k = weight.ints.size() / channels;
  SmallVector<float> sums(channels);
  for (int64_t j = 0; j < channels; ++j) {
    int64_t sum = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      sum += weight.ints[j * k + kk];
    sums[j] = float(sum);
  }
  return sums;
}

/// The scale per output channel of an int8 kernel (the input's scale times
/// the weight's) and `bias` less the input zero point's share of each
/// output (zero point * the channel's weight sum * scale): Kernels.h. With
/// a dynamic input, only the weight's scale: the rest is known at run time.
SmallVector<float> foldQuantization(const QuantizedActivation &activation,
                                    const QuantizedWeight &weight,
                                    MutableArrayRef<float> bias) {
  if (activation.dynamic)
    return weight.scales;
  SmallVector<float> sums = channelSums(weight), scale(sums.size());
  for (auto [j, sum] : llvm::enumerate(sums)) {
    scale[j] = activation.scale * weight.scales[j];
    bias[j] -= float(activation.zeroPoint) * sum * scale[j];
  }
  return scale;
}

/// The inputs of an int8 kernel replacing `op`: the f32 input, the packed
/// weights (an i8 tensor of `packedShape`), the scales and the biases.
SmallVector<Value> quantizedOperands(PatternRewriter &rewriter, Operation *op,
                                     Value input, ArrayRef<int8_t> packed,
                                     ArrayRef<int64_t> packedShape,
                                     ArrayRef<float> scale,
                                     ArrayRef<float> bias,
                                     ArrayRef<float> columnSums = {}) {
  Value original = op->getOperand(1);
  auto packedType = RankedTensorType::get(packedShape, rewriter.getI8Type());
  Value weights = createWeightConstant(
      rewriter, original.getLoc(), packedType,
      ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                     packed.size()),
      /*alignment=*/64, packedName(original, "packed"));
  auto vectorType =
      RankedTensorType::get({int64_t(scale.size())}, rewriter.getF32Type());
  Location loc = op->getLoc();
  Value scales = createWeightConstant(rewriter, loc, vectorType, scale,
                                      packedName(original, "scale"));
  Value biases = createWeightConstant(rewriter, loc, vectorType, bias,
                                      packedName(original, "bias"));
  if (columnSums.empty())
    return {input, weights, scales, biases};
  Value sums = createWeightConstant(rewriter, loc, vectorType, columnSums,
                                    packedName(original, "sums"));
  return {input, weights, scales, sums, biases};
}

/// The values of an optional constant bias of `n` elements, zeros without
/// one; failure when it is not a constant.
FailureOr<SmallVector<float>> biasOrZeros(Value bias, int64_t n) {
  if (!bias)
    return SmallVector<float>(n, 0.0f);
  auto values = getConstantFloats(bias);
  if (failed(values) || int64_t(values->size()) != n)
    return failure();
  return values;
}

/// The fparams of an int8 kernel: no clip yet, the input's quantization.
SmallVector<float> quantizedFparams(const QuantizedActivation &activation) {
  SmallVector<float> fparams(SHEARS_UK_QGEMM_F_NUM);
  fparams[SHEARS_UK_QGEMM_F_A_SCALE] = activation.scale;
  fparams[SHEARS_UK_QGEMM_F_A_ZERO_POINT] = float(activation.zeroPoint);
  return fparams;
}

/// A linear layer of quantized input and weights (QDQ) becomes qgemm: u8 x
/// s8 products summed in integers. The scales and the zero point's
/// correction fold into one scale and bias per output (Kernels.h).
struct QuantizedLinearToUKernel : OpRewritePattern<LinearOp> {
  // Before LinearToUKernel, which would run it in f32.
  QuantizedLinearToUKernel(MLIRContext *context, StringRef isa)
      : OpRewritePattern(context, /*benefit=*/2), isa(isa.str()) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    // The input first: a weight-only layer is not unpacked for nothing.
    auto activation = matchQuantizedActivation(op.getInput());
    if (!activation || !isGemmOperand(activation->input, op.getResult()))
      return rewriter.notifyMatchFailure(op, "not a quantized input");
    auto weight = matchQuantizedWeight(op.getWeight());
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    auto bias = biasOrZeros(op.getBias(), n);
    if (!weight || failed(bias))
      return rewriter.notifyMatchFailure(op, "not an int8 QDQ linear");
    FailureOr<int64_t> narrow = narrowWeightsFlag(*weight, isa);
    if (failed(narrow))
      return rewriter.notifyMatchFailure(op, "weights outside [-64, 64]");
    SmallVector<float> scale = foldQuantization(*activation, *weight, *bias);
    SmallVector<int8_t> packed(shears_uk_qgemm_b_packed_size(k, n));
    shears_uk_pack_qgemm_b(weight->ints.data(), k, n, /*strideK=*/1,
                           /*strideN=*/k, packed.data());
    Location loc = op.getLoc();
    SmallVector<Value> inputs = quantizedOperands(
        rewriter, op, activation->input, packed,
        {(n + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR,
         shears_uk_qgemm_groups(k), SHEARS_UK_GEMM_NR, 4},
        scale, *bias,
        activation->dynamic ? channelSums(*weight) : SmallVector<float>());
    auto inType = cast<RankedTensorType>(activation->input.getType());
    SmallVector<int64_t> iparams(SHEARS_UK_GEMM_NUM_PARAMS);
    iparams[SHEARS_UK_GEMM_K] = k;
    iparams[SHEARS_UK_GEMM_N] = n;
    iparams[SHEARS_UK_GEMM_A_RANK] = inType.getRank();
    iparams[SHEARS_UK_GEMM_FLAGS] =
        SHEARS_UK_HAS_BIAS | *narrow |
        (activation->dynamic ? SHEARS_UK_QGEMM_DYNAMIC : 0);
    auto outType = cast<RankedTensorType>(op.getType());
    Value init = emptyLike(rewriter, loc, outType, activation->input);
    rewriter.replaceOpWithNewOp<UKernelOp>(op, TypeRange{outType}, "qgemm",
                                           inputs, ValueRange{init}, iparams,
                                           quantizedFparams(*activation));
    return success();
  }

  std::string isa;
};

/// A convolution of quantized input and weights (QDQ, groups 1) becomes
/// qconv2d, folded as for qgemm.
struct QuantizedConv2DToUKernel : OpRewritePattern<Conv2DOp> {
  // Before Conv2DToUKernel, which would run it in f32.
  QuantizedConv2DToUKernel(MLIRContext *context, StringRef isa)
      : OpRewritePattern(context, /*benefit=*/2), isa(isa.str()) {}

  LogicalResult matchAndRewrite(Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    // The input first: a weight-only layer is not unpacked for nothing.
    auto activation = matchQuantizedActivation(op.getInput());
    if (!activation || activation->dynamic || op.getGroups() != 1)
      return rewriter.notifyMatchFailure(op, "not a statically quantized "
                                             "input");
    auto inType = cast<RankedTensorType>(activation->input.getType());
    auto outType = cast<RankedTensorType>(op.getType());
    if (!isNCHWWithStaticCHW(inType, outType))
      return rewriter.notifyMatchFailure(op, "not f32 NCHW with static CHW");
    auto weight = matchQuantizedWeight(op.getWeight());
    auto filterType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t cout = filterType.getDimSize(0), c = filterType.getDimSize(1);
    int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
    auto bias = biasOrZeros(op.getBias(), cout);
    if (!weight || failed(bias))
      return rewriter.notifyMatchFailure(op, "not an int8 QDQ convolution");
    FailureOr<int64_t> narrow = narrowWeightsFlag(*weight, isa);
    if (failed(narrow))
      return rewriter.notifyMatchFailure(op, "weights outside [-64, 64]");
    SmallVector<float> scale = foldQuantization(*activation, *weight, *bias);
    SmallVector<int8_t> packed(
        shears_uk_qconv_filter_packed_size(cout, c, kh, kw));
    shears_uk_pack_qconv_filter(weight->ints.data(), cout, c, kh, kw,
                                packed.data());
    SmallVector<Value> inputs = quantizedOperands(
        rewriter, op, activation->input, packed,
        {(cout + SHEARS_UK_GEMM_NR - 1) / SHEARS_UK_GEMM_NR, kh,
         shears_uk_qconv_row_taps(c, kw), (c + 3) / 4, SHEARS_UK_GEMM_NR, 4},
        scale, *bias);
    SmallVector<int64_t> iparams = convSlots(
        inType.getShape(), outType.getShape(), cout, kh, kw, op.getStrides(),
        op.getPads(), op.getDilations(), 1, SHEARS_UK_HAS_BIAS | *narrow);
    Value init = emptyLike(rewriter, op.getLoc(), outType, activation->input);
    rewriter.replaceOpWithNewOp<UKernelOp>(op, TypeRange{outType}, "qconv2d",
                                           inputs, ValueRange{init}, iparams,
                                           quantizedFparams(*activation));
    return success();
  }

  std::string isa;
};

/// A linear weight [n, k] of weight-only quantization in at most 4 bits, as
/// shears-quantize writes it: dequantize(q) with a scale per output channel,
/// or q in groups along k ([n * k' / group, group], a scale per group)
/// dequantized, reshaped to [n, k'] and sliced to [n, k]. The integers
/// [n, k], a scale per group [n, ceil(k / group)], and the bits: 1 where
/// every value is -1 or 1 with a scale per channel, 4 where every value is
/// in [-8, 7] and groups are even (or one); `source`, the dequantized
/// integers (which name the packed weight).
struct LowBitWeight {
  Value source;
  SmallVector<int8_t> ints;
  SmallVector<float> scales;
  int64_t group = 0;
  int bits = 0;
};
std::optional<LowBitWeight> matchLowBitWeight(Value weight, int64_t n,
                                              int64_t k) {
  Value value = weight;
  if (auto slice = value.getDefiningOp<SliceOp>()) {
    if (slice.getAxes() != ArrayRef<int64_t>{1} ||
        slice.getStarts() != ArrayRef<int64_t>{0} ||
        slice.getSteps() != ArrayRef<int64_t>{1})
      return std::nullopt;
    value = slice.getInput();
  }
  if (auto reshape = value.getDefiningOp<ReshapeOp>())
    value = reshape.getInput();
  auto type = cast<RankedTensorType>(value.getType());
  auto quantized = matchQuantizedWeight(value);
  if (!quantized || type.getRank() != 2 || n <= 0 || k <= 0 ||
      type.getDimSize(0) % n != 0)
    return std::nullopt;
  // Row j of the [n, k'] view is rows [j * perRow, (j + 1) * perRow) of
  // the groups.
  int64_t perRow = type.getDimSize(0) / n, width = type.getDimSize(1);
  if (perRow * width < k || (perRow - 1) * width >= k)
    return std::nullopt;
  LowBitWeight w;
  w.source = value;
  w.group = perRow == 1 ? k : width;
  w.ints.resize(n * k);
  bool binary = perRow == 1, int4 = perRow == 1 || width % 2 == 0;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk) {
      int8_t q = quantized->ints[j * perRow * width + kk];
      binary &= q == 1 || q == -1;
      int4 &= q >= -8 && q <= 7;
      w.ints[j * k + kk] = q;
    }
  if (!binary && !int4)
    return std::nullopt;
  w.bits = binary ? 1 : 4;
  w.scales.assign(quantized->scales);
  return w;
}

/// A linear layer whose constant weight is int4 or binary (weight-only
/// quantization) becomes wqgemm, which reads the weight in those bits and
/// unpacks it in registers: the layer's f32 input and arithmetic are
/// kept, its weight's bytes are cut 8 or 32 times.
struct LowBitLinearToUKernel : OpRewritePattern<LinearOp> {
  // Before LinearToUKernel, which would run it on the dequantized weight.
  LowBitLinearToUKernel(MLIRContext *context)
      : OpRewritePattern(context, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    if (!isStaticF32Linear(op))
      return rewriter.notifyMatchFailure(op, "not a static f32 linear");
    int64_t n = weightType.getDimSize(0), k = weightType.getDimSize(1);
    auto weight = matchLowBitWeight(op.getWeight(), n, k);
    if (!weight)
      return rewriter.notifyMatchFailure(op, "weight not in 4 or 1 bits");
    SmallVector<uint8_t> packed(
        shears_uk_wqgemm_packed_size(n, k, weight->bits));
    shears_uk_pack_wqgemm(weight->ints.data(), n, k, weight->bits,
                          packed.data());
    SmallVector<float> scales(
        shears_uk_wqgemm_scales_size(n, k, weight->group));
    shears_uk_pack_wqgemm_scales(weight->scales.data(), n, k, weight->group,
                                 scales.data());
    Value original = weight->source;
    int64_t panels = (n + SHEARS_UK_WQGEMM_NR - 1) / SHEARS_UK_WQGEMM_NR;
    auto packedType = RankedTensorType::get(
        {panels, int64_t(packed.size()) / panels}, rewriter.getI8Type());
    auto scalesType = RankedTensorType::get(
        {panels, (k + weight->group - 1) / weight->group, SHEARS_UK_WQGEMM_NR},
        rewriter.getF32Type());
    Value weights[] = {
        createWeightConstant(
            rewriter, original.getLoc(), packedType,
            ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                           packed.size()),
            /*alignment=*/64, packedName(original, "packed")),
        createWeightConstant(rewriter, op.getLoc(), scalesType, scales,
                             packedName(original, "scale"))};
    // Nothing to release: the original is a dequantize, not a constant.
    return replaceWithGemmKernel(rewriter, op, "wqgemm", op.getInput(), weights,
                                 op.getBias(), k, n, original, WeightReleaser{},
                                 {weight->bits, weight->group});
  }
};

struct MatMulToUKernel : PackingPattern<MatMulOp> {
  using PackingPattern::PackingPattern;

  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    auto rhsType = cast<RankedTensorType>(op.getRhs().getType());
    auto lhsType = cast<RankedTensorType>(op.getLhs().getType());
    if (rhsType.getRank() != 2 || !rhsType.hasStaticShape() ||
        lhsType.getRank() < 2 || !isGemmOperand(op.getLhs(), op.getResult()))
      return rewriter.notifyMatchFailure(op, "not [..., K] x constant [K, N]");
    FailureOr<SmallVector<float>> rhs = getConstantFloats(op.getRhs());
    if (failed(rhs))
      return rewriter.notifyMatchFailure(op, "rhs is not a constant");
    int64_t k = rhsType.getDimSize(0), n = rhsType.getDimSize(1);
    return rewriteGemm(rewriter, op, op.getLhs(), op.getRhs(), *rhs, k, n,
                       /*strideK=*/n, /*strideN=*/1, Value(), releaser);
  }
};

/// A batched MatMul of two computed operands (attention's Q K^T and its
/// weights times V): each batch element on the gemm kernel's tiles, its B
/// packed at run time (bmm). A transpose of B's last two dims is read
/// through, not copied. Batch dims must match (a static 1 that broadcasts
/// stays on linalg), M, K and N be static.
struct BatchMatMulToUKernel : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Value lhs = op.getLhs(), rhs = op.getRhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto outType = cast<RankedTensorType>(op.getResult().getType());
    int64_t rank = lhsType.getRank();
    if (rank < 3 || cast<RankedTensorType>(rhs.getType()).getRank() != rank ||
        !isF32WithStaticTail(lhsType, rank - 2) ||
        !isF32WithStaticTail(rhs.getType(), rank - 2) ||
        !isF32WithStaticTail(outType, rank - 2))
      return rewriter.notifyMatchFailure(op, "not f32 [batch..., M, K] x "
                                             "[batch..., K, N]");
    bool transposeB = false;
    if (auto transpose = rhs.getDefiningOp<TransposeOp>()) {
      SmallVector<int64_t> swap = llvm::to_vector(llvm::seq<int64_t>(0, rank));
      std::swap(swap[rank - 2], swap[rank - 1]);
      if (transpose.getPerm() == ArrayRef<int64_t>(swap)) {
        rhs = transpose.getInput();
        transposeB = true;
      }
    }
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    ArrayRef<int64_t> a = lhsType.getShape(), b = rhsType.getShape();
    for (int64_t d = 0; d + 2 < rank; ++d)
      if (a[d] != b[d] || a[d] != outType.getDimSize(d))
        return rewriter.notifyMatchFailure(op, "batch dims differ");
    int64_t m = a[rank - 2], k = a[rank - 1];
    int64_t n = transposeB ? b[rank - 2] : b[rank - 1];
    SmallVector<int64_t> iparams(SHEARS_UK_BMM_NUM_PARAMS);
    iparams[SHEARS_UK_BMM_M] = m;
    iparams[SHEARS_UK_BMM_K] = k;
    iparams[SHEARS_UK_BMM_N] = n;
    iparams[SHEARS_UK_BMM_TRANSPOSE_B] = transposeB;
    iparams[SHEARS_UK_BMM_A_RANK] = rank;
    Value init = emptyLike(rewriter, op.getLoc(), outType, lhs);
    rewriter.replaceOpWithNewOp<UKernelOp>(
        op, TypeRange{outType}, "bmm", ValueRange{lhs, rhs}, ValueRange{init},
        iparams, fparamsNone());
    return success();
  }
};

/// Max pooling walks its planes like a depthwise convolution (maxpool2d).
struct MaxPoolToUKernel : OpRewritePattern<MaxPoolOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MaxPoolOp op,
                                PatternRewriter &rewriter) const override {
    auto inType = cast<RankedTensorType>(op.getInput().getType());
    auto outType = cast<RankedTensorType>(op.getResult().getType());
    if (!isNCHWWithStaticCHW(inType, outType))
      return rewriter.notifyMatchFailure(op, "not f32 NCHW with static CHW");
    ArrayRef<int64_t> kernel = op.getKernelShape();
    int64_t channels = inType.getDimSize(1);
    SmallVector<int64_t> iparams =
        convSlots(inType.getShape(), outType.getShape(), channels, kernel[0],
                  kernel[1], op.getStrides(), op.getPads(), op.getDilations(),
                  channels, 0);
    Value init = emptyLike(rewriter, op.getLoc(), outType, op.getInput());
    rewriter.replaceOpWithNewOp<UKernelOp>(
        op, TypeRange{outType}, "maxpool2d", ValueRange{op.getInput()},
        ValueRange{init}, iparams, fparamsNone());
    return success();
  }
};

struct ShearsConvertToUKernels
    : shears::impl::ShearsConvertToUKernelsBase<ShearsConvertToUKernels> {
  using Base::Base;

  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    WeightReleaser releaser{getOperation(), releaseWeights};
    patterns.add<MatMulToUKernel>(&getContext(), releaser);
    std::optional<std::string> kernels = resolveKernelISA(getOperation(), isa);
    if (!kernels)
      return signalPassFailure();
    SparseOptions sparse{sparseDensity, timeSparse, *kernels, explainSparse};
    if (winogradTile != 0 && winogradTile != 2 && winogradTile != 4) {
      getOperation().emitError() << "winograd-tile must be 0, 2 or 4, got "
                                 << static_cast<int64_t>(winogradTile);
      return signalPassFailure();
    }
    // A pinned kernel (shears.kernel) names one a linear layer runs on.
    WalkResult pins = getOperation().walk([](Operation *op) {
      Attribute pin = op->getAttr(kKernelAttrName);
      auto name = dyn_cast_or_null<StringAttr>(pin);
      if (!pin || (llvm::isa<LinearOp>(op) && name &&
                   (name.getValue() == "gemm" || name.getValue() == "spgemm")))
        return WalkResult::advance();
      op->emitError() << kKernelAttrName
                      << " must be \"gemm\" or \"spgemm\" on a shears.linear, "
                         "got "
                      << pin;
      return WalkResult::interrupt();
    });
    if (pins.wasInterrupted())
      return signalPassFailure();
    patterns.add<Conv2DToUKernel>(&getContext(), releaser, sparse, winograd,
                                  winogradTile);
    patterns.add<LinearToUKernel>(&getContext(), releaser, sparse);
    if (integerKernels)
      patterns.add<QuantizedLinearToUKernel, QuantizedConv2DToUKernel>(
          &getContext(), *kernels);
    patterns.add<BatchMatMulToUKernel, LowBitLinearToUKernel, MaxPoolToUKernel>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
