"""devkit.topology, the one table of the services' wiring, agrees with the services' own settings classes:
every variable the launchers set is one the service reads, and the defaults a service falls back to point
where the table says. (tests/k8s compares the same table with the Helm chart.)"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from devkit import topology
from lmw_common.config import ServiceSettings


def settings_class(svc: topology.Service) -> type[ServiceSettings]:
    module = importlib.import_module(f"{svc.module}.config")
    (found,) = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, ServiceSettings) and cls.model_config.get("env_prefix") == f"{svc.prefix}_"
    ]
    return found


def wired(svc: topology.Service) -> dict:
    ports = {s.name: s.port + 1000 for s in topology.SERVICES}
    urls = {name: f"url-of-{name}" for name in topology.NAMES}
    return topology.wiring(
        svc, host="10.0.0.1", ports=ports, postgres=urls, mongo=urls, data_dir=Path("/data")
    )


@pytest.mark.parametrize("svc", topology.SERVICES, ids=topology.NAMES)
def test_each_service_reads_every_setting_the_table_wires(svc):
    fields = settings_class(svc).model_fields
    assert set(wired(svc)) <= set(fields), set(wired(svc)) - set(fields)
    assert {name for name in fields if name.endswith("_target")} == {f"{c}_target" for c in svc.calls}
    assert ("database_url" in fields) is svc.postgres
    assert ("mongo_url" in fields) is svc.mongo


@pytest.mark.parametrize("svc", topology.SERVICES, ids=topology.NAMES)
def test_each_service_defaults_to_the_table_s_ports_and_targets(svc):
    fields = settings_class(svc).model_fields
    assert fields["port"].default == svc.port
    for callee in svc.calls:
        assert fields[f"{callee}_target"].default == f"127.0.0.1:{topology.service(callee).port}"


def test_wiring_gives_address_databases_directories_and_targets():
    instructor = topology.service("instructor")
    assert wired(instructor) == {
        "host": "10.0.0.1",
        "port": 51052,
        "database_url": "url-of-instructor",
        "mongo_url": "url-of-instructor",
        "blob_root": "/data/blobs",
        "sme_target": "10.0.0.1:51054",
        "learner_target": "10.0.0.1:51051",
    }
    assert topology.environment(instructor, {"sme_target": "h:1", "port": 2}) == {
        "INSTRUCTOR_SME_TARGET": "h:1",
        "INSTRUCTOR_PORT": "2",
    }
    assert topology.wiring_variables(topology.service("learner")) == {
        "LEARNER_HOST",
        "LEARNER_PORT",
        "LEARNER_DATABASE_URL",
        "LEARNER_INSTRUCTOR_TARGET",
    }


def test_every_callee_is_a_service_of_the_table():
    assert all(callee in topology.NAMES for callees in topology.CALLS.values() for callee in callees)
    assert set(topology.POSTGRES_SERVICES) | set(topology.MONGO_SERVICES) <= set(topology.GRPC_SERVICES)
    with pytest.raises(KeyError, match="unknown service 'nope'"):
        topology.service("nope")
