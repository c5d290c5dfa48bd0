"""The Helm chart, rendered in-process for the default values and every ci/*.yaml scenario."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path

import pytest

from devkit import chart, topology

helm_python = pytest.importorskip(
    "helm_python", reason="helm-python-sdk is not installed (pip install helm-python-sdk==0.2.2)"
)

SCENARIOS = ["default", "gpu", "external-db", "ingress", "incluster-db", "observability"]
STATELESS = {"learner", "instructor", "orchestrator", "bff"}
SERVICES = ["learner", "instructor", "orchestrator", "sme", "bff"]
METRICS_PORT = 9464
MONITORING = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
WEAK = {"", "changeme", "change-me", "password", "secret", "admin", "postgres", "root", "mongo", "test"}


def test_every_scenario_is_covered(scenario_values):
    assert set(SCENARIOS) <= set(scenario_values)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_container_is_hardened_and_probed(rendered, kh, scenario):
    workloads = kh.workloads(rendered[scenario])
    assert {kh.component_of(w) for w in workloads} >= {*SERVICES, "migrations"}
    for workload in workloads:
        name = f"{workload['kind']}/{workload['metadata']['name']}"
        spec = kh.pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"], name
        for container in kh.all_containers(workload):
            where = f"{name} container {container['name']}"
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources.get(part, {})), f"{where}: {part}"
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert not context.get("privileged"), where
            assert ":latest" not in container["image"] and ":" in container["image"], where
            if workload["kind"] != "Job":  # Jobs run to completion: no probes
                assert container.get("livenessProbe"), f"{where}: no liveness probe"
                assert container.get("readinessProbe"), f"{where}: no readiness probe"


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_grpc_services_use_native_grpc_probes_and_bff_http(rendered, kh, scenario):
    docs = rendered[scenario]
    for component, port in kh.GRPC_PORTS.items():
        container = kh.pod_spec(kh.find(docs, "Deployment", component))["containers"][0]
        assert container["ports"] == [
            {"name": "grpc", "containerPort": port, "protocol": "TCP"},
            {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"},
        ]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["grpc"] == {"port": port}, (component, probe)
        service = kh.find(docs, "Service", component)
        assert service["spec"]["ports"][0]["port"] == port
    bff = kh.pod_spec(kh.find(docs, "Deployment", "bff"))["containers"][0]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert bff[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert bff["ports"][0]["containerPort"] == 8000


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_gpu_is_requested_only_when_enabled(rendered, scenario_values, kh, scenario):
    docs = rendered[scenario]
    gpu = scenario_values[scenario].get("sme", {}).get("gpu", {}).get("enabled", False)
    sme = kh.find(docs, "Deployment", "sme")
    spec = kh.pod_spec(sme)
    resources = spec["containers"][0]["resources"]
    assert ("nvidia.com/gpu" in resources["limits"]) is gpu
    assert ("nvidia.com/gpu" in resources["requests"]) is gpu
    env = kh.env_of(spec["containers"][0])
    if gpu:
        assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] >= 1
        assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
        assert "/sme-gpu:" in spec["containers"][0]["image"]
        assert env["SME_GENERATOR_BACKEND"] == "vllm"
        assert 0 < float(env["SME_VLLM_GPU_MEMORY_UTILIZATION"]) < 1
        assert any(v.get("emptyDir", {}).get("medium") == "Memory" for v in spec["volumes"])  # /dev/shm
    else:
        assert "/sme-cpu:" in spec["containers"][0]["image"]
        assert "nodeSelector" not in spec
    # FAISS cache and model weights are mounted volumes whatever the backend.
    mounts = {m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert {env["SME_INDEX_DIR"], env["SME_MODEL_DIR"]} <= mounts
    # No other workload asks for a GPU.
    for workload in kh.workloads(docs):
        if workload is sme:
            continue
        for container in kh.all_containers(workload):
            assert "nvidia.com/gpu" not in container["resources"].get("limits", {}), workload["metadata"][
                "name"
            ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_network_policies_allow_exactly_the_call_graph(rendered, scenario_values, kh, scenario):
    docs = rendered[scenario]
    values = scenario_values[scenario]
    network = values.get("networkPolicy", {})
    cidrs = network.get("externalDatabaseCIDRs", ["0.0.0.0/0"])
    # An address inside the external databases' CIDR (outside-the-cluster endpoints live there).
    outside_ip = str(next(iter(ipaddress.ip_network(cidrs[0]).hosts()), "203.0.113.10"))
    if cidrs[0] == "0.0.0.0/0":
        outside_ip = "203.0.113.10"
    edges = kh.network_edges(docs, outside_ip, {"postgresql": 5432, "mongodb": 27017})
    components = {kh.component_of(w) for w in kh.workloads(docs)}
    expected = kh.expected_edges(components, open_bff=not network.get("bffIngressFrom"))
    assert edges == expected, {"unexpected": edges - expected, "missing": expected - edges}
    # Every pod of the release is selected by the default-deny policy and by a policy of its own.
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for workload in kh.workloads(docs):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        selecting = [
            p
            for p in policies
            if all(labels.get(k) == v for k, v in p["spec"]["podSelector"]["matchLabels"].items())
        ]
        assert len(selecting) == 2, workload["metadata"]["name"]


def policy_of(docs: list[dict], component: str) -> dict:
    return next(
        d for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].endswith(f"-{component}")
    )


def test_bff_ingress_is_limited_to_the_ingress_controller_when_asked(rendered, scenario_values, kh):
    docs = rendered["ingress"]
    policy = policy_of(docs, "bff")
    assert policy["spec"]["ingress"] == [
        {
            "from": scenario_values["ingress"]["networkPolicy"]["bffIngressFrom"],
            "ports": [{"port": 8000, "protocol": "TCP"}],
        },
        {"from": MONITORING, "ports": [{"port": METRICS_PORT, "protocol": "TCP"}]},
    ]
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert ingress["spec"]["tls"] == [{"secretName": "learn-example-com-tls", "hosts": ["learn.example.com"]}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": kh.find(docs, "Service", "bff")["metadata"]["name"], "port": {"name": "http"}}
    assert not any(d["kind"] == "Ingress" for d in rendered["default"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_hpa_for_stateless_services_and_pdb_for_all(rendered, scenario_values, kh, scenario):
    docs = rendered[scenario]
    hpas = {d["spec"]["scaleTargetRef"]["name"]: d for d in docs if d["kind"] == "HorizontalPodAutoscaler"}
    assert all(d["apiVersion"] == "autoscaling/v2" for d in hpas.values())
    for component in SERVICES:
        deployment = kh.find(docs, "Deployment", component)
        name = deployment["metadata"]["name"]
        if component in STATELESS:
            assert name in hpas, f"{component} has no HPA"
            assert "replicas" not in deployment["spec"], f"{component}: the HPA owns the replica count"
        pdb = kh.find(docs, "PodDisruptionBudget", component)
        assert pdb["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    sme_name = kh.find(docs, "Deployment", "sme")["metadata"]["name"]
    assert (sme_name in hpas) is scenario_values[scenario].get("sme", {}).get("autoscaling", {}).get(
        "enabled", False
    )


def test_generated_secrets_are_random_per_install(kh, scenario_values):
    first = kh.secret_values(chart.render(scenario_values["incluster-db"]))
    second = kh.secret_values(chart.render(scenario_values["incluster-db"]))
    jwt = [k for k in first if k[1] == "jwt-secret"]
    assert len(jwt) == 1
    assert len(first[jwt[0]]) == 64 and first[jwt[0]] != second[jwt[0]]
    passwords = [k for k in first if k[1].endswith("-password")]
    assert len(passwords) == 8
    for key in passwords:
        assert len(first[key]) >= 32 and first[key] != second[key], key


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_no_secret_carries_a_known_value(rendered, kh, scenario):
    for (name, key), value in kh.secret_values(rendered[scenario]).items():
        assert value.lower() not in WEAK, (name, key)
        if key == "jwt-secret":
            assert len(value) >= 32


def test_existing_jwt_secret_is_used_and_nothing_generated(rendered, kh):
    docs = rendered["external-db"]
    assert not [k for k in kh.secret_values(docs) if k[1] == "jwt-secret"]
    for component in SERVICES:
        env = kh.env_of(kh.pod_spec(kh.find(docs, "Deployment", component))["containers"][0])
        assert env["LMW_JWT_SECRET"] == ("secret", "lmw-jwt", "signing-key")
        assert env["LMW_ENV"] == "production"


@pytest.mark.parametrize(
    "values",
    [
        {"bogus": 1},
        {"learner": {"bogus": 1}},
        {"sme": {"gpu": {"bogus": True}}},
        {"bff": {"ingress": {"hosts": [{"host": "x", "bogus": 1}]}}},
        {"postgresql": {"external": {"url": {"bogus": "postgresql://x"}}}},
        {"learner": {"image": {"tag": "latest"}}},
        {"sme": {"generator": {"backend": "gpt"}}},
    ],
)
def test_schema_rejects_unknown_keys_and_bad_values(values):
    with pytest.raises(helm_python.HelmError):
        chart.render(values)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"sme": {"generator": {"backend": "vllm", "vllm": {"model": "/m"}}}}, "sme.gpu.enabled"),
        ({"postgresql": {"external": {"url": {"learner": "postgresql://x/l"}}}}, "all of learner"),
        ({"postgresql": {"enabled": True, "external": {"existingSecret": "s"}}}, "not both"),
        ({"postgresql": {"enabled": True}}, "the other needs"),
    ],
)
def test_inconsistent_values_fail_with_a_message(values, message):
    with pytest.raises(helm_python.HelmError, match=message):
        chart.render(values)


def test_schema_is_strict_at_every_level_and_in_sync():
    schema = chart.values_schema()
    assert json.loads(chart.SCHEMA_FILE.read_text()) == schema, "run scripts/chart.py --write-schema"

    def walk(node, path):
        if "properties" in node:
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"
            for key, child in node["properties"].items():
                walk(child, f"{path}.{key}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")

    walk(schema, "values")

    def covered(value, node, path):
        if isinstance(value, dict) and "properties" in node:
            for key, child in value.items():
                assert key in node["properties"], f"values.yaml {path}.{key} is not in the schema"
                covered(child, node["properties"][key], f"{path}.{key}")

    covered(chart.load_values(chart.VALUES_FILE), schema, "values")


def test_migrations_run_as_a_hook_job_and_services_do_not_migrate(rendered, kh):
    for scenario, hook in [
        ("default", "pre-install,pre-upgrade"),
        ("incluster-db", "post-install,pre-upgrade"),
    ]:
        docs = rendered[scenario]
        job = kh.find(docs, "Job", "migrations")
        assert job["metadata"]["annotations"]["helm.sh/hook"] == hook
        commands = sorted(c["command"] for c in kh.pod_spec(job)["containers"])
        assert commands == [
            ["python", "-m", f"{svc}_svc", "migrate"] for svc in ("instructor", "learner", "orchestrator")
        ]
        for component in ("learner", "instructor", "orchestrator"):
            env = kh.env_of(kh.pod_spec(kh.find(docs, "Deployment", component))["containers"][0])
            assert env[f"{component.upper()}_MIGRATE_ON_START"] == "false"
    # URLs given as values reach the pre-install Job through a hook Secret of the same phases.
    docs = rendered["external-db"]
    hook_secret = next(
        d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"].endswith("-db-migrations")
    )
    assert hook_secret["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"


def is_wiring(svc: topology.Service, variable: str) -> bool:
    """Does the variable wire `svc` into the mesh: its address, a database, a directory, a target?"""
    setting = variable.removeprefix(f"{svc.prefix}_")
    return variable.startswith(f"{svc.prefix}_") and (
        setting in ("HOST", "PORT", "DATABASE_URL", "MONGO_URL")
        or setting.endswith(("_TARGET", "_DIR", "_ROOT"))
    )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_workload_is_wired_as_the_topology_says(rendered, kh, scenario):
    """The environment the chart renders for each service sets exactly the wiring of devkit.topology (what
    the local launcher and the test mesh set): its address, its databases (from Secrets), its directories
    (mounted volumes) and one target per service it calls, on that service's Service and port."""
    docs = rendered[scenario]
    services = {kh.component_of(d): d for d in docs if d["kind"] == "Service"}
    for svc in topology.SERVICES:
        container = kh.pod_spec(kh.find(docs, "Deployment", svc.name))["containers"][0]
        env = kh.env_of(container)
        assert {name for name in env if is_wiring(svc, name)} == topology.wiring_variables(svc), svc.name
        assert container["command"] == ["python", "-m", svc.module]
        assert env[f"{svc.prefix}_HOST"] == "0.0.0.0"
        assert env[f"{svc.prefix}_PORT"] == str(svc.port) == str(container["ports"][0]["containerPort"])
        assert services[svc.name]["spec"]["ports"][0]["port"] == svc.port
        for setting in ("DATABASE_URL", "MONGO_URL"):
            if f"{svc.prefix}_{setting}" in env:
                assert env[f"{svc.prefix}_{setting}"][0] == "secret", (
                    f"{svc.prefix}_{setting} must come from a Secret"
                )
        mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
        for setting in svc.dirs:
            assert env[f"{svc.prefix}_{setting.upper()}"] in mounts, f"{svc.name} {setting} is not a volume"
        for callee in svc.calls:
            target = env[f"{svc.prefix}_{callee.upper()}_TARGET"]
            assert target == f"{services[callee]['metadata']['name']}:{topology.service(callee).port}"
    # The migrations Job migrates exactly the services with a PostgreSQL database, with their databases.
    job = kh.pod_spec(kh.find(docs, "Job", "migrations"))
    migrated = {c["command"][2]: kh.env_of(c) for c in job["containers"]}
    assert set(migrated) == {topology.service(name).module for name in topology.POSTGRES_SERVICES}
    for name in topology.POSTGRES_SERVICES:
        svc = topology.service(name)
        databases = {v for v in migrated[svc.module] if v.endswith(("_DATABASE_URL", "_MONGO_URL"))}
        assert databases == {v for v in topology.wiring_variables(svc) if v.endswith("_URL")}, name


