"""The test tiers, and real databases for the whole test session.

Every test gets the marker of its tier from its directory (TIERS), so none can be left out of a tier: a
test file elsewhere fails the collection. `make test-unit`, `make test-fast` (all but `slow`), ... select by
marker. Modules of long fault, fuzz and soak runs mark themselves `slow`.

Databases: embedded PostgreSQL and a MongoDB-wire server (SecantusDB), started once per session on first
use. Each test that asks for `pg_url` or `mongo_url` gets a fresh database, so tests never see each other's
rows.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Every process a test starts (in-process services and BFFs, subprocesses) serves /metrics on a free port:
# several share this process and machine, beside other test runs.
os.environ["LMW_METRICS_PORT"] = "0"
pytest.register_assert_rewrite("devkit")  # its helpers assert: show their values on failure

from devkit.databases import MongoWire, Postgres, scratch_dir  # noqa: E402
from lmw_common.auth import TokenService  # noqa: E402
from lmw_common.config import LmwSettings  # noqa: E402

JWT_SECRET = "test-secret-" + uuid.uuid4().hex + uuid.uuid4().hex
TESTS = Path(__file__).resolve().parent
TIERS = {"unit": "unit", "k8s": "unit", "integration": "integration", "e2e": "e2e"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = Path(item.path).resolve().relative_to(TESTS).parts[0]
        if folder not in TIERS:
            raise pytest.UsageError(
                f"{item.nodeid}: tests live in tests/<tier>/ ({', '.join(sorted(TIERS))}), so each has a tier"
            )
        item.add_marker(TIERS[folder])


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    with scratch_dir("lmw-test-pg-") as data_dir:
        server = Postgres(data_dir / "pg")
        yield server
        server.stop()


@pytest.fixture(scope="session")
def mongo() -> MongoWire:
    server = MongoWire(":memory:")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: Postgres) -> str:
    name = "t_" + uuid.uuid4().hex[:16]
    url = postgres.database_uri(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture
def mongo_url(mongo: MongoWire) -> str:
    """A URL naming a fresh database (services take the database from the URL path)."""
    return f"{mongo.uri.rstrip('/')}/t_{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def common_settings() -> LmwSettings:
    return LmwSettings(env="dev", jwt_secret=JWT_SECRET, log_level="WARNING")


@pytest.fixture(scope="session")
def tokens(common_settings: LmwSettings) -> TokenService:
    return TokenService(
        common_settings.signing_secret(), common_settings.jwt_issuer, common_settings.jwt_audience
    )


@pytest.fixture(scope="session")
def service_token(tokens: TokenService) -> str:
    return tokens.issue("test-service", "service", 3600)[0]
