"""Tiny Lambda handlers and Batch entrypoints the glue tests dispatch to."""

from __future__ import annotations

from typing import Any

from synthos.errors import UnreadableDataset

RAN: list[list[str]] = []


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"got": event, "function": context.function_name}


def explode(event: dict[str, Any], context: Any) -> None:
    raise UnreadableDataset("data.csv is corrupt")


def main(argv: list[str]) -> int:
    """A Batch entrypoint: exit 0 unless asked to fail."""
    RAN.append(argv)
    return 3 if "--fail" in argv else 0
