//===- Pack.cpp - Packed layouts of constant weights ----------------------===//
//
// The layouts of include/shears-c/Kernels.h, written once: the compiler packs
// weights with these at compile time, the kernels read them.
//
//===----------------------------------------------------------------------===//

#include "shears-c/Kernels.h"

#include <stdlib.h>
#include <string.h>

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

extern "C" int64_t shears_uk_conv_filter_packed_size(int64_t cout, int64_t k,
                                                     int64_t groups) {
  return groups * ceilDiv(cout / groups, SHEARS_UK_CONV_MR) * k *
         SHEARS_UK_CONV_MR;
}

extern "C" void shears_uk_pack_conv_filter(const float *filter, int64_t cout,
                                           int64_t k, int64_t groups,
                                           float *packed) {
  const int64_t mr = SHEARS_UK_CONV_MR;
  int64_t mg = cout / groups, blocks = ceilDiv(mg, mr);
  memset(packed, 0,
         shears_uk_conv_filter_packed_size(cout, k, groups) * sizeof(float));
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t m = 0; m < mg; ++m) {
      const float *row = filter + (g * mg + m) * k;
      float *block = packed + (g * blocks + m / mr) * k * mr + m % mr;
      for (int64_t kk = 0; kk < k; ++kk)
        block[kk * mr] = row[kk];
    }
}

extern "C" int64_t shears_uk_conv_filter_panels_packed_size(int64_t cout,
                                                            int64_t k,
                                                            int64_t groups) {
  return groups * shears_uk_gemm_b_packed_size(k, cout / groups);
}

extern "C" void shears_uk_pack_conv_filter_panels(const float *filter,
                                                  int64_t cout, int64_t k,
                                                  int64_t groups,
                                                  float *packed) {
  // Group g's rows [g*Mg, (g+1)*Mg) are a linear weight [Mg, K].
  int64_t mg = cout / groups, size = shears_uk_gemm_b_packed_size(k, mg);
  for (int64_t g = 0; g < groups; ++g)
    shears_uk_pack_gemm_b(filter + g * mg * k, k, mg, 1, k, packed + g * size);
}

extern "C" int64_t
shears_uk_winograd_filter_packed_size(int64_t cout, int64_t c, int64_t tile) {
  return (tile + 2) * (tile + 2) * shears_uk_gemm_b_packed_size(c, cout);
}

