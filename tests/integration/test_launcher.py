"""The local launcher (devkit.launcher) supervises real service processes: a service killed under it is
reported and restarted while the others keep serving, a crash loop is given up on and said so, and stopping
leaves no process behind (services, MongoDB-wire server, embedded PostgreSQL). Waits are on conditions."""

from __future__ import annotations

import io
import os
import signal
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devkit.databases import scratch_dir
from devkit.launcher import Launcher, free_ports, grpc_serving
from devkit.logs import Printer

pytest.importorskip("sme_svc.bootstrap")
pytestmark = pytest.mark.slow  # processes killed and restarted: a fault run

DEADLINE_S = 180.0


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = DEADLINE_S) -> object:
    deadline = time.monotonic() + timeout_s
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(0.5)
    return result


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def bff_healthy(mesh: Launcher) -> bool:
    with urllib.request.urlopen(f"{mesh.bff_url}/healthz", timeout=60) as response:
        return response.status == 200


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().split()[0])


@pytest.fixture(scope="module")
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture(scope="module")
def mesh(output) -> Iterator[Launcher]:
    """learner, sme and the BFF; a restart after 0.2 s, given up after the second restart in a row."""
    with (
        scratch_dir("lmw-launcher-") as data_dir,
        Launcher(
            data_dir,
            free_ports(),
            services=("learner", "sme", "bff"),
            printer=Printer(output, show_level="WARNING"),
            log_level="WARNING",
            ready_timeout_s=DEADLINE_S,
            restart_delay_s=0.2,
            max_restarts=2,
            stable_after_s=3600,
        ) as running,
    ):
        yield running


def test_a_killed_service_is_restarted_while_the_others_keep_serving(mesh, output):
    crashes = len(mesh.crashes)
    before = mesh.pids()
    os.kill(before["sme"], signal.SIGKILL)

    def sme_is_back() -> bool:
        assert bff_healthy(mesh), "the BFF went down with sme_svc"
        pid = mesh.pids().get("sme")
        return pid is not None and pid != before["sme"] and grpc_serving(mesh.ports["sme"])

    wait_for(sme_is_back, "sme_svc restarted and SERVING")
    after = mesh.pids()
    assert {after["bff"], after["learner"]} == {before["bff"], before["learner"]}
    assert [(c.service, c.exit_code) for c in mesh.crashes[crashes:]] == [("sme", -signal.SIGKILL)]
    wait_for(lambda: "sme is back" in output.getvalue(), "the restart reported")
    text = output.getvalue()
    assert "sme exited unexpectedly (killed by SIGKILL); its last lines:" in text
    assert "sme_svc listening on" in text.split("exited unexpectedly", 1)[1]  # its last log lines
    assert "restarting sme in 0.2 s (restart 1 of at most 2)" in text
    assert text.count("sme is back: SERVING") == 1


def test_a_crash_loop_is_given_up_on_and_the_others_keep_running(mesh, output):
    wait_for(lambda: grpc_serving(mesh.ports["sme"]), "sme_svc SERVING")
    crashes = len(mesh.crashes)
    for restart in (1, 2):
        pid = mesh.pids()["learner"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda pid=pid: mesh.pids().get("learner") not in (None, pid), f"restart {restart}")
        wait_for(lambda: grpc_serving(mesh.ports["learner"]), f"learner SERVING after restart {restart}")
    os.kill(mesh.pids()["learner"], signal.SIGKILL)
    wait_for(lambda: "learner keeps crashing: given up after 2 restarts" in output.getvalue(), "giving up")
    assert "learner" not in mesh.pids()
    assert grpc_serving(mesh.ports["sme"]) and bff_healthy(mesh)
    assert [c.service for c in mesh.crashes[crashes:]] == ["learner"] * 3


def test_stop_leaves_no_process_behind():
    with scratch_dir("lmw-launcher-") as data_dir:
        mesh = Launcher(data_dir, free_ports(), services=("learner",), printer=Printer(io.StringIO()))
        mesh.start()
        processes = [*mesh.pids().values(), postmaster_pid(data_dir)]
        assert all(alive(pid) for pid in processes)
        mesh.stop()
    # pg_ctl returns once PostgreSQL has removed its pid file; the process itself may take a moment more.
    wait_for(lambda: not any(alive(pid) for pid in processes), "every process gone")
    assert mesh.crashes == []  # stopping is no crash
