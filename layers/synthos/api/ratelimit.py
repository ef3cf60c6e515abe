"""Rate limits: a token bucket per principal, kept in DynamoDB.

Each bucket is one :class:`RateLimitModel` item (``rate#...``) holding the tokens left and when
they were counted. A request refills the bucket for the time elapsed, takes one token and writes
the result back only if nobody else wrote since it read (a conditional put on ``updated``); a
lost race re-reads and tries again. An empty bucket answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError

from synthos.api.errors import TooManyRequests
from synthos.aws.tables import RateLimitModel, lost_condition


@dataclass(frozen=True)
class Bucket:
    capacity: float      # the burst a principal may spend at once
    per_second: float    # the sustained rate the bucket refills at


PRINCIPAL = Bucket(capacity=120.0, per_second=2.0)  # per user or API key
ANONYMOUS = Bucket(capacity=30.0, per_second=0.2)   # per source IP, on the auth endpoints
ATTEMPTS = 4

clock: Callable[[], float] = time.time


def _level(item: RateLimitModel | None, spec: Bucket, now: float) -> float:
    if item is None:
        return spec.capacity
    elapsed = max(0.0, now - float(item.updated))
    return min(spec.capacity, float(item.tokens) + elapsed * spec.per_second)


def _retry_after(tokens: float, spec: Bucket) -> int:
    return max(1, math.ceil((1.0 - tokens) / spec.per_second))


def consume(bucket_id: str, spec: Bucket = PRINCIPAL) -> None:
    """Take one token from ``rate#{bucket_id}``; TooManyRequests when the bucket is empty."""
    key = f"rate#{bucket_id}"
    for _ in range(ATTEMPTS):
        now = clock()
        try:
            item: RateLimitModel | None = RateLimitModel.get(key, consistent_read=True)
        except DoesNotExist:
            item = None
        tokens = _level(item, spec, now)
        if tokens < 1.0:
            wait = _retry_after(tokens, spec)
            raise TooManyRequests(f"rate limit exceeded; retry in {wait} s",
                                  details={"retry_after": wait},
                                  headers={"Retry-After": str(wait)})
        condition = (RateLimitModel.bucket_id.does_not_exist() if item is None
                     else RateLimitModel.updated == item.updated)
        refill = spec.capacity / spec.per_second
        fresh = RateLimitModel(key, tokens=tokens - 1.0, updated=now,
                               expires=datetime.fromtimestamp(now + refill + 3600, UTC))
        try:
            fresh.save(condition=condition)
            return
        except PutError as exc:
            if not lost_condition(exc):
                raise
    raise TooManyRequests("too many concurrent requests; retry in 1 s",
                          details={"retry_after": 1}, headers={"Retry-After": "1"})
