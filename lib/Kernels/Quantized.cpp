//===- Quantized.cpp - int8 GEMM and convolution micro-kernels ------------===//
//
// qgemm and qconv2d (Kernels.h): u8 activations times s8 weights packed at
// compile time in panels of 32 output channels, summed in 32-bit integers;
// the epilogue turns each sum into f32 with one multiply-add per output
// channel (the scales and the zero point's correction were folded at
// compile time), then adds the residual, applies the activation and, with
// QUANT_OUTPUT_U8, quantizes for the next integer kernel.
//
// qgemm quantizes rows of A as it packs them; qconv2d quantizes the input
// rows a task reads into a padded channels-last window, 4 channels a 32-bit
// word, whose pixels the tiles address directly (no im2col). The tiles run
// on AMX-INT8 (tdpbusd on 16x64-byte tiles: convolutions with channels in
// blocks of 64 or one word a pixel, GEMMs from 16 rows), on AVX512-VNNI
// (vpdpbusd: 12 rows x 32 columns in registers), as the CPU allows
// (checked once at load); in the AVX2 variant on vpmaddubsw where the
// weights are in [-64, 64] (SHEARS_UK_QUANT_NARROW_WEIGHTS); otherwise in
// plain integer loops.
//
// As in Contraction.cpp, tasks split the output and never the reduction,
// and integer sums do not depend on their order: results are bitwise the
// same for any thread count.
//
//===----------------------------------------------------------------------===//

#include "ConvShape.h"
#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stdio.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace shears::uk::SHEARS_UK_ISA {
namespace {

constexpr int kNR = SHEARS_UK_GEMM_NR;
/// Rows of a tile: 2 x 12 accumulators, 2 B vectors and a broadcast fit
/// AVX-512's 32 registers.
constexpr int kR = 12;
/// Rows a task quantizes and packs once for all its panels.
constexpr int64_t kMC = 8 * kR;
/// Pixels of a convolution's strip: its tiles' sums, stored together in
/// whole vectors (a multiple of kR and of 16).
constexpr int64_t kStrip = 4 * kR;
static_assert(kStrip % 16 == 0, "whole vectors of 16 pixels");

typedef int32_t VI __attribute__((vector_size(W * sizeof(int32_t))));
typedef int32_t VIU
    __attribute__((vector_size(W * sizeof(int32_t)), aligned(4)));

typedef uint8_t VB __attribute__((vector_size(W)));

/// What a kernel's output is: f32, u8 quantized with a scale and zero point
/// (SHEARS_UK_QUANT_OUTPUT_U8), or both (SHEARS_UK_QUANT_OUTPUT_BOTH).
enum OutputKind { kFloats = 1, kBytes = 2, kBoth = kFloats | kBytes };

/// A kernel's output (OutputKind).
struct Output {
  float *floats = nullptr;
  uint8_t *bytes = nullptr;
  float scale = 1, zero = 0;

  int kind() const { return (floats ? kFloats : 0) | (bytes ? kBytes : 0); }
  /// Writes the first `count` lanes of x at element `offset`.
  void write(int64_t offset, VF x, int64_t count) const {
    switch (kind()) {
    case kBytes:
      return writeAs<kBytes>(offset, x, count);
    case kBoth:
      return writeAs<kBoth>(offset, x, count);
    default:
      return writeAs<kFloats>(offset, x, count);
    }
  }
  /// write() for a kernel that chose its loop by the output's kind; a whole
  /// vector unmasked.
  template <int Kind> void writeAs(int64_t offset, VF x, int64_t count) const;
  /// Asks for the lines of element `offset`, to be written.
  template <int Kind> void prefetchAs(int64_t offset) const {
    if (Kind & kBytes)
      __builtin_prefetch(bytes + offset, 1, 3);
    if (Kind & kFloats)
      __builtin_prefetch(floats + offset, 1, 3);
  }
};

/// The first `count` (<= W) bytes at p, each in a 32-bit lane; nothing
/// past them is read.
inline VI loadBytes(const uint8_t *p, int64_t count) {
  VB b = {};
  if (count == W) {
    __builtin_memcpy(&b, p, W);
  } else {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512BW__) && defined(__AVX512VL__)
    b = reinterpret_cast<VB>(
        _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << count) - 1), p));
#else
    for (int64_t i = 0; i < count; ++i)
      b[i] = p[i];
#endif
  }
  return __builtin_convertvector(b, VI);
}

/// Stores the first `count` (<= W) bytes of b at p; nothing past them.
inline void storeBytes(uint8_t *p, VB b, int64_t count) {
  if (count == W) {
    __builtin_memcpy(p, &b, W);
    return;
  }
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512BW__) && defined(__AVX512VL__)
  _mm_mask_storeu_epi8(p, static_cast<__mmask16>((1u << count) - 1),
                       reinterpret_cast<__m128i>(b));
#else
  for (int64_t i = 0; i < count; ++i)
    p[i] = b[i];
#endif
}

/// What qgemm and qconv2d take, in Kernels.h's order of their buffers.
struct QOperands {
  const float *input = nullptr;
  const uint8_t *inputBytes = nullptr; // SHEARS_UK_QUANT_INPUT_U8 (no input).
  const int8_t *weights = nullptr;     // Packed.
  const float *scale = nullptr;        // Per output, folded (Kernels.h).
  const float *columnSums = nullptr;   // SHEARS_UK_QGEMM_DYNAMIC only.
  Epilogue epilogue;
  Output output;
  float aScale = 0, aZero = 0; // The input's quantization.
  bool narrow = false;         // SHEARS_UK_QUANT_NARROW_WEIGHTS.

