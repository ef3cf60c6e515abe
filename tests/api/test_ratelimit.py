"""The per-principal token bucket: refill arithmetic, lost races, and the 429 answer."""

from __future__ import annotations

import json

import pytest

from synthos.api import ratelimit
from synthos.api.errors import TooManyRequests
from synthos.aws.tables import RateLimitModel


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(api_settings_env, monkeypatch):  # type: ignore[no-untyped-def]
    fake = FakeClock()
    monkeypatch.setattr(ratelimit, "clock", fake)
    return fake


def _tokens(bucket: str) -> float:
    return float(RateLimitModel.get(f"rate#{bucket}", consistent_read=True).tokens)


def test_bucket_spends_its_burst_then_refills_at_its_rate(clock):
    # GIVEN capacity 3, refilling 0.5 token/s
    spec = ratelimit.Bucket(capacity=3.0, per_second=0.5)
    for _ in range(3):
        ratelimit.consume("p1", spec)
    # WHEN the 4th comes at once THEN 429; 1 token takes 2 s at 0.5/s
    with pytest.raises(TooManyRequests) as caught:
        ratelimit.consume("p1", spec)
    assert caught.value.headers == {"Retry-After": "2"}
    # after 1 s only half a token is back: still refused, retry in 1 s
    clock.now += 1.0
    with pytest.raises(TooManyRequests) as caught:
        ratelimit.consume("p1", spec)
    assert caught.value.headers == {"Retry-After": "1"}
    # after 2 s in all one token is back: accepted, and the bucket is empty again
    clock.now += 1.0
    ratelimit.consume("p1", spec)
    assert _tokens("p1") == pytest.approx(0.0)


def test_refill_never_exceeds_capacity(clock):
    spec = ratelimit.Bucket(capacity=2.0, per_second=1.0)
    ratelimit.consume("p2", spec)
    clock.now += 3600.0
    ratelimit.consume("p2", spec)
    assert _tokens("p2") == pytest.approx(1.0)  # min(2, 1 + 3600) - 1


def test_buckets_are_per_principal(clock):
    spec = ratelimit.Bucket(capacity=1.0, per_second=0.01)
    ratelimit.consume("a", spec)
    ratelimit.consume("b", spec)
    with pytest.raises(TooManyRequests):
        ratelimit.consume("a", spec)


def test_a_lost_race_rereads_instead_of_overwriting(clock, monkeypatch):
    # GIVEN another writer takes a token between our read and our write
    spec = ratelimit.Bucket(capacity=5.0, per_second=0.001)
    ratelimit.consume("race", spec)                       # 4 left
    real_get = RateLimitModel.get
    calls = {"n": 0}

    def racing_get(*args, **kwargs):  # type: ignore[no-untyped-def]
        stale = real_get(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 1:
            clock.now += 0.001                            # the rival writes a newer stamp
            monkeypatch.setattr(RateLimitModel, "get", real_get)
            ratelimit.consume("race", spec)               # 3 left
            monkeypatch.setattr(RateLimitModel, "get", racing_get)
        return stale

    monkeypatch.setattr(RateLimitModel, "get", racing_get)
    # WHEN we consume on the stale read
    ratelimit.consume("race", spec)
    # THEN our conditional write failed, we re-read, and both tokens are counted
    assert calls["n"] == 2
    assert _tokens("race") == pytest.approx(2.0, abs=1e-5)


def test_the_api_answers_429_with_retry_after(api_client, register_user, monkeypatch, clock):
    # GIVEN a principal bucket of 2 requests refilling 0.1 token/s, and a clock that stands still
    monkeypatch.setattr(ratelimit, "PRINCIPAL", ratelimit.Bucket(capacity=2.0, per_second=0.1))
    user = register_user(api_client)
    codes = [api_client.http.get("/v1/auth/me", headers=user.headers) for _ in range(3)]
    assert [r.status_code for r in codes] == [200, 200, 429]
    limited = codes[2]
    error = json.loads(limited.body)["error"]
    # THEN the empty bucket needs one whole token: 1 / 0.1 = 10 s, in the header and the body
    assert error["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == "10"
    assert error["details"]["retry_after"] == 10
    # another user of another tenant is not affected
    other = register_user(api_client)
    assert api_client.http.get("/v1/auth/me", headers=other.headers).status_code == 200


def test_anonymous_auth_calls_are_limited_per_source_ip(api_client, monkeypatch):
    monkeypatch.setattr(ratelimit, "ANONYMOUS", ratelimit.Bucket(capacity=2.0, per_second=0.01))
    body = json.dumps({"email": "x@example.com", "password": "whatever-password"})
    codes = [api_client.http.post("/v1/auth/login", body=body,
                                  headers={"Content-Type": "application/json"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 429]
