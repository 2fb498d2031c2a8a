//===- TileContractions.cpp - Shared-memory tiled GPU kernels -------------===//
//
// shears-map-to-gpu's one-thread-per-output mapping reads every operand
// element from global memory once for each output that uses it, which keeps
// large matrix products and convolutions far from the GPU's arithmetic
// rate. They become the classic shared-memory GEMM kernel instead, a
// convolution as an implicit GEMM (the rows of the product are the filter's
// output channels, its columns the output pixels, its reduction the input
// channels and filter taps; operand elements are found through the op's
// indexing maps, so the im2col matrix is never built):
// - each block of 256 threads computes a 128x128 tile of the result;
// - per step of the reduction, the block stages a 8x128 slice of each
//   operand in shared memory, k-major (rows padded by 4 floats, so that a
//   slice stored across its rows hits distinct banks);
// - thread (r, c) of the block's 16x16 grid accumulates the 8x8 outputs of
//   rows {4r..4r+3, 64+4r..64+4r+3} and the same columns, from 4-wide vector
//   loads of the slices (a warp's loads hit distinct banks): 64 FMAs for 4
//   shared loads;
// - the next slices are loaded from global memory into registers while the
//   current ones are used.
// Edges are guarded, so any sizes run. An H200 ran a 4096^3 product at
// 39.1 TFLOP/s this way (cuBLAS: 50.9), where one thread per output ran it at
// about 1.3 (whole call). Small layers leave the GPU's multiprocessors idle
// with such tiles (resnet18's convolutions at batch 1 ran slower tiled), so
// only contractions of at least `minTiles` tiles take this path.
//
// With tensor cores (`GPUPrecision::TF32`, `FP16`) the staging is the same,
// but the slices hold the operands rounded to the precision (slices of
// 16-bit floats, 16 deep, for fp16), and the block's 8 warps each compute
// 64x32 outputs of the tile as 4x2 WMMA fragments of 16x16
// (`gpu.subgroup_mma_*`, which the NVVM lowering makes `wmma.*` for
// m16n16k8 tf32 or m16n16k16 f16, accumulating in f32): each step loads 4
// fragments of the row slice (stored k-major, so loaded transposed) and 2
// of the column slice and runs 8 multiply-accumulates. At the end each
// fragment goes through a 16x16 scratch in shared memory of its warp, from
// which the warp's threads add it to the result with the same guards.
// bf16 (`GPUPrecision::BF16`) has no WMMA form in the GPU dialect: its warps
// run `nvvm.mma.sync` m16n8k16 instead, 4x4 products of 16x8 outputs, on
// registers each thread packs from the slices as PTX lays them out, with
// the sums in private memory as the f32 kernel's.
//
// State a thread keeps across a barrier (the accumulators, the prefetched
// elements) lives in private memory, which LLVM promotes to registers since
// every access has a constant index, and each phase between barriers
// computes the indices it needs itself: shears-emulate-gpu can then run the
// threads phase by phase on the CPU. (WMMA fragments are values carried by
// the reduction loop; the emulator gives them memory of their own.)
//
//===----------------------------------------------------------------------===//

#include "TileContractions.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using mlir::shears::GPUPrecision;

