"""The local launcher: embedded PostgreSQL, a MongoDB-wire server, then every service of devkit.topology as
a supervised subprocess with its environment.

    with Launcher(data_dir, free_ports()) as mesh:   # returns once every service is SERVING
        ... mesh.graphql_url ...

- `start()` fails fast: a service that exits, or is not ready within `ready_timeout_s`, stops everything
  and raises MeshError with its last log lines.
- Once up, a service that exits unexpectedly is reported (which one, its exit code, its last log lines) and
  started again after `restart_delay_s`, doubling with each consecutive restart up to `max_delay_s`. A
  service that then stays up for `stable_after_s` starts afresh; after `max_restarts` consecutive restarts
  it is given up on (said so) and the others keep running. `crashes` lists every unexpected exit.
- `stop()` (also at interpreter exit; the CLI turns Ctrl-C and SIGTERM into it) stops the services, the
  BFF first, then both databases. Every child gets PR_SET_PDEATHSIG, so it dies with the launcher even when
  the launcher is SIGKILLed; the databases left by a killed launcher are stopped by the next start.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The launcher itself only polls health; grpc's fork handlers would complain about every pg_ctl it runs.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

import grpc  # noqa: E402
import httpx  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from devkit import ROOT  # noqa: E402
from devkit.databases import (  # noqa: E402
    MongoWire,
    Postgres,
    dev_secret,
    free_port,
    mongo_uri_with_db,
    prune_stale_pg_handles,
    stop_stale_mongo,
)
from devkit.logs import Printer, human_lines  # noqa: E402
from devkit.topology import MONGO_SERVICES, NAMES, POSTGRES_SERVICES, SERVICES, Service, environment, wiring  # noqa: E402

MONGO_PORT_ENV = "LMW_MONGO_PORT"
# CPU niceness: on the shared cores of a local run, request serving goes before bulk inference work.
NICENESS = {"sme": 10}

# A child sets PR_SET_PDEATHSIG first, so it dies with the launcher even when the launcher is SIGKILLed.
# (The signal follows the thread that started the child: the supervisor thread starts them all and lives
# until they are stopped.)
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


def default_ports(env: Mapping[str, str] | None = None) -> dict[str, int]:
    """The topology's ports, each overridable by `<PREFIX>_PORT` (and MongoDB's by LMW_MONGO_PORT; 0: free)."""
    env = os.environ if env is None else env
    ports = {s.name: s.port for s in SERVICES} | {"mongo": 0}
    variables = {s.name: f"{s.prefix}_PORT" for s in SERVICES} | {"mongo": MONGO_PORT_ENV}
    for name, variable in variables.items():
        if env.get(variable, "").isdigit():
            ports[name] = int(env[variable])
    return ports


METRICS_PORT_BASE = 9464  # `make up`: learner 9464, instructor 9465, orchestrator 9466, sme 9467, bff 9468


def default_metrics_ports() -> dict[str, int]:
    """Where each process serves its /metrics under `make up` (every process needs a port of its own)."""
    return {name: METRICS_PORT_BASE + i for i, name in enumerate(NAMES)}


def free_ports() -> dict[str, int]:
    """A free port for every service and MongoDB (tests, benchmarks)."""
    return {name: free_port() for name in (*NAMES, "mongo")}


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


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


@dataclass(frozen=True)
class Crash:
    """An unexpected exit of a service."""

    service: str
    exit_code: int | None
    last_lines: tuple[str, ...]

    def describe(self) -> str:
        tail = "\n".join(f"    {line}" for line in self.last_lines) or "    (no output)"
        return (
            f"{self.service} exited unexpectedly ({describe_exit(self.exit_code)}); its last lines:\n{tail}"
        )


@dataclass
class Child:
    service: Service
    env: dict[str, str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = None
    tail: collections.deque = field(default_factory=lambda: collections.deque(maxlen=60))  # raw lines
    ready_since: float | None = None  # when it last became SERVING
    restarts: int = 0  # consecutive restarts since it last stayed up
    restart_at: float | None = None  # when a crashed child starts again
    given_up: bool = False
    channel: grpc.Channel | None = None  # health checks until it is SERVING

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def grpc_serving(target: grpc.Channel | int, timeout_s: float = 5.0) -> bool:
    """Whether the gRPC server (a channel, or a port on 127.0.0.1) answers its health check SERVING."""
    if isinstance(target, int):
        with grpc.insecure_channel(f"127.0.0.1:{target}") as channel:
            return grpc_serving(channel, timeout_s)
    try:
        reply = health_pb2_grpc.HealthStub(target).Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
    except grpc.RpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


class Launcher:
    """Start, supervise and stop the whole local system. Use as a context manager; `stop()` is idempotent
    and also registered with atexit, so the databases never outlive the launcher."""

    def __init__(
        self,
        data_dir: Path | str = ROOT / ".lmw",
        ports: Mapping[str, int] | None = None,
        *,
        services: Iterable[str] = NAMES,
        env: Mapping[str, str] | None = None,
        metrics_ports: Mapping[str, int] | None = None,
        printer: Printer | None = None,
        log_level: str = "INFO",
        ready_timeout_s: float = 180.0,
        stop_timeout_s: float = 15.0,
        restart_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        max_restarts: int = 5,
        stable_after_s: float = 60.0,
    ) -> None:
        wanted = set(services)
        unknown = wanted - set(NAMES)
        if unknown:
            raise MeshError(f"unknown services {sorted(unknown)}; the services are {', '.join(NAMES)}")
        self.data_dir = Path(data_dir).resolve()
        self.ports = dict(ports or default_ports())
        # Each process's /metrics (LMW_METRICS_PORT); free ports unless given.
        self.metrics_ports = dict(metrics_ports or {name: free_port() for name in NAMES})
        self.services = [s for s in SERVICES if s.name in wanted]
        self.extra_env = dict(env or {})
        self.printer = printer or Printer()
        self.log_level = log_level
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.restart_delay_s = restart_delay_s
        self.max_delay_s = max_delay_s
        self.max_restarts = max_restarts
        self.stable_after_s = stable_after_s
        self.children: dict[str, Child] = {}
        self.crashes: list[Crash] = []
        self.postgres: Postgres | None = None
        self.mongo: MongoWire | None = None
        self.database_urls: dict[str, str] = {}
        self._started = False
        self._up = threading.Event()  # every service was SERVING once
        self._closing = threading.Event()  # stop() has begun: no more restarts
        self._children_stopped = threading.Event()
        self._startup_failure: str | None = None
        self._lock = threading.Lock()
        self._stop_lock = threading.Lock()
        self._stopped = False
        self._supervisor: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------- urls

    @property
    def bff_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['bff']}"

    @property
    def graphql_url(self) -> str:
        return f"{self.bff_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['bff']}/graphql"

    def metrics_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.metrics_ports[name]}/metrics"

    def mongo_url(self, database: str) -> str:
        assert self.mongo is not None, "the mesh is not started"
        return mongo_uri_with_db(self.mongo.uri, database)

    def pids(self) -> dict[str, int]:
        """The process id of every running service, and of the MongoDB-wire server."""
        pids = {name: child.process.pid for name, child in self.children.items() if child.running}
        if self.mongo is not None:
            pids["mongo"] = self.mongo.pid
        return pids

    # -------------------------------------------------------------------------------------- lifecycle

    def __enter__(self) -> Launcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
            common = self._common_env(secret)
            for svc in self.services:
                self.children[svc.name] = Child(svc, {**common, **self._service_env(svc), **self.extra_env})
            self._supervisor = threading.Thread(target=self._supervise, name="mesh-supervisor", daemon=True)
            self._supervisor.start()
            if not self._up.wait(self.ready_timeout_s):
                pending = sorted(c.name for c in self.children.values() if c.ready_since is None)
                raise MeshError(f"not ready after {self.ready_timeout_s:.0f} s: {', '.join(pending)}")
            if self._startup_failure:
                raise MeshError(self._startup_failure)
        except BaseException:
            self.stop()
            raise
        self.printer.say(
            f"all services ready in {time.monotonic() - started:.1f} s; GraphQL at {self.graphql_url}"
        )

    def _check_ports(self) -> None:
        wanted = [(s.name, self.ports[s.name]) for s in self.services]
        wanted += [(f"{s.name} metrics", self.metrics_ports[s.name]) for s in self.services]
        if self.ports.get("mongo"):
            wanted.append(("mongo", self.ports["mongo"]))
        busy = [f"{name}:{port}" for name, port in wanted if _port_in_use(port)]
        if busy:
            raise MeshError(
                f"ports in use ({', '.join(busy)}): is another mesh running? Stop it or pick other ports"
            )

    def _start_databases(self) -> None:
        started = time.monotonic()
        pg_dir = self.data_dir / "pg"
        prune_stale_pg_handles(pg_dir)
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            self.postgres = Postgres(pg_dir)
        self.database_urls = {name: self.postgres.database_uri(name) for name in POSTGRES_SERVICES}
        self.printer.say(f"PostgreSQL ready in {time.monotonic() - started:.1f} s ({pg_dir})")
        started = time.monotonic()
        mongo_dir = self.data_dir / "mongo"
        mongo_dir.mkdir(parents=True, exist_ok=True)
        pid_file = self.data_dir / "mongo.pid"
        stop_stale_mongo(pid_file)
        self.mongo = MongoWire(storage=str(mongo_dir), port=self.ports.get("mongo", 0))
        self.ports["mongo"] = self.mongo.port
        with contextlib.suppress(OSError):
            pid_file.write_text(str(self.mongo.pid))
        self.printer.say(
            f"MongoDB wire server ready in {time.monotonic() - started:.1f} s (port {self.mongo.port})"
        )

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

    def _service_env(self, svc: Service) -> dict[str, str]:
        settings = wiring(
            svc,
            host="127.0.0.1",
            ports=self.ports,
            postgres=self.database_urls,
            mongo={name: self.mongo_url(name) for name in MONGO_SERVICES},
            data_dir=self.data_dir,
        )
        env = environment(svc, settings)
        env["LMW_METRICS_PORT"] = str(self.metrics_ports[svc.name])
        if svc.name == "sme":  # where the weights are and which generator runs stay the developer's choice
            env["SME_MODEL_DIR"] = os.environ.get("SME_MODEL_DIR", env["SME_MODEL_DIR"])
            env["SME_GENERATOR_BACKEND"] = os.environ.get("SME_GENERATOR_BACKEND", "extractive")
        return env

    # ------------------------------------------------------------------------------------- supervision

    def _supervise(self) -> None:
        try:
            with self._lock:
                for child in self.children.values():
                    self._spawn(child)
            while not self._closing.wait(0.2):
                self._tick()
        except Exception as error:  # a bug here must not pass silently: nothing would be supervised
            self._startup_failure = self._startup_failure or f"the supervisor failed: {error!r}"
            self.printer.alarm(f"the supervisor failed: {error!r}; services are no longer restarted")
            self._up.set()
        finally:
            self._children_stopped.wait()  # the children's PDEATHSIG follows this thread: outlive them

    def _tick(self) -> None:
        now = time.monotonic()
        with self._lock:
            if self._closing.is_set():
                return
            for child in self.children.values():
                if child.given_up or child.running:
                    continue
                if child.restart_at is None:
                    self._exited(child, now)
                elif now >= child.restart_at:
                    child.restart_at = None
                    self._spawn(child)
        for child in list(self.children.values()):
            if not child.running:
                continue
            if child.ready_since is None:
                if self._is_ready(child):
                    self._became_ready(child)
            elif child.restarts and now - child.ready_since >= self.stable_after_s:
                child.restarts = 0

    def _became_ready(self, child: Child) -> None:
        child.ready_since = time.monotonic()
        if child.channel is not None:
            child.channel.close()
            child.channel = None
        port = self.ports[child.name]
        if not self._up.is_set():
            self.printer.say(f"{child.name} ready on port {port}; metrics at {self.metrics_url(child.name)}")
            if all(c.ready_since is not None for c in self.children.values()):
                self._up.set()
        else:
            self.printer.say(f"{child.name} is back: SERVING on port {port} (restart {child.restarts})")

    def _exited(self, child: Child, now: float) -> None:
        """A child exited on its own: fail the start, or restart it after a backoff, or give up."""
        assert child.process is not None
        if child.reader is not None:
            child.reader.join(timeout=2)
        crash = Crash(child.name, child.process.returncode, tuple(human_lines(child.tail)[-30:]))
        child.ready_since = None
        if not self._up.is_set():
            self._startup_failure = crash.describe()
            self._up.set()
            return
        self.crashes.append(crash)
        self.printer.alarm(crash.describe())
        if child.restarts >= self.max_restarts:
            child.given_up = True
            self.printer.alarm(
                f"{child.name} keeps crashing: given up after {self.max_restarts} restarts in a row. "
                "The other services keep running; Ctrl-C stops everything."
            )
            return
        delay = min(self.restart_delay_s * 2**child.restarts, self.max_delay_s)
        child.restarts += 1
        child.restart_at = now + delay
        self.printer.alarm(
            f"restarting {child.name} in {delay:.1f} s (restart {child.restarts} of at most {self.max_restarts})"
        )

    def _spawn(self, child: Child) -> None:
        child.tail.clear()
        child.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, child.service.module, str(NICENESS.get(child.name, 0))],
            cwd=ROOT,
            env=child.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the launcher only; it stops the children in order
        )
        child.reader = threading.Thread(
            target=self._pump, args=(child, child.process), name=f"log-{child.name}", daemon=True
        )
        child.reader.start()

    def _pump(self, child: Child, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        with process.stdout:
            for raw in iter(process.stdout.readline, b""):
                if raw.strip():
                    child.tail.append(raw.decode("utf-8", "replace").rstrip("\n"))
                    self.printer.service_line(child.name, raw)

    def _is_ready(self, child: Child) -> bool:
        port = self.ports[child.name]
        if child.service.http:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False
        if child.channel is None:
            # Reconnect quickly: the default backoff would notice a freshly started server seconds late.
            child.channel = grpc.insecure_channel(
                f"127.0.0.1:{port}",
                options=[
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.min_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 250),
                ],
            )
        return grpc_serving(child.channel, timeout_s=1.0)

    def check_no_crashes(self) -> None:
        """Raise MeshError describing every unexpected exit so far (restarted or not)."""
        if self.crashes:
            raise MeshError("\n".join(crash.describe() for crash in self.crashes))

    # ------------------------------------------------------------------------------------------- stop

    def stop(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        with self._lock:  # from here on nothing is restarted
            self._closing.set()
        children = [c for c in self.children.values() if c.process is not None]
        if children:
            self.printer.say("stopping services")
        for child in reversed(children):  # the BFF first, the services it calls after
            if child.running:
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout_s
        for child in reversed(children):
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.printer.say(f"{child.name} did not stop in {self.stop_timeout_s:.0f} s: killing it")
                child.process.kill()
                child.process.wait()
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout=2)
            if child.channel is not None:
                child.channel.close()
        self._children_stopped.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        # The two databases stop side by side (each takes a few seconds to flush).
        stoppers = [threading.Thread(target=self._stop_mongo), threading.Thread(target=self._stop_postgres)]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        if children or self.postgres is not None:
            self.printer.say("stopped")

    def _stop_mongo(self) -> None:
        if self.mongo is not None:
            self.mongo.stop()
            with contextlib.suppress(OSError):
                (self.data_dir / "mongo.pid").unlink()

    def _stop_postgres(self) -> None:
        if self.postgres is not None:
            self.postgres.stop()
