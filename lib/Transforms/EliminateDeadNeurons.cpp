//===- EliminateDeadNeurons.cpp - Remove channels that cannot contribute --===//
//
// A channel of a group is dead when every producer's weights for it are zero:
// its activation is then the producer bias, carried through the ops between
// producer and consumers. Where that constant can be computed exactly, the
// channel is removed from every member, parameter and value of its group and
// the constant, times the consumer's weights, moves into the consumer's bias.
// Decisions of one round all read the IR as it was, so they compose; rounds
// repeat while a removal exposes more dead channels.
//
//===----------------------------------------------------------------------===//

#include "shears/Analysis/ChannelGroups.h"
#include "shears/Dialect/Shears/IR/ShearsOps.h"
#include "shears/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir::shears {
#define GEN_PASS_DEF_SHEARSELIMINATEDEADNEURONS
#include "shears/Transforms/Passes.h.inc"
} // namespace mlir::shears

using namespace mlir;
using namespace mlir::shears;

using Role = ChannelMember::Role;

namespace {

/// Row-major strides and the index of flat element `i` along `dim`.
struct Layout {
  explicit Layout(ShapedType type)
      : shape(type.getShape()), strides(shape.size(), 1) {
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
      strides[d] = strides[d + 1] * shape[d + 1];
  }
  int64_t along(int64_t i, int64_t dim) const {
    return i / strides[dim] % shape[dim];
  }
  ArrayRef<int64_t> shape;
  SmallVector<int64_t> strides;
};

/// Per dimension of an operand, which indices stay (empty: all).
using KeepMasks = SmallVector<SmallVector<bool>>;

class DeadNeuronEliminator {
public:
  DeadNeuronEliminator(func::FuncOp func) : func(func) {}
  /// One round: returns the number of channels removed.
  int64_t run(int64_t &removedWeights);

private:
  const SmallVector<float> *floats(Value value);
  std::optional<float> uniform(Value value, int64_t dim, int64_t begin,
                               int64_t end);
  /// Whether `member`'s weights for group `channel` are all zero: its rows
  /// for a producer, its columns for a consumer.
  bool isZero(ChannelMember member, int64_t channel);
  bool isUnread(const ChannelGroup &group, int64_t channel);
  std::optional<float> evaluate(Operation *op, const ChannelGroup &group,
                                int64_t channel,
                                const DenseMap<Value, std::optional<float>> &);
  DenseMap<Value, std::optional<float>>
  channelValues(const ChannelGroup &group, int64_t channel);
  bool isComputable(const ChannelGroup &group);
  double inputSum(ChannelMember consumer, int64_t out, int64_t channel);
  Value ensureBias(PrunableOpInterface op);
  /// What removing a channel adds to the bias of each consumer op.
  using Fold = SmallVector<std::pair<Operation *, SmallVector<double>>>;
  std::optional<Fold> planRemoval(const ChannelGroup &group, int64_t channel);
  void removeFromGroup(const ChannelGroup &group, ArrayRef<int64_t> dead);
  void drop(Operation *op, unsigned operand, int64_t dim, int64_t index);

  func::FuncOp func;
  /// Contents of constants (null: not a constant), stable while the map
  /// grows.
  DenseMap<Value, std::unique_ptr<SmallVector<float>>> constants;
  /// Per (op, weight dim): which indices along it have a non-zero weight.
  DenseMap<std::pair<Operation *, int64_t>, SmallVector<bool>> nonzero;
  /// Per consumer op: sums of its weights over everything but the output
  /// and input dims, [out][in].
  DenseMap<Operation *, SmallVector<double>> weightSums;
  /// Keyed by (op, operand number): adding a bias operand may move an op's
  /// OpOperands.
  DenseMap<std::pair<Operation *, unsigned>, KeepMasks> keep;
  DenseMap<Operation *, SmallVector<double>> biasDeltas;
  /// Per value and dim: the indices removed from it (from each period, where
  /// the channels repeat along the dim), and the number of periods.
  struct Removal {
    SmallVector<int64_t> indices;
    int64_t repeats = 1;
  };
  DenseMap<Value, SmallVector<Removal>> shrink;
  /// Channels removed from depthwise convolutions, whose group count is
  /// their channel count.
  DenseMap<Operation *, int64_t> removedGroups;
};

} // namespace

