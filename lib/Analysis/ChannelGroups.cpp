//===- ChannelGroups.cpp - Groups of coupled channels ---------------------===//
//
// Every (value, dim) pair that carries channels is a node, and so is every
// constant operand that does (a parameter). A node's `size` channels are its
// elements: index i along the dim belongs to channel (i / unit) % size, so a
// channel is a block of `unit` indices (a flatten block, an attention head's
// features), and the channels may repeat along the dim (heads merged into
// the batch dim). Channel-flow mappings unite elements, so a class of the
// union-find is one channel with all the places it lives. The classes of
// each producer's channels, taken in order, form groups: runs of classes
// whose places advance together.
//
// A reshape keeps the elements' row-major order, so a channel is a digit of
// the linear index and lands in whichever dim of the other shape holds that
// digit. Where a reshape splits a channel's indices over two dims (features
// split into heads), single features cannot be tracked through it: the
// builder asks for coarser channels (whole heads) at the producers whose
// channels reach it and builds again.
//
//===----------------------------------------------------------------------===//

#include "shears/Analysis/ChannelGroups.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

#include <numeric>

using namespace mlir;
using namespace mlir::shears;

using Role = ChannelMember::Role;

namespace {

struct Node {
  Value value;
  OpOperand *parameter; // set for constant operands
  int64_t dim, unit, size;
  /// How many times the channels repeat along the dim: extent / (unit *
  /// size), or ShapedType::kDynamic.
  int64_t repeats;
  unsigned first; // id of element 0
  std::string taint;
};

struct MemberRecord {
  PrunableOpInterface op;
  Role role;
  unsigned node;
};

class GroupBuilder {
public:
  /// `units`: the channel block of producers that reshapes need coarser
  /// than one index; 1 for the others.
  GroupBuilder(func::FuncOp func, const DenseMap<Operation *, int64_t> &units);
  void buildGroups(SmallVectorImpl<ChannelGroup> &groups);
  /// Raises `units` where a reshape asked for coarser channels; false when
  /// nothing asked.
  bool coarsen(DenseMap<Operation *, int64_t> &units);

private:
  /// The node of `value`'s (or `parameter`'s) dim; `size` is the number of
  /// channels when the mapping that reaches it tells, -1 to take the whole
  /// static extent.
  unsigned getNode(Value value, OpOperand *parameter, int64_t dim, int64_t unit,
                   int64_t size = -1);
  /// The node where node `id`'s channels land on the other side of reshape
  /// `op` (in `value`, a constant `operand` of it when set); none, with the
  /// node tainted and coarser channels asked for where they would land whole,
  /// when the reshape splits them over dims.
  std::optional<unsigned> mapThroughReshape(unsigned id, Operation *op,
                                            Value value, OpOperand *operand);
  void visitDefinition(unsigned id);
  void visitUses(unsigned id);

  unsigned find(SmallVectorImpl<unsigned> &parent, unsigned x) {
    while (parent[x] != x)
      x = parent[x] = parent[parent[x]];
    return x;
  }
  void unite(SmallVectorImpl<unsigned> &parent, unsigned a, unsigned b) {
    parent[find(parent, a)] = find(parent, b);
  }
  void taint(unsigned id, const Twine &why) {
    if (nodes[id].taint.empty())
      nodes[id].taint = why.str();
  }
  /// Element correspondence is lost: nothing connected to `id` may go.
  void taintAll(unsigned id, const Twine &why) {
    broken.push_back({id, why.str()});
  }

  SmallVector<Node> nodes;
  DenseMap<std::pair<void *, int64_t>, unsigned> nodeIds;
  SmallVector<unsigned> elementParent, nodeParent;
  SmallVector<std::pair<unsigned, std::string>> broken;
  SmallVector<MemberRecord> members;
  SmallVector<unsigned> starts;
  /// Nodes whose channels a reshape splits, with the factor that would make
  /// them whole.
  SmallVector<std::pair<unsigned, int64_t>> coarser;
  unsigned next = 0; // worklist position: nodes are visited in creation order
};

} // namespace

