"""The four gRPC services in-process, wired by devkit.topology, for integration and end-to-end tests and the
RPC fuzzer (scripts/fuzz_rpcs.py).

    async with running_mesh(pg_urls, mongo_url, tmp_path, common_settings) as mesh:
        learner = mesh.learner_stub(token); orchestrator = mesh.orchestrator_stub(token); ...

learner_svc, instructor_svc, sme_svc and orchestrator_svc run as real gRPC servers against real PostgreSQL
(one fresh database each, see `fresh_pg_urls`) and MongoDB (one database each, named after `mongo_url`'s).
They depend on each other in a circle (learner <-> instructor <-> sme), so every port is chosen up front with
`free_port()` and every service is started knowing the others' targets. sme_svc can be stopped and started
again on the same port (`mesh.stop_sme()`, `mesh.start_sme()`) to test what the others do meanwhile.
`mesh.bff_settings()` wires a BFF to it. `mesh.metrics_ports` says where each service serves its /metrics
(with LMW_METRICS_PORT=0 in the common settings, as in tests). Tests share one mesh per session through the
fixtures of tests/integration/mesh.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from devkit import PASSWORD, SAMPLE_COURSE
from devkit.databases import Postgres, free_port, mongo_uri_with_db
from devkit.topology import GRPC_SERVICES, MONGO_SERVICES, POSTGRES_SERVICES, service, wiring
from lmw.instructor.v1 import instructor_service_pb2_grpc as ipb_grpc
from lmw.learner.v1 import learner_service_pb2_grpc as lpb_grpc
from lmw.orchestrator.v1 import orchestrator_service_pb2_grpc as opb_grpc
from lmw.sme.v1 import sme_service_pb2_grpc as spb_grpc
from lmw_common.config import LmwSettings
from lmw_common.runtime import serving


def fresh_pg_urls(postgres: Postgres, prefix: str = "") -> dict[str, str]:
    """One new PostgreSQL database per service that owns tables (drop them with `drop_pg_urls`)."""
    prefix = prefix or "m_" + uuid.uuid4().hex[:12]
    return {name: postgres.database_uri(f"{prefix}_{name}") for name in POSTGRES_SERVICES}


def drop_pg_urls(postgres: Postgres, urls: Mapping[str, str]) -> None:
    for url in urls.values():
        postgres.drop_database(url.rsplit("/", 1)[1].split("?")[0])


def _mongo_db(mongo_url: str, service: str) -> str:
    base, _, name = mongo_url.rstrip("/").rpartition("/")
    if "://" not in base:  # no database in the URL: mongodb://host:port
        base, name = mongo_url.rstrip("/"), "m_" + uuid.uuid4().hex[:12]
    return mongo_uri_with_db(base, f"{name}_{service}")


@dataclass
class Mesh:
    ports: dict[str, int]
    settings: dict[str, Any]
    common: LmwSettings
    _sme_stack: AsyncExitStack | None = None
    metrics_ports: dict[str, int | None] = field(default_factory=dict)
    _channels: list[grpc.aio.Channel] = field(default_factory=list)
    _orchestrator: list = field(default_factory=list)

    @property
    def targets(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{port}" for name, port in self.ports.items()}

    @property
    def orchestrator(self):
        """orchestrator_svc's use cases (OrchestratorApp), to wait for their background work."""
        return self._orchestrator[-1]

    def learner_stub(self, token: str | None = None) -> lpb_grpc.LearnerServiceStub:
        return lpb_grpc.LearnerServiceStub(self._authed("learner", token))

    def instructor_stub(self, token: str | None = None) -> ipb_grpc.InstructorServiceStub:
        return ipb_grpc.InstructorServiceStub(self._authed("instructor", token))

    def orchestrator_stub(
        self, token: str | None = None, port: int | None = None
    ) -> opb_grpc.OrchestratorServiceStub:
        """orchestrator_svc, or another replica of it on `port` (see `orchestrator_replica`)."""
        return opb_grpc.OrchestratorServiceStub(self._authed("orchestrator", token, port))

    def sme_stub(self, token: str | None = None) -> spb_grpc.SmeServiceStub:
        return spb_grpc.SmeServiceStub(self._authed("sme", token))

    def _authed(self, service: str, token: str | None, port: int | None = None) -> grpc.aio.Channel:
        interceptors = _bearer(token) if token else []
        target = f"127.0.0.1:{port}" if port else self.targets[service]
        channel = grpc.aio.insecure_channel(target, interceptors=interceptors)
        self._channels.append(channel)
        return channel

    async def stop_sme(self) -> None:
        if self._sme_stack is not None:
            stack, self._sme_stack = self._sme_stack, None
            await stack.aclose()

    async def start_sme(self) -> None:
        """Start sme_svc again on its port, with the same MongoDB database and index directory."""
        if self._sme_stack is not None:
            return
        from sme_svc.bootstrap import bootstrap as sme_bootstrap

        stack = AsyncExitStack()
        running = await stack.enter_async_context(serving("sme_svc", self.settings["sme"], sme_bootstrap))
        self.metrics_ports["sme"] = running.metrics_port
        self._sme_stack = stack

    @asynccontextmanager
    async def orchestrator_replica(self, **overrides: Any) -> AsyncIterator[int]:
        """One more orchestrator_svc replica on the same databases and services; yields its port."""
        from orchestrator_svc.bootstrap import bootstrap

        settings = self.settings["orchestrator"].model_copy(update={"port": free_port(), **overrides})
        async with serving("orchestrator_svc", settings, bootstrap):
            yield settings.port

    def bff_settings(self, **overrides: Any):
        """Settings of a BFF wired to this mesh (serve it with devkit.graphql_checks.serve_bff)."""
        from bff.config import BffSettings

        ports = {**self.ports, "bff": 0}
        wired = wiring(service("bff"), host="127.0.0.1", ports=ports, postgres={}, mongo={}, data_dir=Path())
        return BffSettings(common=self.common, **{**wired, **overrides})

    async def close_channels(self) -> None:
        for channel in self._channels:
            await channel.close()
        self._channels.clear()


