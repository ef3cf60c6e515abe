"""The infra assertions read the session's one synthesized template (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def synthesized(synthesized_stack: tuple[dict[str, Any], Any]) -> tuple[dict[str, Any], Any]:
    """The session's one synth (``tests/conftest.py``), shared with the pipeline suite."""
    return synthesized_stack


@pytest.fixture(scope="session")
def template(synthesized: tuple[dict[str, Any], Any]) -> Any:
    from aws_cdk.assertions import Template

    return Template.from_json(synthesized[0])


@pytest.fixture(scope="session")
def resources(synthesized: tuple[dict[str, Any], Any]) -> dict[str, Any]:
    return synthesized[0]["Resources"]


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: r for k, r in resources.items() if r["Type"] == kind}
