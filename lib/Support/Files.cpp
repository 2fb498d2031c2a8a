//===- Files.cpp - Opening the files a user names -------------------------===//

#include "shears/Support/Files.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::shears;

llvm::Expected<int> mlir::shears::openRegularFile(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(
        std::make_error_code(std::errc::invalid_argument),
        "cannot open '" + path + "': " + why);
  };
  // Non-blocking: opening a FIFO for reading would wait for a writer.
  int fd = ::open(path.str().c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return fail(std::strerror(errno));
  struct stat status;
  if (::fstat(fd, &status) != 0) {
    int error = errno;
    ::close(fd);
    return fail(std::strerror(error));
  }
  if (!S_ISREG(status.st_mode)) {
    ::close(fd);
    return fail(S_ISDIR(status.st_mode)
                    ? "it is a directory"
                    : "it is not a regular file (a FIFO, socket or device)");
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return fd;
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
