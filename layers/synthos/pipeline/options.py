"""A job's stored options (the API's ValidationOptions JSON) as engine options."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from synthos.api.payloads import ValidationOptions
from synthos.engine import ValidateOptions
from synthos.errors import InvalidOption


def engine_options(stored: dict[str, Any] | None) -> ValidateOptions:
    try:
        opts = ValidationOptions.model_validate(stored or {}).to_engine()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise InvalidOption(f"invalid validation option {where}: {first.get('msg')}") from exc
    opts.check()
    return opts