  void readOperands(void **buffers, int64_t flags, const float *fparams) {
    if (flags & SHEARS_UK_QUANT_INPUT_U8)
      inputBytes = static_cast<const uint8_t *>(buffers[0]);
    else
      input = static_cast<const float *>(buffers[0]);
    weights = static_cast<const int8_t *>(buffers[1]);
    scale = static_cast<const float *>(buffers[2]);
    void **operand = buffers + 3;
    if (flags & SHEARS_UK_QGEMM_DYNAMIC)
      columnSums = static_cast<const float *>(*operand++);
    epilogue = Epilogue(flags, fparams, operand);
    // The f32 output, then (QUANT_OUTPUT_BOTH) its u8 copy; or the u8 one.
    if (!(flags & SHEARS_UK_QUANT_OUTPUT_U8))
      output.floats = static_cast<float *>(*operand++);
    if (flags & (SHEARS_UK_QUANT_OUTPUT_U8 | SHEARS_UK_QUANT_OUTPUT_BOTH)) {
      output.bytes = static_cast<uint8_t *>(*operand);
      output.scale = fparams[SHEARS_UK_QGEMM_F_OUT_SCALE];
      output.zero = fparams[SHEARS_UK_QGEMM_F_OUT_ZERO_POINT];
    }
    aScale = fparams[SHEARS_UK_QGEMM_F_A_SCALE];
    aZero = fparams[SHEARS_UK_QGEMM_F_A_ZERO_POINT];
    narrow = flags & SHEARS_UK_QUANT_NARROW_WEIGHTS;
  }
};

struct QGemm : QOperands {
  int64_t m, k, groups, n, panels, rowBlocks, panelChunk, panelChunks;
};

/// clamp(round_half_even(x / scale) + zero, 0, 255) in each lane, without
/// libm: adding and subtracting 1.5 * 2^23 rounds half to even (the default
/// rounding mode) anything below 2^22 in magnitude.
inline VI quantizeLanes(VF x, VF scale, VF zero) {
  const VF limit = splat(4194304.0f), magic = splat(12582912.0f);
  VF v = x / scale;
  v = v > -limit ? v : -limit; // NaN goes low too.
  v = v < limit ? v : limit;
  v = (v + magic) - magic + zero;
  v = v > 0 ? v : 0;
  v = v < 255 ? v : 255;
  return __builtin_convertvector(v, VI);
}

/// The scale and zero point of shears.dynamic_quantize (Kernels.h) for the
/// n floats at a: their range, widened to hold 0, onto [0, 255].
void dynamicRange(const float *a, int64_t n, float &scale, float &zero) {
  VF lo = {}, hi = {};
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    VF v = load(a + i);
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  float low = 0, high = 0;
  for (int l = 0; l < W; ++l) {
    low = lo[l] < low ? lo[l] : low;
    high = hi[l] > high ? hi[l] : high;
  }
  for (; i < n; ++i) {
    low = a[i] < low ? a[i] : low;
    high = a[i] > high ? a[i] : high;
  }
  scale = (high - low) / 255.0f;
  scale = scale > 0 ? scale : 1.0f;
  // round_half_even(-low / scale), clamped (as quantizeLanes rounds).
  VI z = quantizeLanes(splat(-low), splat(scale), VF{});
  zero = static_cast<float>(z[0]);
}

template <int Kind>
void Output::writeAs(int64_t offset, VF x, int64_t count) const {
  if (Kind & kFloats) {
    if (count == W)
      store(floats + offset, x);
    else
      storeFirst(floats + offset, x, count);
  }
  if (!(Kind & kBytes))
    return;
  VB q =
      __builtin_convertvector(quantizeLanes(x, splat(scale), splat(zero)), VB);
  if (count == W)
    __builtin_memcpy(bytes + offset, &q, sizeof(q));
  else
    storeBytes(bytes + offset, q, count);
}

/// Rows [row, row + rows) of A quantized, each `groups` 32-bit words of 4
/// consecutive k (ascending from the low byte), row after row: the bytes
/// of a row are its quantized values in order. Past K, zeros (B is zero
/// there).
void packA(const QGemm &g, int64_t row, int rows, uint32_t *dst) {
  const VF scale = splat(g.aScale), zero = splat(g.aZero);
  for (int r = 0; r < rows; ++r, dst += g.groups) {
    auto *bytes = reinterpret_cast<uint8_t *>(dst);
    if (g.inputBytes) { // Quantized already: the bytes as they are.
      __builtin_memcpy(bytes, g.inputBytes + (row + r) * g.k, size_t(g.k));
      for (int64_t i = g.k; i < 4 * g.groups; ++i)
        bytes[i] = 0;
      continue;
    }
    const float *x = g.input + (row + r) * g.k;
    int64_t k = 0;
    for (; k + W <= g.k; k += W) {
      VB q = __builtin_convertvector(quantizeLanes(load(x + k), scale, zero),
                                     VB);
      __builtin_memcpy(bytes + k, &q, W);
    }
    VI tail = quantizeLanes(loadFirst(x + k, g.k - k), scale, zero);
    for (int64_t i = 0; k + i < 4 * g.groups; ++i)
      bytes[k + i] = k + i < g.k ? static_cast<uint8_t>(tail[i]) : 0;
  }
}

/// Where a tile's rows of quantized A come from: row r's 32-bit word of k
/// group q at tap t is rows[r][offsets[t] + q], for `taps` taps of
/// `groups` groups each, in the order B's panel is packed. A GEMM has one
/// tap of the packed rows; a convolution one tap per filter position, each
/// reading `groups` consecutive words (4 channels each) of a pixel.
template <int R> struct ATaps {
  const uint32_t *rows[R];
  const int64_t *offsets;
  /// Bytes from the start of B's panel to tap t's first row of 4 k.
  const int64_t *bOffsets;
  int64_t taps, groups;
  /// Bytes from this panel of B to the next: its lines are prefetched as
  /// this one's are read (0: none), so that a filter that does not fit in
  /// L2 streams in behind the work instead of stalling it.
  int64_t nextPanel;
  /// SHEARS_UK_QUANT_NARROW_WEIGHTS: pairs of products fit in 16 bits.
  bool narrow;
};

/// acc[r][c] = sum over k of a[r][k] * b[k][c] for one panel, plain C++.
template <int R>
void tileGeneric(const ATaps<R> &a, const int8_t *b, int32_t (*acc)[kNR]) {
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kNR; ++c)
      acc[r][c] = 0;
  for (int64_t t = 0; t < a.taps; ++t)
    for (int64_t q = 0; q < a.groups; ++q)
      for (int r = 0; r < R; ++r) {
        uint32_t word = a.rows[r][a.offsets[t] + q];
        int32_t a0 = word & 0xFF, a1 = (word >> 8) & 0xFF,
                a2 = (word >> 16) & 0xFF, a3 = word >> 24;
        const int8_t *bq = b + a.bOffsets[t] + q * kNR * 4;
        for (int c = 0; c < kNR; ++c)
          acc[r][c] += a0 * bq[4 * c] + a1 * bq[4 * c + 1] +
                       a2 * bq[4 * c + 2] + a3 * bq[4 * c + 3];
      }
}

