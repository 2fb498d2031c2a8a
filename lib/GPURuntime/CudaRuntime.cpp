//===- CudaRuntime.cpp - mgpu* and weight uploads over the CUDA driver ----===//
//
// Debian has no libmlir_cuda_runtime, and a compiled model should not need
// the CUDA toolkit: this is Shears's own, over the driver API resolved with
// dlsym from the driver's library at first use. It links into every GPU
// model library and into the compiler (for the JIT), so it uses only libc,
// libdl and pthreads: no C++ runtime (no exceptions, no function-local
// statics, no allocation through new).
//
// The driver API types are declared here as the ABI defines them (opaque
// handles, int results, 64-bit device pointers).
//
//===----------------------------------------------------------------------===//

#include "shears-c/GPURuntime.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// The driver's opaque handle types, by the names its ABI gives them (at
// global scope, so that a driver built with -fsanitize=function, like the
// tests' stand-in, sees the same function types).
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
struct CUevent_st;

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;
constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;

/// The driver entry points used, by their exported (versioned) names.
#define SHEARS_CUDA_FUNCTIONS(X)                                               \
  X(cuInit, CUresult (*)(unsigned))                                            \
  X(cuGetErrorString, CUresult (*)(CUresult, const char **))                   \
  X(cuDeviceGetCount, CUresult (*)(int *))                                     \
  X(cuDeviceGet, CUresult (*)(CUdevice *, int))                                \
  X(cuDevicePrimaryCtxRetain, CUresult (*)(CUcontext *, CUdevice))             \
  X(cuCtxSetCurrent, CUresult (*)(CUcontext))                                  \
  X(cuModuleLoadDataEx,                                                        \
    CUresult (*)(CUmodule *, const void *, unsigned, int *, void **))          \
  X(cuModuleUnload, CUresult (*)(CUmodule))                                    \
  X(cuModuleGetFunction, CUresult (*)(CUfunction *, CUmodule, const char *))   \
  X(cuLaunchKernel,                                                            \
    CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, \
                 unsigned, unsigned, CUstream, void **, void **))              \
  X(cuStreamCreate, CUresult (*)(CUstream *, unsigned))                        \
  X(cuStreamDestroy_v2, CUresult (*)(CUstream))                                \
  X(cuStreamSynchronize, CUresult (*)(CUstream))                               \
  X(cuStreamWaitEvent, CUresult (*)(CUstream, CUevent, unsigned))              \
  X(cuEventCreate, CUresult (*)(CUevent *, unsigned))                          \
  X(cuEventDestroy_v2, CUresult (*)(CUevent))                                  \
  X(cuEventRecord, CUresult (*)(CUevent, CUstream))                            \
  X(cuEventSynchronize, CUresult (*)(CUevent))                                 \
  X(cuEventElapsedTime, CUresult (*)(float *, CUevent, CUevent))               \
  X(cuMemAlloc_v2, CUresult (*)(CUdeviceptr *, size_t))                        \
  X(cuMemAllocManaged, CUresult (*)(CUdeviceptr *, size_t, unsigned))          \
  X(cuMemFree_v2, CUresult (*)(CUdeviceptr))                                   \
  X(cuMemAllocAsync, CUresult (*)(CUdeviceptr *, size_t, CUstream))            \
  X(cuMemFreeAsync, CUresult (*)(CUdeviceptr, CUstream))                       \
  X(cuMemcpyAsync, CUresult (*)(CUdeviceptr, CUdeviceptr, size_t, CUstream))   \
  X(cuMemcpyHtoD_v2, CUresult (*)(CUdeviceptr, const void *, size_t))          \
  X(cuMemsetD32Async, CUresult (*)(CUdeviceptr, unsigned, size_t, CUstream))   \
  X(cuMemsetD16Async,                                                          \
    CUresult (*)(CUdeviceptr, unsigned short, size_t, CUstream))

template <typename T> using Id = T;

struct Driver {
#define SHEARS_CUDA_FIELD(name, type) Id<type> name;
  SHEARS_CUDA_FUNCTIONS(SHEARS_CUDA_FIELD)
#undef SHEARS_CUDA_FIELD
  CUcontext context;
  /// Why the driver or the device cannot be used; empty when they can.
  char unusable[512];
};

