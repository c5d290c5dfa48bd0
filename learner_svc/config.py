from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from lmw_common.config import ServiceSettings


class LearnerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LEARNER_", extra="ignore")

    port: int = 50051
    database_url: str = "postgresql://postgres@127.0.0.1:5432/learner"
    instructor_target: str = "127.0.0.1:50052"
    migrate_on_start: bool = True
