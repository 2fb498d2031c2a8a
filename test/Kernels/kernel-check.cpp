//===- kernel-check.cpp - The micro-kernels against naive loops -----------===//
//
// Runs each kernel variant the host CPU can execute on shapes that hit every
// edge (ragged tiles, several k-blocks, groups, strides, dilations, padding,
// each epilogue) and compares with a naive double-precision reference; then
// checks that 1 and 3 threads give bitwise identical outputs. Prints one line
// per case and exits 1 on any mismatch.
//
//===----------------------------------------------------------------------===//

#include "shears-c/Kernels.h"

#include "ThreadPool.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

ShearsUKernelFn find(const std::string &name) {
  for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
    if (name == s->name)
      return s->fn;
  return nullptr;
}

unsigned seed = 12345;
float rnd() {
  seed = seed * 1103515245u + 12345u;
  return static_cast<float>((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}
std::vector<float> random(size_t n) {
  std::vector<float> v(n);
  for (float &x : v)
    x = rnd();
  return v;
}

float activate(double x, int act) {
  if (act == SHEARS_UK_ACT_RELU)
    return x > 0 ? x : 0;
  if (act == SHEARS_UK_ACT_CLIP)
    return x < -0.5 ? -0.5 : (x > 0.75 ? 0.75 : x);
  return x;
}

int failures = 0;

void compare(const char *what, const std::vector<float> &got,
             const std::vector<float> &want, double tolerance) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::fmax(worst, std::fabs(got[i] - want[i]));
  bool ok = worst <= tolerance;
  failures += !ok;
  std::printf("%s %s max|diff| %.2g\n", ok ? "ok" : "FAIL", what, worst);
}

/// Runs `kernel` at 1 and 3 threads on input, weights, bias and residual
/// (the last two as `flags` asks), checks the 1-thread output against
/// `want` and the 3-thread one bitwise against it; then on 2 threads with
/// the work of a balanced call (ThreadPool.h) split 30:70 and 70:30, each
/// bitwise against 1 thread too.
void runAndCheck(const std::string &kernel, const char *what,
                 std::vector<void *> inputs, const int64_t *dims,
                 const int64_t *ip, const float *fp,
                 const std::vector<float> &want, double tolerance) {
  auto run = [&](int threads, std::vector<float> &out) {
    shears_uk_set_num_threads(threads);
    out.assign(want.size(), NAN);
    std::vector<void *> buffers = inputs;
    buffers.push_back(out.data());
    find(kernel)(buffers.data(), dims, ip, fp);
  };
  std::vector<float> one, other;
  run(1, one);
  compare(what, one, want, tolerance);
  auto same = [&](const char *how) {
    bool ok =
        std::memcmp(one.data(), other.data(), one.size() * sizeof(float)) == 0;
    failures += !ok;
    std::printf("%s %s: 1 thread and %s bitwise identical\n",
                ok ? "ok" : "FAIL", what, how);
  };
  run(3, other);
  same("3 threads");
  const float skews[2][2] = {{0.3f, 0.7f}, {0.7f, 0.3f}};
  for (const float *parts : skews) {
    shears::uk::setBalanceParts(parts, 2);
    run(2, other);
    shears::uk::setBalanceParts(nullptr, 0);
    same(parts[0] < parts[1] ? "2 split 30:70" : "2 split 70:30");
  }
}

/// A conv-family kernel (conv2d, dwconv2d, maxpool2d) writing each image
/// into its slice of a wider output (OUT_STRIDE, as into a concat): on 2
/// threads, the slices against `want` and every float between them
/// untouched.
void checkOutStride(const std::string &kernel, const char *what,
                    std::vector<void *> inputs, const int64_t *dims,
                    const int64_t *ip, const float *fp,
                    const std::vector<float> &want, double tolerance) {
  int64_t images = dims[0], image = static_cast<int64_t>(want.size()) / images;
  int64_t stride = image + 40;
  int64_t params[SHEARS_UK_CONV_NUM_PARAMS];
  std::memcpy(params, ip, sizeof(params));
  params[SHEARS_UK_CONV_OUT_STRIDE] = stride;
  std::vector<float> wide(images * stride, NAN), got(want.size());
  inputs.push_back(wide.data());
  shears_uk_set_num_threads(2);
  find(kernel)(inputs.data(), dims, params, fp);
  bool untouched = true;
  for (int64_t n = 0; n < images; ++n) {
    std::memcpy(got.data() + n * image, wide.data() + n * stride,
                image * sizeof(float));
    for (int64_t i = n * stride + image; i < (n + 1) * stride; ++i)
      untouched &= std::isnan(wide[i]);
  }
  std::string into = std::string(what) + " into a wider output";
  compare(into.c_str(), got, want, tolerance);
  failures += !untouched;
  std::printf("%s %s: nothing written between the slices\n",
              untouched ? "ok" : "FAIL", into.c_str());
}

/// A kernel with a residual computing in its buffer (Kernels.h: conv2d,
/// gemm), on 2 threads: the output and residual are one buffer, holding the
/// residual at the call.
void checkInPlace(const std::string &kernel, const char *what,
                  std::vector<void *> inputs, const float *residual,
                  const int64_t *dims, const int64_t *ip, const float *fp,
                  const std::vector<float> &want, double tolerance) {
  std::vector<float> got(residual, residual + want.size());
  inputs.back() = got.data();
  inputs.push_back(got.data());
  shears_uk_set_num_threads(2);
  find(kernel)(inputs.data(), dims, ip, fp);
  std::string inPlace = std::string(what) + " in its residual's buffer";
  compare(inPlace.c_str(), got, want, tolerance);
}

/// The same with the operands of the float kernels: input, weights (none
/// for max pooling), bias and residual as `flags` asks. `outStride`: also
/// checkOutStride; `inPlace`: also checkInPlace, with a residual.
void runAndCheck(const std::string &kernel, const char *what, int flags,
                 const float *input, const float *weights, const float *bias,
                 const float *residual, const int64_t *dims, const int64_t *ip,
                 const std::vector<float> &want, double tolerance,
                 bool outStride = false, bool inPlace = false) {
  const float fp[SHEARS_UK_F_NUM] = {-0.5f, 0.75f};
  std::vector<void *> inputs = {const_cast<float *>(input)};
  if (weights)
    inputs.push_back(const_cast<float *>(weights));
  if (flags & SHEARS_UK_HAS_BIAS)
    inputs.push_back(const_cast<float *>(bias));
  if (flags & SHEARS_UK_HAS_RESIDUAL)
    inputs.push_back(const_cast<float *>(residual));
  runAndCheck(kernel, what, inputs, dims, ip, fp, want, tolerance);
  if (outStride)
    checkOutStride(kernel, what, inputs, dims, ip, fp, want, tolerance);
  if (inPlace && flags & SHEARS_UK_HAS_RESIDUAL)
    checkInPlace(kernel, what, inputs, residual, dims, ip, fp, want, tolerance);
}

struct ConvCase {
  int64_t n, c, h, w, cout, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, groups;
  int flags;
};

/// How checkConv packs the filter: in row blocks; for output channels along
/// the vectors; transformed for Winograd F(2x2, 3x3) or F(4x4, 3x3); or
/// about 15% of it
/// non-zero (output channel 1 dense, every seventh empty), on spconv2d.
enum class ConvPath {
  RowBlocks,
  ChannelPanels,     // Tiles of one panel (pairPanels() off).
  ChannelPanelPairs, // Tiles of two panels over short runs (on).
  Winograd,
  Winograd4,
  Sparse
};

/// The naive references below are test code, and they were most of this
/// test's time under ASan + UBSan (utils/test_sanitizers.sh: 100 s, 11 s with
/// them uninstrumented), so they are not instrumented; the kernels they check
/// are. They take raw pointers: std::vector's instrumented operator[] would
/// not be inlined into them.
#define SHEARS_UNSANITIZED __attribute__((no_sanitize("address", "undefined")))

/// conv2d in double: `want` = act(conv(in, filter) + bias + residual), as
/// `t.flags` asks.
SHEARS_UNSANITIZED void referenceConv(const ConvCase &t, int64_t oh, int64_t ow,
                                      const float *in, const float *filter,
                                      const float *bias, const float *residual,
                                      float *want) {
  int64_t cg = t.c / t.groups, mg = t.cout / t.groups;
  int act = (t.flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t m = 0; m < t.cout; ++m)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int64_t g = m / mg;
          double sum = t.flags & SHEARS_UK_HAS_BIAS ? bias[m] : 0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t i = 0; i < t.kh; ++i)
              for (int64_t j = 0; j < t.kw; ++j) {
                int64_t iy = y * t.sh - t.pt + i * t.dh;
                int64_t ix = x * t.sw - t.pl + j * t.dw;
                if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w)
                  continue;
                sum += double(filter[(m * cg + ci) * t.kh * t.kw +
                                     i * t.kw + j]) *
                       in[((n * t.c + g * cg + ci) * t.h + iy) * t.w + ix];
              }
          int64_t o = ((n * t.cout + m) * oh + y) * ow + x;
          if (t.flags & SHEARS_UK_HAS_RESIDUAL)
            sum += residual[o];
          want[o] = activate(sum, act);
        }
}

