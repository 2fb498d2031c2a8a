//===- ThreadPool.cpp - The micro-kernels' worker threads -----------------===//

#include "ThreadPool.h"

#include "shears-c/Kernels.h"
#include "shears-c/Runtime.h"
#include "shears/Support/RunBuffers.h"

#include <atomic>
#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

using namespace shears::uk;

namespace {
constexpr int kMaxThreads = SHEARS_MAX_THREADS;

struct Scratch {
  float *data = nullptr;
  size_t bytes = 0;
};

/// A thread's share of the current job: a contiguous range of its tasks.
/// Consecutive kernels then split their data alike, so a thread mostly reads
/// what it wrote itself (in its own L2); one done with its share takes what
/// is left of the others', a task at a time.
struct alignas(64) Share {
  std::atomic<int64_t> next{0};
  int64_t end = 0;
};

struct Pool {
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
  /// Serializes kernel calls from different caller threads.
  pthread_mutex_t callMutex = PTHREAD_MUTEX_INITIALIZER;
  int threads = 0;  // Workers started, plus the caller; 0 until configured.
  int started = 0;  // Worker pthreads running.
  int wanted = 0;   // Threads the next call uses.
  pthread_t handles[kMaxThreads];
  /// Even: a job is live (or none); odd: the caller is setting one up.
  std::atomic<uint64_t> generation{0};
  /// Workers inside runTasks, and the current job's tasks not yet done.
  std::atomic<int> inside{0};
  std::atomic<int64_t> pending{0};
  bool stop = false;
  // The current job.
  void (*task)(void *, int64_t, int) = nullptr;
  void *ctx = nullptr;
  int active = 0;
  Share shares[kMaxThreads];
  /// The current job's Balance (or null), and for each of its tasks the
  /// worker that ran it and how long that took.
  Balance *balance = nullptr;
  int ranBy[kBalanceThreads];
  double taskSeconds[kBalanceThreads];
  Scratch scratch[kMaxThreads];
  /// The CPU each worker is pinned to (-1: not pinned), and the CPUs the
  /// process may use when the first worker started.
  int pinned[kMaxThreads];
  cpu_set_t allowed;
  int allowedCount = 0;
};

Pool pool;
std::atomic<int64_t> minWorkPerThread{1 << 18};

/// The worker whose task this thread is running, or -1 outside tasks. A
/// parallelFor inside a task (a kernel called by one chunk of a batch that
/// shears_uk_parallel_for runs on every thread) runs on this thread alone,
/// with this worker's scratch.
__thread int taskWorker = -1;

/// AMD family 0x19 (Zen 3 and 4; of those only Zen 4 runs the AVX-512
/// kernels): 512-bit multiply-adds at half rate (ThreadPool.h).
bool halfRateWideFMA() {
#if defined(__x86_64__)
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx))
    return false;
  bool amd = ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163;
  if (!amd || !__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return false;
  unsigned family = (eax >> 8) & 0xF, extended = (eax >> 20) & 0xFF;
  return family + (family == 0xF ? extended : 0) == 0x19;
#else
  return false;
#endif
}
std::atomic<bool> pairs{halfRateWideFMA()};

int onlineCPUs() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : (n > kMaxThreads ? kMaxThreads : static_cast<int>(n));
}

/// One step of a spin-wait: a pause, and every 64 steps the CPU to another
/// thread: a worker and the caller may share a CPU (more threads than
/// CPUs free), and then each spins through the other's time slice (a
/// 30 us kernel took 100 us at 2 threads on 2 busy vCPUs).
inline void relax(int spin) {
  if ((spin & 63) == 63)
    sched_yield();
  else
    __builtin_ia32_pause();
}