static std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return text;
}

unsigned GroupBuilder::getNode(Value value, OpOperand *parameter, int64_t dim,
                               int64_t unit, int64_t size) {
  void *key = parameter ? static_cast<void *>(parameter)
                        : value.getAsOpaquePointer();
  auto [it, inserted] = nodeIds.try_emplace({key, dim}, nodes.size());
  if (!inserted) {
    const Node &node = nodes[it->second];
    if (node.unit != unit || (size >= 0 && node.size != size))
      taintAll(it->second, "channels reach dim " + Twine(dim) +
                               " in blocks of different sizes");
    return it->second;
  }
  unsigned id = nodes.size();
  auto type = dyn_cast<ShapedType>(value.getType());
  int64_t repeats = 1;
  bool known = type && type.hasRank() && dim >= 0 && dim < type.getRank();
  if (known && type.isDynamicDim(dim)) {
    // Only a mapping that tells the channels can reach a dynamic dim.
    known = size >= 0;
    repeats = ShapedType::kDynamic;
  } else if (known) {
    int64_t extent = type.getDimSize(dim);
    if (size < 0 && extent % unit == 0)
      size = extent / unit;
    known = size > 0 && extent % (unit * size) == 0;
    if (known)
      repeats = extent / (unit * size);
  }
  if (!known)
    size = 0;
  nodes.push_back({value, parameter, dim, unit, size, repeats,
                   static_cast<unsigned>(elementParent.size()), ""});
  for (int64_t i = 0; i < size; ++i)
    elementParent.push_back(elementParent.size());
  nodeParent.push_back(id);
  if (!known)
    taintAll(id, "dim " + Twine(dim) +
                     " is dynamic or not a multiple of the channel block");
  else if (parameter && repeats != 1)
    taintAll(id, "a parameter holds these channels several times");
  return id;
}

namespace {
/// Where the channels of `dim` of a value of shape `from` (blocks of `unit`
/// indices, `size` of them, maybe repeated) land in the reshaped shape `to`:
/// the channel is the digit (i / (stride * unit)) % size of the row-major
/// linear index i. Either `dim` and `unit` say where, or `coarsen` > 1 is
/// the factor by which the channels must grow to land whole, or neither
/// (the digit crosses dims of dynamic size).
struct Landing {
  int64_t dim = -1, unit = 0, coarsen = 0;
  /// The digit lands in a dynamic dim that the shapes alone do not prove a
  /// multiple of its period: it holds if a node there already says so.
  bool unproven = false;
};
} // namespace

static Landing landDigit(ArrayRef<int64_t> from, int64_t dim, int64_t unit,
                         int64_t size, ArrayRef<int64_t> to) {
  int64_t stride = 1;
  for (int64_t extent : from.drop_front(dim + 1)) {
    if (ShapedType::isDynamic(extent))
      return {};
    stride *= extent;
  }
  int64_t weight = stride * unit, period = weight * size;
  int64_t span = 1; // of the dims of `to` below b
  for (int64_t b = static_cast<int64_t>(to.size()) - 1; b >= 0; --b) {
    int64_t extent = to[b];
    bool dynamic = ShapedType::isDynamic(extent);
    if (!dynamic && weight >= span * extent) {
      span *= extent;
      continue;
    }
    // The digit starts in dim b. A channel boundary inside one of its
    // indices needs coarser channels.
    if (weight % span)
      return {-1, 0, span / std::gcd(weight, span)};
    int64_t inner = weight / span;
    if (!dynamic) {
      if (extent % (inner * size) == 0)
        return {b, inner, 0};
      // The channels straddle dim b's top: they must start above it.
      return {-1, 0, std::lcm(weight, span * extent) / weight};
    }
    // A dynamic dim b, with static dims above: span * to[b] is the product
    // of `from` over those dims'. With F the static part of `from` and A
    // of `to` above b, that is (F / g) * Y for g = gcd(F, A) and some
    // integer Y, so the digit repeats whole in dim b where its period
    // divides F / g.
    int64_t fromStatic = 1, above = 1;
    for (int64_t e : from)
      if (!ShapedType::isDynamic(e))
        fromStatic *= e;
    for (int64_t e : to.take_front(b)) {
      if (ShapedType::isDynamic(e))
        return {};
      above *= e;
    }
    return {b, inner, 0,
            (fromStatic / std::gcd(fromStatic, above)) % period != 0};
  }
  return {};
}

