// Exercises the runtime C API from plain C (linked without libstdc++).
//   runtime_test api          checks tensors, signatures and runs of a model
//                             defined here, printing what FileCheck expects
//   runtime_test copy IN OUT  loads IN.npy, prints its type, saves it as OUT

#include "shears-c/Runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// Prints `label: ok` or `label: error: <message>` and frees the message.
static void report(const char *label, int ok, char *error) {
  if (ok)
    printf("%s: ok\n", label);
  else
    printf("%s: error: %s\n", label, error ? error : "(no message)");
  shearsFreeString(error);
}

static void printType(const char *label, const ShearsTensor *tensor) {
  char *type =
      shearsTypeToString(shearsTensorDType(tensor), shearsTensorRank(tensor),
                         shearsTensorShape(tensor));
  printf("%s: %s, %zu elements, %zu bytes\n", label, type,
         shearsTensorNumElements(tensor), shearsTensorSizeInBytes(tensor));
  shearsFreeString(type);
}

static void checkDTypes(void) {
  for (int i = 0; i < 8; ++i) {
    ShearsDType parsed = SHEARS_DTYPE_INVALID;
    const char *name = shearsDTypeName((ShearsDType)i);
    int roundTrips = shearsDTypeFromName(name, &parsed) == 0 && parsed == i;
    printf("dtype %d: %s, %zu bytes%s\n", i, name,
           shearsDTypeSize((ShearsDType)i), roundTrips ? "" : " (BROKEN)");
  }
  ShearsDType parsed;
  printf("dtype 8: %s %zu, 'f31' known: %d\n",
         shearsDTypeName((ShearsDType)8) ? "named" : "NULL",
         shearsDTypeSize((ShearsDType)8),
         shearsDTypeFromName("f31", &parsed) == 0);
}

static void checkTensors(void) {
  char *error = NULL;
  int64_t shape[] = {2, 3};
  float values[] = {1, 2, 3, 4, 5, 6};
  ShearsTensor *t =
      shearsTensorCreate(SHEARS_DTYPE_F32, 2, shape, values, &error);
  values[0] = 100; // The tensor has its own copy.
  printType("created", t);
  printf("created data: %g %g\n", ((float *)shearsTensorData(t))[0],
         ((float *)shearsTensorData(t))[5]);
  shearsTensorFree(t);

  t = shearsTensorCreate(SHEARS_DTYPE_I64, 2, shape, NULL, &error);
  int64_t sum = 0;
  for (size_t i = 0; i < shearsTensorNumElements(t); ++i)
    sum += ((int64_t *)shearsTensorData(t))[i];
  printf("zero-filled sum: %lld\n", (long long)sum);
  shearsTensorFree(t);

  t = shearsTensorCreate(SHEARS_DTYPE_F64, 0, NULL, NULL, &error);
  printType("scalar", t);
  shearsTensorFree(t);

  int64_t empty[] = {0, (int64_t)1 << 62, (int64_t)1 << 62};
  t = shearsTensorCreate(SHEARS_DTYPE_F32, 3, empty, NULL, &error);
  printType("empty", t);
  shearsTensorFree(t);

  t = shearsTensorWrap(SHEARS_DTYPE_F32, 2, shape, values, &error);
  printf("wrapped borrows: %d\n", shearsTensorData(t) == (void *)values);
  shearsTensorFree(t);

  int64_t negative[] = {2, -1};
  t = shearsTensorCreate(SHEARS_DTYPE_F32, 2, negative, NULL, &error);
  report("negative dim", t != NULL, error);
  error = NULL;
  int64_t huge[] = {(int64_t)1 << 40, (int64_t)1 << 40};
  t = shearsTensorCreate(SHEARS_DTYPE_F32, 2, huge, NULL, &error);
  report("huge", t != NULL, error);
  error = NULL;
  t = shearsTensorCreate((ShearsDType)42, 2, shape, NULL, &error);
  report("bad dtype", t != NULL, error);
  error = NULL;
  t = shearsTensorWrap(SHEARS_DTYPE_F32, 2, shape, NULL, &error);
  report("wrap NULL", t != NULL, error);
  printf("NULL accessors: %zu %zu %d\n", shearsTensorRank(NULL),
         shearsTensorNumElements(NULL), shearsTensorDType(NULL));
  shearsTensorFree(NULL);
}

