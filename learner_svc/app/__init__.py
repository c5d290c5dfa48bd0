"""learner_svc's use cases, one module per concern. They see the caller's Principal, never a gRPC context,
and reach storage and instructor_svc only through the Protocols declared beside them."""

from __future__ import annotations

from dataclasses import dataclass

from learner_svc.app.enrollments import Enrollments
from learner_svc.app.progress import Progress
from learner_svc.domain import Learner
from lmw_common.accounts import Accounts


@dataclass(frozen=True)
class LearnerApp:
    accounts: Accounts[Learner]  # sign-up, log-in, profile (lmw_common.accounts)
    enrollments: Enrollments
    progress: Progress
