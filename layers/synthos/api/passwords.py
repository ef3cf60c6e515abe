"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

hasher = PasswordHasher()
_dummy: str | None = None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(stored_hash: str, password: str) -> bool:
    """Whether ``password`` matches; False (never an exception) for a wrong or corrupt hash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def verify_absent(password: str) -> bool:
    """Spend the time of one verification for an unknown email (no timing oracle); False."""
    global _dummy
    if _dummy is None:
        _dummy = hasher.hash("synthos-absent-user")
    verify(_dummy, password)
    return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return False