Driver driver;
int deviceOrdinal = -1; // mgpuSetDefaultDevice, before first use.
pthread_once_t driverOnce = PTHREAD_ONCE_INIT;

/// The first error since it was last taken.
pthread_mutex_t errorMutex = PTHREAD_MUTEX_INITIALIZER;
char pendingError[2048];
bool hasPendingError = false;

__attribute__((format(printf, 1, 2))) void fail(const char *format, ...) {
  pthread_mutex_lock(&errorMutex);
  if (!hasPendingError) {
    va_list args;
    va_start(args, format);
    vsnprintf(pendingError, sizeof(pendingError), format, args);
    va_end(args);
    hasPendingError = true;
  }
  pthread_mutex_unlock(&errorMutex);
}

bool errorPending() {
  pthread_mutex_lock(&errorMutex);
  bool pending = hasPendingError;
  pthread_mutex_unlock(&errorMutex);
  return pending;
}

const char *errorString(CUresult result) {
  const char *message = nullptr;
  if (driver.cuGetErrorString &&
      driver.cuGetErrorString(result, &message) == CUDA_SUCCESS && message)
    return message;
  return "unknown CUDA error";
}

void loadDriver() {
  const char *path = getenv("SHEARS_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *reason = dlerror();
    snprintf(driver.unusable, sizeof(driver.unusable),
             "no CUDA driver found (%s): running on the GPU needs an NVIDIA "
             "GPU and its driver",
             reason ? reason : path);
    return;
  }
#define SHEARS_CUDA_RESOLVE(name, type)                                        \
  driver.name = reinterpret_cast<type>(dlsym(library, #name));                 \
  if (!driver.name) {                                                          \
    snprintf(driver.unusable, sizeof(driver.unusable),                         \
             "the CUDA driver %s has no %s: it is too old (CUDA 11.2 or "      \
             "later is needed)",                                               \
             path, #name);                                                     \
    return;                                                                    \
  }
  SHEARS_CUDA_FUNCTIONS(SHEARS_CUDA_RESOLVE)
#undef SHEARS_CUDA_RESOLVE

  CUresult result = driver.cuInit(0);
  int count = 0;
  if (result == CUDA_SUCCESS)
    result = driver.cuDeviceGetCount(&count);
  if (result != CUDA_SUCCESS || count == 0) {
    snprintf(driver.unusable, sizeof(driver.unusable), "no CUDA GPU found: %s",
             result != CUDA_SUCCESS ? errorString(result)
                                    : "the driver sees no device");
    return;
  }
  int ordinal = deviceOrdinal;
  if (ordinal < 0) {
    const char *env = getenv("SHEARS_CUDA_DEVICE");
    ordinal = env && *env ? atoi(env) : 0;
  }
  if (ordinal < 0 || ordinal >= count) {
    snprintf(driver.unusable, sizeof(driver.unusable),
             "CUDA device %d does not exist: there %s %d", ordinal,
             count == 1 ? "is" : "are", count);
    return;
  }
  CUdevice device;
  result = driver.cuDeviceGet(&device, ordinal);
  if (result == CUDA_SUCCESS)
    result = driver.cuDevicePrimaryCtxRetain(&driver.context, device);
  if (result != CUDA_SUCCESS)
    snprintf(driver.unusable, sizeof(driver.unusable),
             "cannot use CUDA device %d: %s", ordinal, errorString(result));
}

/// Whether the driver and device are usable, with the calling thread's
/// context set.
bool driverReady() {
  pthread_once(&driverOnce, loadDriver);
  if (driver.unusable[0])
    return false;
  return driver.cuCtxSetCurrent(driver.context) == CUDA_SUCCESS;
}

/// Whether work may be queued: the driver is usable and nothing failed
/// since the last error was taken (the first error is the one reported).
bool ready() {
  if (!driverReady()) {
    fail("%s", driver.unusable[0] ? driver.unusable
                                  : "cannot make the CUDA context current");
    return false;
  }
  return !errorPending();
}

/// Timing (shears_gpu_set_timing): each call's device work is one stream
/// from its creation to its synchronization; events at both ends measure
/// it as the GPU ran it.
pthread_mutex_t timingMutex = PTHREAD_MUTEX_INITIALIZER;
bool timing = false;
constexpr int kMaxTimedStreams = 64;
struct TimedStream {
  CUstream stream;
  CUevent start;
} timedStreams[kMaxTimedStreams];
double timedMs = 0;
/// Kernel timing (shears_gpu_set_timing(2)): events around each launch,
/// read when its stream is synchronized.
bool kernelTiming = false;
constexpr int kMaxTimedKernels = 4096;
struct TimedKernel {
  CUstream stream;
  CUevent start, end;
} timedKernels[kMaxTimedKernels];
int numTimedKernels = 0;
double kernelMs = 0, longestKernelMs = 0;

bool check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return true;
  fail("%s failed: %s", what, errorString(result));
  return false;
}

/// Two events, or none.
bool createEvents(CUevent &start, CUevent &end) {
  if (driver.cuEventCreate(&start, 0) != CUDA_SUCCESS)
    return false;
  if (driver.cuEventCreate(&end, 0) == CUDA_SUCCESS)
    return true;
  driver.cuEventDestroy_v2(start);
  start = nullptr;
  return false;
}

CUdeviceptr devicePtr(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

} // namespace

//===----------------------------------------------------------------------===//
// What MLIR's gpu-to-llvm lowering calls (the signatures of its
// CudaRuntimeWrappers).
//===----------------------------------------------------------------------===//

extern "C" {

void mgpuSetDefaultDevice(int32_t device) { deviceOrdinal = device; }

CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  (void)optLevel; // The driver's default, the highest.
  if (!ready())
    return nullptr;
  char log[4096] = "";
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module = nullptr;
  CUresult result =
      driver.cuModuleLoadDataEx(&module, data, 2, options, values);
  if (result != CUDA_SUCCESS) {
    fail("the driver cannot load the model's PTX: %s%s%s", errorString(result),
         log[0] ? ": " : "", log);
    return nullptr;
  }
  return module;
}

CUmodule mgpuModuleLoad(void *data, size_t size) {
  (void)size;
  return mgpuModuleLoadJIT(data, 3);
}

void mgpuModuleUnload(CUmodule module) {
  if (module && driverReady())
    driver.cuModuleUnload(module);
}

CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  if (!ready())
    return nullptr;
  if (!module) {
    fail("the model's kernels were not loaded (kernel '%s')", name);
    return nullptr;
  }
  CUfunction function = nullptr;
  if (driver.cuModuleGetFunction(&function, module, name) != CUDA_SUCCESS) {
    fail("the model's GPU code has no kernel '%s'", name);
    return nullptr;
  }
  return function;
}

void mgpuLaunchKernel(CUfunction function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, CUstream stream,
                      void **params, void **extra, size_t paramsCount) {
  (void)paramsCount;
  if (!function || !ready())
    return;
  // A kernel over no elements has an empty grid: nothing to run.
  if (gridX == 0 || gridY == 0 || gridZ == 0)
    return;
  pthread_mutex_lock(&timingMutex);
  CUevent start = nullptr, end = nullptr;
  if (kernelTiming && numTimedKernels < kMaxTimedKernels &&
      createEvents(start, end)) {
    timedKernels[numTimedKernels++] = {stream, start, end};
    driver.cuEventRecord(start, stream);
  }
  pthread_mutex_unlock(&timingMutex);
  check(driver.cuLaunchKernel(function, gridX, gridY, gridZ, blockX, blockY,
                              blockZ, smem, stream, params, extra),
        "launching a kernel");
  if (end)
    driver.cuEventRecord(end, stream);
}

CUstream mgpuStreamCreate() {
  if (!ready())
    return nullptr;
  CUstream stream = nullptr;
  if (!check(driver.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING),
             "creating a stream"))
    return nullptr;
  pthread_mutex_lock(&timingMutex);
  if (timing) {
    CUevent start = nullptr;
    for (TimedStream &slot : timedStreams)
      if (!slot.stream) {
        if (driver.cuEventCreate(&start, 0) == CUDA_SUCCESS &&
            driver.cuEventRecord(start, stream) == CUDA_SUCCESS)
          slot = {stream, start};
        break;
      }
  }
  pthread_mutex_unlock(&timingMutex);
  return stream;
}

