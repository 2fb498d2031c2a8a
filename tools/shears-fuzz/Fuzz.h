//===- Fuzz.h - What the libFuzzer targets share ----------------*- C++ -*-===//
//
// Each input is a whole ONNX model in memory. It is imported into a fresh
// context (weights are blobs owned by the context, so one context per input
// keeps memory flat), with diagnostics swallowed: a rejected model is a
// normal outcome, only a crash, a sanitizer report or a hang is a finding.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_TOOLS_FUZZ_H
#define SHEARS_TOOLS_FUZZ_H

#include "shears/Target/ONNX/Import.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

namespace shears::fuzz {

/// A context with the dialects `registerDialects` adds, one thread, and no
/// diagnostics printed.
inline std::unique_ptr<mlir::MLIRContext>
makeContext(void (*registerDialects)(mlir::DialectRegistry &)) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(
      registry, mlir::MLIRContext::Threading::DISABLED);
  context->loadAllAvailableDialects();
  context->getDiagEngine().registerHandler(
      [](mlir::Diagnostic &) { return mlir::success(); });
  return context;
}

/// What sparse tensors and packed weights may expand to: far below the
/// fuzzers' 4 GB limit, and above what any mutated test model needs.
constexpr uint64_t kMaxExpandedBytes = uint64_t(256) << 20;

/// Imports `data` as an ONNX model. External data resolves against a folder
/// that does not exist, so a mutated location reads nothing of the host's.
inline mlir::OwningOpRef<mlir::ModuleOp>
importBytes(const uint8_t *data, size_t size, mlir::MLIRContext &context) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "/nonexistent-shears-fuzz/model.onnx");
  mlir::shears::ImportOptions options;
  options.maxSparseBytes = kMaxExpandedBytes;
  return mlir::shears::importONNX(std::move(buffer), &context, options);
}

} // namespace shears::fuzz

#endif // SHEARS_TOOLS_FUZZ_H
