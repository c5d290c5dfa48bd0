"""Each service runs as `python -m <service>`: it reports SERVING on grpc.health.v1, lists its services
through reflection (checked with `buf curl`), stops cleanly on SIGTERM, and refuses to start in production
mode without a signing secret."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from devkit.databases import free_port

BUF = shutil.which("buf", path=str(Path(sys.executable).parent))


def service_env(name: str, port: int, pg_url: str, mongo_url: str, secret: str | None) -> dict[str, str]:
    prefix = name.split("_")[0].upper()
    env = {
        **os.environ,
        "LMW_ENV": "dev" if secret else "production",
        "LMW_LOG_LEVEL": "WARNING",
        f"{prefix}_PORT": str(port),
        f"{prefix}_DATABASE_URL": pg_url,
        f"{prefix}_MONGO_URL": mongo_url,
    }
    env.pop("LMW_JWT_SECRET", None)
    if secret:
        env["LMW_JWT_SECRET"] = secret
    return env


def wait_serving(port: int, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the service exited"
            try:
                if (
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    == health_pb2.HealthCheckResponse.SERVING
                ):
                    return
            except grpc.RpcError:
                time.sleep(0.2)
    raise TimeoutError("not SERVING in time")


SERVICES = {
    "learner_svc": "lmw.learner.v1.LearnerService",
    "instructor_svc": "lmw.instructor.v1.InstructorService",
}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_service_process_serves_health_and_reflection(name, pg_url, mongo_url, common_settings, tmp_path):
    pytest.importorskip(f"{name}.bootstrap")
    port = free_port()
    env = service_env(name, port, pg_url, mongo_url, common_settings.signing_secret())
    env["INSTRUCTOR_BLOB_ROOT"] = str(tmp_path / "blobs")
    proc = subprocess.Popen([sys.executable, "-m", name], env=env)
    try:
        wait_serving(port, proc)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=SERVICES[name])
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
        assert BUF, "buf (PyPI buf-bin) is part of the dev extra"
        listed = subprocess.run(
            [
                BUF,
                "curl",
                "--protocol",
                "grpc",
                "--http2-prior-knowledge",
                "--list-services",
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout.split()
        assert SERVICES[name] in listed and "grpc.health.v1.Health" in listed
    finally:
        proc.terminate()
        assert proc.wait(30) == 0  # graceful shutdown on SIGTERM


def test_production_mode_refuses_to_start_without_a_secret(pg_url, mongo_url):
    env = service_env("learner_svc", free_port(), pg_url, mongo_url, secret=None)
    result = subprocess.run(
        [sys.executable, "-m", "learner_svc"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "LMW_JWT_SECRET" in result.stderr
