"""Wall time and peak RSS of one call, for the benchmark scripts.

    with measure() as m:            # in this process
        run()
    m.seconds, m.peak_rss_bytes, m.peak_delta_bytes

    m = measure_in_subprocess(fn, *args)   # in a fresh 'spawn' process: a clean peak

RSS is sampled by a background thread every ``interval_s`` (5 ms), so a spike shorter than
that can be missed; the value is the resident set of the process, not of its children.
``fn`` given to :func:`measure_in_subprocess` must be importable (a module-level function).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psutil

MIB = 1024 * 1024


@dataclass
class Measurement:
    """Wall seconds of a call and the process RSS around it (bytes)."""

    seconds: float = float("nan")
    baseline_rss_bytes: int = 0
    peak_rss_bytes: int = 0
    value: Any = field(default=None, repr=False)

    @property
    def peak_delta_bytes(self) -> int:
        return self.peak_rss_bytes - self.baseline_rss_bytes

    def summary(self) -> dict[str, float]:
        """JSON-ready numbers (MiB), without the call's return value."""
        return {
            "seconds": round(self.seconds, 3),
            "baseline_rss_mib": round(self.baseline_rss_bytes / MIB, 1),
            "peak_rss_mib": round(self.peak_rss_bytes / MIB, 1),
            "peak_delta_mib": round(self.peak_delta_bytes / MIB, 1),
        }


@contextmanager
def measure(interval_s: float = 0.005) -> Iterator[Measurement]:
    """Time the ``with`` body and sample this process's RSS while it runs."""
    proc = psutil.Process()
    m = Measurement(baseline_rss_bytes=proc.memory_info().rss)
    m.peak_rss_bytes = m.baseline_rss_bytes
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            m.peak_rss_bytes = max(m.peak_rss_bytes, proc.memory_info().rss)
            stop.wait(interval_s)

    sampler = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    sampler.start()
    start = time.perf_counter()
    try:
        yield m
    finally:
        m.seconds = time.perf_counter() - start
        stop.set()
        sampler.join()
        m.peak_rss_bytes = max(m.peak_rss_bytes, proc.memory_info().rss)


def measure_call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Measurement:
    """Run ``fn(*args, **kwargs)`` here under :func:`measure`; its result is ``.value``."""
    with measure() as m:
        m.value = fn(*args, **kwargs)
    return m


def _child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        conn.send(("ok", measure_call(fn, *args, **kwargs)))
    except BaseException as exc:  # report any failure to the parent, then die
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()


def measure_in_subprocess(
    fn: Callable[..., Any], *args: Any, timeout_s: float | None = None, **kwargs: Any
) -> Measurement:
    """Run ``fn`` in a fresh spawned process and return its :class:`Measurement`.

    The return value of ``fn`` must be picklable; it comes back as ``.value``.

    Raises:
        RuntimeError: the child failed, died or timed out.
    """
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), name="measure")
    proc.start()
    child.close()
    answered = False
    try:
        answered = parent.poll(timeout_s)  # also True at EOF, when the child died
        if not answered:
            raise RuntimeError(f"{getattr(fn, '__name__', fn)} timed out after {timeout_s} s")
        status, payload = parent.recv()
    except EOFError as exc:
        proc.join()
        raise RuntimeError(f"child died with exit code {proc.exitcode}") from exc
    finally:
        if not answered:
            proc.terminate()
        proc.join()
        parent.close()
    if status != "ok":
        raise RuntimeError(f"child failed: {payload}")
    return payload
