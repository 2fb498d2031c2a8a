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

/// The contents of the regular file `path` (see openRegularFile).
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
readRegularFile(llvm::StringRef path);

} // namespace mlir::shears

#endif // SHEARS_SUPPORT_FILES_H
