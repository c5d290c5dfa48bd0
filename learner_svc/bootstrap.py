"""Composition root of learner_svc: wires settings, database, clients and the use cases, and serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from learner_svc.adapters.courses import InstructorCourseCatalog
from learner_svc.adapters.models import LearnerRow
from learner_svc.adapters.repository import LearnerRepository
from learner_svc.app import LearnerApp
from learner_svc.app.enrollments import Enrollments
from learner_svc.app.progress import Progress
from learner_svc.config import LearnerSettings
from learner_svc.domain import Learner
from learner_svc.servicer import service_spec
from lmw_common.accounts import Accounts, AccountStore
from lmw_common.db import Database, upgrade_async
from lmw_common.grpc_client import create_channel
from lmw_common.grpc_server import ServiceSpec
from lmw_common.runtime import Runtime

MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(settings: LearnerSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


@asynccontextmanager
async def compose(settings: LearnerSettings, runtime: Runtime) -> AsyncIterator[LearnerApp]:
    """The use cases over their database and clients, open until the block exits."""
    if settings.migrate_on_start:
        await migrate(settings)
    db = Database(settings.database_url)
    runtime.metrics.watch_pools(db.pools())
    channel = create_channel(
        settings.instructor_target,
        runtime.service_token,
        timeout_s=runtime.common.call_timeout_s,
        max_in_flight=runtime.common.max_in_flight_per_channel,
    )
    repo = LearnerRepository(db)
    try:
        yield LearnerApp(
            accounts=Accounts(
                AccountStore(db, LearnerRow, Learner),
                "learner",
                runtime.tokens,
                runtime.common.access_token_ttl_s,
            ),
            enrollments=Enrollments(repo, InstructorCourseCatalog(channel)),
            progress=Progress(repo),
        )
    finally:
        await channel.close()
        await db.dispose()


@asynccontextmanager
async def bootstrap(settings: LearnerSettings, runtime: Runtime) -> AsyncIterator[list[ServiceSpec]]:
    async with compose(settings, runtime) as app:
        yield [service_spec(app)]