/// Steps the caller of a job waits for the workers' last tasks with pauses
/// alone (about 80 us here), where each thread has a CPU of its own, before
/// relax's yields: a sched_yield takes 1.2 us on this 2-vCPU guest (64
/// pauses about as long), and a call whose last task ended during one
/// returned only after it. In-process A/B runs on 2 threads (bench/ab.py,
/// 20-60 rounds): squeezenet1_1 0.980-0.994x, mobilenet_v2 0.985x and
/// 0.996x, resnet50 0.990x; beside a process holding the second CPU 0.956x.
constexpr int kCallerPauses = 4096;

/// Each Balance call site's parts of its work, a fraction a thread (for
/// `threads` threads), moved after each call a quarter of the way toward
/// the fractions under which its threads would have ended together.
struct SiteShares {
  const void *site = nullptr;
  int threads = 0;
  float part[kBalanceThreads];
};
constexpr int kBalanceSites = 1024;
constexpr float kBalanceRate = 0.25f;
SiteShares siteShares[kBalanceSites];
/// setBalanceParts's parts and threads (0: none).
float forcedParts[kBalanceThreads];
int forcedThreads = 0;

/// The entry of `site` for `threads` threads (even parts when new), or null
/// when the table is full. Under the call mutex.
SiteShares *sharesOf(const void *site, int threads) {
  size_t slot = (reinterpret_cast<uintptr_t>(site) >> 3) % kBalanceSites;
  for (int probe = 0; probe < kBalanceSites; ++probe) {
    SiteShares &s = siteShares[(slot + probe) % kBalanceSites];
    if (s.site && s.site != site)
      continue;
    if (s.site != site || s.threads != threads) {
      s.site = site;
      s.threads = threads;
      for (int t = 0; t < threads; ++t)
        s.part[t] = 1.0f / float(threads);
    }
    return &s;
  }
  return nullptr;
}

/// b's bounds for `parts` parts of the given fractions (even where null),
/// each part at most b.most units and leaving the parts after it no more
/// than that either.
void fillBounds(Balance &b, int64_t parts, const float *part) {
  double sum = 0;
  b.bounds[0] = 0;
  for (int64_t t = 1; t < parts; ++t) {
    sum += part ? part[t - 1] : 1.0 / double(parts);
    int64_t at = static_cast<int64_t>(sum * double(b.units) + 0.5);
    int64_t lo = b.units - (parts - t) * b.most, hi = b.bounds[t - 1] + b.most;
    at = at < lo ? lo : at > hi ? hi : at;
    b.bounds[t] = at < b.bounds[t - 1] ? b.bounds[t - 1]
                  : at > b.units       ? b.units
                                       : at;
  }
  b.bounds[parts] = b.units;
}

/// After a balanced job whose tasks each ran on their own thread: the
/// site's parts toward each thread's units a second, as fractions of their
/// sum. Each part stays within half and 1.5 times an even one.
void learnParts(SiteShares &s, const Balance &b) {
  int threads = s.threads;
  double speed[kBalanceThreads], total = 0;
  for (int t = 0; t < threads; ++t) {
    int64_t units = b.bounds[t + 1] - b.bounds[t];
    if (pool.ranBy[t] != t || units <= 0 || pool.taskSeconds[t] <= 0)
      return;
    speed[t] = double(units) / pool.taskSeconds[t];
    total += speed[t];
  }
  float even = 1.0f / float(threads), sum = 0;
  for (int t = 0; t < threads; ++t) {
    float target = static_cast<float>(speed[t] / total);
    float part = s.part[t] + kBalanceRate * (target - s.part[t]);
    s.part[t] = part < 0.5f * even   ? 0.5f * even
                : part > 1.5f * even ? 1.5f * even
                                     : part;
    sum += s.part[t];
  }
  for (int t = 0; t < threads; ++t)
    s.part[t] /= sum;
}

