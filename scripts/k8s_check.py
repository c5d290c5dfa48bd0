"""Offline checks of the Kubernetes deliverable: the Helm chart, its schema and the plain manifests.

For the default values and every scenario in k8s/helm/learning-middleware/ci/*.yaml:
  1. helm lint --strict (helm-python-sdk: the Helm v4 SDK in a wheel; no helm binary, no cluster);
  2. helm template (same SDK), written to build/k8s/<scenario>/ for inspection;
  3. kubernetes-validate --strict against Kubernetes 1.30 on every rendered document;
  4. yamllint on values.yaml, the scenarios, the rendered output and the plain manifests;
  5. checkov's Kubernetes checks on the rendered output (accepted findings carry a `checkov.io/skipN`
     annotation with the reason; everything else must pass).
Also: values.schema.json must equal the schema described in `values_schema()` below, k8s/manifests/
(a kustomize base) must equal the chart's default render (and build with `kubectl kustomize` when kubectl
is installed), and checkov's Dockerfile checks must pass on docker/Dockerfile.*.

    .venv-k8s/bin/python scripts/k8s_check.py                    # check; exit 1 on any finding
    .venv-k8s/bin/python scripts/k8s_check.py --write-schema --write-manifests   # regenerate, then check
    .venv-k8s/bin/python scripts/k8s_check.py --no-checkov       # skip the slow part

The tools live in their own venv (checkov pins many packages):
    python3 -m venv .venv-k8s && .venv-k8s/bin/pip install -q helm-python-sdk==0.2.2 kubernetes-validate \
        yamllint checkov pyyaml pytest
tests/k8s/conftest.py imports this file for `render()` and `plain_manifests()`; keep their imports lazy.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "k8s" / "helm" / "learning-middleware"
SCHEMA_FILE = CHART / "values.schema.json"
MANIFESTS = ROOT / "k8s" / "manifests"
BUILD = ROOT / "build" / "k8s"
KUBE_VERSION = "1.30.0"
# The release name equals the chart name, so resources are called learning-middleware-<component>.
RELEASE = "learning-middleware"
NAMESPACE = "learning-middleware"
YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length: {max: 160, allow-non-breakable-inline-mappings: true}
  indentation: {spaces: 2, indent-sequences: whatever}
  truthy: {check-keys: false}
"""
# Secrets the plain manifests leave to the operator (generated or user-provided in the chart).
PLAIN_SECRETS_NOTE = (
    "Secrets are not part of this base: create learning-middleware-jwt (key jwt-secret) and "
    "learning-middleware-db (database URLs) first, see k8s/README.md."
)


# --------------------------------------------------------------------------------------------- schema


