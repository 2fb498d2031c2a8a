//===- Compiler.cpp - Load, lower, JIT and AOT-compile models -------------===//

#include "shears/Compiler/Compiler.h"

#include "shears/Conversion/Passes.h"
#include "shears/Conversion/SparseChoice.h"
#include "shears/Dialect/Shears/IR/ShearsDialect.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Support/Files.h"
#include "shears/Support/RuntimeHandles.h"
#include "shears/Target/ONNX/Import.h"
#include "shears/Target/ONNX/Pack.h"
#include "shears/Transforms/Passes.h"
#include "shears/Transforms/Report.h"

#include "shears-c/GPURuntime.h"
#include "shears-c/Kernels.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/BinaryFormat/ELF.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
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

#include <cstdlib>

using namespace mlir;

void shears::registerCompilerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registry.insert<ShearsDialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  // The GPU backend: NVVM kernels serialized to PTX, embedded in host code
  // that launches them.
  registerGPUDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  gpu::registerOffloadingLLVMTranslationInterfaceExternalModels(registry);
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

void shears::registerShearsPassesAndPipelines() {
  registerShearsPasses();
  registerShearsPrunePipeline();
  registerShearsConversionPasses();
  registerShearsLowerToLLVMPipeline();
  registerShearsLowerToNVVMPipeline();
}

OwningOpRef<ModuleOp> shears::loadModel(StringRef path, MLIRContext &context,
                                        llvm::SourceMgr &sourceMgr) {
  if (path.ends_with(".onnx"))
    return importONNXFile(path, &context);
  // A regular file only: a FIFO would block until a writer came.
  auto buffer = readRegularFile(path);
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  if (!buffer) {
    emitError(fileLoc) << llvm::toString(buffer.takeError());
    return nullptr;
  }
  if (path.ends_with(".shears") || isPackedModel((*buffer)->getBuffer())) {
    llvm::Expected<std::string> onnx = unpackONNX((*buffer)->getBuffer());
    if (!onnx) {
      emitError(fileLoc) << "cannot unpack '" << path
                         << "': " << llvm::toString(onnx.takeError());
      return nullptr;
    }
    return importONNX(llvm::MemoryBuffer::getMemBufferCopy(*onnx, path),
                      &context);
  }
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return parseSourceFile<ModuleOp>(sourceMgr, ParserConfig(&context));
}

static std::unique_ptr<llvm::TargetMachine>
hostTargetMachine(std::string &error, StringRef cpu = "");

FailureOr<shears::KernelTarget> shears::kernelTargetForCPU(StringRef cpu,
                                                           std::string &error) {
  if (cpu.empty())
    return hostKernelTarget();
  // Checked on the host's machine first: LLVM warns on stderr when it makes
  // a target machine for a CPU it does not know.
  std::unique_ptr<llvm::TargetMachine> host = hostTargetMachine(error, "");
  if (!host)
    return failure();
  if (!host->getMCSubtargetInfo()->isCPUStringValid(cpu)) {
    error = "unknown target CPU '" + cpu.str() +
            "' (LLVM's x86-64 CPU names, such as skylake-avx512, "
            "sapphirerapids or x86-64-v3)";
    return failure();
  }
  std::unique_ptr<llvm::TargetMachine> machine = hostTargetMachine(error, cpu);
  if (!machine)
    return failure();
  const llvm::MCSubtargetInfo *info = machine->getMCSubtargetInfo();
  return kernelTarget([&](StringRef feature) {
    return info->checkFeatures(("+" + feature).str());
  });
}

LogicalResult shears::lowerToLLVM(ModuleOp module, StringRef cpu,
                                  bool releaseWeights,
                                  const SparseKernelOptions &sparse,
                                  bool profileSites) {
  LowerToLLVMOptions options;
  options.profileSites = profileSites;
  options.releaseWeights = releaseWeights;
  options.sparseDensity = sparse.density;
  options.timeSparse = sparse.time;
  options.explainSparse = sparse.explain;
  std::string error;
  FailureOr<KernelTarget> target = kernelTargetForCPU(cpu, error);
  if (failed(target))
    return emitError(module.getLoc()) << error;
  options.isa = target->isa;
  options.integerKernels = target->integerKernels;
  PassManager pm(module.getContext());
  buildShearsLowerToLLVMPipeline(pm, options);
  return pm.run(module);
}

std::optional<shears::Device> shears::parseDevice(StringRef name) {
  return llvm::StringSwitch<std::optional<Device>>(name)
      .Case("cpu", Device::CPU)
      .Case("cuda", Device::CUDA)
      .Default(std::nullopt);
}

