"""Small helpers the resolver modules share."""

from __future__ import annotations

from typing import Any

import jwt
from strawberry.types import Info

from bff.clients import Clients
from bff.context import BffContext
from bff.errors import ApiError


def context(info: Info) -> BffContext:
    return info.context


def clients(info: Info) -> Clients:
    return info.context.clients


def token_role(token: str) -> str:
    """The `role` claim, read WITHOUT verifying the signature: it only picks the service to ask, and that
    service verifies the token itself."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise ApiError("invalid token", "UNAUTHENTICATED", "TOKEN_INVALID") from exc
    role = claims.get("role") if isinstance(claims, dict) else None
    if not isinstance(role, str):
        raise ApiError("invalid token", "UNAUTHENTICATED", "TOKEN_INVALID")
    return role


def selects(info: Info, name: str) -> bool:
    """Whether the current field's selection asks for `name` (directly or through fragments)."""

    def walk(selections: list[Any]) -> bool:
        for selection in selections:
            if hasattr(selection, "type_condition"):  # a fragment: look inside
                if walk(selection.selections or []):
                    return True
            elif selection.name == name:
                return True
        return False

    return any(walk(field.selections) for field in info.selected_fields)