const SmallVector<float> *DeadNeuronEliminator::floats(Value value) {
  auto [it, inserted] = constants.try_emplace(value);
  if (inserted) {
    FailureOr<SmallVector<float>> data = getConstantFloats(value);
    if (succeeded(data))
      it->second = std::make_unique<SmallVector<float>>(std::move(*data));
  }
  return it->second.get();
}

/// The value shared by every element of constant `value` whose index along
/// `dim` is in [begin, end) (all elements when `dim` is -1), if they agree.
std::optional<float> DeadNeuronEliminator::uniform(Value value, int64_t dim,
                                                   int64_t begin,
                                                   int64_t end) {
  const SmallVector<float> *data = floats(value);
  if (!data)
    return std::nullopt;
  Layout layout(cast<ShapedType>(value.getType()));
  std::optional<float> result;
  for (auto [i, x] : llvm::enumerate(*data)) {
    if (dim >= 0) {
      int64_t index = layout.along(i, dim);
      if (index < begin || index >= end)
        continue;
    }
    if (result && *result != x)
      return std::nullopt;
    result = x;
  }
  return result;
}

/// Which indices along `dim` of a tensor with `data` hold a non-zero.
static SmallVector<bool> nonzeroAlong(ArrayRef<float> data, ShapedType type,
                                      int64_t dim) {
  Layout layout(type);
  SmallVector<bool> nonzero(type.getDimSize(dim), false);
  for (auto [i, x] : llvm::enumerate(data))
    if (x != 0.0f)
      nonzero[layout.along(i, dim)] = true;
  return nonzero;
}

/// A constant, beside the one defining `old` and named like it, of the
/// elements of `data` (shaped like `old`) that every non-empty mask of
/// `masks` (one per dim) keeps.
static Value shrinkConstant(Value old, ArrayRef<float> data,
                            const KeepMasks &masks, int64_t &removedWeights) {
  auto type = cast<RankedTensorType>(old.getType());
  SmallVector<int64_t> shape(type.getShape());
  for (auto [size, mask] : llvm::zip(shape, masks))
    if (!mask.empty())
      size = llvm::count(mask, true);
  Layout layout(type);
  SmallVector<float> kept;
  for (auto [i, x] : llvm::enumerate(data)) {
    bool stays = true;
    for (auto [dim, mask] : llvm::enumerate(masks))
      stays &= mask.empty() || mask[layout.along(i, dim)];
    if (stays)
      kept.push_back(x);
  }
  removedWeights += data.size() - kept.size();
  Operation *def = old.getDefiningOp();
  std::string name = "pruned";
  auto constant = dyn_cast<ConstantOp>(def);
  if (auto resource = constant ? dyn_cast<DenseResourceElementsAttr>(
                                     constant.getValue())
                               : nullptr)
    name = resource.getRawHandle().getKey().str();
  else if (StringRef onnxName = getONNXName(def->getLoc()); !onnxName.empty())
    name = onnxName.str();
  OpBuilder builder(def);
  return createWeightConstant(builder, def->getLoc(), type.clone(shape), kept,
                              name);
}

bool DeadNeuronEliminator::isZero(ChannelMember member, int64_t channel) {
  int64_t dim = member.role == Role::Producer
                    ? member.op.getWeightOutputDim()
                    : member.op.getWeightInputDim();
  auto [it, inserted] = nonzero.try_emplace({member.op, dim});
  if (inserted) {
    Value weight = member.op.getWeight();
    it->second =
        nonzeroAlong(*floats(weight), cast<ShapedType>(weight.getType()), dim);
  }
  int64_t begin = member.offset + channel * member.blockSize;
  return !llvm::is_contained(
      ArrayRef<bool>(it->second).slice(begin, member.blockSize), true);
}

