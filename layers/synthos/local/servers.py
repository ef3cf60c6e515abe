"""The two servers of the local stack, each in a thread of this process: moto (the AWS stand-in)
and the Chalice app (the REST API). Both bind ``127.0.0.1`` only; port 0 means a free port.
Each ``stop`` shuts its server down, closes the socket and joins the thread."""

from __future__ import annotations

import copy
import importlib.util
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from synthos.errors import SynthosError

JOIN_SECONDS = 10.0
APP_MODULE = "app"  # the name tests import app.py under


class ServerError(SynthosError):
    """A server of the local stack cannot start (port in use, app.py missing or broken)."""

    code = "local_server_error"


def configure_moto(config: dict[str, Any]) -> Callable[[], None]:
    """Apply ``config`` to moto's process-wide config; returns the step that restores it."""
    from moto.core.config import default_user_config

    saved = {name: copy.deepcopy(default_user_config.get(name)) for name in config}
    for name, value in config.items():
        default_user_config[name] = copy.deepcopy(value)  # type: ignore[literal-required]

    def restore() -> None:
        for name, old in saved.items():
            if old is None:
                default_user_config.pop(name, None)  # type: ignore[misc]
            else:
                default_user_config[name] = old  # type: ignore[literal-required]

    return restore


@dataclass
class MotoServer:
    server: Any  # moto.server.ThreadedMotoServer
    endpoint: str

    def stop(self) -> None:
        """Stop serving, close the socket, and forget every moto resource of this run."""
        from moto.moto_api import _internal as moto_api

        self.server.stop()  # shutdown + join
        inner = getattr(self.server, "_server", None)  # moto keeps its socket open after stop
        if inner is not None:
            inner.server_close()
        moto_api.moto_api_backend.reset()


def _check_bindable(host: str, port: int) -> None:
    """Raise OSError if ``host:port`` cannot be bound (moto binds inside its thread, where a
    failure would leave ``ThreadedMotoServer.start`` waiting forever)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        probe.bind((host, port))


def start_moto(host: str, port: int) -> MotoServer:
    from moto.server import ThreadedMotoServer

    try:
        _check_bindable(host, port)
    except OSError as exc:
        raise ServerError(f"the moto server cannot listen on {host}:{port}: {exc.strerror} "
                          "(set SYNTHOS_MOTO_PORT to another port, or 0 for any)") from exc
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return MotoServer(server, f"http://{bound_host}:{bound_port}")


def load_app_module(project_dir: Path) -> ModuleType:
    """The project's ``app.py`` as the module ``app``: the one already imported (tests import it)
    or imported now. One module, so the route blueprints are bound to one Chalice app."""
    path = (project_dir / "app.py").resolve()
    loaded = sys.modules.get(APP_MODULE)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() == path:
        return loaded
    if not path.is_file():
        raise ServerError(f"no Chalice app at {path}")
    spec = importlib.util.spec_from_file_location(APP_MODULE, path)
    if spec is None or spec.loader is None:
        raise ServerError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[APP_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(APP_MODULE, None)
        raise
    return module


def _quiet_handler() -> type:
    from chalice.local import ChaliceRequestHandler

    class QuietHandler(ChaliceRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    return QuietHandler


def _local_server(app: Any, config: Any, host: str, port: int, quiet: bool) -> Any:
    """``chalice.local.create_local_server``, safe to call again for the same app (the app's
    class becomes a LocalChalice once: thread-local current_request), optionally without the
    per-request log line."""
    from chalice.local import (
        ChaliceRequestHandler,
        CustomLocalChalice,
        LocalChalice,
        LocalDevServer,
    )

    if not isinstance(app, LocalChalice):
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice
    handler = _quiet_handler() if quiet else ChaliceRequestHandler
    return LocalDevServer(app, config, host, port, handler_cls=handler)


@dataclass
class ApiServer:
    server: Any  # chalice.local.LocalDevServer
    thread: threading.Thread
    base_url: str

    def stop(self) -> None:
        self.server.shutdown()  # from this thread: serve_forever returns
        self.server.server.server_close()
        self.thread.join(JOIN_SECONDS)
        if self.thread.is_alive():
            raise ServerError("the API server thread did not stop")


def start_api(project_dir: Path, host: str, port: int, *, quiet: bool = True) -> ApiServer:
    """Serve the Chalice app on ``host:port`` in a thread (the settings are already exported
    as ``SYNTHOS_*`` in the environment, where the app reads them)."""
    from chalice.config import Config

    app = load_app_module(project_dir).app
    config = Config.create(app_name=getattr(app, "app_name", "synthos"), chalice_stage="local",
                           lambda_timeout=900)
    try:
        server = _local_server(app, config, host, port, quiet)
    except OSError as exc:
        raise ServerError(f"the API cannot listen on {host}:{port}: {exc.strerror} "
                          "(set SYNTHOS_PORT to another port)") from exc
    bound_port = server.server.server_address[1]
    thread = threading.Thread(target=server.server.serve_forever, name="synthos-local-api",
                              daemon=True)
    thread.start()
    return ApiServer(server, thread, f"http://{host}:{bound_port}")
