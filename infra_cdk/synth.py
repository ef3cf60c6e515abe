"""Build the app and its stack in-process (``app.py``, tests and ``template.py`` share this)."""

from __future__ import annotations

from typing import Any

from aws_cdk import App

from infra_cdk.config import stage_config
from infra_cdk.packaging import asset_paths
from infra_cdk.stack import SynthosStack


def stack_name(stage: str) -> str:
    return f"Synthos-{stage}"


def build_stack(context: dict[str, Any] | None = None, *,
                outdir: str | None = None) -> tuple[App, SynthosStack]:
    """A new App (context from ``context`` or, under the CDK CLI, from the CLI) holding the
    stack of the stage named by context ``stage``. cdk-nag runs separately
    (:func:`infra_cdk.nag.unaccepted_findings`) so its granular IAM findings can be matched
    against justified patterns."""
    app = App(context=context, outdir=outdir) if context is not None else App(outdir=outdir)
    config = stage_config(app.node)
    stack = SynthosStack(app, stack_name(config.stage), config=config,
                         assets=asset_paths(app.node))
    return app, stack
