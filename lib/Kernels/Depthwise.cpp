//===- Depthwise.cpp - Depthwise convolution and max pooling -------------===//
//
// On AVX-512, 3x3 windows with stride 1 or 2 and 2x2 windows with stride 2
// (depthwise convolution or max pooling) read the input in place: four
// output rows at a time, W outputs of each in a register, each input row's
// tap vectors (shifted masked loads, or even and odd lanes for stride 2)
// formed once for the output rows it reaches; lanes in the padding are
// masked off. Small planes fill whole vectors instead: 3x3 unit-stride ones
// of at most 4 vectors, rows at most half a vector, as one flat run
// (flatRun); stride-2 depthwise ones onto rows of at most 7 outputs, two
// output rows a vector (pairRun).
//
// Everything else (other windows, dilations and strides, the AVX2 and
// generic builds): a task copies the input rows it reads into a
// zero-padded scratch block, so that every tap of every output vector lands
// inside it. Then four output rows at a time, W outputs of each in a register
// (four independent accumulators): per tap one unit- or stride-2 vector load
// and multiply-add per row, then the residual and activation, then one store
// per row. 3x3 filters keep their taps in registers. Max pooling is the same
// walk with max for multiply-add and -inf for the padding.
//
//===----------------------------------------------------------------------===//

#include "ConvShape.h"
#include "Epilogue.h"
#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stddef.h>
#include <stdio.h>

using namespace shears::uk::SHEARS_UK_ISA;

namespace {

struct DwConv : shears::uk::ConvShape {
  const float *input, *filter = nullptr;
  bool max = false; // Max pooling: no filter or bias, -inf padding.
  Epilogue epilogue;
  float *output = nullptr;
  int64_t planes, rowsPerTask, tasksPerPlane, planesPerTask;
};

/// Output rows computed together: independent accumulators, so that the
/// multiply-adds of a vector step do not wait on each other.
constexpr int kRows = 4;

/// Vector steps of an output row: ceil(ow / W).
int64_t rowVectors(const DwConv &d) { return ceilDiv(d.ow, W); }

/// Floats per row of the padded copy of the input: the columns a row of
/// vector steps reads, rounded up to whole vectors. With stride 2 a row is
/// stored deinterleaved, even columns then odd ones (two halves of wp / 2):
/// every tap then reads W consecutive floats of one half.
int64_t paddedWidth(const DwConv &d) {
  if (d.sw == 2)
    return 2 * ceilDiv(rowVectors(d) * W + (d.kw - 1) * d.dw / 2 + 1, W) * W;
  int64_t columns = (rowVectors(d) * W - 1) * d.sw + (d.kw - 1) * d.dw + 2;
  return ceilDiv(columns, W) * W;
}

/// Output vectors x.. of rows y.. (`rows` of them) of a plane `ow` wide,
/// `out` and `residual` (or null) at the plane, after the residual and
/// activation.
__attribute__((always_inline)) inline void
storeRows(const Epilogue &e, float *out, const float *residual, int64_t ow,
          const VF *acc, int rows, int64_t y, int64_t x) {
  int64_t valid = ow - x < W ? ow - x : W;
  for (int r = 0; r < rows; ++r) {
    int64_t offset = (y + r) * ow + x;
    VF v = acc[r];
    if (residual)
      v += valid == W ? load(residual + offset)
                      : loadFirst(residual + offset, valid);
    v = e.activate(v);
    if (valid == W)
      store(out + offset, v);
    else
      storeFirst(out + offset, v, valid);
  }
}

/// The output and residual (or null) of plane `plane` (n * C + c).
float *outputPlane(const DwConv &d, int64_t plane) {
  return d.output + plane * d.oh * d.ow + plane / d.c * d.outSkip;
}
const float *residualPlane(const DwConv &d, int64_t plane) {
  const float *residual = d.epilogue.residual;
  return residual ? residual + plane * d.oh * d.ow : nullptr;
}

/// Output rows [y0, y1) of one plane from its zero-padded input rows, kRows
/// rows at a time (the padded block has rows for a whole last group). KH,
/// KW, S > 0 fix a unit-dilation filter's size and stride at compile time,
/// with the filter's taps in registers; 0 reads them from `d`.
template <bool Max, int KH, int KW, int S>
void dwRows(const DwConv &d, const float *padded, int64_t wp, const float *wt,
            int64_t plane, float bias, int64_t y0, int64_t y1) {
  constexpr bool fixed = KH > 0;
  int64_t kh = fixed ? KH : d.kh, kw = fixed ? KW : d.kw;
  int64_t sh = d.sh, sw = S > 0 ? S : d.sw;
  int64_t dh = fixed ? 1 : d.dh, dw = fixed ? 1 : d.dw;
  VF taps[fixed && !Max ? KH * KW : 1];
  if constexpr (fixed && !Max)
    for (int t = 0; t < KH * KW; ++t)
      taps[t] = VF{} + wt[t];
  for (int64_t y = y0; y < y1; y += kRows) {
    int rows = static_cast<int>(y1 - y < kRows ? y1 - y : kRows);
    const float *base = padded + (y - y0) * sh * wp;
    for (int64_t x = 0; x < d.ow; x += W) {
      VF acc[kRows];
      for (int r = 0; r < kRows; ++r)
        acc[r] = VF{} + bias;
      if constexpr (fixed) {
        // Input row by input row: each of its KW shifted vectors is loaded
        // once and used by every output row it reaches (half the loads of
        // output row by output row; the same order of terms per output).
        // Fixed shapes have sh == sw == S and unit dilation.
#pragma clang loop unroll(full)
        for (int rr = 0; rr < (kRows - 1) * S + KH; ++rr)
#pragma clang loop unroll(full)
          for (int j = 0; j < KW; ++j) {
            const float *p =
                S == 2 ? base + rr * wp + (j & 1) * (wp / 2) + x + j / 2
                       : base + rr * wp + x + j;
            VF v = load(p);
#pragma clang loop unroll(full)
            for (int r = 0; r < kRows; ++r) {
              int i = rr - r * S;
              if (i < 0 || i >= KH)
                continue;
              if constexpr (Max)
                acc[r] = acc[r] > v ? acc[r] : v;
              else
                acc[r] += taps[i * KW + j] * v;
            }
          }
      } else {
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            // Stride 2: column 2 * (x + t) + j * dw of the deinterleaved row.
            int64_t reach = j * dw;
            const float *p = sw == 2
                                 ? base + i * dh * wp + (reach & 1) * (wp / 2) +
                                       x + reach / 2
                                 : base + i * dh * wp + x * sw + reach;
            auto tapLoad = [&](const float *q) {
              return sw <= 2 ? load(q) : gatherStrided(q, sw);
            };
            if constexpr (Max) {
              // x86's max: a NaN input wins over the window so far.
              for (int r = 0; r < kRows; ++r) {
                VF v = tapLoad(p + r * sh * wp);
                acc[r] = acc[r] > v ? acc[r] : v;
              }
              continue;
            }
            VF tap = VF{} + wt[i * kw + j];
            for (int r = 0; r < kRows; ++r)
              acc[r] += tap * tapLoad(p + r * sh * wp);
          }
      }
      storeRows(d.epilogue, outputPlane(d, plane), residualPlane(d, plane),
                d.ow, acc, rows, y, x);
    }
  }
}

