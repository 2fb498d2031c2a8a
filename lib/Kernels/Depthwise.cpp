//===- Depthwise.cpp - Depthwise convolution micro-kernel -----------------===//
//
// A task copies the input rows it reads into a zero-padded scratch block, so
// that every tap of every output vector lands inside it. Then each output
// row is W outputs at a time in a register: per tap one unit- or stride-2
// vector load and multiply-add, then the residual and activation, then one
// store.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "Vector.h"

#include "shears-c/Kernels.h"

#include <stddef.h>

using namespace shears::uk::SHEARS_UK_ISA;

namespace {

struct DwConv {
  const float *input, *filter, *bias = nullptr, *residual = nullptr;
  float *output = nullptr;
  int64_t c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow;
  int activation = SHEARS_UK_ACT_NONE;
  float lo = 0, hi = 0;
  int64_t rowsPerTask, tasksPerPlane;
};

/// W inputs `stride` apart: one load for stride 1, two and the even lanes
/// for stride 2.
inline VF loadStrided(const float *p, int64_t stride) {
  if (stride == 1)
    return load(p);
  if (stride == 2) {
    VF lo = load(p), hi = load(p + W);
#if SHEARS_UK_WIDTH == 16
    return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18,
                                   20, 22, 24, 26, 28, 30);
#elif SHEARS_UK_WIDTH == 8
    return __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14);
#else
    return __builtin_shufflevector(lo, hi, 0, 2, 4, 6);
#endif
  }
  VF v;
  for (int t = 0; t < W; ++t)
    v[t] = p[t * stride];
  return v;
}

/// Vector steps of an output row: ceil(ow / W).
int64_t rowVectors(const DwConv &d) { return ceilDiv(d.ow, W); }

/// Columns of the zero-padded copy of the input that a row of vector steps
/// reads (a stride-2 load reads one float past its last input).
int64_t paddedWidth(const DwConv &d) {
  return (rowVectors(d) * W - 1) * d.sw + (d.kw - 1) * d.dw + 2;
}

void dwTask(void *ctx, int64_t task, int worker) {
  const DwConv &d = *static_cast<const DwConv *>(ctx);
  int64_t plane = task / d.tasksPerPlane; // n * C + c
  int64_t ch = plane % d.c;
  int64_t y0 = (task % d.tasksPerPlane) * d.rowsPerTask;
  int64_t y1 = y0 + d.rowsPerTask < d.oh ? y0 + d.rowsPerTask : d.oh;
  if (y0 >= y1)
    return;
  const float *in = d.input + plane * d.h * d.w;
  const float *wt = d.filter + ch * d.kh * d.kw;
  // The input rows these output rows read, zero-padded so that every tap
  // of every vector step lands inside: no bounds checks below.
  int64_t wp = paddedWidth(d);
  int64_t top = y0 * d.sh - d.pt;
  int64_t hp = (y1 - 1 - y0) * d.sh + (d.kh - 1) * d.dh + 1;
  float *padded = shears::uk::scratch(worker, (hp * wp + W) * sizeof(float));
  if (!padded)
    return; // Out of memory: nothing sensible to do inside a kernel.
  for (int64_t r = 0; r < hp; ++r) {
    float *dst = padded + r * wp;
    for (int64_t x = 0; x < wp; ++x)
      dst[x] = 0;
    int64_t iy = top + r;
    if (iy < 0 || iy >= d.h)
      continue;
    // Padded column c holds input column c - pl.
    int64_t c0 = d.pl, c1 = d.pl + d.w < wp ? d.pl + d.w : wp;
    for (int64_t c = c0; c < c1; ++c)
      dst[c] = in[iy * d.w + c - d.pl];
  }
  float bias = d.bias ? d.bias[ch] : 0.0f;
  alignas(64) float tail[W];
  for (int64_t y = y0; y < y1; ++y) {
    int64_t offset = (plane * d.oh + y) * d.ow;
    const float *rowBase = padded + (y - y0) * d.sh * wp;
    float *out = d.output + offset;
    const float *res = d.residual ? d.residual + offset : nullptr;
    for (int64_t x = 0; x < d.ow; x += W) {
      VF acc = VF{} + bias;
      for (int64_t i = 0; i < d.kh; ++i) {
        const float *row = rowBase + i * d.dh * wp + x * d.sw;
        for (int64_t j = 0; j < d.kw; ++j)
          acc += wt[i * d.kw + j] * loadStrided(row + j * d.dw, d.sw);
      }
      bool full = x + W <= d.ow;
      if (res) {
        if (full) {
          acc += load(res + x);
        } else {
          for (int64_t t = 0; t < d.ow - x; ++t)
            tail[t] = res[x + t];
          acc += load(tail);
        }
      }
      if (d.activation == SHEARS_UK_ACT_RELU)
        acc = acc > 0 ? acc : 0;
      else if (d.activation == SHEARS_UK_ACT_CLIP)
        acc = acc < d.lo ? d.lo : (acc > d.hi ? d.hi : acc);
      if (full) {
        store(out + x, acc);
      } else {
        store(tail, acc);
        for (int64_t t = 0; t < d.ow - x; ++t)
          out[x + t] = tail[t];
      }
    }
  }
}

} // namespace

