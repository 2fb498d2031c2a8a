//===- UnpackFuzzer.cpp - libFuzzer target: the .shears reader ------------===//
//
// Every byte string is offered to the .shears reader, then what it unpacks
// to the importer. The header's size and checksum are made to match the
// body first: otherwise nearly every mutation would stop at the checksum,
// and the decoder behind it (Huffman tables and streams, relative indices,
// the embedded model) would never be reached.
//
//===----------------------------------------------------------------------===//

#include "Fuzz.h"

#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Target/ONNX/Pack.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Endian.h"

#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string file(reinterpret_cast<const char *>(data), size);
  constexpr size_t kHeader = 24;
  if (file.size() >= kHeader && mlir::shears::isPackedModel(file)) {
    llvm::StringRef body = llvm::StringRef(file).drop_front(kHeader);
    llvm::support::endian::write32le(
        file.data() + 12, llvm::crc32(llvm::arrayRefFromStringRef(body)));
    llvm::support::endian::write64le(file.data() + 16, body.size());
  }
  llvm::Expected<std::string> onnx =
      mlir::shears::unpackONNX(file, shears::fuzz::kMaxExpandedBytes);
  if (!onnx) {
    llvm::consumeError(onnx.takeError());
    return 0;
  }
  auto context = shears::fuzz::makeContext([](mlir::DialectRegistry &r) {
    r.insert<mlir::shears::ShearsDialect, mlir::func::FuncDialect>();
  });
  mlir::OwningOpRef<mlir::ModuleOp> module = shears::fuzz::importBytes(
      reinterpret_cast<const uint8_t *>(onnx->data()), onnx->size(), *context);
  if (module && mlir::failed(mlir::verify(*module)))
    std::abort();
  return 0;
}
