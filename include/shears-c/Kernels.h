/*===- Kernels.h - The CPU micro-kernel ABI ----------------------*- C -*-===*
 *
 * The contract between code that Shears generates and the micro-kernels it
 * calls (lib/Kernels): kernel names, the layout of packed weights, and the
 * meaning of every parameter slot. The compiler (shears-convert-to-ukernels,
 * shears-lower-ukernels) and the kernels both read these definitions, so a
 * slot is defined once.
 *
 * Every kernel has the same C signature:
 *
 *   void shears_uk_<name>_<isa>(void **buffers, const int64_t *dims,
 *                               const int64_t *iparams, const float *fparams);
 *
 * `buffers` are the operands' base pointers (inputs in order, then the
 * output), `dims` the sizes of the first input, `iparams`/`fparams` the
 * kernel's static parameters below. <isa> is avx512, avx2 or generic; the
 * compiler picks one for its target CPU.
 *===----------------------------------------------------------------------===*/

#ifndef SHEARS_C_KERNELS_H
#define SHEARS_C_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHEARS_UK_EXPORT __attribute__((visibility("default")))

/* Packed layouts of constant weights (rewritten at compile time).
 *
 * Convolution filter [Cout, Cin/g, KH, KW], per group g of Mg = Cout/g rows
 * and K = Cin/g*KH*KW columns (in filter order): row blocks of
 * SHEARS_UK_CONV_MR rows, each stored k-major:
 *   packed[g][rb][k][r] = filter[g*Mg + rb*MR + r][k]   (0 past Mg)
 * as a tensor [g, ceil(Mg/MR), K, MR].
 *
 * GEMM right-hand side B [K, N] (a linear layer's weight [N, K] transposed):
 * column panels of SHEARS_UK_GEMM_NR columns, each stored k-major:
 *   packed[p][k][c] = B[k][p*NR + c]   (0 past N)
 * as a tensor [ceil(N/NR), K, NR].
 *
 * Convolution filter for the channel-panel orientation (conv2d with flag
 * SHEARS_UK_CONV_CHANNEL_PANELS: output channels along the vectors, for
 * small images whose pixels would not fill pixel panels): per group, the
 * GEMM layout above of B = filter^T [K, Mg]:
 *   packed[g][p][k][c] = filter[g*Mg + p*NR + c][k]   (0 past Mg)
 * as a tensor [g, ceil(Mg/NR), K, NR] with NR = SHEARS_UK_GEMM_NR.
 *
 * Convolution filter for Winograd F(m x m, 3x3), m = 2 or 4 (conv2d with
 * flag SHEARS_UK_CONV_WINOGRAD, and SHEARS_UK_CONV_WINOGRAD_4X4 for m = 4:
 * a 3x3 window, strides and dilations 1, one group): the transformed filter
 * U = G g G^T of each output channel m and input channel c, T x T values
 * u[a][b] (T = m + 2; G below), as T*T GEMM right-hand sides
 * B_ab = U_ab^T [C, Cout] in the GEMM layout above:
 *   packed[a*T + b][p][c][j] = U[p*NR + j][c][a][b]   (0 past Cout)
 * as a tensor [T*T, ceil(Cout/NR), C, NR], where for m = 2
 *   G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
 * and for m = 4 (Lavin and Gray's, points 0, +-1, +-2)
 *   G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6],
 *        [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]. */
#define SHEARS_UK_CONV_MR 8
#define SHEARS_UK_GEMM_NR 32
/* conv2d's direct path (AVX-512, no im2col, chosen by the kernel for
 * strides 1 from a reduction of SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE1, and 2
 * without dilation from SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE2): output pixels
 * in panels of SHEARS_UK_CONV_DIRECT_NR "wide" pixels, rows of OW + the
 * filter's reach (half of it with stride 2). The compiler's choice of
 * orientation models it. */
