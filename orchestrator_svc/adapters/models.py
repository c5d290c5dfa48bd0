"""SQLAlchemy tables owned by orchestrator_svc."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JsonB = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class GenerationClaimRow(Base):
    """Single-flight claims: one row per unit of generation; the holder with a live lease produces it."""

    __tablename__ = "generation_claims"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # running | done | failed
    attempt: Mapped[int] = mapped_column(Integer)
    lease_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ModuleContentRow(Base):
    """Personalized content; every version is kept, the current one is the latest for the current inputs."""

    __tablename__ = "module_content"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    preferences: Mapped[dict] = mapped_column(JsonB)
    objectives_version: Mapped[int] = mapped_column(Integer)
    materials_version: Mapped[int] = mapped_column(Integer)
    recap_objective_ids: Mapped[list] = mapped_column(JsonB)
    markdown: Mapped[str] = mapped_column(Text)
    citations: Mapped[list] = mapped_column(JsonB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_module_content_lookup", "learner_id", "module_id", "inputs_hash", "created_at"),
    )


class QuizRow(Base):
    """A quiz drawn for one learner, answers included; they never leave the server before submission."""

    __tablename__ = "quizzes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner_id: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(64))
    ordinal: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    items: Mapped[list] = mapped_column(JsonB)
    objective_texts: Mapped[dict] = mapped_column(JsonB)
    focus_objective_ids: Mapped[list] = mapped_column(JsonB)
    pass_mark: Mapped[float] = mapped_column(Float)
    objectives_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_attempt_id: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint("learner_id", "module_id", "ordinal", name="uq_quizzes_draw"),
        Index("ix_quizzes_learner_course", "learner_id", "course_id"),
    )


class QuizResultRow(Base):
    """Graded attempts, keyed by the client's attempt id (idempotency); one attempt per quiz."""

    __tablename__ = "quiz_results"

    attempt_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(String(32), unique=True)
    learner_id: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    pass_mark: Mapped[float] = mapped_column(Float)
    questions: Mapped[list] = mapped_column(JsonB)
    mastery: Mapped[list] = mapped_column(JsonB)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Acknowledged by learner_svc (RecordQuizAttempt); retried on a resubmission until it is.
    recorded: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_quiz_results_learner_course", "learner_id", "course_id", "submitted_at"),)


class MasteryRow(Base):
    """BKT state per (learner, objective)."""

    __tablename__ = "objective_mastery"

    learner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    objective_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    module_id: Mapped[str] = mapped_column(String(64))
    p_mastery: Mapped[float] = mapped_column(Float)
    answer_count: Mapped[int] = mapped_column(Integer)
    correct_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_mastery_learner_course", "learner_id", "course_id"),)