#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
/// One k group of a tile: per 32-bit lane, 4 u8 of A (broadcast) times the
/// 4 s8 of B's column, summed into the lane.
template <int R>
__attribute__((target("avx512vnni"), always_inline)) inline void
vnniStep(__m512i (&sum)[R][2], const uint32_t *const *rows, int64_t word,
         const int8_t *b, int64_t nextPanel) {
  if (nextPanel) {
    _mm_prefetch(reinterpret_cast<const char *>(b + nextPanel), _MM_HINT_T1);
    _mm_prefetch(reinterpret_cast<const char *>(b + nextPanel + 64),
                 _MM_HINT_T1);
  }
  __m512i b0 = _mm512_loadu_si512(b);
  __m512i b1 = _mm512_loadu_si512(b + 64);
  for (int r = 0; r < R; ++r) {
    __m512i x = _mm512_set1_epi32(static_cast<int>(rows[r][word]));
    sum[r][0] = _mm512_dpbusd_epi32(sum[r][0], x, b0);
    sum[r][1] = _mm512_dpbusd_epi32(sum[r][1], x, b1);
  }
}

/// The tile with vpdpbusd.
template <int R>
__attribute__((target("avx512vnni"))) void
tileVnni(const ATaps<R> &a, const int8_t *b, int32_t (*acc)[kNR]) {
  __m512i sum[R][2];
  for (int r = 0; r < R; ++r)
    sum[r][0] = sum[r][1] = _mm512_setzero_si512();
  const int8_t *panel = b;
  for (int64_t t = 0; t < a.taps; ++t) {
    const uint32_t *rows[R];
    for (int r = 0; r < R; ++r)
      rows[r] = a.rows[r] + a.offsets[t];
    b = panel + a.bOffsets[t];
    // A row's groups are consecutive words: one index for all rows (not
    // one pointer increment per row).
    for (int64_t q = 0; q < a.groups; ++q, b += kNR * 4)
      vnniStep<R>(sum, rows, q, b, a.nextPanel);
  }
  for (int r = 0; r < R; ++r) {
    _mm512_storeu_si512(acc[r], sum[r][0]);
    _mm512_storeu_si512(acc[r] + 16, sum[r][1]);
  }
}

// Set when the library loads (no function-local static: the kernels link
// without the C++ runtime). AMX also needs the kernel's permission to use
// the tile registers, asked for once per process.
bool vnni = false, amx = false;
__attribute__((constructor)) void detectIntegerUnits() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return;
  vnni = ecx & (1u << 11);
  const long requestPermission = 0x1023, tileData = 18;
  amx = (edx & (1u << 24)) && (edx & (1u << 25)) &&
        syscall(SYS_arch_prctl, requestPermission, tileData) == 0;
}

/// AMX's tile configuration: palette 1, tiles 0-7 of 16 rows of 64 bytes
/// (C: 0-3, A: 4-5, B: 6-7).
struct alignas(64) TileConfig {
  uint8_t palette = 1, startRow = 0;
  uint8_t reserved[14] = {};
  uint16_t bytesPerRow[16] = {64, 64, 64, 64, 64, 64, 64, 64};
  uint8_t rows[16] = {16, 16, 16, 16, 16, 16, 16, 16};
};

/// Two strips of 16 rows of A (rows 0-15 and 16-31 of acc: pixels of a
/// convolution's window, or packed rows of a GEMM) times a panel of 32
/// columns of B with AMX: per tap, `groups` words (in blocks of 16, 64
/// k) of each row, the rows `pixelBytes` apart; B's rows of 4 k are 128
/// bytes apart in the panel, its two halves of 16 columns the C tiles'
/// columns.
__attribute__((target("amx-tile,amx-int8"))) void
tileAmx(const uint32_t *strip0, const uint32_t *strip1,
            int64_t pixelBytes, const int64_t *offsets,
            const int64_t *bOffsets, int64_t taps, int64_t groups,
            const int8_t *panel, int32_t (*acc)[kNR]) {
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t q = 0; q < groups; q += 16) {
      const int8_t *b = panel + bOffsets[t] + q * kNR * 4;
      _tile_loadd(4, strip0 + offsets[t] + q, pixelBytes);
      _tile_loadd(5, strip1 + offsets[t] + q, pixelBytes);
      _tile_loadd(6, b, kNR * 4);
      _tile_loadd(7, b + 64, kNR * 4);
      _tile_dpbusd(0, 4, 6);
      _tile_dpbusd(1, 4, 7);
      _tile_dpbusd(2, 5, 6);
      _tile_dpbusd(3, 5, 7);
    }
  _tile_stored(0, acc[0], kNR * 4);
  _tile_stored(1, acc[0] + 16, kNR * 4);
  _tile_stored(2, acc[16], kNR * 4);
  _tile_stored(3, acc[16] + 16, kNR * 4);
}

__attribute__((target("amx-tile"))) void loadTileConfig() {
  static_assert(sizeof(TileConfig) == 64, "the tile configuration's layout");
  TileConfig config;
  _tile_loadconfig(&config);
}

__attribute__((target("amx-tile"))) void releaseTiles() { _tile_release(); }
#endif

