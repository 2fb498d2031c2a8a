#!/usr/bin/python3
"""Writes a damaged .shears file: corrupt_pack.py KIND IN.shears OUT.shears.

KIND: truncated-header, truncated, bad-magic, bad-version, bad-checksum, trailing (bytes
after the last tensor), bad-huffman (over-subscribed index code lengths), stream-end (more
entries than the streams hold), unknown-tensor (a packed name the model lacks), huge (the
model says its packed tensor 2.weight, the second, has 2^32 elements: all the unpacked bytes
allowed, so that it is over the limit by the first tensor's), and
past-the-end, which ignores IN and writes a hand-made pack of a 2x2 MatMul whose second
entry lands on element 7. Except for the first five, the checksum and size are made right,
so that the reader's own checks are what refuse the file (docs/PackFormat.md has the format).
"""
import struct
import sys
import zlib

import onnx
from onnx import TensorProto, helper

HEADER = 24


def varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def put_varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def wrap(body, version=1):
    return b"SHEARSPK" + struct.pack("<IIQ", version, zlib.crc32(body), len(body)) + body


def first_tensor(body):
    """Offsets in `body` of the first tensor's fields."""
    size, pos = varint(body, 0)
    pos += size
    _, pos = varint(body, pos)  # tensor count
    name_len, pos = varint(body, pos)
    fields = {"name": pos}
    pos += name_len
    fields["kind"], fields["bits"] = pos, pos + 1
    kind, bits = body[pos], body[pos + 1]
    pos += 2
    _, pos = varint(body, pos)  # elements
    fields["entries"] = pos
    entries, pos = varint(body, pos)
    codebook = 0
    if kind == 1:
        codebook = struct.unpack_from("<H", body, pos)[0]
        pos += 2 + 4 * codebook
    fields["gap_lengths"] = pos
    fields["span"] = 1 << bits
    return fields, entries


def past_the_end():
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
                              [TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()
    # Index width 2, gaps coded 00 01 10 11; codebook [0, 1] coded 0 1.
    # Entries: gap 3 -> element 3, gap 3 -> element 7 (of 4).
    tensor = (put_varint(1) + b"w" + bytes([1, 2]) + put_varint(4) + put_varint(2)
              + struct.pack("<H", 2) + struct.pack("<ff", 0.0, 1.0)
              + bytes([2, 2, 2, 2]) + bytes([1, 1])
              + put_varint(1) + bytes([0b11110000]) + put_varint(1) + bytes([0b11000000]))
    return wrap(put_varint(len(model)) + model + put_varint(1) + tensor)


def main(kind, src, dst):
    if kind == "past-the-end":
        open(dst, "wb").write(past_the_end())
        return 0
    data = bytearray(open(src, "rb").read())
    body = bytearray(data[HEADER:])
    if kind == "truncated-header":
        out = data[:12]
    elif kind == "truncated":
        out = data[:-10]
    elif kind == "bad-magic":
        out = b"SHEARSXX" + data[8:]
    elif kind == "bad-version":
        out = data[:8] + struct.pack("<I", 7) + data[12:]
    elif kind == "bad-checksum":
        data[-1] ^= 0x01
        out = data
    else:
        fields, entries = first_tensor(body)
        if kind == "trailing":
            body += b"\0\0\0"
        elif kind == "bad-huffman":
            start = fields["gap_lengths"]
            body[start:start + fields["span"]] = bytes([1] * fields["span"])
        elif kind == "stream-end":
            start = fields["entries"]
            _, end = varint(body, start)
            body[start:end] = put_varint(entries + 1000)
        elif kind == "huge":
            size, pos = varint(body, 0)
            model = onnx.ModelProto.FromString(bytes(body[pos:pos + size]))
            tensor = next(t for t in model.graph.initializer if t.name == "2.weight")
            del tensor.dims[:]
            tensor.dims.extend([65536, 65536])
            graph = model.SerializeToString()
            body = bytearray(put_varint(len(graph)) + graph) + body[pos + size:]
        elif kind == "unknown-tensor":
            body[fields["name"]] ^= 0x20
        else:
            sys.stderr.write(f"unknown kind {kind}\n")
            return 2
        out = wrap(bytes(body))
    open(dst, "wb").write(bytes(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