void checkConv(const std::string &isa, const ConvCase &t, ConvPath path) {
  bool sparse = path == ConvPath::Sparse;
  bool depthwise = t.groups == t.c && t.groups == t.cout && t.groups > 1;
  int64_t oh = (t.h + t.pt + t.pb - t.dh * (t.kh - 1) - 1) / t.sh + 1;
  int64_t ow = (t.w + t.pl + t.pr - t.dw * (t.kw - 1) - 1) / t.sw + 1;
  int64_t cg = t.c / t.groups, k = cg * t.kh * t.kw;
  std::vector<float> in = random(t.n * t.c * t.h * t.w);
  std::vector<float> filter = random(t.cout * k), bias = random(t.cout);
  if (sparse)
    for (int64_t m = 0; m < t.cout; ++m)
      for (int64_t kk = 0; kk < k; ++kk)
        if (m != 1 && (m % 7 == 3 || (rnd() + 1) / 2 > 0.15))
          filter[m * k + kk] = 0.0f;
  std::vector<float> residual = random(t.n * t.cout * oh * ow);
  std::vector<float> want(residual.size());
  referenceConv(t, oh, ow, in.data(), filter.data(), bias.data(),
                residual.data(), want.data());
  std::vector<float> weights = filter;
  int flags = t.flags;
  bool panels =
      path == ConvPath::ChannelPanels || path == ConvPath::ChannelPanelPairs;
  if (panels)
    flags |= SHEARS_UK_CONV_CHANNEL_PANELS;
  if (path == ConvPath::Winograd || path == ConvPath::Winograd4)
    flags |= SHEARS_UK_CONV_WINOGRAD;
  if (path == ConvPath::Winograd4)
    flags |= SHEARS_UK_CONV_WINOGRAD_4X4;
  if (sparse) {
    weights.resize(shears_uk_spgemm_packed_size(filter.data(), t.cout, k));
    shears_uk_pack_spgemm(filter.data(), t.cout, k, weights.data());
  } else if (path == ConvPath::Winograd || path == ConvPath::Winograd4) {
    int64_t tile = path == ConvPath::Winograd4 ? 4 : 2;
    weights.resize(shears_uk_winograd_filter_packed_size(t.cout, t.c, tile));
    shears_uk_pack_winograd_filter(filter.data(), t.cout, t.c, tile,
                                   weights.data());
  } else if (panels) {
    weights.resize(
        shears_uk_conv_filter_panels_packed_size(t.cout, k, t.groups));
    shears_uk_pack_conv_filter_panels(filter.data(), t.cout, k, t.groups,
                                      weights.data());
  } else if (!depthwise) {
    weights.resize(shears_uk_conv_filter_packed_size(t.cout, k, t.groups));
    shears_uk_pack_conv_filter(filter.data(), t.cout, k, t.groups,
                               weights.data());
  }
  int64_t ip[SHEARS_UK_CONV_NUM_PARAMS] = {
      t.c,  t.h,  t.w,  t.cout, t.kh, t.kw,     t.sh,  t.sw, t.pt,
      t.pl, t.dh, t.dw, oh,     ow,   t.groups, flags, 0};
  int64_t dims[4] = {t.n, t.c, t.h, t.w};
  char what[256];
  std::snprintf(what, sizeof(what),
                "%s %s n%ld c%ld %ldx%ld cout%ld k%ldx%ld s%ld,%ld "
                "p%ld,%ld,%ld,%ld d%ld,%ld g%ld flags%d%s",
                sparse      ? "spconv2d"
                : depthwise ? "dwconv2d"
                            : "conv2d",
                isa.c_str(), long(t.n), long(t.c), long(t.h), long(t.w),
                long(t.cout), long(t.kh), long(t.kw), long(t.sh), long(t.sw),
                long(t.pt), long(t.pl), long(t.pb), long(t.pr), long(t.dh),
                long(t.dw), long(t.groups), flags,
                path == ConvPath::ChannelPanelPairs ? " panel pairs" : "");
  bool detectedPairs = shears::uk::pairPanels();
  shears::uk::setPairPanels(path == ConvPath::ChannelPanelPairs);
  runAndCheck(std::string("shears_uk_") +
                  (sparse      ? "spconv2d_"
                   : depthwise ? "dwconv2d_"
                               : "conv2d_") +
                  isa,
              what, flags, in.data(), weights.data(), bias.data(),
              residual.data(), dims, ip, want,
              // F(4x4, 3x3)'s transforms scale values by up to 8 and 1/24:
              // about ten times F(2x2, 3x3)'s error (2.7e-4 at most here,
              // over sums of up to 576 terms of magnitude 1). Longer sums
              // (264 channels: 2376 terms) err by their square root more.
              (path == ConvPath::Winograd4 ? 1e-3 : 1e-4) *
                  std::max(1.0, std::sqrt(k / 576.0)),
              true,
              /*inPlace=*/!sparse && !depthwise);
  shears::uk::setPairPanels(detectedPairs);
}

