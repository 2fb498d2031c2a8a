//===- BitPacking.cpp - int4 and binary weights in packed bytes -----------===//
//
// The stored form of a packed INT8 tensor W of n values, each in [lo, hi]
// with 2^b levels (b = 1 for +-1, b = 4 for [-8, 7]):
//
//   W.packed : UINT8 [m], m = ceil(n * b / 8); value i is u_i = (W_i - lo) /
//              step (step 2 for +-1, else 1) in bits [i*b % 8, +b) of byte
//              i*b / 8
//   Unsqueeze(W.packed, [1])              -> [m, 1]
//   BitShift LEFT by [8-b-k*b for k]      -> [m, 8/b], field k in the top bits
//   BitShift RIGHT by 8-b                 -> u
//   (+-1) BitShift LEFT by 1              -> 2u
//   Reshape [m*8/b], Slice [0, n)
//   Reshape to W's shape (an int4 group view: to [rows, cols], then Pad the
//   group padding with the offset, then Reshape to W's shape)
//   Cast to INT32, Sub -lo, Cast to INT8  -> W
//
// (A QuantizeLinear would subtract the offset too, but ONNX Runtime reads a
// QuantizeLinear followed by W's DequantizeLinear as a quantized pair and
// merges their zero points.)
//
//===----------------------------------------------------------------------===//

#include "BitPacking.h"
#include "ElementTypes.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Sequence.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/MathExtras.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <optional>

using namespace mlir::shears;
using llvm::SmallVector;
using llvm::StringRef;

namespace {

/// A constant tensor of one of the few types the unpacking nodes use, as
/// little-endian bytes.
struct Tensor {
  int32_t type = onnx::TensorProto::UNDEFINED;
  SmallVector<int64_t> dims;
  std::string raw;