def test_wiring_variables_are_told_from_the_other_settings():
    learner, instructor = topology.service("learner"), topology.service("instructor")
    for variable in ("LEARNER_HOST", "LEARNER_PORT", "LEARNER_DATABASE_URL", "LEARNER_SME_TARGET"):
        assert is_wiring(learner, variable), variable
    assert is_wiring(instructor, "INSTRUCTOR_BLOB_ROOT") and is_wiring(
        topology.service("sme"), "SME_INDEX_DIR"
    )
    for variable in ("LEARNER_MIGRATE_ON_START", "SME_PORT", "LMW_JWT_SECRET"):
        assert not is_wiring(learner, variable), variable
    assert not is_wiring(topology.service("sme"), "SME_OPENAI_BASE_URL")


def test_plain_manifests_are_in_sync_and_carry_no_secret():
    files = chart.plain_manifests()
    assert chart.manifests_diff(files) == [], "run scripts/chart.py --write-manifests"
    assert files == chart.plain_manifests(), "the plain manifests must be deterministic"
    assert "kind: Secret" not in "".join(files.values())
    assert "namespace: learning-middleware" in files["kustomization.yaml"]


def test_headless_services_give_dns_targets(kh):
    docs = chart.render({"sme": {"service": {"headless": True}}})
    assert kh.find(docs, "Service", "sme")["spec"]["clusterIP"] == "None"
    assert kh.find(docs, "Service", "learner")["spec"].get("clusterIP") is None
    env = kh.env_of(kh.pod_spec(kh.find(docs, "Deployment", "orchestrator"))["containers"][0])
    sme_service = kh.find(docs, "Service", "sme")["metadata"]["name"]
    assert env["ORCHESTRATOR_SME_TARGET"] == f"dns:///{sme_service}.{chart.NAMESPACE}.svc:50054"