#define SHEARS_UK_CONV_DIRECT_NR 48
#define SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE1 32
#define SHEARS_UK_CONV_DIRECT_MIN_K_STRIDE2 64
/* The direct path runs an image in bands of output rows, each of whose
 * slices (the zero-padded input rows the band reads: `phases` planes, 4
 * with stride 2, of rows `wp` floats wide for each of a group's `cg`
 * channels, `reach` rows more than the band) takes at most
 * SHEARS_UK_CONV_DIRECT_SLICE_BYTES, so that it stays in L2; each band's
 * wide pixels fill panels of their own. The rows of a band, all of equal
 * height, on one thread (more threads may cut it further): */
#define SHEARS_UK_CONV_DIRECT_SLICE_BYTES (256 << 10)
static inline int64_t shears_uk_conv_direct_band_rows(int64_t phases,
                                                      int64_t cg, int64_t wp,
                                                      int64_t reach,
                                                      int64_t oh) {
  int64_t rows = SHEARS_UK_CONV_DIRECT_SLICE_BYTES /
                     (phases * cg * wp * (int64_t)sizeof(float)) -
                 reach;
  rows = rows < 1 ? 1 : (rows > oh ? oh : rows);
  int64_t bands = (oh + rows - 1) / rows;
  return (oh + bands - 1) / bands;
}

/* The smallest output height and width the compiler runs as Winograd
 * (SHEARS_UK_CONV_WINOGRAD below). */
#define SHEARS_UK_WINOGRAD_MIN_SIZE 8
/* ... and as F(4x4, 3x3) (SHEARS_UK_CONV_WINOGRAD_4X4). */
#define SHEARS_UK_WINOGRAD_4X4_MIN_SIZE 28

/* The packing itself (the compiler calls these on constant weights), sizes
 * in floats. `filter` is [cout, k] row-major with k = Cin/groups*KH*KW. */
int64_t shears_uk_conv_filter_packed_size(int64_t cout, int64_t k,
                                          int64_t groups);
void shears_uk_pack_conv_filter(const float *filter, int64_t cout, int64_t k,
                                int64_t groups, float *packed);
int64_t shears_uk_conv_filter_panels_packed_size(int64_t cout, int64_t k,
                                                 int64_t groups);
void shears_uk_pack_conv_filter_panels(const float *filter, int64_t cout,
                                       int64_t k, int64_t groups,
                                       float *packed);
/* `filter` is [cout, c, 3, 3]; `tile` is m, 2 or 4. */
int64_t shears_uk_winograd_filter_packed_size(int64_t cout, int64_t c,
                                              int64_t tile);
void shears_uk_pack_winograd_filter(const float *filter, int64_t cout,
                                    int64_t c, int64_t tile, float *packed);
/* B[k][n] is b[k * strideK + n * strideN]: a linear weight [N, K] has
 * strideK = 1, strideN = K; a MatMul right-hand side [K, N] strideK = N,
 * strideN = 1. */
int64_t shears_uk_gemm_b_packed_size(int64_t k, int64_t n);
void shears_uk_pack_gemm_b(const float *b, int64_t k, int64_t n,
                           int64_t strideK, int64_t strideN, float *packed);

/* Epilogue flags (iparams slot FLAGS): what follows the contraction in the
 * same pass over the output tile, in this order: bias, residual add, then
 * the activation. conv2d and gemm read each residual element before they
 * write the output element at the same place, and no other: their residual
 * may be their (dense) output buffer itself, computed in place. */
