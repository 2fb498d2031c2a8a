//===- shears-c/Runtime.h - C API to run compiled models ----------*- C -*-===//
//
// Runs a model compiled by Shears, JIT-compiled in process or loaded from an
// AOT shared library, on tensors owned by the runtime. Plain C99: it is what
// the Python package and C/C++ embedders build on. The library implementing
// it (ShearsCAPIRuntime / libshears_runtime.so) needs nothing but libc and
// libdl.
//
// Conventions:
//  - Functions that can fail take `char **error`. On failure they return
//    NULL or a nonzero int and, when `error` is not NULL, set `*error` to a
//    message to release with shearsFreeString. On success `*error` is left
//    untouched. Bad input is always reported, never asserted on.
//  - Objects are released with their *Free function, which accepts NULL.
//  - Indices out of range make accessors return NULL, 0 or -1, never crash.
//
// The ABI a compiled model exports (what shearsModelLoadLibrary looks up):
//  - `void shears_invoke(void **args)`: args[0] points to the descriptors of
//    all outputs laid out one after another, args[1 + i] to the descriptor
//    of input i (of n), args[1 + n] to the descriptor of the workspace (a
//    byte buffer of the signature's "workspace" size), and args[2 + n] to
//    an int32_t that receives the model's shape check: 0 when the model ran,
//    k > 0 when the inputs' dynamic dimensions disagree where it needs them
//    equal and it did not run ("checks"[k - 1] of the signature says where).
//    A descriptor is the MLIR memref descriptor
//    {void *allocated; void *aligned; int64_t offset; int64_t sizes[rank];
//    int64_t strides[rank];}. Outputs are malloc'd by the model and owned by
//    the caller, who frees `allocated`.
//  - A model compiled for an NVIDIA GPU (shears-lower-to-nvvm) also exports
//    `char *shears_gpu_take_error(void)`, which returns the first error of
//    its GPU runtime since the last call (malloc'd) or NULL, and
//    `void shears_release(void)`, which frees its weights on the device.
//    The runtime checks the first after loading and after each run, and
//    calls the second before the model is freed.
//  - `const char shears_signature[]`: a JSON description of the inputs and
//    outputs, e.g. {"inputs":[{"name":"input","dtype":"f32",
//    "shape":[-1,784]}],"outputs":[...]} where -1 is a dynamic dimension,
//    with "workspace" and "checks" where the model has them.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_C_RUNTIME_H
#define SHEARS_C_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define SHEARS_RUNTIME_EXPORT
#else
#define SHEARS_RUNTIME_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// A dimension whose size is only known when the model runs.
#define SHEARS_DYNAMIC_DIM ((int64_t)-1)

/// Element types; the comment is the name used in signatures and messages.
typedef enum ShearsDType {
  SHEARS_DTYPE_INVALID = -1, // what accessors return out of range
  SHEARS_DTYPE_F32 = 0,      // f32
  SHEARS_DTYPE_F64 = 1,      // f64
  SHEARS_DTYPE_F16 = 2,      // f16: IEEE half, stored as its 16 bits
  SHEARS_DTYPE_I64 = 3,      // i64
  SHEARS_DTYPE_I32 = 4,      // i32
  SHEARS_DTYPE_I8 = 5,       // i8
  SHEARS_DTYPE_U8 = 6,       // u8
  SHEARS_DTYPE_I1 = 7,       // i1: bool, one byte (0 or 1) per element
  // Not a type: makes any int a valid value in C++ too, so that the library
  // can reject a bad one rather than have undefined behavior.
  SHEARS_DTYPE_MAX_ENUM = 0x7FFFFFFF,
} ShearsDType;

/// Returns the signature name of `dtype` ("f32", ...), or NULL if `dtype` is
/// not a ShearsDType.
SHEARS_RUNTIME_EXPORT const char *shearsDTypeName(ShearsDType dtype);

/// Parses a signature name ("f32", ...). Returns 0 and sets `*dtype` on
/// success, nonzero if `name` is not a known type.
SHEARS_RUNTIME_EXPORT int shearsDTypeFromName(const char *name,
                                              ShearsDType *dtype);

/// Returns the size in bytes of one element, or 0 for an invalid `dtype`.
SHEARS_RUNTIME_EXPORT size_t shearsDTypeSize(ShearsDType dtype);

/// Formats a type the way error messages do, e.g. "f32 [?x784]" (a negative
/// dim prints as `?`, rank 0 as "[]"). Release with shearsFreeString; NULL
/// only when out of memory.
SHEARS_RUNTIME_EXPORT char *shearsTypeToString(ShearsDType dtype, size_t rank,
                                               const int64_t *shape);

/// Releases a string returned by this API. Accepts NULL.
SHEARS_RUNTIME_EXPORT void shearsFreeString(char *str);

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