/// Runs the tasks left in each share, this worker's first. The tasks done
/// come off `pending` once a share runs out, not one by one: the line it
/// lives on then crosses between the cores once a share, not once a task
/// (`bench/kernel_probe.cpp sync`, 8 tiny tasks on 2 threads: 2.2-2.4 ->
/// 1.1-1.8 us a call; whole models within noise, 0.99-1.00x).
void runTasks(int worker) {
  taskWorker = worker;
  for (int k = 0; k < pool.active; ++k) {
    Share &share = pool.shares[(worker + k) % pool.active];
    int64_t done = 0;
    for (;;) {
      int64_t i = share.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= share.end)
        break;
      if (pool.balance && i < kBalanceThreads) {
        double start = monotonicSeconds();
        pool.task(pool.ctx, i, worker);
        pool.taskSeconds[i] = monotonicSeconds() - start;
        pool.ranBy[i] = worker;
      } else {
        pool.task(pool.ctx, i, worker);
      }
      ++done;
    }
    if (done)
      pool.pending.fetch_sub(done, std::memory_order_acq_rel);
  }
  taskWorker = -1;
}

/// A job is live at an even generation other than the last one seen.
bool waiting(uint64_t gen, uint64_t seen) { return gen == seen || (gen & 1); }

void *workerMain(void *arg) {
  int worker = static_cast<int>(reinterpret_cast<intptr_t>(arg));
  uint64_t seen = 0;
  for (;;) {
    // Spin a while (1 ms, by the clock: a pause lasts from a few to 140
    // cycles depending on the CPU) before sleeping: kernel calls come back
    // to back, and a sleeping worker wakes too late to take a share.
    uint64_t gen = pool.generation.load(std::memory_order_acquire);
    double until = monotonicSeconds() + 1e-3;
    for (int spin = 0; waiting(gen, seen); ++spin) {
      if ((spin & 255) == 255 && monotonicSeconds() > until)
        break;
      relax(spin);
      gen = pool.generation.load(std::memory_order_acquire);
    }
    if (waiting(gen, seen)) {
      pthread_mutex_lock(&pool.mutex);
      while (waiting(gen = pool.generation.load(std::memory_order_acquire),
                     seen) &&
             !pool.stop)
        pthread_cond_wait(&pool.wake, &pool.mutex);
      pthread_mutex_unlock(&pool.mutex);
    }
    if (pool.stop)
      return nullptr;
    seen = gen;
    // Inside, then the job checked again: the caller sets a job up only
    // once the generation is odd and no worker is inside (both sequentially
    // consistent, so one of the two sees the other). A worker that wakes
    // late finds the job's tasks taken, or the next job being set up, and
    // nobody waits for it.
    pool.inside.fetch_add(1, std::memory_order_seq_cst);
    if (pool.generation.load(std::memory_order_seq_cst) == gen &&
        worker < pool.active)
      runTasks(worker);
    pool.inside.fetch_sub(1, std::memory_order_release);
  }
}

/// Pins worker `worker` to `cpu`.
void pinTo(int worker, int cpu) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  if (pthread_setaffinity_np(pool.handles[worker], sizeof(one), &one) == 0)
    pool.pinned[worker] = cpu;
}

/// Keeps worker `worker` on the worker-th CPU this process may use (the
/// caller, worker 0, is left free). Unpinned, a worker that the caller
/// wakes between kernel calls was sometimes woken onto the caller's own
/// CPU and stayed there (wake-affine placement), so 2 threads ran at the
/// speed of 1 once another process had used the machine.
void pinWorker(int worker) {
  pool.pinned[worker] = -1;
  if (pool.allowedCount == 0 &&
      sched_getaffinity(0, sizeof(pool.allowed), &pool.allowed) == 0)
    pool.allowedCount = CPU_COUNT(&pool.allowed);
  if (pool.allowedCount < 2)
    return;
  for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &pool.allowed) && seen++ == worker % pool.allowedCount) {
      pinTo(worker, cpu);
      return;
    }
}

