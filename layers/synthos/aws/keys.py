"""The S3 key layout. Every key starts with a prefix and the tenant id, so IAM conditions and
presigned URLs can be scoped per tenant and nothing crosses tenants by accident.

    uploads/{tenant}/{dataset_id}/{filename}           datasets uploaded through the API
    dropbox/{tenant}/{filename}                        the drop folder (a dataset per file)
    dropbox/{tenant}/reference/{filename}              the drop folder's reference
    dropbox/{tenant}/results/{stem}.json | .pdf        results of dropped files
    results/{tenant}/{job_id}/result.json | report.pdf results of validations
    shards/{tenant}/{job_id}/manifest.json             shard plan of a large validation
    shards/{tenant}/{job_id}/state-{index:05d}.bin     partial state of one shard
    shards/{tenant}/{job_id}/range-{p:04d}-of-{P:04d}.bin  result of one hash range of the
                                                       reduce (``batch_worker.range_result_key``:
                                                       next to the manifest)
    warranties/{tenant}/{warranty_id}.json | .pdf      certificates
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def safe_filename(name: str) -> str:
    """A file name reduced to a safe S3 key segment (no slashes, no dot-dot)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE.sub("_", base).strip("._") or "data"
    return cleaned[:200]


def _check(*ids: str) -> None:
    for value in ids:
        if not _ID.match(value):
            raise ValueError(f"not a valid id for an S3 key: {value!r}")


def upload_key(tenant: str, dataset_id: str, filename: str) -> str:
    _check(tenant, dataset_id)
    return f"uploads/{tenant}/{dataset_id}/{safe_filename(filename)}"


def upload_prefix(tenant: str, dataset_id: str) -> str:
    """Every object of a dataset uploaded through the API."""
    _check(tenant, dataset_id)
    return f"uploads/{tenant}/{dataset_id}/"


def job_prefixes(tenant: str, job_id: str) -> tuple[str, str]:
    """Every object a validation wrote: its results and its shard states."""
    _check(tenant, job_id)
    return f"results/{tenant}/{job_id}/", f"shards/{tenant}/{job_id}/"


def result_key(tenant: str, job_id: str) -> str:
    _check(tenant, job_id)
    return f"results/{tenant}/{job_id}/result.json"


def report_key(tenant: str, job_id: str) -> str:
    _check(tenant, job_id)
    return f"results/{tenant}/{job_id}/report.pdf"


def manifest_key(tenant: str, job_id: str) -> str:
    _check(tenant, job_id)
    return f"shards/{tenant}/{job_id}/manifest.json"


def shard_state_key(tenant: str, job_id: str, index: int) -> str:
    _check(tenant, job_id)
    return f"shards/{tenant}/{job_id}/state-{index:05d}.bin"


def warranty_key(tenant: str, warranty_id: str, ext: str = "json") -> str:
    _check(tenant, warranty_id)
    return f"warranties/{tenant}/{warranty_id}.{ext}"


def dropbox_results_prefix(tenant: str) -> str:
    _check(tenant)
    return f"dropbox/{tenant}/results/"


@dataclass(frozen=True)
class ObjectKey:
    """What an incoming object key means: which tenant, and whether it came through the API
    (``uploads``) or the drop folder (``dropbox``, with ``is_reference`` for its reference)."""

    area: str
    tenant: str
    dataset_id: str | None
    filename: str
    is_reference: bool = False


def parse_object_key(key: str) -> ObjectKey | None:
    """Classify an S3 key that raised an Object Created event; None for keys that start nothing
    (results, shard states, warranties, anything malformed)."""
    parts = key.split("/")
    if len(parts) == 4 and parts[0] == "uploads" and _ID.match(parts[1]) and _ID.match(parts[2]):
        return ObjectKey("uploads", parts[1], parts[2], parts[3])
    if parts[0] == "dropbox" and len(parts) >= 3 and _ID.match(parts[1]):
        if len(parts) == 3 and parts[2]:
            return ObjectKey("dropbox", parts[1], None, parts[2])
        if len(parts) == 4 and parts[2] == "reference" and parts[3]:
            return ObjectKey("dropbox", parts[1], None, parts[3], is_reference=True)
    return None
