"""Plan quotas: how many datasets and validations a tenant may create per calendar month (UTC).

The tenant's plan is a ``plan#{tenant}`` item written at registration; each month's usage is a
``quota#{tenant}#{kind}#{yyyy-mm}`` counter raised by a conditional update that fails once the
plan's limit is reached, so two racing requests can never both take the last unit. Counters
expire (DynamoDB TTL) a while after their month ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.update import Action

from synthos.api.errors import PaymentRequired
from synthos.aws.tables import RateLimitModel, lost_condition

Kind = Literal["datasets", "validations"]
KINDS: tuple[Kind, ...] = ("datasets", "validations")
DEFAULT_PLAN = "free"
# None: unlimited
PLANS: dict[str, dict[str, int | None]] = {
    "free": {"datasets": 20, "validations": 50},
    "pro": {"datasets": 500, "validations": 2000},
    "enterprise": {"datasets": None, "validations": None},
}


def _month(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def set_plan(tenant_id: str, plan: str) -> None:
    if plan not in PLANS:
        raise KeyError(plan)
    RateLimitModel(f"plan#{tenant_id}", plan=plan).save()


def plan_of(tenant_id: str) -> str:
    try:
        item = RateLimitModel.get(f"plan#{tenant_id}")
    except DoesNotExist:
        return DEFAULT_PLAN
    return item.plan if item.plan in PLANS else DEFAULT_PLAN


def limit_of(tenant_id: str, kind: Kind) -> int | None:
    return PLANS[plan_of(tenant_id)][kind]


def consume(tenant_id: str, kind: Kind, amount: int = 1) -> int:
    """Count ``amount`` units of ``kind`` this month; PaymentRequired once the plan is used up.

    Returns the month's usage after counting."""
    if kind not in KINDS:
        raise KeyError(kind)
    plan = plan_of(tenant_id)
    limit = PLANS[plan][kind]
    counter = RateLimitModel(f"quota#{tenant_id}#{kind}#{_month()}")
    actions: list[Action] = [RateLimitModel.used.add(amount),
               RateLimitModel.expires.set(datetime.now(UTC) + timedelta(days=62))]
    try:
        if limit is None:
            counter.update(actions=actions)
        else:
            if amount > limit:
                raise _exhausted(plan, kind, limit)
            condition = (RateLimitModel.used.does_not_exist()
                         | (RateLimitModel.used <= limit - amount))
            counter.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise
        raise _exhausted(plan, kind, limit) from exc
    return int(counter.used)


def _exhausted(plan: str, kind: str, limit: int | None) -> PaymentRequired:
    return PaymentRequired(
        f"the {plan} plan allows {limit} {kind} per month and this month's are used up; "
        "upgrade the plan or wait until next month",
        details={"kind": kind, "plan": plan, "limit": limit})


def release(tenant_id: str, kind: Kind, amount: int = 1) -> None:
    """Give back units counted for work that was then refused (best effort, never below 0)."""
    counter = RateLimitModel(f"quota#{tenant_id}#{kind}#{_month()}")
    try:
        counter.update(actions=[RateLimitModel.used.add(-amount)],
                       condition=RateLimitModel.used >= amount)
    except UpdateError as exc:
        if not lost_condition(exc):
            raise


def usage(tenant_id: str) -> dict[str, dict[str, int | None]]:
    """This month's usage and limits per kind, for ``GET /auth/me``."""
    plan = plan_of(tenant_id)
    out: dict[str, dict[str, int | None]] = {}
    for kind in KINDS:
        try:
            used = int(RateLimitModel.get(f"quota#{tenant_id}#{kind}#{_month()}").used)
        except DoesNotExist:
            used = 0
        out[kind] = {"used": used, "limit": PLANS[plan][kind]}
    return out