namespace {

constexpr int64_t kTile = 128; // outputs of a block along M and along N
constexpr int64_t kGrid = 16;  // threads of a block along M and along N
constexpr int64_t kThreads = kGrid * kGrid;
constexpr int64_t kVector = 4; // a thread's rows (and columns): 2 x kVector
constexpr int64_t kOutputs = 4 * kVector * kVector; // per thread
// Tensor cores: 8 warps of 2x4, each 64x32 outputs in fragments of 16x16.
constexpr int64_t kWarp = 32;
constexpr int64_t kWarps = kThreads / kWarp;
constexpr int64_t kWarpsN = 4;
constexpr int64_t kFragment = 16;
constexpr int64_t kWarpRows = kTile / (kWarps / kWarpsN);
constexpr int64_t kWarpColumns = kTile / kWarpsN;
constexpr int64_t kFragmentsM = kWarpRows / kFragment;
constexpr int64_t kFragmentsN = kWarpColumns / kFragment;
// bf16: mma.sync m16n8k16, a warp's 64x32 outputs in 4x4 products of 16x8,
// each thread holding 4 outputs of each (64, the f32 kernel's count).
constexpr int64_t kMmaRows = 16, kMmaColumns = 8, kMmaDepth = 16;
constexpr int64_t kMmasM = kWarpRows / kMmaRows;
constexpr int64_t kMmasN = kWarpColumns / kMmaColumns;
static_assert(kMmasM * kMmasN * 4 == kOutputs, "a thread's outputs");

/// The loops of a contraction by role: rows of the product (dimensions of
/// operand `rowsOperand` and the result only), columns (of the other
/// operand and the result only), at most one batch dimension (both operands
/// and the result), and the reduction.
struct Roles {
  unsigned rowsOperand;
  SmallVector<unsigned> dims[2]; // rows, columns
  SmallVector<unsigned> reduction;
  std::optional<unsigned> batch;
};

FailureOr<Roles> classify(linalg::LinalgOp op) {
  AffineMap result = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!result.isProjectedPermutation() || result.getNumResults() == 0)
    return failure();
  AffineMap inputs[2] = {op.getMatchingIndexingMap(op.getDpsInputOperand(0)),
                         op.getMatchingIndexingMap(op.getDpsInputOperand(1))};
  // The columns hold the result's innermost dimension, so that consecutive
  // threads store consecutive elements.
  unsigned innermost = result.getDimPosition(result.getNumResults() - 1);
  Roles roles;
  roles.rowsOperand = inputs[0].isFunctionOfDim(innermost) ? 1 : 0;
  AffineMap rows = inputs[roles.rowsOperand],
            cols = inputs[1 - roles.rowsOperand];
  for (auto [d, kind] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (kind != utils::IteratorType::parallel) {
      roles.reduction.push_back(d);
      continue;
    }
    bool inRows = rows.isFunctionOfDim(d), inCols = cols.isFunctionOfDim(d);
    if (inRows && inCols) {
      if (roles.batch)
        return failure();
      roles.batch = d;
    } else if (inRows || inCols) {
      roles.dims[inRows ? 0 : 1].push_back(d);
    } else {
      return failure();
    }
  }
  if (roles.dims[0].empty() || roles.dims[1].empty() || roles.reduction.empty())
    return failure();
  return roles;
}

class TiledKernel {
public:
  TiledKernel(RewriterBase &rewriter, linalg::LinalgOp op, Roles roles,
              GPUPrecision precision)
      : b(rewriter), loc(op.getLoc()), op(op), roles(std::move(roles)),
        precision(precision), depth(halfSlices() ? 16 : 8),
        fetchedCount(kTile * depth / kThreads) {}