static const char *badSignatures[] = {
    "",
    "[]",
    "{\"inputs\":[]}",
    "{\"inputs\":[],\"outputs\":[],}",
    "{\"inputs\":[],\"outputs\":[]} x",
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f31\",\"shape\":[]}],"
    "\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[-2]}],"
    "\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[1.5]}],"
    "\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\"}],\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"\",\"dtype\":\"f32\",\"shape\":[]}],"
    "\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a\",\"name\":\"b\"}],\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a\\q\"}],\"outputs\":[]}",
    "{\"inputs\":[{\"name\":\"a",
    "{\"inputs\":[],\"outputs\":[],\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
    "{\"inputs\":[],\"outputs\":[{\"name\":\"\\ud800\",\"dtype\":\"f32\","
    "\"shape\":[]}]}",
    "{\"inputs\":[],\"outputs\":[],\"n\":99999999999999999999}",
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[-"
    "99999999999999999999]}],\"outputs\":[]}",
    // A batch dimension past an output's rank.
    "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[-1,2]}],"
    "\"outputs\":[{\"name\":\"s\",\"dtype\":\"f32\",\"shape\":[]}],"
    "\"batch\":{\"dim\":0}}",
};

static int ownerFrees = 0;
static void countOwnerFree(void *owner) { ownerFrees += *(int *)owner; }

typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} MemRef2;

// b = 10 * a, for a, b: f32 [2x?].
static void timesTen(void **args) {
  MemRef2 *b = args[0];
  const MemRef2 *a = args[1];
  int64_t count = a->sizes[0] * a->sizes[1];
  float *out = malloc(count * sizeof(float) + 1);
  for (int64_t i = 0; i < count; ++i)
    out[i] = 10 * ((const float *)a->aligned)[a->offset + i];
  *b = (MemRef2){out, out, 0, {a->sizes[0], a->sizes[1]}, {a->sizes[1], 1}};
}

static int calls = 0;
static int64_t callRows[16];
// timesTen, counting its calls and noting the rows of each.
static void timesTenCounted(void **args) {
  if (calls < 16)
    callRows[calls] = ((const MemRef2 *)args[1])->sizes[0];
  ++calls;
  timesTen(args);
}

// A stand-in for the kernels' threads: 2 of them, whose pool runs the tasks
// last first.
static int twoThreads(int threads) {
  (void)threads;
  return 2;
}
static void lastFirst(int64_t count, void (*task)(void *, int64_t, int),
                      void *ctx) {
  for (int64_t i = count - 1; i >= 0; --i)
    task(ctx, i, (int)(i % 2));
}
// timesTen that returns one row whatever it gets: a model whose signature
// claims a batch it does not keep.
static void firstRowOnly(void **args) {
  timesTen(args);
  ((MemRef2 *)args[0])->sizes[0] = 1;
}

// A batch of n rows of 2 floats, 0, 1, 2, ... (n <= 8).
static ShearsTensor *rowsTensor(int64_t n) {
  int64_t shape[] = {n, 2};
  float values[16];
  for (int i = 0; i < 2 * n; ++i)
    values[i] = (float)i;
  return shearsTensorCreate(SHEARS_DTYPE_F32, 2, shape, values, NULL);
}

// Runs `model` on `in`, a batch of 2-float rows, and prints `what`, the
// calls it took (with the rows of each if `rows`) and the outputs.
static void runAndPrint(ShearsModel *model, ShearsTensor *in, const char *label,
                        const char *what, int rows) {
  ShearsTensor *b = NULL;
  char *error = NULL;
  calls = 0;
  int status =
      shearsModelRun(model, (const ShearsTensor *const *)&in, 1, &b, &error);
  report(label, status == 0, error);
  printf("%s: %d calls", what, calls);
  if (rows) {
    printf(", rows");
    for (int i = 0; i < calls && i < 16; ++i)
      printf(" %lld", (long long)callRows[i]);
  }
  int64_t n = shearsTensorShape(b)[0];
  printf(", b [%lldx%lld]:", (long long)n, (long long)shearsTensorShape(b)[1]);
  for (int64_t i = 0; i < 2 * n; ++i)
    printf(" %g", ((const float *)shearsTensorData(b))[i]);
  printf("\n");
  shearsTensorFree(b);
}

