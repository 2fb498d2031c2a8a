// A stand-in for a compiled model with outputs of every kind the runtime
// must handle: ranks 0 to 2, an offset, non-contiguous strides, a buffer
// returned twice, an input returned as is, and a constant (MLIR marks a
// global's descriptor with the allocated pointer 0xdeadbeef). Only `sum`,
// `xt` and `pos` are the caller's to free; valgrind checks that exactly
// these are.
//
// Inputs: x f32 [?x3], k i64 []. Outputs:
//   sum   f64 [?]    row sums of x plus k (at offset 2 in its buffer)
//   xt    f32 [3x?]  x transposed, as a strided view of a [?x3] buffer
//   n     i64 []     the batch size
//   pos   i1  [?x3]  x > 0
//   sum2  f64 [?]    the buffer of `sum` again
//   echo  f32 [?x3]  x itself
//   table i32 [2]    the constant [7, 9]

#include <stdint.h>
#include <stdlib.h>

const char shears_signature[] =
    "{\"inputs\": [{\"name\": \"x\", \"dtype\": \"f32\", \"shape\": [-1, 3]},"
    "              {\"name\": \"k\", \"dtype\": \"i64\", \"shape\": []}],"
    " \"outputs\": [{\"name\": \"sum\", \"dtype\": \"f64\", \"shape\": [-1]},"
    "  {\"name\": \"xt\", \"dtype\": \"f32\", \"shape\": [3, -1]},"
    "  {\"name\": \"n\", \"dtype\": \"i64\", \"shape\": []},"
    "  {\"name\": \"pos\", \"dtype\": \"i1\", \"shape\": [-1, 3]},"
    "  {\"name\": \"sum2\", \"dtype\": \"f64\", \"shape\": [-1]},"
    "  {\"name\": \"echo\", \"dtype\": \"f32\", \"shape\": [-1, 3]},"
    "  {\"name\": \"table\", \"dtype\": \"i32\", \"shape\": [2],"
    "   \"doc\": {\"ignored\": [true, null, 1.5e3, \"\\u00e9\"]}}]}";

// One descriptor per rank; all fields are 8 bytes, so no padding.
typedef struct {
  void *allocated, *aligned;
  int64_t offset;
} MemRef0;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} MemRef1;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2;

typedef struct {
  MemRef1 sum;
  MemRef2 xt;
  MemRef0 n;
  MemRef2 pos;
  MemRef1 sum2;
  MemRef2 echo;
  MemRef1 table;
} Results;

static int32_t table[2] = {7, 9};

void shears_invoke(void **args) {
  Results *results = args[0];
  const MemRef2 *x = args[1];
  const MemRef0 *k = args[2];
  int64_t rows = x->sizes[0];
  const float *in = (const float *)x->aligned + x->offset;
  int64_t kValue = *((const int64_t *)k->aligned + k->offset);

  double *sum = malloc((rows + 2) * sizeof(double));
  float *xt = malloc(rows * 3 * sizeof(float) + 1);
  int64_t *n = malloc(sizeof(int64_t));
  char *pos = malloc(rows * 3 + 1);
  for (int64_t i = 0; i < rows; ++i) {
    sum[2 + i] = kValue;
    for (int64_t j = 0; j < 3; ++j) {
      float v = in[i * x->strides[0] + j * x->strides[1]];
      sum[2 + i] += v;
      xt[i * 3 + j] = v;
      pos[i * 3 + j] = v > 0;
    }
  }
  *n = rows;

  results->sum = (MemRef1){sum, sum, 2, {rows}, {1}};
  results->xt = (MemRef2){xt, xt, 0, {3, rows}, {1, 3}};
  results->n = (MemRef0){n, n, 0};
  results->pos = (MemRef2){pos, pos, 0, {rows, 3}, {3, 1}};
  results->sum2 = results->sum;
  results->echo = *x;
  results->table = (MemRef1){(void *)0xdeadbeef, table, 0, {2}, {1}};
}
