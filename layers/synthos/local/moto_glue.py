"""The one module that bends moto into running the pipeline on one machine.

Against moto ``PINNED_MOTO`` (started with ``MOTO_CONFIG``), :func:`install` patches five
things and :func:`uninstall` puts them back:

1. Lambda (``awslambda_simple``, no Docker): ``Invoke`` dispatches in-process to the Python
   handler registered for the function name (``FUNCTIONS`` of ``infra_cdk.definition``), one
   invocation at a time (like one warm container; Batch jobs still run in parallel). A handler
   that raises answers like the Lambda runtime: ``X-Amz-Function-Error: Unhandled`` and
   ``{"errorType": <class name>, "errorMessage": ...}``, so Step Functions Retry/Catch match the
   library's named errors.
2. Batch (``batch_simple``, no Docker): a submitted job runs its command on the CPU, in the
   submitting thread: ``python -m <module> args...`` calls ``<module>.main(args)`` (the
   container environment, with ``AWS_BATCH_JOB_ARRAY_INDEX`` for array children, goes to the
   runner); exit code 0 (or None) marks the job SUCCEEDED, anything else (or an exception)
   FAILED with a reason; an array parent succeeds when all its children did.
3. Step Functions' Batch integration: moto's port of the LocalStack interpreter passes
   ``submitJob`` parameters to boto3 as written in ASL (``JobName``) and expects the answer in
   Step Functions casing (``JobId``) without converting either way, so every ``batch:submitJob``
   task fails with ``KeyError: 'JobName'``. The glue adds the conversion LocalStack does
   (botocore's input/output shapes: ``JobName`` -> ``jobName``, ``jobId`` -> ``JobId``), on the
   Batch service class only.
4. Distributed Map: moto counts failed iterations but never fails the Map (the LocalStack
   port predates tolerated-failure checks), so a failed shard would go unnoticed. The glue fails
   the Map run with ``States.ExceedToleratedFailureThreshold`` when failed items exceed
   ``ToleratedFailureCount``/``Percentage`` (both default 0, as in AWS).
5. EventBridge: a rule target that is a Step Functions state machine (moto only knows logs, SQS,
   buses and API destinations) starts an execution with the event as input, named
   deterministically from the S3 object (bucket/key/version) so a re-delivered event maps onto
   the same name. Other targets go to moto as before.

:func:`check_moto` (run by :func:`install`) fails loudly (:class:`GlueError`) when moto is not
the pinned version or an attribute the glue patches or relies on is missing.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
import threading
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import moto

from synthos.errors import SynthosError

log = logging.getLogger(__name__)

PINNED_MOTO = "5.2.5"
MOTO_CONFIG: dict[str, Any] = {"stepfunctions": {"execute_state_machine": True},
                               "lambda": {"use_docker": False},
                               "batch": {"use_docker": False}}

BatchRunner = Callable[[list[str], Mapping[str, str]], int | None]


class GlueError(SynthosError):
    """moto is not what the glue was written against, or the glue is misused."""

    code = "local_glue_error"


_SFN = "moto.stepfunctions.parser.asl.component."
_BATCH_SERVICE = _SFN + "state.exec.state_task.service.state_task_service_batch"
_DISTRIBUTED = _SFN + "state.exec.state_map.iteration.distributed_iteration_component"
_ABSENT = object()
_INHERITED = frozenset({"sfn.batch_request", "sfn.batch_response"})  # stubs on the base class


def _targets() -> dict[str, tuple[Any, str]]:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.batch_simple.models import BatchSimpleBackend
    from moto.events.models import Rule

    batch_task = importlib.import_module(_BATCH_SERVICE).StateTaskServiceBatch
    distributed = importlib.import_module(_DISTRIBUTED).DistributedIterationComponent
    return {"lambda.invoke": (LambdaSimpleBackend, "invoke"),
            "sfn.map_run": (distributed, "_map_run"),
            "batch.finish": (BatchSimpleBackend, "_mark_job_as_finished"),
            "sfn.batch_request": (batch_task, "_normalise_parameters"),
            "sfn.batch_response": (batch_task, "_normalise_response"),
            "events.send": (Rule, "send_to_targets")}


def check_moto() -> None:
    """Raise GlueError unless moto is the pinned version with every attribute the glue patches
    or relies on."""
    if moto.__version__ != PINNED_MOTO:
        raise GlueError(f"synthos.local.moto_glue is written against moto {PINNED_MOTO}; "
                        f"found {moto.__version__}: re-check the patches before changing the pin")
    for name, (owner, attr) in _targets().items():
        found = getattr(owner, attr, None) if name in _INHERITED else owner.__dict__.get(attr)
        if not callable(found):
            raise GlueError(f"moto {moto.__version__}: {owner.__name__}.{attr} ({name}) is gone")
    batch_task = _targets()["sfn.batch_request"][0]
    for attr in ("_to_boto_request", "_from_boto_response", "_get_boto_service_name",
                 "_get_boto_service_action"):
        if not callable(getattr(batch_task, attr, None)):
            raise GlueError(f"moto {moto.__version__}: StateTaskService.{attr} is gone")
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends  # noqa: F401


@lru_cache(maxsize=8)
def _operation(service: str, action: str) -> Any:
    """botocore's operation model for ``service`` and a snake_case ``action``."""
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    names = {xform_name(name): name for name in model.operation_names}
    return model.operation_model(names[action])