/// Whether no consumer of the group reads `channel`: their weights for it
/// are all zero. Nothing then depends on its value, whatever the producers
/// compute.
bool DeadNeuronEliminator::isUnread(const ChannelGroup &group,
                                    int64_t channel) {
  bool anyConsumer = false;
  for (ChannelMember m : group.members) {
    if (m.role != Role::Consumer)
      continue;
    if (m.op.getGroups() != 1 || !isZero(m, channel))
      return false;
    anyConsumer = true;
  }
  return anyConsumer;
}

/// Constant weights and parameters, one value per channel, ops in one block.
bool DeadNeuronEliminator::isComputable(const ChannelGroup &group) {
  for (ChannelMember m : group.members) {
    if (!floats(m.op.getWeight()))
      return false;
    if (Value bias = m.op.getPrunedBias(); bias && !floats(bias))
      return false;
  }
  for (const ChannelParameter &p : group.parameters)
    if (!floats(p.operand->get()))
      return false;
  Block *block = nullptr;
  for (const ChannelValue &v : group.values) {
    Operation *op = v.value.getDefiningOp();
    if (!op || (block && op->getBlock() != block))
      return false;
    block = op->getBlock();
  }
  return true;
}

/// The constant activation of a dead `channel` at each value of the group,
/// op by op from the producers; nullopt where it is not one constant.
DenseMap<Value, std::optional<float>>
DeadNeuronEliminator::channelValues(const ChannelGroup &group,
                                    int64_t channel) {
  SmallVector<Value> order;
  for (const ChannelValue &v : group.values)
    order.push_back(v.value);
  llvm::sort(order, [](Value a, Value b) {
    return a.getDefiningOp()->isBeforeInBlock(b.getDefiningOp());
  });
  DenseMap<Value, std::optional<float>> values;
  for (Value value : order)
    values[value] = evaluate(value.getDefiningOp(), group, channel, values);
  return values;
}

std::optional<float> DeadNeuronEliminator::evaluate(
    Operation *op, const ChannelGroup &group, int64_t channel,
    const DenseMap<Value, std::optional<float>> &values) {
  if (op->getNumResults() != 1)
    return std::nullopt;
  // A dead producer yields its bias.
  for (ChannelMember m : group.members) {
    if (m.op != op || m.role != Role::Producer)
      continue;
    Value bias = m.op.getPrunedBias();
    if (!bias)
      return 0.0f;
    int64_t begin = m.offset + channel * m.blockSize;
    return uniform(bias, 0, begin, begin + m.blockSize);
  }
  // Operands: the channel's value in the group, a parameter's entry for it,
  // or a constant that is the same everywhere.
  SmallVector<std::optional<double>> in;
  std::optional<double> carried; // of the first operand in the group
  bool seen = false;
  for (OpOperand &operand : op->getOpOperands()) {
    std::optional<float> x;
    if (auto it = values.find(operand.get()); it != values.end()) {
      x = it->second;
      if (!seen)
        carried = x;
      seen = true;
    } else if (auto *p = llvm::find_if(
                   group.parameters,
                   [&](const ChannelParameter &p) {
                     return p.operand == &operand;
                   });
               p != group.parameters.end()) {
      int64_t begin = p->offset + channel * p->blockSize;
      x = uniform(operand.get(), p->dim, begin, begin + p->blockSize);
    } else if (matchPattern(operand.get(), m_Constant())) {
      x = uniform(operand.get(), -1, 0, 0);
    }
    in.push_back(x);
  }
  // The op says what the constant becomes; any other op keeps the channel.
  auto flow = dyn_cast<ChannelFlowOpInterface>(op);
  std::optional<double> result =
      flow ? flow.foldConstantChannel(in, carried) : std::nullopt;
  if (!result)
    return std::nullopt;
  return static_cast<float>(*result);
}

