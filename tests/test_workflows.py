"""The action, step actions, workflows and examples pass zizmor and GitHub's JSON schemas."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

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


# ---- the approval workflow and the registry examples ---------------------------------------

PROMOTE_STAGE = ROOT / ".github" / "workflows" / "promote-stage.yml"
STAGES = ROOT / "examples" / "stages.yml"
DEPLOY = ROOT / "examples" / "deploy.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
UNTRUSTED = re.compile(r"\$\{\{[^}]*\b(github\.event|inputs|steps)\.")


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = job.get("steps", [])
    return steps


def test_zizmor_auditor_finds_nothing_in_the_approval_workflow_and_its_examples() -> None:
    proc = _run(
        str(BIN / "zizmor"),
        "--offline",
        "--no-progress",
        "--persona=auditor",
        str(PROMOTE_STAGE.relative_to(ROOT)),
    )
    assert proc.returncode == 0 and "No findings" in proc.stdout + proc.stderr, proc.stdout
    proc = _run(
        str(BIN / "zizmor"),
        "--offline",
        "--no-progress",
        "--persona=auditor",
        "--config",
        "examples/zizmor.yml",
        str(STAGES.relative_to(ROOT)),
        str(DEPLOY.relative_to(ROOT)),
    )
    assert proc.returncode == 0 and "No findings" in proc.stdout + proc.stderr, proc.stdout


def test_promote_stage_is_dispatched_or_called_with_the_same_required_inputs() -> None:
    on = _load(PROMOTE_STAGE)[True]  # YAML 1.1 reads `on` as True
    assert set(on) == {"workflow_dispatch", "workflow_call"}
    dispatch, call = on["workflow_dispatch"]["inputs"], on["workflow_call"]["inputs"]
    assert dispatch == call
    for name in ("name", "version", "stage"):
        assert dispatch[name]["required"] is True and dispatch[name]["type"] == "string"
    assert on["workflow_call"]["secrets"]["MLOPS_STAGE_TOKEN"]["required"] is False
    assert on["workflow_call"]["outputs"]["tag"]["value"] == "${{ jobs.assign.outputs.tag }}"


def test_promote_stage_assigns_in_one_job_bound_to_the_stages_environment() -> None:
    workflow = _load(PROMOTE_STAGE)
    assert workflow["permissions"] == {}
    assert list(workflow["jobs"]) == ["assign"]
    job = workflow["jobs"]["assign"]
    assert job["environment"] == "${{ inputs.stage }}"
    assert job["permissions"] == {"contents": "write"}
    assert job["concurrency"]["cancel-in-progress"] is False
    assert "inputs.stage" in job["concurrency"]["group"]
    steps = _steps(job)
    checkout = steps[0]
    assert SHA_PIN.match(checkout["uses"]) and checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    assert steps[1]["uses"] == "$/.github/actions/setup"  # this workflow's own ref
    [assign] = [s for s in steps if "run" in s]
    assert assign["run"] == 'mlops-actions assign "$MODEL_NAME@$MODEL_VERSION" "$STAGE"'
    assert assign["env"] == {
        "GITHUB_TOKEN": "${{ secrets.MLOPS_STAGE_TOKEN || github.token }}",
        "MODEL_NAME": "${{ inputs.name }}",
        "MODEL_VERSION": "${{ inputs.version }}",
        "STAGE": "${{ inputs.stage }}",
    }
    text = PROMOTE_STAGE.read_text(encoding="utf-8")
    assert re.search(rf"uses: {re.escape(checkout['uses'])} # v\d+\.\d+\.\d+$", text, re.M)


OWN_SETUP = re.compile(r"^(\$|mlops-actions/mlops-actions)/\.github/actions/setup(@v\d+)?$")


def test_untrusted_values_reach_steps_only_through_env() -> None:
    """An event payload, an input or a step output never forms a script or a shell, nor an
    input of another's action (which may run it as code): it goes through env:. Our own setup
    action takes the working directory and Python version as plain inputs."""
    for path in (PROMOTE_STAGE, STAGES, DEPLOY):
        for name, job in _load(path)["jobs"].items():
            for step in _steps(job):
                for key in ("run", "shell"):
                    assert not UNTRUSTED.search(step.get(key, "")), (path.name, name, step)
                if not OWN_SETUP.match(step.get("uses", "")):
                    assert not UNTRUSTED.search(json.dumps(step.get("with", {}))), (path, step)


def test_the_staging_example_assigns_staging_then_waits_for_prod() -> None:
    workflow = _load(STAGES)
    assert workflow[True] == {"repository_dispatch": {"types": ["mlops-registered"]}}
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert list(jobs) == ["staging", "prod"] and jobs["prod"]["needs"] == "staging"
    for stage, job in jobs.items():
        assert job["uses"] == "mlops-actions/mlops-actions/.github/workflows/promote-stage.yml@v0"
        assert job["permissions"] == {"contents": "write"}
        assert job["with"] == {
            "name": "${{ github.event.client_payload.name }}",
            "version": "${{ github.event.client_payload.version }}",
            "stage": stage,
        }


def test_the_deploy_example_fetches_prod_and_marks_a_deployment() -> None:
    workflow = _load(DEPLOY)
    assert workflow[True] == {"repository_dispatch": {"types": ["mlops-assigned"]}}
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["if"] == "github.event.client_payload.stage == 'prod'"
    assert job["permissions"] == {"contents": "read", "deployments": "write"}
    assert "environment" not in job  # the deployment is the one the job records itself
    scripts = "\n".join(s.get("run", "") for s in _steps(job))
    assert 'mlops-actions models get "$MODEL_NAME#prod"' in scripts
    assert '/deployments"' in scripts and "/deployments/$DEPLOYMENT/statuses" in scripts
    marking = _steps(job)[-1]
    assert marking["if"] == "always() && steps.deployment.outputs.id != ''"
