"""The images and the Helm chart tested together: build the CPU images, run the whole system from them with the
settings the chart renders, and walk the demo scenario through the containerized BFF.

    .venv/bin/python scripts/containers_check.py            # build, run, demo; exit 1 on any failure
    .venv/bin/python scripts/containers_check.py --no-build # reuse the images `make images` built

1. Images: `make images` with podman. Where the Dockerfiles' default base cannot be pulled (no registry), a
   local Debian bookworm base is made with mmdebstrap and imported as BASE_IMAGE, and the portal comes from
   `make web` (PORTAL_SOURCE=prebuilt). Torch comes from the folder in pip's find-links that holds the CPU
   wheel, when there is one; the machine's CA bundle is the build secret.
2. Databases on the host as the dev kit starts them (devkit.databases): embedded PostgreSQL (its Unix socket
   forwarded to a TCP port here) and the MongoDB-wire server; containers reach the host's loopback through
   slirp4netns at 10.0.2.2.
3. The chart rendered offline with its default values (devkit.chart). From each workload: the image, command,
   args, env, ports, user, read-only root filesystem, dropped capabilities, memory limit and writable mounts
   (emptyDir: a tmpfs of its size limit; a PersistentVolumeClaim: a podman volume owned by the pod's user). Only
   Secret values (the signing secret, the database URLs) and the peer-service addresses are replaced: there
   is no cluster DNS, so each peer is reached on the host port its container port is published on.
4. The migration hook Job's containers, then the four services and the BFF; each must report gRPC health
   SERVING (the BFF: /readyz 200). Then the demo scenario (devkit.demo) and the portal's start page.

Everything it starts is named `lmw-check-*` and removed by name on every exit path (SIGTERM and SIGHUP
included). Needs root podman with runc (k8s/README.md, "Running the images").
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a plain script: make devkit importable


from devkit import chart  # noqa: E402
from devkit.databases import MongoWire, Postgres, dev_secret, free_port, mongo_uri_with_db, scratch_dir  # noqa: E402
from devkit.demo import Demo  # noqa: E402
from devkit.launcher import grpc_serving  # noqa: E402
from devkit.logs import Printer  # noqa: E402
from devkit.topology import SERVICES  # noqa: E402

PREFIX = "lmw-check-"
DEFAULT_BASE = "docker.io/library/python:3.11-slim-bookworm"  # the Dockerfiles' default, fully qualified
LOCAL_BASE = "localhost/debian-python:bookworm"
HOST_LOOPBACK = "10.0.2.2"  # the host's 127.0.0.1 as slirp4netns shows it to a container
NETWORK = "slirp4netns:allow_host_loopback=true"
TORCH_WHEEL = "torch-2.13.0+cpu-*.whl"
READY_TIMEOUT_S = 300.0  # sme_svc loads its encoder before it reports SERVING; the machine is shared


class CheckFailed(RuntimeError):
    pass


def say(text: str) -> None:
    print(f"[check] {text}", flush=True)


def run(cmd: list[str], *, check: bool = True, capture: bool = False, timeout: float | None = None) -> str:
    result = subprocess.run(cmd, text=True, capture_output=capture, timeout=timeout, cwd=ROOT)
    if check and result.returncode != 0:
        detail = f": {result.stderr.strip()[-2000:]}" if capture else ""
        raise CheckFailed(f"{' '.join(cmd[:4])} ... exited with {result.returncode}{detail}")
    return result.stdout if capture else ""


# ---------------------------------------------------------------------------------------------- images


def registry_reachable(tool: str) -> bool:
    probe = subprocess.run([tool, "pull", "-q", DEFAULT_BASE], capture_output=True, text=True, timeout=180)
    return probe.returncode == 0


def local_base(tool: str) -> str:
    """A Debian bookworm base with Python 3.11 from Debian's own packages, made once and kept."""
    if subprocess.run([tool, "image", "exists", LOCAL_BASE]).returncode == 0:
        return LOCAL_BASE
    if not shutil.which("mmdebstrap"):
        raise CheckFailed(
            "no registry is reachable and mmdebstrap is not installed (apt-get install mmdebstrap)"
        )
    with tempfile.TemporaryDirectory(prefix="lmw-base-") as scratch:
        tarball = Path(scratch) / "base.tar"
        say(f"no registry reachable: building the local base {LOCAL_BASE} with mmdebstrap")
        packages = "python3,python3-venv,python3-pip,ca-certificates"
        run(["mmdebstrap", "--variant=minbase", f"--include={packages}", "bookworm", str(tarball)])
        run([tool, "import", str(tarball), LOCAL_BASE])
    return LOCAL_BASE


