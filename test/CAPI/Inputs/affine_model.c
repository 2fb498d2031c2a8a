// A stand-in for a compiled model, written by hand to the ABI in
// include/shears-c/Runtime.h: y = 2 * x + 1 with x, y: f32 [?x3].
//
// Variants, for the runtime's error paths:
//   -DNOT_A_MODEL        exports neither symbol
//   -DNO_SIGNATURE       exports shears_invoke only
//   -DBAD_SIGNATURE      a signature with an unknown dtype
//   -DWRONG_OUTPUT_SHAPE returns y as [?x4], against its signature

#include <stdint.h>
#include <stdlib.h>

#ifndef NOT_A_MODEL

typedef struct {
  void *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} MemRef2xF32;

#ifndef NO_SIGNATURE
const char shears_signature[] =
#ifdef BAD_SIGNATURE
    "{\"inputs\":[{\"name\":\"x\",\"dtype\":\"f31\",\"shape\":[-1,3]}],"
#else
    "{\"inputs\":[{\"name\":\"x\",\"dtype\":\"f32\",\"shape\":[-1,3]}],"
#endif
    "\"outputs\":[{\"name\":\"y\",\"dtype\":\"f32\",\"shape\":[-1,3]}]}";
#endif

void shears_invoke(void **args) {
  MemRef2xF32 *y = args[0];
  const MemRef2xF32 *x = args[1];
  int64_t rows = x->sizes[0];
#ifdef WRONG_OUTPUT_SHAPE
  int64_t cols = 4;
#else
  int64_t cols = 3;
#endif
  // Like MLIR's aligned allocations: `aligned` is inside `allocated`.
  char *allocated = malloc(rows * cols * sizeof(float) + 64);
  y->allocated = allocated;
  y->aligned = (float *)(allocated + 64 - (uintptr_t)allocated % 64);
  y->offset = 0;
  y->sizes[0] = rows;
  y->sizes[1] = cols;
  y->strides[0] = cols;
  y->strides[1] = 1;
  const float *in = x->aligned + x->offset;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      y->aligned[i * cols + j] =
          2 * in[i * x->strides[0] + (j % 3) * x->strides[1]] + 1;
}

#else
int not_a_model(void) { return 0; }
#endif
