"""The binary envelope of a partial state: versioned, self-checking, no pickle, range-readable.

Byte layout (all integers little-endian)::

    0   8 bytes   magic  b"SYNSHARD"
    8   u16       format version (FORMAT_VERSION = 3)
    10  u16       flags (0)
    12  u32       header length H
    16  32 bytes  SHA-256 of the header bytes [48, 48 + H)
    48  H bytes   header: UTF-8 JSON {"state": tree, "sections": [descriptor, ...],
                                      "count_map": null | {entries, buckets, index, digests}}
    48+H ...      data: the sections, back to back, then (when there is a count map) its keys
                  (u64[D]) and its counts (i64[D])

The state tree is plain JSON (numbers, text, lists, objects); a value that is an array, raw
bytes or an Arrow table stands in the tree as ``{"$section": i}`` and its bytes are section i,
described in the header by its kind, ``offset`` and ``length`` (relative to the data start)
and ``sha256`` (of its bytes):

- ``{"kind": "array", "dtype": "<u8", "shape": [n, ...]}``: raw little-endian numpy data;
  dtypes are limited to ``<u8 <i8 <f8 <i4 |b1 |u1``;
- ``{"kind": "bytes"}``: opaque bytes (sketches, through their own ``serialize()``);
- ``{"kind": "arrow"}``: an Arrow IPC stream holding one table.

At most one :class:`CountMap` (the sampler's sorted row hash -> count map, by far the largest
part of a state) is stored outside the tree, where ``{"$count_map": true}`` stands: keys and
counts as two plain arrays split into ``COUNT_BUCKETS`` buckets by the top bits of the hash.
``index`` (a section, i64[B+1]) holds each bucket's first entry, ``digests`` (a section,
u8[B, 16]) the BLAKE2b-128 of each bucket's key bytes followed by its count bytes. So a
reader can fetch the entries of any run of buckets with two ranged reads and check them
without the rest (:meth:`StateReader.count_slice`), and every byte after the 48-byte prefix
is covered by a digest: the header by the prefix's, each section by its own, each bucket of
the count map by its own. The prefix's fields are checked by value.

Decoding checks the magic, version, digests and every length before it parses anything, so
garbage, truncated or tampered-with bytes (a header nested too deep to walk included) raise
:class:`CorruptShardState`, never another error. Floats in the JSON round-trip exactly
(shortest repr; inf and NaN as JSON extensions). Version 2 (one digest over everything, no
count-map index) is refused with ``CorruptShardState``, like any other version.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from synthos.errors import CorruptShardState

MAGIC = b"SYNSHARD"
FORMAT_VERSION = 3
COUNT_BUCKET_BITS = 10
COUNT_BUCKETS = 1 << COUNT_BUCKET_BITS  # a state's count map splits into this many hash ranges
_PREFIX = struct.Struct("<8sHHI32s")
_DTYPES = {"<u8", "<i8", "<f8", "<i4", "|b1", "|u1"}
MAX_HEADER_BYTES = 64 * 2**20
MAX_FILE_BYTES = 1 << 60  # no state is larger; reads past it are refused before seeking
_SHIFT = np.uint64(64 - COUNT_BUCKET_BITS)


class ReadableFile(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def seek(self, offset: int, whence: int = 0, /) -> int: ...


@dataclass(frozen=True)
class CountMap:
    """Sorted unique uint64 ``keys`` and their int64 ``counts`` (the same length)."""

    keys: np.ndarray
    counts: np.ndarray


def bucket_starts(keys: np.ndarray) -> np.ndarray:
    """int64[B+1]: the first entry of each bucket of the sorted ``keys``, then len(keys)."""
    bounds = np.arange(COUNT_BUCKETS, dtype=np.uint64) << _SHIFT
    return np.append(np.searchsorted(keys, bounds), len(keys)).astype(np.int64)


def _bucket_digests(keys: bytes, counts: bytes, index: np.ndarray) -> np.ndarray:
    out = np.empty((len(index) - 1, 16), dtype=np.uint8)
    for b in range(len(index) - 1):
        lo, hi = 8 * int(index[b]), 8 * int(index[b + 1])
        h = hashlib.blake2b(keys[lo:hi], digest_size=16)
        h.update(counts[lo:hi])
        out[b] = np.frombuffer(h.digest(), dtype=np.uint8)
    return out


def encode(tree: Any) -> bytes:
    """Bytes of a state tree (dicts, lists, str, int, float, bool, None, np.ndarray, bytes,
    pa.Table, and at most one CountMap)."""
    sections: list[bytes] = []
    described: list[dict[str, Any]] = []
    maps: list[CountMap] = []
    plain = _lift(tree, sections, described, maps)
    if len(maps) > 1:
        raise ValueError("a state holds at most one count map")
    tail: list[bytes] = []
    count_map = None
    if maps:
        keys = np.ascontiguousarray(maps[0].keys, dtype="<u8").tobytes()
        counts = np.ascontiguousarray(maps[0].counts, dtype="<i8").tobytes()
        index = bucket_starts(maps[0].keys)
        count_map = {"entries": len(maps[0].keys), "buckets": COUNT_BUCKETS,
                     "index": _lift(index, sections, described, maps),
                     "digests": _lift(_bucket_digests(keys, counts, index), sections,
                                      described, maps)}
        tail = [keys, counts]
    offset = 0
    for blob, descriptor in zip(sections, described, strict=True):
        descriptor.update(offset=offset, length=len(blob),
                          sha256=hashlib.sha256(blob).hexdigest())
        offset += len(blob)
    header = json.dumps({"state": plain, "sections": described, "count_map": count_map},
                        separators=(",", ":")).encode()
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header), hashlib.sha256(header).digest())
    return b"".join([prefix, header, *sections, *tail])


def decode(data: bytes) -> Any:
    """The whole state tree of ``data`` (count map included); CorruptShardState on anything
    unexpected, trailing bytes too."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CorruptShardState("a partial state must be bytes")
    reader = StateReader(io.BytesIO(bytes(data)))
    for i in range(len(reader.described)):
        reader.section(i)
    tree = reader.subtree(counts=True)
    if reader.data_length() != len(data) - reader.base:
        raise CorruptShardState("partial state has trailing bytes or gaps")
    return tree


