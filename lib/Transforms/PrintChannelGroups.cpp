//===- PrintChannelGroups.cpp - Remarks from the ChannelGroups analysis ---===//

#include "shears/Analysis/ChannelGroups.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSPRINTCHANNELGROUPS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

namespace {
struct ShearsPrintChannelGroups
    : shears::impl::ShearsPrintChannelGroupsBase<ShearsPrintChannelGroups> {
  using Base::Base;

  void runOnOperation() override {
    ChannelGroups analysis(getOperation());
    for (auto [index, group] : llvm::enumerate(analysis.getGroups())) {
      auto producer = llvm::find_if(group.members, [](const ChannelMember &m) {
        return m.role == ChannelMember::Role::Producer;
      });
      InFlightDiagnostic remark = producer->op->emitRemark()
                                  << "group " << index << ": " << group.size
                                  << " channels, ";
      if (group.prunable)
        remark << "prunable";
      else
        remark << "not prunable: " << group.reason;
      remark.report();
      for (const ChannelMember &m : group.members)
        m.op->emitRemark() << "group " << index << " "
                           << (m.role == ChannelMember::Role::Producer
                                   ? "producer"
                                   : "consumer")
                           << " offset " << m.offset << " block "
                           << m.blockSize;
      for (const ChannelParameter &p : group.parameters)
        p.operand->getOwner()->emitRemark()
            << "group " << index << " parameter operand "
            << p.operand->getOperandNumber() << " dim " << p.dim
            << " offset " << p.offset << " block " << p.blockSize;
    }
    markAllAnalysesPreserved();
  }
};
} // namespace
