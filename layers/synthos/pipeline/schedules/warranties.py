"""Warranty expiry: active warranties past ``expires_at`` become expired (the API's
``expire_due``, on the warranties ``by_status`` index)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from synthos.api.warranties import expire_due
from synthos.aws.settings import Settings


def expire(settings: Settings, event: dict[str, Any],
           now: datetime | None = None) -> dict[str, Any]:
    del event
    return {"expired": expire_due(settings, now or datetime.now(UTC))}
