"""Input validation shared by the services: e-mails, passwords, bounded strings and lists, ids, field masks."""

from __future__ import annotations

import re
import unicodedata

from lmw_common.errors import InvalidArgument

MAX_EMAIL = 254
MAX_NAME = 120
MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
MAX_ID = 64
MAX_LIST = 500
MIN_PASSWORD = 10
MAX_PASSWORD = 256

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def email(value: str) -> str:
    value = value.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise InvalidArgument("email is not a valid address", "INVALID_EMAIL", field="email")
    return normalize_email(value)


def normalize_email(value: str) -> str:
    """The stored form of an address, without validating it (for log-in). Addresses are compared
    case-insensitively, as users expect, although RFC 5321 lets the local part be case-sensitive."""
    return value.strip().lower()


def password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise InvalidArgument(f"password must have at least {MIN_PASSWORD} characters", "WEAK_PASSWORD")
    if len(value) > MAX_PASSWORD:
        raise InvalidArgument(f"password must have at most {MAX_PASSWORD} characters", "INVALID_PASSWORD")
    classes = sum(
        bool(re.search(pattern, value)) for pattern in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]")
    )
    if classes < 2 or len(set(value)) < 5:
        raise InvalidArgument(
            "password is too weak: mix letters with digits or symbols", "WEAK_PASSWORD", field="password"
        )
    return value


def text(value: str, field: str, max_len: int, *, required: bool = True) -> str:
    """Trimmed text without control characters (newlines and tabs allowed), within max_len."""
    value = value.strip()
    if required and not value:
        raise InvalidArgument(f"{field} is required", "REQUIRED", field=field)
    if len(value) > max_len:
        raise InvalidArgument(f"{field} must have at most {max_len} characters", "TOO_LONG", field=field)
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in value):
        raise InvalidArgument(f"{field} contains control characters", "INVALID_CHARACTERS", field=field)
    return value


def identifier(value: str, field: str) -> str:
    if not _ID.match(value):
        raise InvalidArgument(f"{field} is missing or not a valid id", "INVALID_ID", field=field)
    return value


def bounded_list(values, field: str, max_len: int = MAX_LIST) -> list:
    if len(values) > max_len:
        raise InvalidArgument(f"{field} has more than {max_len} entries", "TOO_MANY", field=field)
    return list(values)


def field_mask(paths, allowed: tuple[str, ...]) -> set[str]:
    """The fields an update mask names (AIP-134), each one of `allowed`; empty when it names none."""
    bounded_list(paths, "update_mask", len(allowed))
    unknown = [p for p in paths if p not in allowed]
    if unknown:
        raise InvalidArgument(
            f"update_mask names unknown fields {unknown}; allowed: {list(allowed)}", "INVALID_UPDATE_MASK"
        )
    return set(paths)
