"""The whole local stack in one process: moto for AWS, the pipeline glue, the Chalice API.

    with LocalStack(StackConfig.from_env()) as stack:
        stack.api_url        # http://127.0.0.1:8000/v1
        stack.settings       # Settings pointing at the moto endpoint (also exported as SYNTHOS_*)

Starting it:

1. points the process at fake AWS credentials (nothing can reach a real account) and sets moto's
   config: Step Functions executions are interpreted, Lambda and Batch never use docker;
2. starts a ``ThreadedMotoServer`` on ``127.0.0.1`` (a free port unless configured) standing in
   for S3, DynamoDB, EventBridge, Step Functions and Batch;
3. generates a per-run JWT secret (in memory only) and keeps a local Ed25519 warranty key pair
   under ``.run/keys/`` (made on first start, reused after, so certificates stay verifiable);
4. installs the glue (:mod:`synthos.local.moto_glue`: Lambda tasks run in-process, Batch jobs on
   the CPU worker, EventBridge rules start Step Functions) and creates the tables, the versioned
   EventBridge-enabled bucket, the Batch queue, the state machine rendered from the one
   definition in ``infra_cdk/definition.py`` and its trigger rule
   (:mod:`synthos.local.pipeline_stack`);
5. exports the settings as ``SYNTHOS_*`` and serves the Chalice app (``app.py``) on
   ``127.0.0.1:$SYNTHOS_PORT`` (8000) in a thread.

:meth:`LocalStack.stop` undoes all of it in reverse order: servers shut down and their threads
joined, glue removed, moto's state and config reset, the environment restored. Nothing is left
running.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from synthos.aws.settings import Settings
from synthos.errors import SynthosError


def _project_dir() -> Path:
    """The checkout holding ``app.py``, ``functions/`` and ``infra_cdk/``: where this file sits
    in an editable install (layers/synthos/local/stack.py), else ``SYNTHOS_PROJECT_DIR`` or the
    working directory."""
    here = Path(__file__).resolve().parents[3]
    if (here / "app.py").is_file():
        return here
    return Path(os.environ.get("SYNTHOS_PROJECT_DIR") or Path.cwd()).resolve()


PROJECT_DIR = _project_dir()
DEFAULT_API_PORT = 8000
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on one machine
}
DRAIN_SECONDS = 60.0


class LocalStackError(SynthosError):
    """The local stack cannot start (a port in use, a missing piece of the project)."""

    code = "local_stack_error"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise LocalStackError(f"{name} is not a port number: {raw!r}") from None
    if not 0 <= value <= 65535:
        raise LocalStackError(f"{name} is out of range: {value}")
    return value


@dataclass(frozen=True)
class StackConfig:
    """Where the stack listens and keeps its files. Port 0 means any free port."""

    api_port: int = DEFAULT_API_PORT
    moto_port: int = 0
    host: str = "127.0.0.1"
    run_dir: Path = field(default_factory=lambda: PROJECT_DIR / ".run")
    project_dir: Path = PROJECT_DIR
    stage: str = "local"
    bucket: str = "synthos-local-data"
    table_prefix: str = "synthos-local"
    quiet: bool = True  # the services' JSON logs at WARNING, no EMF metrics on stdout
    request_log: bool = False  # one line per API request on stderr

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """``SYNTHOS_PORT`` (API, default 8000), ``SYNTHOS_MOTO_PORT`` (default: a free one),
        ``SYNTHOS_RUN_DIR`` (default ``.run`` in the project)."""
        env = os.environ if environ is None else environ
        run_dir = env.get("SYNTHOS_RUN_DIR")
        return cls(api_port=_port(env, "SYNTHOS_PORT", DEFAULT_API_PORT),
                   moto_port=_port(env, "SYNTHOS_MOTO_PORT", 0),
                   run_dir=Path(run_dir) if run_dir else PROJECT_DIR / ".run")


class _Undo:
    """A stack of clean-up steps, run last-in first-out; every step runs even if one fails."""

    def __init__(self) -> None:
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, name: str, step: Callable[[], object]) -> None:
        self._steps.append((name, step))

    def run(self) -> list[str]:
        failures: list[str] = []
        while self._steps:
            name, step = self._steps.pop()
            try:
                step()
            except Exception as exc:  # keep undoing; report what could not be undone
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
        return failures


class LocalStack:
    """The local stack; use as a context manager or call :meth:`start` / :meth:`stop`."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self._undo = _Undo()
        self._settings: Settings | None = None
        self.moto_endpoint = ""
        self.api_base = ""
        self.started = False

    # --- what a caller reads --------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise LocalStackError("the local stack is not started")
        return self._settings

    @property
    def api_url(self) -> str:
        """The API root, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.api_base}/v1"

    @property
    def moto_port(self) -> int:
        return int(self.moto_endpoint.rsplit(":", 1)[1])

    @property
    def api_port(self) -> int:
        return int(self.api_base.rsplit(":", 1)[1])

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> LocalStack:
        if self.started:
            raise LocalStackError("the local stack is already started")
        try:
            self._start()
        except BaseException:
            self._undo.run()
            raise
        self.started = True
        return self

    def _start(self) -> None:
        from synthos.local import resources, servers
        from synthos.local.moto_glue import MOTO_CONFIG
        from synthos.local.quiet import quiet

        self._push_env(LOCAL_ENV)
        self._undo.push("log levels", quiet(services=self.config.quiet))
        self._undo.push("moto config", servers.configure_moto(MOTO_CONFIG))
        moto = servers.start_moto(self.config.host, self.config.moto_port)
        self._undo.push("moto server", moto.stop)
        self.moto_endpoint = moto.endpoint
        # moto's Step Functions interpreter calls Lambda and Batch through boto3 at
        # localhost:$MOTO_PORT when no in-process mock is active (server mode)
        self._push_env({"MOTO_PORT": str(self.moto_port)})
        settings = self._base_settings()
        self._settings = settings
        self._undo.push("aws clients", resources.forget_clients)
        self._undo.push("pipeline glue", resources.install_glue(self.config.project_dir))
        settings = resources.create_pipeline(settings)
        self._settings = settings
        self._push_env(settings.to_env())
        self._undo.push("running executions", lambda: resources.drain(settings, DRAIN_SECONDS))
        api = servers.start_api(self.config.project_dir, self.config.host, self.config.api_port,
                                quiet=not self.config.request_log)
        self._undo.push("api server", api.stop)
        self.api_base = api.base_url

    def stop(self) -> None:
        """Stop everything; raises :class:`LocalStackError` naming any step that failed."""
        failures = self._undo.run()
        self.started = False
        self._settings = None
        if failures:
            raise LocalStackError("the local stack did not stop cleanly: " + "; ".join(failures))

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # --- pieces -------------------------------------------------------------------------------
    def _push_env(self, values: dict[str, str]) -> None:
        from synthos.local.quiet import set_env

        self._undo.push("environment", set_env(values))

    def _base_settings(self) -> Settings:
        from synthos.warranty import generate_keypair

        keys = self.config.run_dir / "keys"
        private = keys / "synthos-warranty.key.pem"
        if not (private.is_file() and self.public_key_file.is_file()):
            keys.mkdir(parents=True, exist_ok=True)
            private.unlink(missing_ok=True)  # half a pair: make a new pair
            self.public_key_file.unlink(missing_ok=True)
            private, _public = generate_keypair(keys)
        return Settings(stage=self.config.stage, region=LOCAL_ENV["AWS_REGION"],
                        endpoint_url=self.moto_endpoint, bucket=self.config.bucket,
                        table_prefix=self.config.table_prefix,
                        jwt_secret=secrets.token_urlsafe(48),
                        signing_key_file=str(private))

    @property
    def public_key_file(self) -> Path:
        """The published warranty public key of this run (for offline verification)."""
        return self.config.run_dir / "keys" / "synthos-warranty.pub.pem"


def live_threads() -> list[threading.Thread]:
    """Threads other than the caller's (for checks that nothing was left running)."""
    me = threading.current_thread()
    return [t for t in threading.enumerate() if t is not me and t.is_alive()]


def threads_left(before: set[threading.Thread], grace_s: float = 5.0) -> list[str]:
    """Names of threads started since ``before`` that are still alive after ``grace_s`` (an
    execution's interpreter thread may still be returning when its status is already final)."""
    deadline = time.monotonic() + grace_s
    while True:
        left = [t for t in live_threads() if t not in before]
        if not left or time.monotonic() > deadline:
            return [t.name for t in left]
        left[0].join(0.1)