/// maxpool2d against a naive window maximum (-inf padding); `t.cout` and
/// `t.groups` are ignored, `t.pb`/`t.pr` may run past the input (ceil mode).
void checkMaxPool(const std::string &isa, const ConvCase &t) {
  int64_t oh = (t.h + t.pt + t.pb - t.dh * (t.kh - 1) - 1) / t.sh + 1;
  int64_t ow = (t.w + t.pl + t.pr - t.dw * (t.kw - 1) - 1) / t.sw + 1;
  std::vector<float> in = random(t.n * t.c * t.h * t.w);
  std::vector<float> residual = random(t.n * t.c * oh * ow);
  std::vector<float> want(t.n * t.c * oh * ow);
  int act = (t.flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t c = 0; c < t.c; ++c)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          double m = -INFINITY;
          for (int64_t i = 0; i < t.kh; ++i)
            for (int64_t j = 0; j < t.kw; ++j) {
              int64_t iy = y * t.sh - t.pt + i * t.dh;
              int64_t ix = x * t.sw - t.pl + j * t.dw;
              if (iy >= 0 && iy < t.h && ix >= 0 && ix < t.w)
                m = std::fmax(m, in[((n * t.c + c) * t.h + iy) * t.w + ix]);
            }
          int64_t o = ((n * t.c + c) * oh + y) * ow + x;
          if (t.flags & SHEARS_UK_HAS_RESIDUAL)
            m += residual[o];
          want[o] = activate(m, act);
        }
  int64_t ip[SHEARS_UK_CONV_NUM_PARAMS] = {
      t.c,  t.h,  t.w,  t.c, t.kh, t.kw, t.sh,    t.sw, t.pt,
      t.pl, t.dh, t.dw, oh,  ow,   t.c,  t.flags, 0};
  int64_t dims[4] = {t.n, t.c, t.h, t.w};
  char what[256];
  std::snprintf(what, sizeof(what),
                "maxpool2d %s n%ld c%ld %ldx%ld k%ldx%ld s%ld,%ld "
                "p%ld,%ld,%ld,%ld d%ld,%ld flags%d",
                isa.c_str(), long(t.n), long(t.c), long(t.h), long(t.w),
                long(t.kh), long(t.kw), long(t.sh), long(t.sw), long(t.pt),
                long(t.pl), long(t.pb), long(t.pr), long(t.dh), long(t.dw),
                t.flags);
  runAndCheck("shears_uk_maxpool2d_" + isa, what, t.flags, in.data(), nullptr,
              nullptr, residual.data(), dims, ip, want, 0, true);
}

void checkGemm(const std::string &isa, int64_t m, int64_t k, int64_t n,
               bool transposed, int flags) {
  std::vector<float> a = random(m * k), b = random(k * n), bias = random(n);
  std::vector<float> residual = random(m * n), want(m * n);
  int act = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  // transposed: b is a linear weight [n, k]; else a MatMul rhs [k, n].
  int64_t strideK = transposed ? 1 : n, strideN = transposed ? k : 1;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = flags & SHEARS_UK_HAS_BIAS ? bias[j] : 0;
      for (int64_t kk = 0; kk < k; ++kk)
        sum += double(a[i * k + kk]) * b[kk * strideK + j * strideN];
      if (flags & SHEARS_UK_HAS_RESIDUAL)
        sum += residual[i * n + j];
      want[i * n + j] = activate(sum, act);
    }
  std::vector<float> packed(shears_uk_gemm_b_packed_size(k, n));
  shears_uk_pack_gemm_b(b.data(), k, n, strideK, strideN, packed.data());
  int64_t ip[SHEARS_UK_GEMM_NUM_PARAMS] = {k, n, 2, flags};
  int64_t dims[2] = {m, k};
  char what[128];
  std::snprintf(what, sizeof(what), "gemm %s %ldx%ldx%ld %s flags%d",
                isa.c_str(), long(m), long(k), long(n),
                transposed ? "linear" : "matmul", flags);
  runAndCheck("shears_uk_gemm_" + isa, what, flags, a.data(), packed.data(),
              bias.data(), residual.data(), dims, ip, want,
              1e-4 * std::sqrt(double(k)), /*outStride=*/false,
              /*inPlace=*/true);
}

/// bmm over `batch` products [m, k] x [k, n] (or, transposed, B [n, k]),
/// the batch split as [2, batch / 2] when even (A of rank 4).
void checkBmm(const std::string &isa, int64_t batch, int64_t m, int64_t k,
              int64_t n, bool transposed) {
  std::vector<float> a = random(batch * m * k), b = random(batch * k * n);
  std::vector<float> want(batch * m * n);
  int64_t strideK = transposed ? 1 : n, strideN = transposed ? k : 1;
  for (int64_t e = 0; e < batch; ++e)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t kk = 0; kk < k; ++kk)
          sum += double(a[(e * m + i) * k + kk]) *
                 b[e * k * n + kk * strideK + j * strideN];
        want[(e * m + i) * n + j] = float(sum);
      }
  bool split = batch % 2 == 0;
  int64_t rank = split ? 4 : 3;
  int64_t ip[SHEARS_UK_BMM_NUM_PARAMS] = {m, k, n, transposed, rank, 0};
  int64_t dims3[3] = {batch, m, k}, dims4[4] = {2, batch / 2, m, k};
  const float fp[SHEARS_UK_F_NUM] = {};
  char what[128];
  std::snprintf(what, sizeof(what), "bmm %s %ld x %ldx%ldx%ld%s", isa.c_str(),
                long(batch), long(m), long(k), long(n),
                transposed ? " B transposed" : "");
  runAndCheck("shears_uk_bmm_" + isa, what, {a.data(), b.data()},
              split ? dims4 : dims3, ip, fp, want, 1e-4 * std::sqrt(double(k)));
}

