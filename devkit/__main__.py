"""The local mesh: embedded PostgreSQL, a MongoDB-wire server, the four services and the BFF as supervised
subprocesses.

    python -m devkit up      # start everything, stream the logs; Ctrl-C (or SIGTERM) stops it all
    python -m devkit demo    # start, then walk the whole scenario through GraphQL only

Data lives in `.lmw/` (PostgreSQL cluster, MongoDB files, blobs, FAISS index, the dev signing secret) and
survives restarts. Ports: learner 50051, instructor 50052, orchestrator 50053, sme 50054, bff 8000; override
them with LEARNER_PORT, INSTRUCTOR_PORT, ORCHESTRATOR_PORT, SME_PORT, BFF_PORT (and LMW_MONGO_PORT) or flags.
Prometheus metrics: http://127.0.0.1:9464/metrics (learner) to :9468 (bff), printed as each one is ready.
Traces: set OTEL_EXPORTER_OTLP_ENDPOINT (docs/observability.md) and every process exports to it.
A service that exits unexpectedly is restarted (see devkit/launcher.py). Environment: KEEP=1 leaves the mesh
up after the demo, VERBOSE=1 shows every service log line during the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from typing import Any

from devkit import ROOT
from devkit.demo import Demo
from devkit.graphql import GraphQLFailure
from devkit.launcher import Launcher, MeshError, default_metrics_ports, default_ports
from devkit.logs import Printer
from devkit.topology import NAMES


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devkit", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "demo"])
    parser.add_argument("--data-dir", default=str(ROOT / ".lmw"))
    for name in (*NAMES, "mongo"):
        parser.add_argument(f"--{name}-port", type=int, default=None)
    parser.add_argument("--log-level", default=os.environ.get("LMW_LOG_LEVEL", "INFO"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    demo = args.command == "demo"
    ports = default_ports()
    for name in ports:
        if getattr(args, f"{name}_port") is not None:
            ports[name] = getattr(args, f"{name}_port")
    # The demo shows the services' warnings and errors only (VERBOSE=1 shows everything).
    printer = Printer(show_level="INFO" if not demo or os.environ.get("VERBOSE") == "1" else "WARNING")
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    mesh = Launcher(
        args.data_dir, ports, metrics_ports=default_metrics_ports(), printer=printer, log_level=args.log_level
    )
    try:
        mesh.start()
        if demo:
            failed = run_demo(mesh, printer)
            if failed or os.environ.get("KEEP") != "1":
                return failed
            printer.line(f"\nKEEP=1: the mesh stays up ({mesh.graphql_url}); Ctrl-C stops it.")
        else:
            printer.line(f"\nGraphiQL: {mesh.graphql_url}   (Ctrl-C stops everything)")
        while True:  # the supervisor thread restarts what crashes; this thread waits for Ctrl-C or SIGTERM
            time.sleep(3600)
    except KeyboardInterrupt:
        printer.line("")
        return 0
    except MeshError as error:
        printer.alarm(str(error))
        return 1
    finally:
        mesh.stop()


def run_demo(mesh: Launcher, printer: Printer) -> int:
    try:
        asyncio.run(Demo(mesh.graphql_url, mesh.data_dir, printer).run())
    except GraphQLFailure as failure:
        printer.line(printer.paint("\nThe demo failed: GraphQL errors:", "1;31"))
        printer.line(str(failure))
        return 1
    except Exception as error:  # a transport failure (HTTP, websocket), or a bug in the scenario
        printer.line(printer.paint(f"\nThe demo failed: {type(error).__name__}: {error}", "1;31"))
        if mesh.crashes:  # a crashed service explains it best
            printer.line("\n".join(crash.describe() for crash in mesh.crashes))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