  int64_t count() const {
    int64_t n = 1;
    for (int64_t d : dims)
      n *= d;
    return n;
  }
  const uint8_t *bytes() const {
    return reinterpret_cast<const uint8_t *>(raw.data());
  }
  bool isScalar() const { return count() == 1 && dims.size() <= 1; }
  /// The INT64 values.
  SmallVector<int64_t> ints() const {
    SmallVector<int64_t> values(raw.size() / 8);
    std::memcpy(values.data(), raw.data(), values.size() * 8);
    return values;
  }
};

/// The highest rank a folded tensor may have.
constexpr int64_t kMaxRank = 16;

/// The most elements a folded tensor may have: the unpacking nodes make at
/// most 8 values of a byte, so anything much larger is not theirs.
constexpr int64_t kMaxElements = int64_t(1) << 31;

/// Bytes per element of the types packing and unpacking read, 0 for others.
size_t elementBytes(int32_t type) {
  bool used =
      type == onnx::TensorProto::UINT8 || type == onnx::TensorProto::INT8 ||
      type == onnx::TensorProto::INT32 || type == onnx::TensorProto::INT64;
  return used ? getElementByteWidth(type) : 0;
}

/// Elements of `dims`, or nullopt for a negative dim or too many elements.
std::optional<int64_t> checkedCount(llvm::ArrayRef<int64_t> dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    if (d < 0 || llvm::MulOverflow(n, d, n) || n > kMaxElements)
      return std::nullopt;
  return n;
}

/// Reads an initializer held in the file (not external data); nullopt for
/// other types or inconsistent sizes.
std::optional<Tensor> readTensor(const onnx::TensorProto &proto) {
  size_t width = elementBytes(proto.data_type());
  if (!width || proto.data_location() == onnx::TensorProto::EXTERNAL)
    return std::nullopt;
  Tensor t;
  t.type = proto.data_type();
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  std::optional<int64_t> n = checkedCount(t.dims);
  if (!n)
    return std::nullopt;
  if (proto.has_raw_data()) {
    if (proto.raw_data().size() != size_t(*n) * width)
      return std::nullopt;
    t.raw = proto.raw_data();
    return t;
  }
  auto copy = [&](const auto &field, auto element) -> bool {
    if (field.size() != *n)
      return false;
    t.raw.resize(*n * width);
    for (int64_t i = 0; i < *n; ++i) {
      decltype(element) value = static_cast<decltype(element)>(field.Get(i));
      std::memcpy(&t.raw[i * width], &value, width);
    }
    return true;
  };
  bool ok = false;
  switch (t.type) {
  case onnx::TensorProto::UINT8:
    ok = copy(proto.int32_data(), uint8_t());
    break;
  case onnx::TensorProto::INT8:
    ok = copy(proto.int32_data(), int8_t());
    break;
  case onnx::TensorProto::INT32:
    ok = copy(proto.int32_data(), int32_t());
    break;
  case onnx::TensorProto::INT64:
    ok = copy(proto.int64_data(), int64_t());
    break;
  }
  return ok ? std::optional<Tensor>(std::move(t)) : std::nullopt;
}

onnx::TensorProto makeProto(StringRef name, const Tensor &t) {
  onnx::TensorProto proto;
  proto.set_name(name.str());
  proto.set_data_type(t.type);
  for (int64_t d : t.dims)
    proto.add_dims(d);
  proto.set_raw_data(t.raw);
  return proto;
}

/// Row-major strides of `dims`.
SmallVector<int64_t> stridesOf(llvm::ArrayRef<int64_t> dims) {
  SmallVector<int64_t> strides(dims.size(), 1);
  for (int i = int(dims.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * dims[i + 1];
  return strides;
}

/// Calls `fn(index)` for every multi-index of `dims` in row-major order.
template <typename Fn> void forEachIndex(llvm::ArrayRef<int64_t> dims, Fn fn) {
  if (llvm::is_contained(dims, 0))
    return;
  SmallVector<int64_t> index(dims.size(), 0);
  while (true) {
    fn(llvm::ArrayRef<int64_t>(index));
    int d = int(dims.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < dims[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}

//===----------------------------------------------------------------------===//
// Folding (import)
//===----------------------------------------------------------------------===//

std::optional<Tensor> foldUnsqueeze(const Tensor &data, const Tensor &axes) {
  if (axes.type != onnx::TensorProto::INT64)
    return std::nullopt;
  int64_t rank = data.dims.size() + axes.count();
  if (rank > kMaxRank)
    return std::nullopt;
  SmallVector<bool> inserted(rank, false);
  for (int64_t axis : axes.ints()) {
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank || inserted[axis])
      return std::nullopt;
    inserted[axis] = true;
  }
  Tensor out{data.type, {}, data.raw};
  const int64_t *next = data.dims.begin();
  for (int64_t i = 0; i < rank; ++i)
    out.dims.push_back(inserted[i] ? 1 : *next++);
  return out;
}

std::optional<Tensor> foldReshape(const Tensor &data, const Tensor &shape,
                                  bool allowZero) {
  if (shape.type != onnx::TensorProto::INT64)
    return std::nullopt;
  SmallVector<int64_t> dims = shape.ints();
  if (int64_t(dims.size()) > kMaxRank)
    return std::nullopt;
  int inferred = -1;
  int64_t known = 1;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d == 0 && !allowZero) {
      if (i >= data.dims.size())
        return std::nullopt;
      d = data.dims[i];
    }
    if (d == -1) {
      if (inferred >= 0)
        return std::nullopt;
      inferred = i;
      continue;
    }
    if (d < 0 || llvm::MulOverflow(known, d, known))
      return std::nullopt;
  }
  if (inferred >= 0) {
    if (known == 0 || data.count() % known)
      return std::nullopt;
    dims[inferred] = data.count() / known;
  } else if (known != data.count()) {
    return std::nullopt;
  }
  return Tensor{data.type, dims, data.raw};
}

/// Applies `fn(a, b)` to UINT8 operands broadcast as numpy does.
template <typename Fn>
std::optional<Tensor> foldBroadcast(const Tensor &a, const Tensor &b, Fn fn) {
  size_t rank = std::max(a.dims.size(), b.dims.size());
  auto padded = [&](const Tensor &t) {
    SmallVector<int64_t> dims(rank - t.dims.size(), 1);
    dims.append(t.dims.begin(), t.dims.end());
    return dims;
  };
  SmallVector<int64_t> da = padded(a), db = padded(b), dims(rank);
  for (size_t i = 0; i < rank; ++i) {
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1)
      return std::nullopt;
    dims[i] = da[i] == 1 ? db[i] : da[i];
  }
  std::optional<int64_t> n = checkedCount(dims);
  if (!n || *n > 8 * (a.count() + b.count()))
    return std::nullopt;
  SmallVector<int64_t> sa = stridesOf(da), sb = stridesOf(db);
  Tensor out{onnx::TensorProto::UINT8, dims, std::string(*n, '\0')};
  int64_t linear = 0;
  forEachIndex(dims, [&](llvm::ArrayRef<int64_t> index) {
    int64_t ia = 0, ib = 0;
    for (size_t d = 0; d < rank; ++d) {
      ia += (da[d] == 1 ? 0 : index[d]) * sa[d];
      ib += (db[d] == 1 ? 0 : index[d]) * sb[d];
    }
    out.raw[linear++] = char(fn(a.bytes()[ia], b.bytes()[ib]));
  });
  return out;
}

std::optional<Tensor> foldBitShift(const Tensor &a, const Tensor &b,
                                   bool left) {
  if (b.type != onnx::TensorProto::UINT8)
    return std::nullopt;
  return foldBroadcast(a, b, [&](uint8_t x, uint8_t s) -> uint8_t {
    if (s >= 8)
      return 0;
    return left ? uint8_t(x << s) : uint8_t(x >> s);
  });
}

/// Slice with unit steps.
std::optional<Tensor> foldSlice(const Tensor &data,
                                llvm::ArrayRef<const Tensor *> inputs) {
  for (const Tensor *t : inputs)
    if (t && t->type != onnx::TensorProto::INT64)
      return std::nullopt;
  SmallVector<int64_t> starts = inputs[0]->ints(), ends = inputs[1]->ints();
  int64_t rank = data.dims.size();
  SmallVector<int64_t> axes;
  if (inputs[2])
    axes = inputs[2]->ints();
  else
    axes = llvm::to_vector(llvm::seq<int64_t>(0, starts.size()));
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      (inputs[3] && !llvm::all_of(inputs[3]->ints(),
                                  [](int64_t step) { return step == 1; })))
    return std::nullopt;
  SmallVector<int64_t> begin(rank, 0), dims = data.dims;
  for (auto [start, end, axis] : llvm::zip(starts, ends, axes)) {
    if (axis < 0)
      axis += rank;
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    int64_t size = data.dims[axis];
    auto clamp = [&](int64_t i) {
      if (i < 0)
        i = std::max<int64_t>(i + size, 0);
      return std::min(i, size);
    };
    begin[axis] = clamp(start);
    dims[axis] = std::max<int64_t>(clamp(end) - begin[axis], 0);
  }
  SmallVector<int64_t> strides = stridesOf(data.dims);
  Tensor out{data.type, dims, {}};
  out.raw.reserve(out.count());
  forEachIndex(dims, [&](llvm::ArrayRef<int64_t> index) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d)
      at += (index[d] + begin[d]) * strides[d];
    out.raw.push_back(data.raw[at]);
  });
  return out;
}

