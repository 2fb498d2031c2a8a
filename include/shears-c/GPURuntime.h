/*===- shears-c/GPURuntime.h - Shears's CUDA runtime --------------*- C -*-===*\
|*                                                                            *|
|* What code compiled by `shears-lower-to-nvvm` calls: the mgpu* functions   *|
|* of MLIR's gpu-to-llvm lowering (module load, launch, streams, memory) and *|
|* Shears's own weight uploads, implemented over the CUDA driver API, which  *|
|* is loaded with dlopen("libcuda.so.1") on first use. Building needs no    *|
|* CUDA toolkit; a compiled model needs libc, libdl and, to run, the driver. *|
|*                                                                            *|
|* The driver's library is $SHEARS_CUDA_DRIVER when set, else libcuda.so.1;  *|
|* the device is $SHEARS_CUDA_DEVICE (an ordinal, default 0).                *|
|*                                                                            *|
|* Errors cannot travel through generated code: the first one is kept (with *|
|* the driver's message) and every later launch, copy or allocation is      *|
|* skipped until shears_gpu_take_error reports it. Frees always run.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef SHEARS_C_GPURUNTIME_H
#define SHEARS_C_GPURUNTIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHEARS_GPU_EXPORT __attribute__((visibility("default")))

/* The first error since the last call, as a malloc'd message the caller
 * frees, or NULL when all went well. A compiled GPU model exports it, and
 * the C runtime calls it after loading a model and after each run. */
SHEARS_GPU_EXPORT char *shears_gpu_take_error(void);

/* Checks that the driver loads and a GPU is there (without running
 * anything). Returns NULL, or a malloc'd message saying what is missing. */
SHEARS_GPU_EXPORT char *shears_gpu_check_device(void);

/* Measures the device work of each run (from the first copy in to the last
 * copy out, with CUDA events) while on (non-zero); `on` = 2 also times each
 * kernel (events around every launch, which cost a little time themselves).
 * Turning it on or off clears the totals. */
SHEARS_GPU_EXPORT void shears_gpu_set_timing(int on);

/* Milliseconds of device work measured since the last call (or since timing
 * was turned on), and clears them. */
SHEARS_GPU_EXPORT double shears_gpu_take_time_ms(void);

/* With kernel timing on (shears_gpu_set_timing(2)): milliseconds the kernels
 * themselves ran since the last call (copies and gaps between kernels not
 * counted), and in *longest_ms (if not NULL) the longest single kernel's;
 * clears both. */
SHEARS_GPU_EXPORT double shears_gpu_take_kernel_time_ms(double *longest_ms);

/* The device copy of `bytes` bytes of constant host memory: uploaded into a
 * new device allocation the first time, when *slot is NULL, and *slot
 * returned from then on. NULL after an error. */
void *shears_gpu_constant(void **slot, const void *host, uint64_t bytes);

/* Frees what shears_gpu_constant put in *slot, and clears it. */
void shears_gpu_release_constant(void **slot);

/* Name and address of each function generated code calls, for a JIT to
 * bind; ends with {NULL, NULL}. */
typedef struct {
  const char *name;
  void *address;
} ShearsGPUSymbol;
const ShearsGPUSymbol *shears_gpu_symbols(void);

#ifdef __cplusplus
}
#endif

#endif /* SHEARS_C_GPURUNTIME_H */
