//===- Vector.h - What every per-ISA kernel file starts with ----*- C++ -*-===//
//
// Included by the translation units compiled once per ISA (Contraction.cpp,
// Depthwise.cpp): the ISA's vector of SHEARS_UK_WIDTH floats, its unaligned
// loads and stores, and the macro that names an exported kernel after the
// ISA (shears_uk_<name>_<isa>).
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_KERNELS_VECTOR_H
#define SHEARS_KERNELS_VECTOR_H

#include <stdint.h>
#include <utility>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#if !defined(SHEARS_UK_ISA) || !defined(SHEARS_UK_WIDTH)
#error "compile with -DSHEARS_UK_ISA=<isa> -DSHEARS_UK_WIDTH=<floats>"
#endif

#define SHEARS_UK_CAT2(a, b) a##_##b
#define SHEARS_UK_CAT(a, b) SHEARS_UK_CAT2(a, b)
#define SHEARS_UK_NAME(name) SHEARS_UK_CAT(shears_uk_##name, SHEARS_UK_ISA)
#define SHEARS_UK_STR2(x) #x
#define SHEARS_UK_STR(x) SHEARS_UK_STR2(x)
#define SHEARS_UK_ISA_NAME SHEARS_UK_STR(SHEARS_UK_ISA)

namespace shears::uk::SHEARS_UK_ISA {

constexpr int W = SHEARS_UK_WIDTH;
typedef float VF __attribute__((vector_size(W * sizeof(float))));
typedef float VFU __attribute__((vector_size(W * sizeof(float)), aligned(4)));

inline VF load(const float *p) { return *reinterpret_cast<const VFU *>(p); }
inline void store(float *p, VF v) { *reinterpret_cast<VFU *>(p) = v; }

/// Lanes First, First + 2, ... of lo then of hi: W floats 2 apart.
template <int First, int... I>
inline VF lanesTwoApart(VF lo, VF hi, std::integer_sequence<int, I...>) {
  return __builtin_shufflevector(lo, hi, (First + 2 * I)...);
}
inline VF evenLanes(VF lo, VF hi) {
  return lanesTwoApart<0>(lo, hi, std::make_integer_sequence<int, W>());
}
inline VF oddLanes(VF lo, VF hi) {
  return lanesTwoApart<1>(lo, hi, std::make_integer_sequence<int, W>());
}

/// The first n (0 <= n <= W) floats at p into (or from) lanes [0, n): masked
/// loads and stores where the ISA has them, which never touch the lanes
/// past n (no fault past the end of a buffer); a scalar loop otherwise.
inline VF loadFirst(const float *p, int64_t n) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  return _mm512_maskz_loadu_ps(static_cast<__mmask16>((1u << n) - 1), p);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_maskload_ps(
      p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes));
#else
  VF v{};
  for (int64_t i = 0; i < n; ++i)
    v[i] = p[i];
  return v;
#endif
}
inline void storeFirst(float *p, VF v, int64_t n) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  _mm512_mask_storeu_ps(p, static_cast<__mmask16>((1u << n) - 1), v);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  _mm256_maskstore_ps(
      p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lanes), v);
#else
  for (int64_t i = 0; i < n; ++i)
    p[i] = v[i];
#endif
}

/// v into p[0, min(W, n)).
inline void storeUpTo(float *p, VF v, int64_t n) {
  if (n >= W)
    store(p, v);
  else
    storeFirst(p, v, n);
}

/// p[0, min(W, n)) into the first lanes, zeros past them.
inline VF loadUpTo(const float *p, int64_t n) {
  return n >= W ? load(p) : loadFirst(p, n);
}

/// W floats `stride` floats apart (a column of a row-major matrix): one
/// gather where the ISA has it.
inline VF gatherStrided(const float *p, int64_t stride) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  __m512i index = _mm512_mullo_epi32(
      _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm512_set1_epi32(static_cast<int>(stride)));
  return _mm512_i32gather_ps(index, p, 4);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  __m256i index =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                         _mm256_set1_epi32(static_cast<int>(stride)));
  return _mm256_i32gather_ps(p, index, 4);
#else
  VF v;
  for (int i = 0; i < W; ++i)
    v[i] = p[i * stride];
  return v;
#endif
}

/// One level of transpose(): rows a and b, B apart in a block, trade their
/// off-diagonal runs of B lanes: a's lanes with bit B set go to b's lanes
/// without it, and the other way round.
template <int B, int... C>
inline void swapRuns(VF &a, VF &b, std::integer_sequence<int, C...>) {
  VF lo = __builtin_shufflevector(a, b, ((C & B) ? W + C - B : C)...);
  VF hi = __builtin_shufflevector(a, b, ((C & B) ? W + C : C + B)...);
  a = lo;
  b = hi;
}
template <int B> inline void transposeFrom(VF (&r)[W]) {
  for (int i = 0; i < W; ++i)
    if (!(i & B))
      swapRuns<B>(r[i], r[i + B], std::make_integer_sequence<int, W>());
  if constexpr (B > 1)
    transposeFrom<B / 2>(r);
}

