"""Tenant-facing lookups read an index with the tenant in the key condition instead of the
tenant's whole partition: the jobs on a dataset (``by_dataset`` + ``by_reference``, used before a
delete) and the active warranties of a validation (``by_validation``, checked before issuing).
Items of several tenants, jobs and states; the route behaviour stays as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pynamodb.models import Model

from synthos.api import datasets, warranties
from synthos.api.errors import Conflict
from synthos.api.principal import Principal
from synthos.aws.tables import DatasetModel, JobModel, WarrantyModel


@pytest.fixture
def no_scan(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The moto world; a table Scan, or a Query of a tenant's whole jobs or warranties
    partition, fails the test."""
    def scan(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a Scan: this path must query an index")

    def index_only(model: type[Model]) -> Any:
        table_query = model.query

        def query(cls: type[Model], *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("index_name") is None:
                raise AssertionError("a query of the whole tenant partition: use the index")
            return table_query(*args, **kwargs)
        return classmethod(query)

    monkeypatch.setattr(Model, "scan", classmethod(scan))
    for model in (JobModel, WarrantyModel):
        monkeypatch.setattr(model, "query", index_only(model))
    yield aws


def _job(tenant: str, job_id: str, dataset_id: str, reference_id: str | None = None,
         status: str = "completed") -> None:
    JobModel(tenant, job_id, dataset_id=dataset_id, reference_id=reference_id,
             status=status, stage=status).save()


def _dataset(tenant: str, dataset_id: str, role: str = "synthetic") -> None:
    DatasetModel(tenant, dataset_id, name=f"{dataset_id}.csv", role=role, format="csv",
                 size_bytes=1, s3_key=f"uploads/{tenant}/{dataset_id}/{dataset_id}.csv",
                 status="ready").save()


def _owner(tenant: str) -> Principal:
    return Principal(tenant_id=tenant, user_id=f"u-{tenant}", scopes=frozenset({"write"}),
                     kind="user", credential_id="jti")


def test_jobs_on_finds_the_tenants_jobs_by_dataset_and_by_reference(no_scan: Any) -> None:
    # GIVEN acme's jobs on ds1 (as dataset) and on ref1 (as reference, with ds1 or ds2), a job
    # on neither, and beta's jobs naming the same ids
    _job("acme", "j-ds1", "ds1", "ref1")
    _job("acme", "j-ds1-noref", "ds1")
    _job("acme", "j-ds2", "ds2", "ref1")
    _job("acme", "j-other", "ds3", "ref3")
    _job("beta", "j-beta", "ds1", "ref1")
    _job("beta", "j-beta-ref", "ds9", "ds1")
    # WHEN acme looks up the jobs on each dataset
    on = {d: sorted(j.job_id for j in datasets.jobs_on("acme", d))
          for d in ("ds1", "ref1", "ds2", "ds4")}
    # THEN exactly acme's jobs that read it, each once; never beta's
    assert on == {"ds1": ["j-ds1", "j-ds1-noref"], "ref1": ["j-ds1", "j-ds2"],
                  "ds2": ["j-ds2"], "ds4": []}
    assert sorted(j.job_id for j in datasets.jobs_on("beta", "ds1")) == ["j-beta",
                                                                          "j-beta-ref"]


def test_deleting_a_reference_is_refused_while_a_job_using_it_runs(no_scan: Any) -> None:
    # GIVEN acme's reference used by a running job, and beta's running job on a same-named one
    _dataset("acme", "ref1", role="reference")
    _dataset("beta", "ref2", role="reference")
    _job("acme", "j-running", "ds1", "ref1", status="validating")
    _job("beta", "j-beta", "ds1", "ref2", status="validating")
    # WHEN acme deletes its reference, then beta its own once its job is done
    with pytest.raises(Conflict) as refused:
        datasets.delete_dataset(no_scan, _owner("acme"), "ref1")
    JobModel("beta", "j-beta").update(actions=[JobModel.status.set("completed")])
    datasets.delete_dataset(no_scan, _owner("beta"), "ref2")
    # THEN acme's is refused naming its running job (and kept), beta's is deleted
    assert refused.value.details == {"running_validations": ["j-running"]}
    assert DatasetModel.get("acme", "ref1").status == "ready"
    assert DatasetModel.get("beta", "ref2").status == "deleted"


def test_active_of_finds_only_the_tenants_active_warranties_of_the_validation(
        no_scan: Any) -> None:
    # GIVEN warranties of acme (active and revoked on v1, active on v2) and beta's active one
    # on a validation with the same id
    expires = datetime.now(UTC) + timedelta(days=30)
    for tenant, wid, validation, status in (("acme", "w1", "v1", "active"),
                                            ("acme", "w2", "v1", "revoked"),
                                            ("acme", "w3", "v2", "active"),
                                            ("beta", "w4", "v1", "active")):
        WarrantyModel(tenant, wid, validation_id=validation, dataset_id="ds1", certificate={},
                      status=status, expires_at=expires).save()
    # WHEN each tenant asks for the active warranties of its validations
    # THEN only its own active ones on that validation
    assert warranties.active_of("acme", "v1") == ["w1"]
    assert warranties.active_of("acme", "v2") == ["w3"]
    assert warranties.active_of("beta", "v1") == ["w4"]
    assert warranties.active_of("beta", "v2") == []