#if SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
/// Rows [r0, r0 + RB) of the tile and its columns [16 h, 16 h + 16) with
/// vpmaddubsw: per 16-bit lane, 2 u8 of A times 2 s8 of B summed (exact
/// for weights in [-64, 64]: 255 * 128 < 2^15), then vpmaddwd by ones sums
/// the lane pairs into 32 bits: a column's 4 products a word. 2 x RB
/// accumulators, 2 B vectors, the broadcast and the ones: at most 12 of
/// AVX2's 16 registers.
template <int R, int RB>
__attribute__((always_inline)) inline void avx2Block(const ATaps<R> &a, int r0,
                                                     int h, const int8_t *panel,
                                                     int32_t (*acc)[kNR]) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i sum[RB][2];
  for (int r = 0; r < RB; ++r)
    sum[r][0] = sum[r][1] = _mm256_setzero_si256();
  for (int64_t t = 0; t < a.taps; ++t) {
    const uint32_t *rows[RB];
    for (int r = 0; r < RB; ++r)
      rows[r] = a.rows[r0 + r] + a.offsets[t];
    const int8_t *b = panel + a.bOffsets[t] + 64 * h;
    for (int64_t q = 0; q < a.groups; ++q, b += kNR * 4) {
      __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b));
      __m256i b1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + 32));
      for (int r = 0; r < RB; ++r) {
        __m256i x = _mm256_set1_epi32(static_cast<int>(rows[r][q]));
        sum[r][0] = _mm256_add_epi32(
            sum[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
        sum[r][1] = _mm256_add_epi32(
            sum[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
      }
    }
  }
  for (int r = 0; r < RB; ++r) {
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc[r0 + r] + 16 * h),
                        sum[r][0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i *>(acc[r0 + r] + 16 * h + 8),
                        sum[r][1]);
  }
}

/// The tile with vpmaddubsw: rows 4 at a time from R0, each block over
/// both halves of the panel (its B lines are then in L1 for the next).
template <int R, int R0 = 0>
void tileAvx2(const ATaps<R> &a, const int8_t *b, int32_t (*acc)[kNR]) {
  if constexpr (R0 < R) {
    constexpr int RB = R - R0 < 4 ? R - R0 : 4;
    avx2Block<R, RB>(a, R0, 0, b, acc);
    avx2Block<R, RB>(a, R0, 1, b, acc);
    tileAvx2<R, R0 + RB>(a, b, acc);
  }
}
#endif

template <int R>
void tile(const ATaps<R> &a, const int8_t *b, int32_t (*acc)[kNR]) {
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  if (vnni)
    return tileVnni<R>(a, b, acc);
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  if (a.narrow)
    return tileAvx2<R>(a, b, acc);
#endif
  tileGeneric<R>(a, b, acc);
}

/// tile<rows> with A's rows from `rows[r]` (rows <= kR).
template <int... Rs>
void tileRows(int rows, const uint32_t *const *rowPointers,
              const int64_t *offsets, const int64_t *bOffsets, int64_t taps,
              int64_t groups, int64_t nextPanel, bool narrow, const int8_t *b,
              int32_t (*acc)[kNR], std::integer_sequence<int, Rs...>) {
  auto run = [&](auto r) {
    constexpr int R = decltype(r)::value;
    ATaps<R> a;
    for (int i = 0; i < R; ++i)
      a.rows[i] = rowPointers[i];
    a.offsets = offsets;
    a.bOffsets = bOffsets;
    a.taps = taps;
    a.groups = groups;
    a.nextPanel = nextPanel;
    a.narrow = narrow;
    tile<R>(a, b, acc);
  };
  ((rows == Rs + 1 ? run(std::integral_constant<int, Rs + 1>()) : void()),
   ...);
}

/// C's rows [row, row + rows) and columns [col, col + cols) from the
/// integer sums: one multiply-add per element, then residual and activation.
void storeTile(const QGemm &g, int32_t (*acc)[kNR], int64_t row, int rows,
               int64_t col, int cols) {
  const Epilogue &e = g.epilogue;
  for (int r = 0; r < rows; ++r) {
    int64_t offset = (row + r) * g.n + col;
    for (int j = 0; j < cols; j += W) {
      int64_t count = min64(W, cols - j);
      VF x = __builtin_convertvector(*reinterpret_cast<VIU *>(acc[r] + j), VF);
      if (g.columnSums)
        x = (x - splat(g.aZero) * loadFirst(g.columnSums + col + j, count)) *
            (splat(g.aScale) * loadFirst(g.scale + col + j, count));
      else
        x = x * loadFirst(g.scale + col + j, count);
      x += loadFirst(e.bias + col + j, count);
      if (e.residual)
        x += loadFirst(e.residual + offset + j, count);
      g.output.write(offset + j, e.activate(x), count);
    }
  }
}

/// One block of up to kMC rows times a chunk of panels.
void qgemmTask(void *ctx, int64_t task, int worker) {
  const QGemm &g = *static_cast<const QGemm *>(ctx);
  int64_t m0 = task % g.rowBlocks * kMC, m1 = min64(g.m, m0 + kMC);
  int64_t pb = task / g.rowBlocks * g.panelChunk;
  int64_t pe = min64(g.panels, pb + g.panelChunk);
  // AMX tiles read 32 rows, those past m1 unused: still within kMC rows.
  static_assert(kMC % 32 == 0, "AMX reads whole strips of 32 rows");
  size_t packedBytes = kMC * g.groups * sizeof(uint32_t);
  auto *packed = reinterpret_cast<uint32_t *>(
      scratch(worker, packedBytes + 32 * kNR * sizeof(int32_t)));
  if (!packed)
    return;
  auto *acc = reinterpret_cast<int32_t(*)[kNR]>(
      reinterpret_cast<char *>(packed) + packedBytes);
  packA(g, m0, static_cast<int>(m1 - m0), packed);
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  // AMX's tiles take 32 rows: below 16 most would be wasted (a batch of
  // 1), and vpdpbusd does better.
  if (amx && m1 - m0 >= 16) {
    const int64_t noOffset = 0;
    loadTileConfig();
    for (int64_t p = pb; p < pe; ++p)
      for (int64_t row = m0; row < m1; row += 32) {
        const uint32_t *a = packed + (row - m0) * g.groups;
        tileAmx(a, a + 16 * g.groups, g.groups * 4, &noOffset, &noOffset, 1,
                g.groups, g.weights + p * g.groups * kNR * 4, acc);
        storeTile(g, acc, row, static_cast<int>(min64(32, m1 - row)),
                  p * kNR, static_cast<int>(min64(kNR, g.n - p * kNR)));
      }
    releaseTiles();
    return;
  }
#endif
  // Row tiles as even as kR allows (see qconvTask).
  int64_t rowsPerTile = ceilDiv(m1 - m0, ceilDiv(m1 - m0, kR));
  for (int64_t p = pb; p < pe; ++p) {
    const int8_t *b = g.weights + p * g.groups * kNR * 4;
    int cols = static_cast<int>(min64(kNR, g.n - p * kNR));
    const int64_t noOffset = 0;
    for (int64_t row = m0; row < m1; row += rowsPerTile) {
      int rows = static_cast<int>(min64(rowsPerTile, m1 - row));
      const uint32_t *rowPointers[kR];
      for (int r = 0; r < rows; ++r)
        rowPointers[r] = packed + (row - m0 + r) * g.groups;
      tileRows(rows, rowPointers, &noOffset, &noOffset, 1, g.groups,
               p + 1 < pe ? g.groups * kNR * 4 : 0, g.narrow, b, acc,
               std::make_integer_sequence<int, kR>());
      storeTile(g, acc, row, rows, p * kNR, cols);
    }
  }
}