/// spgemm on a linear weight [n, k] with about `density` of it non-zero
/// (whole rows empty, and one full row, among them), or 2:4 sparse
/// (`density` 0.5 and `twoOfFour`: 2 of each 4 consecutive weights of a
/// row, at random), against the dense reference. With `height` x `width`
/// pixels, on planes (SHEARS_UK_SPGEMM_PLANES): a 1x1 convolution of `m`
/// NCHW images.
void checkSpGemm(const std::string &isa, int64_t m, int64_t k, int64_t n,
                 double density, int flags, bool twoOfFour = false,
                 int64_t height = 0, int64_t width = 0) {
  int64_t pixels = height * width, p = height ? pixels : 1;
  std::vector<float> a = random(m * k * p), w = random(n * k), bias = random(n);
  std::vector<float> residual = random(m * n * p), want(m * n * p);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t c = 0; c < k; ++c) {
      bool keep = row == 1 || (row % 7 != 3 && (rnd() + 1) / 2 < density);
      static const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3},
                                      {1, 2}, {1, 3}, {2, 3}};
      const int *pair = pairs[(row + c / 4) % 6]; // The group's 2 of 4.
      if (twoOfFour)
        keep = c % 4 == pair[0] || c % 4 == pair[1];
      if (!keep)
        w[row * k + c] = 0.0f;
    }
  int act = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  // Element (row i, input kk) of A and (row i, output j) of C: on planes,
  // row i is pixel i % p of image i / p.
  auto atA = [&](int64_t i, int64_t kk) {
    return (i / p * k + kk) * p + i % p;
  };
  auto atC = [&](int64_t i, int64_t j) { return (i / p * n + j) * p + i % p; };
  for (int64_t i = 0; i < m * p; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = flags & SHEARS_UK_HAS_BIAS ? bias[j] : 0;
      for (int64_t kk = 0; kk < k; ++kk)
        sum += double(a[atA(i, kk)]) * w[j * k + kk];
      if (flags & SHEARS_UK_HAS_RESIDUAL)
        sum += residual[atC(i, j)];
      want[atC(i, j)] = activate(sum, act);
    }
  std::vector<float> packed(
      shears_uk_spgemm_packed_size(w.data(), n, k));
  shears_uk_pack_spgemm(w.data(), n, k, packed.data());
  int kernelFlags = flags | (height ? SHEARS_UK_SPGEMM_PLANES : 0);
  int64_t ip[SHEARS_UK_GEMM_NUM_PARAMS] = {k, n, height ? 4 : 2, kernelFlags};
  int64_t dims[4] = {m, k, height, width};
  char what[160];
  int32_t permuted;
  std::memcpy(&permuted, packed.data(), sizeof(permuted));
  std::snprintf(
      what, sizeof(what), "spgemm %s %ldx%ldx%ld density %.2f%s flags%d%s%s",
      isa.c_str(), long(m), long(k), long(n), density,
      twoOfFour ? " (2:4)" : "", flags, permuted ? " permuted" : "",
      height
          ? (" planes " + std::to_string(height) + "x" + std::to_string(width))
                .c_str()
          : "");
  runAndCheck("shears_uk_spgemm_" + isa, what, kernelFlags, a.data(),
              packed.data(), bias.data(), residual.data(), dims, ip, want,
              1e-4 * std::sqrt(double(k)));
}

/// wqgemm on a linear weight [n, k] of int4 values in groups of `group` (or
/// binary signs, `bits` 1, a scale per output channel), against the dense
/// reference on the dequantized weight.
void checkWqGemm(const std::string &isa, int64_t m, int64_t k, int64_t n,
                 int bits, int64_t group, int flags) {
  std::vector<float> a = random(m * k), bias = random(n);
  std::vector<float> residual = random(m * n), want(m * n);
  int64_t groups = (k + group - 1) / group;
  std::vector<int8_t> q(n * k);
  std::vector<float> scale(n * groups);
  for (int64_t i = 0; i < n * k; ++i) {
    int level = int((rnd() + 1) * 8); // 0 to 15
    q[i] = bits == 4 ? int8_t(level - 8) : int8_t(level < 8 ? -1 : 1);
  }
  for (float &s : scale)
    s = (rnd() + 1.5f) / 8;
  int act = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = flags & SHEARS_UK_HAS_BIAS ? bias[j] : 0;
      for (int64_t kk = 0; kk < k; ++kk)
        sum += double(a[i * k + kk]) * q[j * k + kk] *
               scale[j * groups + kk / group];
      if (flags & SHEARS_UK_HAS_RESIDUAL)
        sum += residual[i * n + j];
      want[i * n + j] = activate(sum, act);
    }
  std::vector<uint8_t> packed(shears_uk_wqgemm_packed_size(n, k, bits));
  shears_uk_pack_wqgemm(q.data(), n, k, bits, packed.data());
  std::vector<float> scales(shears_uk_wqgemm_scales_size(n, k, group));
  shears_uk_pack_wqgemm_scales(scale.data(), n, k, group, scales.data());
  int64_t ip[SHEARS_UK_WQGEMM_NUM_PARAMS] = {k, n, 2, flags, bits, group};
  int64_t dims[2] = {m, k};
  const float fp[SHEARS_UK_F_NUM] = {-0.5f, 0.75f};
  std::vector<void *> inputs = {a.data(), packed.data(), scales.data()};
  if (flags & SHEARS_UK_HAS_BIAS)
    inputs.push_back(bias.data());
  if (flags & SHEARS_UK_HAS_RESIDUAL)
    inputs.push_back(residual.data());
  char what[128];
  std::snprintf(what, sizeof(what),
                "wqgemm %s %ldx%ldx%ld %s group %ld flags%d", isa.c_str(),
                long(m), long(k), long(n), bits == 4 ? "int4" : "binary",
                long(group), flags);
  runAndCheck("shears_uk_wqgemm_" + isa, what, inputs, dims, ip, fp, want,
              1e-4 * std::sqrt(double(k)));
}

/// One call of `kernel` on `inputs` (3 threads), the output's bytes.
std::vector<char> call(const std::string &kernel, std::vector<void *> inputs,
                       const int64_t *dims, const int64_t *ip, const float *fp,
                       size_t outputBytes) {
  std::vector<char> out(outputBytes);
  inputs.push_back(out.data());
  find(kernel)(inputs.data(), dims, ip, fp);
  return out;
}

