"""Plan quotas: monthly counters that refuse the unit past the plan's limit."""

from __future__ import annotations

import json

import pytest

from synthos.api import quotas
from synthos.api.errors import PaymentRequired


@pytest.fixture
def world(api_settings_env):  # type: ignore[no-untyped-def]
    from synthos.api.context import current_settings

    return current_settings()


def test_free_plan_counts_up_to_its_limit_then_refuses(world, monkeypatch):
    # GIVEN a free tenant whose plan allows 3 validations a month
    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 2, "validations": 3})
    quotas.set_plan("t1", "free")
    # WHEN consuming 4 THEN the first three count 1, 2, 3 and the fourth is refused
    assert [quotas.consume("t1", "validations") for _ in range(3)] == [1, 2, 3]
    with pytest.raises(PaymentRequired) as caught:
        quotas.consume("t1", "validations")
    error = caught.value
    assert error.status == 402 and error.code == "quota_exceeded"
    assert "free plan allows 3 validations per month" in error.message
    assert error.details == {"kind": "validations", "plan": "free", "limit": 3}
    # the refused unit was not counted, and datasets have their own counter
    assert quotas.usage("t1")["validations"] == {"used": 3, "limit": 3}
    assert quotas.consume("t1", "datasets") == 1


def test_quotas_are_per_tenant(world, monkeypatch):
    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 1, "validations": 1})
    quotas.consume("a", "datasets")
    assert quotas.consume("b", "datasets") == 1
    with pytest.raises(PaymentRequired):
        quotas.consume("a", "datasets")


def test_unknown_tenant_plan_defaults_to_free(world):
    assert quotas.plan_of("never-registered") == "free"
    assert quotas.limit_of("never-registered", "datasets") == quotas.PLANS["free"]["datasets"]


def test_enterprise_is_unlimited(world):
    quotas.set_plan("big", "enterprise")
    used = [quotas.consume("big", "datasets", amount=1000) for _ in range(3)]
    assert used == [1000, 2000, 3000]
    assert quotas.usage("big")["datasets"] == {"used": 3000, "limit": None}


def test_release_gives_a_unit_back_but_never_below_zero(world, monkeypatch):
    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 1, "validations": 1})
    quotas.consume("r", "datasets")
    quotas.release("r", "datasets")
    assert quotas.consume("r", "datasets") == 1
    quotas.release("r", "datasets")
    quotas.release("r", "datasets")
    assert quotas.usage("r")["datasets"]["used"] == 0


def test_an_amount_above_the_limit_is_refused_outright(world, monkeypatch):
    monkeypatch.setitem(quotas.PLANS, "free", {"datasets": 2, "validations": 2})
    with pytest.raises(PaymentRequired):
        quotas.consume("x", "datasets", amount=3)
    assert quotas.usage("x")["datasets"]["used"] == 0


def test_unknown_kind_or_plan_is_a_programming_error(world):
    with pytest.raises(KeyError):
        quotas.consume("t", "widgets")  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        quotas.set_plan("t", "platinum")


def test_me_reports_the_months_usage(api_client, register_user, monkeypatch):

    user = register_user(api_client)
    quotas.consume(user.tenant_id, "validations")
    doc = json.loads(api_client.http.get("/v1/auth/me", headers=user.headers).body)
    assert doc["usage"]["validations"] == {"used": 1, "limit": 50}
