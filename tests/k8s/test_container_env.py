"""The environment every container of ours gets from the rendered chart is what its service's settings class
accepts: no LMW_* or service-prefixed variable the class does not read (a typo, or a setting since renamed,
is silently ignored by pydantic-settings), none of the variables a deployment must set missing, and the values
parse. scripts/containers_check.py runs the images with exactly this environment."""

from __future__ import annotations

import pytest

from bff.config import BffSettings
from devkit import chart, topology
from instructor_svc.config import InstructorSettings
from learner_svc.config import LearnerSettings
from lmw_common.config import LmwSettings, ServiceSettings
from orchestrator_svc.config import OrchestratorSettings
from sme_svc.config import SmeSettings

pytest.importorskip(
    "helm_python", reason="helm-python-sdk is not installed (pip install helm-python-sdk==0.2.2)"
)
pytestmark = pytest.mark.parametrize("scenario", sorted(chart.scenarios()))

SETTINGS: dict[str, type[ServiceSettings]] = {
    "learner": LearnerSettings,
    "instructor": InstructorSettings,
    "orchestrator": OrchestratorSettings,
    "sme": SmeSettings,
    "bff": BffSettings,
}
# Read by libraries inside the images, not by our settings classes.
LIBRARY_VARIABLES = {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "VLLM_NO_USAGE_STATS"} | {
    # The OpenTelemetry SDK's own settings (lmw_common/telemetry.py turns tracing on when the endpoint is set).
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
}
OUR_PREFIXES = ("LMW_", *(f"{svc.prefix}_" for svc in topology.SERVICES))
# Stand-ins for Secret values (by the variable's name), of the form the settings expect.
SECRET_STANDINS = {"_DATABASE_URL": "postgresql://u@db/x", "_MONGO_URL": "mongodb://db/x", "": "s" * 48}


def accepted(svc: topology.Service) -> set[str]:
    """Every variable the service's settings read: `<PREFIX>_<field>` and the shared `LMW_<field>`."""
    own = {f"{svc.prefix}_{name.upper()}" for name in SETTINGS[svc.name].model_fields if name != "common"}
    return own | {f"LMW_{name.upper()}" for name in LmwSettings.model_fields}


def our_containers(docs: list[dict], kh) -> list[tuple[str, topology.Service, dict]]:
    """(workload/container, its service, the container) for every container that runs one of our modules."""
    modules = {svc.module: svc for svc in topology.SERVICES}
    found = []
    for workload in kh.workloads(docs):
        for container in kh.all_containers(workload):
            command = container.get("command") or []
            if command[:2] == ["python", "-m"] and command[2] in modules:
                found.append(
                    (f"{workload['metadata']['name']}/{container['name']}", modules[command[2]], container)
                )
    return found


def rendered_env(container: dict, kh) -> dict[str, str]:
    """The container's environment, with a stand-in where a Secret gives the value."""
    return {
        name: next(v for end, v in SECRET_STANDINS.items() if name.endswith(end))
        if isinstance(value, tuple)
        else value
        for name, value in kh.env_of(container).items()
    }


def test_every_service_and_the_migrations_are_found(rendered, kh, scenario):
    found = our_containers(rendered[scenario], kh)
    assert {svc.name for _, svc, _ in found} == set(topology.NAMES)
    assert sum(1 for _, _, c in found if c["command"][3:] == ["migrate"]) == len(topology.POSTGRES_SERVICES)


def test_no_container_gets_a_variable_its_settings_do_not_read(rendered, kh, scenario):
    for where, svc, container in our_containers(rendered[scenario], kh):
        names = set(rendered_env(container, kh))
        unknown = {n for n in names - accepted(svc) if n.startswith(OUR_PREFIXES)}
        assert not unknown, f"{where}: {sorted(unknown)} are read by no setting of {svc.name}"
        foreign = names - accepted(svc) - LIBRARY_VARIABLES
        assert not foreign, f"{where}: {sorted(foreign)} are neither settings nor known library variables"


def test_every_container_gets_what_a_deployment_must_set(rendered, kh, scenario):
    for where, svc, container in our_containers(rendered[scenario], kh):
        names = set(rendered_env(container, kh))
        migrates = container["command"][3:] == ["migrate"]
        # The migrations need only the databases; a server also its address, targets, directories and secret.
        wiring = topology.wiring_variables(svc)
        required = {n for n in wiring if n.endswith("_URL")} if migrates else wiring | {"LMW_JWT_SECRET"}
        required |= {
            f"{svc.prefix}_{n.upper()}" for n, f in SETTINGS[svc.name].model_fields.items() if f.is_required()
        }
        assert required <= names, f"{where}: {sorted(required - names)} missing"


def test_every_rendered_value_parses(rendered, kh, scenario, monkeypatch):
    for where, svc, container in our_containers(rendered[scenario], kh):
        with monkeypatch.context() as patch:
            for name in accepted(svc):
                patch.delenv(name, raising=False)
            for name, value in rendered_env(container, kh).items():
                patch.setenv(name, value)
            settings = SETTINGS[svc.name]()  # raises ValidationError on a value it cannot take
            if not container["command"][3:]:
                assert settings.common.signing_secret(), where
                assert settings.port == container["ports"][0]["containerPort"], where
