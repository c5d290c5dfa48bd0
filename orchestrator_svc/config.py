from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from lmw_common.config import ServiceSettings


class OrchestratorSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ORCHESTRATOR_", extra="ignore")

    port: int = 50053
    # PostgreSQL: content cache, generation claims, quizzes, quiz results, mastery.
    database_url: str = "postgresql://postgres@127.0.0.1:5432/orchestrator"
    # MongoDB: preferences and tutor history (the database name is the URL path).
    mongo_url: str = "mongodb://127.0.0.1:27017/orchestrator"
    learner_target: str = "127.0.0.1:50051"
    instructor_target: str = "127.0.0.1:50052"
    sme_target: str = "127.0.0.1:50054"
    migrate_on_start: bool = True

    # Quizzes.
    pass_mark: float = Field(0.6, gt=0, le=1)  # used when a module has none
    quiz_question_count: int = Field(5, ge=1, le=50)

    # Bayesian Knowledge Tracing (per learner and objective).
    bkt_p_init: float = Field(0.2, gt=0, lt=1)
    bkt_p_learn: float = Field(0.15, ge=0, lt=1)
    bkt_p_slip: float = Field(0.1, ge=0, lt=0.5)
    bkt_p_guess: float = Field(0.25, ge=0, lt=0.5)
    # At or above: the objective counts as mastered.
    mastery_threshold: float = Field(0.95, gt=0, le=1)
    # Below (with at least one answer): weak, recapped at the start of the next module and shown as weak.
    weak_threshold: float = Field(0.5, gt=0, le=1)
    max_recap_objectives: int = Field(5, ge=0, le=50)

    # Single-flight generation: a claim's lease, renewed by its holder's heartbeat while it generates.
    generation_lease_s: float = Field(60.0, gt=0)
    # How often waiters look at a claim held by someone else.
    generation_poll_s: float = Field(0.15, gt=0)
    # Deadline of calls to sme_svc that generate (content and answer streams, quizzes).
    sme_timeout_s: float = Field(120.0, gt=0)
    # Circuit breaker in front of sme_svc.
    sme_breaker_fail_max: int = Field(5, ge=1)
    sme_breaker_reset_timeout_s: float = Field(15.0, gt=0)

    # Tutor.
    tutor_max_question_chars: int = Field(2000, ge=1, le=20_000)
    # Messages (learner and tutor turns) of recent history sent with a question.
    tutor_history_messages: int = Field(6, ge=0, le=50)

    dashboard_recent_results: int = Field(10, ge=1, le=100)
    # How long a course's structure (modules, versions) and the objectives shown on dashboards, read from
    # instructor_svc, are reused: an instructor's change reaches learners within this many seconds (content
    # and quiz generation always read the objectives afresh). 0 asks instructor_svc on every request.
    course_cache_ttl_s: float = Field(5.0, ge=0, le=300)
    # How long a learner's progress, preferences, recent results and mastery in a course are reused. Changes
    # made through orchestrator_svc drop them at once on every replica (PostgreSQL NOTIFY); an enrollment
    # change made in learner_svc is seen within this many seconds. 0 reads them on every request.
    learner_cache_ttl_s: float = Field(5.0, ge=0, le=300)

    @model_validator(mode="after")
    def _check(self) -> OrchestratorSettings:
        if self.bkt_p_slip + self.bkt_p_guess >= 1:
            raise ValueError("bkt_p_slip + bkt_p_guess must be below 1")
        return self