def torch_wheels() -> str | None:
    """The folder in pip's find-links that holds the CPU torch wheel, if any."""
    links = os.environ.get("PIP_FIND_LINKS", "").split()
    config = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True
    ).stdout
    links += [m.group(1) for m in re.finditer(r"find-links='([^']+)'", config)]
    for link in links:
        folder = Path(link.removeprefix("file://"))
        if folder.is_dir() and any(folder.glob(TORCH_WHEEL)):
            return str(folder)
    return None


def ca_bundle() -> str | None:
    for candidate in (os.environ.get("SSL_CERT_FILE"), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def build_images(tool: str) -> None:
    variables = [f"CONTAINER_ENGINE={tool}"]
    if not registry_reachable(tool):
        variables += [f"BASE_IMAGE={local_base(tool)}", "PORTAL_SOURCE=prebuilt"]
    if wheels := torch_wheels():  # PyTorch's index may be out of reach even where a registry is not
        variables.append(f"TORCH_WHEELS={wheels}")
    if bundle := ca_bundle():
        variables.append(f"CA_BUNDLE={bundle}")
    say("make images " + " ".join(variables))
    started = time.monotonic()
    run(["make", "--no-print-directory", "images", *variables])
    say(f"images built in {time.monotonic() - started:.0f} s")


# ------------------------------------------------------------------------------------------- the chart


def workloads() -> dict[str, dict[str, Any]]:
    """component -> the rendered Deployment or Job (default values)."""
    docs = chart.render(chart.load_values(chart.CHART / "ci" / "default-values.yaml"))
    found = {}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            found[doc["metadata"]["labels"]["app.kubernetes.io/component"]] = doc
    return found


class PostgresOverTcp:
    """A TCP port on the host's loopback forwarding to embedded PostgreSQL's Unix socket: it listens on no TCP
    port, and its socket lies in its data directory, which only its own system user may enter."""

    def __init__(self, postgres: Postgres) -> None:
        self.postgres = postgres
        socket_dir = Path(parse_qs(urlsplit(postgres.admin_uri).query)["host"][0])
        target = str(next(socket_dir.glob(".s.PGSQL.*")))

        class Forward(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with socket.socket(socket.AF_UNIX) as upstream:
                    upstream.connect(target)
                    back = threading.Thread(target=_pump, args=(upstream, self.request), daemon=True)
                    back.start()
                    _pump(self.request, upstream)
                    back.join()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Forward)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, database: str) -> str:
        self.postgres.database_uri(database)  # creates it
        return f"postgresql://postgres@{HOST_LOOPBACK}:{self.port}/{database}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


class Secrets:
    """What the chart takes from Secrets: the signing secret and one database URL per service."""

    def __init__(self, postgres: PostgresOverTcp, mongo: MongoWire) -> None:
        self.jwt = dev_secret()
        self.postgres, self.mongo = postgres, mongo

    def value(self, key: str) -> str:
        if key == "jwt-secret":
            return self.jwt
        if match := re.fullmatch(r"([a-z]+)-database-url", key):
            return self.postgres.url(match[1])
        if match := re.fullmatch(r"([a-z]+)-mongo-url", key):
            # directConnection: the server announces itself as a replica set member at 127.0.0.1, which is
            # the container's own loopback, not the host's.
            url = mongo_uri_with_db(f"mongodb://{HOST_LOOPBACK}:{self.mongo.port}/", match[1])
            return url + "?directConnection=true"
        raise CheckFailed(f"the chart reads a Secret key this check does not know: {key}")


# ------------------------------------------------------------------------------------------ containers


def size(quantity: str) -> str:
    """A Kubernetes memory quantity (512Mi, 3Gi) as podman writes it."""
    return quantity.replace("Mi", "m").replace("Gi", "g")


