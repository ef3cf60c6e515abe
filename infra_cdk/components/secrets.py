"""Secrets Manager secrets generated at deploy time (never in code or in the template):

- the JWT signing secret of the API (random 64 characters);
- the Ed25519 warranty signing key: exactly 32 random alphanumeric characters (about 190 bits),
  which :func:`synthos.warranty.signing.private_key_from_bytes` takes as the raw 32-byte seed.
  An operator may replace it with a PEM from ``synthos generate-key`` (docs/deploy.md).
  The API and functions read only the secrets' ids (``SYNTHOS_*_SECRET_ID``).
"""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from infra_cdk.config import StageConfig

SEED_LENGTH = 32  # bytes of an Ed25519 seed


class Secrets(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig) -> None:
        super().__init__(scope, id)
        self.jwt = sm.Secret(
            self, "JwtSecret", secret_name=f"{config.prefix}/jwt-secret",
            description="HS256 secret of the Synthos API's access tokens (generated)",
            generate_secret_string=sm.SecretStringGenerator(
                password_length=64, exclude_punctuation=True),
            removal_policy=config.removal_policy)
        self.signing_key = sm.Secret(
            self, "SigningKey", secret_name=f"{config.prefix}/warranty-signing-key",
            description="Ed25519 private key (32-byte seed or PEM) of warranty certificates",
            generate_secret_string=sm.SecretStringGenerator(
                password_length=SEED_LENGTH, exclude_punctuation=True,
                include_space=False),
            removal_policy=config.removal_policy)
