"""Structural checks of docker/Dockerfile.* (no Docker engine here: they are read, not built)."""

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


def test_every_dockerfile_is_there():
    assert {p.name.removeprefix("Dockerfile.") for p in (ROOT / "docker").glob("Dockerfile.*")} == set(IMAGES)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_dockerfile_structure(name):
    module, port = service(IMAGES[name]).module, service(IMAGES[name]).port
    steps = instructions(name)
    froms = [arg for op, arg in steps if op == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    for image in froms:
        ref = image.split()[0]
        assert ":" in ref and not ref.endswith(":latest"), f"base image not pinned by tag: {ref}"
    base = froms[-1].split()[0]
    assert base == (
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
    portal = ["--from=web /web/dist /opt/portal"] if name == "bff" else []  # the built web portal
    assert copies == ["--from=build /opt/venv /opt/venv", *portal], "the runtime stage takes only the venv"
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    if name == "sme-cpu":
        assert "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in runs
        assert "'.[cpu]'" in runs
    elif name == "sme-gpu":
        assert "'.[gpu]'" in runs and "torch" not in runs, "vLLM brings its own torch"
    else:
        assert "torch" not in runs and "pip install ." in runs and "[" not in runs


def test_the_bff_image_builds_and_serves_the_portal():
    steps = instructions("bff")
    stages = [arg for op, arg in steps if op == "FROM"]
    assert stages[0] == "node:20-bookworm-slim AS web"
    web = steps[: next(i for i, (op, arg) in enumerate(steps) if op == "FROM" and arg.endswith("AS build"))]
    runs = [arg for op, arg in web if op == "RUN"]
    assert runs == ["npm ci", "npm run build"], "the portal is built from the committed lockfile"
    assert any(op == "ENV" and "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1" in arg for op, arg in web)
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "BFF_PORTAL_DIR=/opt/portal" in env


def test_dockerignore_keeps_the_context_small():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".venv-*", "build", "tests", "scripts", "devkit", "**/__pycache__"} <= ignored


def test_the_dev_kit_is_no_runtime_package():
    found = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert not any(
        fnmatch.fnmatch(package, pattern)
        for pattern in found["include"]
        for package in ("devkit", "devkit.x")
    )
