from lmw_common.migrations_env import run
from orchestrator_svc.adapters.models import Base

run(Base.metadata, version_table="alembic_version_orchestrator")