/// A dense, row-major (C order) tensor with static shape. Normally it owns
/// its data; see shearsTensorWrap for one that borrows it.
typedef struct ShearsTensor ShearsTensor;

/// Creates a tensor of `dtype` and `shape` (`rank` dims, each >= 0). When
/// `data` is not NULL, numElements * elementSize bytes are copied from it;
/// otherwise the tensor is zero-filled. Fails on a bad dtype, a negative dim,
/// a size that overflows, or when out of memory.
SHEARS_RUNTIME_EXPORT ShearsTensor *
shearsTensorCreate(ShearsDType dtype, size_t rank, const int64_t *shape,
                   const void *data, char **error);

/// Like shearsTensorCreate with data, but without a copy: the tensor points
/// at `data`, which the caller keeps alive and unchanged while the tensor is
/// used as an input, and frees itself after shearsTensorFree.
SHEARS_RUNTIME_EXPORT ShearsTensor *shearsTensorWrap(ShearsDType dtype,
                                                     size_t rank,
                                                     const int64_t *shape,
                                                     void *data, char **error);

/// Releases `tensor` and the data it owns. Accepts NULL.
SHEARS_RUNTIME_EXPORT void shearsTensorFree(ShearsTensor *tensor);

SHEARS_RUNTIME_EXPORT ShearsDType shearsTensorDType(const ShearsTensor *tensor);
SHEARS_RUNTIME_EXPORT size_t shearsTensorRank(const ShearsTensor *tensor);
/// The `rank` dims of the tensor (NULL for rank 0), valid while it lives.
SHEARS_RUNTIME_EXPORT const int64_t *
shearsTensorShape(const ShearsTensor *tensor);
SHEARS_RUNTIME_EXPORT size_t
shearsTensorNumElements(const ShearsTensor *tensor);
SHEARS_RUNTIME_EXPORT size_t
shearsTensorSizeInBytes(const ShearsTensor *tensor);
/// The first element, in row-major order (not NULL, even when empty).
SHEARS_RUNTIME_EXPORT void *shearsTensorData(const ShearsTensor *tensor);

/// Reads a `.npy` file (format 1.0, 2.0 or 3.0) holding a little-endian,
/// C-order (or rank <= 1) array of one of the ShearsDType element types.
SHEARS_RUNTIME_EXPORT ShearsTensor *shearsTensorLoadNpy(const char *path,
                                                        char **error);

/// Writes `tensor` as a `.npy` file readable by numpy.load. Returns 0 on
/// success; on failure nothing is left at `path`.
SHEARS_RUNTIME_EXPORT int shearsTensorSaveNpy(const ShearsTensor *tensor,
                                              const char *path, char **error);

/// Reads `.npy` bytes held in memory (an entry of an .npz archive, say);
/// `what` names them in errors.
SHEARS_RUNTIME_EXPORT ShearsTensor *
shearsTensorLoadNpyBuffer(const void *data, size_t size, const char *what,
                          char **error);

/// Writes `tensor` in the `.npy` format into a new buffer `*data` of `*size`
/// bytes, which the caller releases with free(). Returns 0 on success.
SHEARS_RUNTIME_EXPORT int shearsTensorSaveNpyBuffer(const ShearsTensor *tensor,
                                                    char **data, size_t *size,
                                                    char **error);

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

/// A compiled model: its entry point and its parsed signature.
typedef struct ShearsModel ShearsModel;

/// Loads an AOT-compiled model from the shared library at `path` (dlopen'd
/// with RTLD_NOW | RTLD_LOCAL, closed by shearsModelFree).
SHEARS_RUNTIME_EXPORT ShearsModel *shearsModelLoadLibrary(const char *path,
                                                          char **error);

/// Creates a model from an entry point and signature already in memory (the
/// JIT). `signatureJson` is copied. On success the model owns `owner` (e.g.
/// the execution engine that holds the code of `invoke`) and calls
/// `ownerFree(owner)`, if not NULL, when it is freed; on failure the caller
/// keeps it.
SHEARS_RUNTIME_EXPORT ShearsModel *
shearsModelCreate(void (*invoke)(void **args), const char *signatureJson,
                  void *owner, void (*ownerFree)(void *owner), char **error);

/// Releases `model` and what it owns. Accepts NULL. Tensors it produced stay
/// valid.
SHEARS_RUNTIME_EXPORT void shearsModelFree(ShearsModel *model);

/// The signature JSON the model was created with.
SHEARS_RUNTIME_EXPORT const char *
shearsModelSignature(const ShearsModel *model);

SHEARS_RUNTIME_EXPORT size_t shearsModelNumInputs(const ShearsModel *model);
SHEARS_RUNTIME_EXPORT size_t shearsModelNumOutputs(const ShearsModel *model);