//===----------------------------------------------------------------------===//
// qconv2d
//===----------------------------------------------------------------------===//

struct QConv : ConvShape, QOperands {
  uint32_t zeroWord; // The zero point in each of a word's 4 bytes.
  int64_t groups;  // Words per pixel: ceil(C / 4).
  int64_t wp;      // Padded width of the quantized copy.
  // Input pixels from one pixel of the copy to the next (a 1x1 convolution
  // with strides copies only the pixels it reads), and the strides in the
  // copy.
  int64_t sampleH, sampleW, wsh, wsw;
  int64_t stagedRow; // Words of a staged group's row: whole vectors.
  int64_t rowsPerBlock, blocks, panels, panelChunk, panelChunks;

  /// With at most 4 channels (one word a pixel) and no dilation along x, a
  /// filter row's words are consecutive: one tap per row, kw words each
  /// (the stem's 7x7 over 3 channels: 7 taps of 7, not 49 taps of 1).
  bool rowTaps() const { return groups == 1 && dw == 1; }
  /// Whether AMX can take the taps: channels in blocks of 64 (a tile row
  /// of 16 words), or a filter row of one-word pixels as one tile row.
  bool amxTaps() const { return rowTaps() || groups % 16 == 0; }
};

/// Input rows of the quantized window of output rows [r0, r1).
int64_t windowRows(const QConv &cv, int64_t r0, int64_t r1) {
  return (r1 - 1 - r0) * cv.wsh + (cv.kh - 1) * cv.dh + 1;
}

#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
/// r[i] becomes column i of the 16 x 16 matrix of 32-bit lanes whose rows
/// were r[0..15].
inline void transpose16(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int i = 0; i < 4; ++i) {
    t[i] = _mm512_shuffle_i32x4(u[i], u[4 + i], 0x88);
    t[4 + i] = _mm512_shuffle_i32x4(u[i], u[4 + i], 0xdd);
    t[8 + i] = _mm512_shuffle_i32x4(u[8 + i], u[12 + i], 0x88);
    t[12 + i] = _mm512_shuffle_i32x4(u[8 + i], u[12 + i], 0xdd);
  }
  for (int i = 0; i < 8; ++i) {
    r[i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0x88);
    r[8 + i] = _mm512_shuffle_i32x4(t[i], t[8 + i], 0xdd);
  }
}
#endif

/// Quantizes what output rows [r0, r1) of image `image` read: the input
/// rows from r0 * sh - pt on (every sampleH-th), each as wp pixels from -pl
/// on (every sampleW-th), as `groups` words per pixel (4 channels each,
/// ascending from the low byte); outside the input, and past C, the zero
/// point.
void quantizeWindow(const QConv &cv, int64_t image, int64_t r0, int64_t r1,
                    uint32_t *window, uint32_t *staged) {
  int64_t rows = windowRows(cv, r0, r1), pixelWords = cv.groups;
  const float *in =
      cv.input ? cv.input + image * cv.c * cv.h * cv.w : nullptr;
  const VF scale = splat(cv.aScale), zero = splat(cv.aZero);
  // The copy's pixels [first, end) that lie inside an input row.
  int64_t first = min64(cv.wp, ceilDiv(cv.pl, cv.sampleW));
  int64_t end = min64(cv.wp, ceilDiv(cv.pl + cv.w, cv.sampleW));
  // The input quantized already (SHEARS_UK_QUANT_INPUT_U8): its bytes.
  const uint8_t *bytes =
      cv.inputBytes ? cv.inputBytes + image * cv.c * cv.h * cv.w : nullptr;
  auto loadByteRow = [&](const uint8_t *p, int64_t count) {
    if (cv.sampleW == 1)
      return loadBytes(p, count);
    VI v = {};
    for (int64_t i = 0; i < count; ++i)
      v[i] = p[i * cv.sampleW];
    return v;
  };
  auto loadRow = [&](const float *p, int64_t count) {
    if (cv.sampleW == 1)
      return loadFirst(p, count);
    if (count == W)
      return gatherStrided(p, cv.sampleW);
    VF v = {};
    for (int64_t i = 0; i < count; ++i)
      v[i] = p[i * cv.sampleW];
    return v;
  };
  for (int64_t y = 0; y < rows; ++y) {
    uint32_t *row = window + y * cv.wp * pixelWords;
    int64_t ih = r0 * cv.sh - cv.pt + y * cv.sampleH;
    bool inside = ih >= 0 && ih < cv.h;
    // The input rows two window rows on, one per channel: too many short
    // streams (a row of every channel) for the hardware prefetchers when
    // the input comes from memory (a batch whose activations outgrow L2).
    int64_t ahead = ih + 2 * cv.sampleH;
    if (!bytes && ahead >= 0 && ahead < cv.h)
      for (int64_t c = 0; c < cv.c; ++c)
        for (int64_t x = 0; x < cv.w; x += 16)
          __builtin_prefetch(in + (c * cv.h + ahead) * cv.w + x);
    int64_t x0 = inside ? first : cv.wp, x1 = inside ? end : cv.wp;
    auto fill = [&](int64_t from, int64_t to) {
      for (int64_t i = from * pixelWords; i < to * pixelWords; ++i)
        row[i] = cv.zeroWord;
    };
    fill(0, x0);
    fill(x1, cv.wp);
    // Word g of W pixels from x on: lanes are pixels.
    auto words = [&](int64_t g, int64_t x, int64_t count) {
      VI word = {};
      for (int j = 0; j < 4; ++j) {
        int64_t c = 4 * g + j;
        int64_t at = (c * cv.h + ih) * cv.w - cv.pl + x * cv.sampleW;
        VI q = VI{} + static_cast<int32_t>(cv.aZero);
        if (c < cv.c && bytes)
          q = loadByteRow(bytes + at, count);
        else if (c < cv.c)
          q = quantizeLanes(loadRow(in + at, count), scale, zero);
        word |= q << (8 * j);
      }
      return word;
    };
    int64_t g0 = 0;
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
    // 16 words at a time: each quantized along the whole row into `staged`
    // (4 input rows read in order, which the prefetchers follow; 64 rows
    // at once would not be), then 16 pixels of the 16 transposed so that
    // each pixel's words are one contiguous store.
    for (; g0 + 16 <= pixelWords && x1 > x0; g0 += 16) {
      for (int g = 0; g < 16; ++g)
        for (int64_t x = x0; x < x1; x += W) {
          VI word = words(g0 + g, x, min64(W, x1 - x));
          __builtin_memcpy(staged + g * cv.stagedRow + (x - x0), &word,
                           sizeof(word));
        }
      for (int64_t x = x0; x < x1; x += W) {
        int64_t count = min64(W, x1 - x);
        __m512i block[16];
        for (int g = 0; g < 16; ++g)
          block[g] = _mm512_loadu_si512(staged + g * cv.stagedRow + (x - x0));
        transpose16(block);
        for (int64_t i = 0; i < count; ++i)
          _mm512_storeu_si512(row + (x + i) * pixelWords + g0, block[i]);
      }
    }
#endif
    for (int64_t g = g0; g < pixelWords; ++g)
      for (int64_t x = x0; x < x1; x += W) {
        int64_t count = min64(W, x1 - x);
        // The words go a pixel (pixelWords) apart: through memory, so that
        // the vector is not taken apart lane by lane.
        alignas(64) uint32_t lanes[W];
        *reinterpret_cast<VI *>(lanes) = words(g, x, count);
        uint32_t *dst = row + x * pixelWords + g;
        for (int64_t i = 0; i < count; ++i)
          dst[i * pixelWords] = lanes[i];
      }
  }
}