/// Sum of `consumer`'s weights from group `channel` to output `out`, over
/// the channel's block and the kernel window.
double DeadNeuronEliminator::inputSum(ChannelMember consumer,
                                      int64_t out, int64_t channel) {
  Value weight = consumer.op.getWeight();
  auto type = cast<ShapedType>(weight.getType());
  int64_t outDim = consumer.op.getWeightOutputDim();
  int64_t inDim = consumer.op.getWeightInputDim();
  int64_t numIn = type.getDimSize(inDim);
  auto [it, inserted] = weightSums.try_emplace(consumer.op);
  if (inserted) {
    Layout layout(type);
    it->second.assign(type.getDimSize(outDim) * numIn, 0.0);
    for (auto [i, x] : llvm::enumerate(*floats(weight)))
      it->second[layout.along(i, outDim) * numIn + layout.along(i, inDim)] +=
          x;
  }
  double sum = 0;
  int64_t begin = consumer.offset + channel * consumer.blockSize;
  for (int64_t in = begin; in < begin + consumer.blockSize; ++in)
    sum += it->second[out * numIn + in];
  return sum;
}

/// The op's bias, made (zeros) when absent and the op takes one as its last
/// operand; null when it cannot have one.
Value DeadNeuronEliminator::ensureBias(PrunableOpInterface op) {
  if (Value bias = op.getPrunedBias())
    return bias;
  auto weight = cast<ShapedType>(op.getWeight().getType());
  int64_t size = weight.getDimSize(op.getWeightOutputDim());
  OpBuilder builder(op);
  SmallVector<float> zeros(size, 0.0f);
  ConstantOp bias = createWeightConstant(
      builder, op->getLoc(),
      RankedTensorType::get({size}, weight.getElementType()), zeros, "bias");
  op->insertOperands(op->getNumOperands(), bias.getResult());
  if (op.getPrunedBias() == bias.getResult())
    return bias;
  op->eraseOperand(op->getNumOperands() - 1);
  bias.erase();
  return {};
}

void DeadNeuronEliminator::drop(Operation *op, unsigned operand, int64_t dim,
                                int64_t index) {
  auto type = cast<ShapedType>(op->getOperand(operand).getType());
  KeepMasks &masks = keep[{op, operand}];
  masks.resize(type.getRank());
  if (masks[dim].empty())
    masks[dim].assign(type.getDimSize(dim), true);
  masks[dim][index] = false;
}

static unsigned operandNumber(Operation *op, Value value) {
  return llvm::find(op->getOperands(), value) - op->operand_begin();
}

/// Records the removal of `dead` channels from every place of `group`.
void DeadNeuronEliminator::removeFromGroup(const ChannelGroup &group,
                                           ArrayRef<int64_t> dead) {
  for (int64_t channel : dead) {
    for (ChannelMember m : group.members) {
      bool producer = m.role == Role::Producer;
      unsigned weight = operandNumber(m.op, m.op.getWeight());
      int64_t dim =
          producer ? m.op.getWeightOutputDim() : m.op.getWeightInputDim();
      for (int64_t k = 0; k < m.blockSize; ++k)
        drop(m.op, weight, dim, m.offset + channel * m.blockSize + k);
      if (producer && m.op.getGroups() > 1)
        ++removedGroups[m.op];
    }
    for (const ChannelParameter &p : group.parameters)
      for (int64_t k = 0; k < p.blockSize; ++k)
        drop(p.operand->getOwner(), p.operand->getOperandNumber(), p.dim,
             p.offset + channel * p.blockSize + k);
  }
  for (const ChannelValue &v : group.values) {
    SmallVector<Removal> &removals = shrink[v.value];
    removals.resize(cast<ShapedType>(v.value.getType()).getRank());
    Removal &removal = removals[v.dim];
    removal.repeats = v.repeats;
    for (int64_t channel : dead)
      for (int64_t k = 0; k < v.blockSize; ++k)
        removal.indices.push_back(v.offset + channel * v.blockSize + k);
  }
}

