"""The cost of telemetry on the serving paths, measured in one run (`scripts/bench/serving.py --telemetry`).

    .venv/bin/python scripts/bench/serving.py --telemetry [--json FILE] [--connections 16] [--duration 6]
        [--rounds 3]

The real mesh (devkit.launcher) is prepared once (serving.py's course, readers whose module 1 content is
cached), then restarted on the same data and ports in three configurations, one after the other in each round:

- `none`: no /metrics served (LMW_METRICS_ENABLED=false) and no tracing: the baseline;
- `off`: the default, /metrics served, tracing off (no OTLP endpoint);
- `on_0.1`: tracing on, sampler parentbased_traceidratio 0.1, exporting over OTLP/gRPC to a sink in this
  process that accepts and counts the spans.

Each configuration is driven by an in-process load generator (asyncio + httpx, `--connections` concurrent
clients for `--duration` seconds) on two GraphQL paths: cached `moduleContent` (BFF -> orchestrator_svc) and
`dashboard` (BFF -> learner, instructor and orchestrator_svc in parallel). Besides requests/s and p99 (which
the load generator, sharing the machine's cores, may cap), it reads the CPU time the mesh's service processes
used per request from /proc (serving.py's CpuMeter): the figure telemetry's cost shows in first. Figures are
the medians of the rounds; each ratio to `none` is the median of the per-round ratios.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx

from devkit.databases import free_port
from devkit.launcher import Launcher, free_ports
from devkit.logs import Printer
from devkit.topology import NAMES

CONFIGS: dict[str, dict[str, str]] = {
    "none": {"LMW_METRICS_ENABLED": "false"},
    "off": {},
    "on_0.1": {
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
    },
}


class SpanSink:
    """An OTLP/gRPC trace receiver that accepts and counts spans (a stand-in for a collector's cost on the
    network only: the exporter's work in the services is what is measured)."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

        sink = self

        class Service(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):  # noqa: N802 (the proto's name)
                with sink._lock:
                    sink.spans += sum(
                        len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
                    )
                return trace_service_pb2.ExportTraceServiceResponse()

        self.spans = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self._server = grpc.server(futures.ThreadPoolExecutor(2))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), self._server)
        self._server.add_insecure_port(f"127.0.0.1:{self.port}")
        self._server.start()

    def stop(self) -> None:
        self._server.stop(0)


async def load(url: str, bodies: list[tuple[dict, dict]], connections: int, duration_s: float) -> dict:
    """`connections` clients post the bodies round robin for `duration_s`; requests/s and latency (ms)."""
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration_s

    async def client(offset: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(timeout=60) as http:
            i = offset
            while time.perf_counter() < stop_at:
                body, headers = bodies[i % len(bodies)]
                started = time.perf_counter()
                response = await http.post(url, json=body, headers=headers)
                if response.status_code != 200 or b'"errors"' in response.content:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)
                i += 1

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    }


def paths(prepared: Any, queries: dict[str, str]) -> dict[str, list[tuple[dict, dict]]]:
    module = prepared.module_ids[0]
    readers = prepared.readers
    return {
        "moduleContent": [
            (
                {"query": queries["content"], "variables": {"c": prepared.course_id, "m": module}},
                {"authorization": f"Bearer {r.token}"},
            )
            for r in readers
        ],
        "dashboard": [
            (
                {"query": queries["dashboard"], "variables": {"l": r.id, "c": prepared.course_id}},
                {"authorization": f"Bearer {r.token}"},
            )
            for r in readers
        ],
    }


def run(args: Any, prepare, queries: dict[str, str], data_dir: Path, cpu_meter) -> dict:
    """Prepare once, then measure every configuration in every round; returns the figures."""
    printer = Printer(show_level="WARNING")
    ports = free_ports()
    sink = SpanSink()
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}"}
    configs = {**CONFIGS, "on_0.1": {**CONFIGS["on_0.1"], **endpoint}}
    rounds: list[dict[str, dict[str, dict]]] = []
    try:
        with Launcher(data_dir, ports, env=configs["none"], printer=printer) as mesh:
            prepared = asyncio.run(prepare(mesh, args.readers, 0, printer.say))
        targets = paths(prepared, queries)
        for number in range(args.rounds):
            figures: dict[str, dict[str, dict]] = {}
            for name, env in configs.items():
                with Launcher(data_dir, ports, env=env, printer=printer) as mesh:
                    url = mesh.graphql_url
                    meter = cpu_meter(mesh)
                    for path, bodies in targets.items():
                        asyncio.run(load(url, bodies, 2, 1.0))  # warm: caches, connections
                        before = meter.sample()
                        figure = asyncio.run(load(url, bodies, args.connections, args.duration))
                        used = meter.per_request(before, meter.sample(), figure["requests"])
                        figure["services_cpu_us"] = sum(used.get(s, 0) for s in NAMES)
                        figures.setdefault(name, {})[path] = figure
                print(f"round {number + 1} {name}: {json.dumps(figures[name])}", flush=True)
            rounds.append(figures)
    finally:
        sink.stop()
    return summarize(rounds, sink.spans)


def summarize(rounds: list[dict[str, dict[str, dict]]], spans: int) -> dict:
    summary: dict[str, Any] = {"benchmark": "serving-telemetry", "rounds": rounds, "spans_exported": spans}

    def median(name: str, path: str, key: str) -> float:
        return statistics.median(r[name][path][key] for r in rounds)

    def ratio(name: str, path: str, key: str) -> float:
        return statistics.median(r[name][path][key] / r["none"][path][key] for r in rounds)

    print(
        f"\n{'config':8} {'path':14} {'req/s':>7} {'p99 ms':>7} {'cpu us/req':>10} "
        f"{'req/s/none':>10} {'p99/none':>8} {'cpu/none':>8} errors"
    )
    for name in CONFIGS:
        for path in rounds[0][name]:
            row = {
                "rps": median(name, path, "rps"),
                "p99_ms": median(name, path, "p99_ms"),
                "services_cpu_us_per_request": median(name, path, "services_cpu_us"),
                "rps_vs_none": ratio(name, path, "rps"),
                "p99_vs_none": ratio(name, path, "p99_ms"),
                "cpu_vs_none": ratio(name, path, "services_cpu_us"),
                "errors": sum(r[name][path]["errors"] for r in rounds),
            }
            summary[f"{name}/{path}"] = row
            print(
                f"{name:8} {path:14} {row['rps']:7.1f} {row['p99_ms']:7.1f} "
                f"{row['services_cpu_us_per_request']:10.0f} {row['rps_vs_none']:10.3f} "
                f"{row['p99_vs_none']:8.3f} {row['cpu_vs_none']:8.3f} {row['errors']}"
            )
    print(f"spans exported (on_0.1, all rounds): {spans}")
    return summary