/// Constant-mode Pad with non-negative pads.
std::optional<Tensor> foldPad(const Tensor &data, const Tensor &pads,
                              const Tensor *value) {
  int64_t rank = data.dims.size();
  if (pads.type != onnx::TensorProto::INT64 || pads.count() != 2 * rank ||
      (value &&
       (value->type != onnx::TensorProto::UINT8 || !value->isScalar())))
    return std::nullopt;
  SmallVector<int64_t> p = pads.ints(), dims(rank);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t both;
    if (p[d] < 0 || p[d + rank] < 0 ||
        llvm::AddOverflow(p[d], p[d + rank], both) ||
        llvm::AddOverflow(data.dims[d], both, dims[d]))
      return std::nullopt;
  }
  std::optional<int64_t> n = checkedCount(dims);
  if (!n || *n > 8 * data.count() + 1024)
    return std::nullopt;
  Tensor out{data.type, dims,
             std::string(*n, value ? char(value->bytes()[0]) : '\0')};
  SmallVector<int64_t> strides = stridesOf(dims);
  int64_t linear = 0;
  forEachIndex(data.dims, [&](llvm::ArrayRef<int64_t> index) {
    int64_t at = 0;
    for (int64_t d = 0; d < rank; ++d)
      at += (index[d] + p[d]) * strides[d];
    out.raw[at] = data.raw[linear++];
  });
  return out;
}