enum {
  SHEARS_UK_HAS_BIAS = 1 << 0,
  SHEARS_UK_HAS_RESIDUAL = 1 << 1,
  /* conv2d only: the filter is packed in channel panels (see above). */
  SHEARS_UK_CONV_CHANNEL_PANELS = 1 << 2,
  /* qgemm only: A is quantized with its own range, found at each call
   * (below). */
  SHEARS_UK_QGEMM_DYNAMIC = 1 << 3,
  SHEARS_UK_ACT_SHIFT = 4,
  SHEARS_UK_ACT_MASK = 0xF << 4,
  /* qgemm and qconv2d: the input is already quantized, u8 with A_SCALE and
   * A_ZERO_POINT (the output of a kernel with QUANT_OUTPUT_U8). */
  SHEARS_UK_QUANT_INPUT_U8 = 1 << 8,
  /* qgemm and qconv2d: the output, after the epilogue, is quantized to u8
   * with OUT_SCALE and OUT_ZERO_POINT as the next kernel would quantize it:
   * clamp(round_half_even(x / scale) + zero_point, 0, 255). */
  SHEARS_UK_QUANT_OUTPUT_U8 = 1 << 9,
  /* spgemm only: A is [N, K, ...] and C [N, N_out, ...], NCHW images (the
   * rest of the dims the pixels of a plane): a 1x1 convolution. */
  SHEARS_UK_SPGEMM_PLANES = 1 << 10,
  /* conv2d only: Winograd F(2x2, 3x3), the filter packed for it (above):
   * 16 multiply-adds for each 2x2 outputs and input channel, not 36. */
  SHEARS_UK_CONV_WINOGRAD = 1 << 11,
  /* conv2d with SHEARS_UK_CONV_WINOGRAD: F(4x4, 3x3), 36 multiply-adds for
   * each 4x4 outputs and input channel, not 144. */
  SHEARS_UK_CONV_WINOGRAD_4X4 = 1 << 12,
  /* qgemm and qconv2d: every weight is in [-64, 64] (shears quantize
   * --reduce-range), so that two products of a u8 input and a weight sum
   * exactly in 16 bits: the AVX2 variant then uses vpmaddubsw, and plain
   * integer loops otherwise. The AVX-512 variant needs no such bound. */
  SHEARS_UK_QUANT_NARROW_WEIGHTS = 1 << 13,
  /* qgemm and qconv2d: two outputs, the f32 one and then its u8
   * quantization as with QUANT_OUTPUT_U8 (OUT_SCALE, OUT_ZERO_POINT): for a
   * result that integer kernels read as their input and others read in f32
   * (a residual block's output, also the next block's residual). Not with
   * QUANT_OUTPUT_U8. */
  SHEARS_UK_QUANT_OUTPUT_BOTH = 1 << 14,
};
enum ShearsUKActivation {
  SHEARS_UK_ACT_NONE = 0,
  SHEARS_UK_ACT_RELU = 1,
  SHEARS_UK_ACT_CLIP = 2, /* fparams CLIP_MIN, CLIP_MAX */
};
enum { SHEARS_UK_F_CLIP_MIN = 0, SHEARS_UK_F_CLIP_MAX = 1, SHEARS_UK_F_NUM };

/* conv2d: buffers input [N, C, H, W], packed filter, bias [Cout] (if
 * HAS_BIAS), residual [N, Cout, OH, OW] (if HAS_RESIDUAL), output
 * [N, Cout, OH, OW]; dims = the input's 4 sizes.
 * dwconv2d: the same slots with groups == C == Cout and the filter unpacked
 * [C, 1, KH, KW].
 * maxpool2d: the same slots with groups == C == Cout, buffers input, residual
 * (if HAS_RESIDUAL), output: no filter, no bias; windows past the input
 * (padding, ceil mode) read -inf.
 * OUT_STRIDE (conv2d, dwconv2d, maxpool2d): floats from one image of the
 * output to the next, at least Cout * OH * OW; 0 for exactly that (a dense
 * output). A larger one writes each image into its slice of a wider tensor
 * (a concat's, along channels) in place; the residual stays dense. */
enum {
  SHEARS_UK_CONV_C,
  SHEARS_UK_CONV_H,
  SHEARS_UK_CONV_W,
  SHEARS_UK_CONV_COUT,
  SHEARS_UK_CONV_KH,
  SHEARS_UK_CONV_KW,
  SHEARS_UK_CONV_SH,
  SHEARS_UK_CONV_SW,
  SHEARS_UK_CONV_PT,
  SHEARS_UK_CONV_PL,
  SHEARS_UK_CONV_DH,
  SHEARS_UK_CONV_DW,
  SHEARS_UK_CONV_OH,
  SHEARS_UK_CONV_OW,
  SHEARS_UK_CONV_GROUPS,
  SHEARS_UK_CONV_FLAGS,
  SHEARS_UK_CONV_OUT_STRIDE,
  SHEARS_UK_CONV_NUM_PARAMS
};

