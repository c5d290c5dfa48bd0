"""instructor_svc use cases. They see the caller's Principal, never a gRPC context."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from instructor_svc.app.analytics import Analytics
from instructor_svc.app.courses import Courses
from instructor_svc.app.files import Files
from instructor_svc.app.jobs import Jobs
from instructor_svc.app.objectives import Objectives
from instructor_svc.domain import Instructor
from lmw_common.accounts import Accounts

log = logging.getLogger(__name__)


@dataclass
class InstructorApp:
    accounts: Accounts[Instructor]
    courses: Courses
    files: Files
    objectives: Objectives
    jobs: Jobs
    analytics: Analytics

    async def start(self, reconcile_interval_s: float) -> asyncio.Task:
        """Fail objective jobs a previous run left behind, then keep reconciling (and sweeping orphan blobs)
        in the background."""
        failed = await self.objectives.fail_stale_jobs()
        if failed:
            log.warning("marked %d interrupted objective job(s) as failed", failed)
        return asyncio.create_task(self._background(reconcile_interval_s), name="instructor-reconcile")

    async def _background(self, interval_s: float) -> None:
        # Orphan blobs are swept at once (what a crash before this start left behind) and then once per
        # grace period, so an orphan lives at most about two grace periods.
        next_sweep = time.monotonic()
        while True:
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.files.orphan_blob_grace_s
                await self._sweep_orphan_blobs()
            await asyncio.sleep(interval_s)
            try:
                await self.objectives.fail_stale_jobs()
                await self.files.reconcile_all()
            except Exception:  # the loop must survive a database hiccup
                log.exception("background reconcile pass failed")

    async def _sweep_orphan_blobs(self) -> None:
        try:
            await self.files.remove_orphan_blobs()
        except Exception:  # a database or file-system hiccup; the next sweep tries again
            log.exception("orphan blob sweep failed")

    async def stop(self, background: asyncio.Task) -> None:
        background.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await background
        await self.objectives.close()