/// The bias increments that make removing dead `channel` exact, or nullopt
/// when it must stay.
std::optional<DeadNeuronEliminator::Fold>
DeadNeuronEliminator::planRemoval(const ChannelGroup &group, int64_t channel) {
  if (isUnread(group, channel))
    return Fold();
  if (!llvm::all_of(group.members, [&](ChannelMember m) {
        return m.role != Role::Producer || isZero(m, channel);
      }))
    return std::nullopt;
  DenseMap<Value, std::optional<float>> values = channelValues(group, channel);
  Fold fold;
  for (ChannelMember m : group.members) {
    if (m.role != Role::Consumer)
      continue;
    std::optional<float> x = values.lookup(m.op.getPrunedInput());
    if (!x)
      return std::nullopt;
    if (*x == 0.0f)
      continue;
    // A constant input gives a constant output only where every window
    // position sees it: no zero padding.
    auto pads = m.op->getAttrOfType<DenseI64ArrayAttr>("pads");
    if ((pads &&
         llvm::any_of(pads.asArrayRef(), [](int64_t p) { return p != 0; })) ||
        !ensureBias(m.op))
      return std::nullopt;
    auto weight = cast<ShapedType>(m.op.getWeight().getType());
    SmallVector<double> delta(weight.getDimSize(m.op.getWeightOutputDim()));
    for (auto [out, d] : llvm::enumerate(delta))
      d = *x * inputSum(m, out, channel);
    fold.push_back({m.op, std::move(delta)});
  }
  return fold;
}