/* gemm: C[M, N] = A[M, K] * B + bias[N] (+ residual[M, N]); buffers A (rank
 * A_RANK, M the product of all but its last size), packed B, bias (if
 * HAS_BIAS), residual (if HAS_RESIDUAL), output; dims = A's sizes. */
enum {
  SHEARS_UK_GEMM_K,
  SHEARS_UK_GEMM_N,
  SHEARS_UK_GEMM_A_RANK,
  SHEARS_UK_GEMM_FLAGS,
  SHEARS_UK_GEMM_NUM_PARAMS
};

/* bmm: C[b] = A[b] * B[b] for each b of the batch, both operands computed at
 * run time (attention's Q K^T and its weights times V): buffers A
 * [batch..., M, K], B [batch..., K, N] (with TRANSPOSE_B: [batch..., N, K]),
 * output [batch..., M, N]; dims = A's sizes, A_RANK of them (batch, the
 * product of all but the last two, is B's and C's too). Each batch element
 * packs its B into GEMM panels and runs the gemm kernel's tiles; no epilogue
 * (FLAGS 0). */
enum {
  SHEARS_UK_BMM_M,
  SHEARS_UK_BMM_K,
  SHEARS_UK_BMM_N,
  SHEARS_UK_BMM_TRANSPOSE_B,
  SHEARS_UK_BMM_A_RANK,
  SHEARS_UK_BMM_FLAGS,
  SHEARS_UK_BMM_NUM_PARAMS
};

/* qgemm: the int8 GEMM of a quantized linear layer (its input through
 * shears.quantize to u8, its weight s8):
 *   C[M, N] = float(sum_k q(A)[m, k] * B[k, n]) * scale[n] + bias[n]
 *             (+ residual[M, N]), then the activation,
 * where q(A) = clamp(round_half_even(A / a_scale) + a_zero_point, 0, 255) is
 * computed as A is packed. The compiler folds the scales into `scale`
 * (a_scale * the weight's scale of column n) and the zero point's correction
 * into `bias` (minus a_zero_point * the sum of column n, times scale[n]), so
 * HAS_BIAS is always set. buffers: A (f32, rank A_RANK), packed B (s8,
 * below), scale [N], bias [N], residual (if HAS_RESIDUAL), output; iparams
 * as gemm; fparams: the epilogue's, then A_SCALE and A_ZERO_POINT, then
 * OUT_SCALE and OUT_ZERO_POINT (QUANT_OUTPUT_U8 or _BOTH only). With
 * QUANT_INPUT_U8 A is u8 already; with QUANT_OUTPUT_U8 the output is u8, and
 * with QUANT_OUTPUT_BOTH a u8 output follows the f32 one (flags above).
 *
 * With SHEARS_UK_QGEMM_DYNAMIC, A's scale and zero point come from A itself
 * at each call, as ONNX's DynamicQuantizeLinear: [min(A, 0), max(A, 0)]
 * onto [0, 255] (scale 1 for a zero A); nothing can be folded at compile
 * time, so `scale` is the weight's scale alone, and a buffer of B's column
 * sums (f32 [N]) follows it, before the (unfolded) bias:
 *   C[m, n] = (float(sum) - a_zero_point * colsum[n]) * a_scale * scale[n]
 *             + bias[n].
 * A_SCALE and A_ZERO_POINT are then unused.
 *
 * Packed B: column panels of SHEARS_UK_GEMM_NR columns, k in groups of 4
 * (AVX512-VNNI's vpdpbusd multiplies 4 u8 by 4 s8 in each 32-bit lane),
 * K padded to a multiple of 64 (an AMX tile's row of 16 groups):
 *   packed[p][q][c][j] = B[4q + j][p*NR + c]   (0 past K and N)
 * as a tensor [ceil(N/NR), 16 * ceil(K/64), NR, 4] of i8. */
