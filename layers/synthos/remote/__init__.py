"""Talking to a running Synthos API over HTTP: :class:`ApiClient` and ``synthos remote``."""

from synthos.remote.client import ApiClient, RemoteError

__all__ = ["ApiClient", "RemoteError"]
