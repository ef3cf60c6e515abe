"""Powertools metrics that honour ``POWERTOOLS_METRICS_DISABLED`` fully.

Powertools 3.37 skips printing in ``flush_metrics`` when metrics are disabled but never clears
the set: values pile up in memory and, once one metric holds 100 values, ``add_metric`` prints
the EMF blob anyway. :func:`emf_metrics` builds a ``Metrics`` whose provider clears on every
flush when metrics are disabled (and prints exactly as Powertools does otherwise). The API
(``synthos.api.context``) and every pipeline handler (``synthos.pipeline.runtime``) use it.
"""

from __future__ import annotations

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)


class ClearingEMFProvider(AmazonCloudWatchEMFProvider):
    """The EMF provider, except that a flush with metrics disabled clears instead of keeping."""

    def flush_metrics(self, raise_on_empty_metrics: bool = False) -> None:
        if is_metrics_disabled():
            self.clear_metrics()
            return
        super().flush_metrics(raise_on_empty_metrics=raise_on_empty_metrics)


def emf_metrics(namespace: str, service: str) -> Metrics:
    """A ``Metrics`` sharing Powertools' process-wide metric set, with the clearing provider."""
    metrics = Metrics(namespace=namespace, service=service)
    metrics.provider = ClearingEMFProvider(
        namespace=namespace, service=service, metric_set=metrics.metric_set,
        dimension_set=metrics.dimension_set, metadata_set=metrics.metadata_set,
        default_dimensions=metrics.default_dimensions)
    return metrics