/// Cast between the integer types the unpacking uses: UINT8 to INT32, and
/// INT32 to INT8 where every value fits.
std::optional<Tensor> foldCast(const Tensor &data, int64_t to) {
  Tensor out{int32_t(to), data.dims, {}};
  int64_t n = data.count();
  if (data.type == onnx::TensorProto::UINT8 && to == onnx::TensorProto::INT32) {
    out.raw.resize(n * 4);
    for (int64_t i = 0; i < n; ++i) {
      int32_t value = data.bytes()[i];
      std::memcpy(&out.raw[i * 4], &value, 4);
    }
    return out;
  }
  if (data.type == onnx::TensorProto::INT32 && to == onnx::TensorProto::INT8) {
    for (int64_t i = 0; i < n; ++i) {
      int32_t value;
      std::memcpy(&value, &data.raw[i * 4], 4);
      if (value < -128 || value > 127)
        return std::nullopt;
      out.raw.push_back(char(int8_t(value)));
    }
    return out;
  }
  return std::nullopt;
}

/// INT32 minus an INT32 scalar, where nothing overflows.
std::optional<Tensor> foldSub(const Tensor &a, const Tensor &b) {
  if (a.type != onnx::TensorProto::INT32 ||
      b.type != onnx::TensorProto::INT32 || !b.isScalar())
    return std::nullopt;
  int32_t offset;
  std::memcpy(&offset, b.raw.data(), 4);
  Tensor out = a;
  for (int64_t i = 0; i < a.count(); ++i) {
    int32_t value;
    std::memcpy(&value, &a.raw[i * 4], 4);
    if (llvm::SubOverflow(value, offset, value))
      return std::nullopt;
    std::memcpy(&out.raw[i * 4], &value, 4);
  }
  return out;
}

} // namespace

