"""The warranty signing key (Ed25519): from Secrets Manager in the cloud
(``settings.signing_key_secret_id``: the PEM as SecretString, or PEM / raw 32-byte seed as
SecretBinary), from ``settings.signing_key_file`` locally. Read once and cached per source; the
key and its bytes are never logged or put into an error message.
"""

from __future__ import annotations

from functools import lru_cache

from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from synthos.aws.clients import client
from synthos.aws.settings import Settings
from synthos.errors import InvalidKey, SynthosError
from synthos.warranty import load_private_key, private_key_from_bytes


class SigningKeyUnavailable(SynthosError):
    """No signing key is configured, or it cannot be read (a server fault: HTTP 500)."""

    code = "signing_key_unavailable"


def _from_secret(settings: Settings, secret_id: str) -> Ed25519PrivateKey:
    try:
        out = client("secretsmanager", settings).get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        raise SigningKeyUnavailable(f"the signing key secret cannot be read ({code})") from exc
    raw = out.get("SecretBinary")
    data = raw if isinstance(raw, bytes) else str(out.get("SecretString", "")).encode("utf-8")
    return private_key_from_bytes(data.strip() if len(data) != 32 else data)


@lru_cache(maxsize=8)
def _load(settings: Settings) -> Ed25519PrivateKey:
    try:
        return _read(settings)
    except InvalidKey as exc:  # a deployment fault (500), not the caller's input (400)
        raise SigningKeyUnavailable("the configured signing key is not a usable Ed25519 "
                                    "private key") from exc


def _read(settings: Settings) -> Ed25519PrivateKey:
    if settings.signing_key_secret_id:
        return _from_secret(settings, settings.signing_key_secret_id)
    if settings.signing_key_file:
        try:
            return load_private_key(settings.signing_key_file)
        except OSError as exc:
            raise SigningKeyUnavailable("the local signing key file cannot be read") from exc
    raise SigningKeyUnavailable("no warranty signing key is configured "
                                "(SYNTHOS_SIGNING_KEY_SECRET_ID or SYNTHOS_SIGNING_KEY_FILE)")


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The private key that signs certificates (cached per settings)."""
    return _load(settings)


def public_key(settings: Settings) -> Ed25519PublicKey:
    """The public half, used by verification and the claim pre-check."""
    return _load(settings).public_key()


def reset_signing_key() -> None:
    """Forget the cached key (tests; a rotated secret)."""
    _load.cache_clear()
