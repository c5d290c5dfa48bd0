"""Relay-style cursor connections on top of the services' AIP-158 page tokens.

A cursor names a position as (service page token, number of items to skip after it). The cursor of a page's
last edge is the service's `next_page_token` itself (skip 0), so paging with `endCursor` costs exactly one
call per page; a cursor in the middle of a page asks for that page again and drops the items before it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bff.errors import bad_input
from bff.schema.types import Connection, Edge, PageInfo

N = TypeVar("N")

DEFAULT_FIRST = 20
MAX_FIRST = 100
# The services' largest page (lmw_common.pagination.MAX_PAGE_SIZE).
SERVICE_MAX_PAGE = 200
_MAX_CURSOR_CHARS = 2048


@dataclass(frozen=True)
class PageRequest:
    token: str  # the service page token to ask with
    skip: int  # items of that page to drop (they came before the cursor)
    first: int  # items the client asked for

    @property
    def page_size(self) -> int:
        return self.skip + self.first


def encode_cursor(token: str, skip: int) -> str:
    raw = json.dumps({"t": token, "s": skip}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    if len(cursor) > _MAX_CURSOR_CHARS:
        raise bad_input("the cursor is not valid", "INVALID_CURSOR")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_input("the cursor is not valid", "INVALID_CURSOR") from exc
    if not isinstance(data, dict):
        raise bad_input("the cursor is not valid", "INVALID_CURSOR")
    token, skip = data.get("t"), data.get("s")
    if not isinstance(token, str) or not isinstance(skip, int) or isinstance(skip, bool):
        raise bad_input("the cursor is not valid", "INVALID_CURSOR")
    if not 0 <= skip < SERVICE_MAX_PAGE:
        raise bad_input("the cursor is not valid", "INVALID_CURSOR")
    return token, skip


def page_request(first: int | None, after: str | None) -> PageRequest:
    if first is None:
        first = DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise bad_input(f"first must be between 1 and {MAX_FIRST}", "INVALID_PAGE_SIZE", field="first")
    token, skip = decode_cursor(after) if after else ("", 0)
    # A cursor deep inside a page may return fewer than `first` items (Relay allows it).
    return PageRequest(token, skip, min(first, SERVICE_MAX_PAGE - skip))


def connection(
    request: PageRequest, items: Sequence[Any], next_page_token: str, to_node: Callable[[Any], N]
) -> Connection[N]:
    """Build the connection from one service page fetched with `request.page_size` items."""
    page = list(items)[request.skip : request.skip + request.first]
    # The service may return more than asked for; what we drop is still ahead of the last cursor.
    more_in_page = len(items) > request.skip + request.first
    edges: list[Edge[N]] = []
    for index, item in enumerate(page):
        position = request.skip + index + 1
        last = index == len(page) - 1
        if last and next_page_token and not more_in_page:
            cursor = encode_cursor(next_page_token, 0)
        else:
            cursor = encode_cursor(request.token, position)
        edges.append(Edge(cursor=cursor, node=to_node(item)))
    has_next = bool(next_page_token) or more_in_page
    end_cursor = edges[-1].cursor if edges else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=end_cursor))


async def fetch_connection(
    first: int | None,
    after: str | None,
    fetch: Callable[[int, str], Awaitable[tuple[Sequence[Any], str]]],
    to_node: Callable[[Any], N],
) -> Connection[N]:
    """`fetch(page_size, page_token) -> (items, next_page_token)` wraps the List RPC."""
    request = page_request(first, after)
    items, next_token = await fetch(request.page_size, request.token)
    return connection(request, items, next_token, to_node)
