"""Metrics comparing a synthetic dataset with real reference data, one module per metric.

Import from the modules (``synthos.metrics.prdc``, ``synthos.metrics.ks_complement``,
``synthos.metrics.tv_complement``); nothing is re-exported here, so a module is never shadowed
by the function of the same name.
"""
