"""The AWS side of the local stack, in the moto server: the glue, the resources (through
``synthos.local.pipeline_stack.deploy``, the same code the pipeline tests use), and draining
running executions at stop."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from synthos.aws.clients import client, reset_clients
from synthos.aws.settings import Settings


def forget_clients() -> None:
    """Drop every cached client, setting, secret and key bound to an earlier endpoint."""
    from synthos.aws.secrets import reset_secret_cache
    from synthos.aws.signing_key import reset_signing_key

    reset_clients()
    reset_secret_cache()
    reset_signing_key()
    try:
        from synthos.api.context import reset_settings
    except ImportError:  # the API extra is not installed: nothing cached there
        return
    reset_settings()


# --- the pipeline --------------------------------------------------------------------------
RETRY_INTERVAL_S = 1  # the first retry delay of the local state machine (doubling)


def _ensure_importable(project_dir: Path) -> Callable[[], None]:
    """``functions`` and ``infra_cdk`` live at the project root, not in the installed library."""
    root = str(project_dir)
    if root in sys.path:
        return lambda: None
    sys.path.insert(0, root)
    return lambda: sys.path.remove(root) if root in sys.path else None


def install_glue(project_dir: Path) -> Callable[[], None]:
    """Install the moto glue (Lambda in-process, Batch on the CPU worker, EventBridge to Step
    Functions); returns the step that removes it."""
    from synthos.local import moto_glue

    forget_path = _ensure_importable(project_dir)
    try:
        moto_glue.install()
    except BaseException:
        forget_path()
        raise

    def uninstall() -> None:
        moto_glue.uninstall()
        forget_path()

    return uninstall


def create_pipeline(settings: Settings) -> Settings:
    """Tables, the versioned EventBridge-enabled bucket, the Batch queue, the state machine
    rendered from the one definition and its trigger rule (``synthos.local.pipeline_stack``,
    shared with the pipeline tests). Returns the settings with ``state_machine_arn`` set."""
    from synthos.local.pipeline_stack import deploy

    forget_clients()
    return deploy(settings, retry_interval_s=RETRY_INTERVAL_S).settings


def drain(settings: Settings, timeout_s: float) -> None:
    """Wait for running executions of the state machine to end (so no interpreter thread
    outlives the stack); stop whatever still runs after ``timeout_s``."""
    if not settings.state_machine_arn:
        return
    sfn = client("stepfunctions", settings)
    deadline = time.monotonic() + timeout_s
    while True:
        running = sfn.list_executions(stateMachineArn=settings.state_machine_arn,
                                      statusFilter="RUNNING")["executions"]
        if not running:
            return
        if time.monotonic() > deadline:
            for execution in running:
                sfn.stop_execution(executionArn=execution["executionArn"],
                                   cause="the local stack is stopping")
            return
        time.sleep(0.2)
