"""Starting and stopping the local stack: ports, environment, threads, and a second start."""

from __future__ import annotations

import os
import socket
import threading
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest


def _refused(url: str) -> bool:
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, int(port))) != 0


MANAGED = ("SYNTHOS_", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
           "AWS_SECURITY_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "MOTO_PORT", "POWERTOOLS_")


def _managed_env() -> dict[str, str]:
    """The variables the stack sets (imports it triggers may set others once, e.g. chalice's
    AWS_EXECUTION_ENV; those are not the stack's to undo)."""
    return {k: v for k, v in os.environ.items() if k.startswith(MANAGED)}


def test_stop_leaves_nothing_running_and_a_second_start_works(tmp_path: Path) -> None:
    # Setup
    from moto.core.config import default_user_config

    from synthos.local.stack import LocalStack, StackConfig, threads_left

    threads_before = set(threading.enumerate())
    env_before = _managed_env()
    moto_config_before = {k: dict(v) for k, v in default_user_config.items()}  # type: ignore[call-overload]
    config = StackConfig(api_port=0, moto_port=0, run_dir=tmp_path)

    for _ in range(2):
        # Run: start, answer, stop
        with LocalStack(config) as stack:
            assert os.environ["SYNTHOS_ENDPOINT_URL"] == stack.moto_endpoint
            assert os.environ["SYNTHOS_STATE_MACHINE_ARN"] == stack.settings.state_machine_arn
            health = urllib.request.urlopen(stack.api_url + "/health", timeout=10).read()
            assert b'"ok"' in health
            api_url, moto_url = stack.api_url, stack.moto_endpoint

        # Assert: both ports closed, no new thread alive, env and moto config as before
        assert _refused(api_url) and _refused(moto_url)
        assert threads_left(threads_before, grace_s=2.0) == []
        assert _managed_env() == env_before
        assert {k: dict(v) for k, v in default_user_config.items()} == moto_config_before  # type: ignore[call-overload]

    # the warranty key pair was made once and kept (private key readable by its owner only)
    assert (tmp_path / "keys" / "synthos-warranty.pub.pem").is_file()
    assert (tmp_path / "keys" / "synthos-warranty.key.pem").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("which", ["api_port", "moto_port"])
def test_a_busy_port_fails_the_start_with_a_clear_message_and_cleans_up(
        which: str, tmp_path: Path) -> None:
    # Setup: hold a port
    from synthos.local.stack import LocalStack, StackConfig

    env_before = _managed_env()
    variable = {"api_port": "SYNTHOS_PORT", "moto_port": "SYNTHOS_MOTO_PORT"}[which]
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        config = StackConfig(api_port=0, moto_port=0, run_dir=tmp_path)

        # Run / Assert
        with pytest.raises(Exception, match=f"cannot listen on 127.0.0.1:{port}.*{variable}"):
            LocalStack(replace(config, **{which: port})).start()

    assert _managed_env() == env_before
    assert not any(t.name == "synthos-local-api" for t in threading.enumerate())


def test_config_from_env_reads_ports_and_rejects_garbage() -> None:
    from synthos.local.stack import LocalStackError, StackConfig

    config = StackConfig.from_env({"SYNTHOS_PORT": "8123", "SYNTHOS_MOTO_PORT": "0"})
    assert (config.api_port, config.moto_port) == (8123, 0)
    assert StackConfig.from_env({}).api_port == 8000
    with pytest.raises(LocalStackError, match="SYNTHOS_PORT"):
        StackConfig.from_env({"SYNTHOS_PORT": "eighty"})
    with pytest.raises(LocalStackError, match="out of range"):
        StackConfig.from_env({"SYNTHOS_MOTO_PORT": "70000"})
