"""Decide how to read a file: by its content first, then its name, then by sniffing its text.

Binary formats announce themselves with magic bytes (Parquet ``PAR1`` at both ends, Arrow IPC
file ``ARROW1``, IPC stream continuation marker ``0xFFFFFFFF``). Text is told apart from
garbage by NUL and control bytes, then sniffed: a first ``{`` means JSON Lines, a tab-heavy first
line means TSV, anything else CSV. A file whose name (or the requested format) disagrees with
its content is read by its content, and a warning says so.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from synthos.errors import EmptyDataset, UnreadableDataset, UnsupportedFormat

HEAD_BYTES = 1 << 16
TEXT_FORMATS = ("csv", "tsv", "jsonl")
IPC_FORMATS = ("arrow", "arrow_stream", "feather")
FORMATS = ("parquet", *TEXT_FORMATS, *IPC_FORMATS)

_ALIASES = {
    "parquet": "parquet", "pq": "parquet", "parq": "parquet",
    "csv": "csv", "tsv": "tsv", "tab": "tsv",
    "jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "jsonlines": "jsonl",
    "arrow": "arrow", "ipc": "arrow", "arrow_file": "arrow",
    "arrow_stream": "arrow_stream", "arrows": "arrow_stream", "ipc_stream": "arrow_stream",
    "stream": "arrow_stream", "feather": "feather", "fea": "feather",
}  # fmt: skip
_FOREIGN_MAGIC = {
    b"PK\x03\x04": "ZIP (or Excel .xlsx)", b"%PDF": "PDF", b"\x89PNG": "PNG", b"ORC": "ORC",
    b"Obj\x01": "Avro", b"\xd0\xcf\x11\xe0": "Excel .xls", b"SQLite format 3": "SQLite",
    b"BZh": "bzip2", b"\x28\xb5\x2f\xfd": "zstd", b"\xfd7zXZ": "xz",
}  # fmt: skip
_IPC_STREAM_MARKER = b"\xff\xff\xff\xff"


@dataclass(frozen=True)
class Detection:
    """How to read a file: canonical format, text details, and what was noticed on the way."""

    format: str
    compression: str | None = None  # "gzip" for gzipped text
    encoding: str = "utf-8"
    delimiter: str = ","
    warnings: tuple[str, ...] = field(default_factory=tuple)


def normalize_format(fmt: str) -> str:
    """Canonical format name for a user-supplied one; UnsupportedFormat if unknown."""
    key = fmt.strip().lower().lstrip(".")
    if key not in _ALIASES:
        known = ", ".join(FORMATS)
        raise UnsupportedFormat(f"format {fmt!r} is not supported (use one of: {known})")
    return _ALIASES[key]


def format_from_name(path: Path) -> tuple[str | None, bool]:
    """(format named by the extension or None, whether the name ends in .gz)."""
    suffixes = [s.lower().lstrip(".") for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == "gz"
    if gz:
        suffixes = suffixes[:-1]
    return (_ALIASES.get(suffixes[-1]) if suffixes else None), gz


def detect(path: Path, fmt: str | None = None) -> Detection:
    """Detect the format of an existing regular file (see the module docstring)."""
    size = path.stat().st_size
    if size == 0:
        raise EmptyDataset(f"{path.name} is empty (0 bytes)")
    head, tail = _read_ends(path, size)
    declared = normalize_format(fmt) if fmt else format_from_name(path)[0]
    source = f"requested format {declared!r}" if fmt else f"extension of {path.name}"
    binary = _binary_format(head, tail, declared, path)
    if binary is not None:
        warns = _mismatch(declared, binary, source)
        return Detection(binary, warnings=warns)
    compression = None
    if head[:2] == b"\x1f\x8b":
        head, compression = _gunzip_head(path), "gzip"
    elif _looks_binary(head):
        what = f"not a {declared} file" if declared else "not a recognised table format"
        raise UnreadableDataset(
            f"{path.name} is {what}: binary content matches no supported format"
        )
    encoding, text = _decode_head(head)
    sniffed, delimiter = sniff_text(text, path)
    chosen, warns = _choose_text(declared, sniffed, source)
    if chosen == "tsv":
        delimiter = "\t"
    if chosen == "jsonl" and encoding == "utf-16":
        raise UnsupportedFormat(f"{path.name}: JSON Lines must be UTF-8, found UTF-16")
    return Detection(chosen, compression, encoding, delimiter, warns)


def _read_ends(path: Path, size: int) -> tuple[bytes, bytes]:
    try:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
            f.seek(max(0, size - 8))
            tail = f.read(8)
    except OSError as exc:
        raise UnreadableDataset(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    return head, tail


def _binary_format(head: bytes, tail: bytes, declared: str | None, path: Path) -> str | None:
    if head[:4] == b"PAR1":
        if tail[-4:] != b"PAR1" or len(head) < 12:
            raise UnreadableDataset(
                f"{path.name} starts like Parquet but has no footer: "
                "the file is truncated or corrupt"
            )
        return "parquet"
    if head[:6] == b"ARROW1":
        return "feather" if declared == "feather" else "arrow"
    if head[:4] == _IPC_STREAM_MARKER:
        return "arrow_stream"
    if head[:4] == b"FEA1":
        raise UnsupportedFormat(f"{path.name} is Feather v1; re-save it as Feather v2 (Arrow IPC)")
    for magic, name in _FOREIGN_MAGIC.items():
        if head.startswith(magic):
            raise UnsupportedFormat(f"{path.name} is a {name} file, not a table format we read")
    return None


def _mismatch(declared: str | None, actual: str, source: str) -> tuple[str, ...]:
    if declared is None or declared == actual:
        return ()
    if declared in IPC_FORMATS and actual in IPC_FORMATS:
        return ()
    return (f"{source} says {declared} but the content is {actual}; read as {actual}",)


def _gunzip_head(path: Path) -> bytes:
    try:
        with gzip.open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise UnreadableDataset(f"{path.name} is not a readable gzip file: {exc}") from exc
    if not head.strip():
        raise EmptyDataset(f"{path.name} holds no data after decompression")
    if _looks_binary(head):
        raise UnsupportedFormat(f"{path.name}: only gzipped CSV, TSV or JSON Lines are supported")
    return head


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text with a byte-order mark
    if b"\x00" in head:
        return True
    control = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    return control > 0.05 * len(head)


def _decode_head(head: bytes) -> tuple[str, str]:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", head.decode("utf-16", errors="replace")
    try:
        return "utf-8", head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 4:  # a character cut by the end of the head
            return "utf-8", head[: exc.start].decode("utf-8")
        return "latin-1", head.decode("latin-1")


def sniff_text(text: str, path: Path) -> tuple[str, str]:
    """(format, delimiter) guessed from the first characters of a text file."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise EmptyDataset(f"{path.name} holds only whitespace")
    if stripped[0] == "{":
        return "jsonl", ","
    if stripped[0] == "[":
        return "json_array", ","
    first = stripped.split("\n", 1)[0]
    tabs, commas = first.count("\t"), first.count(",")
    if tabs and tabs >= commas:
        return "tsv", "\t"
    if not commas:
        for delim in (";", "|"):
            if first.count(delim):
                return "csv", delim
    return "csv", ","


def _choose_text(declared: str | None, sniffed: str, source: str) -> tuple[str, tuple[str, ...]]:
    if sniffed == "json_array":
        raise UnsupportedFormat(
            "the file is a JSON array document; Synthos reads JSON Lines (one object per line)"
        )
    if declared is None:
        return sniffed, ()
    if declared == sniffed:
        return declared, ()
    return sniffed, (
        f"{source} says {declared} but the content is {sniffed} text; read as {sniffed}",
    )


def unreadable(path: Path, how: str, exc: Exception) -> UnreadableDataset:
    """``UnreadableDataset("<file name> <how>: <first line of exc>")``, the exception's type
    standing in for an exception without text; the reason also goes in ``details["cause"]``."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return UnreadableDataset(f"{path.name} {how}: {reason}", details={"cause": reason})