std::string shears::checkGPUTarget(const GPUTarget &gpu) {
  if (!llvm::is_contained(kGPUArchs, gpu.arch))
    return "unknown GPU architecture '" + gpu.arch + "' (sm_90 or sm_80)";
  if (!parseGPUPrecision(gpu.precision))
    return "unknown GPU precision '" + gpu.precision +
           "' (fp32, tf32, fp16 or bf16)";
  return "";
}

LogicalResult shears::lowerToNVVM(ModuleOp module, const GPUTarget &gpu,
                                  bool emulate) {
  std::string invalid = checkGPUTarget(gpu);
  if (!invalid.empty())
    return emitError(module.getLoc()) << invalid;
  LowerToNVVMOptions options;
  options.chip = gpu.arch;
  options.precision = gpu.precision;
  options.emulate = emulate;
  PassManager pm(module.getContext());
  buildShearsLowerToNVVMPipeline(pm, options);
  return pm.run(module);
}

OwningOpRef<ModuleOp> shears::loadAndLower(StringRef path, MLIRContext &context,
                                           llvm::SourceMgr &sourceMgr,
                                           StringRef cpu,
                                           const SparseKernelOptions &sparse,
                                           Device device,
                                           const GPUTarget &gpu) {
  OwningOpRef<ModuleOp> module = loadModel(path, context, sourceMgr);
  if (!module)
    return nullptr;
  // The module is the only one in its context: packed weights may free
  // their originals.
  if (device != Device::CPU
          ? failed(lowerToNVVM(*module, gpu, device == Device::CUDAEmulated))
          : failed(
                lowerToLLVM(*module, cpu, /*releaseWeights=*/true, sparse))) {
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
/// binds the symbols to host buffers, a shared library links them from an
/// object file written directly (writeWeightsObject). Compile time and
/// memory follow the code, not the weights.
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
    // Each on a cache line of its own: the kernels' 64-byte loads of a
    // packed panel then never straddle two lines (a 256^3 GEMM ran 0.93x
    // as fast with its panels 16 bytes off, on an Emerald Rapids Xeon).
    weights.push_back(
        {symbol, blob->getData(),
         std::max<uint64_t>(global.getAlignment().value_or(0), 64)});
    global.removeValueAttr();
    global.setLinkage(LLVM::Linkage::External);
    global.setVisibility_(LLVM::Visibility::Hidden);
  }
  return weights;
}

/// Whether `module` was lowered by shears-lower-to-nvvm: it holds kernels.
static bool isGPUModule(ModuleOp module) {
  return !module.getOps<gpu::BinaryOp>().empty();
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
  bool gpu = isGPUModule(module);
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
    symbols[interner("shears_uk_profile_site")] = {
        llvm::orc::ExecutorAddr::fromPtr(&shears_uk_profile_site),
        llvm::JITSymbolFlags::Exported};
    for (const auto &[name, address] : weightSymbols)
      symbols[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(address),
                                 llvm::JITSymbolFlags::Exported};
    if (gpu)
      for (const ShearsGPUSymbol *s = shears_gpu_symbols(); s->name; ++s)
        symbols[interner(s->name)] = {
            llvm::orc::ExecutorAddr::fromPtr(s->address),
            llvm::JITSymbolFlags::Exported};
    return symbols;
  });
  // Global constructors: a GPU module loads its kernels here.
  (*engine)->initialize();
  auto invoke = (*engine)->lookup("shears_invoke");
  auto signature = (*engine)->lookup("shears_signature");
  if (!invoke || !signature) {
    error = "the module has no shears_invoke/shears_signature: " +
            llvm::toString(invoke ? signature.takeError()
                                  : invoke.takeError());
    return nullptr;
  }
  void (*release)(void) = nullptr;
  if (gpu) {
    auto found = (*engine)->lookup("shears_release");
    if (!found) {
      error = "the GPU module has no shears_release: " +
              llvm::toString(found.takeError());
      return nullptr;
    }
    release = reinterpret_cast<void (*)(void)>(*found);
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
  shearsModelSetParallelFor(model, shears_uk_parallel_for);
  // The engine's constructors loaded the kernels, or failed to.
  if (gpu && shearsModelSetDeviceControl(model, shears_gpu_take_error, release,
                                         &message) != 0) {
    error = takeRuntimeMessage(message, "the GPU runtime failed");
    shearsModelFree(model);
    return nullptr;
  }
  return model;
}

