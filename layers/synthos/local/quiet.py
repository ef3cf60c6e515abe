"""Keeping the local stack's console readable: what ``make run`` prints is the journey.

:func:`quiet` turns down, until the returned step restores them: moto's per-request lines
(always: werkzeug); and, when ``services`` is set, the API's and handlers' JSON logs (to WARNING),
moto's interpreter chatter, and the EMF metric lines the API and handlers print to stdout.

Powertools (3.37) leaves the metric set uncleared when ``POWERTOOLS_METRICS_DISABLED`` is on,
so after 100 requests it prints them anyway; while quiet, a flush with metrics disabled clears
the set instead.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from typing import Any, cast

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


def _silent_metrics() -> Callable[[], None]:
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider as Provider,
    )

    original = Provider.__dict__["flush_metrics"]

    def flush_metrics(self: Any, raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            self.clear_metrics()
            return
        original(self, raise_on_empty_metrics)

    Provider.flush_metrics = flush_metrics  # type: ignore[method-assign]
    saved_filters = list(warnings.filters)
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    def restore() -> None:
        Provider.flush_metrics = original  # type: ignore[method-assign]
        cast(list[Any], warnings.filters)[:] = saved_filters

    return restore


def quiet(services: bool) -> Callable[[], None]:
    """Turn the noise down; returns the step that puts everything back."""
    steps = [_levels(ALWAYS, logging.WARNING)]
    if services:
        steps += [set_env(ENV), _levels(SERVICES, logging.WARNING), _levels(MOTO, logging.CRITICAL),
                  _silent_metrics()]

    def restore() -> None:
        for step in reversed(steps):
            step()

    return restore