#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
/// storeConvTile with 16 lanes, for one kind of epilogue: with or without
/// a residual, to f32, u8 or both (`Kind`), activation `Act`; whole
/// vectors of 16 pixels unmasked. The choices are made once a call, not
/// once a vector.
template <bool Residual, int Kind, int Act>
void storeConvTile16(const QConv &cv, int32_t (*acc)[kNR], int64_t image,
                     int64_t p0, int rows, int64_t co, int cols) {
  static_assert(kNR % 16 == 0, "sums transpose as 16 x 16");
  const Epilogue &e = cv.epilogue;
  int64_t plane = cv.oh * cv.ow;
  for (int r0 = 0; r0 < rows; r0 += 16) {
    int count = static_cast<int>(min64(16, rows - r0));
    for (int j0 = 0; j0 < cols; j0 += 16) {
      __m512i block[16];
      for (int r = 0; r < 16; ++r)
        block[r] = r < count ? _mm512_loadu_si512(acc[r0 + r] + j0)
                             : _mm512_setzero_si512();
      transpose16(block);
      int64_t offset = (image * cv.cout + co + j0) * plane + p0 + r0;
      for (int j = j0; j < min64(cols, j0 + 16); ++j, offset += plane) {
        // Each channel is a stream of its own (32 at once, too many for
        // the hardware prefetchers): the lines of the residual that the
        // next strip reads, and of the output that it writes.
        int64_t ahead = offset + kStrip;
        if (Residual)
          __builtin_prefetch(e.residual + ahead, 0, 3);
        cv.output.prefetchAs<Kind>(ahead);
        VF x =
            __builtin_convertvector(reinterpret_cast<VI &>(block[j - j0]), VF);
        x = x * splat(cv.scale[co + j]) + splat(e.bias[co + j]);
        if (Residual)
          x += count == 16 ? load(e.residual + offset)
                           : loadFirst(e.residual + offset, count);
        cv.output.writeAs<Kind>(offset, e.activateAs<Act>(x), count);
      }
    }
  }
}

template <bool Residual, int Kind>
void storeConvTile16(const QConv &cv, int32_t (*acc)[kNR], int64_t image,
                     int64_t p0, int rows, int64_t co, int cols) {
  switch (cv.epilogue.activation) {
  case SHEARS_UK_ACT_RELU:
    return storeConvTile16<Residual, Kind, SHEARS_UK_ACT_RELU>(
        cv, acc, image, p0, rows, co, cols);
  case SHEARS_UK_ACT_CLIP:
    return storeConvTile16<Residual, Kind, SHEARS_UK_ACT_CLIP>(
        cv, acc, image, p0, rows, co, cols);
  default:
    return storeConvTile16<Residual, Kind, SHEARS_UK_ACT_NONE>(
        cv, acc, image, p0, rows, co, cols);
  }
}

template <bool Residual>
void storeConvTile16(const QConv &cv, int32_t (*acc)[kNR], int64_t image,
                     int64_t p0, int rows, int64_t co, int cols) {
  switch (cv.output.kind()) {
  case kBytes:
    return storeConvTile16<Residual, kBytes>(cv, acc, image, p0, rows, co,
                                             cols);
  case kBoth:
    return storeConvTile16<Residual, kBoth>(cv, acc, image, p0, rows, co, cols);
  default:
    return storeConvTile16<Residual, kFloats>(cv, acc, image, p0, rows, co,
                                              cols);
  }
}
#endif

/// Output pixels [p0, p0 + rows) (flattened, one image) and channels
/// [co, co + cols) from the integer sums, in NCHW: each channel's pixels
/// are a column of the sums, turned into vectors by transposing blocks of
/// 16 x 16 where the ISA has 16 lanes.
void storeConvTile(const QConv &cv, int32_t (*acc)[kNR], int64_t image,
                   int64_t p0, int rows, int64_t co, int cols) {
  const Epilogue &e = cv.epilogue;
  int64_t plane = cv.oh * cv.ow;
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  if (e.residual)
    return storeConvTile16<true>(cv, acc, image, p0, rows, co, cols);
  return storeConvTile16<false>(cv, acc, image, p0, rows, co, cols);
#endif
  for (int j = 0; j < cols; ++j) {
    int64_t offset = (image * cv.cout + co + j) * plane + p0;
    float s = cv.scale[co + j], b = e.bias[co + j];
    for (int r0 = 0; r0 < rows; r0 += W) {
      int64_t count = min64(W, rows - r0);
      VF x;
      for (int r = 0; r < W; ++r)
        x[r] = r < count ? float(acc[r0 + r][j]) : 0.0f;
      x = x * splat(s) + splat(b);
      if (e.residual)
        x += loadFirst(e.residual + offset + r0, count);
      cv.output.write(offset + r0, e.activate(x), count);
    }
  }
}