class Containers:
    """The containers and volumes this check starts, all named PREFIX..., removed by name."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.names: list[str] = []
        self.volumes: list[str] = []

    def remove_all(self) -> None:
        for name in reversed(self.names):
            subprocess.run([self.tool, "rm", "-f", "-t", "10", name], capture_output=True)
        for volume in self.volumes:
            subprocess.run([self.tool, "volume", "rm", "-f", volume], capture_output=True)
        self.names.clear()
        self.volumes.clear()

    def logs(self, name: str, lines: int = 30) -> str:
        out = subprocess.run([self.tool, "logs", "--tail", str(lines), name], capture_output=True, text=True)
        return "\n".join(f"    {line}" for line in (out.stdout + out.stderr).strip().splitlines())

    def options(self, pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
        """`podman run` options for a rendered container: its user, read-only root filesystem, dropped
        capabilities, memory limit and writable mounts."""
        pod_context = pod.get("securityContext", {})
        context = {**pod_context, **container.get("securityContext", {})}
        options = ["--user", f"{context['runAsUser']}:{context['runAsGroup']}", "--network", NETWORK]
        if context.get("readOnlyRootFilesystem"):
            options += ["--read-only", "--read-only-tmpfs=false"]  # writable: the chart's mounts only
        if "ALL" in context.get("capabilities", {}).get("drop", []):
            options += ["--cap-drop", "ALL"]
        if context.get("allowPrivilegeEscalation") is False:
            options += ["--security-opt", "no-new-privileges"]
        if memory := container.get("resources", {}).get("limits", {}).get("memory"):
            options += ["--memory", size(memory)]
        volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
        for mount in container.get("volumeMounts", []):
            options += self.mount(volumes[mount["name"]], mount)
        options += ["--entrypoint", json.dumps(container["command"])]
        return options

    def mount(self, volume: dict[str, Any], mount: dict[str, Any]) -> list[str]:
        path, mode = mount["mountPath"], "ro" if mount.get("readOnly") else "rw"
        if "emptyDir" in volume:
            limit = size(volume["emptyDir"].get("sizeLimit", "64Mi"))
            return ["--tmpfs", f"{path}:{mode},size={limit},mode=1777"]
        if "persistentVolumeClaim" in volume:
            name = PREFIX + volume["name"]
            if name not in self.volumes:
                subprocess.run([self.tool, "volume", "rm", "-f", name], capture_output=True)
                run([self.tool, "volume", "create", name], capture=True)
                self.volumes.append(name)
            return ["-v", f"{name}:{path}:{mode},U"]  # U: owned by the container's user, as fsGroup does
        raise CheckFailed(f"a volume kind this check does not handle: {volume}")

    def start(self, name: str, image: str, options: list[str], env: dict[str, str], args: list[str]) -> None:
        subprocess.run([self.tool, "rm", "-f", name], capture_output=True)  # left by a killed run
        self.names.append(name)
        variables = [option for item in env.items() for option in ("-e", "=".join(item))]
        run(
            [self.tool, "run", "-d", "--pull=never", "--name", name, *options, *variables, image, *args],
            capture=True,
        )

    def exit_code(self, name: str, timeout_s: float) -> int:
        return int(run([self.tool, "wait", name], capture=True, timeout=timeout_s).split()[-1])

    def running(self, name: str) -> bool:
        state = run([self.tool, "inspect", "-f", "{{.State.Running}}", name], capture=True, check=False)
        return state.strip() == "true"


# ------------------------------------------------------------------------------------------ the system


class System:
    """The rendered workloads run as containers against the databases on the host."""

    def __init__(self, tool: str, postgres: PostgresOverTcp, mongo: MongoWire) -> None:
        self.containers = Containers(tool)
        self.secrets = Secrets(postgres, mongo)
        self.workloads = workloads()
        # Each service's container port is published on a free host port: peers and this check use it.
        self.host_ports = {svc.name: free_port() for svc in SERVICES}

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        """The container's rendered env; Secret values filled in, peer targets pointed at published ports."""
        env = {}
        for item in container.get("env", []):
            if "value" in item:
                env[item["name"]] = item["value"]
            else:
                env[item["name"]] = self.secrets.value(item["valueFrom"]["secretKeyRef"]["key"])
        for name, value in env.items():
            if name.endswith("_TARGET"):
                host, port = value.rsplit(":", 1)
                peer = host.removeprefix(f"{chart.RELEASE}-")
                if self.container_port(peer) != int(port):
                    raise CheckFailed(f"{name}={value}: {peer} listens on {self.container_port(peer)}")
                env[name] = f"{HOST_LOOPBACK}:{self.host_ports[peer]}"
        return env

    def container_port(self, component: str) -> int:
        pod = self.workloads[component]["spec"]["template"]["spec"]
        return pod["containers"][0]["ports"][0]["containerPort"]

    def start(self, component: str, container: dict[str, Any], name: str, publish: bool) -> None:
        pod = self.workloads[component]["spec"]["template"]["spec"]
        options = self.containers.options(pod, container)
        if publish:
            port = container["ports"][0]["containerPort"]
            options += ["-p", f"127.0.0.1:{self.host_ports[component]}:{port}"]
        self.containers.start(
            name, container["image"], options, self.env(container), container.get("args", [])
        )

    def migrate(self) -> None:
        """The hook Job's containers, one after the other; each must exit 0."""
        job = self.workloads["migrations"]["spec"]["template"]["spec"]
        for container in job["containers"]:
            name = f"{PREFIX}{container['name']}"
            self.start("migrations", container, name, publish=False)
            code = self.containers.exit_code(name, READY_TIMEOUT_S)
            if code != 0:
                raise CheckFailed(f"{name} exited with {code}:\n{self.containers.logs(name)}")
            say(f"{container['name']}: done")

    def start_services(self) -> None:
        for svc in SERVICES:
            container = self.workloads[svc.name]["spec"]["template"]["spec"]["containers"][0]
            self.start(svc.name, container, PREFIX + svc.name, publish=True)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = [svc for svc in SERVICES]
        while waiting:
            for svc in list(waiting):
                if not self.containers.running(PREFIX + svc.name):
                    raise CheckFailed(f"{svc.name} exited:\n{self.containers.logs(PREFIX + svc.name)}")
                if ready(svc.http, self.host_ports[svc.name]):
                    say(
                        f"{svc.name}: {'ready' if svc.http else 'SERVING'} (127.0.0.1:{self.host_ports[svc.name]})"
                    )
                    waiting.remove(svc)
            if waiting and time.monotonic() > deadline:
                logs = "\n".join(f"  {s.name}:\n{self.containers.logs(PREFIX + s.name)}" for s in waiting)
                raise CheckFailed(f"not ready within {READY_TIMEOUT_S:.0f} s:\n{logs}")
            time.sleep(1.0)

    def all_logs(self) -> str:
        return "\n".join(f"  {name}:\n{self.containers.logs(name)}" for name in self.containers.names)


