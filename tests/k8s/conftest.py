"""Shared helpers of the chart tests: render the chart in-process and reason about the rendered objects.

The chart is rendered with helm-python-sdk (the Helm v4 SDK in a wheel) by devkit/chart.py, as
scripts/k8s_check.py (`make k8s-lint`) renders it. Test modules that render call
`pytest.importorskip("helm_python")` themselves, so they skip cleanly where the SDK is not installed.
Who calls whom and on which ports comes from devkit.topology, the table the launchers read.
"""

from __future__ import annotations

import base64
import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest

from devkit import chart
from devkit.topology import GRPC_SERVICES, SERVICES, service

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job"}
COMPONENT = "app.kubernetes.io/component"
CALLS = {s.name: set(s.calls) for s in SERVICES}
# The databases each component uses (the migrations Job: those of every service it migrates).
DATABASES = {
    s.name: {db for db, used in (("postgresql", s.postgres), ("mongodb", s.mongo)) if used} for s in SERVICES
} | {"migrations": {"postgresql", "mongodb"}}
GRPC_PORTS = {name: service(name).port for name in GRPC_SERVICES}


def workloads(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] in WORKLOAD_KINDS]


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def all_containers(workload: dict) -> list[dict]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def component_of(obj: dict) -> str:
    return obj["metadata"]["labels"][COMPONENT]


def find(docs: list[dict], kind: str, component: str) -> dict:
    found = [
        d for d in docs if d["kind"] == kind and d["metadata"].get("labels", {}).get(COMPONENT) == component
    ]
    assert len(found) == 1, f"expected one {kind} for {component}, found {len(found)}"
    return found[0]


def env_of(container: dict) -> dict[str, Any]:
    """name -> value, or ('secret', name, key) for secretKeyRef values."""
    out: dict[str, Any] = {}
    for item in container.get("env", []):
        if "value" in item:
            out[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            out[item["name"]] = ("secret", ref["name"], ref["key"])
    return out


def secret_values(docs: list[dict]) -> dict[tuple[str, str], str]:
    """(secret name, key) -> decoded value, for every rendered Secret."""
    values = {}
    for doc in docs:
        if doc["kind"] != "Secret":
            continue
        for key, value in (doc.get("data") or {}).items():
            values[(doc["metadata"]["name"], key)] = base64.b64decode(value).decode()
        for key, value in (doc.get("stringData") or {}).items():
            values[(doc["metadata"]["name"], key)] = value
    return values


# ------------------------------------------------------------------------------ NetworkPolicy model


def _selects(selector: dict, labels: dict) -> bool:
    assert not selector.get("matchExpressions"), "the model only understands matchLabels"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _port_ok(rule: dict, port: int, protocol: str = "TCP") -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(p.get("port") == port and p.get("protocol", "TCP") == protocol for p in ports)


def _peer_ok(peer: dict, endpoint: dict) -> bool:
    """Does a NetworkPolicy peer match an endpoint: a pod of the release's namespace, or an outside IP?"""
    if "ipBlock" in peer:
        if endpoint.get("ip") is None:
            return False  # the model keeps pod traffic and ipBlocks apart (pod IPs are not stable)
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(endpoint["ip"])
        inside = ip in ipaddress.ip_network(block["cidr"])
        return inside and not any(ip in ipaddress.ip_network(e) for e in block.get("except", []))
    if "namespaceSelector" in peer:
        # Only other namespaces are selected this way in this chart; endpoints here are same-namespace
        # pods or outside IPs, so a namespaceSelector never matches them.
        return False
    if "podSelector" in peer:
        return endpoint.get("labels") is not None and _selects(peer["podSelector"], endpoint["labels"])
    return False


def _allowed(policies: list[dict], src: dict, dst: dict, port: int) -> bool:
    """Traffic src -> dst:port passes when src's egress and dst's ingress both allow it."""

    def side(endpoint: dict, direction: str, peers_key: str, other: dict) -> bool:
        if endpoint.get("labels") is None:
            return True  # outside the cluster: not governed by these policies
        selecting = [
            p
            for p in policies
            if _selects(p["spec"]["podSelector"], endpoint["labels"])
            and direction in p["spec"].get("policyTypes", ["Ingress"])
        ]
        if not selecting:
            return True  # not isolated in that direction
        for policy in selecting:
            for rule in policy["spec"].get(direction.lower(), []) or []:
                peers = rule.get(peers_key)
                if _port_ok(rule, port) and (not peers or any(_peer_ok(peer, other) for peer in peers)):
                    return True
        return False

    return side(src, "Egress", "to", dst) and side(dst, "Ingress", "from", src)


def network_edges(docs: list[dict], outside_ip: str, db_ports: dict[str, int]) -> set[tuple[str, str]]:
    """The (source, destination) component pairs the NetworkPolicies allow.

    Destinations are the release's pods on their container ports, plus "postgresql"/"mongodb" as an
    outside server at `outside_ip` on `db_ports` (external databases), plus "internet:443" at that IP.
    "world" stands for any outside client reaching a pod.
    """
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    pods = {}
    for w in workloads(docs):
        template = w["spec"]["template"]
        ports = {p["containerPort"] for c in all_containers(w) for p in c.get("ports", [])}
        pods[component_of(w)] = {"labels": template["metadata"]["labels"], "ports": ports}
    outside = {"ip": outside_ip}
    edges = set()
    for src_name, src in pods.items():
        for dst_name, dst in pods.items():
            if any(_allowed(policies, src, dst, port) for port in dst["ports"]):
                edges.add((src_name, dst_name))
        for db, port in db_ports.items():
            if db not in pods and _allowed(policies, src, outside, port):
                edges.add((src_name, db))
        if _allowed(policies, src, outside, 443):
            edges.add((src_name, "internet:443"))
        if _allowed(policies, src, outside, 53):
            edges.add((src_name, "dns"))
    for dst_name, dst in pods.items():
        if any(_allowed(policies, outside, dst, port) for port in dst["ports"]):
            edges.add(("world", dst_name))
    return edges


def expected_edges(components: set[str], *, open_bff: bool) -> set[tuple[str, str]]:
    """The call graph, each component's databases, DNS for the app components, the world to the BFF."""
    edges = {(src, dst) for src, dsts in CALLS.items() for dst in dsts}
    edges |= {(c, db) for c, dbs in DATABASES.items() if c in components for db in dbs}
    edges |= {(c, "dns") for c in components if c not in ("postgresql", "mongodb")}
    if open_bff:
        edges.add(("world", "bff"))
    return edges


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def scenario_values() -> dict[str, dict]:
    return {name: chart.load_values(path) for name, path in chart.scenarios().items()}


@pytest.fixture(scope="session")
def rendered(scenario_values) -> dict[str, list[dict]]:
    """scenario name -> rendered documents (rendered once per session)."""
    pytest.importorskip(
        "helm_python", reason="helm-python-sdk is not installed (pip install helm-python-sdk==0.2.2)"
    )
    return {name: chart.render(values) for name, values in scenario_values.items()}


@pytest.fixture(scope="session")
def kh() -> SimpleNamespace:
    """The helper functions above, for the test modules."""
    return SimpleNamespace(
        workloads=workloads,
        pod_spec=pod_spec,
        all_containers=all_containers,
        component_of=component_of,
        find=find,
        env_of=env_of,
        secret_values=secret_values,
        network_edges=network_edges,
        expected_edges=expected_edges,
        CALLS=CALLS,
        DATABASES=DATABASES,
        GRPC_PORTS=GRPC_PORTS,
    )