/// One block of output rows of one image times a chunk of panels.
void qconvTask(void *ctx, int64_t task, int worker) {
  const QConv &cv = *static_cast<const QConv *>(ctx);
  int64_t chunk = task % cv.panelChunks, rest = task / cv.panelChunks;
  int64_t image = rest / cv.blocks, block = rest % cv.blocks;
  int64_t r0 = block * cv.rowsPerBlock, r1 = min64(cv.oh, r0 + cv.rowsPerBlock);
  int64_t taps = cv.kh * cv.kw;
  // With slack: AMX strips read up to 15 pixels past a row's end, and a
  // filter row of a pixel of one word reads 16 words.
  int64_t windowWords =
      ceilDiv(windowRows(cv, r0, r1) * cv.wp * cv.groups +
                  16 * cv.wsw * cv.groups + 16,
              16) *
      16;
  int64_t stagedWords = 16 * cv.stagedRow;
  auto *window = reinterpret_cast<uint32_t *>(
      scratch(worker,
              (windowWords + stagedWords) * 4 + 2 * ceilDiv(taps, 8) * 64));
  if (!window)
    return;
  quantizeWindow(cv, image, r0, r1, window, window + windowWords);
  // Filter taps: word offsets from a pixel's window position (after the
  // window and the staging rows, 64-byte aligned), each followed by
  // `groups` consecutive words.
  // One tap per filter row where QConv::rowTaps. B's taps: with one word a
  // pixel, each filter row is padded to `rowWords` taps in the packed filter
  // (Kernels.h).
  auto *offsets =
      reinterpret_cast<int64_t *>(window + windowWords + stagedWords);
  int64_t *bOffsets = offsets + ceilDiv(taps, 8) * 8;
  int64_t rowWords = shears_uk_qconv_row_taps(cv.c, cv.kw);
  bool rowTaps = cv.rowTaps();
  int64_t groups = rowTaps ? cv.kw : cv.groups;
  taps = rowTaps ? cv.kh : taps;
  for (int64_t y = 0; y < cv.kh; ++y)
    for (int64_t x = 0; x < (rowTaps ? 1 : cv.kw); ++x) {
      int64_t t = rowTaps ? y : y * cv.kw + x;
      offsets[t] = (y * cv.dh * cv.wp + x * cv.dw) * cv.groups;
      bOffsets[t] = (y * rowWords + x) * cv.groups * kNR * 4;
    }
  int64_t pb = chunk * cv.panelChunk, pe = min64(cv.panels, pb + cv.panelChunk);
  int64_t kBytes = cv.kh * rowWords * cv.groups * kNR * 4;
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  // AMX: strips of 16 pixels of an output row (a tile's rows must be
  // equally spaced), two at a time; the pixels past a row's end compute
  // garbage (read within the window's slack) and are not stored. Channels
  // in blocks of 64 (a tile row of 16 words).
  // A filter row of a one-word pixel (the stem) is one tile row too: its
  // 16 words run past the row's taps into what the zero rows of B (the
  // row's padding) cancel.
  if (amx && cv.amxTaps()) {
    int64_t tileGroups = rowTaps ? rowWords : groups;
    int32_t acc[32][kNR];
    int64_t stripsPerRow = ceilDiv(cv.ow, 16);
    int64_t strips = (r1 - r0) * stripsPerRow;
    auto strip = [&](int64_t i) {
      int64_t oy = i / stripsPerRow, ox = i % stripsPerRow * 16;
      return window + (oy * cv.wsh * cv.wp + ox * cv.wsw) * cv.groups;
    };
    auto store = [&](int64_t i, int32_t(*rows)[kNR], int64_t co) {
      int64_t oy = r0 + i / stripsPerRow, ox = i % stripsPerRow * 16;
      storeConvTile(cv, rows, image, oy * cv.ow + ox,
                    static_cast<int>(min64(16, cv.ow - ox)), co,
                    static_cast<int>(min64(kNR, cv.cout - co)));
    };
    loadTileConfig();
    for (int64_t p = pb; p < pe; ++p)
      for (int64_t i = 0; i < strips; i += 2) {
        bool pair = i + 1 < strips;
        tileAmx(strip(i), strip(pair ? i + 1 : i), cv.wsw * cv.groups * 4,
                offsets, bOffsets, taps, tileGroups, cv.weights + p * kBytes,
                acc);
        store(i, acc, p * kNR);
        if (pair)
          store(i + 1, acc + 16, p * kNR);
      }
    releaseTiles();
    return;
  }
#endif
  // Tiles of up to kR pixels write their sums into strips of kStrip
  // pixels, which are stored in whole vectors of 16 (every one where the
  // image has a multiple of 16 pixels: no partial lines). A short last
  // strip joins the one before, and a strip's tiles are as even as kR
  // allows: 49 pixels are 5 tiles of 10 or 9, not four of 12 and one of 1
  // (whose two accumulators wait on each other).
  int32_t acc[kStrip + 16][kNR];
  int64_t begin = r0 * cv.ow, end = r1 * cv.ow;
  // Panels outside: one panel of the filter (up to KH*KW*C*32 bytes) stays
  // in L2 while every tile of the window passes over it; the whole filter
  // would not (512 channels of 3x3 are 2.4 MB).
  for (int64_t p = pb; p < pe; ++p) {
    for (int64_t s0 = begin; s0 < end;) {
      int64_t pixels = end - s0 < kStrip + 16 ? end - s0 : kStrip;
      int64_t tilePixels = ceilDiv(pixels, ceilDiv(pixels, kR));
      for (int64_t t0 = 0; t0 < pixels; t0 += tilePixels) {
        int rows = static_cast<int>(min64(tilePixels, pixels - t0));
        const uint32_t *rowPointers[kR];
        int64_t oy = (s0 + t0) / cv.ow - r0, ox = (s0 + t0) % cv.ow;
        for (int r = 0; r < rows; ++r) {
          rowPointers[r] =
              window + (oy * cv.wsh * cv.wp + ox * cv.wsw) * cv.groups;
          if (++ox == cv.ow)
            ox = 0, ++oy;
        }
        tileRows(rows, rowPointers, offsets, bOffsets, taps, groups,
                 p + 1 < pe ? kBytes : 0, cv.narrow, cv.weights + p * kBytes,
                 acc + t0, std::make_integer_sequence<int, kR>());
      }
      storeConvTile(cv, acc, image, s0, static_cast<int>(pixels), p * kNR,
                    static_cast<int>(min64(kNR, cv.cout - p * kNR)));
      s0 += pixels;
    }
  }
}

