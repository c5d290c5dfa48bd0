"""A learner's personalization in a course (lmw.common.v1.Preferences): its dimensions, the values each allows,
their defaults, and the one mapping to and from the proto.

The proto is the contract. A dimension is a field of lmw.common.v1.Preferences and of `Preferences` below (its
default is the dataclass field's default); the values it allows are read from the field's proto enum
(DETAIL_LEVEL_BRIEF -> "brief"). Everything else that lists dimensions or values (validation, the stores, the
BFF's GraphQL enums) derives them from here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lmw.common.v1 import common_pb2
from lmw_common import validation as v
from lmw_common.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Preferences:
    detail_level: str = "moderate"
    explanation_style: str = "conceptual"
    language: str = "balanced"

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in DIMENSIONS}

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> Preferences:
        """From a stored document: other keys are ignored, a missing dimension (added later) is its default."""
        return cls(**{name: stored[name] for name in DIMENSIONS if name in stored})

    def replace(self, changes: Mapping[str, str]) -> Preferences:
        return dataclasses.replace(self, **changes)

    def known(self) -> Preferences:
        """These preferences with a value its dimension does not allow replaced by the default (a generator
        falls back rather than failing a learner's request)."""
        return Preferences(**{d: value for d, value in self.as_dict().items() if value in ALLOWED[d]})


DEFAULT_PREFERENCES = Preferences()
DIMENSIONS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Preferences))


def _values(dimension: str) -> dict[int, str]:
    """Proto enum number -> value name, UNSPECIFIED left out."""
    enum = common_pb2.Preferences.DESCRIPTOR.fields_by_name[dimension].enum_type
    prefix = enum.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return {value.number: value.name.removeprefix(prefix).lower() for value in enum.values if value.number}


_BY_NUMBER: dict[str, dict[int, str]] = {dimension: _values(dimension) for dimension in DIMENSIONS}
_NUMBER: dict[str, dict[str, int]] = {
    d: {name: n for n, name in values.items()} for d, values in _BY_NUMBER.items()
}
# The values each dimension allows, in the proto's order.
ALLOWED: dict[str, tuple[str, ...]] = {d: tuple(values.values()) for d, values in _BY_NUMBER.items()}

if set(DIMENSIONS) != set(common_pb2.Preferences.DESCRIPTOR.fields_by_name) or any(
    getattr(DEFAULT_PREFERENCES, d) not in ALLOWED[d] for d in DIMENSIONS
):
    raise ImportError("lmw_common.preferences.Preferences does not match lmw.common.v1.Preferences")


def preferences_pb(preferences: Preferences) -> common_pb2.Preferences:
    return common_pb2.Preferences(**{d: _NUMBER[d][getattr(preferences, d)] for d in DIMENSIONS})


def preferences_from_pb(message: common_pb2.Preferences) -> Preferences:
    """What a reader works with: UNSPECIFIED (or a value this build does not know) means the default."""
    return Preferences(
        **{d: _BY_NUMBER[d][n] for d in DIMENSIONS if (n := getattr(message, d)) in _BY_NUMBER[d]}
    )


def values_from_pb(message: common_pb2.Preferences) -> dict[str, str]:
    """What a writer was sent: every dimension's value name, "" for UNSPECIFIED or an unknown value."""
    return {d: _BY_NUMBER[d].get(getattr(message, d), "") for d in DIMENSIONS}


def changes(values: Mapping[str, str], update_mask: Sequence[str]) -> dict[str, str]:
    """What an update sets (AIP-134): the dimensions `update_mask` names, each to one of its allowed values
    (UNSPECIFIED is none of them). With no mask, the dimensions given (the implied mask), so a client written
    before a dimension existed keeps working; nothing given at all is an error."""
    named = v.field_mask(update_mask, DIMENSIONS)
    chosen = [d for d in DIMENSIONS if d in named] if named else [d for d in DIMENSIONS if values.get(d)]
    if not chosen:
        raise InvalidArgument("give at least one preference to set", "NOTHING_TO_UPDATE", field="preferences")
    out = {}
    for dimension in chosen:
        value = values.get(dimension, "")
        if value not in ALLOWED[dimension]:
            raise InvalidArgument(
                f"preferences.{dimension} must be one of: {', '.join(ALLOWED[dimension])}",
                "INVALID_PREFERENCE",
                field=f"preferences.{dimension}",
            )
        out[dimension] = value
    return out