/// The u8 forms of an integer kernel's input and output
/// (SHEARS_UK_QUANT_INPUT_U8, SHEARS_UK_QUANT_OUTPUT_U8): with its input
/// quantized beforehand it computes bitwise the same; its u8 output is its
/// f32 output quantized as Kernels.h says.
void checkQuantizedIO(const std::string &kernel, const char *what,
                      std::vector<void *> inputs, const std::vector<float> &in,
                      float aScale, float aZero, const int64_t *dims,
                      const int64_t *ip, int flagsSlot, int numParams,
                      size_t outputs) {
  const float outScale = 0.05f, outZero = 7;
  float fp[SHEARS_UK_QGEMM_F_NUM] = {-0.5f, 0.75f, aScale, aZero, outScale,
                                     outZero};
  shears_uk_set_num_threads(3);
  std::vector<char> f32 =
      call(kernel, inputs, dims, ip, fp, outputs * sizeof(float));
  std::vector<uint8_t> q(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    q[i] = uint8_t(std::fmin(
        std::fmax(std::nearbyint(double(in[i] / aScale)) + aZero, 0), 255));
  std::vector<int64_t> params(ip, ip + numParams);
  params[flagsSlot] |= SHEARS_UK_QUANT_INPUT_U8;
  std::vector<void *> byteInputs = inputs;
  byteInputs[0] = q.data();
  bool same = call(kernel, byteInputs, dims, params.data(), fp,
                   outputs * sizeof(float)) == f32;
  failures += !same;
  std::printf("%s %s: u8 input bitwise as f32 input\n", same ? "ok" : "FAIL",
              what);
  params[flagsSlot] = ip[flagsSlot] | SHEARS_UK_QUANT_OUTPUT_U8;
  std::vector<char> u8 = call(kernel, inputs, dims, params.data(), fp, outputs);
  int64_t bad = 0;
  for (size_t i = 0; i < outputs; ++i) {
    float x;
    std::memcpy(&x, f32.data() + i * sizeof(float), sizeof(float));
    double want = std::fmin(
        std::fmax(std::nearbyint(double(x / outScale)) + outZero, 0), 255);
    bad += uint8_t(u8[i]) != uint8_t(want);
  }
  failures += bad != 0;
  std::printf("%s %s: u8 output is the f32 output quantized (%ld differ)\n",
              bad ? "FAIL" : "ok", what, long(bad));
  // Both (SHEARS_UK_QUANT_OUTPUT_BOTH): the f32 output, then the u8 one,
  // each bitwise what the kernel writes alone.
  params[flagsSlot] = ip[flagsSlot] | SHEARS_UK_QUANT_OUTPUT_BOTH;
  std::vector<char> bothF32(outputs * sizeof(float)), bothU8(outputs);
  std::vector<void *> bothInputs = inputs;
  bothInputs.push_back(bothF32.data());
  bothInputs.push_back(bothU8.data());
  find(kernel)(bothInputs.data(), dims, params.data(), fp);
  same = bothF32 == f32 && bothU8 == u8;
  failures += !same;
  std::printf("%s %s: both outputs bitwise as each alone\n",
              same ? "ok" : "FAIL", what);
}

/// A random int8 weight; with SHEARS_UK_QUANT_NARROW_WEIGHTS in `flags`,
/// within [-64, 64] and often at either end (the bound of vpmaddubsw's
/// exact 16-bit pairs, with inputs of 255).
int8_t randomWeight(int flags) {
  if (!(flags & SHEARS_UK_QUANT_NARROW_WEIGHTS))
    return static_cast<int8_t>(std::lround(rnd() * 127));
  return static_cast<int8_t>(std::clamp(std::lround(rnd() * 96), -64L, 64L));
}

/// qgemm against integer loops: A quantized as Kernels.h says (values past
/// the range saturate), exact integer sums, then the f32 epilogue.
void checkQGemm(const std::string &isa, int64_t m, int64_t k, int64_t n,
                int flags) {
  float aScale = 2.0f / 255, aZero = 120;
  std::vector<float> a = random(m * k), scale(n), bias = random(n);
  std::vector<float> residual = random(m * n), want(m * n), sums(n);
  for (float &x : a)
    x *= 1.2f;
  std::vector<int8_t> b(k * n); // A linear weight [n, k].
  for (int8_t &x : b)
    x = randomWeight(flags);
  for (float &s : scale)
    s = (rnd() + 1.5f) * 1e-3f;
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk)
      sums[j] += b[j * k + kk];
  bool dynamic = flags & SHEARS_UK_QGEMM_DYNAMIC;
  if (dynamic) {
    // ONNX DynamicQuantizeLinear: the range of A, widened to hold 0.
    float lo = 0, hi = 0;
    for (float x : a) {
      lo = std::fmin(lo, x);
      hi = std::fmax(hi, x);
    }
    aScale = (hi - lo) / 255.0f;
    aZero = std::fmin(std::fmax(std::nearbyint(-lo / aScale), 0.0f), 255.0f);
  }
  int act = (flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t sum = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        double q = std::nearbyint(double(a[i * k + kk] / aScale)) + aZero;
        sum += int64_t(std::fmin(std::fmax(q, 0), 255)) * b[j * k + kk];
      }
      double x = dynamic ? (double(sum) - aZero * sums[j]) * aScale * scale[j] +
                               bias[j]
                         : double(float(sum)) * scale[j] + bias[j];
      if (flags & SHEARS_UK_HAS_RESIDUAL)
        x += residual[i * n + j];
      want[i * n + j] = activate(x, act);
    }
  std::vector<int8_t> packed(shears_uk_qgemm_b_packed_size(k, n));
  shears_uk_pack_qgemm_b(b.data(), k, n, 1, k, packed.data());
  int64_t ip[SHEARS_UK_GEMM_NUM_PARAMS] = {k, n, 2,
                                           flags | SHEARS_UK_HAS_BIAS};
  const float fp[SHEARS_UK_QGEMM_F_NUM] = {-0.5f, 0.75f, aScale, aZero, 1, 0};
  int64_t dims[2] = {m, k};
  std::vector<void *> inputs = {a.data(), packed.data(), scale.data()};
  if (dynamic)
    inputs.push_back(sums.data());
  inputs.push_back(bias.data());
  if (flags & SHEARS_UK_HAS_RESIDUAL)
    inputs.push_back(residual.data());
  char what[128];
  std::snprintf(what, sizeof(what), "qgemm %s %ldx%ldx%ld flags%d",
                isa.c_str(), long(m), long(k), long(n), flags);
  // The integer sums are exact: what differs is the rounding of the f32
  // multiply-add (fused or not), an ulp of the largest output.
  double largest = 0;
  for (float x : want)
    largest = std::fmax(largest, std::fabs(x));
  // Dynamic: the epilogue's order of operations differs from the
  // reference's (in f32, not double): a few ulps.
  runAndCheck("shears_uk_qgemm_" + isa, what, inputs, dims, ip, fp, want,
              largest * (dynamic ? 1e-6 : 2e-7));
  if (!dynamic)
    checkQuantizedIO("shears_uk_qgemm_" + isa, what, inputs, a, aScale, aZero,
                     dims, ip, SHEARS_UK_GEMM_FLAGS, SHEARS_UK_GEMM_NUM_PARAMS,
                     m * n);
}

