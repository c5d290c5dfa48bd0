from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from lmw_common.config import ServiceSettings


class InstructorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INSTRUCTOR_", extra="ignore")

    port: int = 50052
    database_url: str = "postgresql://postgres@127.0.0.1:5432/instructor"
    # The MongoDB database is the URL's path.
    mongo_url: str = "mongodb://127.0.0.1:27017/instructor"
    # One directory per course below this root; file names are server-chosen file ids.
    blob_root: str = ".lmw/blobs"
    # A blob without a file record (a crash between its commit and the record's insert) is deleted once it is
    # older than this; the background loop sweeps at start and then once per this period.
    orphan_blob_grace_s: float = Field(600.0, ge=60)
    sme_target: str = "127.0.0.1:50054"
    # Circuit breaker on sme_svc: opens after this many infrastructure failures in a row, tries again after.
    sme_breaker_fail_max: int = Field(5, ge=1)
    sme_breaker_reset_s: float = Field(15.0, gt=0)
    learner_target: str = "127.0.0.1:50051"
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1)
    # An upload fails (and its temp file goes) when no message arrives for this long: a stalled or abandoned
    # stream whose client neither ends nor cancels it.
    upload_idle_timeout_s: float = Field(60.0, gt=0)
    migrate_on_start: bool = True
    default_objective_count: int = Field(4, ge=1, le=20)
    # Background pass that (re)requests ingestion of pending files and refreshes file states from sme_svc.
    reconcile_interval_s: float = Field(30.0, gt=0)
    # Deadline of sme_svc calls made while reconciling (they must not hold up a GetIndexingStatus).
    reconcile_call_timeout_s: float = Field(3.0, gt=0)
    # Deadline of one sme_svc GenerateLearningObjectives call (generation can be slow on CPU).
    objective_call_timeout_s: float = Field(180.0, gt=0)
    # Deadline of a proxied sme_svc WatchJob stream.
    watch_timeout_s: float = Field(3600.0, gt=0)
    # Objective jobs refresh their heartbeat this often; one silent for `job_stale_after_s` is failed.
    job_heartbeat_s: float = Field(10.0, gt=0)
    job_stale_after_s: float = Field(60.0, gt=0)
    # How often WatchJob looks at a job of this service.
    watch_poll_s: float = Field(0.5, gt=0)
    # Uploads verified (read into memory and type-checked) at the same time.
    max_concurrent_verifications: int = Field(4, ge=1)
