"""Loading DataSketches bytes from untrusted partial states without crashing the process.

The DataSketches bindings trust their input: a KLL sketch cut short after its preamble takes the
process down (segfault), others raise ValueError or IndexError. Partial states carry a SHA-256
of their body (``synthos.shard.codec``), so corruption is caught before this; the structural
check here is the second line against crafted bytes, and every binding error becomes
CorruptShardState.
"""

from __future__ import annotations

import struct
from typing import Any

import datasketches as ds

from synthos.errors import CorruptShardState

_KLL_FAMILY = 15
_KLL_FULL_PREAMBLE = 5
_KLL_FIXED = 36  # 20 bytes of preamble + min and max (2 x float64)


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


def load_sketch(kind: str, blob: Any) -> Any:
    """The sketch of ``kind`` (``kll``, ``hll`` or ``freq``) held in ``blob``."""
    if not isinstance(blob, bytes):
        raise CorruptShardState(f"{kind} sketch is not bytes")
    if kind == "kll":
        check_kll_doubles(blob)
    loader = {"kll": ds.kll_doubles_sketch.deserialize, "hll": ds.hll_sketch.deserialize,
              "freq": ds.frequent_strings_sketch.deserialize}[kind]
    try:
        return loader(blob)
    except (ValueError, IndexError, RuntimeError, MemoryError, OverflowError) as exc:
        raise CorruptShardState(f"{kind} sketch cannot be read: {exc}") from exc