class StateReader:
    """Random access to an encoded state in a seekable file: the header at once, sections and
    count-map buckets on demand, each checked against its digest."""

    def __init__(self, f: ReadableFile) -> None:
        self._f = f
        prefix = self._read(0, _PREFIX.size, "its prefix")
        magic, version, _flags, header_len, digest = _PREFIX.unpack_from(prefix)
        if magic != MAGIC:
            raise CorruptShardState("not a Synthos partial state (bad magic bytes)")
        if version != FORMAT_VERSION:
            raise CorruptShardState(
                f"partial state format version {version} is not supported (expected "
                f"{FORMAT_VERSION})", details={"version": version})
        if header_len > MAX_HEADER_BYTES:
            raise CorruptShardState("partial state header length is out of range")
        header_bytes = self._read(_PREFIX.size, header_len, "its header")
        if hashlib.sha256(header_bytes).digest() != digest:
            raise CorruptShardState("partial state header is corrupt (digest mismatch)")
        self.base = _PREFIX.size + header_len
        try:
            header = json.loads(header_bytes.decode())
            self.described: list[Any] = header["sections"]
            self.plain: Any = header["state"]
            self._map: Any = header["count_map"]
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise CorruptShardState(f"partial state header is not valid JSON: {exc}") from exc
        self._check_layout()
        self._cache: dict[int, Any] = {}

    def subtree(self, *path: str, counts: bool = False) -> Any:
        """The part of the state tree at ``path`` (keys of nested objects), its sections read;
        a count map is read too when ``counts``, else it stands as ``{"$count_map": True}``
        (see ``count_slice``)."""
        node = self.plain
        for key in path:
            if not isinstance(node, dict) or key not in node:
                raise CorruptShardState(f"partial state has no {'/'.join(path)}")
            node = node[key]
        return self._lower(node, counts)

    @property
    def entries(self) -> int:
        """Entries in the count map (0 without one)."""
        return 0 if self._map is None else int(self._map["entries"])

    def count_map(self) -> CountMap:
        """The whole count map."""
        return self.count_slice(0, COUNT_BUCKETS)

    def count_slice(self, first: int, stop: int) -> CountMap:
        """The entries of buckets ``first .. stop - 1`` (two reads, checked bucket by bucket)."""
        if not 0 <= first <= stop <= COUNT_BUCKETS:
            raise ValueError(f"bucket range {first}..{stop} is out of 0..{COUNT_BUCKETS}")
        if self._map is None:
            return CountMap(np.empty(0, np.uint64), np.empty(0, np.int64))
        index, digests = self._index()
        lo, hi = int(index[first]), int(index[stop])
        d = int(self._map["entries"])
        offset = self._data_sections_end()
        keys = self._read(self.base + offset + 8 * lo, 8 * (hi - lo), "its count map")
        counts = self._read(self.base + offset + 8 * (d + lo), 8 * (hi - lo), "its count map")
        got = _bucket_digests(keys, counts, index[first : stop + 1] - lo)
        if not np.array_equal(got, digests[first:stop]):
            raise CorruptShardState("partial state count map is corrupt (digest mismatch)")
        out = CountMap(np.frombuffer(keys, "<u8").astype(np.uint64),
                       np.frombuffer(counts, "<i8").astype(np.int64))
        owner = np.repeat(np.arange(first, stop, dtype=np.uint64), np.diff(index[first:stop + 1]))
        if not np.array_equal(out.keys >> _SHIFT, owner):
            raise CorruptShardState("partial state count map does not match its bucket index")
        return out

    def data_length(self) -> int:
        return self._data_sections_end() + 16 * self.entries

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        index = self._lower(self._map["index"])
        digests = self._lower(self._map["digests"])
        d = self.entries
        if (not isinstance(index, np.ndarray) or index.dtype != np.int64
                or index.shape != (COUNT_BUCKETS + 1,) or index[0] != 0 or index[-1] != d
                or (np.diff(index) < 0).any() or not isinstance(digests, np.ndarray)
                or digests.shape != (COUNT_BUCKETS, 16) or digests.dtype != np.uint8):
            raise CorruptShardState("partial state count-map index is invalid")
        return index, digests

    def _check_layout(self) -> None:
        if not isinstance(self.described, list) or not all(
                isinstance(d, dict) for d in self.described):
            raise CorruptShardState("partial state section table is not a list of objects")
        offset = 0
        for d in self.described:
            if type(d.get("offset")) is not int or d["offset"] != offset or type(
                    d.get("length")) is not int or d["length"] < 0 or not isinstance(
                    d.get("sha256"), str):
                raise CorruptShardState("partial state sections are not laid out back to back")
            offset += d["length"]
        m = self._map
        if m is not None and (not isinstance(m, dict) or m.get("buckets") != COUNT_BUCKETS
                              or type(m.get("entries")) is not int or m["entries"] < 0
                              or not all(k in m for k in ("index", "digests"))):
            raise CorruptShardState("partial state count-map entry is invalid")

    def _data_sections_end(self) -> int:
        return sum(int(d["length"]) for d in self.described)

    def _read(self, offset: int, length: int, what: str) -> bytes:
        if offset + length > MAX_FILE_BYTES:  # a forged length: file objects overflow on it
            raise CorruptShardState(f"partial state truncated in {what}")
        self._f.seek(offset)
        data = self._f.read(length)
        if len(data) != length:
            raise CorruptShardState(f"partial state truncated in {what}")
        return bytes(data)

    def section(self, index: Any) -> Any:
        if not isinstance(index, int) or not 0 <= index < len(self.described):
            raise CorruptShardState("partial state refers to a missing section")
        if index not in self._cache:
            d = self.described[index]
            blob = self._read(self.base + d["offset"], d["length"], "its sections")
            if hashlib.sha256(blob).hexdigest() != d["sha256"]:
                raise CorruptShardState("partial state section is corrupt (digest mismatch)")
            self._cache[index] = _section(blob, d)
        return self._cache[index]

    def _lower(self, value: Any, counts: bool = False) -> Any:
        try:
            return self._walk(value, counts)
        except RecursionError as exc:  # a forged header nested deeper than the stack
            raise CorruptShardState("partial state header is nested too deep") from exc

    def _walk(self, value: Any, counts: bool) -> Any:
        if isinstance(value, dict):
            if set(value) == {"$section"}:
                return self.section(value["$section"])
            if set(value) == {"$count_map"}:
                return self.count_map() if counts else {"$count_map": True}
            return {k: self._walk(v, counts) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, counts) for v in value]
        return value


