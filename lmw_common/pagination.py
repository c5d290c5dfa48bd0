"""AIP-158 pagination: bounded page sizes and opaque page tokens (an offset or a keyset, base64 JSON)."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from lmw_common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_OFFSET = 2**31 - 1


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("page_size must not be negative", "INVALID_PAGE_SIZE")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode_token(position: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode()


def decode_token(token: str) -> dict[str, Any]:
    if not token:
        return {}
    if len(token) > 1024:
        raise InvalidArgument("page_token is too long", "INVALID_PAGE_TOKEN")
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token is not valid", "INVALID_PAGE_TOKEN") from exc
    if not isinstance(position, dict):
        raise InvalidArgument("page_token is not valid", "INVALID_PAGE_TOKEN")
    return position


def offset_from(token: str) -> int:
    offset = decode_token(token).get("offset", 0)
    # (bounded: PostgreSQL's OFFSET and MongoDB's skip take 64-bit integers, JSON numbers do not stop there)
    if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
        raise InvalidArgument("page_token is not valid", "INVALID_PAGE_TOKEN")
    return offset


def next_offset_token(offset: int, size: int, fetched: int) -> str:
    """Callers fetch size + 1 rows; a token is returned only when there was one more."""
    return encode_token({"offset": offset + size}) if fetched > size else ""
