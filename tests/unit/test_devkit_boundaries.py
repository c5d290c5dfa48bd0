"""What scripts and tests share lives in devkit: scripts/ and tests/ never import each other, devkit imports
neither, and no service package imports devkit (it never ships in an image)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "scripts": {"tests"},
    "tests": {"scripts"},
    "devkit": {"scripts", "tests"},
    **{
        package: {"devkit"}
        for package in ("bff", "lmw_common", "learner_svc", "instructor_svc", "orchestrator_svc", "sme_svc")
    },
}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_what_it_must_not(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ holds no Python file"
    crossings = [
        f"{path.relative_to(ROOT)} imports {', '.join(sorted(bad))}"
        for path in files
        if (bad := imported_packages(path) & FORBIDDEN[package])
    ]
    assert crossings == []


def test_the_import_scan_sees_both_import_forms(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import tests.integration.mesh\nfrom scripts import soak\nfrom . import sibling\n")
    assert imported_packages(sample) == {"tests", "scripts"}
