"""instructors, courses, modules, learning objectives

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
        "instructors",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("instructor_id", sa.String(64), sa.ForeignKey("instructors.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_at", TZ, nullable=True),
        sa.Column("materials_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_ingest_job_id", sa.String(128), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_courses_instructor", "courses", ["instructor_id", "created_at"])
    op.create_index("ix_courses_published", "courses", ["published", "published_at"])
    op.create_table(
        "modules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "course_id", sa.String(64), sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("pass_mark", sa.Float, nullable=False),
        sa.Column("objectives_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("objectives_approved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("objectives_stale", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_modules_course", "modules", ["course_id", "position"])
    op.create_table(
        "objectives",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "module_id", sa.String(64), sa.ForeignKey("modules.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("citations", postgresql.JSONB, nullable=False),
    )
    op.create_index("ix_objectives_module", "objectives", ["module_id", "position"])


def downgrade() -> None:
    op.drop_table("objectives")
    op.drop_table("modules")
    op.drop_table("courses")
    op.drop_table("instructors")