void mlir::shears::unpackLowBitWeights(onnx::GraphProto &graph) {
  llvm::StringMap<const onnx::TensorProto *> initializers;
  for (const onnx::TensorProto &t : graph.initializer())
    initializers.try_emplace(t.name(), &t);
  llvm::StringSet<> graphOutputs, graphInputs;
  for (const auto &output : graph.output())
    graphOutputs.insert(output.name());
  for (const auto &input : graph.input())
    graphInputs.insert(input.name());
  // Initializers read on demand, only of the types the unpacking nodes take
  // (an int8 weight is not copied), and the values folded so far.
  llvm::StringMap<std::optional<Tensor>> known;
  auto get = [&](StringRef name) -> const Tensor * {
    auto it = known.find(name);
    if (it == known.end()) {
      const onnx::TensorProto *proto = initializers.lookup(name);
      // A graph input of the same name would override the initializer.
      std::optional<Tensor> t;
      if (proto && !graphInputs.contains(name) &&
          proto->data_type() != onnx::TensorProto::INT8)
        t = readTensor(*proto);
      it = known.try_emplace(name, std::move(t)).first;
    }
    return it->second ? &*it->second : nullptr;
  };

  SmallVector<bool> folded(graph.node_size(), false);
  llvm::StringSet<> made;
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto &node = graph.node(i);
    if (folded[i] || node.output_size() != 1 || !node.domain().empty())
      continue;
    StringRef op = node.op_type();
    auto input = [&](int j) -> const Tensor * {
      return j < node.input_size() && !node.input(j).empty()
                 ? get(node.input(j))
                 : nullptr;
    };
    // UINT8 and INT32 data only: other constants are the importer's.
    const Tensor *data = input(0);
    if (!data || (data->type != onnx::TensorProto::UINT8 &&
                  data->type != onnx::TensorProto::INT32))
      continue;
    auto attr = [&](StringRef name) -> const onnx::AttributeProto * {
      for (const onnx::AttributeProto &a : node.attribute())
        if (a.name() == name)
          return &a;
      return nullptr;
    };
    std::optional<Tensor> result;
    const std::string &output = node.output(0);
    bool bytes = data->type == onnx::TensorProto::UINT8;
    if (!bytes && op != "Cast" && op != "Sub")
      continue;
    if (op == "Unsqueeze" && node.input_size() == 2 && input(1)) {
      result = foldUnsqueeze(*data, *input(1));
    } else if (op == "Reshape" && node.input_size() == 2 && input(1)) {
      const onnx::AttributeProto *allowZero = attr("allowzero");
      result = foldReshape(*data, *input(1), allowZero && allowZero->i());
    } else if (op == "BitShift" && node.input_size() == 2 && input(1)) {
      const onnx::AttributeProto *direction = attr("direction");
      if (direction && (direction->s() == "LEFT" || direction->s() == "RIGHT"))
        result = foldBitShift(*data, *input(1), direction->s() == "LEFT");
    } else if (op == "Slice" && node.input_size() >= 3 && input(1) &&
               input(2) && (node.input_size() < 4 || input(3)) &&
               (node.input_size() < 5 || input(4))) {
      result = foldSlice(*data, {input(1), input(2), input(3), input(4)});
    } else if (op == "Pad" && node.input_size() >= 2 && input(1) &&
               (node.input_size() < 3 || node.input(2).empty() || input(2))) {
      const onnx::AttributeProto *mode = attr("mode");
      if (!mode || mode->s() == "constant")
        result = foldPad(*data, *input(1), input(2));
    } else if (op == "Cast" && node.input_size() == 1) {
      if (const onnx::AttributeProto *to = attr("to"))
        result = foldCast(*data, to->i());
    } else if (op == "Sub" && node.input_size() == 2 && input(1)) {
      result = foldSub(*data, *input(1));
    }
    if (!result || graphOutputs.contains(output) ||
        initializers.count(output) || known.count(output))
      continue;
    known.try_emplace(output, std::move(result));
    made.insert(output);
    folded[i] = true;
  }
  if (made.empty())
    return;

  // What the remaining nodes read: folded values they need become
  // initializers; initializers only folded nodes read are gone.
  llvm::StringSet<> read(graphOutputs);
  google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
  for (int i = 0; i < graph.node_size(); ++i) {
    if (folded[i])
      continue;
    for (const std::string &input : graph.node(i).input())
      read.insert(input);
    nodes.Add(std::move(*graph.mutable_node(i)));
  }
  llvm::StringSet<> consumed;
  for (int i = 0; i < graph.node_size(); ++i)
    if (folded[i])
      for (const std::string &input : graph.node(i).input())
        if (!read.contains(input))
          consumed.insert(input);
  graph.mutable_node()->Swap(&nodes);
  google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
  for (onnx::TensorProto &t : *graph.mutable_initializer())
    if (!consumed.contains(t.name()))
      kept.Add(std::move(t));
  graph.mutable_initializer()->Swap(&kept);
  auto *inputs = graph.mutable_input();
  inputs->erase(std::remove_if(inputs->begin(), inputs->end(),
                               [&](const onnx::ValueInfoProto &vi) {
                                 return consumed.contains(vi.name()) &&
                                        initializers.count(vi.name());
                               }),
                inputs->end());
  for (const auto &entry : made)
    if (read.contains(entry.getKey()))
      *graph.add_initializer() =
          makeProto(entry.getKey(), *known[entry.getKey()]);
}