  gpu::LaunchOp build();

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, loc, value);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t y) {
    return arith::MulIOp::create(b, loc, x, index(y));
  }
  Value less(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  Value thread() { return launch.getThreadIds().x; }
  /// The first of this thread's rows (role 0) or columns (1) in its tile.
  Value threadOffset(unsigned role) {
    Value t = thread(), grid = index(kGrid);
    return mul(role ? Value(arith::RemUIOp::create(b, loc, t, grid))
                    : Value(arith::DivUIOp::create(b, loc, t, grid)),
               kVector);
  }
  OpOperand &operand(unsigned role) {
    return *op.getDpsInputOperand(role ? 1 - roles.rowsOperand
                                       : roles.rowsOperand);
  }

  /// The product of the loops' sizes, and whether it is a known multiple of
  /// `multiple`.
  std::pair<Value, bool> extent(ArrayRef<unsigned> dims, int64_t multiple);
  /// Sets the loop values of `dims` (row-major) from their linear index.
  void delinearize(Value linear, ArrayRef<unsigned> dims,
                   DenseMap<unsigned, Value> &loops);
  /// Where this thread's `r`th element of the slice of role `role` (0:
  /// rows, 1: columns) lies: its offsets along the reduction and along the
  /// role's dimensions. Threads in a row walk the operand's contiguous
  /// dimension.
  std::pair<Value, Value> sliceElement(unsigned role, int64_t r);
  /// The indices into `operand` of its element at the given values of the
  /// op's loops (absent loops: 0).
  SmallVector<Value> indices(OpOperand &operand,
                             const DenseMap<unsigned, Value> &loops);
  void fetch(Value k0);
  /// The slices' element type: f16, bf16, or f32 (also for tf32).
  Type sliceType();
  /// The fetched value as the slices hold it: rounded to tf32 (to nearest,
  /// ties away from zero, as cvt.rna.tf32.f32) or converted to f16 or bf16.
  Value toSliceType(Value value);
  void stage();
  void accumulate();
  void store();
  /// bf16 tensor cores (mma.sync m16n8k16, fragments in registers as PTX
  /// lays them out): one reduction step into the private accumulators, and
  /// the result's update from them.
  void accumulateMmaSync();
  void storeMmaSync();
  /// This thread's g = lane / 4 and 2t = 2 (lane % 4) in those layouts.
  std::pair<Value, Value> mmaLane();
  /// Tensor cores through WMMA (tf32, fp16): the 8 fragments of zeros, one
  /// reduction step from the shared slices, and the result's update from
  /// the fragments.
  SmallVector<Value> zeroFragments();
  SmallVector<Value> accumulateFragments(ValueRange fragments);
  void storeFragments(ValueRange fragments);
  /// The first of this thread's warp's rows (role 0) or columns (1).
  Value warpOffset(unsigned role);
  /// Row (role 0) or column (1) `offset` of this block's tile, in the
  /// product.
  Value inProduct(unsigned role, Value offset);
  /// A row (role 0) or column (1) of the product: its loop values and, where
  /// the role has a ragged edge, whether it is inside the result.
  struct Line {
    DenseMap<unsigned, Value> loops;
    Value inside;
  };
  Line line(unsigned role, Value linear);
  /// Adds `value` to the result at `row` and `column`, if inside it.
  void addToResult(const Line &row, const Line &column, Value value);
  /// Elements after each row of a shared slice: 16 bytes, so that a slice
  /// stored across its rows hits distinct banks and WMMA's strides stay
  /// multiples of 16 bytes.
  int64_t sliceRowPad() const { return halfSlices() ? 8 : 4; }
  /// Whether the slices hold 16-bit floats (fp16, bf16).
  bool halfSlices() const {
    return precision == GPUPrecision::FP16 || precision == GPUPrecision::BF16;
  }

  RewriterBase &b;
  Location loc;
  linalg::LinalgOp op;
  Roles roles;
  GPUPrecision precision;
  int64_t depth;        // reduction step staged in shared memory
  int64_t fetchedCount; // elements of a slice a thread fetches
  SmallVector<Range> ranges;
  Value sizes[2], k; // rows, columns, reduction (linear)
  bool guards[2], guardK;
  gpu::LaunchOp launch;
  Value slices[2], accumulators, fetched, scratch;
};

std::pair<Value, bool> TiledKernel::extent(ArrayRef<unsigned> dims,
                                           int64_t multiple) {
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  Value total;
  int64_t known = 1;
  bool dynamic = false;
  for (unsigned d : dims) {
    Value size = getValueOrCreateConstantIndexOp(b, loc, ranges[d].size);
    total = total ? arith::MulIOp::create(b, loc, total, size) : size;
    if (ShapedType::isDynamic(sizes[d]))
      dynamic = true;
    else
      known *= sizes[d];
  }
  return {total, !dynamic && known > 0 && known % multiple == 0};
}

void TiledKernel::delinearize(Value linear, ArrayRef<unsigned> dims,
                              DenseMap<unsigned, Value> &loops) {
  for (unsigned d : llvm::reverse(dims.drop_front())) {
    Value size = getValueOrCreateConstantIndexOp(b, loc, ranges[d].size);
    loops[d] = arith::RemUIOp::create(b, loc, linear, size);
    linear = arith::DivUIOp::create(b, loc, linear, size);
  }
  loops[dims.front()] = linear;
}

std::pair<Value, Value> TiledKernel::sliceElement(unsigned role, int64_t r) {
  Value e = add(thread(), index(r * kThreads));
  AffineMap map = op.getMatchingIndexingMap(&operand(role));
  bool outerContiguous = map.getResult(map.getNumResults() - 1)
                             .isFunctionOfDim(roles.dims[role].back());
  auto div = [&](int64_t d) {
    return arith::DivUIOp::create(b, loc, e, index(d));
  };
  auto rem = [&](int64_t d) {
    return arith::RemUIOp::create(b, loc, e, index(d));
  };
  if (outerContiguous)
    return {div(kTile), rem(kTile)};
  return {rem(depth), div(depth)};
}