def _batch_request(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                   service_action_name: str | None = None) -> None:
    op = _operation(self._get_boto_service_name(boto_service_name),
                    self._get_boto_service_action(service_action_name))
    self._to_boto_request(parameters, op.input_shape)


def _batch_response(self: Any, response: Any, boto_service_name: str | None = None,
                    service_action_name: str | None = None) -> None:
    op = _operation(self._get_boto_service_name(boto_service_name),
                    self._get_boto_service_action(service_action_name))
    self._from_boto_response(response, op.output_shape)


@dataclass
class LambdaContext:
    """What a handler may read from the Lambda context object."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class Glue:
    """The installed patches and their registries (see :func:`install`)."""

    functions: dict[str, str]
    batch_runner: BatchRunner
    originals: dict[str, Any] = field(default_factory=dict)
    invocations: list[str] = field(default_factory=list)
    batch_commands: list[list[str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handler_for(self, function: str) -> Callable[[Any, Any], Any]:
        name = function_name_of(function)
        path = self.functions.get(name)
        if path is None:
            raise GlueError(f"no handler registered for Lambda function {name!r}")
        module, _, attr = path.rpartition(".")
        return getattr(importlib.import_module(module), attr)


_installed: Glue | None = None
_ONE_AT_A_TIME = threading.RLock()


def function_name_of(function: str) -> str:
    """``Name`` from a name, a partial or a full function ARN (qualifier dropped)."""
    if function.startswith("arn:"):
        parts = function.split(":")
        return parts[6]
    return function.split(":")[0]


def invoke_handler(glue: Glue, function: str, body: bytes | str | None,
                   response_headers: dict[str, str]) -> bytes:
    """Run the handler the way the Lambda runtime does; errors become an Unhandled payload."""
    raw = body.decode() if isinstance(body, bytes) else (body or "{}")
    name = function_name_of(function)
    with glue._lock:
        glue.invocations.append(name)
    try:
        handler = glue.handler_for(name)
        with _ONE_AT_A_TIME:  # one warm container: Powertools metrics are per process
            result = handler(json.loads(raw or "{}"), LambdaContext(function_name=name))
        return json.dumps(result, default=str).encode()
    except Exception as exc:  # the runtime's boundary: every error becomes a payload
        response_headers["x-amz-function-error"] = "Unhandled"
        payload = {"errorType": type(exc).__name__, "errorMessage": str(exc),
                   "stackTrace": traceback.format_exception(exc)[-5:]}
        log.info("lambda %s raised %s: %s", name, type(exc).__name__, exc)
        return json.dumps(payload).encode()


def python_module_runner(argv: list[str], environ: Mapping[str, str]) -> int | None:
    """Default Batch runner: ``python -m module args`` -> ``module.main(args)``. The container
    environment is not applied (the process is shared by threads): pass what the entrypoint
    needs as arguments, as ``SHARD_COMMAND`` does."""
    if len(argv) < 3 or argv[1] != "-m":
        raise GlueError(f"the local Batch runner only runs 'python -m module ...', got {argv}")
    module = importlib.import_module(argv[2])
    try:
        return module.main(list(argv[3:]))
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)


def job_command(job: Any) -> list[str]:
    """The container command of a moto Batch job with ``Ref::`` parameters substituted."""
    command = job.container_overrides.get("command") or \
        (job.job_definition.container_properties or {}).get("command") or []
    return list(job._add_parameters_to_command(list(command)))


def _run_batch_job(glue: Glue, job: Any) -> None:
    argv = job_command(job)
    with glue._lock:
        glue.batch_commands.append(argv)
    env = {e["name"]: e["value"] for e in job.container_overrides.get("environment", [])}
    if "index" in (job.array_properties or {}):
        env["AWS_BATCH_JOB_ARRAY_INDEX"] = str(job.array_properties["index"])
    try:
        code = glue.batch_runner(argv, env)
        ok, reason = (code in (0, None)), f"Essential container in task exited ({code})"
    except Exception as exc:  # the container boundary: a crash is a failed job, not a crash
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    job.job_started_at = datetime.now()
    job.log_stream_name = job._stream_name
    job._start_attempt()
    if not ok:
        job.job_stopped_reason = reason[:1000]
        log.info("batch job %s failed: %s", job.job_id, reason)
    job._mark_stopped(success=ok)


def execution_name_for_event(event: Mapping[str, Any]) -> str:
    """A deterministic execution name for an S3 Object Created event (bucket/key/version)."""
    detail = event.get("detail") or {}
    obj = detail.get("object") or {}
    ident = f"{(detail.get('bucket') or {}).get('name')}/{obj.get('key')}/{obj.get('version-id')}"
    if obj.get("key") is None:
        ident = str(event.get("id") or uuid.uuid4())
    return "s3-" + hashlib.sha256(ident.encode()).hexdigest()[:40]


def _start_from_rule(rule: Any, target: Mapping[str, Any], event: dict[str, Any]) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    if isinstance(event.get("time"), int | float):  # moto's S3 sends epoch seconds
        event = {**event, "time": datetime.fromtimestamp(event["time"], UTC)
                 .strftime("%Y-%m-%dT%H:%M:%SZ")}
    backend = stepfunctions_parser_backends[rule.account_id][rule.region_name]
    name = execution_name_for_event(event)
    try:
        backend.start_execution(target["Arn"], name=name, execution_input=json.dumps(event))
    except Exception as exc:  # EventBridge delivery is async: a refused start must not fail S3
        log.warning("rule %s could not start %s (%s): %s", rule.name, name,
                    type(exc).__name__, exc)


def _tolerance_exceeded(eval_input: Any) -> tuple[int, int] | None:
    """(failed, total) when a Map run's failed items exceed its tolerance, else None."""
    counter = eval_input.map_run_record.item_counter
    failed, total = counter.failed.get() + counter.timed_out.get(), counter.total.get()
    count = eval_input.tolerated_failure_count or 0
    percentage = eval_input.tolerated_failure_percentage or 0.0
    if failed > count and failed * 100.0 > percentage * max(total, 1):
        return failed, total
    return None