extern "C" void shears_uk_pack_winograd_filter(const float *filter,
                                               int64_t cout, int64_t c,
                                               int64_t tile, float *packed) {
  static const double g2[4][3] = {
      {1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static const double g4[6][3] = {{1.0 / 4, 0, 0},
                                  {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                  {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                  {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                  {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                  {0, 0, 1}};
  const int t = tile == 4 ? 6 : 4;
  auto g = [&](int a, int k) { return tile == 4 ? g4[a][k] : g2[a][k]; };
  // U_ab (ab = a * T + b) as B = U_ab^T [C, Cout] in GEMM panels:
  // packed[ab][m / NR][c][m % NR]; (G f G^T)[a][b] in double.
  const int64_t nr = SHEARS_UK_GEMM_NR;
  int64_t size = shears_uk_gemm_b_packed_size(c, cout);
  memset(packed, 0, t * t * size * sizeof(float));
  for (int64_t m = 0; m < cout; ++m)
    for (int64_t ch = 0; ch < c; ++ch) {
      const float *f = filter + (m * c + ch) * 9;
      double gf[6][3] = {};
      for (int a = 0; a < t; ++a)
        for (int v = 0; v < 3; ++v)
          for (int k = 0; k < 3; ++k)
            gf[a][v] += g(a, k) * f[k * 3 + v];
      float *dst = packed + ((m / nr) * c + ch) * nr + m % nr;
      for (int a = 0; a < t; ++a)
        for (int b = 0; b < t; ++b) {
          double x = 0;
          for (int v = 0; v < 3; ++v)
            x += gf[a][v] * g(b, v);
          dst[(a * t + b) * size] = static_cast<float>(x);
        }
    }
}

/// Groups of 4 k in a packed qgemm B: K padded to a multiple of 64.
extern "C" int64_t shears_uk_qgemm_groups(int64_t k) {
  return ceilDiv(k, 64) * 16;
}

extern "C" int64_t shears_uk_qgemm_b_packed_size(int64_t k, int64_t n) {
  return ceilDiv(n, SHEARS_UK_GEMM_NR) * shears_uk_qgemm_groups(k) *
         SHEARS_UK_GEMM_NR * 4;
}

extern "C" void shears_uk_pack_qgemm_b(const int8_t *b, int64_t k, int64_t n,
                                       int64_t strideK, int64_t strideN,
                                       int8_t *packed) {
  const int64_t nr = SHEARS_UK_GEMM_NR, groups = shears_uk_qgemm_groups(k);
  memset(packed, 0, shears_uk_qgemm_b_packed_size(k, n));
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t j = 0; j < n; ++j)
      packed[(((j / nr) * groups + kk / 4) * nr + j % nr) * 4 + kk % 4] =
          b[kk * strideK + j * strideN];
}

/// Taps of a filter row in a packed qconv2d filter: with one word a pixel
/// (at most 4 channels), padded to a multiple of 16 (Kernels.h).
extern "C" int64_t shears_uk_qconv_row_taps(int64_t c, int64_t kw) {
  return ceilDiv(c, 4) == 1 ? ceilDiv(kw, 16) * 16 : kw;
}

extern "C" int64_t shears_uk_qconv_filter_packed_size(int64_t cout, int64_t c,
                                                      int64_t kh, int64_t kw) {
  return ceilDiv(cout, SHEARS_UK_GEMM_NR) * kh *
         shears_uk_qconv_row_taps(c, kw) * ceilDiv(c, 4) * SHEARS_UK_GEMM_NR *
         4;
}

extern "C" void shears_uk_pack_qconv_filter(const int8_t *filter, int64_t cout,
                                            int64_t c, int64_t kh, int64_t kw,
                                            int8_t *packed) {
  const int64_t nr = SHEARS_UK_GEMM_NR, cq = ceilDiv(c, 4);
  const int64_t rowTaps = shears_uk_qconv_row_taps(c, kw);
  memset(packed, 0, shears_uk_qconv_filter_packed_size(cout, c, kh, kw));
  for (int64_t o = 0; o < cout; ++o)
    for (int64_t ci = 0; ci < c; ++ci)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          packed[((((o / nr) * kh + y) * rowTaps + x) * cq + ci / 4) * nr * 4 +
                 (o % nr) * 4 + ci % 4] = filter[((o * c + ci) * kh + y) * kw + x];
}

extern "C" int64_t shears_uk_spgemm_nonzeros(const float *w, int64_t n,
                                             int64_t k) {
  int64_t count = 0;
  for (int64_t i = 0; i < n * k; ++i)
    count += w[i] != 0.0f;
  return count;
}

/// Rows of w [n, k] in spgemm's order (most non-zeros first, then by
/// index) into order[n], their non-zeros into length[n] (by row): a
/// counting sort by length, which keeps the order of equal rows. False when
/// out of memory (the library has no C++ runtime).
static bool sortRows(const float *w, int64_t n, int64_t k, int64_t *length,
                     int64_t *order) {
  // Rows of each key k - length (ascending key: descending length), then
  // where each key's rows start.
  int64_t *start = static_cast<int64_t *>(calloc(k + 2, sizeof(int64_t)));
  if (!start)
    return false;
  for (int64_t row = 0; row < n; ++row) {
    length[row] = 0;
    for (int64_t c = 0; c < k; ++c)
      length[row] += w[row * k + c] != 0.0f;
    ++start[k - length[row] + 1];
  }
  for (int64_t key = 1; key <= k + 1; ++key)
    start[key] += start[key - 1];
  for (int64_t row = 0; row < n; ++row)
    order[start[k - length[row]]++] = row;
  free(start);
  return true;
}

/// spgemm's layout of w [n, k] (Kernels.h): length[n] the rows' non-zeros,
/// order[n] the rows at each position, and its SLOTS; rows are reordered
/// (`permuted`) only where that saves more than kPermuteEntries padding
/// entries an output: each output then goes to its column through the
/// order, one by one, which costs about as much (bench/sparse.py --kernels:
/// 784x300 at 10% gains, 128x10000 at 10%, whose rows are 13 long, loses
/// 1.5x at batch 64). False when out of memory.
static bool planSpGemm(const float *w, int64_t n, int64_t k, int64_t *length,
                       int64_t *order, int64_t &slots, bool &permuted) {
  const int64_t rows = SHEARS_UK_SPGEMM_SLICE, kPermuteEntries = 8;
  if (!sortRows(w, n, k, length, order))
    return false;
  int64_t sorted = 0, unsorted = 0;
  for (int64_t i = 0; i < n; i += rows) {
    sorted += length[order[i]]; // A slice's first row is its longest.
    int64_t longest = 0;
    for (int64_t row = i; row < n && row < i + rows; ++row)
      longest = length[row] > longest ? length[row] : longest;
    unsorted += longest;
  }
  permuted = rows * (unsorted - sorted) > kPermuteEntries * n;
  slots = permuted ? sorted : unsorted;
  for (int64_t i = 0; !permuted && i < n; ++i)
    order[i] = i;
  return true;
}

/// Non-zeros of w [n, k] in columns [b * B, (b + 1) * B) of `row`, with
/// B = SHEARS_UK_SPGEMM_BLOCK.
static int64_t blockNonzeros(const float *w, int64_t k, int64_t row,
                             int64_t b) {
  const int64_t width = SHEARS_UK_SPGEMM_BLOCK;
  int64_t count = 0;
  for (int64_t c = b * width; c < k && c < (b + 1) * width; ++c)
    count += w[row * k + c] != 0.0f;
  return count;
}

/// Slots of block b of the slice at positions [first, first + S) of
/// `order`: as many as its row with the most non-zeros there has.
static int64_t blockWidth(const float *w, int64_t n, int64_t k,
                          const int64_t *order, int64_t first, int64_t b) {
  int64_t widest = 0;
  for (int64_t i = first; i < n && i < first + SHEARS_UK_SPGEMM_SLICE; ++i) {
    int64_t count = blockNonzeros(w, k, order[i], b);
    widest = count > widest ? count : widest;
  }
  return widest;
}

/// BLOCK_SLOTS (Kernels.h) of w with its rows at positions `order`.
static int64_t blockSlots(const float *w, int64_t n, int64_t k,
                          const int64_t *order) {
  int64_t blocks = (k + SHEARS_UK_SPGEMM_BLOCK - 1) / SHEARS_UK_SPGEMM_BLOCK;
  int64_t slots = 0;
  for (int64_t first = 0; first < n; first += SHEARS_UK_SPGEMM_SLICE)
    for (int64_t b = 0; b < blocks; ++b)
      slots += blockWidth(w, n, k, order, first, b);
  return slots;
}

extern "C" int64_t shears_uk_spgemm_packed_size(const float *w, int64_t n,
                                                int64_t k) {
  const int64_t rows = SHEARS_UK_SPGEMM_SLICE;
  int64_t slices = (n + rows - 1) / rows;
  int64_t blocks = (k + SHEARS_UK_SPGEMM_BLOCK - 1) / SHEARS_UK_SPGEMM_BLOCK;
  int64_t *length = static_cast<int64_t *>(malloc(2 * n * sizeof(int64_t)));
  int64_t slots, size = -1;
  bool permuted;
  if (length && planSpGemm(w, n, k, length, length + n, slots, permuted))
    size = 1 + slices + 1 + slices * rows + 2 * slots * rows + // Slices.
           slices * blocks + 1 +
           blockSlots(w, n, k, length + n) * (rows / 4 + rows); // Blocks.
  free(length);
  return size;
}

/// Lane `lane` of slots [slot, slot + width) of a slice: the non-zeros of
/// `row` of w (none where it is negative) in columns [c0, c1), each as its
/// column less c0 in `index` and its value in `value`, then padding (index
/// 0, value 0).
template <typename Index>
static void fillLane(const float *w, int64_t k, int64_t row, int64_t c0,
                     int64_t c1, int64_t lane, int64_t slot, int64_t width,
                     Index *index, float *value) {
  const int64_t rows = SHEARS_UK_SPGEMM_SLICE;
  int64_t s = 0;
  for (int64_t c = c0; row >= 0 && c < c1; ++c) {
    float v = w[row * k + c];
    if (v == 0.0f)
      continue;
    index[(slot + s) * rows + lane] = static_cast<Index>(c - c0);
    value[(slot + s) * rows + lane] = v;
    ++s;
  }
  for (; s < width; ++s) {
    index[(slot + s) * rows + lane] = 0;
    value[(slot + s) * rows + lane] = 0.0f;
  }
}

extern "C" void shears_uk_pack_spgemm(const float *w, int64_t n, int64_t k,
                                      float *packed) {
  const int64_t rows = SHEARS_UK_SPGEMM_SLICE;
  int64_t slices = (n + rows - 1) / rows;
  int64_t *length = static_cast<int64_t *>(malloc(2 * n * sizeof(int64_t)));
  int64_t *order = length + n, slots;
  bool permuted;
  if (!length || !planSpGemm(w, n, k, length, order, slots, permuted)) {
    free(length);
    return;
  }
  int32_t flag = permuted;
  memcpy(packed, &flag, sizeof(flag));
  ++packed;
  int32_t *sliceStart = reinterpret_cast<int32_t *>(packed);
  int32_t *rowOf = sliceStart + slices + 1;
  int32_t *column = rowOf + slices * rows;
  float *value = reinterpret_cast<float *>(column + slots * rows);
  int64_t slot = 0;
  for (int64_t slice = 0; slice < slices; ++slice) {
    sliceStart[slice] = static_cast<int32_t>(slot);
    int64_t width = 0;
    for (int64_t i = slice * rows; i < n && i < (slice + 1) * rows; ++i)
      width = length[order[i]] > width ? length[order[i]] : width;
    for (int64_t lane = 0; lane < rows; ++lane) {
      int64_t position = slice * rows + lane;
      int64_t row = position < n ? order[position] : -1;
      rowOf[position] = static_cast<int32_t>(row < 0 ? 0 : row);
      fillLane(w, k, row, 0, k, lane, slot, width, column, value);
    }
    slot += width;
  }
  sliceStart[slices] = static_cast<int32_t>(slot);
  // The blocks, after the slices: per slice and block of columns, as many
  // slots as its row with the most non-zeros there has, each a byte of
  // column offset and a value per row.
  const int64_t width = SHEARS_UK_SPGEMM_BLOCK;
  int64_t blocks = (k + width - 1) / width;
  int32_t *blockStart = reinterpret_cast<int32_t *>(value + slots * rows);
  slot = 0;
  for (int64_t slice = 0; slice < slices; ++slice)
    for (int64_t b = 0; b < blocks; ++b) {
      blockStart[slice * blocks + b] = static_cast<int32_t>(slot);
      slot += blockWidth(w, n, k, order, slice * rows, b);
    }
  blockStart[slices * blocks] = static_cast<int32_t>(slot);
  uint8_t *offset =
      reinterpret_cast<uint8_t *>(blockStart + slices * blocks + 1);
  float *blockValue = reinterpret_cast<float *>(offset + slot * rows);
  for (int64_t i = 0; i < slices * blocks; ++i) {
    int64_t slice = i / blocks, b = i % blocks;
    int64_t end = k < (b + 1) * width ? k : (b + 1) * width;
    for (int64_t lane = 0; lane < rows; ++lane) {
      int64_t position = slice * rows + lane;
      fillLane(w, k, position < n ? order[position] : -1, b * width, end, lane,
               blockStart[i], blockStart[i + 1] - blockStart[i], offset,
               blockValue);
    }
  }
  free(length);
}

extern "C" int64_t shears_uk_wqgemm_packed_size(int64_t n, int64_t k,
                                                int64_t bits) {
  const int64_t nr = SHEARS_UK_WQGEMM_NR;
  int64_t panels = ceilDiv(n, nr);
  return bits == 4 ? panels * ceilDiv(k, 2) * nr : panels * k * 2;
}

extern "C" void shears_uk_pack_wqgemm(const int8_t *q, int64_t n, int64_t k,
                                      int64_t bits, uint8_t *packed) {
  const int64_t nr = SHEARS_UK_WQGEMM_NR;
  int64_t size = shears_uk_wqgemm_packed_size(n, k, bits);
  if (bits == 4) {
    // 8 in both nibbles: zeros past K and N.
    memset(packed, 0x88, size);
    int64_t pairs = ceilDiv(k, 2);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t kk = 0; kk < k; ++kk) {
        uint8_t &byte = packed[((j / nr) * pairs + kk / 2) * nr + j % nr];
        int shift = kk % 2 ? 4 : 0;
        byte = uint8_t((byte & ~(0xF << shift)) | ((q[j * k + kk] + 8) & 0xF)
                                                      << shift);
      }
    return;
  }
  memset(packed, 0, size);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk)
      if (q[j * k + kk] > 0)
        packed[((j / nr) * k + kk) * 2 + (j % nr) / 8] |=
            uint8_t(1u << (j % 8));
}

extern "C" int64_t shears_uk_wqgemm_scales_size(int64_t n, int64_t k,
                                                int64_t group) {
  const int64_t nr = SHEARS_UK_WQGEMM_NR;
  return ceilDiv(n, nr) * ceilDiv(k, group) * nr;
}

extern "C" void shears_uk_pack_wqgemm_scales(const float *scale, int64_t n,
                                             int64_t k, int64_t group,
                                             float *packed) {
  const int64_t nr = SHEARS_UK_WQGEMM_NR;
  int64_t groups = ceilDiv(k, group);
  memset(packed, 0, shears_uk_wqgemm_scales_size(n, k, group) * sizeof(float));
  for (int64_t j = 0; j < n; ++j)
    for (int64_t g = 0; g < groups; ++g)
      packed[((j / nr) * groups + g) * nr + j % nr] = scale[j * groups + g];
}
