//===- ChannelGroups.h - Groups of coupled channels -------------*- C++ -*-===//
//
// Structured pruning removes a channel everywhere it lives at once: in the
// layers that produce it, the layers that consume it and every per-channel
// parameter in between. ChannelGroups finds those couplings by asking only
// PrunableOpInterface and ChannelFlowOpInterface.
//
//===----------------------------------------------------------------------===//

#ifndef SHEARS_ANALYSIS_CHANNELGROUPS_H
#define SHEARS_ANALYSIS_CHANNELGROUPS_H

#include "shears/Dialect/Shears/IR/ShearsInterfaces.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <optional>
#include <string>

namespace mlir::shears {

/// A layer whose weight holds a group's channels. Group channel `i` is the
/// weight indices `[offset + i * blockSize, offset + (i + 1) * blockSize)`
/// along getWeightOutputDim() (Producer) or getWeightInputDim() (Consumer);
/// a Producer's bias is indexed the same way. blockSize > 1 where a channel
/// became a block of features (flatten) or is an attention head. A layer
/// may be a member several times (a packed Q/K/V projection holds each head
/// at three offsets).
struct ChannelMember {
  enum class Role { Producer, Consumer };
  PrunableOpInterface op;
  Role role;
  int64_t offset = 0;
  int64_t blockSize = 1;
};

/// A constant operand that carries one entry (or block) per channel along
/// `dim`, e.g. batch_norm's parameters or a [C,1,1] scale: channel `i` is
/// `[offset + i * blockSize, offset + (i + 1) * blockSize)` along `dim`.
struct ChannelParameter {
  OpOperand *operand;
  int64_t dim;
  int64_t offset = 0;
  int64_t blockSize = 1;
};

/// A tensor value that carries the group's channels along `dim`, indexed as
/// for parameters within each of `repeats` periods along the dim (more than
/// one where heads are merged into the batch; ShapedType::kDynamic when the
/// dim is). Its type shrinks when channels go.
struct ChannelValue {
  Value value;
  int64_t dim;
  int64_t offset = 0;
  int64_t blockSize = 1;
  int64_t repeats = 1;
};

/// Channels that must be kept or removed together: channel `i` of the group
/// is channel `i` of every member, parameter and value.
struct ChannelGroup {
  int64_t size = 0;
  SmallVector<ChannelMember> members;
  SmallVector<ChannelParameter> parameters;
  SmallVector<ChannelValue> values;
  /// False when removing a channel cannot be expressed (the channels reach a
  /// function result, an op that mixes them, a grouped convolution, ...);
  /// `reason` then says why, with the op's location.
  bool prunable = true;
  std::string reason;
};

class ChannelGroups {
public:
  /// Builds the groups of every prunable op's output channels in `func`.
  explicit ChannelGroups(func::FuncOp func);

  ArrayRef<ChannelGroup> getGroups() const { return groups; }

private:
  SmallVector<ChannelGroup> groups;
};

} // namespace mlir::shears

#endif // SHEARS_ANALYSIS_CHANNELGROUPS_H
