//===- Compiler.cpp - Load, lower, JIT and AOT-compile models -------------===//

#include "shears/Compiler/Compiler.h"

#include "shears/Conversion/Passes.h"
#include "shears/Transforms/Passes.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Target/ONNX/Import.h"

#include "shears-c/Kernels.h"

#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

void shears::registerCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<ShearsDialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
}

void shears::registerShearsPassesAndPipelines() {
  registerShearsPasses();
  registerShearsPrunePipeline();
  registerShearsConversionPasses();
  registerShearsLowerToLLVMPipeline();
}

OwningOpRef<ModuleOp> shears::loadModel(StringRef path, MLIRContext &context,
                                        llvm::SourceMgr &sourceMgr) {
  if (path.ends_with(".onnx"))
    return importONNXFile(path, &context);
  return parseSourceFile<ModuleOp>(path, sourceMgr, ParserConfig(&context));
}

static std::unique_ptr<llvm::TargetMachine>
hostTargetMachine(std::string &error, StringRef cpu = "");

std::string shears::kernelISAForCPU(StringRef cpu, std::string &error) {
  if (cpu.empty())
    return hostKernelISA();
  std::unique_ptr<llvm::TargetMachine> machine = hostTargetMachine(error, cpu);
  if (!machine)
    return "";
  const llvm::MCSubtargetInfo *info = machine->getMCSubtargetInfo();
  if (!info->isCPUStringValid(cpu)) {
    error = "unknown target CPU '" + cpu.str() + "'";
    return "";
  }
  if (info->checkFeatures("+avx512f"))
    return "avx512";
  if (info->checkFeatures("+avx2,+fma"))
    return "avx2";
  return "generic";
}

LogicalResult shears::lowerToLLVM(ModuleOp module, StringRef cpu,
                                  bool releaseWeights) {
  LowerToLLVMOptions options;
  options.releaseWeights = releaseWeights;
  std::string error;
  options.isa = kernelISAForCPU(cpu, error);
  if (options.isa.empty())
    return emitError(module.getLoc()) << error;
  PassManager pm(module.getContext());
  buildShearsLowerToLLVMPipeline(pm, options);
  return pm.run(module);
}

OwningOpRef<ModuleOp> shears::loadAndLower(StringRef path,
                                           MLIRContext &context,
                                           llvm::SourceMgr &sourceMgr,
                                           StringRef cpu) {
  OwningOpRef<ModuleOp> module = loadModel(path, context, sourceMgr);
  if (!module)
    return nullptr;
  // The module is the only one in its context: packed weights may free
  // their originals.
  if (failed(lowerToLLVM(*module, cpu, /*releaseWeights=*/true))) {
    emitError(module->getLoc()) << "lowering '" << path << "' failed";
    return nullptr;
  }
  return module;
}

/// A target machine for the host CPU, position independent so that the same
/// code serves the JIT and shared libraries.
/// `cpu` replaces the host CPU and its features when not empty.
static std::unique_ptr<llvm::TargetMachine>
hostTargetMachine(std::string &error, StringRef cpu) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = llvm::toString(builder.takeError());
    return nullptr;
  }
  if (!cpu.empty()) {
    builder->setCPU(cpu.str());
    builder->getFeatures() = llvm::SubtargetFeatures();
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  auto machine = builder->createTargetMachine();
  if (!machine) {
    error = llvm::toString(machine.takeError());
    return nullptr;
  }
  return std::move(*machine);
}

namespace {
/// A weight taken out of the LLVM module: its symbol and bytes (owned by the
/// MLIR context's resource blob).
struct ExternalWeight {
  std::string symbol;
  ArrayRef<char> data;
  uint64_t alignment;
};
} // namespace

