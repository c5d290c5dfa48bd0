"""Instructor accounts: sign-up, log-in, profile."""

from __future__ import annotations

import uuid

from instructor_svc.adapters.repository import CourseRepository, EmailTaken
from instructor_svc.app.access import instructor_only, now
from instructor_svc.domain import Instructor
from lmw_common import validation as v
from lmw_common.auth import Principal, TokenService
from lmw_common.errors import AlreadyExists, NotFound, Unauthenticated
from lmw_common.passwords import hash_password, verify_password

ROLE = "instructor"


class Accounts:
    def __init__(self, repo: CourseRepository, tokens: TokenService, token_ttl_s: int) -> None:
        self._repo = repo
        self._tokens = tokens
        self._ttl_s = token_ttl_s

    async def sign_up(self, email: str, password: str, display_name: str) -> tuple[Instructor, str, float]:
        email = v.email(email)
        v.password(password)
        name = v.text(display_name, "display_name", v.MAX_NAME)
        instructor = Instructor(uuid.uuid4().hex, email, name, now())
        try:
            await self._repo.add_instructor(instructor, await hash_password(password))
        except EmailTaken as exc:
            raise AlreadyExists("an account with this email already exists", "EMAIL_TAKEN") from exc
        token, expires_at = self._tokens.issue(instructor.id, ROLE, self._ttl_s)
        return instructor, token, expires_at

    async def log_in(self, email: str, password: str) -> tuple[Instructor, str, float]:
        # (no stored address holds a NUL, and PostgreSQL text cannot carry one: refuse before the lookup)
        if len(email) > v.MAX_EMAIL or "\x00" in email or len(password) > v.MAX_PASSWORD:
            raise Unauthenticated("invalid email or password", "BAD_CREDENTIALS")
        found = await self._repo.credentials(v.normalize_email(email))
        ok = await verify_password(found[1] if found else None, password)
        if not found or not ok:
            raise Unauthenticated("invalid email or password", "BAD_CREDENTIALS")
        token, expires_at = self._tokens.issue(found[0].id, ROLE, self._ttl_s)
        return found[0], token, expires_at

    async def me(self, caller: Principal) -> Instructor:
        instructor = await self._repo.get_instructor(instructor_only(caller))
        if instructor is None:
            raise NotFound("instructor not found", "INSTRUCTOR_NOT_FOUND")
        return instructor
