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

/// Threads whose speeds a Balance follows; a call on more splits evenly.
constexpr int kBalanceThreads = 8;

/// One task a thread over `units` of work that divide anywhere (pixels,
/// channel panels), for a parallelFor of as many tasks as threads:
/// task t takes units [bounds[t], bounds[t + 1]), which parallelFor fills
/// before the tasks start. The parts follow how fast each thread ran this
/// call site (`site`: the same pointer on every call of it, e.g. the call's
/// iparams) before, so that the threads end together where one core is
/// slower: on a shared host one vCPU now and then runs 10-30% slower for
/// seconds (resnet50 at batch 1 on 2 threads: one thread's kernel time 14%
/// over the other's in 100-run windows, each call of one task a thread as
/// long as its slower half), or a thread's part of a layer's data is
/// farther away. They start even. What a task computes must not depend on
/// where the bounds fall.
struct Balance {
  const void *site;
  int64_t units;
  /// Units a part takes at most (units <= count * most).
  int64_t most;
  int64_t bounds[kBalanceThreads + 1];
};

/// Tests: every balanced call on `threads` threads splits by `parts` (their
/// fractions, summing to 1) instead of its site's; null: by the sites'.
void setBalanceParts(const float *parts, int threads);

/// Runs task(ctx, i, worker) for i in [0, count) on the pool's threads;
/// `worker` is in [0, numWorkers()) and tells which scratch buffer is the
/// task's own. Returns when every task is done. Tasks must not overlap in
/// what they write: which thread runs which task is not fixed, so results
/// are the same for any thread count only if each task computes its part
/// alone. `work` (multiply-adds, or another measure of the same scale)
/// bounds the threads woken: one per setMinWorkPerThread's amount, since waking
/// a thread costs tens of microseconds. Inside a task (shears_uk_parallel_for's
/// chunks of a batch) it runs every task on the calling thread, with that
/// task's worker. With `balance`, count is the threads wanted (numWorkers(), at
/// most kBalanceThreads): it fills balance->bounds, by the call site's speeds
/// where each task gets a thread of its own, else evenly.
void parallelFor(int64_t count, void (*task)(void *, int64_t, int), void *ctx,
                 int64_t work, Balance *balance = nullptr);

/// Work below which an extra thread does not pay for handing it tasks
/// (default 2^18 multiply-adds of a GEMM tile, a few microseconds: workers
/// spin between the kernel calls of a model); tests set 0 to put threads on
/// every shape.
void setMinWorkPerThread(int64_t work);

/// Threads in use (the caller included).
int numWorkers();

/// Whether a call of `tasks` tasks is one a thread on threads a Balance
/// follows (2 to kBalanceThreads).
inline bool balanceable(int64_t tasks) {
  int workers = numWorkers();
  return workers > 1 && workers <= kBalanceThreads && tasks == workers;
}

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
