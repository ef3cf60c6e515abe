"""The binary envelope of a partial state: versioned, self-checking, no pickle.

Byte layout (all integers little-endian)::

    0   8 bytes   magic  b"SYNSHARD"
    8   u16       format version (FORMAT_VERSION)
    10  u16       flags (0)
    12  u32       header length H
    16  32 bytes  SHA-256 of bytes [48, end)
    48  H bytes   header: UTF-8 JSON {"state": tree, "sections": [descriptor, ...]}
    ..  sections  each: u64 length L, then L bytes

The state tree is plain JSON (numbers, text, lists, objects); a value that is an array, raw
bytes or an Arrow table stands in the tree as ``{"$section": i}`` and its bytes are section i,
described in the header:

- ``{"kind": "array", "dtype": "<u8", "shape": [n, ...]}``: raw little-endian numpy data;
  dtypes are limited to ``<u8 <i8 <f8 <i4 |b1 |u1``;
- ``{"kind": "bytes"}``: opaque bytes (sketches, through their own ``serialize()``);
- ``{"kind": "arrow"}``: an Arrow IPC stream holding one table.

Decoding checks the magic, version, digest and every length before it reads anything, so
garbage, truncated or tampered-with bytes raise :class:`CorruptShardState`, never another
error. Floats in the JSON round-trip exactly (shortest repr; inf and NaN as JSON extensions).
"""

from __future__ import annotations

import hashlib
import json
import struct
from typing import Any

import numpy as np
import pyarrow as pa

from synthos.errors import CorruptShardState

MAGIC = b"SYNSHARD"
FORMAT_VERSION = 2
_PREFIX = struct.Struct("<8sHHI32s")
_LEN = struct.Struct("<Q")
_DTYPES = {"<u8", "<i8", "<f8", "<i4", "|b1", "|u1"}
MAX_HEADER_BYTES = 64 * 2**20


def encode(tree: Any) -> bytes:
    """Bytes of a state tree (dicts, lists, str, int, float, bool, None, np.ndarray, bytes,
    pa.Table)."""
    sections: list[bytes] = []
    described: list[dict[str, Any]] = []
    plain = _lift(tree, sections, described)
    header = json.dumps({"state": plain, "sections": described}, separators=(",", ":"))
    body = bytearray(header.encode())
    for blob in sections:
        body += _LEN.pack(len(blob))
        body += blob
    digest = hashlib.sha256(body).digest()
    return _PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header.encode()), digest) + bytes(body)


def decode(data: bytes) -> Any:
    """The state tree of ``data``; CorruptShardState on anything unexpected."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CorruptShardState("a partial state must be bytes")
    data = bytes(data)
    if len(data) < _PREFIX.size:
        raise CorruptShardState(f"partial state truncated: {len(data)} bytes")
    magic, version, _flags, header_len, digest = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise CorruptShardState("not a Synthos partial state (bad magic bytes)")
    if version != FORMAT_VERSION:
        raise CorruptShardState(
            f"partial state format version {version} is not supported (expected "
            f"{FORMAT_VERSION})", details={"version": version})
    body = data[_PREFIX.size :]
    if hashlib.sha256(body).digest() != digest:
        raise CorruptShardState("partial state is truncated or corrupt (digest mismatch)")
    if header_len > min(len(body), MAX_HEADER_BYTES):
        raise CorruptShardState("partial state header length is out of range")
    try:
        header = json.loads(body[:header_len].decode())
        described = header["sections"]
        plain = header["state"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptShardState(f"partial state header is not valid JSON: {exc}") from exc
    blobs = _split_sections(body, header_len, described)
    return _lower(plain, blobs)


def _lift(value: Any, sections: list[bytes], described: list[dict[str, Any]]) -> Any:
    if isinstance(value, dict):
        return {str(k): _lift(v, sections, described) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lift(v, sections, described) for v in value]
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        descriptor: dict[str, Any] = {"kind": "array", "dtype": arr.dtype.str,
                                      "shape": list(arr.shape)}
        blob = arr.tobytes()
    elif isinstance(value, bytes | bytearray):
        descriptor, blob = {"kind": "bytes"}, bytes(value)
    elif isinstance(value, pa.Table):
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, value.schema) as writer:
            writer.write_table(value)
        descriptor, blob = {"kind": "arrow"}, sink.getvalue().to_pybytes()
    elif isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    else:
        return value
    sections.append(blob)
    described.append(descriptor)
    return {"$section": len(sections) - 1}


def _split_sections(body: bytes, pos: int, described: Any) -> list[Any]:
    if not isinstance(described, list):
        raise CorruptShardState("partial state section table is not a list")
    out = []
    for descriptor in described:
        if pos + _LEN.size > len(body):
            raise CorruptShardState("partial state truncated in its sections")
        (length,) = _LEN.unpack_from(body, pos)
        pos += _LEN.size
        if length > len(body) - pos:
            raise CorruptShardState("partial state section runs past the end")
        out.append(_section(body[pos : pos + length], descriptor))
        pos += length
    if pos != len(body):
        raise CorruptShardState("partial state has trailing bytes")
    return out


def _section(blob: bytes, descriptor: Any) -> Any:
    kind = descriptor.get("kind") if isinstance(descriptor, dict) else None
    if kind == "bytes":
        return blob
    if kind == "array":
        dtype, shape = descriptor.get("dtype"), descriptor.get("shape")
        if dtype not in _DTYPES or not isinstance(shape, list) or not all(
            isinstance(s, int) and s >= 0 for s in shape
        ):
            raise CorruptShardState(f"partial state array has a bad type or shape: {dtype}")
        dt = np.dtype(dtype)
        if int(np.prod(shape, dtype=np.int64)) * dt.itemsize != len(blob):
            raise CorruptShardState("partial state array length does not match its shape")
        return np.frombuffer(blob, dtype=dt).reshape(shape).copy()
    if kind == "arrow":
        try:
            return pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
        except (pa.ArrowException, OSError) as exc:
            raise CorruptShardState(f"partial state sample is not Arrow IPC: {exc}") from exc
    raise CorruptShardState(f"partial state section of unknown kind {kind!r}")


def _lower(value: Any, blobs: list[Any]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$section"}:
            index = value["$section"]
            if not isinstance(index, int) or not 0 <= index < len(blobs):
                raise CorruptShardState("partial state refers to a missing section")
            return blobs[index]
        return {k: _lower(v, blobs) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower(v, blobs) for v in value]
    return value