SmallVector<Value>
TiledKernel::indices(OpOperand &operand,
                     const DenseMap<unsigned, Value> &loops) {
  AffineMap map = op.getMatchingIndexingMap(&operand);
  Value zero = index(0);
  SmallVector<Value> dims;
  for (unsigned d = 0, e = map.getNumDims(); d < e; ++d)
    dims.push_back(loops.lookup(d) ? loops.lookup(d) : zero);
  SmallVector<Value> result;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      result.push_back(dims[dim.getPosition()]);
    else
      result.push_back(affine::AffineApplyOp::create(
          b, loc, AffineMap::get(map.getNumDims(), 0, expr), dims));
  }
  return result;
}

/// Loads this thread's elements of the slices at `k0` into `fetched`
/// (zeros past the edges).
void TiledKernel::fetch(Value k0) {
  gpu::KernelDim3 blocks = launch.getBlockIds();
  for (unsigned role = 0; role < 2; ++role) {
    Value origin = mul(role ? blocks.x : blocks.y, kTile);
    for (int64_t r = 0; r < fetchedCount; ++r) {
      auto [kk, offset] = sliceElement(role, r);
      Value kIndex = add(k0, kk), outer = add(origin, offset);
      Value inside;
      auto guard = [&](Value in) {
        inside = inside ? arith::AndIOp::create(b, loc, inside, in) : in;
      };
      if (guardK)
        guard(less(kIndex, k));
      if (guards[role])
        guard(less(outer, sizes[role]));
      Value zero = index(0);
      if (inside) { // in bounds: a valid index either way
        kIndex = arith::SelectOp::create(b, loc, inside, kIndex, zero);
        outer = arith::SelectOp::create(b, loc, inside, outer, zero);
      }
      DenseMap<unsigned, Value> loops;
      delinearize(kIndex, roles.reduction, loops);
      delinearize(outer, roles.dims[role], loops);
      if (roles.batch)
        loops[*roles.batch] = blocks.z;
      OpOperand &source = operand(role);
      Value value =
          memref::LoadOp::create(b, loc, source.get(), indices(source, loops));
      if (inside)
        value = arith::SelectOp::create(
            b, loc, inside, value,
            arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0)));
      memref::StoreOp::create(b, loc, value, fetched,
                              index(role * fetchedCount + r));
    }
  }
}

Type TiledKernel::sliceType() {
  if (precision == GPUPrecision::FP16)
    return b.getF16Type();
  if (precision == GPUPrecision::BF16)
    return b.getBF16Type();
  return b.getF32Type();
}

Value TiledKernel::toSliceType(Value value) {
  if (halfSlices())
    return arith::TruncFOp::create(b, loc, sliceType(), value);
  if (precision != GPUPrecision::TF32)
    return value;
  // Adding half a unit of tf32's last place to the magnitude and dropping
  // the 13 bits f32 has beyond tf32's 10 rounds to nearest, ties away.
  Type i32 = b.getI32Type();
  auto constant = [&](int32_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  };
  Value bits = arith::BitcastOp::create(b, loc, i32, value);
  bits = arith::AddIOp::create(b, loc, bits, constant(1 << 12));
  bits = arith::AndIOp::create(b, loc, bits, constant(~((1 << 13) - 1)));
  return arith::BitcastOp::create(b, loc, b.getF32Type(), bits);
}

/// Stores the fetched elements into the shared slices.
void TiledKernel::stage() {
  for (unsigned role = 0; role < 2; ++role)
    for (int64_t r = 0; r < fetchedCount; ++r) {
      auto [kk, offset] = sliceElement(role, r);
      Value value = memref::LoadOp::create(b, loc, fetched,
                                           index(role * fetchedCount + r));
      memref::StoreOp::create(b, loc, toSliceType(value), slices[role],
                              ValueRange{kk, offset});
    }
}

