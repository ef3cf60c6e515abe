"""Metrics comparing a synthetic dataset with real reference data, one module per metric."""

from synthos.metrics.prdc import knn_spread_ratio, nn_distance_ratio, prdc

__all__ = ["knn_spread_ratio", "nn_distance_ratio", "prdc"]