std::optional<unsigned> GroupBuilder::mapThroughReshape(unsigned id,
                                                        Operation *op,
                                                        Value value,
                                                        OpOperand *operand) {
  const Node &node = nodes[id];
  auto from = cast<ShapedType>(node.value.getType());
  auto to = cast<ShapedType>(value.getType());
  Landing landing =
      landDigit(from.getShape(), node.dim, node.unit, node.size, to.getShape());
  if (landing.dim >= 0 && (!landing.unproven ||
                           nodeIds.count({operand ? static_cast<void *>(operand)
                                                  : value.getAsOpaquePointer(),
                                          landing.dim})))
    return getNode(value, operand, landing.dim, landing.unit, node.size);
  if (landing.coarsen > 1 && node.size % landing.coarsen == 0)
    coarser.push_back({id, landing.coarsen});
  taintAll(id, describe(op) + " splits these channels over dims");
  return std::nullopt;
}

/// Unites the node's channels with those of the operands they come from.
void GroupBuilder::visitDefinition(unsigned id) {
  Value value = nodes[id].value;
  int64_t dim = nodes[id].dim, unit = nodes[id].unit, size = nodes[id].size;
  auto result = dyn_cast<OpResult>(value);
  if (!result)
    return taint(id, "comes from a function argument");
  Operation *op = result.getOwner();
  auto prunable = dyn_cast<PrunableOpInterface>(op);
  bool producer = prunable && result.getResultNumber() == 0 &&
                  prunable.getWeightOutputDim() >= 0 &&
                  dim == prunable.getResultChannelDim();
  if (producer)
    members.push_back({prunable, Role::Producer, id});
  // Only a depthwise convolution loses whole groups with its channels; any
  // other grouped one would be left with groups of unequal sizes.
  if (producer && prunable.getGroups() > 1) {
    auto input = cast<RankedTensorType>(prunable.getPrunedInput().getType());
    int64_t inDim = prunable.getInputChannelDim();
    if (inDim < 0 || input.getDimSize(inDim) != prunable.getGroups())
      taint(id, "is made by the grouped convolution " + describe(op) + " (" +
                    Twine(prunable.getGroups()) +
                    " groups), whose groups would become unequal");
  }
  auto flow = dyn_cast<ChannelFlowOpInterface>(op);
  if (!flow) {
    if (!producer)
      taint(id, "comes from " + describe(op) +
                    ", which does not describe its channels");
    return;
  }
  SmallVector<DimMapping> mappings;
  flow.getDimMappings(mappings);
  // A producer creates its channels; anything else must take each from an
  // operand.
  SmallVector<bool> covered(size, producer);
  for (const DimMapping &m : mappings) {
    bool reshape = m.kind == DimMapping::Kind::Reshape;
    if (m.resultIndex != result.getResultNumber() ||
        (!reshape && m.resultDim != dim))
      continue;
    OpOperand &operand = op->getOpOperand(m.operandIndex);
    // A producer's weight and bias are its member slices, not flow; only a
    // depthwise convolution passes its input channels through.
    if (producer && operand.get() != prunable.getPrunedInput())
      continue;
    bool constant = matchPattern(operand.get(), m_Constant());
    OpOperand *parameter = constant ? &operand : nullptr;
    int64_t shift = 0;
    std::optional<unsigned> other;
    if (reshape) {
      other = mapThroughReshape(id, op, operand.get(), parameter);
    } else if (m.kind == DimMapping::Kind::Offset) {
      if (m.offset % unit) {
        taintAll(id, describe(op) + " offsets channels inside a block");
        continue;
      }
      if (nodes[id].repeats != 1) {
        taintAll(id, describe(op) + " offsets repeated channels");
        continue;
      }
      shift = m.offset / unit;
      other = getNode(operand.get(), parameter, m.operandDim, unit);
      if (nodes[*other].repeats != 1)
        taintAll(*other, describe(op) + " offsets repeated channels");
    } else {
      other = getNode(operand.get(), parameter, m.operandDim, unit, size);
    }
    if (!other)
      continue;
    unite(nodeParent, *other, id);
    for (int64_t j = 0, e = nodes[*other].size; j < e; ++j) {
      // Indices outside the result are dropped (slice, split): the op
      // follows their removal (ChannelFlowOpInterface).
      int64_t r = j + shift;
      if (r < 0 || r >= size)
        continue;
      unite(elementParent, nodes[*other].first + j, nodes[id].first + r);
      covered[r] = true;
    }
  }
  if (llvm::is_contained(covered, false))
    taint(id, describe(op) + " creates channels along dim " + Twine(dim) +
                  " that no operand carries");
}