/// One reduction step over the shared slices: the thread's 8x8 outputs.
void TiledKernel::accumulate() {
  auto vector = VectorType::get({kVector}, b.getF32Type());
  Value row = threadOffset(0), col = threadOffset(1);
  auto loadVector = [&](Value memref, ValueRange indices) {
    return vector::LoadOp::create(b, loc, vector, memref, indices,
                                  /*nontemporal=*/false,
                                  llvm::Align(kVector * 4));
  };
  for (int64_t kk = 0; kk < depth; ++kk) {
    Value kkIndex = index(kk);
    Value a[2], w[2];
    for (int64_t h = 0; h < 2; ++h) {
      a[h] = loadVector(slices[0], {kkIndex, add(row, index(h * kTile / 2))});
      w[h] = loadVector(slices[1], {kkIndex, add(col, index(h * kTile / 2))});
    }
    for (int64_t i = 0; i < 2 * kVector; ++i) {
      Value ai = vector::ExtractOp::create(b, loc, a[i / kVector],
                                           ArrayRef<int64_t>{i % kVector});
      Value splat = vector::BroadcastOp::create(b, loc, vector, ai);
      for (int64_t h = 0; h < 2; ++h) {
        Value slot = index((i * 2 + h) * kVector);
        Value sum = loadVector(accumulators, slot);
        sum = vector::FMAOp::create(b, loc, splat, w[h], sum);
        vector::StoreOp::create(b, loc, sum, accumulators, slot,
                                /*nontemporal=*/false,
                                llvm::Align(kVector * 4));
      }
    }
  }
}

TiledKernel::Line TiledKernel::line(unsigned role, Value linear) {
  Line line;
  if (guards[role])
    line.inside = less(linear, sizes[role]);
  delinearize(linear, roles.dims[role], line.loops);
  return line;
}

void TiledKernel::addToResult(const Line &row, const Line &column,
                              Value value) {
  Value in = row.inside;
  if (column.inside)
    in = in ? arith::AndIOp::create(b, loc, in, column.inside) : column.inside;
  OpBuilder::InsertionGuard guard(b);
  if (in) {
    auto ifOp = scf::IfOp::create(b, loc, in, /*withElse=*/false);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  }
  DenseMap<unsigned, Value> loops = row.loops;
  for (auto [d, v] : column.loops)
    loops[d] = v;
  if (roles.batch)
    loops[*roles.batch] = launch.getBlockIds().z;
  OpOperand &result = *op.getDpsInitOperand(0);
  SmallVector<Value> where = indices(result, loops);
  Value sum = arith::AddFOp::create(
      b, loc, memref::LoadOp::create(b, loc, result.get(), where), value);
  memref::StoreOp::create(b, loc, sum, result.get(), where);
}

/// Adds the thread's outputs to the result (within its edges).
void TiledKernel::store() {
  Value firsts[2] = {inProduct(0, threadOffset(0)),
                     inProduct(1, threadOffset(1))};
  // The thread's 8 rows and 8 columns.
  Line lines[2][2 * kVector];
  for (unsigned role = 0; role < 2; ++role)
    for (int64_t i = 0; i < 2 * kVector; ++i)
      lines[role][i] =
          line(role,
               add(firsts[role], index(i / kVector * kTile / 2 + i % kVector)));
  for (int64_t i = 0; i < 2 * kVector; ++i)
    for (int64_t j = 0; j < 2 * kVector; ++j)
      addToResult(lines[0][i], lines[1][j],
                  memref::LoadOp::create(
                      b, loc, accumulators,
                      index((i * 2 + j / kVector) * kVector + j % kVector)));
}

/// PTX's fragments of mma.m16n8k16 (groupID g = lane / 4, t = lane % 4):
/// register r of A holds row g + 8 (r % 2) at columns 2t + 8 (r / 2) + {0,
/// 1}; register r of B rows (the reduction) 2t + 8 r + {0, 1} of column g;
/// accumulator e row g + 8 (e / 2) and column 2t + e % 2.
std::pair<Value, Value> TiledKernel::mmaLane() {
  Value lane = arith::RemUIOp::create(b, loc, thread(), index(kWarp));
  return {arith::DivUIOp::create(b, loc, lane, index(4)),
          mul(arith::RemUIOp::create(b, loc, lane, index(4)), 2)};
}