int64_t DeadNeuronEliminator::run(int64_t &removedWeights) {
  ChannelGroups analysis(func);
  int64_t removedChannels = 0;
  for (const ChannelGroup &group : analysis.getGroups()) {
    if (!group.prunable || !isComputable(group))
      continue;
    SmallVector<int64_t> dead;
    SmallVector<Fold> folds;
    for (int64_t channel = 0; channel < group.size; ++channel) {
      if (std::optional<Fold> fold = planRemoval(group, channel)) {
        dead.push_back(channel);
        folds.push_back(std::move(*fold));
      }
    }
    // Keep one channel: empty tensors help nobody.
    if (static_cast<int64_t>(dead.size()) == group.size) {
      dead.pop_back();
      folds.pop_back();
    }
    if (dead.empty())
      continue;
    for (Fold &fold : folds)
      for (auto &[op, delta] : fold) {
        SmallVector<double> &total = biasDeltas[op];
        total.resize(delta.size());
        for (auto [t, d] : llvm::zip(total, delta))
          t += d;
      }
    removeFromGroup(group, dead);
    removedChannels += dead.size();
  }
  if (!removedChannels)
    return 0;

  // Biases (some made this round) gain their folds and lose the entries of
  // the output channels their weights lose.
  DenseMap<Operation *, SmallVector<bool>> outputMasks;
  for (auto &[key, masks] : keep) {
    auto prunable = dyn_cast<PrunableOpInterface>(key.first);
    if (prunable && key.second == operandNumber(prunable, prunable.getWeight()))
      outputMasks[prunable] = masks[prunable.getWeightOutputDim()];
  }
  for (auto &[op, delta] : biasDeltas)
    outputMasks.try_emplace(op);
  for (auto &[op, mask] : outputMasks) {
    Value bias = cast<PrunableOpInterface>(op).getPrunedBias();
    if (bias && (!mask.empty() || biasDeltas.count(op)))
      keep[{op, operandNumber(op, bias)}] = KeepMasks{mask};
  }
  SmallVector<Operation *> oldConstants;
  // In IR order, so that names and output are deterministic.
  SmallVector<OpOperand *> operands;
  func.walk([&](Operation *op) {
    for (OpOperand &operand : op->getOpOperands())
      if (keep.count({op, operand.getOperandNumber()}))
        operands.push_back(&operand);
  });
  for (OpOperand *operand : operands) {
    KeepMasks &masks = keep[{operand->getOwner(), operand->getOperandNumber()}];
    Value old = operand->get();
    ArrayRef<float> data = *floats(old);
    SmallVector<float> biased;
    auto prunable = dyn_cast<PrunableOpInterface>(operand->getOwner());
    auto delta = biasDeltas.find(operand->getOwner());
    if (prunable && prunable.getPrunedBias() == old &&
        delta != biasDeltas.end()) {
      biased.assign(data.begin(), data.end());
      for (auto [x, d] : llvm::zip(biased, delta->second))
        x = static_cast<float>(x + d);
      data = biased;
    }
    masks.resize(cast<ShapedType>(old.getType()).getRank());
    operand->set(shrinkConstant(old, data, masks, removedWeights));
    oldConstants.push_back(old.getDefiningOp());
  }
  for (auto &[value, removals] : shrink) {
    auto type = cast<RankedTensorType>(value.getType());
    SmallVector<int64_t> shape(type.getShape());
    // A dynamic dim (heads merged into the batch) stays dynamic.
    for (auto [size, removal] : llvm::zip(shape, removals))
      if (!ShapedType::isDynamic(size))
        size -= static_cast<int64_t>(removal.indices.size()) * removal.repeats;
    value.setType(type.clone(shape));
    // Ops that select along a dim by position follow the removal.
    for (auto [dim, removal] : llvm::enumerate(removals)) {
      if (removal.indices.empty() || removal.repeats != 1)
        continue;
      llvm::sort(removal.indices);
      for (OpOperand &use : value.getUses())
        if (auto flow = dyn_cast<ChannelFlowOpInterface>(use.getOwner()))
          flow.removeOperandChannels(use.getOperandNumber(), dim,
                                     removal.indices);
    }
  }
  for (auto [op, removed] : removedGroups) {
    auto prunable = cast<PrunableOpInterface>(op);
    prunable.setGroups(prunable.getGroups() - removed);
  }
  for (Operation *op : oldConstants)
    if (op->use_empty())
      op->erase();
  return removedChannels;
}

