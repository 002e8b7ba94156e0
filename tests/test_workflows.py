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


def _zizmor_above_low(*paths: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    args = ["--offline", "--no-progress", "--persona=auditor", "--min-severity=medium"]
    return _run(str(BIN / "zizmor"), *args, *(["--config", config] if config else []), *paths)


def test_zizmor_as_an_auditor_finds_nothing_above_low() -> None:
    proc = _zizmor_above_low("action.yml", ".github")
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout
    proc = _zizmor_above_low(*map(str, EXAMPLES), config="examples/zizmor.yml")
    assert proc.returncode == 0 and "No findings to report" in proc.stdout, proc.stdout


def _load(path: str | Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    return loaded


def _expressions(node: object) -> str:
    return yaml.safe_dump(node)


def test_the_job_that_runs_pull_request_code_holds_no_write_token() -> None:
    """The training job reads the checkout and writes nothing: no write permission, no token
    given to any step, no checkout credentials left behind."""
    train = _load(".github/workflows/reusable.yml")["jobs"]["train"]
    assert train["permissions"] == {"contents": "read"}
    text = _expressions(train["steps"])
    assert "github.token" not in text and "GITHUB_TOKEN" not in text
    assert "retrain" not in text
    [checkout] = [s for s in train["steps"] if s.get("uses", "").startswith("actions/checkout")]
    assert checkout["with"]["persist-credentials"] is False
    [setup] = [s for s in train["steps"] if s.get("uses", "").endswith("/actions/setup")]
    assert setup["with"]["token"] == ""  # its default is github.token


def test_remote_credentials_reach_the_pull_and_promote_steps_only() -> None:
    """The dvc-env secret is an input of the steps that talk to the remote, which set it in
    their own process; nothing writes it to $GITHUB_ENV (every later step's environment)."""
    jobs = _load(".github/workflows/reusable.yml")["jobs"]
    for name, job in jobs.items():
        for step in job["steps"]:
            uses = step.get("uses", "")
            if "secrets.dvc-env" in _expressions(step):
                assert uses.endswith(("/actions/pull", "/actions/promote")), (name, step)
                assert step["with"]["remote-env"] == "${{ secrets.dvc-env }}"
    for path in [*ACTIONS, *WORKFLOWS]:
        for script in _run_scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            assert "GITHUB_ENV" not in script, f"{path.name}: {script}"


@pytest.mark.parametrize(
    ("workflow", "job"),
    [
        (".github/workflows/reusable.yml", "publish"),
        (".github/workflows/reusable-publish.yml", "publish"),
        (".github/workflows/reusable-publish-record.yml", "publish"),
    ],
)
def test_the_publishing_job_never_checks_out_or_runs_the_pull_requests_code(
    workflow: str, job: str
) -> None:
    spec = _load(workflow)["jobs"][job]
    [step] = spec["steps"]  # one step: the publish action
    assert step["uses"] == "$/.github/actions/publish"
    # contents: read for the base branch's rules, or write for the run's experiment ref, written
    # through the git data API: still no checkout and no code of the project. Each workflow caps
    # its own permissions, whatever its caller grants; only the recording one writes contents.
    assert _load(workflow)["permissions"] == {}
    recording = not workflow.endswith("reusable-publish.yml")
    assert spec["permissions"]["contents"] == ("write" if recording else "read")
    allowed = {"actions": {"read"}, "contents": {"read", "write"}}
    allowed |= {"pull-requests": {"write"}, "statuses": {"write"}}
    assert all(v in allowed.get(k, set()) for k, v in spec["permissions"].items())
    action = _load(".github/actions/publish/action.yml")
    steps = action["runs"]["steps"]
    assert not any("checkout" in s.get("uses", "") for s in steps)
    # mlops-actions from the action's own directory, run outside the workspace.
    [install] = [s for s in steps if s.get("name") == "Install mlops-actions"]
    assert install["env"]["MLOPS_ACTION_SRC"] == "${{ github.action_path }}/../../.."
    [publish] = [s for s in steps if s.get("id") == "publish"]
    assert publish["working-directory"] == "${{ runner.temp }}"


def test_a_forks_results_are_published_from_workflow_run_with_the_runs_own_artifact() -> None:
    example = _load("examples/fork-pull-requests.yml")
    assert example[True]["workflow_run"]["types"] == ["completed"]  # YAML reads `on:` as True
    job = _load(".github/workflows/reusable-publish.yml")["jobs"]["publish"]
    assert "head_repository.full_name != github.repository" in job["if"]
    assert job["steps"][0]["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    # and the reusable workflow's own publish job leaves forks to it
    same_repo = _load(".github/workflows/reusable.yml")["jobs"]["publish"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in same_repo["if"]
    # Recording a fork's run is the base's choice alone: only a workflow_run workflow, which
    # GitHub always takes from the default branch, turns it on, by calling the recording
    # publisher; the example does not.
    assert job["steps"][0]["with"]["record-forks"] is False
    recorder = _load(".github/workflows/reusable-publish-record.yml")["jobs"]["publish"]
    assert recorder["steps"][0]["with"]["record-forks"] is True
    assert recorder["if"] == job["if"] and "record-forks" not in str(recorder.get("with"))
    assert example["jobs"]["publish"]["uses"].endswith("/reusable-publish.yml@v0")
    assert "record-forks" not in same_repo["steps"][0]["with"]
    [publish] = [
        s
        for s in _load(".github/actions/publish/action.yml")["runs"]["steps"]
        if s.get("id") == "publish"
    ]
    assert publish["env"]["MLOPS_RECORD_FORKS"] == "${{ inputs.record-forks }}"


# ---- the approval workflow and the registry examples ---------------------------------------

PROMOTE_STAGE = ROOT / ".github" / "workflows" / "promote-stage.yml"
STAGES = ROOT / "examples" / "stages.yml"
DEPLOY = ROOT / "examples" / "deploy.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
UNTRUSTED = re.compile(r"\$\{\{[^}]*\b(github\.event|inputs|steps)\.")


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


def _on_default_branch_step() -> dict[str, Any]:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    [checkout] = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0  # the default branch is in the clone
    [step] = [s for s in steps if "git merge-base --is-ancestor" in s.get("run", "")]
    # Before anything is built, uploaded or published.
    assert steps.index(step) == steps.index(checkout) + 1
    return step


@pytest.mark.parametrize("where", ["main", "side-branch", "no-origin"])
def test_release_refuses_a_commit_that_is_not_on_the_default_branch(
    tmp_path: Path, where: str
) -> None:
    """The release workflow's own step, run by bash in a clone made by real git: a tag on a
    commit that never reached main (or a clone without main) stops the release."""
    step = _on_default_branch_step()
    env_git = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env_git |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def git(cwd: Path, *args: str) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, env={**env_git, "HOME": "/"}
        )
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    origin, clone = tmp_path / "origin", tmp_path / "clone"
    git(tmp_path, "init", "--quiet", "-b", "main", str(origin))
    git(origin, "commit", "--quiet", "--allow-empty", "-m", "merged")
    git(tmp_path, "clone", "--quiet", str(origin), str(clone))
    sha = git(clone, "rev-parse", "HEAD")
    if where == "side-branch":
        git(clone, "checkout", "--quiet", "-b", "unreviewed")
        git(clone, "commit", "--quiet", "--allow-empty", "-m", "never merged")
        sha = git(clone, "rev-parse", "HEAD")
    elif where == "no-origin":
        git(clone, "update-ref", "-d", "refs/remotes/origin/main")
        git(clone, "update-ref", "-d", "refs/remotes/origin/HEAD")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/",
        "GITHUB_SHA": sha,
        "TAG": "v1.2.3",
        "DEFAULT_BRANCH": "main",
    }
    assert step["env"]["DEFAULT_BRANCH"] == "${{ github.event.repository.default_branch }}"
    proc = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=clone, env=env, capture_output=True, text=True
    )
    if where == "main":
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"{sha} is on main" in proc.stdout
        return
    assert proc.returncode == 1
    [line] = proc.stdout.splitlines()
    if where == "side-branch":
        assert line.startswith(f"::error::release 'v1.2.3': its commit {sha} is not on the ")
        assert "default branch (main)" in line
    else:
        assert "origin/main is not in the clone" in line and "fetch-depth: 0" in line


def test_every_training_job_runs_where_runs_on_says_and_installs_after_the_pull() -> None:
    """runs-on (a label or a JSON list of labels) for each job of the reusable workflows that
    trains; the project's `install` runs in the train step, after the pull whose step holds the
    remote's credentials, so a package it installs never runs next to them."""
    expression = (
        "${{ startsWith(inputs.runs-on, '[') && fromJSON(inputs.runs-on) || inputs.runs-on }}"
    )
    trained = []
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        for name, job in workflow.get("jobs", {}).items():
            uses = [s.get("uses", "") for s in job.get("steps", [])]
            if not any(u.endswith("/actions/train") for u in uses):
                continue
            trained.append(f"{path.name}:{name}")
            assert job["runs-on"] == expression, (path.name, name)
            assert (
                workflow[True]["workflow_call"]["inputs"]["runs-on"]["default"] == "ubuntu-latest"
            )
            [train] = [s for s in job["steps"] if s.get("uses", "").endswith("/actions/train")]
            assert train["with"]["install"] == "${{ inputs.install }}"
            pulls = [i for i, u in enumerate(uses) if u.endswith("/actions/pull")]
            assert pulls and max(pulls) < uses.index(train["uses"])
    assert trained == ["reusable.yml:train", "reusable.yml:promote"]
    for path in ACTIONS:  # `install` runs the project's command from env, never from ${{ }}
        steps = yaml.safe_load(path.read_text(encoding="utf-8"))["runs"]["steps"]
        for step in steps:
            if "MLOPS_INSTALL" in step.get("env", {}):
                assert step["env"]["MLOPS_INSTALL"] == "${{ inputs.install }}"
                assert "${{" not in step["run"]
                assert (
                    step["run"]
                    .rstrip()
                    .endswith('bash "$MLOPS_ACTION_SRC/scripts/user-install.sh"')
                )