/// Tasks that keep the threads busy: 4 each, for balance.
int64_t wantedTasks() { return numWorkers() > 1 ? 4 * numWorkers() : 1; }

/// What the integer kernels run on, for the profile: "+amx" where AMX
/// takes the work (`blocks`: GEMMs of 16 rows or more, convolutions where
/// QConv::amxTaps), "+vnni", "+maddubs" (AVX2, narrow weights) or ""
/// (integer loops).
const char *integerUnit(bool blocks, bool narrow) {
  (void)blocks, (void)narrow;
#if SHEARS_UK_WIDTH == 16 && defined(__x86_64__)
  if (amx && blocks)
    return "+amx";
  if (vnni)
    return "+vnni";
#elif SHEARS_UK_WIDTH == 8 && defined(__AVX2__)
  if (narrow)
    return "+maddubs";
#endif
  return "";
}

} // namespace
} // namespace shears::uk::SHEARS_UK_ISA

using namespace shears::uk;
using namespace shears::uk::SHEARS_UK_ISA;

extern "C" void SHEARS_UK_NAME(qgemm)(void **buffers, const int64_t *dims,
                                      const int64_t *ip, const float *fparams) {
  QGemm g{};
  g.readOperands(buffers, ip[SHEARS_UK_GEMM_FLAGS], fparams);
  g.k = ip[SHEARS_UK_GEMM_K];
  g.n = ip[SHEARS_UK_GEMM_N];
  g.groups = shears_uk_qgemm_groups(g.k); // As B is packed.
  g.m = leadingProduct(dims, ip[SHEARS_UK_GEMM_A_RANK] - 1);
  if (g.m == 0 || g.n == 0)
    return;
  if (g.columnSums && g.input)
    dynamicRange(g.input, g.m * g.k, g.aScale, g.aZero);
  g.panels = ceilDiv(g.n, kNR);
  g.rowBlocks = ceilDiv(g.m, kMC);
  // Each task quantizes its rows of A, again for every chunk of panels:
  // chunks only when row blocks alone would leave threads idle.
  g.panelChunks =
      splitChunks(g.panels, g.rowBlocks, wantedTasks(), g.panelChunk);
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "qgemm %s%s: %lldx%lld * %lldx%lld",
                 SHEARS_UK_ISA_NAME, integerUnit(g.m >= 16, g.narrow),
                 (long long)g.m, (long long)g.k, (long long)g.k,
                 (long long)g.n);
      },
      g.m * g.k * g.n);
  parallelFor(g.rowBlocks * g.panelChunks, qgemmTask, &g, g.m * g.k * g.n / 4);
}

extern "C" void SHEARS_UK_NAME(qconv2d)(void **buffers, const int64_t *dims,
                                        const int64_t *ip,
                                        const float *fparams) {
  QConv cv{};
  cv.readOperands(buffers, ip[SHEARS_UK_CONV_FLAGS], fparams);
  uint32_t zero = static_cast<uint32_t>(cv.aZero);
  cv.zeroWord = zero | zero << 8 | zero << 16 | zero << 24;
  cv.read(dims, ip);
  if (cv.n == 0 || cv.oh == 0 || cv.ow == 0 || cv.cout == 0)
    return;
  cv.groups = ceilDiv(cv.c, 4);
  bool sampled = cv.kh == 1 && cv.kw == 1;
  cv.sampleH = sampled ? cv.sh : 1;
  cv.sampleW = sampled ? cv.sw : 1;
  cv.wsh = cv.sh / cv.sampleH;
  cv.wsw = cv.sw / cv.sampleW;
  cv.wp = (cv.ow - 1) * cv.wsw + (cv.kw - 1) * cv.dw + 1;
  cv.stagedRow = ceilDiv(cv.wp, W) * W + W;
  cv.panels = ceilDiv(cv.cout, kNR);
  // Blocks of output rows of about 256 pixels: each task quantizes the
  // input rows its block reads (plus the filter's reach, again for every
  // block), so fewer, taller blocks where the image is large.
  // One thread takes the whole image at once (the window is then read
  // once); several take blocks of about 256 pixels.
  cv.rowsPerBlock = numWorkers() > 1 ? max64(1, 256 / cv.ow) : cv.oh;
  cv.blocks = ceilDiv(cv.oh, cv.rowsPerBlock);
  // Chunks of panels quantize the window again: only as many as the
  // threads need.
  cv.panelChunks =
      splitChunks(cv.panels, cv.n * cv.blocks, wantedTasks(), cv.panelChunk);
  int64_t macs = cv.n * cv.oh * cv.ow * cv.cout * cv.c * cv.kh * cv.kw;
  ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size,
                 "qconv2d %s%s: %lldx%lldx%lld -> %lldx%lldx%lld k%lldx%lld "
                 "s%lld",
                 SHEARS_UK_ISA_NAME, integerUnit(cv.amxTaps(), cv.narrow),
                 (long long)cv.c, (long long)cv.h, (long long)cv.w,
                 (long long)cv.cout, (long long)cv.oh, (long long)cv.ow,
                 (long long)cv.kh, (long long)cv.kw, (long long)cv.sh);
      },
      macs);
  parallelFor(cv.n * cv.blocks * cv.panelChunks, qconvTask, &cv, macs / 4);
}
