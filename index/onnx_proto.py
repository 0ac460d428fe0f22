"""Just enough of the ONNX protobuf format to write a model graph, without the `onnx` package.

A graph here is a list of nodes plus named weights whose values are handed to ONNX Runtime in memory
(`SessionOptions.add_external_initializers`), so the serialised model is a few kilobytes and is built in
the process that runs it: nothing is exported, cached or written to disk. Field numbers follow
`onnx/onnx.proto` (IR version 9); a test checks the output with `onnx.checker` when `onnx` is installed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

IR_VERSION = 9
OPSET = 18

FLOAT = 1  # TensorProto.DataType
INT8 = 3
INT64 = 7
MICROSOFT = "com.microsoft"  # ONNX Runtime's contrib operators (DynamicQuantizeMatMul)
_ATTRIBUTE_FLOAT, _ATTRIBUTE_INT, _ATTRIBUTE_INTS = 1, 2, 7  # AttributeProto.AttributeType
_EXTERNAL = 1  # TensorProto.DataLocation

Attribute = float | int | list[int]


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 fields: two's complement, ten bytes
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _key(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _int(number: int, value: int) -> bytes:
    return _key(number, 0) + _varint(value)


def _bytes(number: int, value: bytes) -> bytes:
    return _key(number, 2) + _varint(len(value)) + value


def _text(number: int, value: str) -> bytes:
    return _bytes(number, value.encode("utf-8"))


def _float(number: int, value: float) -> bytes:
    return _key(number, 5) + struct.pack("<f", value)


def _attribute(name: str, value: Attribute) -> bytes:
    if isinstance(value, float):
        body = _text(1, name) + _float(2, value) + _int(20, _ATTRIBUTE_FLOAT)
    elif isinstance(value, int):
        body = _text(1, name) + _int(3, value) + _int(20, _ATTRIBUTE_INT)
    else:
        body = _text(1, name) + b"".join(_int(8, v) for v in value) + _int(20, _ATTRIBUTE_INTS)
    return body


def _value_info(name: str, elem_type: int, dims: list[int | str]) -> bytes:
    shape = b"".join(_bytes(1, _text(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _text(1, name) + _bytes(2, _bytes(1, tensor_type))


@dataclass
class Graph:
    """Nodes in execution order; `constants` are small tensors stored in the graph itself, `weights`
    are declared with their shape and supplied by the caller when the session is created."""

    name: str
    nodes: list[bytes] = field(default_factory=list)
    constants: list[bytes] = field(default_factory=list)
    weights: dict[str, tuple[int, ...]] = field(default_factory=dict)
    weight_types: dict[str, int] = field(default_factory=dict)  # weights that are not FLOAT
    derived: dict[str, Any] = field(default_factory=dict)  # values of weights the graph's builder computed
    domains: set[str] = field(default_factory=set)  # operator domains used besides the default one
    inputs: list[bytes] = field(default_factory=list)
    outputs: list[bytes] = field(default_factory=list)
    _count: int = 0

    def node(
        self, op_type: str, inputs: list[str], output: str | None = None, domain: str = "", **attributes: Attribute
    ) -> str:
        """Append a node with one output; return the output's name (generated unless given)."""
        if output is None:
            self._count += 1
            output = f"v{self._count}"
        body = b"".join(_text(1, name) for name in inputs) + _text(2, output)
        body += _text(3, f"n{len(self.nodes)}") + _text(4, op_type)
        body += b"".join(_bytes(5, _attribute(key, value)) for key, value in attributes.items())
        if domain:
            body += _text(7, domain)
            self.domains.add(domain)
        self.nodes.append(body)
        return output

    def constant(self, name: str, values: list[float] | list[int], elem_type: int, dims: list[int]) -> str:
        raw = struct.pack(f"<{len(values)}{'f' if elem_type == FLOAT else 'q'}", *values)
        self.constants.append(b"".join(_int(1, d) for d in dims) + _int(2, elem_type) + _text(8, name) + _bytes(9, raw))
        return name

    def weight(self, name: str, shape: tuple[int, ...], elem_type: int = FLOAT) -> str:
        self.weights[name] = shape
        if elem_type != FLOAT:
            self.weight_types[name] = elem_type
        return name

    def add_input(self, name: str, elem_type: int, dims: list[int | str]) -> None:
        self.inputs.append(_value_info(name, elem_type, dims))

    def add_output(self, name: str, elem_type: int, dims: list[int | str]) -> None:
        self.outputs.append(_value_info(name, elem_type, dims))

    def model_bytes(self) -> bytes:
        """The serialised ModelProto."""
        weights = [
            b"".join(_int(1, d) for d in shape)
            + _int(2, self.weight_types.get(name, FLOAT))
            + _text(8, name)
            + _bytes(13, _text(1, "location") + _text(2, "in-memory"))
            + _int(14, _EXTERNAL)
            for name, shape in self.weights.items()
        ]
        graph = b"".join(_bytes(1, node) for node in self.nodes) + _text(2, self.name)
        graph += b"".join(_bytes(5, tensor) for tensor in [*self.constants, *weights])
        graph += b"".join(_bytes(11, value) for value in self.inputs)
        graph += b"".join(_bytes(12, value) for value in self.outputs)
        opsets = _bytes(8, _text(1, "") + _int(2, OPSET))
        opsets += b"".join(_bytes(8, _text(1, domain) + _int(2, 1)) for domain in sorted(self.domains))
        return _int(1, IR_VERSION) + _text(2, "corpus-qa") + _bytes(7, graph) + opsets
