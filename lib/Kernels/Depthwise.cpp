//===- Depthwise.cpp - Depthwise convolution micro-kernel -----------------===//
//
// One output row at a time, tap by tap: every tap adds w * input to the row
// over the columns where it lands inside the image, so the innermost loop is
// a branch-free, unit- or constant-stride AXPY that the compiler vectorizes
// for the ISA of this translation unit (see Contraction.cpp). The row stays
// in L1 while its taps, the residual and the activation are applied.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include "shears-c/Kernels.h"

#if !defined(SHEARS_UK_ISA)
#error "compile with -DSHEARS_UK_ISA=<isa>"
#endif

#define SHEARS_UK_CAT2(a, b) a##_##b
#define SHEARS_UK_CAT(a, b) SHEARS_UK_CAT2(a, b)
#define SHEARS_UK_NAME(name) SHEARS_UK_CAT(shears_uk_##name, SHEARS_UK_ISA)

namespace {

struct DwConv {
  const float *input, *filter, *bias = nullptr, *residual = nullptr;
  float *output = nullptr;
  int64_t c, h, w, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow;
  int activation = SHEARS_UK_ACT_NONE;
  float lo = 0, hi = 0;
  int64_t rowsPerTask, tasksPerPlane;
};

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t floorDiv(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

template <int SW>
void addTap(float *__restrict out, const float *__restrict in, float weight,
            int64_t lo, int64_t hi, int64_t offset, int64_t sw) {
  const int64_t stride = SW > 0 ? SW : sw;
  for (int64_t x = lo; x < hi; ++x)
    out[x] += weight * in[x * stride + offset];
}

void dwTask(void *ctx, int64_t task, int) {
  const DwConv &d = *static_cast<const DwConv *>(ctx);
  int64_t plane = task / d.tasksPerPlane; // n * C + c
  int64_t ch = plane % d.c;
  int64_t y0 = (task % d.tasksPerPlane) * d.rowsPerTask;
  int64_t y1 = y0 + d.rowsPerTask < d.oh ? y0 + d.rowsPerTask : d.oh;
  const float *in = d.input + plane * d.h * d.w;
  const float *wt = d.filter + ch * d.kh * d.kw;
  float b = d.bias ? d.bias[ch] : 0.0f;
  for (int64_t y = y0; y < y1; ++y) {
    float *out = d.output + (plane * d.oh + y) * d.ow;
    for (int64_t x = 0; x < d.ow; ++x)
      out[x] = b;
    for (int64_t i = 0; i < d.kh; ++i) {
      int64_t iy = y * d.sh - d.pt + i * d.dh;
      if (iy < 0 || iy >= d.h)
        continue;
      const float *row = in + iy * d.w;
      for (int64_t j = 0; j < d.kw; ++j) {
        // Columns x with 0 <= x * sw + offset < w.
        int64_t offset = j * d.dw - d.pl;
        int64_t lo = offset >= 0 ? 0 : ceilDiv(-offset, d.sw);
        int64_t hi = floorDiv(d.w - 1 - offset, d.sw) + 1;
        if (hi > d.ow)
          hi = d.ow;
        if (lo >= hi)
          continue;
        float weight = wt[i * d.kw + j];
        if (d.sw == 1)
          addTap<1>(out, row, weight, lo, hi, offset, 1);
        else if (d.sw == 2)
          addTap<2>(out, row, weight, lo, hi, offset, 2);
        else
          addTap<0>(out, row, weight, lo, hi, offset, d.sw);
      }
    }
    if (d.residual) {
      const float *res = d.residual + (plane * d.oh + y) * d.ow;
      for (int64_t x = 0; x < d.ow; ++x)
        out[x] += res[x];
    }
    if (d.activation == SHEARS_UK_ACT_RELU) {
      for (int64_t x = 0; x < d.ow; ++x)
        out[x] = out[x] > 0 ? out[x] : 0;
    } else if (d.activation == SHEARS_UK_ACT_CLIP) {
      for (int64_t x = 0; x < d.ow; ++x) {
        float v = out[x] < d.lo ? d.lo : out[x];
        out[x] = v > d.hi ? d.hi : v;
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
