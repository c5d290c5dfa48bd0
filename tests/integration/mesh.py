"""The in-process mesh (devkit.inprocess) shared by every test module of a session that declares
`pytest_plugins = ("tests.integration.mesh",)`: the fixtures `lmw_mesh` (the four services, running) and
`lmw_course` (a published two-module course on it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from devkit.inprocess import (
    Mesh,
    PublishedCourse,
    drop_pg_urls,
    fresh_pg_urls,
    publish_course,
    running_mesh,
    sample_course,
)

# The orchestrator's breaker in the shared mesh trips after 2 failures and tries again after a second, so
# tests of sme_svc outages stay short.
BREAKER_FAIL_MAX = 2
BREAKER_RESET_S = 1.0


@pytest.fixture(scope="session")
async def lmw_mesh(postgres, mongo, tmp_path_factory, common_settings) -> AsyncIterator[Mesh]:
    """The four services, once per session (only for the modules that declare this plugin)."""
    urls = await asyncio.to_thread(fresh_pg_urls, postgres)
    try:
        async with running_mesh(
            urls,
            f"{mongo.uri.rstrip('/')}/mesh_{uuid.uuid4().hex[:8]}",
            tmp_path_factory.mktemp("mesh"),
            common_settings,
            orchestrator={
                "sme_breaker_fail_max": BREAKER_FAIL_MAX,
                "sme_breaker_reset_timeout_s": BREAKER_RESET_S,
                "sme_timeout_s": 60.0,
            },
        ) as mesh:
            yield mesh
    finally:
        await asyncio.to_thread(drop_pg_urls, postgres, urls)


@pytest.fixture(scope="session")
async def lmw_course(lmw_mesh) -> PublishedCourse:
    """The demo course's first two modules (Markdown and HTML), published: small enough for CPU."""
    return await publish_course(lmw_mesh, sample_course(max_modules=2), objectives_per_module=3)
