"""How many CPUs this process may use (its affinity set where the OS has one)."""

from __future__ import annotations

import os


def available_cpus() -> int:
    """The CPUs this process may run on: ``sched_getaffinity`` where there is one (Linux,
    where containers and Lambda narrow it), else ``os.cpu_count()``; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no affinity API (macOS, Windows)
        return os.cpu_count() or 1
