"""generation claims, module content, quizzes, quiz results, objective mastery

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "generation_claims",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("lease_expires_at", TZ, nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_reason", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text, nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "module_content",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=False),
        sa.Column("inputs_hash", sa.String(64), nullable=False),
        sa.Column("preferences", postgresql.JSONB, nullable=False),
        sa.Column("objectives_version", sa.Integer, nullable=False),
        sa.Column("materials_version", sa.Integer, nullable=False),
        sa.Column("recap_objective_ids", postgresql.JSONB, nullable=False),
        sa.Column("markdown", sa.Text, nullable=False),
        sa.Column("citations", postgresql.JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index(
        "ix_module_content_lookup",
        "module_content",
        ["learner_id", "module_id", "inputs_hash", "created_at"],
    )
    op.create_table(
        "quizzes",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=False),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("items", postgresql.JSONB, nullable=False),
        sa.Column("objective_texts", postgresql.JSONB, nullable=False),
        sa.Column("focus_objective_ids", postgresql.JSONB, nullable=False),
        sa.Column("pass_mark", sa.Float, nullable=False),
        sa.Column("objectives_version", sa.Integer, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("submitted_attempt_id", sa.String(64), nullable=True),
        sa.UniqueConstraint("learner_id", "module_id", "ordinal", name="uq_quizzes_draw"),
    )
    op.create_index("ix_quizzes_learner_course", "quizzes", ["learner_id", "course_id"])
    op.create_table(
        "quiz_results",
        sa.Column("attempt_id", sa.String(64), primary_key=True),
        sa.Column("quiz_id", sa.String(32), nullable=False, unique=True),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("pass_mark", sa.Float, nullable=False),
        sa.Column("questions", postgresql.JSONB, nullable=False),
        sa.Column("mastery", postgresql.JSONB, nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
        sa.Column("recorded", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_quiz_results_learner_course", "quiz_results", ["learner_id", "course_id", "submitted_at"]
    )
    op.create_table(
        "objective_mastery",
        sa.Column("learner_id", sa.String(64), primary_key=True),
        sa.Column("objective_id", sa.String(64), primary_key=True),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=False),
        sa.Column("p_mastery", sa.Float, nullable=False),
        sa.Column("answer_count", sa.Integer, nullable=False),
        sa.Column("correct_count", sa.Integer, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_mastery_learner_course", "objective_mastery", ["learner_id", "course_id"])


def downgrade() -> None:
    op.drop_table("objective_mastery")
    op.drop_table("quiz_results")
    op.drop_table("quizzes")
    op.drop_table("module_content")
    op.drop_table("generation_claims")