def _map_run_failure(env: Any, failed: int, total: int) -> Exception:
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails

    errors = _SFN + "common.error_name."
    failure_event = importlib.import_module(errors + "failure_event")
    states_error = importlib.import_module(errors + "states_error_name")
    error_type = importlib.import_module(errors + "states_error_name_type").StatesErrorNameType
    details = importlib.import_module(
        "moto.stepfunctions.parser.asl.eval.event.event_detail").EventDetails
    typ = error_type.StatesExceedToleratedFailureThreshold
    return failure_event.FailureEventException(failure_event.FailureEvent(
        env=env, error_name=states_error.StatesErrorName(typ=typ),
        event_type=HistoryEventType.MapRunFailed,
        event_details=details(mapRunFailedEventDetails=MapRunFailedEventDetails(
            error=typ.to_name(), cause=f"{failed} of {total} items failed"))))


def _glue() -> Glue:
    if _installed is None:
        raise GlueError("the moto glue is not installed")
    return _installed


def _invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
            response_headers: dict[str, str]) -> bytes:
    return invoke_handler(_glue(), function_name, body, response_headers)


def _finish(self: Any, include_start_attempt: bool, job: Any) -> None:
    self.backend._jobs[job.job_id] = job
    if not include_start_attempt:  # an array parent: its children have run
        children = [j for i, j in self.backend._jobs.items() if i.startswith(f"{job.job_id}:")]
        job._mark_stopped(success=all(c.status == "SUCCEEDED" for c in children))
        return
    _run_batch_job(_glue(), job)


