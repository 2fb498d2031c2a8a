/* A stand-in for the CUDA driver (libcuda.so.1) to test the host side of
 * Shears's GPU runtime where there is no GPU: device memory is host memory
 * (as with unified addressing), copies are memcpy, modules are PTX texts
 * whose .entry names are kept, and launches are counted but run nothing.
 * After every call it rewrites $MOCK_CUDA_LOG with its counters; the
 * function named by $MOCK_CUDA_FAIL fails with CUDA_ERROR_ILLEGAL_ADDRESS,
 * and $MOCK_CUDA_DEVICES sets the device count (default 1). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
/* The handle types as the driver's ABI names them: the runtime calls these
 * functions through pointers of those types (which -fsanitize=function
 * checks). */
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
enum { OK = 0, INVALID_VALUE = 1, NOT_FOUND = 500, ILLEGAL_ADDRESS = 700 };

static long inits, modulesLoaded, modulesUnloaded, functions, launches,
    streamsCreated, streamsDestroyed, syncs, allocs, frees, uploads,
    uploadBytes, copies, copyBytes;
static long liveAllocs;

static void dump(void) {
  const char *path = getenv("MOCK_CUDA_LOG");
  if (!path)
    return;
  FILE *f = fopen(path, "w");
  if (!f)
    return;
  fprintf(f,
          "init %ld\nmodules loaded %ld unloaded %ld\nfunctions %ld\n"
          "launches %ld\nstreams created %ld destroyed %ld\nsyncs %ld\n"
          "allocs %ld frees %ld live %ld\nuploads %ld bytes %ld\n"
          "copies %ld bytes %ld\n",
          inits, modulesLoaded, modulesUnloaded, functions, launches,
          streamsCreated, streamsDestroyed, syncs, allocs, frees, liveAllocs,
          uploads, uploadBytes, copies, copyBytes);
  fclose(f);
}

static int failing(const char *name) {
  const char *fail = getenv("MOCK_CUDA_FAIL");
  return fail && strcmp(fail, name) == 0;
}

#define RETURN(result)                                                         \
  do {                                                                         \
    dump();                                                                    \
    return failing(__func__) ? ILLEGAL_ADDRESS : (result);                     \
  } while (0)

CUresult cuInit(unsigned flags) { ++inits; RETURN(OK); }
CUresult cuGetErrorString(CUresult r, const char **s) {
  *s = r == ILLEGAL_ADDRESS ? "an illegal memory access was encountered"
                            : "mock error";
  return OK;
}
CUresult cuDeviceGetCount(int *n) {
  const char *env = getenv("MOCK_CUDA_DEVICES");
  *n = env ? atoi(env) : 1;
  RETURN(OK);
}
CUresult cuDeviceGet(int *d, int ordinal) { *d = ordinal; RETURN(OK); }
CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, int d) {
  *ctx = (CUcontext)0x1;
  RETURN(OK);
}
CUresult cuCtxSetCurrent(CUcontext ctx) { return OK; }

struct Module { char names[64][64]; int count; };
CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned n,
                            int *options, void **values) {
  const char *ptx = image;
  if (!strstr(ptx, ".version") || !strstr(ptx, ".entry"))
    RETURN(INVALID_VALUE);
  struct Module *m = calloc(1, sizeof(struct Module));
  for (const char *p = ptx; (p = strstr(p, ".entry ")) && m->count < 64;) {
    p += 7;
    size_t len = strcspn(p, "(");
    snprintf(m->names[m->count++], 64, "%.*s", (int)len, p);
  }
  *module = (CUmodule)m;
  ++modulesLoaded;
  RETURN(OK);
}
CUresult cuModuleUnload(CUmodule module) {
  free(module);
  ++modulesUnloaded;
  RETURN(OK);
}
CUresult cuModuleGetFunction(CUfunction *f, CUmodule module,
                             const char *name) {
  struct Module *m = (struct Module *)module;
  for (int i = 0; i < m->count; ++i)
    if (strcmp(m->names[i], name) == 0) {
      *f = (CUfunction)m->names[i];
      ++functions;
      RETURN(OK);
    }
  RETURN(NOT_FOUND);
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned smem,
                        CUstream stream, void **params, void **extra) {
  if (!f || !gx || !gy || !gz || !bx || bx * by * bz > 1024 || !params)
    RETURN(INVALID_VALUE);
  ++launches;
  RETURN(OK);
}
CUresult cuStreamCreate(CUstream *s, unsigned flags) {
  *s = (CUstream)malloc(1);
  ++streamsCreated;
  RETURN(OK);
}
CUresult cuStreamDestroy_v2(CUstream s) {
  free(s);
  ++streamsDestroyed;
  RETURN(OK);
}
CUresult cuStreamSynchronize(CUstream s) { ++syncs; RETURN(OK); }
CUresult cuStreamWaitEvent(CUstream s, CUevent e, unsigned f) { RETURN(OK); }
CUresult cuEventCreate(CUevent *e, unsigned f) {
  *e = (CUevent)malloc(1);
  RETURN(OK);
}
CUresult cuEventDestroy_v2(CUevent e) { free(e); RETURN(OK); }
CUresult cuEventRecord(CUevent e, CUstream s) { RETURN(OK); }
CUresult cuEventSynchronize(CUevent e) { RETURN(OK); }
/* Every run takes a quarter of a millisecond. */
CUresult cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
  *ms = 0.25f;
  RETURN(OK);
}

static CUresult allocate(CUdeviceptr *p, size_t bytes) {
  *p = (CUdeviceptr)(uintptr_t)calloc(1, bytes);
  ++allocs;
  ++liveAllocs;
  return OK;
}
static CUresult release(CUdeviceptr p) {
  free((void *)(uintptr_t)p);
  ++frees;
  --liveAllocs;
  return OK;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t b) { allocate(p, b); RETURN(OK); }
CUresult cuMemAllocManaged(CUdeviceptr *p, size_t b, unsigned f) {
  allocate(p, b);
  RETURN(OK);
}
CUresult cuMemAllocAsync(CUdeviceptr *p, size_t b, CUstream s) {
  allocate(p, b);
  RETURN(OK);
}
CUresult cuMemFree_v2(CUdeviceptr p) { release(p); RETURN(OK); }
CUresult cuMemFreeAsync(CUdeviceptr p, CUstream s) { release(p); RETURN(OK); }
CUresult cuMemcpyAsync(CUdeviceptr d, CUdeviceptr s, size_t b, CUstream st) {
  memcpy((void *)(uintptr_t)d, (const void *)(uintptr_t)s, b);
  ++copies;
  copyBytes += b;
  RETURN(OK);
}
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t b) {
  memcpy((void *)(uintptr_t)d, s, b);
  ++uploads;
  uploadBytes += b;
  RETURN(OK);
}
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, CUstream s) {
  RETURN(OK);
}
CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n,
                          CUstream s) {
  RETURN(OK);
}
