"""Property-based fuzzing of every gRPC method of the four services (a helper module, no tests).

Shared by tests/integration/test_fuzz_rpcs.py (bounded, derandomized) and scripts/fuzz_rpcs.py (longer runs).

* `message_strategy(descriptor, pool)` builds a hypothesis strategy for ANY protobuf message from its
  descriptor: strings (empty, huge, unicode, control characters, NUL, path traversal, injection-looking,
  and real ids of the running mesh taken from an `IdPool`), integers (0, -1, INT32/INT64 bounds, random),
  floats (NaN, infinities, -0.0, huge), enums (valid and unknown numbers), bytes (magic numbers, random,
  huge), repeated fields (empty, one, a few, a thousand), maps and nested messages (depth-bounded).
* `RpcFuzzer` calls every method with those messages under several tokens (service, learner, instructor)
  over plain synchronous gRPC channels (the synchronous client reports the server's status faithfully;
  grpc.aio clients may report a client-side INTERNAL when the server ends a client stream early:
  grpc/grpc#36066). Client streams get random message sequences, server streams are consumed fully under
  a deadline. It tallies the status codes per method and records violations: INTERNAL, UNKNOWN, a blown
  deadline (a hang), a dead server, and a failing call that changed row/document counts (a partial write).
* `MeshProbe` reads the mesh's databases: per-method count snapshots and end-of-run invariants (every file
  record has its blob and every blob its record, no temp files, nothing outside the blob root, no
  generation claim left held, module positions contiguous, every recorded quiz result known to learner_svc).

Run `RpcFuzzer.run_rpc` in a worker thread (`asyncio.to_thread`) when the servers serve on this thread's loop.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from lmw.instructor.v1 import instructor_service_pb2 as ipb
from lmw.learner.v1 import learner_service_pb2 as lpb
from lmw.orchestrator.v1 import orchestrator_service_pb2 as opb
from lmw.sme.v1 import sme_service_pb2 as spb
from lmw_common.errors import from_rpc_error

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
UINT32_MAX, UINT64_MAX = 2**32 - 1, 2**64 - 1

SERVICES: dict[str, Any] = {
    "learner": lpb.DESCRIPTOR.services_by_name["LearnerService"],
    "instructor": ipb.DESCRIPTOR.services_by_name["InstructorService"],
    "orchestrator": opb.DESCRIPTOR.services_by_name["OrchestratorService"],
    "sme": spb.DESCRIPTOR.services_by_name["SmeService"],
}

# Methods that delete or void what the others need (the course, its index, the enrollment): fuzzed last.
DESTRUCTIVE = frozenset(
    {
        "instructor.DeleteCourse",
        "instructor.DeleteModule",
        "instructor.DeleteCourseFile",
        "instructor.MoveCourseFile",
        "instructor.UnpublishCourse",
        "instructor.ReorderModules",
        "instructor.UpdateLearningObjectives",
        "instructor.ApproveLearningObjectives",
        "learner.Unenroll",
        "sme.DeleteDocuments",
        "sme.MoveDocuments",
        "sme.DeleteCourseIndex",
    }
)

# Codes that must never come back: every failure is a clear domain code.
FORBIDDEN_CODES = frozenset({"INTERNAL", "UNKNOWN"})

# ------------------------------------------------------------------------------------------ strings

NASTY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x00" * 64,
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\win.ini",
    "C:\\x.md",
    "%2e%2e%2fetc%2fpasswd",
    "....//....//etc/passwd",
    "file:///etc/passwd",
    "\u202eevil\u202d.md",
    "\ufeffbom",
    "\u200b",
    "\U0001f600" * 8,
    "ｆｕｌｌｗｉｄｔｈ",
    "e\u0301\u0301\u0301",
    "' OR '1'='1' --",
    "'; DROP TABLE learners; --",
    '{"$gt": ""}',
    "$where",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
    "%s%s%s%n",
    "\r\n\r\nX-Injected: 1",
    "\x1b[31mred\x1b[0m",
    "\t\n\x0b\x0c\r",
    "null",
    "None",
    "NaN",
    "-1",
    "0",
    "9" * 40,
    "a" * 64,
    "a" * 65,
    "A-Za-z0-9_-",
    "con",
    "NUL.md",
)

# Page tokens: base64 JSON the services might produce, and what they must refuse.
PAGE_TOKENS: tuple[str, ...] = tuple(
    base64.urlsafe_b64encode(json.dumps(value).encode()).decode()
    for value in (
        {"offset": 1},
        {"offset": -1},
        {"offset": 10**12},
        {"offset": "1"},
        {"offset": 1.5},
        {"offset": None},
        {"seq": -1},
        {"seq": "x", "id": 3},
        {"before": 2**70},
        {"before": 2**63},
        {"offset": 2**70},
        {"offset": 2**63 - 1},
        [],
        "offset",
        {},
    )
) + ("!!!", "====", "e30", "x" * 2000)

FIELD_MASK_PATHS = ("title", "description", "pass_mark", "published", "id", "nope", "", "title.x", "*")


def _no_surrogates() -> st.SearchStrategy[str]:
    """Any text protobuf can carry (valid UTF-8: no lone surrogates)."""
    return st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40)


def _huge_strings() -> st.SearchStrategy[str]:
    units = st.sampled_from(["a", "é", "\x00", "../", "\U0001f600", "ab ", "\n", "Loops and functions. "])
    return st.builds(lambda unit, n: (unit * (n // len(unit) + 1))[:n], units, st.integers(10_000, 100_000))


_CONTROL = st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=20)


@dataclass
class IdPool:
    """Ids of the running mesh (kind -> ids) and a few other real values, to reach past id validation."""

    ids: dict[str, list[str]] = field(default_factory=dict)
    emails: list[str] = field(default_factory=list)

    def add(self, kind: str, *values: str) -> None:
        bucket = self.ids.setdefault(kind, [])
        bucket.extend(v for v in values if v and v not in bucket)

    def all_ids(self) -> list[str]:
        return sorted({v for values in self.ids.values() for v in values})

    def for_field(self, name: str) -> list[str]:
        base = name.removesuffix("s") if name.endswith("_ids") else name
        kind = {
            "course_id": "course",
            "module_id": "module",
            "file_id": "file",
            "job_id": "job",
            "learner_id": "learner",
            "instructor_id": "instructor",
            "quiz_id": "quiz",
            "attempt_id": "attempt",
            "objective_id": "objective",
            "focus_objective_id": "objective",
            "recap_objective_id": "objective",
            "chunk_id": "chunk",
            "question_id": "question",
        }.get(base)
        if kind is not None:
            return self.ids.get(kind, []) or self.all_ids()
        if name == "id" or name.endswith("_id"):
            return self.all_ids()
        if name == "email":
            return self.emails
        return []


def string_strategy(field_name: str, pool: IdPool) -> st.SearchStrategy[str]:
    options: list[st.SearchStrategy[str]] = [
        st.sampled_from(NASTY_STRINGS),
        _no_surrogates(),
        _CONTROL,
        _huge_strings(),
    ]
    real = pool.for_field(field_name)
    if real:
        ids = st.sampled_from(real)
        mutated = st.builds(
            lambda value, how: how(value),
            ids,
            st.sampled_from(
                [
                    lambda v: v + "\x00",
                    lambda v: v.upper(),
                    lambda v: v[:-1],
                    lambda v: v + "/../" + v,
                    lambda v: " " + v,
                    lambda v: v * 3,
                ]
            ),
        )
        options = [ids, ids, ids, mutated, *options]
    if field_name == "page_token":
        options.insert(0, st.sampled_from(PAGE_TOKENS))
    if field_name in ("email",):
        options.insert(0, st.builds(lambda n: f"fuzz-{n}@example.org", st.integers(0, 10**6)))
    if field_name in ("password",):
        options.insert(0, st.sampled_from(["Correct-horse-9", "short", "x" * 300, "Aa1!" * 3]))
    if field_name == "paths":
        options.insert(0, st.sampled_from(FIELD_MASK_PATHS))
    return st.one_of(options)


# ------------------------------------------------------------------------------------------ numbers

_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (INT32_MIN, INT32_MAX),
    FieldDescriptor.TYPE_SINT32: (INT32_MIN, INT32_MAX),
    FieldDescriptor.TYPE_SFIXED32: (INT32_MIN, INT32_MAX),
    FieldDescriptor.TYPE_INT64: (INT64_MIN, INT64_MAX),
    FieldDescriptor.TYPE_SINT64: (INT64_MIN, INT64_MAX),
    FieldDescriptor.TYPE_SFIXED64: (INT64_MIN, INT64_MAX),
    FieldDescriptor.TYPE_UINT32: (0, UINT32_MAX),
    FieldDescriptor.TYPE_FIXED32: (0, UINT32_MAX),
    FieldDescriptor.TYPE_UINT64: (0, UINT64_MAX),
    FieldDescriptor.TYPE_FIXED64: (0, UINT64_MAX),
}


def int_strategy(low: int, high: int) -> st.SearchStrategy[int]:
    edges = sorted(
        {v for v in (0, 1, -1, 2, 3, 5, 10, 200, 201, 1000, low, high, low + 1, high - 1) if low <= v <= high}
    )
    return st.one_of(
        st.sampled_from(edges), st.integers(low, high), st.integers(max(low, -20), min(high, 20))
    )


def float_strategy(width: int) -> st.SearchStrategy[float]:
    edges = [
        0.0,
        -0.0,
        0.5,
        1.0,
        1.0000001,
        -1.0,
        2.0,
        math.nan,
        math.inf,
        -math.inf,
        1e308 if width == 64 else 3e38,
    ]
    return st.one_of(st.sampled_from(edges), st.floats(width=width), st.floats(-2, 2, width=width))


# ------------------------------------------------------------------------------------------- bytes

PAYLOADS: tuple[bytes, ...] = (
    b"",
    b"\x00",
    b"# Title\n\nSome Markdown text about loops and functions.\n",
    b"plain text\n" * 20,
    b"<!doctype html><html><body><h1>T</h1><p>x</p></body></html>",
    b"%PDF-1.7\n" + b"x" * 64,
    b"%PDF-1.4\n%%EOF",
    b"PK\x03\x04" + b"\x00" * 64,
    b"\x89PNG\r\n\x1a\n" + bytes(range(64)),
    b"\x7fELF\x02\x01\x01" + b"\x00" * 57,
    b"MZ\x90\x00" + b"\xff" * 60,
    "é ü ß 字 \U0001f600\n".encode() * 10,
    b"\xff\xfe\xfd",
)


def bytes_strategy() -> st.SearchStrategy[bytes]:
    huge = st.builds(
        lambda unit, n: unit * n, st.sampled_from([b"a", b"\x00", b"# x\n"]), st.integers(10_000, 200_000)
    )
    return st.one_of(st.sampled_from(PAYLOADS), st.binary(max_size=256), huge)


# ---------------------------------------------------------------------------------------- messages

MAX_DEPTH = 3
MANY = 1_000

PLAUSIBLE_TEXT = {
    "email": None,  # generated below
    "password": ("Correct-horse-9",),
    "display_name": ("Ada", "Grace Hopper"),
    "title": ("Loops", "Functions in Python"),
    "module_title": ("Loops", "Functions"),
    "description": ("How loops work in Python.",),
    "module_description": ("How loops work in Python.",),
    "text": ("Explain how a for loop repeats a block.", "Define a function with def."),
    "question": ("What does break do in a loop?", "How do I return a value?"),
    "query": ("loops", "return statement", "default parameter values"),
    "file_name": ("notes.md", "Loops.pdf", "slides.pptx"),
    "name": ("notes.md",),
    "media_type": ("text/markdown", "application/pdf", ""),
    "page_token": ("", PAGE_TOKENS[0]),
    "paths": ("title", "description", "pass_mark"),
    "kind": ("ingest", "objectives"),
    "token": ("",),
}


def _plausible_string(name: str, pool: IdPool) -> st.SearchStrategy[str]:
    real = pool.for_field(name) if name != "email" else []
    if real:
        real_ids = st.sampled_from(real)
        fresh = st.builds(lambda n: f"fuzz{n:08x}", st.integers(0, 2**32 - 1))
        return st.one_of(real_ids, real_ids, real_ids, fresh)
    if name == "email":
        generated = st.builds(lambda n: f"fuzz-{n}@example.org", st.integers(0, 10**6))
        return st.one_of(generated, st.sampled_from(pool.emails)) if pool.emails else generated
    return st.sampled_from(PLAUSIBLE_TEXT.get(name) or ("Loops", "x", "A short plausible text."))


def _scalar_strategy(
    f: FieldDescriptor, pool: IdPool, depth: int, allow_many: bool, plausible: bool
) -> st.SearchStrategy:
    if f.type == FieldDescriptor.TYPE_STRING:
        return _plausible_string(f.name, pool) if plausible else string_strategy(f.name, pool)
    if f.type == FieldDescriptor.TYPE_BYTES:
        return st.sampled_from(PAYLOADS[2:5]) if plausible else bytes_strategy()
    if f.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        width = 64 if f.type == FieldDescriptor.TYPE_DOUBLE else 32
        return st.sampled_from([0.0, 0.5, 0.6, 1.0]) if plausible else float_strategy(width)
    if f.type == FieldDescriptor.TYPE_ENUM:
        valid = [v.number for v in f.enum_type.values]
        if plausible:
            return st.sampled_from([n for n in valid if n] or valid)
        unknown = [-1, max(valid) + 1, 99, INT32_MAX, INT32_MIN]
        return st.one_of(st.sampled_from(valid), st.sampled_from(unknown))
    if f.type in _INT_RANGES:
        return st.integers(0, 5) if plausible else int_strategy(*_INT_RANGES[f.type])
    if f.type == FieldDescriptor.TYPE_MESSAGE:
        return message_strategy(f.message_type, pool, depth + 1, allow_many)
    raise TypeError(f"unsupported field type {f.type} of {f.full_name}")


def _is_map(f: FieldDescriptor) -> bool:
    return f.message_type is not None and f.message_type.GetOptions().map_entry


def _repeated(element: st.SearchStrategy, cheap: st.SearchStrategy, allow_many: bool) -> st.SearchStrategy:
    options = [
        st.just([]),
        st.lists(element, min_size=1, max_size=1),
        st.lists(element, min_size=2, max_size=5),
    ]
    if allow_many:
        # a thousand entries: one drawn value repeated, or a thousand cheap distinct ones
        options.append(st.builds(lambda v: [v] * MANY, cheap))
        options.append(st.lists(cheap, min_size=MANY, max_size=MANY))
    return st.one_of(options)


def _field_strategy(
    f: FieldDescriptor, pool: IdPool, depth: int, allow_many: bool, plausible: bool
) -> st.SearchStrategy:
    if _is_map(f):
        key_f = f.message_type.fields_by_name["key"]
        value_f = f.message_type.fields_by_name["value"]
        return st.dictionaries(
            _scalar_strategy(key_f, pool, depth, False, plausible),
            _scalar_strategy(value_f, pool, depth, False, plausible),
            max_size=5,
        )
    if not f.is_repeated:
        return _scalar_strategy(f, pool, depth, allow_many, plausible)
    # elements of a list never hold lists of a thousand themselves (bounded message sizes)
    element = _scalar_strategy(f, pool, depth, False, plausible)
    if plausible:
        return st.lists(element, max_size=3)
    if f.type == FieldDescriptor.TYPE_STRING:
        real = pool.for_field(f.name)
        cheap = st.sampled_from(real) if real else st.text(alphabet="abcdef0123456789-_", max_size=12)
    elif f.type == FieldDescriptor.TYPE_MESSAGE:
        cheap = _shallow_message(f.message_type, pool)
    else:
        cheap = element
    return _repeated(element, cheap, allow_many and depth <= 1)


def _shallow_message(descriptor: Descriptor, pool: IdPool) -> st.SearchStrategy[Message]:
    """Plausible scalar fields only: cheap enough to repeat a thousand times in one request."""
    scalars = {
        f.name: _scalar_strategy(f, pool, MAX_DEPTH, False, True)
        for f in descriptor.fields
        if f.message_type is None and not f.is_repeated
    }
    return st.fixed_dictionaries({}, optional=scalars).map(lambda values: build_message(descriptor, values))


def build_message(descriptor: Descriptor, values: Mapping[str, Any]) -> Message:
    message = GetMessageClass(descriptor)()
    for name, value in values.items():
        f = descriptor.fields_by_name[name]
        target = getattr(message, name) if (f.is_repeated or f.message_type is not None) else None
        if _is_map(f):
            message_valued = f.message_type.fields_by_name["value"].message_type is not None
            for key, item in value.items():
                if message_valued:
                    target[key].CopyFrom(item)
                else:
                    target[key] = item
        elif f.is_repeated:
            target.extend(value)
        elif f.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


_CACHE: dict[tuple[str, int, bool, int], st.SearchStrategy] = {}


def message_strategy(
    descriptor: Descriptor, pool: IdPool, depth: int = 0, allow_many: bool = True
) -> st.SearchStrategy[Message]:
    """Random and boundary instances of any message type, in three flavours: plausible (real ids, sensible
    text and small numbers: reaches the use cases), wild (every field random or at a boundary, or absent)
    and mixed (each field plausible or wild)."""
    key = (descriptor.full_name, depth, allow_many, id(pool))
    if key in _CACHE:
        return _CACHE[key]
    if depth >= MAX_DEPTH:
        strategy = st.just(GetMessageClass(descriptor)())
    else:
        fields = descriptor.fields
        plausible = {f.name: _field_strategy(f, pool, depth, allow_many, True) for f in fields}
        wild = {f.name: _field_strategy(f, pool, depth, allow_many, False) for f in fields}
        mixed = {f.name: st.one_of(plausible[f.name], wild[f.name]) for f in fields}
        strategy = st.one_of(
            st.fixed_dictionaries(plausible),
            st.fixed_dictionaries({}, optional=mixed),
            st.fixed_dictionaries({}, optional=wild),
        ).map(lambda values: build_message(descriptor, values))
    _CACHE[key] = strategy
    return strategy


def upload_stream_strategy(pool: IdPool) -> st.SearchStrategy[list[Message]]:
    """UploadCourseFile message sequences: well-ordered, data before metadata, two metadata, empty..."""
    metadata = message_strategy(ipb.UploadCourseFileMetadata.DESCRIPTOR, pool, 1, False)
    data = bytes_strategy()
    meta_msg = metadata.map(lambda m: ipb.UploadCourseFileRequest(metadata=m))
    data_msg = data.map(lambda b: ipb.UploadCourseFileRequest(data=b))
    any_msg = st.one_of(meta_msg, data_msg, st.just(ipb.UploadCourseFileRequest()))
    well_ordered = st.builds(lambda m, ds: [m, *ds], meta_msg, st.lists(data_msg, max_size=4))
    plausible = st.builds(
        lambda course_id, name, payload, n: [
            ipb.UploadCourseFileRequest(
                metadata=ipb.UploadCourseFileMetadata(course_id=course_id, file_name=name)
            ),
            *[ipb.UploadCourseFileRequest(data=payload + f"\n{n}\n".encode())] * (1 + n % 3),
        ],
        _plausible_string("course_id", pool),
        st.sampled_from(
            ["notes.md", "page.html", "plain.txt", "../../etc/passwd.md", "C:\\x.md", "a\x00b.md"]
        ),
        st.sampled_from([PAYLOADS[2], PAYLOADS[3]]),
        st.integers(0, 10**6),
    )
    return st.one_of(
        plausible,
        st.just([]),
        well_ordered,
        st.builds(lambda ds, m: [*ds, m], st.lists(data_msg, min_size=1, max_size=3), meta_msg),
        st.builds(lambda a, d, b: [a, d, b], meta_msg, data_msg, meta_msg),
        st.builds(lambda a, b: [a, b], meta_msg, meta_msg),
        st.lists(any_msg, min_size=1, max_size=6),
        st.builds(
            lambda m, n: [m] + [ipb.UploadCourseFileRequest(data=b"")] * n, meta_msg, st.integers(1, 50)
        ),
    )


def describe(request: Any, limit: int = 300) -> str:
    """A short printable form of a request (or a list of stream messages) for reports."""
    if isinstance(request, list):
        text = (
            "["
            + ", ".join(describe(m, 80) for m in request[:6])
            + (", ..." if len(request) > 6 else "")
            + "]"
        )
    else:
        text = repr(request.__class__.__name__) + " " + str(request).replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


# ------------------------------------------------------------------------------------------ calling


@dataclass(frozen=True)
class Rpc:
    service: str  # learner | instructor | orchestrator | sme
    method: MethodDescriptor

    @property
    def name(self) -> str:
        return f"{self.service}.{self.method.name}"

    @property
    def path(self) -> str:
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def kind(self) -> str:
        return {
            (False, False): "unary",
            (False, True): "server-stream",
            (True, False): "client-stream",
            (True, True): "bidi",
        }[(self.method.client_streaming, self.method.server_streaming)]


def all_rpcs(services: Iterable[str] = SERVICES) -> list[Rpc]:
    """Every method of the services, the destructive ones last."""
    rpcs = [Rpc(name, method) for name in services for method in SERVICES[name].methods]
    return sorted(rpcs, key=lambda r: r.name in DESTRUCTIVE)


@dataclass
class Tally:
    calls: int = 0
    examples: int = 0
    codes: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # "CODE/REASON" of the failures
    violations: list[str] = field(default_factory=list)
    partial_writes: int = 0
    slowest_s: float = 0.0
    elapsed_s: float = 0.0

    def merge(self, other: Tally) -> None:
        self.calls += other.calls
        self.examples += other.examples
        self.codes.update(other.codes)
        self.reasons.update(other.reasons)
        self.violations.extend(other.violations)
        self.partial_writes += other.partial_writes
        self.slowest_s = max(self.slowest_s, other.slowest_s)
        self.elapsed_s += other.elapsed_s


SnapshotFn = Callable[[str], Mapping[str, int] | None]


class RpcFuzzer:
    """Calls the mesh's RPCs with generated messages; see the module docstring."""

    def __init__(
        self,
        targets: Mapping[str, str],
        tokens: Mapping[str, str],
        pool: IdPool,
        *,
        snapshot: SnapshotFn | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.targets = dict(targets)
        self.tokens = dict(tokens)  # role -> token ("" = anonymous)
        self.pool = pool
        self.snapshot = snapshot or (lambda _name: None)
        self.timeout_s = timeout_s
        options = [
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
        ]
        self._channels = {
            name: grpc.insecure_channel(target, options=options) for name, target in self.targets.items()
        }
        self.tallies: dict[str, Tally] = {}

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()

    def roles_for(self, rpc: Rpc) -> list[str]:
        roles = ["service", "learner"]
        if rpc.service == "instructor":
            roles.append("instructor")
        return [r for r in roles if r in self.tokens]

    def strategy(self, rpc: Rpc) -> st.SearchStrategy:
        if rpc.method.client_streaming:
            if rpc.method.input_type.full_name == ipb.UploadCourseFileRequest.DESCRIPTOR.full_name:
                return upload_stream_strategy(self.pool)
            return st.lists(message_strategy(rpc.method.input_type, self.pool, 1, False), max_size=5)
        return message_strategy(rpc.method.input_type, self.pool)

    def call(self, rpc: Rpc, request: Any, token: str) -> tuple[str, str]:
        """One call; returns the status code's name ("OK" on success) and the ErrorInfo reason. Streams are
        consumed fully."""
        request_cls = GetMessageClass(rpc.method.input_type)
        response_cls = GetMessageClass(rpc.method.output_type)
        channel = self._channels[rpc.service]
        kwargs = {
            "request_serializer": request_cls.SerializeToString,
            "response_deserializer": response_cls.FromString,
        }
        metadata = [("authorization", f"Bearer {token}")] if token else []
        try:
            if rpc.kind == "unary":
                channel.unary_unary(rpc.path, **kwargs)(request, timeout=self.timeout_s, metadata=metadata)
            elif rpc.kind == "server-stream":
                for _ in channel.unary_stream(rpc.path, **kwargs)(
                    request, timeout=self.timeout_s, metadata=metadata
                ):
                    pass
            elif rpc.kind == "client-stream":
                channel.stream_unary(rpc.path, **kwargs)(
                    iter(request), timeout=self.timeout_s, metadata=metadata
                )
            else:
                for _ in channel.stream_stream(rpc.path, **kwargs)(
                    iter(request), timeout=self.timeout_s, metadata=metadata
                ):
                    pass
        except grpc.RpcError as err:
            return err.code().name, from_rpc_error(err).reason
        return "OK", ""

    def exercise(self, rpc: Rpc, request: Any, tally: Tally) -> None:
        """Call `rpc` with `request` under each role's token and check what must hold."""
        tally.examples += 1
        for role in self.roles_for(rpc):
            before = self.snapshot(rpc.name)
            started = time.monotonic()
            code, reason = self.call(rpc, request, self.tokens[role])
            took = time.monotonic() - started
            tally.calls += 1
            tally.codes[code] += 1
            if code != "OK":
                tally.reasons[f"{code}/{reason}"] += 1
            tally.slowest_s = max(tally.slowest_s, took)
            if code in FORBIDDEN_CODES:
                tally.violations.append(f"{rpc.name} as {role}: {code} for {describe(request)}")
            elif code == "DEADLINE_EXCEEDED":
                tally.violations.append(
                    f"{rpc.name} as {role}: no answer in {self.timeout_s} s (hang) for {describe(request)}"
                )
            if code != "OK" and before is not None:
                after = self.snapshot(rpc.name)
                if after != before:
                    changed = {
                        k: (before.get(k), after.get(k))
                        for k in set(before) | set(after)
                        if before.get(k) != after.get(k)
                    }
                    tally.partial_writes += 1
                    tally.violations.append(
                        f"{rpc.name} as {role}: {code} but wrote {changed} for {describe(request)}"
                    )

    def run_rpc(
        self,
        rpc: Rpc,
        max_examples: int,
        *,
        derandomize: bool = True,
        seed: int | None = None,
        budget_s: float | None = None,
    ) -> Tally:
        """Up to `max_examples` generated requests (fewer when `budget_s` runs out)."""
        tally = self.tallies.setdefault(rpc.name, Tally())
        stop_at = time.monotonic() + budget_s if budget_s else math.inf
        started = time.monotonic()

        @settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=derandomize and seed is None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=(Phase.explicit, Phase.generate),
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(self.strategy(rpc))
        def explore(request):
            if time.monotonic() < stop_at:
                self.exercise(rpc, request, tally)

        if seed is not None:
            explore = hypothesis_seed(seed)(explore)
        explore()
        tally.elapsed_s += time.monotonic() - started
        return tally

    def health(self) -> dict[str, str]:
        """Each server's overall health status name (or the error code when it does not answer)."""
        result = {}
        for name, channel in self._channels.items():
            try:
                response = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=10
                )
                result[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
            except grpc.RpcError as err:
                result[name] = err.code().name
        return result

    def summary(self) -> Tally:
        total = Tally()
        for tally in self.tallies.values():
            total.merge(tally)
        return total

    def report(self, reasons: bool = False) -> str:
        """One line per method: examples, calls, slowest call, status codes (and failure reasons)."""
        lines = [f"{'rpc':40} {'examples':>8} {'calls':>6} {'slowest':>8}  codes"]
        for name, tally in self.tallies.items():
            codes = ", ".join(f"{code}={n}" for code, n in sorted(tally.codes.items()))
            lines.append(f"{name:40} {tally.examples:8} {tally.calls:6} {tally.slowest_s:7.2f}s  {codes}")
            if reasons and tally.reasons:
                why = ", ".join(f"{r}={n}" for r, n in tally.reasons.most_common())
                lines.append(f"{'':40}   reasons: {why}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------- the mesh's data


class MeshProbe:
    """Synchronous reads of a running `devkit.inprocess.Mesh`'s databases and blob directory."""

    # Which counts each mutating method may change; a failing call must leave them as they were.
    WRITES: Mapping[str, tuple[str, ...]] = {
        "learner.SignUp": ("learner:learners",),
        "learner.Enroll": ("learner:enrollments",),
        "learner.Unenroll": ("learner:enrollments",),
        "learner.RecordModuleEvent": ("learner:module_progress",),
        "learner.RecordQuizAttempt": ("learner:quiz_attempts",),
        "instructor.SignUp": ("instructor:instructors",),
        "instructor.CreateCourse": ("instructor:courses",),
        "instructor.DeleteCourse": (
            "instructor:courses",
            "instructor:modules",
            "instructor:objectives",
            "files",
            "blobs",
        ),
        "instructor.CreateModule": ("instructor:modules",),
        "instructor.DeleteModule": ("instructor:modules", "instructor:objectives"),
        "instructor.UploadCourseFile": ("files", "blobs"),
        "instructor.DeleteCourseFile": ("files", "blobs"),
        "instructor.MoveCourseFile": ("files",),
        "instructor.UpdateLearningObjectives": ("instructor:objectives",),
        "instructor.GenerateLearningObjectives": ("instructor-mongo:jobs",),
        "orchestrator.SetPreferences": ("orchestrator-mongo:preferences",),
        "orchestrator.AskTutor": ("orchestrator-mongo:tutor_messages",),
        "orchestrator.GetQuiz": ("orchestrator:quizzes",),
        "orchestrator.GetModuleContent": ("orchestrator:module_content",),
        "orchestrator.StreamModuleContent": ("orchestrator:module_content",),
        "sme.IngestDocuments": ("sme-mongo:jobs",),
    }

    def __init__(self, mesh: Any) -> None:
        from pymongo import MongoClient
        from pymongo.uri_parser import parse_uri

        self.mesh = mesh
        self.pg = {
            name: mesh.settings[name].database_url for name in ("learner", "instructor", "orchestrator")
        }
        self._mongo: dict[str, Any] = {}
        for name in ("instructor", "orchestrator", "sme"):
            url = mesh.settings[name].mongo_url
            self._mongo[name] = MongoClient(url, tz_aware=True)[parse_uri(url)["database"]]
        self.blob_root = Path(mesh.settings["instructor"].blob_root)

    def close(self) -> None:
        for db in self._mongo.values():
            db.client.close()

    def sql(self, service: str, statement: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.pg[service], autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def count(self, key: str) -> int:
        if key == "files":
            return self._mongo["instructor"]["files"].count_documents({})
        if key == "blobs":
            return len(self.blob_files())
        source, _, table = key.partition(":")
        if source.endswith("-mongo"):
            return self._mongo[source.removesuffix("-mongo")][table].count_documents({})
        return self.sql(source, f"SELECT count(*) FROM {table}")[0][0]  # table names are ours, not input

    def snapshot(self, rpc_name: str) -> dict[str, int] | None:
        keys = self.WRITES.get(rpc_name)
        return {key: self.count(key) for key in keys} if keys else None

    def blob_files(self) -> list[Path]:
        if not self.blob_root.exists():
            return []
        return sorted(p for p in self.blob_root.rglob("*") if p.is_file() or p.is_symlink())

    def invariants(self) -> list[str]:
        """What must hold after any sequence of calls; returns the broken ones."""
        broken: list[str] = []
        # files: every record has its blob, every blob its record; no temp files; nothing outside the root
        root = self.blob_root.resolve()
        records = {
            (d["course_id"], d["_id"]) for d in self._mongo["instructor"]["files"].find({}, {"course_id": 1})
        }
        blobs = set()
        for path in self.blob_files():
            relative = path.relative_to(self.blob_root)
            if path.is_symlink() or not path.resolve().is_relative_to(root) or len(relative.parts) != 2:
                broken.append(f"unexpected blob path {relative}")
            elif path.name.startswith(".upload-"):
                broken.append(f"temp file left behind: {relative}")
            else:
                blobs.add(tuple(relative.parts))
        for missing in sorted(records - blobs):
            broken.append(f"file record without blob: {missing}")
        for orphan in sorted(blobs - records):
            broken.append(f"blob without file record: {orphan}")
        # files belong to existing courses
        courses = {row[0] for row in self.sql("instructor", "SELECT id FROM courses")}
        for course_id, file_id in sorted(records):
            if course_id not in courses:
                broken.append(f"file {file_id} of a deleted course {course_id}")
        # modules: positions 0..n-1 per course
        for course_id, positions in self.sql(
            "instructor",
            "SELECT course_id, array_agg(position ORDER BY position) FROM modules GROUP BY course_id",
        ):
            if list(positions) != list(range(len(positions))):
                broken.append(f"course {course_id}: module positions {positions}")
        # single flight: nothing left held once the calls are over
        held = self.sql(
            "orchestrator",
            "SELECT key FROM generation_claims WHERE state = 'running' AND lease_expires_at > now()",
        )
        broken.extend(f"generation claim still held: {key}" for (key,) in held)
        # every quiz result the orchestrator marked recorded is known to learner_svc, exactly once
        recorded = {
            row[0] for row in self.sql("orchestrator", "SELECT attempt_id FROM quiz_results WHERE recorded")
        }
        attempts = Counter(row[0] for row in self.sql("learner", "SELECT id FROM quiz_attempts"))
        broken.extend(f"quiz result {a} not in learner_svc" for a in sorted(recorded - set(attempts)))
        broken.extend(f"attempt {a} recorded {n} times" for a, n in attempts.items() if n > 1)
        return broken


# ------------------------------------------------------------------------------------ preparation


@dataclass
class FuzzSetup:
    tokens: dict[str, str]
    pool: IdPool
    course_id: str


async def prepare(mesh: Any, tokens_service: Any) -> FuzzSetup:
    """A published tiny course, an enrolled learner with content, a quiz and a tutor exchange: real ids."""
    from devkit.inprocess import publish_course, sign_up_learner, tiny_course

    course = await publish_course(mesh, tiny_course(), objectives_per_module=2)
    learner_id, learner_token = await sign_up_learner(mesh, "Fuzzer")
    service_token = tokens_service.issue("fuzz-service", "service", 3600)[0]
    instructor = mesh.instructor_stub(course.instructor_token)
    await mesh.learner_stub(learner_token).Enroll(lpb.EnrollRequest(course_id=course.course_id))
    orchestrator = mesh.orchestrator_stub(learner_token)
    m1 = course.module_ids[0]
    await orchestrator.GetModuleContent(opb.GetModuleContentRequest(course_id=course.course_id, module_id=m1))
    quiz = (await orchestrator.GetQuiz(opb.GetQuizRequest(course_id=course.course_id, module_id=m1))).quiz
    async for _ in orchestrator.AskTutor(
        opb.AskTutorRequest(
            course_id=course.course_id, module_id=m1, question="What does break do in a loop?"
        )
    ):
        pass
    me = await instructor.GetMe(ipb.GetMeRequest())
    files = await instructor.ListCourseFiles(ipb.ListCourseFilesRequest(course_id=course.course_id))
    status = await instructor.GetIndexingStatus(ipb.GetIndexingStatusRequest(course_id=course.course_id))
    objectives = await instructor.ListLearningObjectives(
        ipb.ListLearningObjectivesRequest(course_id=course.course_id)
    )
    chunks = await mesh.sme_stub(service_token).Retrieve(
        spb.RetrieveRequest(course_id=course.course_id, query="loops", k=5)
    )

    pool = IdPool()
    pool.add("course", course.course_id)
    pool.add("module", *course.module_ids)
    pool.add("file", *(f.id for f in files.files))
    pool.add("job", status.last_job.id)
    pool.add("learner", learner_id)
    pool.add("instructor", me.instructor.id)
    pool.add("quiz", quiz.id)
    pool.add("question", *(q.id for q in quiz.questions))
    pool.add("objective", *(o.id for m in objectives.modules for o in m.objectives))
    pool.add("chunk", *(c.chunk_id for c in chunks.chunks))
    pool.add("attempt", "fuzz-attempt-" + uuid.uuid4().hex[:8])
    pool.emails.append(me.instructor.email)
    tokens = {"service": service_token, "learner": learner_token, "instructor": course.instructor_token}
    return FuzzSetup(tokens, pool, course.course_id)


def unhealthy_servers(fuzzer: RpcFuzzer) -> list[str]:
    """'<service> is <status>' for every server that does not answer SERVING to a health check."""
    return [f"{name} is {status}" for name, status in fuzzer.health().items() if status != "SERVING"]


@contextlib.contextmanager
def fuzzing_session(mesh: Any, setup: FuzzSetup, *, timeout_s: float = 60.0):
    """An `RpcFuzzer` on the mesh with a `MeshProbe` doing the write checks; closes both."""
    probe = MeshProbe(mesh)
    fuzzer = RpcFuzzer(mesh.targets, setup.tokens, setup.pool, snapshot=probe.snapshot, timeout_s=timeout_s)
    try:
        yield fuzzer, probe
    finally:
        fuzzer.close()
        probe.close()