/// Turns every constant global of at least 1 KiB held in a dense_resource
/// blob into an external declaration named __shears_weight_<i>, and returns
/// where the bytes are. Weights then never pass through LLVM IR: the JIT
/// binds the symbols to host buffers, a shared library gets them from an
/// assembler .incbin of one blob file. Compile time and memory follow the
/// code, not the weights.
static std::vector<ExternalWeight> externalizeWeights(ModuleOp module) {
  std::vector<ExternalWeight> weights;
  SymbolTable symbols(module);
  for (auto global : llvm::make_early_inc_range(module.getOps<LLVM::GlobalOp>())) {
    auto value =
        dyn_cast_or_null<DenseResourceElementsAttr>(global.getValueOrNull());
    if (!global.getConstant() || !value)
      continue;
    AsmResourceBlob *blob = value.getRawHandle().getBlob();
    if (!blob || blob->getData().size() < 1024)
      continue;
    std::string symbol = "__shears_weight_" + std::to_string(weights.size());
    if (failed(symbols.rename(global, StringAttr::get(module.getContext(),
                                                      symbol))))
      continue;
    weights.push_back({symbol, blob->getData(),
                       std::max<uint64_t>(global.getAlignment().value_or(16), 16)});
    global.removeValueAttr();
    global.setLinkage(LLVM::Linkage::External);
    global.setVisibility_(LLVM::Visibility::Hidden);
  }
  return weights;
}

namespace {
/// What a JIT-compiled model owns: the engine and the weights it reads.
struct JitOwner {
  std::unique_ptr<ExecutionEngine> engine;
  std::vector<void *> weights;
  ~JitOwner() {
    engine.reset();
    for (void *w : weights)
      free(w);
  }
};
} // namespace

ShearsModel *shears::jitCompile(ModuleOp module, std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine = hostTargetMachine(error);
  if (!machine)
    return nullptr;
  auto owner = std::make_unique<JitOwner>();
  std::vector<std::pair<std::string, void *>> weightSymbols;
  for (const ExternalWeight &w : externalizeWeights(module)) {
    size_t bytes = llvm::alignTo(w.data.size(), w.alignment);
    void *copy = aligned_alloc(w.alignment, bytes);
    if (!copy) {
      error = "out of memory for the weights";
      return nullptr;
    }
    memcpy(copy, w.data.data(), w.data.size());
    owner->weights.push_back(copy);
    weightSymbols.push_back({w.symbol, copy});
  }
  auto optimize = makeOptimizingTransformer(3, 0, machine.get());
  ExecutionEngineOptions options;
  options.transformer = optimize;
  options.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  auto engine = ExecutionEngine::create(module, options, std::move(machine));
  if (!engine) {
    error = llvm::toString(engine.takeError());
    return nullptr;
  }
  // Generated code calls the micro-kernels linked into this process and
  // reads the weights from the owner's buffers.
  (*engine)->registerSymbols([&](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap symbols;
    for (const ShearsUKernelSymbol *s = shears_uk_symbols(); s->name; ++s)
      symbols[interner(s->name)] = {llvm::orc::ExecutorAddr::fromPtr(s->fn),
                                    llvm::JITSymbolFlags::Exported};
    for (const auto &[name, address] : weightSymbols)
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  auto invoke = (*engine)->lookup("shears_invoke");
  auto signature = (*engine)->lookup("shears_signature");
  if (!invoke || !signature) {
    error = "the module has no shears_invoke/shears_signature: " +
            llvm::toString(invoke ? signature.takeError()
                                  : invoke.takeError());
    return nullptr;
  }
  char *message = nullptr;
  owner->engine = std::move(*engine);
  ShearsModel *model = shearsModelCreate(
      reinterpret_cast<void (*)(void **)>(*invoke),
      static_cast<const char *>(*signature), owner.get(),
      [](void *p) { delete static_cast<JitOwner *>(p); }, &message);
  if (!model) {
    error = takeRuntimeMessage(message, "cannot create the model");
    return nullptr;
  }
  (void)owner.release(); // Owned by the model now.
  shearsModelSetThreadControl(model, shears_uk_set_num_threads);
  return model;
}

LogicalResult shears::compileSharedLibrary(ModuleOp module, StringRef path,
                                           std::string &error, StringRef cpu,
                                           int threads) {
  std::unique_ptr<llvm::TargetMachine> machine = hostTargetMachine(error, cpu);
  if (!machine)
    return failure();
  // Weights go into one blob file that an assembler stub .incbin's.
  std::vector<ExternalWeight> weights = externalizeWeights(module);
  SmallString<128> blobPath, stubPath;
  int blobFd, stubFd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "shears-weights", "bin", blobFd, blobPath)) {
    error = "cannot create a temporary weights file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeBlob(blobPath);
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "shears-weights", "s", stubFd, stubPath)) {
    error = "cannot create a temporary assembler file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeStub(stubPath);
  {
    llvm::raw_fd_ostream blob(blobFd, /*shouldClose=*/true);
    llvm::raw_fd_ostream stub(stubFd, /*shouldClose=*/true);
    stub << "\t.section .rodata.shears_weights,\"a\",@progbits\n";
    uint64_t offset = 0;
    for (const ExternalWeight &w : weights) {
      stub << "\t.p2align " << llvm::Log2_64(w.alignment) << "\n"
           << "\t.globl " << w.symbol << "\n\t.hidden " << w.symbol << "\n"
           << "\t.type " << w.symbol << ",@object\n"
           << w.symbol << ":\n\t.incbin \"" << blobPath << "\", " << offset
           << ", " << w.data.size() << "\n\t.size " << w.symbol << ", "
           << w.data.size() << "\n";
      blob.write(w.data.data(), w.data.size());
      offset += w.data.size();
    }
    stub << "\t.section .note.GNU-stack,\"\",@progbits\n";
    if (blob.has_error() || stub.has_error()) {
      error = "cannot write the weights to a temporary file";
      blob.clear_error();
      stub.clear_error();
      return failure();
    }
  }

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "shears_model");
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return failure();
  }
  if (threads > 0) {
    // Read by shearsModelLoadLibrary as the model's thread count.
    auto *type = llvm::Type::getInt32Ty(llvmContext);
    new llvm::GlobalVariable(*llvmModule, type, /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage,
                             llvm::ConstantInt::get(type, threads),
                             "shears_default_threads");
  }
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple());
  if (llvm::Error err =
          makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get())) {
    error = llvm::toString(std::move(err));
    return failure();
  }

  // Object file into a temporary, then `clang-22 -shared` links it.
  SmallString<128> object;
  int fd;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("shears", "o", fd, object)) {
    error = "cannot create a temporary object file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeObject(object);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                     llvm::CodeGenFileType::ObjectFile)) {
      error = "the target cannot emit object files";
      return failure();
    }
    codegen.run(*llvmModule);
  }
  auto linker = llvm::sys::findProgramByName("clang-22");
  if (!linker) {
    error = "clang-22 (the linker driver) is not on PATH";
    return failure();
  }
  std::string out = path.str();
  // The micro-kernels link in statically: the library needs only libc,
  // libm and pthreads.
  SmallVector<StringRef> args = {*linker, "-shared", "-o", out, object,
                                 stubPath, SHEARS_KERNELS_ARCHIVE, "-lm",
                                 "-lpthread"};
  std::string message;
  if (llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                &message) != 0) {
    error = "linking " + out + " failed" +
            (message.empty() ? "" : ": " + message);
    llvm::sys::fs::remove(out);
    return failure();
  }
  return success();
}

