"""Composition root of instructor_svc: wires settings, PostgreSQL, MongoDB, blobs, clients and the use cases,
and serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from pymongo import uri_parser

from instructor_svc.adapters.blobs import BlobStore
from instructor_svc.adapters.files import FileStore
from instructor_svc.adapters.jobs import JobStore
from instructor_svc.adapters.learner import LearnerClient
from instructor_svc.adapters.models import InstructorRow
from instructor_svc.adapters.repository import CourseRepository
from instructor_svc.adapters.sme import SmeClient
from instructor_svc.app import InstructorApp
from instructor_svc.app.access import CourseAccess
from instructor_svc.app.analytics import Analytics
from instructor_svc.app.courses import Courses
from instructor_svc.app.files import Files
from instructor_svc.app.jobs import Jobs
from instructor_svc.app.objectives import Objectives
from instructor_svc.config import InstructorSettings
from instructor_svc.domain import Instructor
from instructor_svc.servicer import service_spec
from lmw_common.accounts import Accounts, AccountStore
from lmw_common.breaker import GuardedDependency
from lmw_common.db import Database, upgrade_async
from lmw_common.grpc_client import create_channel
from lmw_common.grpc_server import ServiceSpec
from lmw_common.mongo import create_mongo_client
from lmw_common.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(settings: InstructorSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


@asynccontextmanager
async def compose(settings: InstructorSettings, runtime: Runtime) -> AsyncIterator[InstructorApp]:
    """The use cases over their stores and clients (and their background loop), open until the block exits."""
    if settings.migrate_on_start:
        await migrate(settings)
    database = Database(settings.database_url)
    runtime.metrics.watch_pools(database.pools())
    mongo = create_mongo_client(settings.mongo_url, "instructor_svc")
    db = mongo[uri_parser.parse_uri(settings.mongo_url)["database"] or "instructor"]
    files_store, jobs_store = FileStore(db), JobStore(db)
    channels = [
        create_channel(
            target,
            runtime.service_token,
            timeout_s=runtime.common.call_timeout_s,
            max_in_flight=runtime.common.max_in_flight_per_channel,
        )
        for target in (settings.sme_target, settings.learner_target)
    ]
    background = None
    app = None
    try:
        await files_store.ensure_indexes()
        await jobs_store.ensure_indexes()
        repo = CourseRepository(database)
        access = CourseAccess(repo)
        breaker = GuardedDependency(
            "sme_svc", fail_max=settings.sme_breaker_fail_max, reset_timeout_s=settings.sme_breaker_reset_s
        )
        runtime.metrics.watch_breakers([breaker])
        sme = SmeClient(
            channels[0],
            breaker,
            objective_timeout_s=settings.objective_call_timeout_s,
            watch_timeout_s=settings.watch_timeout_s,
        )
        learners = LearnerClient(channels[1])
        files = Files(
            access,
            repo,
            files_store,
            jobs_store,
            BlobStore(settings.blob_root),
            sme,
            learners,
            max_upload_bytes=settings.max_upload_bytes,
            reconcile_timeout_s=settings.reconcile_call_timeout_s,
            max_verifications=settings.max_concurrent_verifications,
            upload_idle_timeout_s=settings.upload_idle_timeout_s,
            orphan_blob_grace_s=settings.orphan_blob_grace_s,
        )
        objectives = Objectives(
            access,
            repo,
            files,
            jobs_store,
            sme,
            default_count=settings.default_objective_count,
            heartbeat_s=settings.job_heartbeat_s,
            stale_after_s=settings.job_stale_after_s,
        )
        app = InstructorApp(
            accounts=Accounts(
                AccountStore(database, InstructorRow, Instructor),
                "instructor",
                runtime.tokens,
                runtime.common.access_token_ttl_s,
            ),
            courses=Courses(access, repo, files),
            files=files,
            objectives=objectives,
            jobs=Jobs(
                access,
                jobs_store,
                files,
                sme,
                stale_after_s=settings.job_stale_after_s,
                poll_s=settings.watch_poll_s,
            ),
            analytics=Analytics(access, repo, learners),
        )
        background = await app.start(settings.reconcile_interval_s)
        yield app
    finally:
        if app is not None and background is not None:
            await app.stop(background)
        for channel in channels:
            await channel.close()
        await mongo.close()
        await database.dispose()


@asynccontextmanager
async def bootstrap(settings: InstructorSettings, runtime: Runtime) -> AsyncIterator[list[ServiceSpec]]:
    async with compose(settings, runtime) as app:
        yield [service_spec(app)]
