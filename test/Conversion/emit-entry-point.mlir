// RUN: shears-opt %s --split-input-file --shears-emit-entry-point --verify-diagnostics

// Without shears-prepare-entry there is no signature: a clear error.
// expected-error @+1 {{no _mlir_ciface_shears_model with a shears.signature: run shears-prepare-entry before lowering to LLVM}}
module {
  llvm.func @f() {
    llvm.return
  }
}
