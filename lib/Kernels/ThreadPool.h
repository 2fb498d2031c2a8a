//===- ThreadPool.h - The micro-kernels' worker threads ---------*- C++ -*-===//
//
// A fixed pool of pthreads that runs `count` independent tasks of one kernel
// call; the calling thread takes part. No libstdc++: a compiled model links
// this library and needs only libc.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_KERNELS_THREADPOOL_H
#define SHEARS_KERNELS_THREADPOOL_H

#include <stddef.h>
#include <stdint.h>

namespace shears::uk {

/// Runs task(ctx, i, worker) for i in [0, count) on the pool's threads;
/// `worker` is in [0, numWorkers()) and tells which scratch buffer is the
/// task's own. Returns when every task is done. Tasks must not overlap in
/// what they write: which thread runs which task is not fixed, so results
/// are the same for any thread count only if each task computes its part
/// alone. `work` (multiply-adds, or another measure of the same scale)
/// bounds the threads woken: one per setMinWorkPerThread's amount, since waking a
/// thread costs tens of microseconds.
/// Inside a task (shears_uk_parallel_for's chunks of a batch) it runs every
/// task on the calling thread, with that task's worker.
void parallelFor(int64_t count, void (*task)(void *, int64_t, int),
                 void *ctx, int64_t work);

/// Work below which an extra thread does not pay for handing it tasks
/// (default 2^18 multiply-adds of a GEMM tile, a few microseconds: workers
/// spin between the kernel calls of a model); tests set 0 to put threads on
/// every shape.
void setMinWorkPerThread(int64_t work);

/// Threads in use (the caller included).
int numWorkers();

/// Whether conv2d's channel-panel tiles over runs of at most 7 pixels take
/// two panels at once (Contraction.cpp: 7 x 4 vectors, each broadcast read
/// by every multiply-add). That pays where 512-bit multiply-adds run at
/// half rate (AMD family 0x19, Zen 4: resnet18's 512x7x7 -> 512 at 82 ->
/// 85-88 GFLOP/s) and loses where they run at full rate, two a cycle, and
/// the 33 loads of a step are what waits (Zen 5: 193-200 GFLOP/s on one
/// panel against 153-161 on two). Set from cpuid when the library loads;
/// tests set both.
bool pairPanels();
void setPairPanels(bool pairs);

/// A 64-byte aligned buffer of at least `bytes` owned by `worker`, kept
/// between calls; nullptr when out of memory.
float *scratch(int worker, size_t bytes);

/// Seconds on the monotonic clock.
double monotonicSeconds();

/// With SHEARS_PROFILE set in the environment, each kernel call is timed
/// and, when the library unloads (a model's dlclose, or exit), a table of
/// call sites (kernel, path, shape: `what`) with their calls, total time
/// and GFLOP/s goes to stderr, slowest first: where a model's time goes,
/// measured inside the model (caches and threads as they really are).
class ProfileScope {
public:
  /// `what` is formatted only when profiling is on.
  template <typename Describe> ProfileScope(Describe describe, int64_t macs) {
    if (!profiling())
      return;
    describe(what, sizeof(what));
    this->macs = macs;
    start = monotonicSeconds();
  }
  ~ProfileScope() {
    if (start >= 0)
      record(what, macs, monotonicSeconds() - start);
  }

private:
  static bool profiling();
  static void record(const char *what, int64_t macs, double seconds);
  char what[128] = "";
  int64_t macs = 0;
  double start = -1;
};

} // namespace shears::uk

#endif