def _lift(value: Any, sections: list[bytes], described: list[dict[str, Any]],
          maps: list[CountMap]) -> Any:
    if isinstance(value, CountMap):
        maps.append(value)
        return {"$count_map": True}
    if isinstance(value, dict):
        return {str(k): _lift(v, sections, described, maps) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lift(v, sections, described, maps) for v in value]
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


def _section(blob: bytes, descriptor: Any) -> Any:
    kind = descriptor.get("kind") if isinstance(descriptor, dict) else None
    if kind == "bytes":
        return blob
    if kind == "array":
        dtype, shape = descriptor.get("dtype"), descriptor.get("shape")
        if not isinstance(dtype, str) or dtype not in _DTYPES or not isinstance(
                shape, list) or not all(type(s) is int and s >= 0 for s in shape):
            raise CorruptShardState(f"partial state array has a bad type or shape: {dtype!r}"
                                    [:200])
        dt = np.dtype(dtype)
        if math.prod(shape) * dt.itemsize != len(blob):  # Python ints: no wrap-around
            raise CorruptShardState("partial state array length does not match its shape")
        return np.frombuffer(blob, dtype=dt).reshape(shape).copy()
    if kind == "arrow":
        try:
            return pa.ipc.open_stream(pa.py_buffer(blob)).read_all()
        except (pa.ArrowException, OSError) as exc:
            raise CorruptShardState(f"partial state sample is not Arrow IPC: {exc}") from exc
    raise CorruptShardState(f"partial state section of unknown kind {kind!r}")
