"""JWT issue/verify (PyJWT, HS256), the caller's principal in a contextvar, per-RPC access levels, and the
access checks every service's use cases make.

Two layers: the server interceptor enforces each RPC's declared `Access` level; the use cases then check who
may reach what with the functions below, before anything is looked up (so a refused caller learns nothing).
"""

from __future__ import annotations

import contextvars
import enum
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from lmw_common import validation as v
from lmw_common.errors import PermissionDenied, Unauthenticated

ROLES = ("learner", "instructor", "service")
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: str
    token: str = ""
    expires_at: float = 0.0

    @property
    def is_service(self) -> bool:
        return self.role == "service"


current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "current_principal", default=None
)


class Access(enum.Enum):
    """Who may call an RPC. Finer checks (own data only) happen in the use cases."""

    PUBLIC = "public"  # anonymous allowed; a token, if sent, must still be valid
    AUTHENTICATED = "authenticated"  # any valid token
    LEARNER = "learner"  # role learner (services too, acting for one)
    INSTRUCTOR = "instructor"  # role instructor (services too)
    INTERNAL = "internal"  # role service only


def permits(access: Access, principal: Principal | None) -> bool:
    if access is Access.PUBLIC:
        return True
    if principal is None:
        return False
    if access is Access.AUTHENTICATED or principal.is_service:
        return True
    return access.value == principal.role


def require_principal() -> Principal:
    principal = current_principal.get()
    if principal is None:
        raise Unauthenticated("authentication required", "AUTH_REQUIRED")
    return principal


def require_role(caller: Principal, *roles: str) -> str:
    """The caller's subject, for a caller with one of `roles` ("learners only", "instructors only")."""
    if caller.role not in roles:
        raise PermissionDenied(f"role {caller.role} may not do this", "ROLE_NOT_ALLOWED")
    return caller.subject


def require_owner(caller: Principal, owner_id: str, what: str) -> None:
    """Only its owner reaches `what` (an instructor's course, a learner's records)."""
    if owner_id != caller.subject:
        raise PermissionDenied(f"{what} belongs to someone else", "NOT_OWNER")


def own_or_service(caller: Principal, learner_id: str) -> str:
    """The learner a request about `learner_id` is for: a learner reaches only their own records (an empty id
    means themself), a service any learner it names."""
    if caller.is_service:
        return v.identifier(learner_id, "learner_id")
    require_role(caller, "learner")
    if learner_id:
        require_owner(caller, learner_id, "these records")
    return caller.subject


class TokenService:
    """Issues and verifies access tokens. Verified tokens are cached until they expire."""

    def __init__(self, secret: str, issuer: str, audience: str, cache_size: int = 10_000) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._cache: OrderedDict[str, Principal] = OrderedDict()
        self._cache_size = cache_size
        self.hits = self.misses = 0  # of the verified-token cache (lmw_common.metrics)

    def entry_count(self) -> int:
        return len(self._cache)

    def issue(self, subject: str, role: str, ttl_s: int) -> tuple[str, float]:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        now = int(time.time())
        expires_at = now + ttl_s
        claims = {
            "sub": subject,
            "role": role,
            "iat": now,
            "exp": expires_at,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._secret, algorithm=_ALGORITHM), float(expires_at)

    def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > time.time():
                self.hits += 1
                return cached
            self._cache.pop(token, None)
        self.misses += 1
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "role", "iat", "exp", "iss", "aud", "jti"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", "TOKEN_EXPIRED") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token", "TOKEN_INVALID") from exc
        if claims["role"] not in ROLES or not isinstance(claims["sub"], str) or not claims["sub"]:
            raise Unauthenticated("invalid token claims", "TOKEN_INVALID")
        principal = Principal(claims["sub"], claims["role"], token, float(claims["exp"]))
        self._cache[token] = principal
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal


class ServiceTokenProvider:
    """Mints this service's own `service` token and renews it before it expires."""

    def __init__(self, tokens: TokenService, service_name: str, ttl_s: int) -> None:
        self._tokens = tokens
        self._name = service_name
        self._ttl_s = ttl_s
        self._token = ""
        self._renew_at = 0.0

    def __call__(self) -> str:
        now = time.time()
        if now >= self._renew_at:
            self._token, expires_at = self._tokens.issue(self._name, "service", self._ttl_s)
            self._renew_at = expires_at - self._ttl_s / 4
        return self._token
