//===- Files.cpp - Opening the files a user names -------------------------===//

#include "shears/Support/Files.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::shears;

namespace {

llvm::Error openError(int code, const llvm::Twine &message) {
  return llvm::createStringError(std::error_code(code, std::generic_category()),
                                 message);
}

/// `fd` (opened non-blocking) if it is a regular file, made blocking again;
/// closed, and an error naming `path`, otherwise.
llvm::Expected<int> regularOrClose(int fd, llvm::StringRef path) {
  struct stat status;
  if (::fstat(fd, &status) != 0) {
    int error = errno;
    ::close(fd);
    return openError(error,
                     "cannot open '" + path + "': " + std::strerror(error));
  }
  if (!S_ISREG(status.st_mode)) {
    ::close(fd);
    return openError(EINVAL,
                     "cannot open '" + path + "': " +
                         (S_ISDIR(status.st_mode)
                              ? "it is a directory"
                              : "it is not a regular file (a FIFO, socket or "
                                "device)"));
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

} // namespace

llvm::Expected<int> mlir::shears::openRegularFile(llvm::StringRef path) {
  // Non-blocking: opening a FIFO for reading would wait for a writer.
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return openError(errno,
                     "cannot open '" + path + "': " + std::strerror(errno));
  return regularOrClose(fd, path);
}

llvm::Expected<int> mlir::shears::openRegularFileBelow(llvm::StringRef dir,
                                                       llvm::StringRef path) {
  llvm::SmallVector<llvm::StringRef> parts;
  for (auto it = llvm::sys::path::begin(path), end = llvm::sys::path::end(path);
       it != end; ++it)
    if (*it != "." && !it->empty())
      parts.push_back(*it);
  std::string folder = dir.empty() ? "." : dir.str();
  int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  for (size_t i = 0; i < parts.size() && fd >= 0; ++i) {
    bool last = i + 1 == parts.size();
    int next = ::openat(fd, parts[i].str().c_str(),
                        O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                            (last ? O_NONBLOCK : O_DIRECTORY));
    int error = errno;
    ::close(fd);
    fd = next;
    errno = error;
  }
  if (fd < 0)
    return openError(errno, "cannot open '" + path + "' in '" + folder +
                                "': " + std::strerror(errno));
  return regularOrClose(fd, path);
}

llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>>
mlir::shears::readRegularFile(llvm::StringRef path) {
  llvm::Expected<int> fd = openRegularFile(path);
  if (!fd)
    return fd.takeError();
  struct stat status;
  ::fstat(*fd, &status);
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      *fd, path, status.st_size, /*RequiresNullTerminator=*/false);
  ::close(*fd);
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read '" + path +
                                       "': " + buffer.getError().message());
  return std::move(*buffer);
}
