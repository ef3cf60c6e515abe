"""Read ahead: iterate a (slow, GIL-releasing) iterator in a background thread.

``prefetched(items, depth)`` yields exactly what ``items`` yields, in the same order, while a
daemon thread produces up to ``depth`` items ahead, so decoding the next record batch overlaps
with the caller's work on the current one. An exception in the producer is raised in the
caller at the point it occurred in the sequence; closing the generator early (or the caller
raising) stops the producer after the item it is reading and joins it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

from synthos.cpus import available_cpus

T = TypeVar("T")

_POLL_SECONDS = 0.05
HELPER_PREFIX = "synthos-io-"  # the names of helper threads (see spare_cores)
_DONE = object()


def spare_cores() -> bool:
    """More cores available to this process than threads running in it (not counting the
    helper threads, named with ``HELPER_PREFIX``)."""
    cores = available_cpus()
    working = [t for t in threading.enumerate() if not t.name.startswith(HELPER_PREFIX)]
    return cores > len(working)


def prefetched(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced ``depth`` (>= 1) items ahead in a background thread."""
    slots: queue.Queue[tuple[object, BaseException | None]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        while not stop.is_set():
            try:
                slots.put(entry, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
            put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            put((_DONE, exc))

    worker = threading.Thread(target=produce, name=HELPER_PREFIX + "prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item, error = slots.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()