def ready(http: bool, port: int) -> bool:
    if http:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return response.status == 200
        except OSError:
            return False
    return grpc_serving(port)


def check_portal(port: int) -> None:
    """The portal's start page and the script it loads."""
    base = f"http://127.0.0.1:{port}"
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        page = response.read().decode()
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            raise CheckFailed(f"GET / answered {response.status} {response.headers.get('content-type')}")
    script = re.search(r'<script[^>]+src="(/[^"]+\.js)"', page)
    if not script:
        raise CheckFailed("the portal's start page loads no script")
    with urllib.request.urlopen(base + script[1], timeout=10) as response:
        body = response.read()
        if response.status != 200 or not body:
            raise CheckFailed(f"GET {script[1]} answered {response.status} ({len(body)} bytes)")
    say(f"portal: GET / 200 ({len(page)} bytes), GET {script[1]} 200 ({len(body)} bytes)")


# ---------------------------------------------------------------------------------------------- main


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def databases() -> Iterator[tuple[PostgresOverTcp, MongoWire]]:
    with scratch_dir("lmw-check-") as scratch:
        postgres = Postgres(scratch / "postgresql")
        try:
            forward = PostgresOverTcp(postgres)
            mongo = MongoWire()
            try:
                yield forward, mongo
            finally:
                mongo.stop()
                forward.stop()
        finally:
            postgres.stop()


def check(build: bool) -> None:
    tool = shutil.which("podman")
    if not tool:
        raise CheckFailed(
            "this check runs the images with podman (k8s/README.md: apt-get install -y podman runc)"
        )
    if build:
        build_images(tool)
    with databases() as (postgres, mongo), tempfile.TemporaryDirectory(prefix="lmw-check-") as scratch:
        say(
            f"PostgreSQL (127.0.0.1:{postgres.port}) and the MongoDB-wire server (127.0.0.1:{mongo.port}) are up"
        )
        system = System(tool, postgres, mongo)
        try:
            started = time.monotonic()
            system.migrate()
            system.start_services()
            system.wait_ready()
            say(f"all five containers ready in {time.monotonic() - started:.0f} s")
            graphql = f"http://127.0.0.1:{system.host_ports['bff']}/graphql"
            try:
                asyncio.run(Demo(graphql, Path(scratch), Printer(show_level="WARNING")).run())
            except Exception as error:
                raise CheckFailed(
                    f"the demo failed: {type(error).__name__}: {error}\n{system.all_logs()}"
                ) from error
            say("demo scenario: passed")
            check_portal(system.host_ports["bff"])
        finally:
            system.containers.remove_all()
            say("containers and volumes removed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="use the images `make images` built")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    try:
        check(build=not args.no_build)
    except (CheckFailed, subprocess.TimeoutExpired) as failure:
        say(f"FAILED: {failure}")
        return 1
    say("PASSED: the images run the system with the chart's settings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