def _send_to_targets(self: Any, event: dict[str, Any], transform_input: bool = True) -> None:
    states = [t for t in self.targets if ":states:" in t["Arn"]]
    if states and self.event_pattern.matches_event(event):
        for target in states:
            _start_from_rule(self, target, dict(event))
    if len(states) < len(self.targets):
        others = _RuleView(self, [t for t in self.targets if t not in states])
        _glue().originals["events.send"](others, event, transform_input)


def _map_run(self: Any, env: Any, eval_input: Any) -> None:
    _glue().originals["sfn.map_run"](self, env, eval_input)
    exceeded = _tolerance_exceeded(eval_input)
    if exceeded is not None:
        raise _map_run_failure(env, *exceeded)


_PATCHES: dict[str, Callable[..., Any]] = {
    "lambda.invoke": _invoke, "batch.finish": _finish, "sfn.map_run": _map_run,
    "sfn.batch_request": _batch_request, "sfn.batch_response": _batch_response,
    "events.send": _send_to_targets}


def install(functions: Mapping[str, str] | None = None,
            batch_runner: BatchRunner = python_module_runner) -> Glue:
    """Patch moto (call inside ``mock_aws(config=MOTO_CONFIG)``); returns the registry.

    ``functions``: Lambda function name -> handler path (default ``FUNCTIONS``)."""
    global _installed
    check_moto()
    if _installed is not None:
        raise GlueError("the moto glue is already installed; uninstall() first")
    if functions is None:
        from infra_cdk.definition import FUNCTIONS
        functions = FUNCTIONS
    glue = Glue(functions=dict(functions), batch_runner=batch_runner)
    for name, (owner, attr) in _targets().items():
        glue.originals[name] = owner.__dict__.get(attr, _ABSENT)
        setattr(owner, attr, _PATCHES[name])
    _installed = glue
    return glue


class _RuleView:
    """A rule seen with a subset of its targets (so moto's own delivery skips ours)."""

    def __init__(self, rule: Any, targets: list[Any]) -> None:
        self._rule = rule
        self.targets = targets

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rule, name)


def uninstall() -> None:
    """Restore every patched attribute (safe to call when nothing is installed)."""
    global _installed
    if _installed is None:
        return
    for name, (owner, attr) in _targets().items():
        original = _installed.originals[name]
        if original is _ABSENT:
            delattr(owner, attr)
        else:
            setattr(owner, attr, original)
    _installed = None