void mgpuStreamDestroy(CUstream stream) {
  if (stream && driverReady())
    driver.cuStreamDestroy_v2(stream);
}

void mgpuStreamSynchronize(CUstream stream) {
  if (!stream || !driverReady())
    return;
  CUevent start = nullptr, end = nullptr;
  pthread_mutex_lock(&timingMutex);
  for (TimedStream &slot : timedStreams)
    if (slot.stream == stream) {
      start = slot.start;
      slot = {nullptr, nullptr};
      break;
    }
  pthread_mutex_unlock(&timingMutex);
  if (start && (driver.cuEventCreate(&end, 0) != CUDA_SUCCESS ||
                driver.cuEventRecord(end, stream) != CUDA_SUCCESS))
    end = nullptr;
  bool ran =
      check(driver.cuStreamSynchronize(stream), "running the model on the GPU");
  float ms = 0;
  if (ran && start && end &&
      driver.cuEventElapsedTime(&ms, start, end) == CUDA_SUCCESS) {
    pthread_mutex_lock(&timingMutex);
    timedMs += ms;
    pthread_mutex_unlock(&timingMutex);
  }
  // The stream's kernels, timed one by one.
  pthread_mutex_lock(&timingMutex);
  int kept = 0;
  for (int i = 0; i < numTimedKernels; ++i) {
    TimedKernel &kernel = timedKernels[i];
    if (kernel.stream != stream) {
      timedKernels[kept++] = kernel;
      continue;
    }
    float kernelTime = 0;
    if (ran && driver.cuEventElapsedTime(&kernelTime, kernel.start,
                                         kernel.end) == CUDA_SUCCESS) {
      kernelMs += kernelTime;
      if (kernelTime > longestKernelMs)
        longestKernelMs = kernelTime;
    }
    driver.cuEventDestroy_v2(kernel.start);
    driver.cuEventDestroy_v2(kernel.end);
  }
  numTimedKernels = kept;
  pthread_mutex_unlock(&timingMutex);
  if (start)
    driver.cuEventDestroy_v2(start);
  if (end)
    driver.cuEventDestroy_v2(end);
}