/// r[i][j] becomes r[j][i]: a W x W block transposed in registers, log2(W)
/// levels of W shuffles (a strided gather of W floats takes about 18
/// cycles on Zen 4, as long as a level).
inline void transpose(VF (&r)[W]) { transposeFrom<W / 2>(r); }

/// Lanes [lo, hi) of the vector whose lane 0 is at p, and zeros (or no
/// store) elsewhere: only p[lo, hi) is touched, so p itself may lie before
/// the buffer (a run of output pixels that starts mid-vector).
#if SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
/// AVX2's lane mask for lanes [lo, hi).
inline __m256i laneMask(int64_t lo, int64_t hi) {
  __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_and_si256(
      _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), lanes),
      _mm256_cmpgt_epi32(lanes, _mm256_set1_epi32(static_cast<int>(lo) - 1)));
}
#endif
inline VF loadLanes(const float *p, int64_t lo, int64_t hi) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  return _mm512_maskz_loadu_ps(
      static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1)), p);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  return _mm256_maskload_ps(p, laneMask(lo, hi));
#else
  VF v{};
  for (int64_t i = lo; i < hi; ++i)
    v[i] = p[i];
  return v;
#endif
}
inline void storeLanes(float *p, VF v, int64_t lo, int64_t hi) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  _mm512_mask_storeu_ps(
      p, static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1)), v);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  _mm256_maskstore_ps(p, laneMask(lo, hi), v);
#else
  for (int64_t i = lo; i < hi; ++i)
    p[i] = v[i];
#endif
}

#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
/// acc += b * splat(*p) in one instruction that reads *p itself (an embedded
/// broadcast): no register holds the broadcast. Inline assembly, because
/// clang keeps a broadcast used by several multiply-adds in a register even
/// where that spills accumulators (a 7 x 4 tile over operands in L1: 74
/// GFLOP/s spilled, 116 this way, on Zen 4).
inline void fmaBroadcast(VF &acc, VF b, const float *p) {
  asm("vfmadd231ps %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(b), "m"(*p));
}
#endif

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Prefetches `floats` floats from `p` into L2, a 64-byte line at a time
/// from p on.
inline void prefetchLines(const float *p, int64_t floats) {
  const char *bytes = reinterpret_cast<const char *>(p);
  for (int64_t off = 0; off < floats * int64_t(sizeof(float)); off += 64)
    __builtin_prefetch(bytes + off, 0, 2);
}

/// The product of dims[0, count): a GEMM's rows of A [..., K], a batch.
inline int64_t leadingProduct(const int64_t *dims, int64_t count) {
  int64_t product = 1;
  for (int64_t d = 0; d < count; ++d)
    product *= dims[d];
  return product;
}
inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/// Chunks of `count` (>= 1) items, so that `tasks` tasks, each taking every
/// chunk, make about `wanted` in all: as few as that takes (each chunk
/// repeats its task's shared work), at most `count`. Returns the number of
/// chunks and sets `perChunk`, the items of each (the last may have fewer).
inline int64_t splitChunks(int64_t count, int64_t tasks, int64_t wanted,
                           int64_t &perChunk) {
  perChunk = ceilDiv(count, min64(count, ceilDiv(wanted, tasks)));
  return ceilDiv(count, perChunk);
}

// 1 * x: exact, so it folds to a broadcast (0 + x would not, for -0).
inline VF splat(float x) { return (VF{} + 1.0f) * x; }

/// Vectors of 16 floats on every ISA, for layouts whose 16 lanes the ABI
/// fixes (wqgemm's panels, spgemm's slices): AVX-512's register, 2 or 4 on
/// AVX2 and the generic ISA. They cross no call boundary but the epilogue's
/// inline activate, so the ABI warning about passing them does not apply.
#pragma clang diagnostic ignored "-Wpsabi"
typedef float V16 __attribute__((vector_size(16 * sizeof(float))));
typedef float V16U __attribute__((vector_size(16 * sizeof(float)), aligned(4)));
inline V16 load16(const float *p) { return *reinterpret_cast<const V16U *>(p); }
inline V16 splat16(float x) { return (V16{} + 1.0f) * x; }
/// The first n (<= 16) floats at p, zeros past them; and the store of the
/// first n lanes.
inline V16 loadSome(const float *p, int64_t n) {
  if (n == 16)
    return load16(p);
  V16 v{};
  for (int64_t i = 0; i < n; ++i)
    v[i] = p[i];
  return v;
}
inline void storeSome(float *p, V16 v, int64_t n) {
  if (n == 16) {
    *reinterpret_cast<V16U *>(p) = v;
    return;
  }
  for (int64_t i = 0; i < n; ++i)
    p[i] = v[i];
}

} // namespace shears::uk::SHEARS_UK_ISA

#endif