/// qconv2d's reference: the input quantized (scale `aScale`, zero point
/// `aZero`), exact integer sums, then scale, bias, residual and activation.
SHEARS_UNSANITIZED void referenceQConv(const ConvCase &t, int64_t oh,
                                       int64_t ow, float aScale, float aZero,
                                       const float *in, const int8_t *filter,
                                       const float *scale, const float *bias,
                                       const float *residual, float *want) {
  int act = (t.flags & SHEARS_UK_ACT_MASK) >> SHEARS_UK_ACT_SHIFT;
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t o = 0; o < t.cout; ++o)
      for (int64_t y = 0; y < oh; ++y)
        for (int64_t x = 0; x < ow; ++x) {
          int64_t sum = 0;
          for (int64_t c = 0; c < t.c; ++c)
            for (int64_t i = 0; i < t.kh; ++i)
              for (int64_t j = 0; j < t.kw; ++j) {
                int64_t iy = y * t.sh - t.pt + i * t.dh;
                int64_t ix = x * t.sw - t.pl + j * t.dw;
                int64_t q = int64_t(aZero);
                if (iy >= 0 && iy < t.h && ix >= 0 && ix < t.w) {
                  double v =
                      std::nearbyint(double(
                          in[((n * t.c + c) * t.h + iy) * t.w + ix] / aScale)) +
                      aZero;
                  q = int64_t(std::fmin(std::fmax(v, 0), 255));
                }
                sum += q * filter[((o * t.c + c) * t.kh + i) * t.kw + j];
              }
          int64_t index = ((n * t.cout + o) * oh + y) * ow + x;
          double v = double(float(sum)) * scale[o] + bias[o];
          if (t.flags & SHEARS_UK_HAS_RESIDUAL)
            v += residual[index];
          want[index] = activate(v, act);
        }
}

/// qconv2d against integer loops: the input quantized as Kernels.h says
/// (padding reads the zero point), exact integer sums, the f32 epilogue.
void checkQConv(const std::string &isa, const ConvCase &t) {
  const float aScale = 2.0f / 255, aZero = 120;
  int64_t oh = (t.h + t.pt + t.pb - t.dh * (t.kh - 1) - 1) / t.sh + 1;
  int64_t ow = (t.w + t.pl + t.pr - t.dw * (t.kw - 1) - 1) / t.sw + 1;
  std::vector<float> in = random(t.n * t.c * t.h * t.w), scale(t.cout);
  std::vector<float> bias = random(t.cout);
  std::vector<float> residual = random(t.n * t.cout * oh * ow);
  std::vector<float> want(t.n * t.cout * oh * ow);
  for (float &x : in)
    x *= 1.2f;
  std::vector<int8_t> filter(t.cout * t.c * t.kh * t.kw);
  for (int8_t &x : filter)
    x = randomWeight(t.flags);
  for (float &s : scale)
    s = (rnd() + 1.5f) * 1e-3f;
  referenceQConv(t, oh, ow, aScale, aZero, in.data(), filter.data(),
                 scale.data(), bias.data(), residual.data(), want.data());
  std::vector<int8_t> packed(
      shears_uk_qconv_filter_packed_size(t.cout, t.c, t.kh, t.kw));
  shears_uk_pack_qconv_filter(filter.data(), t.cout, t.c, t.kh, t.kw,
                              packed.data());
  int64_t ip[SHEARS_UK_CONV_NUM_PARAMS] = {
      t.c,  t.h,  t.w,  t.cout, t.kh, t.kw, t.sh, t.sw,
      t.pt, t.pl, t.dh, t.dw,   oh,   ow,   1,    t.flags | SHEARS_UK_HAS_BIAS};
  const float fp[SHEARS_UK_QGEMM_F_NUM] = {-0.5f, 0.75f, aScale, aZero, 1, 0};
  int64_t dims[4] = {t.n, t.c, t.h, t.w};
  std::vector<void *> inputs = {in.data(), packed.data(), scale.data(),
                                bias.data()};
  if (t.flags & SHEARS_UK_HAS_RESIDUAL)
    inputs.push_back(residual.data());
  double largest = 0;
  for (float x : want)
    largest = std::fmax(largest, std::fabs(x));
  char what[160];
  std::snprintf(what, sizeof(what),
                "qconv2d %s n%ld c%ld %ldx%ld -> %ld k%ldx%ld s%ldx%ld "
                "d%ldx%ld flags%d",
                isa.c_str(), long(t.n), long(t.c), long(t.h), long(t.w),
                long(t.cout), long(t.kh), long(t.kw), long(t.sh), long(t.sw),
                long(t.dh), long(t.dw), t.flags);
  runAndCheck("shears_uk_qconv2d_" + isa, what, inputs, dims, ip, fp, want,
              largest * 2e-7);
  checkQuantizedIO("shears_uk_qconv2d_" + isa, what, inputs, in, aScale, aZero,
                   dims, ip, SHEARS_UK_CONV_FLAGS, SHEARS_UK_CONV_NUM_PARAMS,
                   want.size());
}

} // namespace