/// Moves a worker pinned to the caller's CPU to one that no thread of the
/// job holds. The caller is not pinned, and the scheduler sometimes left it
/// on the first worker's CPU, where the two shared one core for as long as
/// a measurement lasted (the Fashion-MNIST CNN at 2 threads, in a process
/// that had run four other models: 1.00 cores busy, 1.6x its time).
void avoidCallerCPU(int threads) {
  int caller = sched_getcpu();
  if (caller < 0 || pool.allowedCount < 2)
    return;
  for (int w = 1; w < threads; ++w) {
    if (pool.pinned[w] != caller)
      continue;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      bool taken = cpu == caller || !CPU_ISSET(cpu, &pool.allowed);
      for (int o = 1; o < threads && !taken; ++o)
        taken = pool.pinned[o] == cpu;
      if (!taken) {
        pinTo(w, cpu);
        break;
      }
    }
  }
}

/// Starts workers up to `threads` (the caller is worker 0).
void ensureStarted(int threads) {
  while (pool.started + 1 < threads) {
    intptr_t worker = pool.started + 1;
    if (pthread_create(&pool.handles[worker], nullptr, workerMain,
                       reinterpret_cast<void *>(worker)) != 0)
      break;
    pinWorker(static_cast<int>(worker));
    ++pool.started;
  }
  pool.threads = pool.started + 1;
}
/// Stops the workers when the library unloads (a model's dlclose, or exit):
/// they must not outlive the code they run.
__attribute__((destructor)) void stopPool() {
  pthread_mutex_lock(&pool.mutex);
  pool.stop = true;
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mutex);
  for (int i = 1; i <= pool.started; ++i)
    pthread_join(pool.handles[i], nullptr);
  pool.started = 0;
  for (Scratch &s : pool.scratch) {
    free(s.data);
    s = Scratch();
  }
}
} // namespace

extern "C" int shears_uk_set_num_threads(int threads) {
  if (threads <= 0)
    threads = onlineCPUs();
  if (threads > kMaxThreads)
    threads = kMaxThreads;
  pthread_mutex_lock(&pool.callMutex);
  pool.wanted = threads;
  pthread_mutex_unlock(&pool.callMutex);
  return threads;
}

void shears::uk::setBalanceParts(const float *parts, int threads) {
  pthread_mutex_lock(&pool.callMutex);
  forcedThreads = parts && threads <= kBalanceThreads ? threads : 0;
  for (int t = 0; t < forcedThreads; ++t)
    forcedParts[t] = parts[t];
  pthread_mutex_unlock(&pool.callMutex);
}

void shears::uk::setMinWorkPerThread(int64_t work) {
  minWorkPerThread.store(work, std::memory_order_relaxed);
}

bool shears::uk::pairPanels() { return pairs.load(std::memory_order_relaxed); }

void shears::uk::setPairPanels(bool on) {
  pairs.store(on, std::memory_order_relaxed);
}

int shears::uk::numWorkers() {
  if (taskWorker >= 0)
    return 1;
  if (pool.wanted == 0)
    pool.wanted = onlineCPUs();
  return pool.wanted;
}

float *shears::uk::scratch(int worker, size_t bytes) {
  Scratch &s = pool.scratch[worker];
  if (s.bytes < bytes) {
    free(s.data);
    s.data = static_cast<float *>(allocateRunBuffer(bytes, &s.bytes));
  }
  return s.data;
}

