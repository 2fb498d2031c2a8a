//===- RunBuffers.h - Memory that a model run walks all over ----*- C++ -*-===//
//
// The planned workspace of a compiled model (lib/CAPI/Model.cpp) and the
// kernels' per-thread scratch (lib/Kernels/ThreadPool.cpp) are read and
// written in many short runs far apart: a 1x1 convolution's rows a plane
// apart, C^T's rows, a slice's planes. On 4 KiB pages each run can be a page
// of its own and a first-level TLB miss; a buffer of at least 1 MiB is put on
// 2 MiB pages instead (transparent huge pages, which Debian enables for
// regions that ask: `madvise`). Header only, libc only: the runtime and the
// kernel library link nothing else.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_RUNBUFFERS_H
#define SHEARS_SUPPORT_RUNBUFFERS_H

#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

namespace shears {

/// Buffers from this size on go on huge pages.
constexpr size_t kHugePageMinBytes = size_t(1) << 20;
constexpr size_t kHugePageBytes = size_t(2) << 20;

/// At least `bytes` bytes, 64-byte aligned (2 MiB aligned and a multiple of
/// 2 MiB, asked for huge pages, from kHugePageMinBytes on), for free();
/// `*capacity` gets the size allocated (0 when out of memory).
inline void *allocateRunBuffer(size_t bytes, size_t *capacity) {
  size_t align = bytes >= kHugePageMinBytes ? kHugePageBytes : 64;
  size_t rounded = (bytes + align - 1) & ~(align - 1);
  void *buffer = aligned_alloc(align, rounded);
  *capacity = buffer ? rounded : 0;
#ifdef MADV_HUGEPAGE
  // Advice only: without huge pages the buffer works as well.
  if (buffer && align == kHugePageBytes)
    (void)madvise(buffer, rounded, MADV_HUGEPAGE);
#endif
  return buffer;
}

} // namespace shears

#endif // SHEARS_SUPPORT_RUNBUFFERS_H