/// Describe input or output `index`: its name, element type, rank and `rank`
/// dims (SHEARS_DYNAMIC_DIM where dynamic; NULL for rank 0). Out of range they
/// return NULL, SHEARS_DTYPE_INVALID and 0. The pointers are valid while the
/// model lives.
SHEARS_RUNTIME_EXPORT const char *shearsModelInputName(const ShearsModel *model,
                                                       size_t index);
SHEARS_RUNTIME_EXPORT ShearsDType
shearsModelInputDType(const ShearsModel *model, size_t index);
SHEARS_RUNTIME_EXPORT size_t shearsModelInputRank(const ShearsModel *model,
                                                  size_t index);
SHEARS_RUNTIME_EXPORT const int64_t *
shearsModelInputShape(const ShearsModel *model, size_t index);
SHEARS_RUNTIME_EXPORT const char *
shearsModelOutputName(const ShearsModel *model, size_t index);
SHEARS_RUNTIME_EXPORT ShearsDType
shearsModelOutputDType(const ShearsModel *model, size_t index);
SHEARS_RUNTIME_EXPORT size_t shearsModelOutputRank(const ShearsModel *model,
                                                   size_t index);
SHEARS_RUNTIME_EXPORT const int64_t *
shearsModelOutputShape(const ShearsModel *model, size_t index);

/// Runs `model` on `numInputs` input tensors, in signature order. Each must
/// have the signature's element type and rank, and every static dim must
/// match. On success returns 0 and stores shearsModelNumOutputs(model) new
/// tensors in `outputs`, owned by the caller. On failure returns nonzero and
/// stores NULL in each of them. Inputs are not modified. The model keeps its
/// workspace (the intermediates' memory, planned at compile time) from run
/// to run; runs of one model from several threads take turns, runs of
/// different models proceed in parallel.
SHEARS_RUNTIME_EXPORT int shearsModelRun(ShearsModel *model,
                                         const ShearsTensor *const *inputs,
                                         size_t numInputs,
                                         ShearsTensor **outputs, char **error);

/// Images per call when the model is batch-separable (its signature's
/// "batch", from shears-mark-batch-separable: each image's outputs depend
/// only on that image): a larger batch runs as calls on consecutive chunks
/// of at most this many images, so that each call's intermediates stay in
/// the caches, and the outputs are put together. 0 (the default): as many
/// as keep the model's workspace within 16 MiB (16 / N MiB each when N
/// chunks run at once). On N threads a batch that is a multiple of N runs
/// as N equal shares at once, each on one thread in chunks of at most this
/// many images, in a workspace of its own. The outputs do not depend on it.
/// Returns 0, or nonzero with `*error` set for a negative count.
SHEARS_RUNTIME_EXPORT int
shearsModelSetBatchChunk(ShearsModel *model, int64_t images, char **error);

/// The most threads a model's kernels take (shearsModelSetThreads, the
/// tools' --threads, the kernels' pool).
#define SHEARS_MAX_THREADS 1024

/// Threads the model's kernels use from the next run on: 1 to
/// SHEARS_MAX_THREADS (the default is every online CPU). Returns 0, or nonzero with `*error` set for
/// a count out of range. The result does not depend on the count: work is
/// split by output tiles, never inside a sum.
SHEARS_RUNTIME_EXPORT int shearsModelSetThreads(ShearsModel *model,
                                                int threads, char **error);

/// For embedders that JIT: the function that sets the thread count of the
/// kernels the model's code calls (shears_uk_set_num_threads of the process's
/// copy of the kernels). A library model finds its own.
SHEARS_RUNTIME_EXPORT void
shearsModelSetThreadControl(ShearsModel *model, int (*setThreads)(int));

/// For embedders that JIT: the function that runs tasks on the threads of
/// those kernels (shears_uk_parallel_for). With it, a batch that the threads
/// share evenly runs a share a thread (see shearsModelRun); without it, each
/// kernel uses every thread. A library model finds its own.
SHEARS_RUNTIME_EXPORT void shearsModelSetParallelFor(
    ShearsModel *model,
    void (*parallelFor)(int64_t count,
                        void (*task)(void *ctx, int64_t index, int worker),
                        void *ctx));

/// For embedders that JIT a GPU model: the GPU runtime's error report (see
/// shears_gpu_take_error above), checked when this is called and after each
/// run, and the model's `shears_release`, called before the model is freed
/// (either may be NULL). Returns 0, or nonzero with `*error` set to the GPU
/// runtime's error (the model cannot run). A library model finds its own.
SHEARS_RUNTIME_EXPORT int shearsModelSetDeviceControl(ShearsModel *model,
                                                      char *(*takeError)(void),
                                                      void (*release)(void),
                                                      char **error);

#ifdef __cplusplus
}
#endif

#endif // SHEARS_C_RUNTIME_H