void shears::uk::parallelFor(int64_t count, void (*task)(void *, int64_t, int),
                             void *ctx, int64_t work, Balance *balance) {
  if (count <= 0)
    return;
  if (balance) // count <= kBalanceThreads (ThreadPool.h): even until known.
    fillBounds(*balance, count, nullptr);
  if (taskWorker >= 0) { // Inside a task: on this thread.
    for (int64_t i = 0; i < count; ++i)
      task(ctx, i, taskWorker);
    return;
  }
  pthread_mutex_lock(&pool.callMutex);
  int threads = numWorkers();
  if (threads > count)
    threads = static_cast<int>(count);
  int64_t perThread = minWorkPerThread.load(std::memory_order_relaxed);
  if (perThread > 0 && threads > work / perThread)
    threads = work / perThread > 1 ? static_cast<int>(work / perThread) : 1;
  if (threads > 1)
    ensureStarted(threads);
  if (threads > pool.threads)
    threads = pool.threads;
  if (threads <= 1) {
    taskWorker = 0;
    for (int64_t i = 0; i < count; ++i)
      task(ctx, i, 0);
    taskWorker = -1;
    pthread_mutex_unlock(&pool.callMutex);
    return;
  }
  // One task a thread: each thread's part by the site's speeds.
  SiteShares *site =
      balance && threads == count ? sharesOf(balance->site, threads) : nullptr;
  if (site)
    fillBounds(*balance, count,
               forcedThreads == threads ? forcedParts : site->part);
  avoidCallerCPU(threads);
  // Odd while the job is written: no worker enters runTasks meanwhile, and
  // any still inside from the last job (its tasks all done) leaves first.
  pool.generation.fetch_add(1, std::memory_order_seq_cst);
  for (int spin = 0; pool.inside.load(std::memory_order_seq_cst) != 0; ++spin)
    relax(spin);
  pool.task = task;
  pool.ctx = ctx;
  pool.balance = site ? balance : nullptr;
  pool.active = threads;
  for (int t = 0; t < threads; ++t) {
    pool.shares[t].next.store(count * t / threads, std::memory_order_relaxed);
    pool.shares[t].end = count * (t + 1) / threads;
  }
  pool.pending.store(count, std::memory_order_relaxed);
  pthread_mutex_lock(&pool.mutex);
  pool.generation.fetch_add(1, std::memory_order_release);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mutex);
  // The caller takes its share and then whatever the workers have not
  // claimed, so a worker that is not running (its CPU taken by another
  // process) delays the job by the tasks it holds, not by its wake-up.
  runTasks(0);
  bool ownCPUs = threads <= pool.allowedCount;
  for (int spin = 0; pool.pending.load(std::memory_order_acquire) != 0; ++spin)
    if (ownCPUs && spin < kCallerPauses)
      __builtin_ia32_pause();
    else
      relax(spin);
  if (site)
    learnParts(*site, *balance);
  pthread_mutex_unlock(&pool.callMutex);
}

extern "C" void shears_uk_parallel_for(int64_t count,
                                       void (*task)(void *, int64_t, int),
                                       void *ctx) {
  // Work enough for every thread: the tasks are whole runs of a model.
  parallelFor(count, task, ctx, INT64_MAX);
}

//===----------------------------------------------------------------------===//
// Profile (SHEARS_PROFILE)
//===----------------------------------------------------------------------===//

