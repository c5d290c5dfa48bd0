"""The one settings loader: pydantic-settings, one env prefix per service plus shared `LMW_` settings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """The process cannot start with the settings it was given."""


class LmwSettings(BaseSettings):
    """Settings every process shares (prefix `LMW_`)."""

    model_config = SettingsConfigDict(env_prefix="LMW_", extra="ignore")

    # "production" refuses to start without a signing secret; "dev" is for local runs and tests.
    env: Literal["dev", "production"] = "production"
    jwt_secret: SecretStr | None = None
    jwt_issuer: str = "learning-middleware"
    jwt_audience: str = "learning-middleware"
    access_token_ttl_s: int = Field(3600, ge=60, le=7 * 24 * 3600)
    service_token_ttl_s: int = Field(600, ge=60, le=24 * 3600)
    log_level: str = "INFO"
    # Default deadline for outgoing calls, seconds.
    call_timeout_s: float = Field(10.0, gt=0)
    # Upper bound of concurrent in-flight calls per outgoing channel.
    max_in_flight_per_channel: int = Field(200, ge=1)
    # Prometheus metrics at http://<host>:<metrics_port>/metrics, a port of its own per process (0: a free one,
    # for tests); LMW_METRICS_ENABLED=false serves none.
    metrics_enabled: bool = True
    metrics_port: int = Field(9464, ge=0, le=65535)

    def signing_secret(self) -> str:
        """The JWT secret; refuses to go on without one (a dev launcher must generate and pass it)."""
        if self.jwt_secret is None or not self.jwt_secret.get_secret_value():
            raise ConfigurationError("LMW_JWT_SECRET is not set: refusing to start without a signing secret")
        secret = self.jwt_secret.get_secret_value()
        if len(secret) < 32:
            raise ConfigurationError("LMW_JWT_SECRET must be at least 32 characters")
        return secret


class ServiceSettings(BaseSettings):
    """Base of each service's settings; subclasses set their own `env_prefix`."""

    model_config = SettingsConfigDict(extra="ignore")

    host: str = "127.0.0.1"
    # 0 picks a free port (tests).
    port: int = Field(0, ge=0, le=65535)
    # Seconds in-flight RPCs get to finish on SIGTERM.
    shutdown_grace_s: float = 10.0
    common: LmwSettings = Field(default_factory=LmwSettings)
