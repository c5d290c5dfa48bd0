"""Composition root of orchestrator_svc: wires settings, databases, clients and the use cases, and serves them."""

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
from orchestrator_svc.app import OrchestratorApp
from orchestrator_svc.app.access import CourseAccess
from orchestrator_svc.app.analytics import Standing
from orchestrator_svc.app.content import ModuleContents
from orchestrator_svc.app.preferences import PreferenceSettings
from orchestrator_svc.app.progress import ModuleCompletion
from orchestrator_svc.app.quizzes import Quizzes
from orchestrator_svc.app.tutor import Tutor
from orchestrator_svc.bkt import BktParams
from orchestrator_svc.config import OrchestratorSettings
from orchestrator_svc.domain import MasteryRules
from orchestrator_svc.servicer import service_spec

MIGRATIONS = Path(__file__).parent / "migrations"


async def migrate(settings: OrchestratorSettings) -> None:
    await upgrade_async(settings.database_url, MIGRATIONS)


@asynccontextmanager
async def compose(settings: OrchestratorSettings, runtime: Runtime) -> AsyncIterator[OrchestratorApp]:
    """The use cases over their stores and clients, open until the block exits."""
    if settings.migrate_on_start:
        await migrate(settings)
    async with AsyncExitStack() as stack:
        postgres = Database(settings.database_url)
        runtime.metrics.watch_pools(postgres.pools())
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

        tutor_log = TutorStore(db)
        await tutor_log.ensure_indexes()
        breaker = GuardedDependency(
            "sme_svc",
            fail_max=settings.sme_breaker_fail_max,
            reset_timeout_s=settings.sme_breaker_reset_timeout_s,
        )
        sme = SmeClient(channel(settings.sme_target), breaker, settings.sme_timeout_s)
        repo, preferences = OrchestratorRepository(postgres), PreferenceStore(db)
        learners = LearnerClient(channel(settings.learner_target))
        instructors = InstructorClient(channel(settings.instructor_target), settings.course_cache_ttl_s)
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
        flight = SingleFlight(
            postgres.sessions,
            lease_s=settings.generation_lease_s,
            poll_s=settings.generation_poll_s,
            # A waiter gives up after a whole generation plus a lease (its holder died) have passed.
            wait_timeout_s=settings.sme_timeout_s + settings.generation_lease_s + 5,
            metrics=runtime.metrics,
        )
        stack.push_async_callback(flight.close)
        rules = MasteryRules(
            BktParams(settings.bkt_p_init, settings.bkt_p_learn, settings.bkt_p_slip, settings.bkt_p_guess),
            mastery_threshold=settings.mastery_threshold,
            weak_threshold=settings.weak_threshold,
            max_recap_objectives=settings.max_recap_objectives,
        )
        access = CourseAccess(learner_cache, instructors)
        contents = ModuleContents(
            access, learner_cache, learners, repo, sme, instructors, repo, flight, rules
        )
        quizzes = Quizzes(
            access,
            repo,
            sme,
            instructors,
            learners,
            learner_cache,
            flight,
            rules,
            default_pass_mark=settings.pass_mark,
            question_count=settings.quiz_question_count,
        )
        app = OrchestratorApp(
            preferences=PreferenceSettings(access, preferences, learner_cache),
            contents=contents,
            quizzes=quizzes,
            completion=ModuleCompletion(access, quizzes, contents, learners, learner_cache),
            tutor=Tutor(
                access,
                tutor_log,
                sme,
                repo,
                max_question_chars=settings.tutor_max_question_chars,
                history_messages=settings.tutor_history_messages,
            ),
            standing=Standing(access, instructors, instructors, learner_cache, repo, tutor_log, rules),
        )
        stack.push_async_callback(app.close)  # first out: before the flight, databases and channels close
        runtime.metrics.watch_breakers([breaker])
        runtime.metrics.watch_caches({**learner_cache.caches(), **instructors.caches(), **contents.caches()})
        yield app


@asynccontextmanager
async def bootstrap(settings: OrchestratorSettings, runtime: Runtime) -> AsyncIterator[list[ServiceSpec]]:
    async with compose(settings, runtime) as app:
        yield [service_spec(app)]