namespace {
constexpr int kProfileEntries = 512;
ShearsUKProfileEntry profile[kProfileEntries];
int profileUsed = 0;
/// Each call site's last kProfileSamples call times (ms), for the median a
/// call: this host's runs are now and then preempted for milliseconds, and
/// one such run moves a site's total (a stem alone: mean 0.82 ms a call
/// over 300 runs, median 0.67), where ONNX Runtime's profile gives each
/// node's median.
constexpr int kProfileSamples = 128;
float profileSamples[kProfileEntries][kProfileSamples];

/// The median of entry i's samples (its last kProfileSamples calls).
double profileMedianMs(int i) {
  int64_t count =
      profile[i].calls < kProfileSamples ? profile[i].calls : kProfileSamples;
  if (count == 0)
    return 0;
  float sorted[kProfileSamples];
  memcpy(sorted, profileSamples[i], count * sizeof(float));
  qsort(sorted, count, sizeof(float), [](const void *a, const void *b) {
    float x = *static_cast<const float *>(a),
          y = *static_cast<const float *>(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return count % 2 ? sorted[count / 2]
                   : 0.5 * (sorted[count / 2 - 1] + sorted[count / 2]);
}
pthread_mutex_t profileMutex = PTHREAD_MUTEX_INITIALIZER;
/// The calling thread's call site (shears_uk_profile_site).
__thread int64_t profileSite = -1;

__attribute__((destructor)) void printProfile() {
  if (profileUsed == 0)
    return;
  // Slowest first, by index (each entry keeps its samples' row).
  int order[kProfileEntries];
  for (int i = 0; i < profileUsed; ++i)
    order[i] = i;
  qsort(order, profileUsed, sizeof(int), [](const void *a, const void *b) {
    double x = profile[*static_cast<const int *>(a)].seconds;
    double y = profile[*static_cast<const int *>(b)].seconds;
    return x < y ? 1 : x > y ? -1 : 0;
  });
  double total = 0;
  for (int i = 0; i < profileUsed; ++i)
    total += profile[i].seconds;
  fprintf(stderr, "shears profile: %d call sites, %.3f ms in kernels\n",
          profileUsed, total * 1e3);
  fprintf(stderr, "%10s %7s %8s %10s %8s  %s\n", "total ms", "share", "calls",
          "median ms", "GFLOP/s", "kernel");
  for (int k = 0; k < profileUsed; ++k) {
    const ShearsUKProfileEntry &e = profile[order[k]];
    fprintf(stderr, "%10.3f %6.1f%% %8lld %10.4f %8.1f  %s\n", e.seconds * 1e3,
            100 * e.seconds / total, static_cast<long long>(e.calls),
            profileMedianMs(order[k]),
            e.seconds > 0 ? 2e-9 * double(e.macs) / e.seconds : 0.0, e.what);
  }
}
} // namespace

namespace {
// Set once when the library loads (no function-local static: the kernels
// link without the C++ runtime).
bool profilingOn = false, profilingByEnvironment = false;
__attribute__((constructor)) void readProfileSetting() {
  profilingOn = profilingByEnvironment = getenv("SHEARS_PROFILE") != nullptr;
}
} // namespace

extern "C" void shears_uk_profile_site(int64_t site) { profileSite = site; }

extern "C" void shears_uk_profile_start(void) {
  pthread_mutex_lock(&profileMutex);
  profileUsed = 0;
  profilingOn = true;
  pthread_mutex_unlock(&profileMutex);
}

extern "C" void shears_uk_profile_stop(void) {
  pthread_mutex_lock(&profileMutex);
  profileUsed = 0;
  profilingOn = profilingByEnvironment;
  pthread_mutex_unlock(&profileMutex);
}

extern "C" int64_t shears_uk_profile_read(ShearsUKProfileEntry *entries,
                                          int64_t capacity) {
  pthread_mutex_lock(&profileMutex);
  for (int64_t i = 0; i < profileUsed && i < capacity; ++i)
    entries[i] = profile[i];
  int64_t used = profileUsed;
  pthread_mutex_unlock(&profileMutex);
  return used;
}

bool ProfileScope::profiling() { return profilingOn; }

double shears::uk::monotonicSeconds() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

void ProfileScope::record(const char *what, int64_t macs, double seconds) {
  pthread_mutex_lock(&profileMutex);
  int i = 0;
  while (i < profileUsed &&
         (profile[i].site != profileSite || strcmp(profile[i].what, what) != 0))
    ++i;
  if (i == profileUsed && profileUsed < kProfileEntries) {
    profile[i] = ShearsUKProfileEntry{};
    profile[i].site = profileSite;
    strncpy(profile[i].what, what, sizeof(profile[i].what) - 1);
    ++profileUsed;
  }
  if (i < profileUsed) {
    profileSamples[i][profile[i].calls % kProfileSamples] =
        static_cast<float>(seconds * 1e3);
    ++profile[i].calls;
    profile[i].macs += macs;
    profile[i].seconds += seconds;
  }
  pthread_mutex_unlock(&profileMutex);
}
