"""The services' wiring, written once: which services run, on which ports, who calls whom, which databases
and directories each one owns, and the settings (and so the environment variables) that say so.

The local launcher (devkit.launcher), the in-process test mesh (devkit.inprocess) and the chart tests
(tests/k8s) all read this table; tests/k8s compares it with the environment the Helm chart renders for every
workload, and tests/unit/test_topology.py with each service's settings class. The chart keeps its own
templates: only those comparisons tie them together.

    settings = wiring(service("orchestrator"), host="127.0.0.1", ports=..., postgres={...}, mongo={...},
                      data_dir=Path(".lmw"))
    # {"host": ..., "port": 50053, "database_url": ..., "mongo_url": ..., "learner_target": ..., ...}
    environment(service("orchestrator"), settings)   # {"ORCHESTRATOR_HOST": ..., ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Service:
    name: str  # the log prefix, the chart component and values block, the key everywhere else
    module: str  # run as `python -m <module>`
    port: int  # the default port (the chart's too)
    calls: tuple[str, ...] = ()  # services it calls: one `<name>_target` setting each
    postgres: bool = False  # a PostgreSQL database of its own: `database_url`
    mongo: bool = False  # a MongoDB database of its own: `mongo_url`
    dirs: Mapping[str, str] = field(default_factory=dict)  # setting -> a directory of its own (name)
    http: bool = False  # health over HTTP GET /healthz (the BFF); else grpc.health.v1

    @property
    def prefix(self) -> str:
        """Its settings' environment prefix, e.g. LEARNER (each settings class reads `<PREFIX>_*`)."""
        return self.name.upper()


SERVICES: tuple[Service, ...] = (
    Service("learner", "learner_svc", 50051, calls=("instructor",), postgres=True),
    Service(
        "instructor",
        "instructor_svc",
        50052,
        calls=("sme", "learner"),
        postgres=True,
        mongo=True,
        dirs={"blob_root": "blobs"},
    ),
    Service(
        "orchestrator",
        "orchestrator_svc",
        50053,
        calls=("learner", "instructor", "sme"),
        postgres=True,
        mongo=True,
    ),
    Service(
        "sme",
        "sme_svc",
        50054,
        calls=("instructor",),
        mongo=True,
        dirs={"index_dir": "index", "model_dir": "models"},
    ),
    Service("bff", "bff", 8000, calls=("learner", "instructor", "orchestrator"), http=True),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SERVICES)
GRPC_SERVICES: tuple[str, ...] = tuple(s.name for s in SERVICES if not s.http)
POSTGRES_SERVICES: tuple[str, ...] = tuple(s.name for s in SERVICES if s.postgres)
MONGO_SERVICES: tuple[str, ...] = tuple(s.name for s in SERVICES if s.mongo)
CALLS: dict[str, tuple[str, ...]] = {s.name: s.calls for s in SERVICES}


def service(name: str) -> Service:
    for candidate in SERVICES:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown service {name!r}; the services are {', '.join(NAMES)}")


def wiring(
    svc: Service,
    *,
    host: str,
    ports: Mapping[str, int],
    postgres: Mapping[str, str],
    mongo: Mapping[str, str],
    data_dir: Path,
) -> dict[str, Any]:
    """The settings that wire `svc` into a mesh whose services listen on `host` at `ports`: its address,
    its databases (URLs by service name), its directories under `data_dir` and its targets."""
    values: dict[str, Any] = {"host": host, "port": ports[svc.name]}
    if svc.postgres:
        values["database_url"] = postgres[svc.name]
    if svc.mongo:
        values["mongo_url"] = mongo[svc.name]
    for setting, directory in svc.dirs.items():
        values[setting] = str(data_dir / directory)
    for callee in svc.calls:
        values[f"{callee}_target"] = f"{host}:{ports[callee]}"
    return values


def environment(svc: Service, settings: Mapping[str, Any]) -> dict[str, str]:
    """Settings as the environment variables the service reads (`<PREFIX>_<SETTING>`)."""
    return {f"{svc.prefix}_{name.upper()}": str(value) for name, value in settings.items()}


def wiring_variables(svc: Service) -> set[str]:
    """The names of the environment variables that wire `svc` (what any deployment must set)."""
    placeholders = {name: 0 for name in NAMES}
    urls = dict.fromkeys(NAMES, "")
    return set(
        environment(svc, wiring(svc, host="", ports=placeholders, postgres=urls, mongo=urls, data_dir=Path()))
    )