void TiledKernel::accumulateMmaSync() {
  auto [g, t2] = mmaLane();
  Value rows = warpOffset(0), columns = warpOffset(1);
  Type i32 = b.getI32Type(), f32 = b.getF32Type();
  auto pair = VectorType::get({2}, b.getBF16Type());
  // Two consecutive reduction elements of one row (role 0) or column (1) of
  // the slices, packed as PTX wants them in a register (the first in the low
  // half).
  auto packed = [&](unsigned role, Value k, Value outer) -> Value {
    Value first =
        memref::LoadOp::create(b, loc, slices[role], ValueRange{k, outer});
    Value second = memref::LoadOp::create(b, loc, slices[role],
                                          ValueRange{add(k, index(1)), outer});
    Value both =
        vector::FromElementsOp::create(b, loc, pair, ValueRange{first, second});
    Value word =
        vector::BitCastOp::create(b, loc, VectorType::get({1}, i32), both);
    return vector::ExtractOp::create(b, loc, word, ArrayRef<int64_t>{0});
  };
  auto resultType = LLVM::LLVMStructType::getLiteral(b.getContext(),
                                                     SmallVector<Type>(4, f32));
  for (int64_t i = 0; i < kMmasM; ++i)
    for (int64_t j = 0; j < kMmasN; ++j) {
      // The operands are loaded right before each product (LLVM merges the
      // repeated loads), so that no register crosses another product: the
      // emulation splits phases there.
      SmallVector<Value> a, w, c;
      Value row = add(rows, add(g, index(i * kMmaRows)));
      for (int64_t r = 0; r < 4; ++r)
        a.push_back(packed(0, add(t2, index(8 * (r / 2))),
                           add(row, index(8 * (r % 2)))));
      Value column = add(columns, add(g, index(j * kMmaColumns)));
      for (int64_t r = 0; r < 2; ++r)
        w.push_back(packed(1, add(t2, index(8 * r)), column));
      int64_t slot = (i * kMmasN + j) * 4;
      for (int64_t e = 0; e < 4; ++e)
        c.push_back(
            memref::LoadOp::create(b, loc, accumulators, index(slot + e)));
      auto mma = NVVM::MmaOp::create(
          b, loc, resultType, a, w, c,
          ArrayRef<int64_t>{kMmaRows, kMmaColumns, kMmaDepth},
          /*b1Op=*/std::nullopt, /*intOverflow=*/std::nullopt,
          std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                        NVVM::MMATypes::bf16},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                         NVVM::MMALayout::col});
      for (int64_t e = 0; e < 4; ++e)
        memref::StoreOp::create(b, loc,
                                LLVM::ExtractValueOp::create(b, loc, mma, e),
                                accumulators, index(slot + e));
    }
}

void TiledKernel::storeMmaSync() {
  auto [g, t2] = mmaLane();
  Value firsts[2] = {inProduct(0, warpOffset(0)), inProduct(1, warpOffset(1))};
  for (int64_t i = 0; i < kMmasM; ++i)
    for (int64_t h = 0; h < 2; ++h) {
      Line row = line(0, add(firsts[0], add(g, index(i * kMmaRows + 8 * h))));
      for (int64_t j = 0; j < kMmasN; ++j)
        for (int64_t e = 0; e < 2; ++e) {
          Line column =
              line(1, add(firsts[1], add(t2, index(j * kMmaColumns + e))));
          addToResult(
              row, column,
              memref::LoadOp::create(b, loc, accumulators,
                                     index((i * kMmasN + j) * 4 + 2 * h + e)));
        }
    }
}

Value TiledKernel::warpOffset(unsigned role) {
  Value warp = arith::DivUIOp::create(b, loc, thread(), index(kWarp));
  return role ? mul(arith::RemUIOp::create(b, loc, warp, index(kWarpsN)),
                    kWarpColumns)
              : mul(arith::DivUIOp::create(b, loc, warp, index(kWarpsN)),
                    kWarpRows);
}

Value TiledKernel::inProduct(unsigned role, Value offset) {
  gpu::KernelDim3 blocks = launch.getBlockIds();
  return add(mul(role ? blocks.x : blocks.y, kTile), offset);
}

SmallVector<Value> TiledKernel::zeroFragments() {
  auto type =
      gpu::MMAMatrixType::get({kFragment, kFragment}, b.getF32Type(), "COp");
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value fragment = gpu::SubgroupMmaConstantMatrixOp::create(b, loc, type, zero);
  return SmallVector<Value>(kFragmentsM * kFragmentsN, fragment);
}