/// Removes the input features of the model that no layer reads: features of
/// an argument all of whose users are layers (conv, linear) with all-zero
/// weight columns for them. The layers lose those columns and read the kept
/// features through a shears.gather; with `shrinkArguments` the argument
/// itself loses them instead (the model's input changes; the argument's
/// `shears.kept_features` lists the original index of each feature kept).
/// Returns the number of features removed.
static int64_t removeUnreadInputs(func::FuncOp func, bool shrinkArguments,
                                  int64_t &removedWeights) {
  int64_t removed = 0;
  for (BlockArgument arg : func.getArguments()) {
    auto type = dyn_cast<RankedTensorType>(arg.getType());
    if (!type || type.getRank() < 2 || arg.use_empty())
      continue;
    // The layers reading the argument, with their weights.
    SmallVector<std::pair<PrunableOpInterface, SmallVector<float>>> users;
    int64_t dim = -1;
    bool usable = true;
    for (OpOperand &use : arg.getUses()) {
      auto op = dyn_cast<PrunableOpInterface>(use.getOwner());
      FailureOr<SmallVector<float>> weights = failure();
      if (op)
        weights = getConstantFloats(op.getWeight());
      usable = op && op.getPrunedInput() == arg &&
               llvm::count(op->getOperands(), arg) == 1 &&
               op.getGroups() == 1 && op.getWeightInputDim() >= 0 &&
               succeeded(weights) &&
               (dim < 0 || op.getInputChannelDim() == dim);
      if (!usable)
        break;
      dim = op.getInputChannelDim();
      users.emplace_back(op, std::move(*weights));
    }
    if (!usable || dim < 0 || type.isDynamicDim(dim))
      continue;
    SmallVector<bool> live(type.getDimSize(dim), false);
    for (auto &[op, weights] : users) {
      auto weightType = cast<ShapedType>(op.getWeight().getType());
      for (auto [l, read] : llvm::zip(
               live, nonzeroAlong(weights, weightType, op.getWeightInputDim())))
        l = l || read;
    }
    int64_t count = llvm::count(live, true);
    // Keep one feature at least: empty tensors help nobody.
    if (count == 0)
      live[0] = true, count = 1;
    if (count == type.getDimSize(dim))
      continue;
    SmallVector<int64_t> kept;
    for (auto [f, l] : llvm::enumerate(live))
      if (l)
        kept.push_back(f);
    for (auto &[op, weights] : users) {
      Value weight = op.getWeight();
      KeepMasks masks(cast<ShapedType>(weight.getType()).getRank());
      masks[op.getWeightInputDim()] = live;
      op->replaceUsesOfWith(
          weight, shrinkConstant(weight, weights, masks, removedWeights));
      if (Operation *def = weight.getDefiningOp(); def && def->use_empty())
        def->erase();
    }
    SmallVector<int64_t> shape(type.getShape());
    shape[dim] = count;
    if (shrinkArguments) {
      arg.setType(type.clone(shape));
      func.setType(FunctionType::get(func.getContext(),
                                     func.getBody().getArgumentTypes(),
                                     func.getResultTypes()));
      func.setArgAttr(arg.getArgNumber(), "shears.kept_features",
                      DenseI64ArrayAttr::get(func.getContext(), kept));
    } else {
      OpBuilder builder = OpBuilder::atBlockBegin(&func.getBody().front());
      Location loc = NameLoc::get(
          StringAttr::get(func.getContext(), "kept_input_features"));
      auto indexType = RankedTensorType::get({count}, builder.getI64Type());
      Value indices = ConstantOp::create(
          builder, loc, DenseIntElementsAttr::get(indexType, ArrayRef(kept)));
      Value gathered = GatherOp::create(builder, loc, arg, indices,
                                        builder.getI64IntegerAttr(dim));
      arg.replaceAllUsesExcept(gathered, gathered.getDefiningOp());
    }
    removed += type.getDimSize(dim) - count;
  }
  return removed;
}

namespace {
struct ShearsEliminateDeadNeurons
    : shears::impl::ShearsEliminateDeadNeuronsBase<ShearsEliminateDeadNeurons> {
  using Base::Base;

  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      // Each round removes what the IR it starts from shows dead; removing
      // inputs of a layer can make its rows all zero for the next round.
      for (int round = 0; round < 8; ++round) {
        int64_t weights = 0;
        int64_t channels = DeadNeuronEliminator(func).run(weights);
        numRemovedChannels += channels;
        numRemovedWeights += weights;
        if (!channels)
          break;
      }
      int64_t weights = 0;
      numRemovedInputs += removeUnreadInputs(func, shrinkInputs, weights);
      numRemovedWeights += weights;
      // Result types were set from the removed counts; the ops' own shape
      // inference must agree.
      WalkResult check = func.walk([](InferTypeOpInterface op) {
        SmallVector<Type> types;
        if (failed(op.inferReturnTypes(
                op->getContext(), op->getLoc(), op->getOperands(),
                op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
                op->getRegions(), types)) ||
            TypeRange(types) != op->getResultTypes()) {
          op->emitError("shears-eliminate-dead-neurons left inconsistent "
                        "result types");
          return WalkResult::interrupt();
        }
        return WalkResult::advance();
      });
      if (check.wasInterrupted())
        return signalPassFailure();
    }
  }
};
} // namespace
