"""The security headers every API answer carries: set by the app's middleware (``app.py``) on
what the Chalice app answers, and by the REST API's gateway responses
(``infra_cdk/components/api.py``) on what API Gateway answers itself. One place, so the two
cannot drift apart. Plain data: importing this module loads nothing else."""

from __future__ import annotations

SECURITY_HEADERS: dict[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}
