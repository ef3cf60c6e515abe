"""Loading DataSketches bytes from untrusted partial states without crashing the process.

The DataSketches bindings trust their input: a KLL or REQ sketch cut short after its preamble
takes the process down (segfault), others raise ValueError or IndexError. Partial states carry
a SHA-256 of their body (``synthos.shard.codec``), so corruption is caught before this; the
structural checks here are the second line against crafted bytes, and every binding error
becomes CorruptShardState.
"""

from __future__ import annotations

import struct
from typing import Any

import datasketches as ds

from synthos.errors import CorruptShardState

_KLL_FAMILY = 15
_KLL_FULL_PREAMBLE = 5
_KLL_FIXED = 36  # 20 bytes of preamble + min and max (2 x float64)
_REQ_FAMILY = 17
_REQ_EMPTY, _REQ_RAW = 1 << 2, 1 << 4
_REQ_LEVEL = struct.Struct("<QfBBHI")  # state, section size, lg weight, sections, pad, items


def check_kll_doubles(blob: bytes) -> None:
    """Raise CorruptShardState unless ``blob`` has the layout of a serialized KLL doubles
    sketch: preamble, level offsets and exactly as many float64 items as they imply."""
    if len(blob) < 8 or blob[2] != _KLL_FAMILY:
        raise CorruptShardState("quantile sketch bytes are not a KLL sketch")
    preamble = blob[0]
    if preamble == 2:
        if len(blob) not in (8, 16):
            raise CorruptShardState("KLL sketch of 0 or 1 item has a wrong length")
        return
    if preamble != _KLL_FULL_PREAMBLE or len(blob) < 20:
        raise CorruptShardState("KLL sketch preamble is damaged")
    levels = blob[18]
    fixed = _KLL_FIXED + 4 * levels
    if levels < 1 or len(blob) < fixed or (len(blob) - fixed) % 8:
        raise CorruptShardState("KLL sketch length does not match its levels")
    offsets = struct.unpack_from(f"<{levels}I", blob, 20)
    retained = (len(blob) - fixed) // 8
    if list(offsets) != sorted(offsets) or retained < 1:
        raise CorruptShardState("KLL sketch level offsets are inconsistent")


def check_req_floats(blob: bytes) -> None:
    """Raise CorruptShardState unless ``blob`` has the layout of a serialized REQ floats
    sketch: preamble, then (estimation mode) n, min, max, then per level a 20-byte compactor
    preamble and as many float32 items as it says, weights adding up to n. The binding
    segfaults on REQ bytes cut short, like KLL."""
    if len(blob) < 8 or blob[1] != 1 or blob[2] != _REQ_FAMILY or blob[0] not in (2, 4):
        raise CorruptShardState("quantile sketch bytes are not a REQ sketch")
    k, flags, levels, raw = struct.unpack_from("<HBB", blob, 4)[0], blob[3], blob[6], blob[7]
    if not 4 <= k <= 1024 or k % 2:
        raise CorruptShardState("REQ sketch k is out of range")
    if flags & _REQ_EMPTY:
        if levels or raw or len(blob) != 8:
            raise CorruptShardState("empty REQ sketch holds items")
        return
    if flags & _REQ_RAW:
        if levels != 1 or not 1 <= raw <= 4 or len(blob) < 8 + 4 * raw:
            raise CorruptShardState("REQ sketch of a few raw items is damaged")
        return
    _check_req_levels(blob, k, levels)


def _check_req_levels(blob: bytes, k: int, levels: int) -> None:
    if not 1 <= levels <= 64 or (levels > 1 and len(blob) < 24):
        raise CorruptShardState("REQ sketch level count is damaged")
    n = struct.unpack_from("<Q", blob, 8)[0] if levels > 1 else None
    pos, weight = (24 if levels > 1 else 8), 0
    for level in range(levels):
        if pos + 20 > len(blob):
            raise CorruptShardState("REQ sketch truncated in its levels")
        _state, section, lg_weight, sections, _pad, items = _REQ_LEVEL.unpack_from(blob, pos)
        pos += 20
        if lg_weight != level or not 0 < section <= k or not sections or items > (
            len(blob) - pos
        ) // 4:
            raise CorruptShardState("REQ sketch level is damaged")
        pos += 4 * items
        weight += items << level
    if (n is not None and weight != n) or weight < 1:
        raise CorruptShardState("REQ sketch item weights do not add up")
    if pos != len(blob):
        raise CorruptShardState("REQ sketch has bytes past its levels")


def load_sketch(kind: str, blob: Any) -> Any:
    """The sketch of ``kind`` (``kll``, ``req``, ``hll`` or ``freq``) held in ``blob``."""
    if not isinstance(blob, bytes):
        raise CorruptShardState(f"{kind} sketch is not bytes")
    if kind == "kll":
        check_kll_doubles(blob)
    if kind == "req":
        check_req_floats(blob)
    loader = {"kll": ds.kll_doubles_sketch.deserialize, "hll": ds.hll_sketch.deserialize,
              "req": ds.req_floats_sketch.deserialize,
              "freq": ds.frequent_strings_sketch.deserialize}[kind]
    try:
        return loader(blob)
    except (ValueError, IndexError, RuntimeError, MemoryError, OverflowError) as exc:
        raise CorruptShardState(f"{kind} sketch cannot be read: {exc}") from exc