#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
/// Lanes t of a vector at input column c0 + t that lie in [0, w).
inline __mmask16 inRow(int64_t c0, int64_t w) {
  int64_t lo = c0 < 0 ? -c0 : 0, hi = w - c0 < W ? w - c0 : W;
  if (hi <= lo)
    return 0;
  return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// What the direct path reads of one plane, in values the compiler keeps in
/// registers across the output stores (through `d` it reloaded them after
/// every store).
struct PlaneTaps {
  const float *in;
  float *out;
  const float *residual;
  int64_t h, w, ow, pt, pl;
  VF taps[9]; // K x K; unused by max pooling.
  VF bias;    // -inf for max pooling.
  VF fill;    // The padding: 0, or -inf for max pooling.
  Epilogue epilogue;
};

/// The loads rowTaps makes of an input row: K shifted ones, or a pair per
/// two taps with stride 2.
template <int K, int S> constexpr int kTapLoads = S == 1 ? K : K == 3 ? 4 : 2;

/// Where load k of them starts, in floats from the row's first column:
/// shift k, or with stride 2 the pair (k / 2) two columns on, W apart.
template <int S> constexpr int64_t tapLoadAt(int k) {
  return S == 1 ? k : (k & 1) * W + (k >> 1) * 2;
}

/// Those loads of output vector x along one input row, from `row` at input
/// column (x * S - pl). Lanes past the row (the padding) are masked off and
/// read as `fill` (`cols`, from tapColumns); Full: every lane lies inside,
/// plain loads.
template <int K, int S, bool Full>
inline void rowLoads(const float *row, const __mmask16 *cols, VF fill, VF *v) {
  for (int k = 0; k < kTapLoads<K, S>; ++k)
    if constexpr (Full)
      v[k] = _mm512_loadu_ps(row + tapLoadAt<S>(k));
    else
      v[k] = _mm512_mask_loadu_ps(fill, cols[k], row + tapLoadAt<S>(k));
}

/// The even (odd) lanes of a pair of vectors, in the order one in-lane
/// shuffle leaves them: 128-bit lane k holds even (odd) lanes 2k and 2k + 1
/// of the pair, then 8 + 2k and 9 + 2k. Stride-2 windows sum their taps in
/// this order and put each output vector back in order once (unshuffle)
/// rather than ordering every tap: a two-source lane permutation each, 27 of
/// them for four output rows of a 3x3 window, where these shuffles are
/// in-lane.
inline VF evenShuffled(VF lo, VF hi) { return _mm512_shuffle_ps(lo, hi, 0x88); }
inline VF oddShuffled(VF lo, VF hi) { return _mm512_shuffle_ps(lo, hi, 0xDD); }
inline VF unshuffle(VF v) {
  __m512i pairs = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  return _mm512_castpd_ps(_mm512_permutexvar_pd(pairs, _mm512_castps_pd(v)));
}

/// The K taps' vectors of output vector x along one input row (rowLoads):
/// unit stride, the K shifted loads; stride 2, even and odd lanes of a pair
/// of loads (and of a second pair for a third tap), shuffled.
template <int K, int S, bool Full = false>
inline void rowTaps(const float *row, const __mmask16 *cols, VF fill, VF *v) {
  if constexpr (S == 1) {
    rowLoads<K, S, Full>(row, cols, fill, v);
  } else {
    VF l[kTapLoads<K, S>];
    rowLoads<K, S, Full>(row, cols, fill, l);
    v[0] = evenShuffled(l[0], l[1]);
    v[1] = oddShuffled(l[0], l[1]);
    if constexpr (K == 3)
      v[2] = evenShuffled(l[2], l[3]);
  }
}

/// The masks of rowTaps's loads for output vector x.
template <int K, int S>
void tapColumns(const PlaneTaps &p, int64_t x, __mmask16 *cols) {
  int64_t c0 = x * S - p.pl;
  for (int k = 0; k < kTapLoads<K, S>; ++k)
    cols[k] = inRow(c0 + tapLoadAt<S>(k), p.w);
}

/// Output rows a direct step computes (directRows, maxPoolRows3s2).
constexpr int kDirectRows = 4;

/// directRows (below) for 3x3 stride-2 max pooling. A maximum is
/// separable: each output row's three input rows are maxed as loaded
/// (rowLoads, the four loads rowTaps makes of each), and only that maximum is
/// split into even and odd lanes, 3 lane permutations an output vector rather
/// than 3 for each input row it reads. The kernel alone on one thread, its
/// input in L3, alternating with the tap walk: 64x112x112 (resnet50's) 0.93x
/// the time, 64x111x111 0.98x, 128x55x55 0.95x, 256x27x27 0.87x.
template <bool Edge, bool Full>
void maxPoolRows3s2(const PlaneTaps &p, const __mmask16 *cols, int64_t y,
                    int64_t x, int rows) {
  constexpr int R = kDirectRows, Loads = kTapLoads<3, 2>;
  auto vmax = [](VF a, VF b) { return a > b ? a : b; };
  VF in[2 * R + 1][Loads];
#pragma clang loop unroll(full)
  for (int rr = 0; rr < 2 * R + 1; ++rr) {
    int64_t iy = y * 2 - p.pt + rr;
    if (Edge && (iy < 0 || iy >= p.h)) {
      for (int k = 0; k < Loads; ++k)
        in[rr][k] = p.fill;
      continue;
    }
    rowLoads<3, 2, Full>(p.in + iy * p.w + x * 2 - p.pl, cols, p.fill, in[rr]);
  }
  VF acc[R];
#pragma clang loop unroll(full)
  for (int r = 0; r < R; ++r) {
    VF m[Loads];
    for (int k = 0; k < Loads; ++k)
      m[k] = vmax(vmax(in[2 * r][k], in[2 * r + 1][k]), in[2 * r + 2][k]);
    acc[r] =
        unshuffle(vmax(vmax(evenShuffled(m[0], m[1]), oddShuffled(m[0], m[1])),
                       evenShuffled(m[2], m[3])));
  }
  storeRows(p.epilogue, p.out, p.residual, p.ow, acc, rows, y, x);
}

/// Four output rows from y, output vector x, of a K x K filter (or max
/// pooling window) with stride S and unit dilation, straight from the input:
/// input row by input row, its taps' vectors formed once for the output rows
/// they reach (four independent accumulators). Edge: input rows outside the
/// plane are skipped.
template <bool Max, int K, int S, bool Edge, bool Full = false>
void directRows(const PlaneTaps &p, const __mmask16 *cols, int64_t y, int64_t x,
                int rows) {
  if constexpr (Max && K == 3 && S == 2)
    return maxPoolRows3s2<Edge, Full>(p, cols, y, x, rows);
  constexpr int R = kDirectRows;
  VF acc[R];
  for (int r = 0; r < R; ++r)
    acc[r] = p.bias;
#pragma clang loop unroll(full)
  for (int rr = 0; rr < (R - 1) * S + K; ++rr) {
    int64_t iy = y * S - p.pt + rr;
    if (Edge && (iy < 0 || iy >= p.h))
      continue;
    VF v[K];
    rowTaps<K, S, Full>(p.in + iy * p.w + x * S - p.pl, cols, p.fill, v);
#pragma clang loop unroll(full)
    for (int j = 0; j < K; ++j)
#pragma clang loop unroll(full)
      for (int r = 0; r < R; ++r) {
        int i = rr - r * S;
        if (i < 0 || i >= K)
          continue;
        if constexpr (Max) // x86's max: a NaN input wins over the window.
          acc[r] = acc[r] > v[j] ? acc[r] : v[j];
        else
          acc[r] += p.taps[i * K + j] * v[j];
      }
  }
  if constexpr (S == 2)
    for (int r = 0; r < R; ++r)
      acc[r] = unshuffle(acc[r]);
  storeRows(p.epilogue, p.out, p.residual, p.ow, acc, rows, y, x);
}

/// Input planes larger than this, walked with stride 2, take rows of output
/// vectors rather than columns (directPlane).
constexpr int64_t kRowWalkPlaneBytes = 32 << 10;

/// Output rows [y0, y1) of a K x K depthwise convolution or max pooling
/// with stride S and unit dilation, with no copy of the input. A padded copy,
/// and the reloads of what it had just stored, were a third of a 28x28
/// plane's time.
template <bool Max, int K, int S>
void directPlane(const DwConv &d, int64_t plane, int64_t y0, int64_t y1) {
  PlaneTaps p;
  p.in = d.input + plane * d.h * d.w;
  p.out = outputPlane(d, plane);
  p.residual = residualPlane(d, plane);
  int64_t ch = plane % d.c;
  p.h = d.h, p.w = d.w, p.ow = d.ow, p.pt = d.pt, p.pl = d.pl;
  if constexpr (Max) {
    p.bias = p.fill = splat(-__builtin_inff());
  } else {
    const float *wt = d.filter + ch * K * K;
    for (int t = 0; t < K * K; ++t)
      p.taps[t] = splat(wt[t]);
    p.bias = splat(d.epilogue.bias ? d.epilogue.bias[ch] : 0.0f);
    p.fill = VF{};
  }
  p.epilogue = d.epilogue;
  constexpr int R = kDirectRows;
  // A whole plane prefetches the next one into L2, a slice with each step:
  // the plane after a stem (64x111x111 max pooling in squeezenet1_1) is
  // not in L2, and the walk down columns of rows, a plane apart, is more
  // than the hardware prefetchers follow (alone with a cold input 0.31 ->
  // 0.21 ms; squeezenet1_1 at batch 1, 0.98x).
  const float *next = nullptr, *nextEnd = nullptr;
  int64_t chunk = 0; // Floats a step: whole 64-byte lines.
  if (y0 == 0 && y1 == d.oh && plane + 1 < d.planes) {
    constexpr int64_t line = 64 / sizeof(float);
    next = p.in + p.h * p.w;
    nextEnd = next + p.h * p.w;
    int64_t calls = ceilDiv(p.ow, W) * ceilDiv(y1 - y0, R);
    chunk = ceilDiv(ceilDiv(p.h * p.w, line), calls) * line;
  }
  auto step = [&](int64_t x, int64_t y, const __mmask16 *cols, bool full) {
    if (next < nextEnd) {
      prefetchLines(next, chunk);
      next += chunk;
    }
    int rows = static_cast<int>(y1 - y < R ? y1 - y : R);
    if (rows == R && y * S - p.pt >= 0 && y * S - p.pt + (R - 1) * S + K <= p.h)
      full ? directRows<Max, K, S, false, true>(p, cols, y, x, rows)
           : directRows<Max, K, S, false>(p, cols, y, x, rows);
    else
      directRows<Max, K, S, true>(p, cols, y, x, rows);
  };
  // A column vector whose loads all lie inside the rows loads them
  // unmasked: a masked load is a load and a blend (64x112x112 3x3 stride
  // 2 max pooling alone 0.93x the time, inside squeezenet1_1 0.91-0.97x).
  auto columns = [&](int64_t x, __mmask16 *cols) {
    tapColumns<K, S>(p, x, cols);
    bool full = true;
    for (int k = 0; k < kTapLoads<K, S>; ++k)
      full = full && cols[k] == 0xFFFF;
    return full;
  };
  // Stride 2 over planes larger than L1 walks rows of output vectors, each
  // step's input rows left in L1 for the next vector along them, rather than
  // down columns, which bring the whole plane through L1 once a column.
  // Alone on one thread, alternating walks: 64x112x112 max pooling
  // 0.94x the time warm and 0.87x with its input in memory, mobilenet_v2's
  // 96x112x112 depthwise 0.94x; 144x56x56 (12.5 KiB planes) the same either
  // way. Unit strides keep the columns: 32x112x112 took 1.22x by rows.
  if (S == 2 && p.h * p.w * int64_t(sizeof(float)) > kRowWalkPlaneBytes) {
    for (int64_t y = y0; y < y1; y += R)
      for (int64_t x = 0; x < p.ow; x += W) {
        __mmask16 cols[4];
        bool full = columns(x, cols);
        step(x, y, cols, full);
      }
    return;
  }
  for (int64_t x = 0; x < p.ow; x += W) {
    __mmask16 cols[4];
    bool full = columns(x, cols);
    for (int64_t y = y0; y < y1; y += R)
      step(x, y, cols, full);
  }
}

/// The lanes `lanes` of v, after the residual (or null) at the same lanes and
/// the activation, into out: the small-plane walks' store of a vector.
inline void storeMasked(const Epilogue &e, float *out, const float *residual,
                        __mmask16 lanes, VF v) {
  if (residual)
    v += _mm512_maskz_loadu_ps(lanes, residual);
  _mm512_mask_storeu_ps(out, lanes, e.activate(v));
}

/// Planes of at most kFlatVectors vectors whose rows are at most half a
/// vector (7x7, 8x8) take the flat walk below.
/// (14x14 planes too, 13 vectors, took 1.009x the time of mobilenet_v2 at
/// batch 1: their rows fill 14 of 16 lanes, and the flat walk loads each
/// tap where rows share them.)
constexpr int kFlatVectors = 4;
bool flatPlanes(const DwConv &d) {
  return d.sh == 1 && d.sw == 1 && d.dh == 1 && d.dw == 1 && d.kh == 3 &&
         d.kw == 3 && d.oh == d.h && d.ow == d.w && 2 * d.w <= W &&
         d.h * d.w <= kFlatVectors * W;
}

/// Planes [p0, p1) of a 3x3 depthwise convolution or max pooling with unit
/// strides and the input's size, each plane as one run of h * w outputs,
/// W a vector: output o's tap (i, j) is input o + (i - pt) * w + (j - pl),
/// so each tap of a vector is one masked load, its lanes whose row or
/// column falls off the plane masked off (read as the fill). Row by row a
/// 7-wide row had filled 7 of 16 lanes: mobilenet_v2's 960x7x7 at batch 8
/// ran at 17.9 GFLOP/s, flat at 31.4 (ONNX Runtime: 46); mobilenet_v2 at
/// batch 1 took 0.98x its time on 1 and on 2 threads. The masks are the
/// plane's, the same for every plane. Taps are summed in the row walk's
/// order.
template <bool Max> void flatRun(const DwConv &d, int64_t p0, int64_t p1) {
  constexpr int K = 3;
  int64_t size = d.h * d.w;
  int vectors = static_cast<int>(ceilDiv(size, W));
  __mmask16 masks[kFlatVectors][K * K], valid[kFlatVectors];
  int64_t shift[K * K];
  for (int v = 0; v < vectors; ++v) {
    valid[v] = 0;
    for (int t = 0; t < K * K; ++t)
      masks[v][t] = 0;
    for (int lane = 0; lane < W; ++lane) {
      int64_t o = v * W + lane;
      if (o >= size)
        break;
      valid[v] |= static_cast<__mmask16>(1u << lane);
      int64_t r = o / d.w, c = o % d.w;
      for (int t = 0; t < K * K; ++t) {
        int64_t ir = r + t / K - d.pt, ic = c + t % K - d.pl;
        if (ir >= 0 && ir < d.h && ic >= 0 && ic < d.w)
          masks[v][t] |= static_cast<__mmask16>(1u << lane);
      }
    }
  }
  for (int t = 0; t < K * K; ++t)
    shift[t] = (t / K - d.pt) * d.w + (t % K - d.pl);
  VF fill = splat(Max ? -__builtin_inff() : 0.0f);
  const Epilogue &e = d.epilogue;
  for (int64_t plane = p0; plane < p1; ++plane) {
    const float *in = d.input + plane * size;
    float *out = outputPlane(d, plane);
    const float *residual = residualPlane(d, plane);
    int64_t ch = plane % d.c;
    VF taps[K * K], bias;
    if constexpr (Max) {
      bias = fill;
    } else {
      const float *wt = d.filter + ch * K * K;
      for (int t = 0; t < K * K; ++t)
        taps[t] = splat(wt[t]);
      bias = splat(e.bias ? e.bias[ch] : 0.0f);
    }
    // Every vector of the plane at once: the taps of one are a chain.
    VF acc[kFlatVectors];
#pragma clang loop unroll(full)
    for (int v = 0; v < kFlatVectors; ++v)
      acc[v] = bias;
#pragma clang loop unroll(full)
    for (int t = 0; t < K * K; ++t)
#pragma clang loop unroll(full)
      for (int v = 0; v < kFlatVectors; ++v) {
        if (v >= vectors)
          break;
        VF x = _mm512_mask_loadu_ps(fill, masks[v][t], in + v * W + shift[t]);
        if constexpr (Max) // x86's max: a NaN input wins over the window.
          acc[v] = acc[v] > x ? acc[v] : x;
        else
          acc[v] += taps[t] * x;
      }
#pragma clang loop unroll(full)
    for (int v = 0; v < kFlatVectors; ++v) {
      if (v >= vectors)
        break;
      storeMasked(e, out + v * W, residual ? residual + v * W : nullptr,
                  valid[v], acc[v]);
    }
  }
}

/// Stride-2 3x3 depthwise planes whose output rows are at most 7 wide
/// (mobilenet_v2's 576x14x14 onto 7x7) take two output rows a vector
/// (pairRun).
bool pairPlanes(const DwConv &d) {
  return !d.max && d.sh == 2 && d.sw == 2 && d.dh == 1 && d.dw == 1 &&
         d.kh == 3 && d.kw == 3 && 2 * d.ow < W;
}

/// Planes [p0, p1) of a stride-2 3x3 depthwise convolution with output rows
/// at most 7 wide, two output rows y and y + 1 to a vector: lane x < ow is
/// (y, x), lane ow + x is (y + 1, x), so the pair is one run of the output.
/// Tap (i, j) of lane x is column 2x + j - pl of input row 2y + i - pt, of
/// lane ow + x the same column two rows down: one two-source lane
/// permutation of the two rows, each loaded once as a whole (16 columns from
/// column -pl), with the lanes whose column is off the plane zeroed. Rows off
/// the plane read a row of zeros. Loads are masked only in planes whose rows
/// would reach outside the input buffer, its first and last (a masked load
/// took 1.4x the time of the plain ones it replaces here).
/// Row by row a 7-wide output row had filled 7 of 16 lanes and split even and
/// odd lanes for every tap row: 576x14x14 took 57 ns a plane alone. The taps
/// are summed in the row walk's order.
void pairRun(const DwConv &d, int64_t p0, int64_t p1) {
  constexpr int K = 3, kPairs = 4;
  int64_t ow = d.ow, oh = d.oh;
  __m512i index[K];
  __mmask16 valid[K];
  for (int j = 0; j < K; ++j) {
    alignas(64) int32_t lanes[W] = {};
    valid[j] = 0;
    for (int64_t x = 0; x < ow; ++x) {
      int64_t column = 2 * x + j;
      lanes[x] = static_cast<int32_t>(column);
      lanes[ow + x] = static_cast<int32_t>(W + column);
      if (column >= d.pl && column - d.pl < d.w)
        valid[j] |= static_cast<__mmask16>((1u << x) | (1u << (ow + x)));
    }
    index[j] = _mm512_load_si512(lanes);
  }
  alignas(64) static const float zeros[W] = {};
  __mmask16 cols = inRow(-d.pl, d.w);
  const Epilogue &e = d.epilogue;
  for (int64_t plane = p0; plane < p1; ++plane) {
    const float *in = d.input + plane * d.h * d.w - d.pl;
    float *out = outputPlane(d, plane);
    const float *residual = residualPlane(d, plane);
    // Masked where a row's 16 columns from -pl reach outside the input.
    int64_t first = plane * d.h * d.w - d.pl, last = first + (d.h - 1) * d.w;
    bool edge = first < 0 || last + W > d.planes * d.h * d.w;
    int64_t ch = plane % d.c;
    const float *wt = d.filter + ch * K * K;
    VF taps[K * K];
    for (int t = 0; t < K * K; ++t)
      taps[t] = splat(wt[t]);
    VF bias = splat(e.bias ? e.bias[ch] : 0.0f);
    // Four pairs of output rows at once (a 7x7 output whole): the 9
    // multiply-adds of a pair are one chain. (576x14x14 alone: one pair at
    // a time 13.0 us a call, two 12.5, four 11.3-11.7 against 11.8-12.0.)
    for (int64_t y = 0; y < oh; y += 2 * kPairs) {
      // Input rows 2y - pt .. 2y - pt + 4 kPairs.
      VF rows[4 * kPairs + 1];
#pragma clang loop unroll(full)
      for (int k = 0; k < 4 * kPairs + 1; ++k) {
        int64_t iy = 2 * y - d.pt + k;
        bool inside = iy >= 0 && iy < d.h;
        if (edge)
          rows[k] = _mm512_maskz_loadu_ps(inside ? cols : 0,
                                          in + (inside ? iy : 0) * d.w);
        else
          rows[k] = _mm512_loadu_ps(inside ? in + iy * d.w : zeros);
      }
      VF acc[kPairs];
#pragma clang loop unroll(full)
      for (int q = 0; q < kPairs; ++q)
        acc[q] = bias;
#pragma clang loop unroll(full)
      for (int i = 0; i < K; ++i)
#pragma clang loop unroll(full)
        for (int j = 0; j < K; ++j)
#pragma clang loop unroll(full)
          for (int q = 0; q < kPairs; ++q)
            acc[q] += taps[i * K + j] * _mm512_maskz_permutex2var_ps(
                                            valid[j], rows[4 * q + i], index[j],
                                            rows[4 * q + i + 2]);
#pragma clang loop unroll(full)
      for (int q = 0; q < kPairs; ++q) {
        int64_t at = y + 2 * q, left = oh - at;
        if (left <= 0)
          break;
        int64_t n = (left < 2 ? left : 2) * ow;
        storeMasked(e, out + at * ow, residual ? residual + at * ow : nullptr,
                    static_cast<__mmask16>((1u << n) - 1), acc[q]);
      }
    }
  }
}
#endif

/// Output rows [y0, y1) of plane `plane` (n * C + c).
void planeRows(const DwConv &d, int64_t plane, int64_t y0, int64_t y1,
               int worker) {
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
  // 3x3 windows with strides 1 and 2, 2x2 ones with stride 2 (VGG's and
  // LeNet's max pooling).
  if (d.sh == d.sw && d.dh == 1 && d.dw == 1 && d.kh == d.kw) {
    int64_t k = d.kh, s = d.sw;
    if (k == 3 && s == 1)
      return d.max ? directPlane<true, 3, 1>(d, plane, y0, y1)
                   : directPlane<false, 3, 1>(d, plane, y0, y1);
    if (k == 3 && s == 2)
      return d.max ? directPlane<true, 3, 2>(d, plane, y0, y1)
                   : directPlane<false, 3, 2>(d, plane, y0, y1);
    if (k == 2 && s == 2)
      return d.max ? directPlane<true, 2, 2>(d, plane, y0, y1)
                   : directPlane<false, 2, 2>(d, plane, y0, y1);
  }
#endif
  int64_t ch = plane % d.c;
  const float *in = d.input + plane * d.h * d.w;
  const float *wt = d.max ? nullptr : d.filter + ch * d.kh * d.kw;
  // The input rows these output rows read (and those of a whole last group
  // of kRows), padded (zeros, or -inf for max pooling) so that every tap of
  // every vector step lands inside: no bounds checks below.
  int64_t wp = paddedWidth(d);
  int64_t top = y0 * d.sh - d.pt;
  int64_t groups = ceilDiv(y1 - y0, kRows);
  int64_t hp = (groups * kRows - 1) * d.sh + (d.kh - 1) * d.dh + 1;
  float *padded = shears::uk::scratch(worker, hp * wp * sizeof(float));
  if (!padded)
    return; // Out of memory: nothing sensible to do inside a kernel.
  // Padded column c holds input column c - pl.
  int64_t c0 = d.pl, c1 = d.pl + d.w < wp ? d.pl + d.w : wp;
  VF fill = VF{} + (d.max ? -__builtin_inff() : 0.0f);
  for (int64_t r = 0; r < hp; ++r) {
    float *dst = padded + r * wp;
    for (int64_t x = 0; x < wp; x += W)
      store(dst + x, fill);
    int64_t iy = top + r;
    if (iy < 0 || iy >= d.h || c1 <= c0)
      continue;
    const float *src = in + iy * d.w;
    int64_t c = c0;
    if (d.sw == 2) { // Column c to half c % 2, at c / 2.
      int64_t half = wp / 2;
      auto at = [&](int64_t col) { return dst + (col & 1) * half + col / 2; };
      for (; c + 2 * W <= c1; c += 2 * W) {
        VF lo = load(src + c - d.pl), hi = load(src + c - d.pl + W);
        store(at(c), evenLanes(lo, hi));
        store(at(c + 1), oddLanes(lo, hi));
      }
      if (int64_t n = c1 - c; n > 0) { // Masked: fewer than 2W columns.
        VF lo = loadFirst(src + c - d.pl, n < W ? n : W);
        VF hi = n > W ? loadFirst(src + c - d.pl + W, n - W) : VF{};
        storeFirst(at(c), evenLanes(lo, hi), (n + 1) / 2);
        storeFirst(at(c + 1), oddLanes(lo, hi), n / 2);
      }
      continue;
    }
    for (; c + W <= c1; c += W)
      store(dst + c, load(src + c - d.pl));
    if (c < c1)
      storeFirst(dst + c, loadFirst(src + c - d.pl, c1 - c), c1 - c);
  }
  const float *biases = d.epilogue.bias;
  float bias = d.max ? -__builtin_inff() : biases ? biases[ch] : 0.0f;
  bool unit = d.dh == 1 && d.dw == 1 && d.sh == d.sw;
  bool k3 = unit && d.kh == 3 && d.kw == 3, k2 = unit && d.kh == 2 && d.kw == 2;
  if (d.max) {
    if (k3 && d.sw == 2)
      dwRows<true, 3, 3, 2>(d, padded, wp, wt, plane, bias, y0, y1);
    else if (k2 && d.sw == 2)
      dwRows<true, 2, 2, 2>(d, padded, wp, wt, plane, bias, y0, y1);
    else
      dwRows<true, 0, 0, 0>(d, padded, wp, wt, plane, bias, y0, y1);
  } else if (k3 && d.sw == 1) {
    dwRows<false, 3, 3, 1>(d, padded, wp, wt, plane, bias, y0, y1);
  } else if (k3 && d.sw == 2) {
    dwRows<false, 3, 3, 2>(d, padded, wp, wt, plane, bias, y0, y1);
  } else {
    dwRows<false, 0, 0, 0>(d, padded, wp, wt, plane, bias, y0, y1);
  }
}

/// A run of whole planes, or (few planes) a run of rows of one.
void dwTask(void *ctx, int64_t task, int worker) {
  const DwConv &d = *static_cast<const DwConv *>(ctx);
  if (d.tasksPerPlane == 1) {
    int64_t begin = task * d.planesPerTask;
    int64_t end =
        begin + d.planesPerTask < d.planes ? begin + d.planesPerTask : d.planes;
#if SHEARS_UK_WIDTH == 16 && defined(__AVX512F__)
    if (pairPlanes(d))
      return pairRun(d, begin, end);
    if (flatPlanes(d))
      return d.max ? flatRun<true>(d, begin, end)
                   : flatRun<false>(d, begin, end);
#endif
    for (int64_t plane = begin; plane < end; ++plane)
      planeRows(d, plane, 0, d.oh, worker);
    return;
  }
  int64_t y0 = (task % d.tasksPerPlane) * d.rowsPerTask;
  int64_t y1 = y0 + d.rowsPerTask < d.oh ? y0 + d.rowsPerTask : d.oh;
  if (y0 < y1)
    planeRows(d, task / d.tasksPerPlane, y0, y1, worker);
}

/// dwconv2d and maxpool2d: the same slots (Kernels.h); max pooling has no
/// filter and no bias.
void runPlanes(void **buffers, const int64_t *dims, const int64_t *ip,
               const float *fparams, bool max) {
  DwConv d;
  d.max = max;
  d.input = static_cast<const float *>(buffers[0]);
  void **operand = buffers + 1;
  if (!max)
    d.filter = static_cast<const float *>(*operand++);
  int64_t flags = ip[SHEARS_UK_CONV_FLAGS];
  d.epilogue =
      Epilogue(max ? flags & ~SHEARS_UK_HAS_BIAS : flags, fparams, operand);
  d.output = static_cast<float *>(*operand);
  d.read(dims, ip);
  int64_t planes = d.n * d.c;
  if (planes == 0 || d.oh == 0 || d.ow == 0)
    return;
  // Split tall planes when there are few of them.
  int64_t wanted = 4 * shears::uk::numWorkers();
  // Many planes: runs of planes, a few tasks per thread (each task is
  // claimed with an atomic; small planes are a few hundred cycles each).
  d.planes = planes;
  d.tasksPerPlane = planes >= wanted ? 1 : ceilDiv(wanted, planes);
  if (d.tasksPerPlane > d.oh)
    d.tasksPerPlane = d.oh;
  d.rowsPerTask = ceilDiv(d.oh, d.tasksPerPlane);
  d.tasksPerPlane = ceilDiv(d.oh, d.rowsPerTask);
  d.planesPerTask = d.tasksPerPlane == 1 ? planes / wanted : 1;
  if (d.planesPerTask < 1)
    d.planesPerTask = 1;
  int64_t tasks = d.tasksPerPlane == 1 ? ceilDiv(planes, d.planesPerTask)
                                       : planes * d.tasksPerPlane;
  // Work in GEMM multiply-adds: one of these (a load each, one
  // accumulator per row) costs about four.
  int64_t macs = planes * d.oh * d.ow * d.kh * d.kw;
  shears::uk::ProfileScope profile(
      [&](char *out, size_t size) {
        snprintf(out, size, "%s %s: n%lld %lldx%lldx%lld, %lldx%lld s%lld",
                 max ? "maxpool2d" : "dwconv2d", SHEARS_UK_ISA_NAME,
                 (long long)d.n, (long long)d.c, (long long)d.h, (long long)d.w,
                 (long long)d.kh, (long long)d.kw, (long long)d.sh);
      },
      macs);
  shears::uk::parallelFor(tasks, dwTask, &d, 4 * macs);
}

} // namespace

extern "C" void SHEARS_UK_NAME(dwconv2d)(void **buffers, const int64_t *dims,
                                         const int64_t *ip,
                                         const float *fparams) {
  runPlanes(buffers, dims, ip, fparams, false);
}

extern "C" void SHEARS_UK_NAME(maxpool2d)(void **buffers, const int64_t *dims,
                                          const int64_t *ip,
                                          const float *fparams) {
  runPlanes(buffers, dims, ip, fparams, true);
}
