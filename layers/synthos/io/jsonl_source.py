"""JSON Lines reading in bounded blocks of whole lines.

Arrow's JSON parser is fast but strict, so opening a file scans it once: each block of lines is
parsed by ``pyarrow.json.read_json`` and the block schemas are unified (ints and floats merge,
fields that appear late are added). The settled schema is then imposed on every block when
streaming. When Arrow cannot read the file (a field mixing numbers and text, ``NaN`` tokens,
bytes that are not UTF-8) the file is read instead with Python's ``json`` line by line, typed
from every value seen, mixed fields as text; a warning says so. Memory stays at one block.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import pyarrow as pa
import pyarrow.json as pajson

from synthos.errors import EmptyDataset, UnreadableDataset
from synthos.io.detect import Detection, unreadable

_BLOCK_BYTES = 1 << 24
_PY_BLOCK_BYTES = 1 << 22
_PARSE_CHUNK = 1 << 20


@dataclass
class JsonlPlan:
    path: Path
    compression: str | None
    schema: pa.Schema
    python_mode: bool
    latin1: bool = False


def open_jsonl_source(path: Path, det: Detection) -> tuple[pa.Schema, list[str], int, JsonlPlan]:
    """Scan the file once; return (settled schema, warnings, exact row count, reopen plan)."""
    try:
        schema, rows = _scan_arrow(path, det.compression)
        plan = JsonlPlan(path, det.compression, schema, python_mode=False)
        warnings: list[str] = []
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        reason = str(exc).strip().splitlines()[0]
        plan, rows, warnings = _scan_python(path, det.compression)
        warnings.insert(0, f"read with the line-by-line JSON parser ({reason})")
    if rows == 0 or len(plan.schema) == 0:
        raise EmptyDataset(f"{path.name} holds no JSON objects with fields")
    return plan.schema, warnings, rows, plan


def iter_jsonl_batches(
    plan: JsonlPlan, batch_rows: int, columns: Sequence[str] | None
) -> Iterator[pa.RecordBatch]:
    """Stream the file block by block, every batch with the settled schema."""
    schema = plan.schema
    block_bytes = _PY_BLOCK_BYTES if plan.python_mode else _BLOCK_BYTES
    for block, first_line in _line_blocks(plan.path, plan.compression, block_bytes):
        if plan.python_mode:
            table = _python_table(block, first_line, schema, plan.path)
        else:
            try:
                table = _arrow_table(block, schema)
            except pa.ArrowException as exc:
                raise unreadable(plan.path, "cannot be read as JSON Lines", exc) from exc
        if columns is not None:
            table = table.select(list(columns))
        yield from table.to_batches(max_chunksize=batch_rows)


def _scan_arrow(path: Path, compression: str | None) -> tuple[pa.Schema, int]:
    schema: pa.Schema | None = None
    rows = 0
    for block, _ in _line_blocks(path, compression, _BLOCK_BYTES):
        table = _arrow_table(block, None)
        rows += table.num_rows
        block_schema = table.schema
        schema = block_schema if schema is None else pa.unify_schemas(
            [schema, block_schema], promote_options="permissive"
        )  # fmt: skip
    return (schema if schema is not None else pa.schema([])), rows


def _arrow_table(block: bytes, schema: pa.Schema | None) -> pa.Table:
    parse = pajson.ParseOptions(
        explicit_schema=schema, unexpected_field_behavior="ignore" if schema else "infer"
    )
    chunk = max(_PARSE_CHUNK, len(block) // 4 + 1)
    try:
        read = pajson.ReadOptions(use_threads=True, block_size=chunk)
        return pajson.read_json(io.BytesIO(block), read_options=read, parse_options=parse)
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise
    read = pajson.ReadOptions(use_threads=True, block_size=len(block) + 1)
    return pajson.read_json(io.BytesIO(block), read_options=read, parse_options=parse)


def _open_binary(path: Path, compression: str | None) -> IO[bytes]:
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def _line_blocks(
    path: Path, compression: str | None, block_bytes: int
) -> Iterator[tuple[bytes, int]]:
    """Yield (block of whole lines, 1-based number of its first line); lines never split."""
    rest, line_no = b"", 1
    try:
        with _open_binary(path, compression) as f:
            while chunk := f.read(block_bytes):
                buf = rest + chunk
                cut = buf.rfind(b"\n")
                if cut < 0:
                    rest = buf
                    continue
                block, rest = buf[: cut + 1], buf[cut + 1 :]
                if block.strip():
                    yield block, line_no
                line_no += block.count(b"\n")
    except (OSError, EOFError) as exc:
        raise UnreadableDataset(f"{path.name} cannot be read: {exc}") from exc
    if rest.strip():
        yield rest, line_no


# ---- the Python fallback ------------------------------------------------------------------


def _scan_python(path: Path, compression: str | None) -> tuple[JsonlPlan, int, list[str]]:
    kinds: dict[str, set[str]] = {}
    rows, latin1 = 0, False
    for block, first_line in _line_blocks(path, compression, _PY_BLOCK_BYTES):
        for obj in _parse_lines(block, first_line, path, latin1_ok=True):
            if obj is _LATIN1:
                latin1 = True
                continue
            rows += 1
            for key, value in obj.items():
                kinds.setdefault(key, set()).add(_kind(value))
    warnings = ["the file is not valid UTF-8; it was decoded as Latin-1"] if latin1 else []
    fields = []
    for key, seen in kinds.items():
        arrow_type, note = _type_for(seen)
        fields.append(pa.field(key, arrow_type))
        if note:
            warnings.append(f"column {key} {note}")
    return JsonlPlan(path, compression, pa.schema(fields), True, latin1), rows, warnings


_LATIN1: Any = object()


def _parse_lines(
    block: bytes, first_line: int, path: Path, *, latin1_ok: bool
) -> Iterator[dict[str, Any]]:
    for offset, raw in enumerate(block.split(b"\n")):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            if latin1_ok:
                yield _LATIN1
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            line = first_line + offset
            raise UnreadableDataset(
                f"{path.name} line {line} is not valid JSON: {exc.msg}"
            ) from exc
        if not isinstance(obj, dict):
            line = first_line + offset
            raise UnreadableDataset(f"{path.name} line {line} is not a JSON object")
        yield obj


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        numeric = all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value if v is not None
        )
        return "list_num" if numeric else "json"
    return "json"


def _type_for(seen: set[str]) -> tuple[pa.DataType, str | None]:
    kinds = seen - {"null"}
    simple = {
        frozenset(): pa.null(), frozenset({"bool"}): pa.bool_(), frozenset({"int"}): pa.int64(),
        frozenset({"float"}): pa.float64(), frozenset({"int", "float"}): pa.float64(),
        frozenset({"str"}): pa.string(), frozenset({"list_num"}): pa.list_(pa.float64()),
    }  # fmt: skip
    if frozenset(kinds) in simple:
        return simple[frozenset(kinds)], None
    if kinds == {"json"}:
        return pa.string(), "holds nested JSON; read as JSON text"
    return pa.string(), "has mixed types; read as text"


def _coerce(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(arrow_type):
        return value if isinstance(value, str) else json.dumps(value)
    if pa.types.is_floating(arrow_type):
        return float(value)
    if pa.types.is_list(arrow_type):
        return [None if v is None else float(v) for v in value]
    return value


def _python_table(block: bytes, first_line: int, schema: pa.Schema, path: Path) -> pa.Table:
    objs = list(_parse_lines(block, first_line, path, latin1_ok=False))
    arrays = []
    for f in schema:
        values = [_coerce(obj.get(f.name), f.type) for obj in objs]
        try:
            arrays.append(pa.array(values, type=f.type))
        except (pa.ArrowException, OverflowError) as exc:
            raise UnreadableDataset(f"{path.name}: column {f.name} cannot be read: {exc}") from exc
    return pa.Table.from_arrays(arrays, schema=schema)
