"""learners, enrollments, module progress, quiz attempts

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
        "learners",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("learner_id", sa.String(64), primary_key=True),
        sa.Column("course_id", sa.String(64), primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("enrolled_at", TZ, nullable=False),
        sa.Column("unenrolled_at", TZ, nullable=True),
    )
    op.create_index("ix_enrollments_course", "enrollments", ["course_id", "learner_id"])
    op.create_table(
        "module_progress",
        sa.Column("learner_id", sa.String(64), primary_key=True),
        sa.Column("course_id", sa.String(64), primary_key=True),
        sa.Column("module_id", sa.String(64), primary_key=True),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
    )
    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("learner_id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.String(64), nullable=False),
        sa.Column("module_id", sa.String(64), nullable=False),
        sa.Column("quiz_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("results", postgresql.JSONB, nullable=False),
        sa.Column("submitted_at", TZ, nullable=False),
    )
    op.create_index("ix_attempts_learner_course", "quiz_attempts", ["learner_id", "course_id", "submitted_at"])
    op.create_index("ix_attempts_course", "quiz_attempts", ["course_id", "submitted_at"])


def downgrade() -> None:
    op.drop_table("quiz_attempts")
    op.drop_table("module_progress")
    op.drop_table("enrollments")
    op.drop_table("learners")
