"""MongoDB stores of orchestrator_svc: preferences per (learner, course) and the tutor conversation."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from lmw_common.citations import Citation
from lmw_common.preferences import DEFAULT_PREFERENCES, Preferences
from orchestrator_svc.domain import TutorMessage


class PreferenceStore:
    """Collection `preferences`, one document per (learner, course)."""

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db["preferences"]

    @staticmethod
    def _id(learner_id: str, course_id: str) -> str:
        return f"{learner_id}:{course_id}"

    async def get(self, learner_id: str, course_id: str) -> Preferences | None:
        doc = await self._col.find_one({"_id": self._id(learner_id, course_id)})
        return Preferences.from_dict(doc) if doc is not None else None

    async def update(self, learner_id: str, course_id: str, changes: Mapping[str, str]) -> Preferences:
        """Set these dimensions in one atomic write; the others keep their stored values (the defaults on the
        first write), so concurrent updates of different dimensions never undo each other."""
        defaults = {k: v for k, v in DEFAULT_PREFERENCES.as_dict().items() if k not in changes}
        doc = await self._col.find_one_and_update(
            {"_id": self._id(learner_id, course_id)},
            {
                "$set": {
                    "learner_id": learner_id,
                    "course_id": course_id,
                    **changes,
                    "updated_at": datetime.now(UTC),
                },
                **({"$setOnInsert": defaults} if defaults else {}),
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return Preferences.from_dict(doc)


class TutorStore:
    """Collection `tutor_messages`: learner questions and tutor answers per (learner, course).

    `seq` (nanoseconds, strictly increasing within an exchange) orders the conversation and keys its pages.
    """

    def __init__(self, db: AsyncDatabase) -> None:
        self._col = db["tutor_messages"]

    async def ensure_indexes(self) -> None:
        await self._col.create_index(
            [("learner_id", ASCENDING), ("course_id", ASCENDING), ("seq", DESCENDING)]
        )

    async def add_exchange(
        self, learner_id: str, course_id: str, question: TutorMessage, answer: TutorMessage
    ):
        first = time.time_ns()
        docs = [
            _doc(learner_id, course_id, question, first),
            _doc(learner_id, course_id, answer, max(time.time_ns(), first + 1)),
        ]
        await self._col.insert_many(docs)

    async def recent(
        self, learner_id: str, course_id: str, limit: int, before_seq: int | None = None
    ) -> list[tuple[int, TutorMessage]]:
        """Up to `limit` messages older than `before_seq`, newest first, with their seq."""
        query: dict = {"learner_id": learner_id, "course_id": course_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self._col.find(query).sort("seq", DESCENDING).limit(limit)
        return [(doc["seq"], _message(doc)) async for doc in cursor]

    async def question_count(self, learner_id: str, course_id: str) -> int:
        return await self._col.count_documents(
            {"learner_id": learner_id, "course_id": course_id, "role": "learner"}
        )


def _doc(learner_id: str, course_id: str, message: TutorMessage, seq: int) -> dict:
    return {
        "_id": message.id,
        "learner_id": learner_id,
        "course_id": course_id,
        "module_id": message.module_id,
        "role": message.role,
        "text": message.text,
        "citations": [c.as_dict() for c in message.citations],
        "grounded": message.grounded,
        "created_at": message.created_at,
        "seq": seq,
    }


def _message(doc: dict) -> TutorMessage:
    created = doc["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return TutorMessage(
        id=doc["_id"],
        role=doc["role"],
        text=doc["text"],
        citations=tuple(Citation.from_dict(c) for c in doc.get("citations") or ()),
        grounded=bool(doc.get("grounded")),
        module_id=doc.get("module_id", ""),
        created_at=created,
    )


def database(client: AsyncMongoClient, url: str) -> AsyncDatabase:
    from pymongo import uri_parser

    name = uri_parser.parse_uri(url)["database"]
    if not name:
        raise ValueError("the MongoDB URL must name a database (mongodb://host:port/<database>)")
    return client[name]


__all__: Sequence[str] = ["PreferenceStore", "TutorStore", "database"]
