"""Accounts of one role (learners in learner_svc, instructors in instructor_svc): sign-up, log-in, profile.

Each service keeps its own table and migrations; `AccountStore` is given the service's mapped row class
(columns id, email under a unique index, display_name, password_hash, created_at) and its domain type
(built from id, email, display_name, created_at).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from lmw_common import validation as v
from lmw_common.auth import Principal, TokenService
from lmw_common.db import Database
from lmw_common.errors import AlreadyExists, NotFound, PermissionDenied, Unauthenticated
from lmw_common.passwords import hash_password, verify_password


class Account(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


A = TypeVar("A", bound=Account)


class EmailTaken(Exception):
    pass


class AccountStore(Generic[A]):
    def __init__(self, db: Database, row: type, account: Callable[[str, str, str, datetime], A]) -> None:
        self._sessions = db.sessions
        self._read = db.read
        self._row = row
        self.account = account
        self._by_id = select(row).where(row.id == bindparam("key"))
        self._by_email = select(row).where(row.email == bindparam("key"))

    def _account(self, row: Any) -> A:
        return self.account(row.id, row.email, row.display_name, row.created_at)

    async def add(self, account: A, password_hash: str) -> None:
        """Raises EmailTaken when the address is in use (the unique index decides, also under a race)."""
        async with self._sessions.begin() as session:
            session.add(
                self._row(
                    id=account.id,
                    email=account.email,
                    display_name=account.display_name,
                    password_hash=password_hash,
                    created_at=account.created_at,
                )
            )
            try:
                await session.flush()
            except IntegrityError as exc:
                raise EmailTaken(account.email) from exc

    async def get(self, account_id: str) -> A | None:
        rows = await self._read(self._by_id, {"key": account_id})
        return self._account(rows[0]) if rows else None

    async def credentials(self, email: str) -> tuple[A, str] | None:
        """The account with this (normalized) address and its password hash."""
        rows = await self._read(self._by_email, {"key": email})
        return (self._account(rows[0]), rows[0].password_hash) if rows else None


class Accounts(Generic[A]):
    """The account use cases for `role`, whose tokens they issue."""

    def __init__(self, store: AccountStore[A], role: str, tokens: TokenService, token_ttl_s: int) -> None:
        self._store = store
        self._role = role
        self._tokens = tokens
        self._ttl_s = token_ttl_s

    async def sign_up(self, email: str, password: str, display_name: str) -> tuple[A, str, float]:
        email = v.email(email)
        v.password(password)
        name = v.text(display_name, "display_name", v.MAX_NAME)
        account = self._store.account(uuid.uuid4().hex, email, name, datetime.now(UTC))
        try:
            await self._store.add(account, await hash_password(password))
        except EmailTaken as exc:
            raise AlreadyExists("an account with this email already exists", "EMAIL_TAKEN") from exc
        return account, *self._tokens.issue(account.id, self._role, self._ttl_s)

    async def log_in(self, email: str, password: str) -> tuple[A, str, float]:
        # (no stored address holds a NUL, and PostgreSQL text cannot carry one: refuse before the lookup)
        if len(email) > v.MAX_EMAIL or "\x00" in email or len(password) > v.MAX_PASSWORD:
            raise Unauthenticated("invalid email or password", "BAD_CREDENTIALS")
        found = await self._store.credentials(v.normalize_email(email))
        # an unknown address is checked against a dummy hash: it takes as long as a known one
        ok = await verify_password(found[1] if found else None, password)
        if not found or not ok:
            raise Unauthenticated("invalid email or password", "BAD_CREDENTIALS")
        return found[0], *self._tokens.issue(found[0].id, self._role, self._ttl_s)

    async def me(self, caller: Principal) -> A:
        if caller.role != self._role:
            raise PermissionDenied(f"only {self._role}s can do this", "ROLE_NOT_ALLOWED")
        account = await self._store.get(caller.subject)
        if account is None:
            raise NotFound(f"{self._role} not found", f"{self._role.upper()}_NOT_FOUND")
        return account