extern "C" void SHEARS_UK_NAME(dwconv2d)(void **buffers, const int64_t *dims,
                                         const int64_t *ip,
                                         const float *fparams) {
  DwConv d;
  d.input = static_cast<const float *>(buffers[0]);
  d.filter = static_cast<const float *>(buffers[1]);
  void **operand = buffers + 2;
  int64_t flags = ip[SHEARS_UK_CONV_FLAGS];
  if (flags & SHEARS_UK_HAS_BIAS)
    d.bias = static_cast<const float *>(*operand++);
  if (flags & SHEARS_UK_HAS_RESIDUAL)
    d.residual = static_cast<const float *>(*operand++);
  d.output = static_cast<float *>(*operand);
  d.activation = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  if (d.activation == SHEARS_UK_ACT_CLIP) {
    d.lo = fparams[SHEARS_UK_F_CLIP_MIN];
    d.hi = fparams[SHEARS_UK_F_CLIP_MAX];
  }
  d.c = ip[SHEARS_UK_CONV_C];
  d.h = ip[SHEARS_UK_CONV_H];
  d.w = ip[SHEARS_UK_CONV_W];
  d.kh = ip[SHEARS_UK_CONV_KH];
  d.kw = ip[SHEARS_UK_CONV_KW];
  d.sh = ip[SHEARS_UK_CONV_SH];
  d.sw = ip[SHEARS_UK_CONV_SW];
  d.pt = ip[SHEARS_UK_CONV_PT];
  d.pl = ip[SHEARS_UK_CONV_PL];
  d.dh = ip[SHEARS_UK_CONV_DH];
  d.dw = ip[SHEARS_UK_CONV_DW];
  d.oh = ip[SHEARS_UK_CONV_OH];
  d.ow = ip[SHEARS_UK_CONV_OW];
  int64_t planes = dims[0] * d.c;
  if (planes == 0 || d.oh == 0 || d.ow == 0)
    return;
  // Split tall planes when there are few of them.
  int64_t wanted = 4 * shears::uk::numWorkers();
  d.tasksPerPlane = planes >= wanted ? 1 : ceilDiv(wanted, planes);
  if (d.tasksPerPlane > d.oh)
    d.tasksPerPlane = d.oh;
  d.rowsPerTask = ceilDiv(d.oh, d.tasksPerPlane);
  d.tasksPerPlane = ceilDiv(d.oh, d.rowsPerTask);
  shears::uk::parallelFor(planes * d.tasksPerPlane, dwTask, &d,
                          planes * d.oh * d.ow * d.kh * d.kw);
}