def _obj(props: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": props}
    if description:
        node["description"] = description
    return node


def _str(description: str | None = None, **extra: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string", **extra}
    if description:
        node["description"] = description
    return node


def _int(minimum: int = 0, maximum: int | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        node["maximum"] = maximum
    return node


_BOOL = {"type": "boolean"}
_PORT = _int(1, 65535)
_QUANTITY = {"type": ["string", "number"]}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_K8S_OBJECT = {"type": "object", "description": "A Kubernetes object, passed through as is."}
_K8S_LIST = {
    "type": "array",
    "items": {"type": "object"},
    "description": "Kubernetes objects, passed through.",
}
_RESOURCES = _obj(
    {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    }
)
_IMAGE = _obj(
    {
        "repository": _str(minLength=1),
        "tag": {**_str("Defaults to the chart appVersion; never latest."), "not": {"const": "latest"}},
        "digest": _str(
            "sha256:<64 hex>; used instead of the tag when set.", pattern="^(sha256:[a-f0-9]{64})?$"
        ),
        "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
    }
)
_ACCESS_MODES = {
    "type": "array",
    "minItems": 1,
    "items": {"enum": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]},
}


def _volume(*, read_only: bool = False) -> dict[str, Any]:
    props: dict[str, Any] = {
        "type": {"enum": ["emptyDir", "persistentVolumeClaim"]},
        "existingClaim": _str(),
        "storageClass": _str(),
        "accessModes": _ACCESS_MODES,
        "size": _QUANTITY,
        "mountPath": _str(pattern="^/"),
    }
    props["sizeLimit"] = _QUANTITY
    if read_only:
        props["readOnly"] = _BOOL
    return _obj(props)


def _service_block(*, http: bool = False, **extra: Any) -> dict[str, Any]:
    service = (
        _obj({"type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]}, "annotations": _STRING_MAP})
        if http
        else _obj({"headless": _BOOL, "annotations": _STRING_MAP})
    )
    props: dict[str, Any] = {
        "image": _IMAGE,
        "port": _PORT,
        "replicaCount": _int(0),
        "resources": _RESOURCES,
        "autoscaling": _obj(
            {
                "enabled": _BOOL,
                "minReplicas": _int(1),
                "maxReplicas": _int(1),
                "targetCPUUtilizationPercentage": _int(1, 100),
            }
        ),
        "podDisruptionBudget": _obj({"enabled": _BOOL, "maxUnavailable": {"type": ["integer", "string"]}}),
        "service": service,
        "serviceAccount": _obj({"annotations": _STRING_MAP}),
        "podAnnotations": _STRING_MAP,
        "nodeSelector": _STRING_MAP,
        "tolerations": _K8S_LIST,
        "affinity": _K8S_OBJECT,
        "topologySpreadConstraints": _K8S_LIST,
        "terminationGracePeriodSeconds": _int(0),
        "tmpSizeLimit": _QUANTITY,
        "probes": _obj(
            {
                "startupFailureThreshold": _int(1),
                "periodSeconds": _int(1),
                "timeoutSeconds": _int(1),
                "failureThreshold": _int(1),
            }
        ),
        "extraEnv": {
            "type": "array",
            "items": {
                **_obj({"name": _str(minLength=1), "value": _str(), "valueFrom": _K8S_OBJECT}),
                "required": ["name"],
            },
        },
        "extraEgress": _K8S_LIST,
    }
    props.update(extra)
    return _obj(props)


def _database() -> dict[str, Any]:
    return {
        "enabled": _BOOL,
        "image": _IMAGE,
        "persistence": _obj({"storageClass": _str(), "size": _QUANTITY}),
        "resources": _RESOURCES,
        "nodeSelector": _STRING_MAP,
        "tolerations": _K8S_LIST,
        "affinity": _K8S_OBJECT,
    }


def values_schema() -> dict[str, Any]:
    """The JSON schema of values.yaml: every object of fixed keys has additionalProperties false."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "learning-middleware values",
        "description": "Generated by scripts/k8s_check.py --write-schema; edit the script, not this file.",
        **_obj(
            {
                "nameOverride": _str(),
                "fullnameOverride": _str(),
                "global": _obj(
                    {
                        "imageRegistry": _str(),
                        "imagePullSecrets": {"type": "array", "items": _str(minLength=1)},
                        "logLevel": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]},
                    }
                ),
                "jwt": _obj({"existingSecret": _str(), "existingSecretKey": _str(minLength=1)}),
                "migrations": _obj(
                    {
                        "enabled": _BOOL,
                        "backoffLimit": _int(0),
                        "activeDeadlineSeconds": _int(1),
                        "resources": _RESOURCES,
                    }
                ),
                "learner": _service_block(),
                "instructor": _service_block(
                    maxUploadBytes=_int(1),
                    persistence=_volume(),
                ),
                "orchestrator": _service_block(),
                "sme": _service_block(
                    generator=_obj(
                        {
                            "backend": {"enum": ["extractive", "vllm", "openai"]},
                            "vllm": _obj(
                                {
                                    "model": _str(),
                                    "gpuMemoryUtilization": {
                                        "type": "number",
                                        "exclusiveMinimum": 0,
                                        "maximum": 1,
                                    },
                                }
                            ),
                            "openai": _obj(
                                {
                                    "baseUrl": _str(),
                                    "model": _str(),
                                    "apiKey": _str(),
                                    "existingSecret": _str(),
                                    "existingSecretKey": _str(minLength=1),
                                }
                            ),
                        }
                    ),
                    indexCache=_volume(),
                    models=_volume(read_only=True),
                    gpu=_obj(
                        {
                            "enabled": _BOOL,
                            "count": _int(1),
                            "resourceName": _str(minLength=1),
                            "image": _IMAGE,
                            "resources": _RESOURCES,
                            "nodeSelector": _STRING_MAP,
                            "tolerations": _K8S_LIST,
                            "runtimeClassName": _str(),
                            "shmSizeLimit": _QUANTITY,
                        }
                    ),
                ),
                "bff": _service_block(
                    http=True,
                    maxUploadBytes=_int(1),
                    graphiql=_BOOL,
                    allowedOrigins={"type": "array", "items": _str(minLength=1)},
                    ingress=_obj(
                        {
                            "enabled": _BOOL,
                            "className": _str(),
                            "annotations": _STRING_MAP,
                            "hosts": {
                                "type": "array",
                                "items": _obj(
                                    {
                                        "host": _str(minLength=1),
                                        "paths": {
                                            "type": "array",
                                            "items": _obj(
                                                {
                                                    "path": _str(pattern="^/"),
                                                    "pathType": {
                                                        "enum": ["Prefix", "Exact", "ImplementationSpecific"]
                                                    },
                                                }
                                            ),
                                        },
                                    }
                                ),
                            },
                            "tls": {
                                "type": "array",
                                "items": _obj(
                                    {
                                        "secretName": _str(minLength=1),
                                        "hosts": {"type": "array", "items": _str(minLength=1)},
                                    }
                                ),
                            },
                        }
                    ),
                ),
                "postgresql": _obj(
                    {
                        **_database(),
                        "external": _obj(
                            {
                                "existingSecret": _str(),
                                "url": _obj(
                                    {
                                        "learner": _str(pattern="^(postgres(ql)?(\\+psycopg)?://.*)?$"),
                                        "instructor": _str(pattern="^(postgres(ql)?(\\+psycopg)?://.*)?$"),
                                        "orchestrator": _str(pattern="^(postgres(ql)?(\\+psycopg)?://.*)?$"),
                                    }
                                ),
                            }
                        ),
                    }
                ),
                "mongodb": _obj(
                    {
                        **_database(),
                        "external": _obj(
                            {
                                "existingSecret": _str(),
                                "url": _str(pattern="^(mongodb(\\+srv)?://[^/?]+.*)?$"),
                                "databases": _obj(
                                    {
                                        svc: _str(pattern="^[A-Za-z0-9_-]{1,63}$")
                                        for svc in ("instructor", "orchestrator", "sme")
                                    }
                                ),
                            }
                        ),
                    }
                ),
                "networkPolicy": _obj(
                    {
                        "enabled": _BOOL,
                        "bffIngressFrom": _K8S_LIST,
                        "dnsTo": _K8S_LIST,
                        "externalDatabaseCIDRs": {"type": "array", "items": _str(minLength=1)},
                        "externalDatabasePorts": _obj({"postgresql": _PORT, "mongodb": _PORT}),
                    }
                ),
            }
        ),
    }


def schema_text() -> str:
    return json.dumps(values_schema(), indent=2) + "\n"


# --------------------------------------------------------------------------------------------- render


def scenarios() -> dict[str, Path]:
    """ci/<name>-values.yaml -> name."""
    return {p.name.removesuffix(".yaml").removesuffix("-values"): p for p in sorted(CHART.glob("ci/*.yaml"))}


def load_values(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text()) or {}


def render_raw(
    values: dict[str, Any] | None = None, *, name: str = RELEASE, namespace: str = NAMESPACE
) -> dict[str, str]:
    """helm template: {template path relative to templates/: rendered text}, NOTES.txt included."""
    import helm_python

    out = helm_python.Chart.load(str(CHART)).render(
        copy.deepcopy(values or {}), name=name, namespace=namespace, is_install=True
    )
    return {path.split("/templates/", 1)[1]: body for path, body in sorted(out.items())}


def render(
    values: dict[str, Any] | None = None, *, name: str = RELEASE, namespace: str = NAMESPACE
) -> list[dict[str, Any]]:
    """The rendered Kubernetes documents (NOTES.txt and empty documents left out)."""
    docs: list[dict[str, Any]] = []
    for path, body in render_raw(values, name=name, namespace=namespace).items():
        if path.endswith(".txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(body) if d)
    return docs


def lint(values: dict[str, Any]) -> list[str]:
    """helm lint --strict; returns WARNING and ERROR messages (INFO is printed as a note only)."""
    import helm_python

    report = helm_python.lint(str(CHART), copy.deepcopy(values), strict=True, kube_version=f"v{KUBE_VERSION}")
    found = []
    for message in report.get("messages") or []:
        level = ["UNKNOWN", "INFO", "WARNING", "ERROR"][message["severity"]]
        if level != "INFO":
            found.append(f"{level} {message['path']}: {message['error']}")
    found.extend(f"ERROR {e}" for e in report.get("errors") or [] if not any(str(e) in f for f in found))
    return found


def validate(docs: list[dict[str, Any]]) -> list[str]:
    import kubernetes_validate

    errors = []
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except (
            kubernetes_validate.ValidationError,
            kubernetes_validate.SchemaNotFoundError,
            kubernetes_validate.InvalidSchemaError,
        ) as exc:
            ident = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            errors.append(f"{ident}: {getattr(exc, 'message', exc)}")
    return errors


def yamllint(paths: list[Path]) -> list[str]:
    from yamllint import linter
    from yamllint.config import YamlLintConfig

    config = YamlLintConfig(YAMLLINT_CONFIG)
    problems = []
    for path in paths:
        for problem in linter.run(path.read_text(), config, str(path)):
            if problem.level == "error":
                problems.append(f"{path.relative_to(ROOT)}:{problem.line}:{problem.column} {problem.message}")
    return problems


def write_rendered(scenario: str, raw: dict[str, str]) -> list[Path]:
    out = BUILD / scenario
    shutil.rmtree(out, ignore_errors=True)
    written = []
    for path, body in raw.items():
        if not body.strip():
            continue
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"# Source: learning-middleware/templates/{path}\n{body.strip()}\n")
        if target.suffix == ".yaml":
            written.append(target)
    return written


def checkov(directory: Path, framework: str = "kubernetes") -> dict[str, Any]:
    """checkov's checks of one framework; {passed, failed: [..], skipped: Counter(id), reasons: {id: why}}."""
    binary = Path(sys.executable).with_name("checkov")
    cmd = [
        str(binary) if binary.exists() else "checkov",
        *("-d", str(directory), "--framework", framework, "--compact", "--skip-download", "-o", "json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"checkov gave no JSON (exit {proc.returncode}): {proc.stderr[-2000:]}") from exc
    reports = report if isinstance(report, list) else [report]
    result: dict[str, Any] = {"passed": 0, "failed": [], "skipped": Counter(), "reasons": {}}
    for rep in reports:
        if "results" not in rep:  # {"passed": 0, "failed": 0, ...} when nothing was scanned
            continue
        results = rep["results"]
        result["passed"] += len(results.get("passed_checks", []))
        for check in results.get("failed_checks", []):
            result["failed"].append(f"{check['check_id']} {check['check_name']} ({check['resource']})")
        for check in results.get("skipped_checks", []):
            result["skipped"][check["check_id"]] += 1
            result["reasons"][check["check_id"]] = (check.get("check_result") or {}).get(
                "suppress_comment", ""
            )
    return result


# ----------------------------------------------------------------------------------- plain manifests


def _plain(doc: dict[str, Any]) -> dict[str, Any]:
    """A rendered document made chart-neutral: no namespace (kustomize sets it), no Helm hook keys."""
    doc = copy.deepcopy(doc)
    meta = doc.get("metadata", {})
    meta.pop("namespace", None)
    annotations = meta.get("annotations") or {}
    for key in [k for k in annotations if k.startswith("helm.sh/")]:
        del annotations[key]
    if "annotations" in meta and not annotations:
        del meta["annotations"]

    def relabel(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("app.kubernetes.io/managed-by") == "Helm":
                node["app.kubernetes.io/managed-by"] = "kustomize"
            node.pop("helm.sh/chart", None)
            for value in node.values():
                relabel(value)
        elif isinstance(node, list):
            for value in node:
                relabel(value)

    relabel(doc)
    return doc


def plain_manifests() -> dict[str, str]:
    """k8s/manifests/: the default render minus Secrets, one file per template, plus kustomization.yaml.

    Deterministic: the only random values of the chart live in the Secrets it generates, and those are
    exactly what the plain base leaves out (the operator creates them, see k8s/README.md).
    """
    files: dict[str, str] = {}
    header = (
        "# Generated by scripts/k8s_check.py --write-manifests from the Helm chart's default values.\n"
        "# Do not edit: change the chart and regenerate.\n"
    )
    for path, body in render_raw(load_values(CHART / "ci" / "default-values.yaml")).items():
        if path.endswith(".txt"):
            continue
        docs = [_plain(d) for d in yaml.safe_load_all(body) if d and d.get("kind") != "Secret"]
        if docs:
            dumped = yaml.safe_dump_all(docs, sort_keys=False, width=200, explicit_start=True)
            files[Path(path).name] = header + dumped
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": sorted(files),
    }
    files["kustomization.yaml"] = (
        header + f"# {PLAIN_SECRETS_NOTE}\n" + yaml.safe_dump(kustomization, sort_keys=False, width=200)
    )
    return files


def manifests_diff(expected: dict[str, str]) -> list[str]:
    present = {p.name: p.read_text() for p in MANIFESTS.glob("*.yaml")} if MANIFESTS.exists() else {}
    problems = [f"k8s/manifests/{n} is missing" for n in sorted(set(expected) - set(present))]
    problems += [
        f"k8s/manifests/{n} is not generated by the chart" for n in sorted(set(present) - set(expected))
    ]
    problems += [
        f"k8s/manifests/{n} differs from the chart's render"
        for n in sorted(set(expected) & set(present))
        if expected[n] != present[n]
    ]
    return problems


def write_manifests(files: dict[str, str]) -> None:
    MANIFESTS.mkdir(parents=True, exist_ok=True)
    for stale in MANIFESTS.glob("*.yaml"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (MANIFESTS / name).write_text(text)


def kustomize_build() -> list[str]:
    """`kubectl kustomize k8s/manifests` when kubectl is installed (offline); [] or the error."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return []
    proc = subprocess.run([kubectl, "kustomize", str(MANIFESTS)], capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"kubectl kustomize k8s/manifests failed: {proc.stderr.strip()[-1000:]}"]
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    bad = [
        d["kind"] + "/" + d["metadata"]["name"] for d in docs if d["metadata"].get("namespace") != NAMESPACE
    ]
    problems = validate(docs)
    if bad:
        problems.append(f"kustomize output without namespace {NAMESPACE}: {bad}")
    return problems


# ------------------------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-schema", action="store_true", help="regenerate values.schema.json")
    parser.add_argument("--write-manifests", action="store_true", help="regenerate k8s/manifests/")
    parser.add_argument("--no-checkov", action="store_true", help="skip checkov (fast local loop)")
    args = parser.parse_args(argv)

    failures: list[str] = []
    if args.write_schema:
        SCHEMA_FILE.write_text(schema_text())
        print(f"wrote {SCHEMA_FILE.relative_to(ROOT)}")
    if SCHEMA_FILE.read_text() != schema_text():
        failures.append("values.schema.json is out of date: run scripts/k8s_check.py --write-schema")

    lint_inputs = [CHART / "values.yaml", *scenarios().values()]
    reasons: dict[str, str] = {}
    for scenario, path in scenarios().items():
        values = load_values(path)
        problems = [f"lint: {m}" for m in lint(values)]
        raw = render_raw(values)
        docs = [d for p, body in raw.items() if not p.endswith(".txt") for d in yaml.safe_load_all(body) if d]
        written = write_rendered(scenario, raw)
        invalid = validate(docs)
        problems += [f"kubernetes-validate: {e}" for e in invalid]
        lint_problems = yamllint(written)
        problems += [f"yamllint: {e}" for e in lint_problems]
        line = f"[{scenario}] helm lint {'ok' if not any(p.startswith('lint:') for p in problems) else 'FAILED'};"
        line += (
            f" {len(docs)} documents rendered, {len(docs) - len(invalid)} valid (Kubernetes {KUBE_VERSION},"
        )
        line += f" strict); yamllint {'ok' if not lint_problems else 'FAILED'}"
        if not args.no_checkov:
            result = checkov(BUILD / scenario)
            problems += [f"checkov: {f}" for f in result["failed"]]
            reasons.update(result["reasons"])
            skipped = ", ".join(f"{cid} x{n}" for cid, n in sorted(result["skipped"].items())) or "none"
            line += f"; checkov {result['passed']} passed, {len(result['failed'])} failed, skipped: {skipped}"
        print(line)
        for problem in problems:
            print(f"    {problem}")
        failures += [f"[{scenario}] {p}" for p in problems]

    files = plain_manifests()
    if args.write_manifests:
        write_manifests(files)
        print(f"wrote k8s/manifests/ ({len(files)} files)")
    sync = manifests_diff(files)
    failures += sync
    if not sync:
        failures += kustomize_build()
        lint_inputs += sorted(MANIFESTS.glob("*.yaml"))
    failures += [f"yamllint: {e}" for e in yamllint(lint_inputs)]
    print(
        f"[manifests] k8s/manifests: {len(files)} files, {'in sync' if not sync else 'OUT OF SYNC'} with the chart"
    )

    if not args.no_checkov:
        result = checkov(ROOT / "docker", "dockerfile")
        failures += [f"checkov (Dockerfiles): {f}" for f in result["failed"]]
        print(
            f"[docker] checkov {result['passed']} passed, {len(result['failed'])} failed on docker/Dockerfile.*"
        )
    for check_id, reason in sorted(reasons.items()):
        print(f"checkov skip {check_id}: {reason}")
    if failures:
        print(f"\nFAILED ({len(failures)}):")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("\nOK: chart lint, render, schema, validation, yamllint" + ("" if args.no_checkov else ", checkov"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
