"""The API's blueprints, registered by ``app.py`` under ``/v1``.

Every module of this package that defines a Chalice ``Blueprint`` named ``bp`` is part of the
API: :data:`BLUEPRINTS` collects them (sorted by module name), so adding a route module needs no
edit here or in ``app.py``.
"""

from __future__ import annotations

import importlib
import pkgutil

from chalice import Blueprint


def _discover() -> list[Blueprint]:
    found: list[Blueprint] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            found.append(bp)
    return found


BLUEPRINTS: list[Blueprint] = _discover()