void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  if (stream && event && ready())
    check(driver.cuStreamWaitEvent(stream, event, 0), "waiting for an event");
}

CUevent mgpuEventCreate() {
  if (!ready())
    return nullptr;
  CUevent event = nullptr;
  check(driver.cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
        "creating an event");
  return event;
}

void mgpuEventDestroy(CUevent event) {
  if (event && driverReady())
    driver.cuEventDestroy_v2(event);
}

void mgpuEventSynchronize(CUevent event) {
  if (event && driverReady())
    check(driver.cuEventSynchronize(event), "running the model on the GPU");
}

void mgpuEventRecord(CUevent event, CUstream stream) {
  if (event && ready())
    check(driver.cuEventRecord(event, stream), "recording an event");
}

void *mgpuMemAlloc(uint64_t bytes, CUstream stream, bool hostShared) {
  if (bytes == 0 || !ready())
    return nullptr;
  CUdeviceptr pointer = 0;
  CUresult result = hostShared ? driver.cuMemAllocManaged(&pointer, bytes,
                                                          CU_MEM_ATTACH_GLOBAL)
                    : stream   ? driver.cuMemAllocAsync(&pointer, bytes, stream)
                               : driver.cuMemAlloc_v2(&pointer, bytes);
  if (result != CUDA_SUCCESS) {
    fail("allocating %llu bytes on the GPU failed: %s",
         static_cast<unsigned long long>(bytes), errorString(result));
    return nullptr;
  }
  return reinterpret_cast<void *>(static_cast<uintptr_t>(pointer));
}

void mgpuMemFree(void *pointer, CUstream stream) {
  if (!pointer || !driverReady())
    return;
  if (stream)
    driver.cuMemFreeAsync(devicePtr(pointer), stream);
  else
    driver.cuMemFree_v2(devicePtr(pointer));
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, CUstream stream) {
  if (bytes == 0 || !dst || !src || !ready())
    return;
  check(driver.cuMemcpyAsync(devicePtr(dst), devicePtr(src), bytes, stream),
        "copying between host and GPU");
}

void mgpuMemset32(void *dst, unsigned value, size_t count, CUstream stream) {
  if (count && dst && ready())
    check(driver.cuMemsetD32Async(devicePtr(dst), value, count, stream),
          "filling GPU memory");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  CUstream stream) {
  if (count && dst && ready())
    check(driver.cuMemsetD16Async(devicePtr(dst), value, count, stream),
          "filling GPU memory");
}

