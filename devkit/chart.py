"""The Helm chart (k8s/helm/learning-middleware) rendered in-process, and its values schema generated from
its values.yaml: what scripts/k8s_check.py (`make lint`) and tests/k8s share.

Rendering uses helm-python-sdk (the Helm v4 SDK in a wheel; no helm binary, no cluster); its imports stay
lazy so the schema can be generated where it is not installed.

values.schema.json is generated from values.yaml, the one source (`scripts/k8s_check.py --write-schema`;
`make lint` fails when the committed file is stale). Every key's type is inferred from its default (an
integer: at least 0; a mapping: exactly its keys, so a typo fails `helm install`; a list: items like its
first one); keys in KNOWN_KEYS mean the same wherever they appear (image, resources, probes, ...); and a
`# @schema` comment right above a key adds JSON-schema keywords (a YAML flow mapping, merged into the
inferred schema; several such lines are joined) or names one of TYPES:

    # @schema {enum: [Always, IfNotPresent, Never]}
    pullPolicy: Always
    # @schema kubernetesObjects
    dnsTo: []
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import yaml

from devkit import ROOT

CHART = ROOT / "k8s" / "helm" / "learning-middleware"
VALUES_FILE = CHART / "values.yaml"
SCHEMA_FILE = CHART / "values.schema.json"
MANIFESTS = ROOT / "k8s" / "manifests"
KUBE_VERSION = "1.30.0"
# The release name equals the chart name, so resources are called learning-middleware-<component>.
RELEASE = "learning-middleware"
NAMESPACE = "learning-middleware"
# Secrets the plain manifests leave to the operator (generated or user-provided in the chart).
PLAIN_SECRETS_NOTE = (
    "Secrets are not part of this base: create learning-middleware-jwt (key jwt-secret) and "
    "learning-middleware-db (database URLs) first, see k8s/README.md."
)

# ---------------------------------------------------------------------------------------------- schema

_QUANTITY = {"type": ["string", "number"]}
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_K8S_OBJECT = {"type": "object", "description": "A Kubernetes object, passed through as is."}
_K8S_LIST = {
    "type": "array",
    "items": {"type": "object"},
    "description": "Kubernetes objects, passed through.",
}
_AT_LEAST_ONE = {"type": "integer", "minimum": 1}
_RESOURCE_LIST = {"type": "object", "additionalProperties": _QUANTITY}

TYPES: dict[str, dict[str, Any]] = {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "quantity": _QUANTITY,
    "kubernetesObject": _K8S_OBJECT,
    "kubernetesObjects": _K8S_LIST,
    "nonEmptyStrings": {"type": "array", "items": {"type": "string", "minLength": 1}},
}

KNOWN_KEYS: dict[str, dict[str, Any]] = {
    "image": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "repository": {"type": "string", "minLength": 1},
            "tag": {
                "type": "string",
                "description": "Defaults to the chart appVersion; never latest.",
                "not": {"const": "latest"},
            },
            "digest": {
                "type": "string",
                "description": "sha256:<64 hex>; used instead of the tag when set.",
                "pattern": "^(sha256:[a-f0-9]{64})?$",
            },
            "pullPolicy": {"enum": ["Always", "IfNotPresent", "Never"]},
        },
    },
    "resources": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"requests": _RESOURCE_LIST, "limits": _RESOURCE_LIST},
    },
    "port": TYPES["port"],
    "annotations": _STRING_MAP,
    "labels": _STRING_MAP,
    "podAnnotations": _STRING_MAP,
    "nodeSelector": _STRING_MAP,
    "affinity": _K8S_OBJECT,
    "tolerations": _K8S_LIST,
    "topologySpreadConstraints": _K8S_LIST,
    "extraEgress": _K8S_LIST,
    "extraEnv": {
        "type": "array",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "value": {"type": "string"},
                "valueFrom": _K8S_OBJECT,
            },
            "required": ["name"],
        },
    },
    "accessModes": {
        "type": "array",
        "minItems": 1,
        "items": {"enum": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]},
    },
    "mountPath": {"type": "string", "pattern": "^/"},
    "size": _QUANTITY,
    "sizeLimit": _QUANTITY,
    "tmpSizeLimit": _QUANTITY,
    "shmSizeLimit": _QUANTITY,
    "minReplicas": _AT_LEAST_ONE,
    "maxReplicas": _AT_LEAST_ONE,
    "targetCPUUtilizationPercentage": {"type": "integer", "minimum": 1, "maximum": 100},
    "maxUnavailable": {"type": ["integer", "string"]},
    "startupFailureThreshold": _AT_LEAST_ONE,
    "periodSeconds": _AT_LEAST_ONE,
    "timeoutSeconds": _AT_LEAST_ONE,
    "failureThreshold": _AT_LEAST_ONE,
}

_KEY_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?P<key>[A-Za-z0-9_.-]+):(?: |$)")
_ANNOTATION = re.compile(r"^ *# @schema (?P<text>.+)$")
KeyPath = tuple[str, ...]  # keys from the root; "[]" stands for a list's items


def annotations(text: str) -> dict[KeyPath, dict[str, Any]]:
    """The `# @schema` comments of a values file, by the path of the key below them."""
    found: dict[KeyPath, dict[str, Any]] = {}
    pending: list[str] = []
    stack: list[tuple[int, str]] = []  # (indentation, key) of the keys enclosing the current line
    for number, line in enumerate(text.splitlines(), 1):
        if match := _ANNOTATION.match(line):
            pending.append(match["text"])
            continue
        if line.lstrip().startswith("#"):
            continue
        match = _KEY_LINE.match(line)
        if match is None:
            if pending:
                raise ValueError(f"line {number}: a # @schema comment must stand right above a key")
            continue
        indent = len(match["indent"])
        if match["dash"]:
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, "[]"))
            indent += len(match["dash"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match["key"]))
        if pending:
            found[tuple(key for _, key in stack)] = _annotation(" ".join(pending), number)
            pending = []
    return found


def _annotation(text: str, number: int) -> dict[str, Any]:
    value = yaml.safe_load(text)
    if isinstance(value, str) and value in TYPES:
        return copy.deepcopy(TYPES[value])
    if isinstance(value, dict):
        return value
    raise ValueError(f"line {number - 1}: # @schema takes a {{flow mapping}} or one of {', '.join(TYPES)}")


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        both = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if both else value
    return merged


def _infer(
    value: Any, path: KeyPath, notes: dict[KeyPath, dict[str, Any]], used: set[KeyPath]
) -> dict[str, Any]:
    key = path[-1] if path else ""
    if key in KNOWN_KEYS:
        node = copy.deepcopy(KNOWN_KEYS[key])
    elif isinstance(value, bool):
        node = {"type": "boolean"}
    elif isinstance(value, int):
        node = {"type": "integer", "minimum": 0}
    elif isinstance(value, float):
        node = {"type": "number"}
    elif isinstance(value, str):
        node = {"type": "string"}
    elif isinstance(value, dict):
        properties = {k: _infer(v, (*path, k), notes, used) for k, v in value.items()}
        node = {"type": "object", "additionalProperties": False, "properties": properties}
    elif isinstance(value, list):
        node = {"type": "array"}
        if value:
            node["items"] = _infer(value[0], (*path, "[]"), notes, used)
    else:
        raise ValueError(f"values.yaml {'.'.join(path)}: no type can be inferred from {value!r}")
    if path in notes:
        used.add(path)
        node = _merge(node, notes[path])
    return node


def values_schema(text: str | None = None) -> dict[str, Any]:
    """The JSON schema of values.yaml (or of the values file `text`)."""
    text = VALUES_FILE.read_text() if text is None else text
    notes = annotations(text)
    used: set[KeyPath] = set()
    root = _infer(yaml.safe_load(text), (), notes, used)
    if unused := sorted(".".join(path) for path in set(notes) - used):
        raise ValueError(f"# @schema above keys that hold no value: {unused}")
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "learning-middleware values",
        "description": "Generated from values.yaml by scripts/k8s_check.py --write-schema; edit values.yaml.",
        **root,
    }


def schema_text() -> str:
    return json.dumps(values_schema(), indent=2) + "\n"


# ---------------------------------------------------------------------------------------------- render


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


def validate(docs: list[dict[str, Any]]) -> list[str]:
    """kubernetes-validate --strict against KUBE_VERSION: one message per invalid document."""
    import kubernetes_validate

    errors = []
    for doc in docs:
        if doc.get("kind") == "ServiceMonitor":
            errors += _service_monitor_problems(doc)
            continue
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


def _service_monitor_problems(doc: dict[str, Any]) -> list[str]:
    """kubernetes-validate knows no CRDs: the fields of a ServiceMonitor (Prometheus Operator) the chart uses."""
    ident = f"ServiceMonitor/{doc.get('metadata', {}).get('name')}"
    spec = doc.get("spec") or {}
    problems = []
    if doc.get("apiVersion") != "monitoring.coreos.com/v1":
        problems.append(f"{ident}: apiVersion must be monitoring.coreos.com/v1")
    if not (spec.get("selector") or {}).get("matchLabels"):
        problems.append(f"{ident}: spec.selector.matchLabels is empty")
    endpoints = spec.get("endpoints") or []
    if not endpoints or not all(e.get("port") and str(e.get("path", "/")).startswith("/") for e in endpoints):
        problems.append(f"{ident}: every endpoint needs a named port and an absolute path")
    return problems


# ------------------------------------------------------------------------------------- plain manifests


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
