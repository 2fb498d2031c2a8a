//===- Files.h - Opening the files a user names -----------------*- C++ -*-===//
//
// Models, .npz archives and tensor files are opened as regular files only:
// opening a FIFO for reading waits for a writer (every tool hung on one),
// and a device such as /dev/zero never ends.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_SUPPORT_FILES_H
#define SHEARS_SUPPORT_FILES_H

#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

namespace mlir::shears {

/// Opens `path` for reading if it is a regular file: without blocking on a
/// FIFO, and with an error naming the file otherwise ("is a directory", "is
/// not a regular file"). Returns a file descriptor the caller closes.
llvm::Expected<int> openRegularFile(llvm::StringRef path);

/// Opens the regular file `path` below the directory `dir` (the current one
/// if empty), one path component at a time without following a symbolic
/// link anywhere (O_NOFOLLOW): nothing outside `dir` is reached through one.
/// Not blocking on a FIFO either. The error's code says why: ELOOP or
/// ENOTDIR for a symbolic link (or a file) on the way, EINVAL for something
/// other than a regular file, else the system's.
llvm::Expected<int> openRegularFileBelow(llvm::StringRef dir,
                                         llvm::StringRef path);

/// The contents of the regular file `path` (see openRegularFile).
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path);

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_FILES_H
