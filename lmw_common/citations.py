"""Where a generated statement comes from (lmw.common.v1.Citation): the one dataclass, its proto mapping and
its stored form."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from lmw.common.v1 import common_pb2


@dataclass(frozen=True, slots=True)
class Citation:
    chunk_id: str = ""
    file_id: str = ""
    file_name: str = ""
    page: int = 0  # 1-based PDF page, 0 if none
    slide: int = 0  # 1-based PPTX slide, 0 if none
    heading: str = ""  # heading path of the section, "Loops > The for statement"
    char_start: int = 0  # span of the chunk within the extracted text of its page/slide/section
    char_end: int = 0
    snippet: str = ""

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, stored: Mapping[str, object]) -> Citation:
        """From a stored document (keys it does not know are ignored)."""
        return cls(**{name: stored[name] for name in _FIELDS if name in stored})


_FIELDS = tuple(f.name for f in dataclasses.fields(Citation))


def citation_pb(citation: Citation) -> common_pb2.Citation:
    return common_pb2.Citation(**citation.as_dict())


def citation_from_pb(message: common_pb2.Citation) -> Citation:
    return Citation(**{name: getattr(message, name) for name in _FIELDS})