// A batch-separable model (its signature's "batch") runs a batch larger
// than its chunk as calls on chunks, the outputs put together.
static void checkBatchChunks(void) {
  const char *signature =
      "{\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[-1,2]}],"
      "\"outputs\":[{\"name\":\"b\",\"dtype\":\"f32\",\"shape\":[-1,2]}],"
      "\"batch\":{\"dim\":0}}";
  char *error = NULL;
  ShearsModel *model =
      shearsModelCreate(timesTenCounted, signature, NULL, NULL, &error);
  report("batch model", model != NULL, error);
  ShearsTensor *a = rowsTensor(5);
  ShearsTensor *b = NULL;
  int64_t chunks[] = {2, 0, 5};
  for (int c = 0; c < 3; ++c) {
    error = NULL;
    report("set chunk", shearsModelSetBatchChunk(model, chunks[c], &error) == 0,
           error);
    char what[32];
    snprintf(what, sizeof(what), "chunk %lld", (long long)chunks[c]);
    runAndPrint(model, a, "chunked run", what, 0);
  }
  // On 2 threads a batch of 6 runs as 2 shares of 3 rows at once, each in
  // chunks of at most 2 (1 and 2 rows); a batch of 5 in chunks one after
  // another.
  shearsModelSetThreadControl(model, twoThreads);
  shearsModelSetParallelFor(model, lastFirst);
  shearsModelSetBatchChunk(model, 2, NULL);
  ShearsTensor *a6 = rowsTensor(6);
  runAndPrint(model, a6, "shared run", "batch 6 on 2 threads", 1);
  runAndPrint(model, a, "shared run", "batch 5 on 2 threads", 1);
  shearsTensorFree(a6);
  error = NULL;
  report("negative chunk", shearsModelSetBatchChunk(model, -1, &error) == 0,
         error);
  // A bad input is reported with the whole batch's shape.
  shearsModelSetBatchChunk(model, 2, NULL);
  ShearsTensor *i8 =
      shearsTensorCreate(SHEARS_DTYPE_I8, 2, shearsTensorShape(a), NULL, NULL);
  error = NULL;
  report("chunked dtype",
         shearsModelRun(model, (const ShearsTensor *const *)&i8, 1, &b,
                        &error) == 0,
         error);
  shearsTensorFree(i8);
  shearsModelFree(model);

  error = NULL;
  model = shearsModelCreate(firstRowOnly, signature, NULL, NULL, &error);
  shearsModelSetBatchChunk(model, 2, NULL);
  error = NULL;
  int status =
      shearsModelRun(model, (const ShearsTensor *const *)&a, 1, &b, &error);
  report("batch not kept", status == 0 || b != NULL, error);
  shearsModelFree(model);
  shearsTensorFree(a);
}