/// Follows the node's channels into their users.
void GroupBuilder::visitUses(unsigned id) {
  Value value = nodes[id].value;
  int64_t dim = nodes[id].dim, unit = nodes[id].unit;
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    auto prunable = dyn_cast<PrunableOpInterface>(user);
    if (prunable) {
      if (value == prunable.getWeight() || value == prunable.getPrunedBias()) {
        taint(id, "is a weight of " + describe(user));
        continue;
      }
      if (value == prunable.getPrunedInput() &&
          dim == prunable.getInputChannelDim() && prunable.getGroups() == 1 &&
          prunable.getWeightInputDim() >= 0) {
        if (nodes[id].repeats != 1)
          taintAll(id, "reaches " + describe(user) + " repeated");
        members.push_back({prunable, Role::Consumer, id});
        continue;
      }
    }
    auto flow = dyn_cast<ChannelFlowOpInterface>(user);
    if (!flow) {
      if (user->hasTrait<OpTrait::ReturnLike>())
        taint(id, "reaches a function result at " + describe(user));
      else
        taint(id, "flows into " + describe(user) +
                      ", which does not describe its channels");
      continue;
    }
    SmallVector<DimMapping> mappings;
    flow.getDimMappings(mappings);
    bool flows = false;
    for (const DimMapping &m : mappings) {
      if (m.operandIndex != use.getOperandNumber())
        continue;
      Value target = user->getResult(m.resultIndex);
      std::optional<unsigned> reached;
      if (m.kind == DimMapping::Kind::Reshape) {
        reached = mapThroughReshape(id, user, target, nullptr);
      } else if (m.operandDim != dim) {
        continue;
      } else if (m.kind == DimMapping::Kind::Offset) {
        reached = getNode(target, nullptr, m.resultDim, unit);
      } else {
        reached = getNode(target, nullptr, m.resultDim, unit, nodes[id].size);
      }
      flows = true;
      // The result's definition unites the elements; should it fail to map
      // back, what breaks it must reach this node too.
      if (reached)
        unite(nodeParent, id, *reached);
    }
    if (!flows)
      taint(id, (prunable && prunable.getGroups() != 1
                     ? "feeds the grouped convolution "
                     : "flows into ") +
                    describe(user) + ", which mixes dim " + Twine(dim));
  }
}

GroupBuilder::GroupBuilder(func::FuncOp func,
                           const DenseMap<Operation *, int64_t> &units) {
  func.walk([&](PrunableOpInterface op) {
    int64_t dim = op.getResultChannelDim();
    if (op.getWeightOutputDim() >= 0 && dim >= 0 && op->getNumResults() == 1)
      starts.push_back(getNode(op->getResult(0), nullptr, dim,
                               units.lookup(op) ? units.lookup(op) : 1));
  });
  for (; next < nodes.size(); ++next) {
    if (nodes[next].parameter)
      continue;
    visitDefinition(next);
    visitUses(next);
  }
  DenseMap<unsigned, std::string> brokenComponents;
  for (auto &[id, why] : broken)
    brokenComponents.try_emplace(find(nodeParent, id), why);
  for (unsigned id = 0; id < nodes.size(); ++id) {
    auto it = brokenComponents.find(find(nodeParent, id));
    if (it != brokenComponents.end())
      taint(id, it->second);
  }
}