SmallVector<Value> TiledKernel::accumulateFragments(ValueRange fragments) {
  Type element = cast<MemRefType>(slices[0].getType()).getElementType();
  auto ld = b.getIndexAttr(kTile + sliceRowPad());
  UnitAttr transposed = b.getUnitAttr();
  Value zero = index(0), rows = warpOffset(0), columns = warpOffset(1);
  // The row slice is k-major: its fragments are loaded transposed.
  SmallVector<Value> a, w;
  for (int64_t i = 0; i < kFragmentsM; ++i)
    a.push_back(gpu::SubgroupMmaLoadMatrixOp::create(
        b, loc, gpu::MMAMatrixType::get({kFragment, depth}, element, "AOp"),
        slices[0], ValueRange{zero, add(rows, index(i * kFragment))}, ld,
        transposed));
  for (int64_t j = 0; j < kFragmentsN; ++j)
    w.push_back(gpu::SubgroupMmaLoadMatrixOp::create(
        b, loc, gpu::MMAMatrixType::get({depth, kFragment}, element, "BOp"),
        slices[1], ValueRange{zero, add(columns, index(j * kFragment))}, ld,
        /*transpose=*/nullptr));
  SmallVector<Value> sums;
  for (int64_t i = 0; i < kFragmentsM; ++i)
    for (int64_t j = 0; j < kFragmentsN; ++j)
      sums.push_back(gpu::SubgroupMmaComputeOp::create(
          b, loc, fragments[i * kFragmentsN + j].getType(), a[i], w[j],
          fragments[i * kFragmentsN + j], transposed, /*b_transpose=*/nullptr));
  return sums;
}

/// Each fragment in turn goes to its warp's 16x16 scratch, from which the
/// warp's threads add it to the result: a thread takes one column of it and
/// every other row, so that a warp stores runs of 16 consecutive columns.
void TiledKernel::storeFragments(ValueRange fragments) {
  Value warp = arith::DivUIOp::create(b, loc, thread(), index(kWarp));
  Value lane = arith::RemUIOp::create(b, loc, thread(), index(kWarp));
  Value laneRow = arith::DivUIOp::create(b, loc, lane, index(kFragment));
  Value laneColumn = arith::RemUIOp::create(b, loc, lane, index(kFragment));
  Value scratchRow = mul(warp, kFragment);
  constexpr int64_t kRowsPerPass = kWarp / kFragment;
  Value firsts[2] = {inProduct(0, warpOffset(0)), inProduct(1, warpOffset(1))};
  for (int64_t i = 0; i < kFragmentsM; ++i)
    for (int64_t j = 0; j < kFragmentsN; ++j) {
      gpu::SubgroupMmaStoreMatrixOp::create(
          b, loc, fragments[i * kFragmentsN + j], scratch,
          ValueRange{scratchRow, index(0)}, b.getIndexAttr(kFragment),
          /*transpose=*/nullptr);
      gpu::BarrierOp::create(b, loc);
      Line column =
          line(1, add(firsts[1], add(laneColumn, index(j * kFragment))));
      for (int64_t r = 0; r < kFragment; r += kRowsPerPass) {
        Value inFragment = add(laneRow, index(r));
        Value value = memref::LoadOp::create(
            b, loc, scratch,
            ValueRange{add(scratchRow, inFragment), laneColumn});
        addToResult(
            line(0, add(firsts[0], add(inFragment, index(i * kFragment)))),
            column, value);
      }
      gpu::BarrierOp::create(b, loc);
    }
}