//===----------------------------------------------------------------------===//
// Packing (export)
//===----------------------------------------------------------------------===//

namespace {

class Packer {
public:
  explicit Packer(onnx::GraphProto &graph) : graph(graph) {
    for (const auto &t : graph.initializer()) {
      names.insert(t.name());
      initializers[t.name()] = &t;
    }
    for (const auto &vi : graph.input()) {
      names.insert(vi.name());
      graphInputs.insert(vi.name());
    }
    for (const auto &vi : graph.output()) {
      names.insert(vi.name());
      graphOutputs.insert(vi.name());
    }
    for (int i = 0; i < graph.node_size(); ++i) {
      const onnx::NodeProto &node = graph.node(i);
      names.insert(node.name());
      for (const std::string &output : node.output())
        names.insert(output);
      for (auto [j, input] : llvm::enumerate(node.input()))
        readers[input].push_back({i, int(j)});
    }
  }

  void run() {
    // Decided for all first: pack() reads other initializers (shapes).
    SmallVector<bool> packed;
    for (const onnx::TensorProto &t : graph.initializer())
      packed.push_back(pack(t));
    if (unpacking.empty())
      return;
    google::protobuf::RepeatedPtrField<onnx::TensorProto> kept;
    for (int i = 0; i < graph.initializer_size(); ++i)
      if (!packed[i])
        kept.Add(std::move(*graph.mutable_initializer(i)));
    graph.mutable_initializer()->Swap(&kept);
    for (onnx::TensorProto &t : added)
      graph.mutable_initializer()->Add(std::move(t));
    // The unpacking nodes read only initializers: they go first.
    for (onnx::NodeProto &node : *graph.mutable_node())
      unpacking.push_back(std::move(node));
    graph.mutable_node()->Clear();
    for (onnx::NodeProto &node : unpacking)
      graph.mutable_node()->Add(std::move(node));
  }

private:
  std::string unique(const std::string &base) {
    std::string name = base;
    for (int i = 1; !names.insert(name).second; ++i)
      name = base + "_" + std::to_string(i);
    return name;
  }

  std::string addTensor(const std::string &base, Tensor t) {
    std::string name = unique(base);
    added.push_back(makeProto(name, t));
    return name;
  }
  std::string addInts(const std::string &base, llvm::ArrayRef<int64_t> values) {
    std::string raw(values.size() * 8, '\0');
    std::memcpy(raw.data(), values.data(), raw.size());
    return addTensor(
        base,
        {onnx::TensorProto::INT64, {int64_t(values.size())}, std::move(raw)});
  }
  /// A constant every unpacking shares, made on first use.
  std::string shared(const std::string &key, Tensor t) {
    std::string &name = sharedNames[key];
    if (name.empty())
      name = addTensor("shears.unpack." + key, std::move(t));
    return name;
  }
  std::string sharedByte(const std::string &key, int32_t type, int value) {
    return shared(key, {type, {}, std::string(1, char(value))});
  }

  std::string node(StringRef op, const std::string &base,
                   llvm::ArrayRef<std::string> inputs,
                   llvm::ArrayRef<onnx::AttributeProto> attrs = {},
                   std::string output = {}) {
    onnx::NodeProto &n = unpacking.emplace_back();
    n.set_op_type(op.str());
    for (const onnx::AttributeProto &attr : attrs)
      *n.add_attribute() = attr;
    // Node names are a namespace of their own: the output's name serves.
    if (output.empty())
      output = unique(base + "." + op.str());
    n.set_name(output);
    for (const std::string &input : inputs)
      n.add_input(input);
    n.add_output(output);
    return output;
  }

