"""The end-to-end suite: the whole local stack (moto server, glue, Chalice on localhost) started
in this test process, used over HTTP only, as a user would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh local stack on free ports for the module; stopped after, and then no thread it
    started (servers, request handlers, executions) may still be running."""
    import threading

    from synthos.local.stack import LocalStack, StackConfig, threads_left

    before = set(threading.enumerate())
    run_dir: Path = tmp_path_factory.mktemp("run")
    stack = LocalStack(StackConfig(api_port=0, moto_port=0, run_dir=run_dir))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
    assert threads_left(before) == []