//===----------------------------------------------------------------------===//
// Shears's own
//===----------------------------------------------------------------------===//

void *shears_gpu_constant(void **slot, const void *host, uint64_t bytes) {
  if (*slot)
    return *slot;
  void *device = mgpuMemAlloc(bytes, /*stream=*/nullptr, false);
  if (!device)
    return nullptr;
  if (!check(driver.cuMemcpyHtoD_v2(devicePtr(device), host, bytes),
             "uploading the weights")) {
    mgpuMemFree(device, nullptr);
    return nullptr;
  }
  *slot = device;
  return device;
}

void shears_gpu_release_constant(void **slot) {
  mgpuMemFree(*slot, nullptr);
  *slot = nullptr;
}

char *shears_gpu_take_error(void) {
  pthread_mutex_lock(&errorMutex);
  char *message = hasPendingError ? strdup(pendingError) : nullptr;
  hasPendingError = false;
  pthread_mutex_unlock(&errorMutex);
  return message;
}

void shears_gpu_set_timing(int on) {
  pthread_mutex_lock(&timingMutex);
  timing = on != 0;
  kernelTiming = on == 2;
  timedMs = kernelMs = longestKernelMs = 0;
  pthread_mutex_unlock(&timingMutex);
}

double shears_gpu_take_kernel_time_ms(double *longest_ms) {
  pthread_mutex_lock(&timingMutex);
  double ms = kernelMs;
  if (longest_ms)
    *longest_ms = longestKernelMs;
  kernelMs = longestKernelMs = 0;
  pthread_mutex_unlock(&timingMutex);
  return ms;
}

double shears_gpu_take_time_ms(void) {
  pthread_mutex_lock(&timingMutex);
  double ms = timedMs;
  timedMs = 0;
  pthread_mutex_unlock(&timingMutex);
  return ms;
}

char *shears_gpu_check_device(void) {
  if (driverReady())
    return nullptr;
  return strdup(driver.unusable[0] ? driver.unusable
                                   : "cannot make the CUDA context current");
}

} // extern "C"

namespace {
#define SHEARS_GPU_SYMBOL(name)                                                \
  { #name, reinterpret_cast < void *>(&name) }
const ShearsGPUSymbol gpuSymbols[] = {
    SHEARS_GPU_SYMBOL(mgpuSetDefaultDevice),
    SHEARS_GPU_SYMBOL(mgpuModuleLoadJIT),
    SHEARS_GPU_SYMBOL(mgpuModuleLoad),
    SHEARS_GPU_SYMBOL(mgpuModuleUnload),
    SHEARS_GPU_SYMBOL(mgpuModuleGetFunction),
    SHEARS_GPU_SYMBOL(mgpuLaunchKernel),
    SHEARS_GPU_SYMBOL(mgpuStreamCreate),
    SHEARS_GPU_SYMBOL(mgpuStreamDestroy),
    SHEARS_GPU_SYMBOL(mgpuStreamSynchronize),
    SHEARS_GPU_SYMBOL(mgpuStreamWaitEvent),
    SHEARS_GPU_SYMBOL(mgpuEventCreate),
    SHEARS_GPU_SYMBOL(mgpuEventDestroy),
    SHEARS_GPU_SYMBOL(mgpuEventSynchronize),
    SHEARS_GPU_SYMBOL(mgpuEventRecord),
    SHEARS_GPU_SYMBOL(mgpuMemAlloc),
    SHEARS_GPU_SYMBOL(mgpuMemFree),
    SHEARS_GPU_SYMBOL(mgpuMemcpy),
    SHEARS_GPU_SYMBOL(mgpuMemset32),
    SHEARS_GPU_SYMBOL(mgpuMemset16),
    SHEARS_GPU_SYMBOL(shears_gpu_constant),
    SHEARS_GPU_SYMBOL(shears_gpu_release_constant),
    SHEARS_GPU_SYMBOL(shears_gpu_take_error),
    {nullptr, nullptr},
};
#undef SHEARS_GPU_SYMBOL
} // namespace

const ShearsGPUSymbol *shears_gpu_symbols(void) { return gpuSymbols; }