  const onnx::NodeProto *soleReader(StringRef name, StringRef op) {
    auto it = readers.find(name);
    if (it == readers.end() || it->second.size() != 1 ||
        it->second.front().second != 0 || graphOutputs.contains(name))
      return nullptr;
    const onnx::NodeProto &n = graph.node(it->second.front().first);
    return n.op_type() == op && n.output_size() == 1 ? &n : nullptr;
  }
  std::optional<SmallVector<int64_t>> ints(StringRef name) {
    const onnx::TensorProto *proto = initializers.lookup(name);
    std::optional<Tensor> t;
    if (proto)
      t = readTensor(*proto);
    if (!t || t->type != onnx::TensorProto::INT64)
      return std::nullopt;
    return t->ints();
  }

  /// {rows, cols, padded cols} where `weight` (read by one
  /// DequantizeLinear) is a group view that is reshaped to [rows, padded]
  /// and sliced to [rows, cols] along dim 1.
  std::optional<std::array<int64_t, 3>> groupView(const onnx::TensorProto &t,
                                                  const onnx::NodeProto &dq) {
    const onnx::NodeProto *reshape = soleReader(dq.output(0), "Reshape");
    if (!reshape || reshape->input_size() != 2)
      return std::nullopt;
    const onnx::NodeProto *slice = soleReader(reshape->output(0), "Slice");
    if (!slice || slice->input_size() < 4)
      return std::nullopt;
    auto shape = ints(reshape->input(1));
    auto starts = ints(slice->input(1)), ends = ints(slice->input(2)),
         axes = ints(slice->input(3));
    if (!shape || !starts || !ends || !axes || shape->size() != 2 ||
        *starts != SmallVector<int64_t>{0} || ends->size() != 1 ||
        (*axes != SmallVector<int64_t>{1} && *axes != SmallVector<int64_t>{-1}))
      return std::nullopt;
    if (slice->input_size() > 4 &&
        ints(slice->input(4)) != SmallVector<int64_t>{1})
      return std::nullopt;
    int64_t rows = (*shape)[0], padded = (*shape)[1], cols = (*ends)[0];
    if (rows <= 0 || cols <= 0 || cols >= padded ||
        rows * padded != checkedCount(llvm::to_vector(t.dims())))
      return std::nullopt;
    return std::array<int64_t, 3>{rows, cols, padded};
  }

