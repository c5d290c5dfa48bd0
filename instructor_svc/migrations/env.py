from instructor_svc.adapters.models import Base
from lmw_common.migrations_env import run

run(Base.metadata, version_table="alembic_version_instructor")
