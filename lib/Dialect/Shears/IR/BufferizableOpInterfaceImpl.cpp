//===- BufferizableOpInterfaceImpl.cpp - Bufferizing shears.ukernel -------===//
//
// shears.ukernel is destination style: its result is its output buffer,
// written in place; its inputs are only read. An external model, as upstream
// does for linalg, so the dialect itself does not depend on bufferization.
//
//===----------------------------------------------------------------------===//

#include "shears/Dialect/Shears/IR/ShearsOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {
struct UKernelOpInterface
    : DstBufferizableOpInterfaceExternalModel<UKernelOpInterface,
                                              shears::UKernelOp> {
  /// The kernel overwrites its output (it reads back only what it wrote), so
  /// the output's old contents need not be copied in.
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  /// A kernel that reads each residual element before it writes the output
  /// element at the same place, with the residual as its output too
  /// (shears-fuse-epilogues), computes in the residual's buffer.
  bool bufferizesToElementwiseAccess(Operation *op, const AnalysisState &,
                                     ArrayRef<OpOperand *> operands) const {
    auto kernel = cast<shears::UKernelOp>(op);
    OpOperand *residual = kernel.getResidualInPlace();
    return residual && llvm::all_of(operands, [&](OpOperand *operand) {
             return operand == residual || kernel.isDpsInit(operand);
           });
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto kernel = cast<shears::UKernelOp>(op);
    SmallVector<Value> inputs, outputs;
    for (Value input : kernel.getInputs()) {
      FailureOr<Value> buffer = getBuffer(rewriter, input, options, state);
      if (failed(buffer))
        return failure();
      inputs.push_back(*buffer);
    }
    for (Value output : kernel.getOutputs()) {
      FailureOr<Value> buffer = getBuffer(rewriter, output, options, state);
      if (failed(buffer))
        return failure();
      outputs.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    shears::UKernelOp::create(rewriter, op->getLoc(), TypeRange(),
                              kernel.getKernelAttr(), inputs, outputs,
                              kernel.getIparamsAttr(), kernel.getFparamsAttr());
    replaceOpWithBufferizedValues(rewriter, op, outputs);
    return success();
  }
};
} // namespace

void mlir::shears::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, ShearsDialect *) {
    UKernelOp::attachInterface<UKernelOpInterface>(*context);
  });
}