  bool pack(const onnx::TensorProto &t) {
    // A tensor also listed as a graph input (older exporters' way) stays.
    if (t.data_type() != onnx::TensorProto::INT8 ||
        graphOutputs.contains(t.name()) || graphInputs.contains(t.name()))
      return false;
    auto it = readers.find(t.name());
    if (it == readers.end())
      return false;
    for (auto [index, operand] : it->second)
      if (operand != 0 || graph.node(index).op_type() != "DequantizeLinear")
        return false;
    std::optional<Tensor> w = readTensor(t);
    if (!w || w->count() == 0)
      return false;
    auto values = llvm::ArrayRef<int8_t>(
        reinterpret_cast<const int8_t *>(w->raw.data()), w->raw.size());
    bool binary =
        llvm::all_of(values, [](int8_t v) { return v == 1 || v == -1; });
    if (!binary &&
        !llvm::all_of(values, [](int8_t v) { return v >= -8 && v <= 7; }))
      return false;
    int bits = binary ? 1 : 4, perByte = 8 / bits;
    int lo = binary ? -1 : -8, step = binary ? 2 : 1;

    // The values stored: all, or the rows of a group view without padding.
    std::optional<std::array<int64_t, 3>> view;
    if (!binary && it->second.size() == 1)
      view = groupView(t, graph.node(it->second.front().first));
    SmallVector<int8_t> stored;
    if (view) {
      auto [rows, cols, padded] = *view;
      for (int64_t r = 0; r < rows && view; ++r)
        for (int64_t c = 0; c < padded; ++c) {
          int8_t v = values[r * padded + c];
          if (c < cols)
            stored.push_back(v);
          else if (v != 0)
            view.reset();
        }
    }
    if (!view)
      stored.assign(values.begin(), values.end());
    int64_t n = stored.size(), m = llvm::divideCeil(n, perByte);
    // The unpacking nodes and their constants take a few hundred bytes.
    if (m + 512 >= int64_t(values.size()))
      return false;
    std::string packed(m, '\0');
    for (int64_t i = 0; i < n; ++i)
      packed[i / perByte] |=
          char(((stored[i] - lo) / step) << (i % perByte * bits));

    std::string kind = binary ? "b1" : "b4";
    std::string shifts; // Field k to the top bits.
    for (int k = 0; k < perByte; ++k)
      shifts.push_back(char(8 - bits - k * bits));
    const std::string &base = t.name();
    std::string x =
        node("Unsqueeze", base,
             {addTensor(base + ".packed",
                        {onnx::TensorProto::UINT8, {m}, std::move(packed)}),
              shared("axes", {onnx::TensorProto::INT64,
                              {1},
                              std::string("\1\0\0\0\0\0\0\0", 8)})});
    onnx::AttributeProto left = directionAttr("LEFT"),
                         right = directionAttr("RIGHT");
    x = node("BitShift", base,
             {x, shared(kind + ".fields",
                        {onnx::TensorProto::UINT8, {1, perByte}, shifts})},
             left);
    x = node(
        "BitShift", base,
        {x, sharedByte(kind + ".shift", onnx::TensorProto::UINT8, 8 - bits)},
        right);
    if (step == 2)
      x = node("BitShift", base,
               {x, sharedByte("one.u8", onnx::TensorProto::UINT8, 1)}, left);
    // [m, 8/b] -> the stored values' shape (through the flat values where
    // the last byte is not full).
    if (m * perByte != n) {
      x = node("Reshape", base, {x, addInts(base + ".flat", {m * perByte})});
      x = node("Slice", base,
               {x,
                shared("start",
                       {onnx::TensorProto::INT64, {1}, std::string(8, '\0')}),
                addInts(base + ".count", {n})});
    }
    if (view) {
      auto [rows, cols, padded] = *view;
      x = node("Reshape", base, {x, addInts(base + ".rows", {rows, cols})});
      x = node("Pad", base,
               {x, addInts(base + ".pads", {0, 0, 0, padded - cols}),
                sharedByte(kind + ".offset", onnx::TensorProto::UINT8, -lo)});
    }
    x = node("Reshape", base,
             {x, addInts(base + ".shape", llvm::to_vector(t.dims()))});
    x = node("Cast", base, {x}, intAttr("to", onnx::TensorProto::INT32));
    int32_t offset = -lo;
    x = node("Sub", base,
             {x, shared(kind + ".offset.i32",
                        {onnx::TensorProto::INT32,
                         {},
                         std::string(reinterpret_cast<char *>(&offset), 4)})});
    node("Cast", base, {x}, intAttr("to", onnx::TensorProto::INT8), t.name());
    return true;
  }

  static onnx::AttributeProto intAttr(StringRef name, int64_t value) {
    onnx::AttributeProto attr;
    attr.set_name(name.str());
    attr.set_type(onnx::AttributeProto::INT);
    attr.set_i(value);
    return attr;
  }
  static onnx::AttributeProto directionAttr(StringRef direction) {
    onnx::AttributeProto attr;
    attr.set_name("direction");
    attr.set_type(onnx::AttributeProto::STRING);
    attr.set_s(direction.str());
    return attr;
  }

  onnx::GraphProto &graph;
  llvm::StringSet<> names, graphInputs, graphOutputs;
  llvm::StringMap<const onnx::TensorProto *> initializers;
  llvm::StringMap<SmallVector<std::pair<int, int>>> readers;
  llvm::StringMap<std::string> sharedNames;
  std::vector<onnx::TensorProto> added;
  std::vector<onnx::NodeProto> unpacking;
};

} // namespace

void mlir::shears::packLowBitWeights(onnx::GraphProto &graph) {
  Packer(graph).run();
}
