"""The action, step actions, workflows and examples pass zizmor and GitHub's JSON schemas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ACTIONS = [ROOT / "action.yml", *sorted((ROOT / ".github" / "actions").glob("*/action.yml"))]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yml") if p.name != "zizmor.yml")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True)


def test_zizmor_finds_nothing_in_the_action_and_workflows() -> None:
    proc = _run(str(BIN / "zizmor"), "--offline", "--no-progress", "action.yml", ".github")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings to report" in proc.stdout + proc.stderr


def test_zizmor_finds_nothing_in_the_examples() -> None:
    proc = _run(
        str(BIN / "zizmor"),
        "--offline",
        "--no-progress",
        "--config",
        "examples/zizmor.yml",
        *map(str, EXAMPLES),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [("vendor.github-actions", ACTIONS), ("vendor.github-workflows", WORKFLOWS + EXAMPLES)],
)
def test_schemas(schema: str, files: list[Path]) -> None:
    proc = _run(str(BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _run_scripts(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["run"]] if isinstance(node.get("run"), str) else []
        for value in node.values():
            found += _run_scripts(value)
        return found
    if isinstance(node, list):
        return [s for item in node for s in _run_scripts(item)]
    return []


@pytest.mark.parametrize(
    "path", ACTIONS + WORKFLOWS + EXAMPLES, ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_expression_is_expanded_inside_a_run_script(path: Path) -> None:
    for script in _run_scripts(yaml.safe_load(path.read_text())):
        assert "${{" not in script, f"{path.name}: pass it through env: instead\n{script}"


def test_every_action_input_has_a_description() -> None:
    for path in ACTIONS:
        action = yaml.safe_load(path.read_text())
        for name, spec in (action.get("inputs") or {}).items():
            assert spec.get("description"), f"{path}: input {name}"
        for name, spec in (action.get("outputs") or {}).items():
            assert spec.get("description"), f"{path}: output {name}"
