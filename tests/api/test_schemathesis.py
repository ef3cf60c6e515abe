"""Property-based run of the whole API: schemathesis reads ``/v1/openapi.json`` from the app
served by Chalice's local dev server (inside moto) and sends generated requests, valid and
invalid, to every operation; none may answer 5xx.

The budget is bounded (about ``TOTAL_EXAMPLES`` requests in all, split over the operations) so
the run stays well under a minute; ``SYNTHOS_FUZZ_EXAMPLES`` raises it for a deeper local run.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

TOTAL_EXAMPLES = int(os.environ.get("SYNTHOS_FUZZ_EXAMPLES", "360"))
PASSWORD = "correct horse battery staple"


def _post(base: str, path: str, body: dict[str, Any], headers: dict[str, str] | None = None
          ) -> dict[str, Any]:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.loads(response.read()))


def _serve(world: Any) -> Any:
    """Create the tables and bucket of ``world`` (moto) and serve the app in a thread."""
    import app as app_module
    import boto3
    from chalice.config import Config
    from chalice.local import LocalDevServer

    from synthos.aws.tables import create_tables

    create_tables(world)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=world.bucket)
    server = LocalDevServer(app_module.app, Config.create(), "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on 127.0.0.1:<free port>, backed by a module-wide moto world (with a warranty
    signing key, as every deployment has: the public-key route answers it)."""
    from argon2 import PasswordHasher
    from moto import mock_aws

    from synthos.api import context, passwords, ratelimit
    from synthos.aws.clients import reset_clients
    from synthos.aws.secrets import reset_secret_cache
    from synthos.aws.settings import Settings
    from synthos.aws.signing_key import reset_signing_key
    from synthos.warranty import generate_keypair

    private_key, _ = generate_keypair(tmp_path_factory.mktemp("fuzz-keys"))
    reset_signing_key()
    world = Settings(stage="fuzz", table_prefix="synthos-fuzz", bucket="synthos-fuzz-data",
                     jwt_secret="fuzz-secret-" + "z" * 32, signing_key_file=str(private_key))
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_REGION": "us-east-1", **world.to_env()}
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for name, value in env.items():
            patch.setenv(name, value)
        # the fuzzer is one principal sending hundreds of requests: lift the buckets
        patch.setattr(ratelimit, "PRINCIPAL", ratelimit.Bucket(1e6, 1e3))
        patch.setattr(ratelimit, "ANONYMOUS", ratelimit.Bucket(1e6, 1e3))
        patch.setattr(passwords, "hasher", PasswordHasher(time_cost=1, memory_cost=1024,
                                                          parallelism=1))
        reset_clients()
        reset_secret_cache()
        context.reset_settings()
        server = _serve(world)
        try:
            yield f"http://127.0.0.1:{server.server.server_address[1]}"
        finally:
            server.shutdown()
            context.reset_settings()
            reset_clients()


@pytest.fixture(scope="module")
def credentials(served: str) -> dict[str, str]:
    """An admin API key of a registered tenant, sent with every generated request."""
    tokens = _post(served, "/v1/auth/register",
                   {"email": "fuzz@example.com", "password": PASSWORD})
    key = _post(served, "/v1/api-keys", {"name": "fuzz", "scopes": ["admin"]},
                headers={"Authorization": f"Bearer {tokens['access_token']}"})
    return {"X-API-Key": key["key"]}


def test_no_operation_answers_5xx(served: str, credentials: dict[str, str]) -> None:
    # GIVEN the schema the running app serves
    schema = schemathesis.openapi.from_url(f"{served}/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    per_mode = max(3, TOTAL_EXAMPLES // (2 * len(operations)))
    failures: list[str] = []
    seen: dict[int, int] = {}
    # WHEN each operation gets valid and invalid generated requests
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @settings(max_examples=per_mode, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def probe(case: Any) -> None:
                if case.headers:  # generated credentials would shadow the real API key
                    case.headers.pop("Authorization", None)
                response = case.call(headers=credentials, timeout=10)
                seen[response.status_code] = seen.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> "
                                    f"{response.status_code}: {response.text[:200]}")

            try:
                probe()
            except Unsatisfiable:
                # nothing in this operation can be made invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
    # THEN nothing answered 5xx, and the run did exercise success and error paths
    assert failures == []
    assert any(200 <= code < 300 for code in seen) and any(400 <= code < 500 for code in seen)