class _Bearer:
    """Sends the bearer token (grpc.aio registers one interceptor object for one call type only)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if "authorization" not in metadata:
            metadata["authorization"] = f"Bearer {self._token}"
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
        )


class _BearerUnary(_Bearer, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _BearerServerStream(_Bearer, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _BearerClientStream(_Bearer, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await continuation(self._details(client_call_details), request_iterator)


def _bearer(token: str) -> list:
    return [_BearerUnary(token), _BearerServerStream(token), _BearerClientStream(token)]


@asynccontextmanager
async def running_mesh(
    pg_urls: Mapping[str, str],
    mongo_url: str,
    tmp_path: Path,
    common_settings: LmwSettings,
    *,
    learner: Mapping[str, Any] | None = None,
    instructor: Mapping[str, Any] | None = None,
    sme: Mapping[str, Any] | None = None,
    orchestrator: Mapping[str, Any] | None = None,
) -> AsyncIterator[Mesh]:
    """Start learner, instructor, sme and orchestrator wired to each other; yields a `Mesh`.

    `pg_urls` maps "learner", "instructor" and "orchestrator" to their (fresh) databases; the keyword
    arguments override each service's settings (e.g. `orchestrator={"sme_breaker_reset_timeout_s": 1}`).
    """
    from instructor_svc.bootstrap import bootstrap as instructor_bootstrap
    from instructor_svc.config import InstructorSettings
    from learner_svc.bootstrap import bootstrap as learner_bootstrap
    from learner_svc.config import LearnerSettings
    from orchestrator_svc.bootstrap import compose as orchestrator_compose
    from orchestrator_svc.config import OrchestratorSettings
    from orchestrator_svc.servicer import service_spec as orchestrator_spec
    from sme_svc.config import SmeSettings

    classes = {
        "learner": LearnerSettings,
        "instructor": InstructorSettings,
        "sme": SmeSettings,
        "orchestrator": OrchestratorSettings,
    }
    overrides = {
        "learner": learner or {},
        "instructor": instructor or {},
        "sme": {"generator_backend": "extractive", **(sme or {})},
        "orchestrator": orchestrator or {},
    }
    ports = {name: free_port() for name in GRPC_SERVICES}
    mongo = {name: _mongo_db(mongo_url, name) for name in MONGO_SERVICES}
    base = {"common": common_settings, "shutdown_grace_s": 0.5}
    settings = {
        name: classes[name](
            **base,
            **wiring(
                service(name), host="127.0.0.1", ports=ports, postgres=pg_urls, mongo=mongo, data_dir=tmp_path
            ),
            **overrides[name],
        )
        for name in GRPC_SERVICES
    }
    mesh = Mesh(ports, settings, common_settings)

    @asynccontextmanager
    async def capture(service_settings, runtime):
        async with orchestrator_compose(service_settings, runtime) as app:
            mesh._orchestrator.append(app)
            yield [orchestrator_spec(app)]

    async with AsyncExitStack() as stack:
        stack.push_async_callback(mesh.stop_sme)
        stack.push_async_callback(mesh.close_channels)
        # sme_svc first: loading the embedding model is the slowest start; the others start meanwhile.
        sme_start = asyncio.create_task(mesh.start_sme())
        try:
            for name, module, bootstrap in (
                ("learner", "learner_svc", learner_bootstrap),
                ("instructor", "instructor_svc", instructor_bootstrap),
                ("orchestrator", "orchestrator_svc", capture),
            ):
                running = await stack.enter_async_context(serving(module, settings[name], bootstrap))
                mesh.metrics_ports[name] = running.metrics_port
        finally:
            await sme_start
        yield mesh


# ------------------------------------------------------------------------------ a published course


@dataclass(frozen=True)
class ModuleSpec:
    title: str
    description: str


@dataclass(frozen=True)
class CourseSpec:
    title: str
    description: str
    modules: tuple[ModuleSpec, ...]
    files: tuple[tuple[str, bytes], ...]  # (file name, content)


def tiny_course() -> CourseSpec:
    """Two small Markdown modules: fast to index and to generate from on CPU."""
    topics = {
        "Loops": "A for loop repeats a block once for every item of a sequence. A while loop repeats a block "
        "as long as its condition stays true. The break statement leaves a loop early and continue skips "
        "to the next iteration. Loops over ranges count with range(start, stop, step).",
        "Functions": "A function is defined with def, a name, parameters and a body. The return statement "
        "hands a value back to the caller. Default parameter values make arguments optional. A function "
        "without a return statement returns None. Keyword arguments are matched to parameters by name.",
    }
    files = []
    for topic, text in topics.items():
        sections = "\n\n".join(f"## {topic} in practice {i}\n\n{text}" for i in range(1, 4))
        files.append((f"{topic.lower()}.md", f"# {topic}\n\n{text}\n\n{sections}\n".encode()))
    return CourseSpec(
        "Python basics",
        "Loops and functions in Python.",
        tuple(ModuleSpec(t, f"How {t.lower()} work in Python.") for t in topics),
        tuple(files),
    )


def sample_course(max_modules: int | None = None) -> CourseSpec:
    """scripts/sample_course (the demo course) when present, else `tiny_course()`."""
    import json

    manifest = SAMPLE_COURSE / "course.json"
    if not manifest.exists():
        return tiny_course()
    data = json.loads(manifest.read_text())
    modules = data["modules"][:max_modules] if max_modules else data["modules"]
    names = [name for m in modules for name in m.get("files", [])]
    return CourseSpec(
        data["title"],
        data["description"],
        tuple(ModuleSpec(m["title"], m["description"]) for m in modules),
        tuple((name, (SAMPLE_COURSE / name).read_bytes()) for name in names),
    )


@dataclass(frozen=True)
class PublishedCourse:
    course_id: str
    module_ids: tuple[str, ...]
    instructor_token: str


async def _poll(probe, timeout_s: float, what: str, interval_s: float = 0.25):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await probe()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        await asyncio.sleep(interval_s)


async def publish_course(
    mesh: Mesh, spec: CourseSpec, *, objectives_per_module: int = 3, timeout_s: float = 300.0
) -> PublishedCourse:
    """The instructor's side: sign up, create the course and modules, upload the files, wait for indexing,
    generate and approve the objectives of every module, publish."""
    from lmw.common.v1 import common_pb2 as cpb
    from lmw.instructor.v1 import instructor_service_pb2 as ipb

    anonymous = mesh.instructor_stub()
    signed = await anonymous.SignUp(
        ipb.SignUpRequest(
            email=f"teacher-{uuid.uuid4().hex[:10]}@example.org", password=PASSWORD, display_name="T"
        )
    )
    token = signed.access_token.token
    stub = mesh.instructor_stub(token)
    course = (
        await stub.CreateCourse(ipb.CreateCourseRequest(title=spec.title, description=spec.description))
    ).course
    module_ids = []
    for module in spec.modules:
        created = await stub.CreateModule(
            ipb.CreateModuleRequest(course_id=course.id, title=module.title, description=module.description)
        )
        module_ids.append(created.module.id)

    for name, data in spec.files:

        async def chunks(name=name, data=data):
            yield ipb.UploadCourseFileRequest(
                metadata=ipb.UploadCourseFileMetadata(
                    course_id=course.id, file_name=name, size_bytes=len(data)
                )
            )
            for start in range(0, len(data), 64 * 1024):
                yield ipb.UploadCourseFileRequest(data=data[start : start + 64 * 1024])

        await stub.UploadCourseFile(chunks())

    async def indexed():
        status = await stub.GetIndexingStatus(ipb.GetIndexingStatusRequest(course_id=course.id))
        if status.failed_file_count:
            raise AssertionError(f"indexing failed: {status}")
        return status.state == ipb.INDEX_STATE_READY and status.indexed_file_count == len(spec.files)

    await _poll(indexed, timeout_s, "indexing the course files")

    job = (
        await stub.GenerateLearningObjectives(
            ipb.GenerateLearningObjectivesRequest(course_id=course.id, count=objectives_per_module)
        )
    ).job

    async def generated():
        current = (await stub.GetJob(ipb.GetJobRequest(job_id=job.id))).job
        if current.state == cpb.JOB_STATE_FAILED:
            raise AssertionError(f"objective generation failed: {current}")
        return current.state == cpb.JOB_STATE_SUCCEEDED

    await _poll(generated, timeout_s, "generating the learning objectives")
    listed = await stub.ListLearningObjectives(ipb.ListLearningObjectivesRequest(course_id=course.id))
    for module in listed.modules:
        if not module.objectives:
            raise AssertionError(f"no objectives were generated for module {module.module_id}")
        await stub.ApproveLearningObjectives(
            ipb.ApproveLearningObjectivesRequest(
                course_id=course.id, module_id=module.module_id, version=module.version
            )
        )
    await stub.PublishCourse(ipb.PublishCourseRequest(course_id=course.id))
    return PublishedCourse(course.id, tuple(module_ids), token)


async def sign_up_learner(mesh: Mesh, name: str = "Learner") -> tuple[str, str]:
    """A new learner account: (learner id, access token)."""
    from lmw.learner.v1 import learner_service_pb2 as lpb

    response = await mesh.learner_stub().SignUp(
        lpb.SignUpRequest(
            email=f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.org", password=PASSWORD, display_name=name
        )
    )
    return response.learner.id, response.access_token.token