enum {
  SHEARS_UK_QGEMM_F_A_SCALE = SHEARS_UK_F_NUM,
  SHEARS_UK_QGEMM_F_A_ZERO_POINT,
  SHEARS_UK_QGEMM_F_OUT_SCALE,
  SHEARS_UK_QGEMM_F_OUT_ZERO_POINT,
  SHEARS_UK_QGEMM_F_NUM
};
/* Sizes in bytes; B[k][n] is b[k * strideK + n * strideN] as for gemm.
 * shears_uk_qgemm_groups is the packed B's second dimension, 16 ceil(K/64). */
int64_t shears_uk_qgemm_groups(int64_t k);
int64_t shears_uk_qgemm_b_packed_size(int64_t k, int64_t n);
void shears_uk_pack_qgemm_b(const int8_t *b, int64_t k, int64_t n,
                            int64_t strideK, int64_t strideN, int8_t *packed);

/* qconv2d: the int8 convolution of a quantized conv2d (groups 1), as qgemm
 * is of a linear layer: the input [N, C, H, W] is quantized once per call
 * into a padded channels-last u8 copy (padding holds the zero point, the
 * quantization of 0), whose 4 consecutive channels of a pixel are the 4
 * bytes vpdpbusd takes; output channels go along the vectors. buffers:
 * input, packed filter (s8, below), scale [Cout], bias [Cout], residual
 * [N, Cout, OH, OW] (if HAS_RESIDUAL), output [N, Cout, OH, OW]; iparams
 * the conv2d slots; fparams as qgemm's.
 *
 * Packed filter: panels of SHEARS_UK_GEMM_NR output channels; within one,
 * k in the order (kh, kw, c) with c in groups of 4:
 *   packed[p][kh][kw][cq][o][j] = filter[p*NR + o][4*cq + j][kh][kw]
 * (0 past Cout and C) as a tensor [ceil(Cout/NR), KH, KW', ceil(C/4), NR, 4]
 * of i8, where KW' = KW, except with at most 4 channels (one word a pixel),
 * where each filter row is padded with zeros to KW' = 16 * ceil(KW / 16)
 * taps: an AMX tile row of 16 words then covers a row of taps. */
/* KW' of the packed filter above. */
int64_t shears_uk_qconv_row_taps(int64_t c, int64_t kw);
int64_t shears_uk_qconv_filter_packed_size(int64_t cout, int64_t c,
                                           int64_t kh, int64_t kw);
void shears_uk_pack_qconv_filter(const int8_t *filter, int64_t cout,
                                 int64_t c, int64_t kh, int64_t kw,
                                 int8_t *packed);