/// Writes `weights` as an x86-64 ELF relocatable object to `os`: one
/// read-only section holding their bytes one after the other (each at its
/// alignment), and a hidden global object symbol for each. Written
/// directly, streaming from the blobs: an assembler's .incbin of the same
/// bytes held them twice in memory (2.7x the weights for resnet50).
static void writeWeightsObject(llvm::raw_ostream &os,
                               ArrayRef<ExternalWeight> weights) {
  namespace elf = llvm::ELF;
  // Sections: 0 null, 1 the weights, 2 .note.GNU-stack (no executable
  // stack), 3 .symtab, 4 .strtab, 5 .shstrtab.
  std::string shstrtab("\0", 1), strtab("\0", 1);
  auto addName = [](std::string &table, StringRef name) {
    uint32_t offset = table.size();
    table += name.str();
    table += '\0';
    return offset;
  };
  uint32_t weightsName = addName(shstrtab, ".rodata.shears_weights");
  uint32_t noteName = addName(shstrtab, ".note.GNU-stack");
  uint32_t symtabName = addName(shstrtab, ".symtab");
  uint32_t strtabName = addName(shstrtab, ".strtab");
  uint32_t shstrtabName = addName(shstrtab, ".shstrtab");

  std::vector<elf::Elf64_Sym> symbols(1); // Index 0: the null symbol.
  uint64_t size = 0, alignment = 1;
  for (const ExternalWeight &w : weights) {
    size = llvm::alignTo(size, w.alignment);
    alignment = std::max<uint64_t>(alignment, w.alignment);
    elf::Elf64_Sym sym{};
    sym.st_name = addName(strtab, w.symbol);
    sym.setBindingAndType(elf::STB_GLOBAL, elf::STT_OBJECT);
    sym.st_other = elf::STV_HIDDEN;
    sym.st_shndx = 1;
    sym.st_value = size;
    sym.st_size = w.data.size();
    symbols.push_back(sym);
    size += w.data.size();
  }

  // Layout: header, the weights (aligned), the tables, the section headers.
  uint64_t weightsOffset = llvm::alignTo(sizeof(elf::Elf64_Ehdr), alignment);
  uint64_t symtabOffset = llvm::alignTo(weightsOffset + size, 8);
  uint64_t symtabSize = symbols.size() * sizeof(elf::Elf64_Sym);
  uint64_t strtabOffset = symtabOffset + symtabSize;
  uint64_t shstrtabOffset = strtabOffset + strtab.size();
  uint64_t headersOffset =
      llvm::alignTo(shstrtabOffset + shstrtab.size(), 8);

  elf::Elf64_Ehdr header{};
  memcpy(header.e_ident, elf::ElfMagic, strlen(elf::ElfMagic));
  header.e_ident[elf::EI_CLASS] = elf::ELFCLASS64;
  header.e_ident[elf::EI_DATA] = elf::ELFDATA2LSB;
  header.e_ident[elf::EI_VERSION] = elf::EV_CURRENT;
  header.e_ident[elf::EI_OSABI] = elf::ELFOSABI_NONE;
  header.e_type = elf::ET_REL;
  header.e_machine = elf::EM_X86_64;
  header.e_version = elf::EV_CURRENT;
  header.e_shoff = headersOffset;
  header.e_ehsize = sizeof(elf::Elf64_Ehdr);
  header.e_shentsize = sizeof(elf::Elf64_Shdr);
  header.e_shnum = 6;
  header.e_shstrndx = 5;

  uint64_t at = 0;
  auto write = [&](const void *data, uint64_t bytes) {
    os.write(static_cast<const char *>(data), bytes);
    at += bytes;
  };
  auto padTo = [&](uint64_t offset) { os.write_zeros(offset - at); at = offset; };
  write(&header, sizeof(header));
  padTo(weightsOffset);
  for (auto [w, sym] : llvm::zip(weights, ArrayRef(symbols).drop_front())) {
    padTo(weightsOffset + sym.st_value);
    write(w.data.data(), w.data.size());
  }
  padTo(symtabOffset);
  write(symbols.data(), symtabSize);
  write(strtab.data(), strtab.size());
  write(shstrtab.data(), shstrtab.size());
  padTo(headersOffset);

  elf::Elf64_Shdr sections[6] = {};
  sections[1].sh_name = weightsName;
  sections[1].sh_type = elf::SHT_PROGBITS;
  sections[1].sh_flags = elf::SHF_ALLOC;
  sections[1].sh_offset = weightsOffset;
  sections[1].sh_size = size;
  sections[1].sh_addralign = alignment;
  sections[2].sh_name = noteName;
  sections[2].sh_type = elf::SHT_PROGBITS;
  sections[2].sh_offset = weightsOffset + size;
  sections[2].sh_addralign = 1;
  sections[3].sh_name = symtabName;
  sections[3].sh_type = elf::SHT_SYMTAB;
  sections[3].sh_offset = symtabOffset;
  sections[3].sh_size = symtabSize;
  sections[3].sh_link = 4;
  sections[3].sh_info = 1; // The first non-local symbol.
  sections[3].sh_addralign = 8;
  sections[3].sh_entsize = sizeof(elf::Elf64_Sym);
  sections[4].sh_name = strtabName;
  sections[4].sh_type = elf::SHT_STRTAB;
  sections[4].sh_offset = strtabOffset;
  sections[4].sh_size = strtab.size();
  sections[4].sh_addralign = 1;
  sections[5].sh_name = shstrtabName;
  sections[5].sh_type = elf::SHT_STRTAB;
  sections[5].sh_offset = shstrtabOffset;
  sections[5].sh_size = shstrtab.size();
  sections[5].sh_addralign = 1;
  write(sections, sizeof(sections));
}

