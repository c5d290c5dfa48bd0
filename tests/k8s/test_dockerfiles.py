"""Structural checks of docker/Dockerfile.* (read, not built: scripts/containers_check.py builds and runs them)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path

import pytest

from devkit.topology import service

ROOT = Path(__file__).resolve().parents[2]
# Image -> the service it runs (its module and port come from devkit.topology).
IMAGES = {
    "learner": "learner",
    "instructor": "instructor",
    "orchestrator": "orchestrator",
    "sme-cpu": "sme",
    "sme-gpu": "sme",
    "bff": "bff",
}


def instructions(name: str) -> list[tuple[str, str]]:
    text = (ROOT / "docker" / f"Dockerfile.{name}").read_text()
    text = re.sub(r"\\\n", " ", text)  # join continued lines
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def build_args(steps: list[tuple[str, str]]) -> dict[str, str]:
    """ARG name -> its default, wherever it is declared."""
    return dict(arg.split("=", 1) for op, arg in steps if op == "ARG" and "=" in arg)


def stages(steps: list[tuple[str, str]]) -> list[str]:
    """The image each FROM starts from, build arguments at their defaults (scratch and stages left out)."""
    defaults, named, images = build_args(steps), set(), []
    for op, arg in steps:
        if op != "FROM":
            continue
        ref = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m[1]], arg.split()[0])
        if ref != "scratch" and ref not in named:
            images.append(ref)
        named |= {arg.split()[-1]} if " AS " in arg.upper() else set()
    return images


def test_every_dockerfile_is_there():
    assert {p.name.removeprefix("Dockerfile.") for p in (ROOT / "docker").glob("Dockerfile.*")} == set(IMAGES)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_dockerfile_structure(name):
    module, port = service(IMAGES[name]).module, service(IMAGES[name]).port
    steps = instructions(name)
    froms = [arg for op, arg in steps if op == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    for ref in stages(steps):
        assert ":" in ref and not ref.endswith(":latest"), f"base image not pinned by tag: {ref}"
    assert froms[-1] == "${BASE_IMAGE}", "the base is a build argument (a digest may pin it)"
    assert build_args(steps)["BASE_IMAGE"] == (
        "nvidia/cuda:13.0.1-runtime-ubuntu24.04" if name == "sme-gpu" else "python:3.11-slim-bookworm"
    )
    runtime = steps[max(i for i, (op, _) in enumerate(steps) if op == "FROM") :]
    users = [arg for op, arg in runtime if op == "USER"]
    assert users == ["10001:10001"], "the runtime stage runs as uid 10001"
    assert ("ENTRYPOINT", f'["python", "-m", "{module}"]') in runtime
    assert ("EXPOSE", str(port)) in runtime
    assert any(op == "HEALTHCHECK" for op, _ in runtime)
    env = " ".join(arg for op, arg in runtime if op == "ENV")
    assert "HOME=/tmp" in env, "HOME must be writable on a read-only root filesystem"
    copies = [arg for op, arg in runtime if op == "COPY"]
    portal = ["--from=portal /web/dist /opt/portal"] if name == "bff" else []  # the built web portal
    assert copies == ["--from=build /opt/venv /opt/venv", *portal], "the runtime stage takes only the venv"
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    for op, arg in steps:
        if op == "RUN" and "pip install" in arg:  # the CA bundle is a build secret, never a layer
            assert arg.startswith("--mount=type=secret,id=ca_bundle"), arg
    assert not any("ca_bundle" in arg for op, arg in steps if op in ("ENV", "ARG", "COPY"))
    if name == "sme-cpu":
        assert build_args(steps)["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
        assert "--index-url $TORCH_INDEX_URL" in runs and "pip install torch==2.13.0 $torch_from" in runs
        assert "'.[cpu]'" in runs
        assert "python -m sme_svc.retrieval.onnx_export --next-to-model" in runs, "the encoder ships built"
    elif name == "sme-gpu":
        assert "'.[gpu]'" in runs and "torch" not in runs, "vLLM brings its own torch"
    else:
        assert "torch" not in runs and "pip install ." in runs and "'.[" not in runs


def test_the_bff_image_builds_and_serves_the_portal():
    steps = instructions("bff")
    assert build_args(steps)["NODE_IMAGE"] == "node:20-bookworm-slim"
    assert build_args(steps)["PORTAL_SOURCE"] == "build"
    assert [arg for op, arg in steps if op == "FROM"][:3] == [
        "${NODE_IMAGE} AS portal-build",
        "scratch AS portal-prebuilt",
        "portal-${PORTAL_SOURCE} AS portal",
    ]
    start = steps.index(("FROM", "${NODE_IMAGE} AS portal-build"))
    web = steps[start : steps.index(("FROM", "scratch AS portal-prebuilt"))]
    runs = [arg for op, arg in web if op == "RUN"]
    assert runs[0].endswith("&& npm ci") and runs[1] == "rm -rf dist && npm run build", (
        "built from the lockfile"
    )
    assert any(op == "ENV" and "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1" in arg for op, arg in web)
    assert ("COPY", "web/dist /web/dist") in steps, "or web/dist as `make web` built it"
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "BFF_PORTAL_DIR=/opt/portal" in env


def test_dockerignore_keeps_the_context_small():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignored = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".venv-*", "build", "tests", "scripts", "devkit", "**/__pycache__"} <= ignored
    assert {"**/node_modules", ".lmw", "data"} <= ignored and "web/dist" not in ignored


def test_the_dev_kit_is_no_runtime_package():
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(
        fnmatch.fnmatch(package, pattern)
        for pattern in found["include"]
        for package in ("devkit", "devkit.x")
    )
