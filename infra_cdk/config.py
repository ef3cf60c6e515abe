"""Stage configuration, read from CDK context (``-c stage=prod``); nothing is looked up in an
account, so ``cdk synth`` runs offline.

Context keys (``cdk.json`` holds the defaults):

    stage                    dev | prod
    synthos:cors_origins     comma-separated allowed origins of the REST API
    synthos:alarm_email      optional address subscribed to the alarm topic
    synthos:assets           optional overrides of the built code paths (see packaging.py)
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node


class ConfigError(ValueError):
    """A context value the app cannot deploy with (unknown stage, malformed value)."""


@dataclass(frozen=True)
class StageConfig:
    stage: str
    removal_policy: RemovalPolicy
    log_retention: logs.RetentionDays
    api_rate_limit: int          # steady requests per second, whole API
    api_burst_limit: int
    api_quota_per_day: int       # per API key of the usage plan
    cors_origins: tuple[str, ...]
    alarm_email: str | None
    gpu_instance_types: tuple[str, ...]
    batch_max_vcpus: int
    shard_timeout_minutes: int
    nat_gateways: int

    @property
    def prefix(self) -> str:
        """Names of tables, the state machine, secrets: ``synthos-{stage}``."""
        return f"synthos-{self.stage}"


_STAGES: dict[str, dict[str, object]] = {
    "dev": {"removal_policy": RemovalPolicy.DESTROY, "log_retention": logs.RetentionDays.TWO_WEEKS,
            "api_rate_limit": 20, "api_burst_limit": 40, "api_quota_per_day": 10_000,
            "gpu_instance_types": ("g5.xlarge", "g5.2xlarge", "g6.xlarge", "g6.2xlarge"),
            "batch_max_vcpus": 64, "shard_timeout_minutes": 60, "nat_gateways": 1},
    "prod": {"removal_policy": RemovalPolicy.RETAIN,
             "log_retention": logs.RetentionDays.SIX_MONTHS,
             "api_rate_limit": 200, "api_burst_limit": 400, "api_quota_per_day": 1_000_000,
             "gpu_instance_types": ("g5.2xlarge", "g5.4xlarge", "g6.2xlarge", "g6.4xlarge",
                                    "p4d.24xlarge"),
             "batch_max_vcpus": 1024, "shard_timeout_minutes": 60, "nat_gateways": 2},
}


def stage_config(node: Node) -> StageConfig:
    """The configuration of the stage named by context ``stage`` (default ``dev``)."""
    stage = str(node.try_get_context("stage") or "dev")
    if stage not in _STAGES:
        raise ConfigError(f"unknown stage {stage!r}; expected one of {', '.join(_STAGES)}")
    origins = str(node.try_get_context("synthos:cors_origins") or "")
    email = node.try_get_context("synthos:alarm_email")
    values = dict(_STAGES[stage])
    return StageConfig(stage=stage,
                       cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
                       alarm_email=str(email) if email else None, **values)  # type: ignore[arg-type]