int main() {
  // Threads on every shape, however small, so that 3 threads really split.
  shears::uk::setMinWorkPerThread(0);
  const int relu = SHEARS_UK_ACT_RELU << SHEARS_UK_ACT_SHIFT;
  const int clip = SHEARS_UK_ACT_CLIP << SHEARS_UK_ACT_SHIFT;
  const int bias = SHEARS_UK_HAS_BIAS, res = SHEARS_UK_HAS_RESIDUAL;
  std::vector<std::string> isas = {"generic"};
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isas.push_back("avx2");
  else
    std::printf("skipped avx2: this CPU has no AVX2/FMA\n");
  if (__builtin_cpu_supports("avx512f"))
    isas.push_back("avx512");
  else
    std::printf("skipped avx512: this CPU has no AVX-512\n");
  const ConvCase convs[] = {
      // n  c   h   w  cout kh kw sh sw pt pl pb pr dh dw g  flags
      {1, 3, 11, 13, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      {2, 16, 9, 9, 24, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      {1, 5, 17, 15, 9, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, bias},
      {1, 40, 8, 7, 17, 3, 3, 1, 2, 0, 1, 2, 1, 2, 1, 1, res | clip},
      {1, 8, 6, 6, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4, bias | clip},
      {1, 64, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias}, // 3 k-blocks
      {1, 32, 10, 10, 8, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, 0},
      {2, 12, 13, 11, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 12, bias | clip},
      {1, 7, 12, 12, 7, 3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 7, res | relu},
      {1, 5, 9, 10, 5, 5, 5, 1, 2, 2, 2, 2, 2, 2, 1, 5, bias},
      // Depthwise 3x3 straight from the input (AVX-512): tall planes split
      // into row tasks, ragged vectors, stride 2 with odd sizes, no and
      // uneven padding.
      {1, 3, 40, 37, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, bias | res | clip},
      {2, 5, 23, 35, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5, bias | relu},
      {1, 4, 9, 20, 4, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 4, res},
      {1, 6, 14, 14, 6, 3, 3, 2, 2, 0, 1, 1, 0, 1, 1, 6, bias | clip},
      {1, 4, 11, 12, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 4, bias | clip},
      // Stride 2 onto rows of at most 7 outputs, two output rows a vector
      // (AVX-512): two images (the tensor's first and last planes load
      // masked), an odd number of rows, padding of two (columns past the
      // row zeroed in the lanes).
      {2, 10, 13, 11, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 10, bias | res | clip},
      {1, 5, 12, 12, 5, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 5, bias | relu},
      // ... and planes of 3x2, whose rows' loads reach several planes on.
      {1, 9, 3, 2, 9, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 9, bias},
      // Stride 2 over planes past 32 KiB, walked by rows of output vectors:
      // ragged last vector, uneven padding.
      {1, 3, 97, 95, 3, 3, 3, 2, 2, 1, 0, 0, 1, 1, 1, 3, bias | res | relu},
      // Depthwise 3x3 over small planes of the input's size, each plane one
      // flat run of vectors (AVX-512): 7x7 (4 vectors, ragged), 8 rows of
      // 5, padding only at the bottom and the left.
      {2, 20, 7, 7, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 20, bias | res | clip},
      {1, 16, 8, 5, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, bias | relu},
      {1, 12, 6, 8, 12, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1, 12, res},
      // Stride 2 over rows long enough for vector gathers (a stem).
      {1, 3, 70, 70, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, bias | relu},
      // Unit strides with dilation and uneven padding; several row bands.
      {1, 6, 10, 9, 11, 3, 3, 1, 1, 2, 1, 2, 0, 2, 2, 1, bias | res | relu},
      {1, 64, 56, 56, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      // Stride 2 over parity planes (direct on AVX-512): odd sizes and
      // uneven padding, several bands of a 56x56 image.
      {1, 16, 57, 55, 24, 3, 3, 2, 2, 1, 1, 0, 1, 1, 1, 1, bias | res | relu},
      {2, 64, 56, 56, 40, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      // Pixel blocks across images (1x1: packed, not read in place).
      {3, 20, 5, 10, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      // Two pixel blocks, 2 k-blocks, ragged channel panels and row tiles.
      {2, 40, 12, 12, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | res | relu},
      // Channels in blocks of 64 (AMX where the CPU has it): two blocks,
      // strides, dilation, ragged strips of 16 pixels and channel panels.
      {1, 128, 9, 11, 40, 3, 3, 2, 1, 1, 1, 1, 1, 1, 2, 1, bias | res | relu},
      {2, 64, 13, 17, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      // One word a pixel (3 channels), dilated along x: a tap per filter
      // position over rows of taps padded to 16.
      {1, 3, 12, 14, 10, 3, 3, 1, 1, 2, 2, 2, 2, 1, 2, 1, bias | relu},
      // Channel panels read from the slice: pixel blocks of part of an
      // image (its C^T past 256 KiB), runs of a row split in tiles of 14.
      {2, 8, 40, 40, 300, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | res | relu},
      // A strided 1x1 over rows of more than 16 outputs, padded, odd sizes.
      {1, 9, 41, 37, 20, 1, 1, 2, 2, 1, 1, 0, 1, 1, 1, 1, bias | relu},
      // Strided 1x1s whose columns are found once a panel group: no
      // padding over two images (15x17: a ragged last panel), and stride 3
      // with uneven padding.
      {2, 24, 29, 33, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      {1, 10, 20, 22, 16, 1, 1, 3, 3, 1, 0, 1, 2, 1, 1, 1, bias},
      // Channel panels over runs of at most 7 pixels: tiles of two panels
      // and a ragged third (stride 1 onto 7x7, stride 2 onto 6x7).
      {2, 40, 7, 7, 70, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | res | relu},
      {1, 24, 12, 14, 72, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      // A 1x1 with a long reduction: whole panels read in place (and
      // prefetched past the plane's end), k-blocks of 150 over pixel
      // panels and of 300 over channel panels.
      {2, 600, 10, 12, 20, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      // A 1x1 whose reduction (200: two k-blocks) runs each pixel panel
      // over every filter row block (kPanelsOuterMinK): groups of panels,
      // a ragged last panel (930 pixels) and row block (44 rows).
      {1, 200, 30, 31, 44, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      // Winograd over uneven padding (no top, two at the left), an odd
      // output height: tiles past the last row and column.
      {1, 20, 9, 10, 17, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1, 1, res | clip},
      // Winograd with a transformed filter over 1 MiB and few tile blocks:
      // on more than one thread, chunks of panels over every block.
      {2, 160, 7, 9, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | res | relu},
      // Winograd with a transformed filter over 2 L2 budgets (1.1 MiB):
      // blocks of 7 and 1 tile rows, a ragged channel panel.
      {1, 264, 16, 30, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      // One task a thread on 2 threads, split by the threads' speeds
      // (runAndCheck's skewed splits): channel panels over two pixel blocks
      // of one image read in place, packed (1x1 stride 2) and from a
      // stride-2 slice (225 pixels against blocks of up to 218), one sliced
      // block's pixels (196), and Winograd's chunks of panels over its one
      // tile block.
      {1, 24, 14, 14, 40, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, bias | res | relu},
      {1, 32, 27, 27, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1, bias | relu},
      {1, 16, 30, 30, 300, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, bias | res | relu},
      {1, 32, 28, 28, 64, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, bias | relu},
      {1, 160, 7, 9, 100, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, bias | relu},
  };
  for (const std::string &isa : isas) {
    for (const ConvCase &c : convs) {
      checkConv(isa, c, ConvPath::RowBlocks);
      int64_t ow = (c.w + c.pl + c.pr - c.dw * (c.kw - 1) - 1) / c.sw + 1;
      if (!(c.groups > 1 && c.groups == c.c && c.groups == c.cout)) {
        checkConv(isa, c, ConvPath::ChannelPanels);
        if (ow <= 7) // Runs short enough for tiles of two panels.
          checkConv(isa, c, ConvPath::ChannelPanelPairs);
      }
      if (c.groups == 1)
        checkConv(isa, c, ConvPath::Sparse);
      if (c.groups == 1 && c.kh == 3 && c.kw == 3 && c.sh == 1 && c.sw == 1 &&
          c.dh == 1 && c.dw == 1) {
        checkConv(isa, c, ConvPath::Winograd);
        checkConv(isa, c, ConvPath::Winograd4);
      }
    }
    const ConvCase pools[] = {
        // n c  h   w  - kh kw sh sw pt pl pb pr dh dw -  flags
        {1, 3, 13, 11, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, 0},
        {2, 5, 28, 28, 0, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0, relu},
        {1, 4, 112, 112, 0, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1, 0, 0}, // ceil mode
        {2, 3, 99, 93, 0, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0, res | relu}, // rows
        {1, 2, 9, 10, 0, 3, 2, 1, 3, 1, 0, 1, 2, 2, 1, 0, res | clip},
        {1, 6, 27, 35, 0, 2, 2, 2, 2, 0, 0, 1, 1, 1, 1, 0, res | relu}, // ceil
        {2, 9, 7, 7, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0, res}, // flat planes
    };
    for (const ConvCase &p : pools)
      checkMaxPool(isa, p);
    checkGemm(isa, 1, 784, 300, true, bias | relu);
    checkGemm(isa, 8, 300, 100, true, bias | clip);
    checkGemm(isa, 37, 600, 70, false, res);
    checkGemm(isa, 13, 5, 129, false, bias | res | relu);
    checkGemm(isa, 2, 33, 200, true, 0);
    // Batched: attention's shapes (17 tokens, heads of 16), row blocks past
    // kGemmMC, several k-blocks, a batch of one, ragged panels.
    checkBmm(isa, 32, 17, 16, 17, true);
    checkBmm(isa, 32, 17, 17, 16, false);
    checkBmm(isa, 3, 130, 600, 33, false);
    checkBmm(isa, 1, 5, 3, 70, true);
    checkBmm(isa, 6, 1, 64, 129, true);
    // Sparse: the blocks walk (up to 12 rows with AVX-512, 7 without, in
    // groups of up to 4; ragged slices and blocks), tiles of 1, 2 and 4
    // vectors (ragged rows), several tiles, a row of zeros only; rows
    // reordered by length or not ("permuted").
    checkSpGemm(isa, 1, 784, 300, 0.1, bias | relu);
    checkSpGemm(isa, 3, 37, 19, 0.3, bias | res | clip);
    checkSpGemm(isa, 4, 50, 33, 0.3, bias | relu);
    checkSpGemm(isa, 5, 100, 70, 0.2, bias | relu);
    checkSpGemm(isa, 20, 300, 100, 0.1, res);
    checkSpGemm(isa, 64, 784, 300, 0.1, bias | relu);
    checkSpGemm(isa, 150, 33, 41, 0.5, bias | res | relu);
    checkSpGemm(isa, 7, 9, 5, 0.0, bias);
    checkSpGemm(isa, 2, 128, 200, 0.1, bias | res | relu);
    checkSpGemm(isa, 1, 40, 20, 0.3, res | clip);
    checkSpGemm(isa, 8, 60, 45, 0.2, bias | relu);
    checkSpGemm(isa, 12, 70, 50, 0.2, bias | res | relu);
    checkSpGemm(isa, 13, 70, 50, 0.2, bias | res | relu);
    // 2:4 (no padding in slices or blocks): both walks.
    checkSpGemm(isa, 64, 96, 40, 0.5, bias | res | relu, true);
    checkSpGemm(isa, 9, 200, 33, 0.5, clip, true);
    checkSpGemm(isa, 1, 200, 33, 0.5, bias, true);
    // 2:4 whose transposed tile outgrows L1: the panel walk, with a
    // partial last block and slice, a partial tile, and more outputs than
    // one chunk's sums hold.
    checkSpGemm(isa, 64, 300, 99, 0.5, bias | res | relu, true);
    checkSpGemm(isa, 20, 784, 40, 0.5, bias | clip, true);
    checkSpGemm(isa, 64, 160, 1100, 0.5, res | relu, true);
    // On planes: whole tiles of 4, 2 and 1 vectors, partial ones, a
    // plane narrower than a vector, several images.
    checkSpGemm(isa, 1, 64, 40, 0.1, bias | relu, false, 8, 8);
    checkSpGemm(isa, 2, 37, 19, 0.3, bias | res | clip, false, 7, 9);
    checkSpGemm(isa, 3, 50, 33, 0.2, res | relu, false, 3, 3);
    checkSpGemm(isa, 2, 20, 70, 0.2, bias, false, 5, 6);
    checkSpGemm(isa, 1, 96, 40, 0.5, bias | res | relu, true, 14, 14);
    // Weight-only int4 and binary: the direct walk (a batch of one, up to 7
    // rows) and the staged one (8 rows on; several k-blocks, a direct
    // block after a staged one), ragged panels and row tiles, odd K in one
    // group and in the last group.
    checkWqGemm(isa, 1, 784, 300, 4, 64, bias | relu);
    checkWqGemm(isa, 3, 100, 10, 4, 32, bias | res | clip);
    checkWqGemm(isa, 70, 130, 70, 4, 128, res | relu);
    checkWqGemm(isa, 5, 33, 17, 4, 33, bias);
    checkWqGemm(isa, 2, 65, 40, 4, 64, 0);
    checkWqGemm(isa, 8, 300, 100, 4, 64, bias | res | relu);
    checkWqGemm(isa, 13, 129, 20, 4, 129, res);
    checkWqGemm(isa, 1, 784, 300, 1, 784, bias | relu);
    checkWqGemm(isa, 9, 37, 51, 1, 37, bias | res | clip);
    checkWqGemm(isa, 20, 257, 33, 1, 257, bias | relu);
    checkQGemm(isa, 1, 784, 300, relu);
    checkQGemm(isa, 30, 301, 70, res | clip);
    checkQGemm(isa, 130, 64, 33, relu);
    checkQGemm(isa, 5, 3, 1, 0);
    checkQGemm(isa, 1, 784, 300, relu | SHEARS_UK_QGEMM_DYNAMIC);
    checkQGemm(isa, 30, 301, 70, res | SHEARS_UK_QGEMM_DYNAMIC);
    // Weights in [-64, 64] (vpmaddubsw on AVX2): every row tile size.
    const int narrow = SHEARS_UK_QUANT_NARROW_WEIGHTS;
    checkQGemm(isa, 1, 784, 300, relu | narrow);
    checkQGemm(isa, 130, 301, 70, res | clip | narrow);
    checkQGemm(isa, 11, 64, 33, narrow | SHEARS_UK_QGEMM_DYNAMIC);
    // (Only the AVX2 variant reads the flag: a tile of its own.)
    for (const ConvCase &c : convs)
      if (c.groups == 1) {
        checkQConv(isa, c);
        ConvCase narrowCase = c;
        narrowCase.flags |= narrow;
        if (isa == "avx2")
          checkQConv(isa, narrowCase);
      }
  }
  std::printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
