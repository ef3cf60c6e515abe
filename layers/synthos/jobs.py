"""The life of a validation job: its states and the moves allowed between them.

    queued -> inspecting -> validating -> reducing -> reporting -> completed
       \\__________\\______________\\____________\\___________\\--> failed | cancelled

Every running state after ``queued`` may be re-entered: ``validating`` for shard progress, and
each of them when the state machine retries a step (a transient error after the step's move
repeats the move). The stuck-job sweeper may move any running state back to ``queued`` once (a
retry). Terminal states never move again. Pure domain code: the
store turns these rules into DynamoDB condition expressions so that two racing writers cannot
both win.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    INSPECTING = "inspecting"
    VALIDATING = "validating"
    REDUCING = "reducing"
    REPORTING = "reporting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL: frozenset[JobStatus] = frozenset(
    {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
RUNNING: frozenset[JobStatus] = frozenset(set(JobStatus) - TERMINAL)

_FORWARD: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.INSPECTING}),
    JobStatus.INSPECTING: frozenset({JobStatus.INSPECTING, JobStatus.VALIDATING}),
    JobStatus.VALIDATING: frozenset({JobStatus.VALIDATING, JobStatus.REDUCING}),
    JobStatus.REDUCING: frozenset({JobStatus.REDUCING, JobStatus.REPORTING}),
    JobStatus.REPORTING: frozenset({JobStatus.REPORTING, JobStatus.COMPLETED}),
}


def allowed_sources(target: JobStatus) -> frozenset[JobStatus]:
    """The states a job may be in for a move to ``target`` to be legal."""
    if target in (JobStatus.FAILED, JobStatus.CANCELLED):
        return RUNNING
    if target == JobStatus.QUEUED:  # a sweeper retry
        return RUNNING - {JobStatus.QUEUED}
    return frozenset(src for src, dests in _FORWARD.items() if target in dests)


def can_move(source: JobStatus, target: JobStatus) -> bool:
    return source in allowed_sources(target)
