"""The import contracts of .importlinter fail the build when a lower layer imports a higher one, and the real tree
keeps them (`make lint` runs the same check)."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _root_packages() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    return parser["importlinter"]["root_packages"].split()


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=cwd,
        env={"PYTHONPATH": str(cwd), "PATH": "", "COLUMNS": "200"},  # one import a line, unwrapped
        capture_output=True,
        text=True,
        timeout=60,
    )


def _copy_tree(target: Path) -> None:
    """The contract and the Python files of every package it names: all import-linter reads."""
    shutil.copy(CONFIG, target / CONFIG.name)
    for package in _root_packages():
        for source in (ROOT / package).rglob("*.py"):
            destination = target / source.relative_to(ROOT)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, destination)


@pytest.mark.parametrize(
    ("probe", "imported"),
    [
        ("monitors/_probe.py", "incidents.models"),  # sources reaching up into triage
        ("aimsweb/_probe.py", "monitors.models"),  # the kernel reaching up into sources
        ("incidents/_probe.py", "contracts.models"),  # triage reaching up into quality
        ("monitors/_probe.py", "remediation.models"),  # sources reaching up into remediation
        ("remediation/_probe.py", "incidents.services"),  # remediation reaching up into triage
        ("incidents/_probe.py", "aimsweb.urls"),  # an app leaning on the kernel's wiring
        ("monitors/_probe.py", "simulator.world"),  # an app leaning on the stand-in cloud
        ("simulator/_probe.py", "monitors.models"),  # the stand-in cloud leaning on an app
    ],
)
def test_layers_upward_import_fails_lint_naming_it(tmp_path, probe, imported):
    _copy_tree(tmp_path)
    (tmp_path / probe).write_text(f"import {imported}\n")

    result = _lint_imports(tmp_path)

    module = probe.removesuffix(".py").replace("/", ".")
    assert result.returncode != 0, result.stdout
    assert f"{module} -> {imported}" in result.stdout, result.stdout


def test_layers_real_tree_keeps_the_contracts():
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