gpu::LaunchOp TiledKernel::build() {
  MLIRContext *context = b.getContext();
  b.setInsertionPoint(op);
  ranges = op.createLoopRanges(b, loc);
  for (unsigned role = 0; role < 2; ++role) {
    auto [size, multiple] = extent(roles.dims[role], kTile);
    sizes[role] = size;
    guards[role] = !multiple;
  }
  auto [reduction, multiple] = extent(roles.reduction, depth);
  k = reduction;
  guardK = !multiple;
  Value batch =
      roles.batch
          ? getValueOrCreateConstantIndexOp(b, loc, ranges[*roles.batch].size)
          : index(1);
  auto tiles = [&](Value size) {
    return arith::DivUIOp::create(b, loc, add(size, index(kTile - 1)),
                                  index(kTile));
  };
  auto space = [&](gpu::AddressSpace s) {
    return gpu::AddressSpaceAttr::get(context, s);
  };
  Type f32 = b.getF32Type();
  // WMMA for tf32 and fp16; bf16 has no WMMA form in MLIR's GPU dialect and
  // runs mma.sync on private accumulators like the f32 kernel's.
  bool mmaSync = precision == GPUPrecision::BF16;
  bool tensorCores = precision != GPUPrecision::FP32 && !mmaSync;
  auto shared = [&](ArrayRef<int64_t> shape, Type element) {
    return MemRefType::get(shape, element, MemRefLayoutAttrInterface(),
                           space(gpu::AddressSpace::Workgroup));
  };
  auto privateArray = [&](int64_t size) {
    return MemRefType::get({size}, f32, MemRefLayoutAttrInterface(),
                           space(gpu::AddressSpace::Private));
  };
  auto slice = shared({depth, kTile + sliceRowPad()}, sliceType());
  SmallVector<Type> workgroup = {slice, slice}, privates;
  if (tensorCores)
    workgroup.push_back(shared({kWarps * kFragment, kFragment}, f32));
  else
    privates.push_back(privateArray(kOutputs));
  privates.push_back(privateArray(2 * fetchedCount));
  Value one = index(1);
  launch = gpu::LaunchOp::create(
      b, loc, tiles(sizes[1]), tiles(sizes[0]), batch, index(kThreads), one,
      one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, workgroup, privates);
  slices[0] = launch.getWorkgroupAttributions()[0];
  slices[1] = launch.getWorkgroupAttributions()[1];
  if (tensorCores)
    scratch = launch.getWorkgroupAttributions()[2];
  else
    accumulators = launch.getPrivateAttributions().front();
  fetched = launch.getPrivateAttributions().back();
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  auto terminator = gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(terminator);

  SmallVector<Value> fragments;
  if (tensorCores) {
    fragments = zeroFragments();
  } else {
    auto zeros = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(VectorType::get({kVector}, f32), 0.0f));
    for (int64_t i = 0; i < kOutputs; i += kVector)
      vector::StoreOp::create(b, loc, zeros, accumulators, index(i));
  }
  fetch(index(0));
  stage();
  gpu::BarrierOp::create(b, loc);
  auto steps = scf::ForOp::create(b, loc, index(0), k, index(depth), fragments);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(steps.getBody());
    if (!steps.getBody()->empty())
      b.setInsertionPoint(steps.getBody()->getTerminator());
    Value next = add(steps.getInductionVar(), index(depth));
    auto ifNext = [&](function_ref<void()> body) {
      OpBuilder::InsertionGuard guard(b);
      auto ifOp = scf::IfOp::create(b, loc, less(next, k), /*withElse=*/false);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      body();
    };
    ifNext([&] { fetch(next); });
    SmallVector<Value> sums;
    if (tensorCores)
      sums = accumulateFragments(steps.getRegionIterArgs());
    else if (mmaSync)
      accumulateMmaSync();
    else
      accumulate();
    gpu::BarrierOp::create(b, loc);
    ifNext([&] { stage(); });
    gpu::BarrierOp::create(b, loc);
    if (tensorCores)
      scf::YieldOp::create(b, loc, sums);
  }
  if (tensorCores)
    storeFragments(steps.getResults());
  else if (mmaSync)
    storeMmaSync();
  else
    store();
  return launch;
}

} // namespace

FailureOr<gpu::LaunchOp>
mlir::shears::tileContractionForGPU(RewriterBase &rewriter, linalg::LinalgOp op,
                                    int64_t minTiles, GPUPrecision precision) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 ||
      !(linalg::isaContractionOpInterface(op) ||
        linalg::isaConvolutionOpInterface(op)))
    return failure();
  for (Type type : op->getOperandTypes())
    if (!getElementTypeOrSelf(type).isF32())
      return failure();
  FailureOr<Roles> roles = classify(op);
  if (failed(roles))
    return failure();
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  auto known = [&](ArrayRef<unsigned> dims) {
    int64_t product = 1;
    for (unsigned d : dims)
      if (!ShapedType::isDynamic(sizes[d]))
        product *= sizes[d];
    return product;
  };
  int64_t tiles = roles->batch ? known(*roles->batch) : 1;
  for (const SmallVector<unsigned> &dims : roles->dims) {
    if (known(dims) < kTile / 2)
      return failure();
    tiles *= llvm::divideCeil(known(dims), kTile);
  }
  if (tiles < minTiles)
    return failure();
  gpu::LaunchOp launch =
      TiledKernel(rewriter, op, std::move(*roles), precision).build();
  rewriter.eraseOp(op);
  return launch;
}
