"""Typed settings, read once at the edge (a handler, the API, the Batch entrypoint, the CLI).

Every value comes from the environment (``SYNTHOS_*``), set by CDK in the cloud and by the local
stack on one machine. Secrets are never settings: only the *id* of a Secrets Manager secret (or,
locally, a local secret value that the local stack generates per run) is.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

TABLES = ("users", "api_keys", "tokens", "datasets", "jobs", "warranties", "claims",
          "rate_limits", "idempotency", "connections")


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "local"
    region: str = "us-east-1"
    endpoint_url: str | None = None          # the moto server locally; None in the cloud
    bucket: str = "synthos-local-data"
    table_prefix: str = "synthos-local"
    state_machine_arn: str | None = None
    event_bus: str = "default"
    jwt_secret_id: str | None = None         # Secrets Manager id (cloud)
    jwt_secret: str | None = Field(default=None, repr=False)  # local only, generated per run
    signing_key_secret_id: str | None = None  # Secrets Manager id of the Ed25519 PEM (cloud)
    signing_key_file: str | None = None      # local PEM file
    cors_origins: tuple[str, ...] = ()
    small_max_bytes: int = 256 * 1024 * 1024  # at or below: one Lambda; above: Batch shards
    shard_target_bytes: int = 512 * 1024 * 1024
    websocket_endpoint: str | None = None

    def table_name(self, table: str) -> str:
        if table not in TABLES:
            raise KeyError(table)
        return f"{self.table_prefix}-{table.replace('_', '-')}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            raw = env.get(f"SYNTHOS_{name.upper()}")
            if raw is None:
                continue
            if field.annotation in (int,):
                values[name] = int(raw)
            elif name == "cors_origins":
                values[name] = tuple(o.strip() for o in raw.split(",") if o.strip())
            else:
                values[name] = raw
        if "region" not in values and env.get("AWS_REGION"):
            values["region"] = env["AWS_REGION"]
        return cls.model_validate(values)

    def to_env(self) -> dict[str, str]:
        """The environment that reproduces these settings (for the local stack and CDK)."""
        out: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            out[f"SYNTHOS_{name.upper()}"] = (
                ",".join(value) if isinstance(value, tuple) else str(value))
        return out