def test_replicas_spread_over_nodes_by_default(rendered, kh):
    for component in SERVICES:
        spec = kh.pod_spec(kh.find(rendered["default"], "Deployment", component))
        (spread,) = spec["topologySpreadConstraints"]
        assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
        assert spread["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == component


def test_rendered_documents_are_valid_kubernetes_1_30(rendered):
    pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    # Most documents are the same in every scenario: validate each distinct one once.
    unique = {json.dumps(doc, sort_keys=True): doc for docs in rendered.values() for doc in docs}
    assert chart.validate(list(unique.values())) == []


# ------------------------------------------------------------------------------------------- observability


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_workload_serves_metrics_that_only_the_monitoring_namespace_may_scrape(rendered, kh, scenario):
    docs = rendered[scenario]
    for component in SERVICES:
        deployment = kh.find(docs, "Deployment", component)
        container = kh.pod_spec(deployment)["containers"][0]
        assert {"name": "metrics", "containerPort": METRICS_PORT, "protocol": "TCP"} in container["ports"]
        env = kh.env_of(container)
        assert (env["LMW_METRICS_ENABLED"], env["LMW_METRICS_PORT"]) == ("true", str(METRICS_PORT)), component
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(METRICS_PORT), component
        service = kh.find(docs, "Service", component)
        assert {"name": "metrics", "port": METRICS_PORT, "targetPort": "metrics"}.items() <= next(
            p for p in service["spec"]["ports"] if p["name"] == "metrics"
        ).items()
        scrape = [
            r for r in policy_of(docs, component)["spec"]["ingress"] if r["ports"][0]["port"] == METRICS_PORT
        ]
        assert [r.get("from") for r in scrape] == [MONITORING], component


def test_without_monitoring_asked_for_there_is_no_service_monitor_dashboard_nor_tracing(rendered, kh):
    docs = rendered["default"]
    assert not [d for d in docs if d["kind"] == "ServiceMonitor"]
    assert not [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard")]
    for component in SERVICES:
        env = kh.env_of(kh.pod_spec(kh.find(docs, "Deployment", component))["containers"][0])
        assert not [name for name in env if name.startswith("OTEL_")], component


def test_with_monitoring_each_workload_has_a_service_monitor_and_sends_spans_only_to_the_collector(
    rendered, scenario_values, kh
):
    docs = rendered["observability"]
    tracing = scenario_values["observability"]["tracing"]
    for component in SERVICES:
        monitor = kh.find(docs, "ServiceMonitor", component)
        service = kh.find(docs, "Service", component)
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
        env = kh.env_of(kh.pod_spec(kh.find(docs, "Deployment", component))["containers"][0])
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == tracing["otlpEndpoint"]
        assert (env["OTEL_TRACES_SAMPLER"], env["OTEL_TRACES_SAMPLER_ARG"]) == (
            "parentbased_traceidratio",
            "0.25",
        )
        otlp = [r for r in policy_of(docs, component)["spec"]["egress"] if r["ports"][0]["port"] == 4317]
        assert [r.get("to") for r in otlp] == [MONITORING], component


def test_the_dashboard_is_json_about_metrics_the_services_define(rendered):
    (config_map,) = [d for d in rendered["observability"] if d["metadata"]["name"].endswith("-dashboard")]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["learning-middleware.json"])
    expressions = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {re.sub(r"_(total|bucket)$", "", name) for e in expressions for name in re.findall(r"lmw_\w+", e)}
    root = Path(__file__).resolve().parents[2]
    packages = sorted({"lmw_common", *(svc.module.split(".")[0] for svc in topology.SERVICES)})
    sources = " ".join(p.read_text() for package in packages for p in (root / package).rglob("*.py"))
    defined = set(re.findall(r'"(lmw_[a-z_]+)"', sources))
    assert used and used <= defined, sorted(used - defined)
    titles = " ".join(p["title"] for p in dashboard["panels"]).casefold()
    for topic in ("rpc", "latency", "errors", "cache hit ratio", "generation", "jobs"):
        assert topic in titles, topic