LogicalResult shears::compileSharedLibrary(ModuleOp module, StringRef path,
                                           std::string &error, StringRef cpu,
                                           int threads) {
  std::unique_ptr<llvm::TargetMachine> machine = hostTargetMachine(error, cpu);
  if (!machine)
    return failure();
  // Weights go into an object file of their own, written here.
  std::vector<ExternalWeight> weights = externalizeWeights(module);
  SmallString<128> weightsPath;
  int weightsFd;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
          "shears-weights", "o", weightsFd, weightsPath)) {
    error = "cannot create a temporary weights file: " + ec.message();
    return failure();
  }
  llvm::FileRemover removeWeights(weightsPath);
  {
    llvm::raw_fd_ostream os(weightsFd, /*shouldClose=*/true);
    writeWeightsObject(os, weights);
    if (os.has_error()) {
      error = "cannot write the weights to a temporary file";
      os.clear_error();
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
  // Linked beside `path` and renamed over it: a failure leaves an existing
  // library as it was.
  SmallString<256> out;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%", fd, out)) {
    error = "cannot create a file beside '" + path.str() + "': " + ec.message();
    return failure();
  }
  llvm::sys::fs::closeFile(fd);
  llvm::FileRemover removeOut(out);
  // The micro-kernels link in statically: the library needs only libc,
  // libm and pthreads. The archives are the build's, or those the
  // environment names (an installed Python package ships its own).
  auto archive = [](const char *variable, StringRef built) -> StringRef {
    const char *path = std::getenv(variable);
    return path && *path ? StringRef(path) : built;
  };
  SmallVector<StringRef> args = {
      *linker,
      "-shared",
      "-o",
      out,
      object,
      weightsPath,
      archive("SHEARS_KERNELS_ARCHIVE", SHEARS_KERNELS_ARCHIVE)};
  // A GPU model also links Shears's CUDA runtime, which loads the driver
  // with dlopen: no CUDA library at link time.
  if (isGPUModule(module))
    args.append(
        {archive("SHEARS_GPU_RUNTIME_ARCHIVE", SHEARS_GPU_RUNTIME_ARCHIVE),
         "-ldl"});
  args.append({"-lm", "-lpthread"});
  std::string message;
  if (llvm::sys::ExecuteAndWait(*linker, args, std::nullopt, {}, 0, 0,
                                &message) != 0) {
    error = "linking " + path.str() + " failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  if (std::error_code ec = llvm::sys::fs::rename(out, path)) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return failure();
  }
  removeOut.releaseFile();
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
        "the\n   descriptor of input i (of n); args[1 + n]: the workspace's; "
        "args[2 + n]: an\n   int32_t, 0 when the model ran, k > 0 when "
        "\"checks\"[k - 1] failed (see\n   include/shears-c/Runtime.h). "
        "Outputs are malloc'd; free `allocated`. */\n"
     << "void shears_invoke(void **args);\n"
     << "/* The JSON signature above. */\n"
     << "extern const char shears_signature[];\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return text;
}

void shears::timeSparseLayers(ModelReport &report) {
  std::string isa = shears::hostKernelTarget().isa;
  for (shears::LayerReport &layer : report.layers) {
    auto linear = dyn_cast_or_null<shears::LinearOp>(layer.operation);
    auto type = linear
                    ? dyn_cast<RankedTensorType>(linear.getWeight().getType())
                    : RankedTensorType();
    if (!type || !type.hasStaticShape() || type.getRank() != 2)
      continue;
    FailureOr<SmallVector<float>> weight =
        shears::getConstantFloats(linear.getWeight());
    if (failed(weight))
      continue;
    int64_t n = type.getDimSize(0), k = type.getDimSize(1);
    std::optional<SmallVector<float>> packed = shears::packSparseCandidate(
        *weight, n, k, shears::kTimedSparseDensity, /*timed=*/true);
    if (!packed)
      continue;
    std::optional<shears::SparseChoice> choice =
        shears::timeLinearWeight(*weight, n, k, *packed, isa);
    if (!choice)
      continue;
    layer.format = choice->sparse ? "spgemm" : "dense";
    for (const shears::FormatTiming &t : choice->timings) {
      layer.spgemmOverGemm.emplace_back(t.batch,
                                        t.spgemmSeconds / t.gemmSeconds);
      layer.predictedMs.emplace_back(
          t.batch, 1e3 * (choice->sparse ? t.spgemmSeconds : t.gemmSeconds));
    }
  }
}
