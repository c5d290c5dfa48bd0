"""What every resolver sees as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bff.clients import Clients
from bff.config import BffSettings


@dataclass
class BffContext:
    request: Any  # starlette Request or WebSocket
    response: Any  # starlette Response (HTTP) or the WebSocket
    clients: Clients
    settings: BffSettings
    # The caller's bearer token (None when anonymous), from the Authorization header or, for websockets,
    # from the connection_init payload.
    token: str | None = None
    # Set by Strawberry on websocket connection_init.
    connection_params: dict[str, Any] | None = field(default=None)

    @property
    def is_websocket(self) -> bool:
        return getattr(self.request, "scope", {}).get("type") == "websocket"


def bearer_token(value: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; other values pass as they are (the
    services then refuse them with UNAUTHENTICATED)."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return token.strip() or None
    return value.strip() or None