/* spgemm: a linear layer whose weight is mostly zeros (pruned), as gemm
 * computes it: C[M, N] = A[M, K] * W^T + bias[N] (+ residual[M, N]), then
 * the activation, with W [N, K] stored as its non-zeros by output row in
 * slices of SHEARS_UK_SPGEMM_SLICE rows whose non-zeros are interleaved
 * (sliced ELLPACK): slot s of a slice holds the s-th non-zero of each of
 * its rows, so that one vector of a slot's columns gathers the inputs of
 * all its rows. Where that saves much padding (slices as wide as their
 * longest row), the rows are first ordered by their non-zeros, most first,
 * then by index (PERMUTED). buffers: A (rank A_RANK), the packed weight
 * (below), bias (if HAS_BIAS), residual (if HAS_RESIDUAL), output; iparams
 * and fparams as gemm's. With SHEARS_UK_SPGEMM_PLANES, a 1x1 convolution
 * (stride 1, no padding) of NCHW images instead: C[i, n, p] = sum over k
 * of W[n, k] A[i, k, p] + bias[n] (+ residual[i, n, p]), p the pixels of
 * a plane (the dims after the second); A_RANK at least 3.
 *
 * Packed weight, in 32-bit words, with S = SHEARS_UK_SPGEMM_SLICE and
 * slices = ceil(N / S): PERMUTED (int32, 0 or 1), then
 * slice_start[slices + 1] (int32: slice i's slots are
 * [slice_start[i], slice_start[i + 1]), as many as its longest row has
 * non-zeros; slice_start[slices] = SLOTS), then row[slices * S] (int32:
 * the output row at each position, the position itself unless PERMUTED,
 * 0 past N), then column[SLOTS * S] (int32), then value[SLOTS * S] (f32):
 * entry (slice_start[i] + s) * S + r is the s-th non-zero of row[i * S + r],
 * columns ascending, or column 0 and value 0 past its non-zeros (and past
 * N). Then the same rows again in blocks of columns, for a batch of a few
 * rows, whose walk picks each input from B = SHEARS_UK_SPGEMM_BLOCK of them
 * held in registers instead of gathering it: per slice i and block b of
 * columns [b B, (b + 1) B) (blocks = ceil(K / B)), as many slots as its row
 * with the most non-zeros there has: block_start[slices * blocks + 1]
 * (int32: slice i's block b has slots [block_start[i * blocks + b],
 * block_start[i * blocks + b + 1]); the last is BLOCK_SLOTS), then
 * offset[BLOCK_SLOTS * S] (u8: column - b B), then
 * block_value[BLOCK_SLOTS * S] (f32), entry s * S + r of each for row
 * row[i * S + r] (offset 0 and value 0 past its non-zeros). A tensor of
 * shears_uk_spgemm_packed_size(W, N, K) f32 words holding those bits. */
/* spconv2d: a convolution of one group (any window, strides, dilations
 * and padding) whose filter is mostly zeros, as conv2d
 * computes it, the filter [Cout, C, kh, kw] viewed as [Cout, C kh kw] and
 * packed as spgemm's weight (above; shears_uk_pack_spgemm with n = Cout,
 * k = C kh kw). buffers: input, the packed filter, bias (if HAS_BIAS),
 * residual (if HAS_RESIDUAL), output; iparams and fparams as conv2d's
 * (OUT_STRIDE too). */
#define SHEARS_UK_SPGEMM_SLICE 16
#define SHEARS_UK_SPGEMM_BLOCK 32
/* The weight density at or below which the compiler runs a linear layer on
 * spgemm by default: where it was faster than gemm at batches 1, 8 and 64
 * on every layer shape bench/sparse.py --kernels measures
 * (docs/SparseStorage.md). */
#define SHEARS_UK_SPGEMM_MAX_DENSITY 0.2
/* The density up to which the tools time spgemm against gemm on a layer
 * and keep the faster (shears run/compile --time-sparse): 2:4 weights are
 * half zeros. */
#define SHEARS_UK_SPGEMM_TIMED_MAX_DENSITY 0.5
int64_t shears_uk_spgemm_nonzeros(const float *w, int64_t n, int64_t k);
/* The packed size of w [n, k] in 32-bit words (-1 when out of memory). */
int64_t shears_uk_spgemm_packed_size(const float *w, int64_t n, int64_t k);
void shears_uk_pack_spgemm(const float *w, int64_t n, int64_t k,
                           float *packed);

/* wqgemm: a linear layer with weight-only quantization, its weight read in
 * BITS bits a value and unpacked in registers; A and the arithmetic are
 * f32, as they are for gemm:
 *   C[m, n] = sum_k A[m, k] * (q[n][k] * scale[n][k / GROUP]) + bias[n]
 *             (+ residual[M, N]), then the activation,
 * with q in [-8, 7] (BITS 4: int4, a scale per GROUP weights along K; GROUP
 * even, or K: one group) or q in {-1, 1} (BITS 1: binary, GROUP = K: a
 * scale per output channel). buffers: A (rank A_RANK), packed q (u8,
 * below), packed scales (f32, below), bias (if HAS_BIAS), residual (if
 * HAS_RESIDUAL), output; iparams gemm's, then BITS and GROUP; fparams
 * gemm's.
 *
 * Packed q: column panels of SHEARS_UK_WQGEMM_NR output channels, k-major:
 *   BITS 4: byte packed[p][k / 2][c] = (q[p*NR + c][k] + 8)
 *                                    | (q[p*NR + c][k + 1] + 8) << 4
 *           for even k (8, a zero, past K and N): [ceil(N/NR), ceil(K/2), NR];
 *   BITS 1: bit c of the little-endian 16-bit word packed[p][k] is 1 where
 *           q[p*NR + c][k] = 1: [ceil(N/NR), K, 2] bytes.
 * Packed scales, f32 [ceil(N/NR), ceil(K/GROUP), NR]:
 *   packed[p][g][c] = scale[p*NR + c][g]   (0 past N). */