std::string shears::generateHeader(StringRef json, StringRef libraryName) {
  std::string guard = "SHEARS_MODEL_" + libraryName.upper() + "_H";
  for (char &c : guard)
    if (!llvm::isAlnum(c))
      c = '_';
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by shears-compile for " << libraryName
     << ". Run it with the Shears runtime (include/shears-c/Runtime.h):\n"
     << " * shearsModelLoadLibrary(\"" << libraryName << "\", &error).\n *\n";
  auto describe = [&](const llvm::json::Array *entries, StringRef what) {
    if (!entries)
      return;
    for (const auto &[i, entry] : llvm::enumerate(*entries)) {
      const auto *object = entry.getAsObject();
      if (!object)
        continue;
      os << " * " << what << " " << i << ": "
         << object->getString("name").value_or("?") << " "
         << object->getString("dtype").value_or("?") << " [";
      if (const auto *shape = object->getArray("shape"))
        llvm::interleave(
            *shape, os,
            [&](const llvm::json::Value &d) {
              int64_t v = d.getAsInteger().value_or(-1);
              if (v < 0)
                os << "?";
              else
                os << v;
            },
            "x");
      os << "]\n";
    }
  };
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(json);
  if (parsed) {
    describe(parsed->getAsObject()->getArray("inputs"), "input");
    describe(parsed->getAsObject()->getArray("outputs"), "output");
  } else {
    llvm::consumeError(parsed.takeError());
  }
  os << " */\n#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "/* args[0]: the output memref descriptors, contiguous; args[1 + i]: "
        "the\n   descriptor of input i. Outputs are malloc'd; free "
        "`allocated`. */\n"
     << "void shears_invoke(void **args);\n"
     << "/* The JSON signature above. */\n"
     << "extern const char shears_signature[];\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return text;
}
