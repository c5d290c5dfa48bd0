"""Composition root of orchestrator_svc: wires settings, databases, clients and the servicer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from lmw_common.breaker import GuardedDependency
from lmw_common.change_feed import ChangeFeed
from lmw_common.db import Database, upgrade_async
from lmw_common.grpc_client import create_channel
from lmw_common.grpc_server import ServiceSpec
from lmw_common.mongo import create_mongo_client
from lmw_common.runtime import Runtime
from orchestrator_svc.adapters.clients import InstructorClient, LearnerClient, SmeClient
from orchestrator_svc.adapters.learner_cache import LearnerCache
from orchestrator_svc.adapters.mongo_stores import PreferenceStore, TutorStore, database
from orchestrator_svc.adapters.repository import OrchestratorRepository
from orchestrator_svc.adapters.single_flight import SingleFlight
from orchestrator_svc.config import OrchestratorSettings
from orchestrator_svc.handlers import OrchestratorHandlers
from orchestrator_svc.servicer import service_spec

MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(settings: OrchestratorSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


@asynccontextmanager
async def bootstrap(settings: OrchestratorSettings, runtime: Runtime) -> AsyncIterator[list[ServiceSpec]]:
    if settings.migrate_on_start:
        await migrate(settings)
    async with AsyncExitStack() as stack:
        postgres = Database(settings.database_url)
        stack.push_async_callback(postgres.dispose)
        mongo = create_mongo_client(settings.mongo_url, "orchestrator_svc")
        stack.push_async_callback(mongo.close)
        db = database(mongo, settings.mongo_url)

        def channel(target: str):
            ch = create_channel(
                target,
                runtime.service_token,
                timeout_s=runtime.common.call_timeout_s,
                max_in_flight=runtime.common.max_in_flight_per_channel,
            )
            stack.push_async_callback(ch.close)
            return ch

        tutor = TutorStore(db)
        await tutor.ensure_indexes()
        sme = SmeClient(
            channel(settings.sme_target),
            GuardedDependency(
                "sme_svc",
                fail_max=settings.sme_breaker_fail_max,
                reset_timeout_s=settings.sme_breaker_reset_timeout_s,
            ),
            settings.sme_timeout_s,
        )
        repo, preferences, learners = (
            OrchestratorRepository(postgres),
            PreferenceStore(db),
            LearnerClient(channel(settings.learner_target)),
        )
        feed = ChangeFeed(postgres, settings.database_url, "orchestrator_learner_state")
        learner_cache = LearnerCache(
            learners,
            preferences,
            repo,
            ttl_s=settings.learner_cache_ttl_s,
            recent_results=settings.dashboard_recent_results,
            feed=feed,
        )
        feed.start(learner_cache.heard, learner_cache.clear)
        stack.push_async_callback(feed.close)
        handlers = OrchestratorHandlers(
            settings,
            repo,
            preferences,
            tutor,
            learners,
            InstructorClient(channel(settings.instructor_target), settings.course_cache_ttl_s),
            sme,
            SingleFlight(
                postgres.sessions,
                lease_s=settings.generation_lease_s,
                poll_s=settings.generation_poll_s,
                # A waiter gives up after a whole generation plus a lease (its holder died) have passed.
                wait_timeout_s=settings.sme_timeout_s + settings.generation_lease_s + 5,
            ),
            learner_cache,
        )
        stack.push_async_callback(handlers.close)  # first out: before the databases and channels close
        yield [service_spec(handlers)]