#define SHEARS_UK_WQGEMM_NR 16
enum {
  SHEARS_UK_WQGEMM_BITS = SHEARS_UK_GEMM_NUM_PARAMS,
  SHEARS_UK_WQGEMM_GROUP,
  SHEARS_UK_WQGEMM_NUM_PARAMS
};
/* Sizes in bytes and floats; q is [N, K] (a linear weight), scale
 * [N, ceil(K/GROUP)]. */
int64_t shears_uk_wqgemm_packed_size(int64_t n, int64_t k, int64_t bits);
void shears_uk_pack_wqgemm(const int8_t *q, int64_t n, int64_t k, int64_t bits,
                           uint8_t *packed);
int64_t shears_uk_wqgemm_scales_size(int64_t n, int64_t k, int64_t group);
void shears_uk_pack_wqgemm_scales(const float *scale, int64_t n, int64_t k,
                                  int64_t group, float *packed);

typedef void (*ShearsUKernelFn)(void **buffers, const int64_t *dims,
                                const int64_t *iparams, const float *fparams);

/* Name/address pairs of every kernel, ending with {NULL, NULL}: the JIT
 * binds generated calls to them. */
typedef struct {
  const char *name;
  ShearsUKernelFn fn;
} ShearsUKernelSymbol;
const ShearsUKernelSymbol *shears_uk_symbols(void);

/* Threads the kernels use from now on (1 = the calling thread only, 0 = all
 * online CPUs). Returns the count in effect. Each copy of the kernel library
 * (the compiler's, or one linked into a compiled model) has its own pool. */
SHEARS_UK_EXPORT int shears_uk_set_num_threads(int threads);

/* Runs task(ctx, i, worker) for i in [0, count) on the kernels' threads
 * (shears_uk_set_num_threads), worker in [0, threads); returns when all are
 * done. Kernels that a task calls run on its thread alone: the C runtime
 * runs the chunks of a batch this way, a chunk a thread (shearsModelRun). */
SHEARS_UK_EXPORT void
shears_uk_parallel_for(int64_t count,
                       void (*task)(void *ctx, int64_t index, int worker),
                       void *ctx);

/* Kernel time by call site, for tools that attribute it to layers (shears
 * report --measure). Code lowered with shears-lower-ukernels{profile-sites}
 * calls shears_uk_profile_site(i) before its i-th kernel call (the module's
 * `shears.profile_sites` names the layer of each i); the calling thread's
 * site is then part of each profile entry of the kernel calls it makes.
 * shears_uk_profile_start clears the profile and turns profiling on (as
 * SHEARS_PROFILE does), shears_uk_profile_stop clears it and leaves it on
 * only where SHEARS_PROFILE is set; shears_uk_profile_read copies up to
 * `capacity` entries and returns how many there are. */
typedef struct {
  int64_t site; /* -1 for a call that no shears_uk_profile_site preceded */
  int64_t calls;
  int64_t macs;
  double seconds;
  char what[128]; /* kernel, walk and shape */
} ShearsUKProfileEntry;
void shears_uk_profile_site(int64_t site);
void shears_uk_profile_start(void);
void shears_uk_profile_stop(void);
int64_t shears_uk_profile_read(ShearsUKProfileEntry *entries, int64_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* SHEARS_C_KERNELS_H */
