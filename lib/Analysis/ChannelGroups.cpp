//===- ChannelGroups.cpp - Groups of coupled channels ---------------------===//
//
// Every (value, dim) pair that carries channels is a node, and so is every
// constant operand that does (a parameter). A node's channels, counted in
// units of `unit` indices (a flatten block), are its elements. Channel-flow
// mappings unite elements, so a class of the union-find is one channel with
// all the places it lives. The classes of each producer's channels, taken in
// order, form groups: runs of classes whose places advance together.
//
//===----------------------------------------------------------------------===//

#include "shears/Analysis/ChannelGroups.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::shears;

using Role = ChannelMember::Role;

namespace {

struct Node {
  Value value;
  OpOperand *parameter; // set for constant operands
  int64_t dim, unit, size;
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
  explicit GroupBuilder(func::FuncOp func);
  void buildGroups(SmallVectorImpl<ChannelGroup> &groups);

private:
  unsigned getNode(Value value, OpOperand *parameter, int64_t dim,
                   int64_t unit);
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
                          int64_t unit) {
  void *key = parameter ? static_cast<void *>(parameter)
                        : value.getAsOpaquePointer();
  auto [it, inserted] = nodeIds.try_emplace({key, dim}, nodes.size());
  if (!inserted) {
    if (nodes[it->second].unit != unit)
      taintAll(it->second, "channels reach dim " + Twine(dim) +
                               " in blocks of different sizes");
    return it->second;
  }
  unsigned id = nodes.size();
  auto type = dyn_cast<ShapedType>(value.getType());
  int64_t size = 0;
  bool known = type && type.hasRank() && dim >= 0 && dim < type.getRank() &&
               !type.isDynamicDim(dim) && type.getDimSize(dim) % unit == 0;
  if (known)
    size = type.getDimSize(dim) / unit;
  nodes.push_back({value, parameter, dim, unit, size,
                   static_cast<unsigned>(elementParent.size()), ""});
  for (int64_t i = 0; i < size; ++i)
    elementParent.push_back(elementParent.size());
  nodeParent.push_back(id);
  if (!known)
    taintAll(id, "dim " + Twine(dim) +
                     " is dynamic or not a multiple of the channel block");
  return id;
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
    if (m.resultIndex != result.getResultNumber() || m.resultDim != dim)
      continue;
    OpOperand &operand = op->getOpOperand(m.operandIndex);
    // A producer's weight and bias are its member slices, not flow; only a
    // depthwise convolution passes its input channels through.
    if (producer && operand.get() != prunable.getPrunedInput())
      continue;
    int64_t operandUnit = unit, shift = 0;
    if (m.kind == DimMapping::Kind::Block) {
      if (unit % m.blockSize) {
        taintAll(id, describe(op) + " splits a channel block");
        continue;
      }
      operandUnit = unit / m.blockSize;
    } else if (m.kind == DimMapping::Kind::Offset) {
      if (m.offset % unit) {
        taintAll(id, describe(op) + " offsets channels inside a block");
        continue;
      }
      shift = m.offset / unit;
    }
    bool constant = matchPattern(operand.get(), m_Constant());
    unsigned other = getNode(operand.get(), constant ? &operand : nullptr,
                             m.operandDim, operandUnit);
    unite(nodeParent, other, id);
    for (int64_t j = 0, e = nodes[other].size; j < e; ++j) {
      int64_t r = j + shift;
      if (r < 0 || r >= size) {
        taint(other, describe(op) + " drops some of these channels");
        continue;
      }
      unite(elementParent, nodes[other].first + j, nodes[id].first + r);
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
      if (m.operandIndex != use.getOperandNumber() || m.operandDim != dim)
        continue;
      flows = true;
      getNode(user->getResult(m.resultIndex), nullptr, m.resultDim,
              m.kind == DimMapping::Kind::Block ? unit * m.blockSize : unit);
    }
    if (!flows)
      taint(id, (prunable && prunable.getGroups() != 1
                     ? "feeds the grouped convolution "
                     : "flows into ") +
                    describe(user) + ", which mixes dim " + Twine(dim));
  }
}

GroupBuilder::GroupBuilder(func::FuncOp func) {
  func.walk([&](PrunableOpInterface op) {
    int64_t dim = op.getResultChannelDim();
    if (op.getWeightOutputDim() >= 0 && dim >= 0 && op->getNumResults() == 1)
      starts.push_back(getNode(op->getResult(0), nullptr, dim, 1));
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
    llvm::SmallSetVector<Value, 8> seen;
    for (auto [id, j] : places[root]) {
      const Node &node = nodes[id];
      int64_t offset = j * node.unit;
      if (node.parameter) {
        group.parameters.push_back(
            {node.parameter, node.dim, offset, node.unit});
        continue;
      }
      group.values.push_back({node.value, node.dim, offset, node.unit});
      if (!seen.insert(node.value) && group.prunable) {
        group.prunable = false;
        group.reason = "several of these channels live in one value";
      }
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
  GroupBuilder(func).buildGroups(groups);
}