static void checkModels(void) {
  for (size_t i = 0; i < sizeof(badSignatures) / sizeof(*badSignatures); ++i) {
    char *error = NULL;
    int owner = 1;
    ShearsModel *model = shearsModelCreate(timesTen, badSignatures[i], &owner,
                                           countOwnerFree, &error);
    char label[32];
    snprintf(label, sizeof(label), "signature %zu", i);
    report(label, model != NULL, error);
    shearsModelFree(model);
  }
  printf("owner freed by failed creates: %d\n", ownerFrees);

  char *error = NULL;
  int owner = 1;
  ShearsModel *model = shearsModelCreate(
      timesTen,
      // Keys in another order; a name with 2-, 3- and 4-byte UTF-8.
      "{\"outputs\":[{\"name\":\"b\\u00e9\\u20ac\\ud83d\\ude00\","
      "\"dtype\":\"f32\",\"shape\":[2,-1]}],"
      "\"inputs\":[{\"name\":\"a\",\"dtype\":\"f32\",\"shape\":[2,-1]}]}",
      &owner, countOwnerFree, &error);
  report("create", model != NULL, error);
  printf("inputs %zu outputs %zu: %s %s rank %zu dims %lld %lld\n",
         shearsModelNumInputs(model), shearsModelNumOutputs(model),
         shearsModelInputName(model, 0), shearsModelOutputName(model, 0),
         shearsModelOutputRank(model, 0),
         (long long)shearsModelInputShape(model, 0)[0],
         (long long)shearsModelInputShape(model, 0)[1]);
  printf("out of range: %s %d %zu %s\n",
         shearsModelInputName(model, 1) ? "named" : "NULL",
         shearsModelOutputDType(model, 5), shearsModelInputRank(model, 9),
         shearsModelOutputShape(model, 1) ? "shaped" : "NULL");

  int64_t shape[] = {2, 2};
  float values[] = {1, 2, 3, 4};
  ShearsTensor *a =
      shearsTensorCreate(SHEARS_DTYPE_F32, 2, shape, values, NULL);
  ShearsTensor *b = NULL;
  int status =
      shearsModelRun(model, (const ShearsTensor *const *)&a, 1, &b, &error);
  report("run", status == 0, error);
  float *out = shearsTensorData(b);
  printType("b", b);
  printf("b data: %g %g %g %g\n", out[0], out[1], out[2], out[3]);
  shearsTensorFree(b);

  error = NULL;
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&a, 2, &b, &error);
  report("two inputs", status == 0 && b == NULL, error);
  error = NULL;
  ShearsTensor *none = NULL;
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&none, 1, &b, &error);
  report("NULL input", status == 0, error);
  error = NULL;
  status = shearsModelRun(model, NULL, 1, &b, &error);
  report("NULL inputs", status == 0, error);
  error = NULL;
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&a, 1, NULL, &error);
  report("NULL outputs", status == 0, error);
  error = NULL;
  int64_t tall[] = {3, 2};
  ShearsTensor *c = shearsTensorCreate(SHEARS_DTYPE_F32, 2, tall, NULL, NULL);
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&c, 1, &b, &error);
  report("static dim", status == 0, error);
  shearsTensorFree(c);
  error = NULL;
  c = shearsTensorCreate(SHEARS_DTYPE_I8, 2, shape, NULL, NULL);
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&c, 1, &b, &error);
  report("dtype", status == 0, error);
  shearsTensorFree(c);
  error = NULL;
  c = shearsTensorCreate(SHEARS_DTYPE_F32, 1, shape, NULL, NULL);
  status =
      shearsModelRun(model, (const ShearsTensor *const *)&c, 1, &b, &error);
  report("rank", status == 0, error);
  shearsTensorFree(c);
  // A failed run sets no message where none is asked for.
  status = shearsModelRun(model, NULL, 3, &b, NULL);
  printf("no error pointer: %d\n", status);
  status = shearsModelRun(NULL, NULL, 0, NULL, NULL);
  printf("no model: %d\n", status);

  shearsTensorFree(a);
  shearsModelFree(model);
  shearsModelFree(NULL);
  printf("owner freed: %d\n", ownerFrees);
  printf("signature of NULL: %s\n",
         shearsModelSignature(NULL) ? "set" : "NULL");
}

static int copy(const char *from, const char *to) {
  char *error = NULL;
  ShearsTensor *tensor = shearsTensorLoadNpy(from, &error);
  if (!tensor) {
    fprintf(stderr, "error: %s\n", error);
    shearsFreeString(error);
    return 1;
  }
  printType("loaded", tensor);
  int status = shearsTensorSaveNpy(tensor, to, &error);
  if (status != 0) {
    fprintf(stderr, "error: %s\n", error);
    shearsFreeString(error);
  }
  shearsTensorFree(tensor);
  return status;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "api") == 0) {
    checkDTypes();
    checkTensors();
    checkModels();
    checkBatchChunks();
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "copy") == 0)
    return copy(argv[2], argv[3]);
  fprintf(stderr, "usage: %s api | copy IN.npy OUT.npy\n", argv[0]);
  return 2;
}
