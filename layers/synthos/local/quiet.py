"""Keeping the local stack's console readable: what ``make run`` prints is the journey.

:func:`quiet` turns down, until the returned step restores them: moto's per-request lines
(always: werkzeug); and, when ``services`` is set, the API's and handlers' JSON logs (to WARNING),
moto's interpreter chatter, and the EMF metric lines the API and handlers print to stdout.

Metrics are disabled through ``POWERTOOLS_METRICS_DISABLED``; the API and the handlers build
their ``Metrics`` with ``synthos.aws.telemetry.emf_metrics``, which clears the set on every
flush while disabled, so nothing piles up or leaks out after 100 requests.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

ALWAYS = ("werkzeug",)
SERVICES = ("synthos-api", "synthos-pipeline", "synthos.local.moto_glue")
MOTO = ("moto",)  # the interpreter logs every failed state; the job records hold the reasons
ENV = {"POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}


def _levels(names: tuple[str, ...], level: int) -> Callable[[], None]:
    saved = {name: logging.getLogger(name).level for name in names}
    for name in names:
        logging.getLogger(name).setLevel(level)

    def restore() -> None:
        for name, old in saved.items():
            logging.getLogger(name).setLevel(old)

    return restore


def set_env(values: dict[str, str]) -> Callable[[], None]:
    """Set ``values`` in ``os.environ``; returns the step that restores what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)

    def restore() -> None:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old

    return restore


def quiet(services: bool) -> Callable[[], None]:
    """Turn the noise down; returns the step that puts everything back."""
    steps = [_levels(ALWAYS, logging.WARNING)]
    if services:
        steps += [set_env(ENV), _levels(SERVICES, logging.WARNING), _levels(MOTO, logging.CRITICAL)]

    def restore() -> None:
        for step in reversed(steps):
            step()

    return restore