bool GroupBuilder::coarsen(DenseMap<Operation *, int64_t> &units) {
  // Per connected component, the factor every request in it needs.
  DenseMap<unsigned, int64_t> factors;
  for (auto [id, factor] : coarser) {
    int64_t &f = factors.try_emplace(find(nodeParent, id), 1).first->second;
    f = std::lcm(f, factor);
  }
  bool changed = false;
  for (unsigned start : starts) {
    auto it = factors.find(find(nodeParent, start));
    if (it == factors.end())
      continue;
    Operation *op = nodes[start].value.getDefiningOp();
    units[op] = nodes[start].unit * it->second;
    changed = true;
  }
  return changed;
}

void GroupBuilder::buildGroups(SmallVectorImpl<ChannelGroup> &groups) {
  // Each class's places, sorted by node then element.
  DenseMap<unsigned, SmallVector<std::pair<unsigned, int64_t>>> places;
  DenseMap<unsigned, StringRef> classTaint;
  for (auto [id, node] : llvm::enumerate(nodes)) {
    for (int64_t j = 0; j < node.size; ++j) {
      unsigned root = find(elementParent, node.first + j);
      places[root].push_back({static_cast<unsigned>(id), j});
      if (!node.taint.empty())
        classTaint.try_emplace(root, node.taint);
    }
  }
  DenseMap<unsigned, SmallVector<unsigned>> membersOf;
  for (auto [i, record] : llvm::enumerate(members))
    membersOf[record.node].push_back(i);

  auto continues = [&](unsigned last, unsigned root) {
    const auto &a = places.find(last)->second, &b = places.find(root)->second;
    if (a.size() != b.size() ||
        classTaint.count(last) != classTaint.count(root))
      return false;
    for (size_t k = 0; k < a.size(); ++k)
      if (a[k].first != b[k].first || a[k].second + 1 != b[k].second)
        return false;
    return true;
  };
  auto startGroup = [&](unsigned root) {
    ChannelGroup &group = groups.emplace_back();
    for (auto [id, j] : places[root]) {
      const Node &node = nodes[id];
      int64_t offset = j * node.unit;
      if (node.parameter) {
        group.parameters.push_back(
            {node.parameter, node.dim, offset, node.unit});
        continue;
      }
      group.values.push_back(
          {node.value, node.dim, offset, node.unit, node.repeats});
      for (unsigned i : membersOf.lookup(id))
        group.members.push_back(
            {members[i].op, members[i].role, offset, node.unit});
    }
    auto it = classTaint.find(root);
    if (it != classTaint.end()) {
      group.prunable = false;
      group.reason = it->second.str();
    }
  };

  DenseSet<unsigned> assigned;
  for (unsigned start : starts) {
    std::optional<unsigned> last;
    for (int64_t j = 0; j < nodes[start].size; ++j) {
      unsigned root = find(elementParent, nodes[start].first + j);
      if (!assigned.insert(root).second) {
        last.reset();
        continue;
      }
      if (!last || !continues(*last, root))
        startGroup(root);
      ++groups.back().size;
      last = root;
    }
  }
}

ChannelGroups::ChannelGroups(func::FuncOp func) {
  // Each round coarsens the channels of the producers whose channels a
  // reshape split in the round before (features -> heads); a few suffice.
  DenseMap<Operation *, int64_t> units;
  for (int round = 0;; ++round) {
    GroupBuilder builder(func, units);
    if (round == 4 || !builder.coarsen(units)) {
      builder.buildGroups(groups);
      return;
    }
  }
}
