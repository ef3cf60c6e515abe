"""Fail: the job ends ``failed`` with a reason its owner can read; its partial outputs (result,
report, shard states) are deleted; the upload is never touched.

The reason comes from the Step Functions error caught in ``$.error`` (``Error``, ``Cause``):
a Synthos error carries its own one-line message; a failed Batch shard says which shard and
why; anything else is an internal error, named without internals.
"""

from __future__ import annotations

import json
from typing import Any

from synthos.aws import job_store
from synthos.aws.keys import manifest_key, result_key
from synthos.aws.settings import Settings
from synthos.aws.uploads import delete_prefix
from synthos.errors import SynthosError
from synthos.jobs import JobStatus
from synthos.pipeline import errors as pipeline_errors
from synthos.pipeline.progress import emit, job_summary, move

# modules whose SynthosError subclasses may name a caught error (imported for registration)
_ERROR_MODULES = (pipeline_errors, job_store)

FAILED = "Synthos Job Failed"
INTERNAL = "the validation stopped on an internal error ({name}); the upload is kept, try again"


def _named_errors() -> set[str]:
    """Class names of every SynthosError subclass loaded (Step Functions error names)."""
    seen: set[str] = set()
    todo: list[type] = [SynthosError]
    while todo:
        cls = todo.pop()
        seen.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return seen


def _field(detail: dict[str, Any], name: str) -> Any:
    """A Batch job field in Step Functions casing (``JobId``) or boto3's (``jobId``)."""
    return detail.get(name, detail.get(name[0].lower() + name[1:]))


def reason_for(error: dict[str, Any] | None) -> str:
    """A one-line, user-readable reason for a caught Step Functions error."""
    if not error:
        return "the validation stopped without an error description"
    name, cause = str(error.get("Error", "")), str(error.get("Cause", ""))
    try:
        detail = json.loads(cause) if cause.startswith("{") else {}
    except json.JSONDecodeError:
        detail = {}
    if name in _named_errors() and detail.get("errorMessage"):
        return str(detail["errorMessage"])[:500]
    if name == "States.TaskFailed" and _field(detail, "JobId"):
        index = (_field(detail, "Parameters") or {}).get("index", "?")
        why = _field(detail, "StatusReason") or "the container failed"
        return f"shard {index} failed after a retry: {why}"[:500]
    if name == "States.ExceedToleratedFailureThreshold" or "Map" in name:
        return "one or more shards failed after a retry; the upload is kept, try again"
    return INTERNAL.format(name=name or "unknown")


def fail_job(settings: Settings, state: dict[str, Any]) -> dict[str, Any]:
    """Mark the job failed (if there is one still running) and remove its partial outputs.

    ``state["reason"]``, when given (the sweeper), is used instead of one derived from
    ``state["error"]``."""
    tenant, job_id = state.get("tenant_id"), state.get("job_id")
    reason = str(state.get("reason") or reason_for(state.get("error")))[:500]
    if not (tenant and job_id):
        return {"failed": False, "reason": reason}
    try:
        job = move(settings, tenant, job_id, JobStatus.FAILED, reason=reason)
    except job_store.StaleJobTransition:  # cancelled (or finished) meanwhile
        if job_store.get_job(tenant, job_id).status != JobStatus.COMPLETED.value:
            _delete_outputs(settings, tenant, job_id)
        return {"tenant_id": tenant, "job_id": job_id, "failed": False, "reason": reason}
    _delete_outputs(settings, tenant, job_id)
    emit(settings, FAILED, job_summary(job))
    return {"tenant_id": tenant, "job_id": job_id, "failed": True, "reason": reason}


def _delete_outputs(settings: Settings, tenant: str, job_id: str) -> None:
    """The job's result, report and shard states: never left behind by an unfinished job."""
    delete_prefix(settings, result_key(tenant, job_id).rsplit("/", 1)[0] + "/")
    delete_prefix(settings, manifest_key(tenant, job_id).rsplit("/", 1)[0] + "/")
