"""Offline checks of the Kubernetes deliverable: the Helm chart, its schema and the plain manifests.

For the default values and every scenario in k8s/helm/learning-middleware/ci/*.yaml:
  1. helm lint --strict (helm-python-sdk: the Helm v4 SDK in a wheel; no helm binary, no cluster);
  2. helm template (same SDK), written to build/k8s/<scenario>/ for inspection;
  3. kubernetes-validate --strict against Kubernetes 1.30 on every rendered document;
  4. yamllint on values.yaml, the scenarios, the rendered output and the plain manifests;
  5. checkov's Kubernetes checks on the rendered output (accepted findings carry a `checkov.io/skipN`
     annotation with the reason; everything else must pass).
Also: values.schema.json must equal the schema generated from values.yaml (devkit/chart.py), k8s/manifests/
(a kustomize base) must equal the chart's default render (and build with `kubectl kustomize` when kubectl
is installed), and checkov's Dockerfile checks must pass on docker/Dockerfile.*.

    .venv-k8s/bin/python scripts/k8s_check.py                    # check; exit 1 on any finding
    .venv-k8s/bin/python scripts/k8s_check.py --write-schema --write-manifests   # regenerate, then check
    .venv-k8s/bin/python scripts/k8s_check.py --no-checkov       # skip the slow part

The tools live in their own venv (checkov pins many packages):
    python3 -m venv .venv-k8s && .venv-k8s/bin/pip install -q helm-python-sdk==0.2.2 kubernetes-validate \
        yamllint checkov pyyaml pytest
Rendering, the schema and the plain manifests come from devkit/chart.py, which tests/k8s uses too.
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
sys.path.insert(0, str(ROOT))  # run as a plain script: make devkit importable

from devkit.chart import (  # noqa: E402
    CHART,
    KUBE_VERSION,
    MANIFESTS,
    NAMESPACE,
    SCHEMA_FILE,
    load_values,
    manifests_diff,
    plain_manifests,
    render_raw,
    scenarios,
    schema_text,
    validate,
)

BUILD = ROOT / "build" / "k8s"
YAMLLINT_CONFIG = """
extends: default
rules:
  document-start: disable
  line-length: {max: 160, allow-non-breakable-inline-mappings: true}
  indentation: {spaces: 2, indent-sequences: whatever}
  truthy: {check-keys: false}
"""


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
