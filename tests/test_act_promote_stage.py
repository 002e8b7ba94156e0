"""The approval workflow (.github/workflows/promote-stage.yml), the example that calls it on
registration (examples/stages.yml) and the deploy example (examples/deploy.yml), run by act
against the fake GitHub.

act runs on the host (`-P ubuntu-latest=-self-hosted`) in a copy of a project repository: its
params.yaml, a model registered and assigned by the real command line, the model file in a DVC
remote at an absolute path (act's copy leaves out what .gitignore names: the workspace model and
the run cache). The action's own files come from a copy of this checkout:

- promote-stage.yml uses `$/.github/actions/setup` (the workflow's own ref), a form act does not
  know; the project's copy of the workflow names the same directory as `./.github/actions/setup`,
  which resolves to the same files there (the project holds this checkout's action files);
- the examples name `mlops-actions/mlops-actions/...@v0` (the setup action, the reusable
  workflow), which --local-repository points at the copy of this checkout (its promote-stage.yml
  in the same `./` form);
- actions/setup-python and actions/cache are stubs that do nothing (the venv's Python and
  mlops-actions come first on PATH, so install.sh finds it installed).

act cannot simulate an environment's required reviewers: the tests assert that the assigning
job is bound to `environment: <stage>` and that act ran that job to the end.

The fake serves the deployment endpoints the deploy example calls, validated against GitHub's
OpenAPI description like every other request.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.fakegithub as fakegithub
from tests.acting import run_act
from tests.fakegithub import FakeGitHub, Spec
from tests.helpers import GIT_ENV, commit_all, dvc, git, init_repo, write_params
from tests.registry_project import NAME, PARAMS, fake_train

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PROMOTE_STAGE = ".github/workflows/promote-stage.yml"
DEPLOY = "examples/deploy.yml"
STAGES = "examples/stages.yml"
ACTION_REPO = "mlops-actions/mlops-actions@v0"  # what the examples name, setup and workflow
DEPLOYMENT_OPS = (
    ("post", "/repos/{owner}/{repo}/deployments"),
    ("post", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses"),
)
MODEL_ONE, MODEL_TWO = b"model one", b"model two"


class DeployGitHub(FakeGitHub):
    """The fake GitHub, also creating deployments and their statuses."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.deployments: list[dict[str, Any]] = []
        self.deployment_statuses: dict[int, list[dict[str, Any]]] = {}

    def _op_repos_create_deployment(
        self, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        ref = body["ref"]
        sha = ref if fakegithub._SHA_RE.match(ref) else self.refs.get(f"refs/heads/{ref}")
        if sha is None:
            return self._invalid("No ref found for: " + ref)
        did, now = self._next_id(), self._now()
        api = self._repo_api(f"/deployments/{did}")
        deployment = {
            "url": api,
            "id": did,
            "node_id": fakegithub._node_id("DE", did),
            "sha": sha,
            "ref": ref,
            "task": body.get("task", "deploy"),
            "payload": body.get("payload", {}),
            "original_environment": body.get("environment", "production"),
            "environment": body.get("environment", "production"),
            "description": body.get("description"),
            "creator": self._user(fakegithub._BOT),
            "created_at": now,
            "updated_at": now,
            "statuses_url": f"{api}/statuses",
            "repository_url": self._repo_api(),
            "transient_environment": bool(body.get("transient_environment")),
            "production_environment": bool(body.get("production_environment")),
        }
        self.deployments.append(deployment)
        return 201, deployment, {"Location": api}

    def _op_repos_create_deployment_status(
        self, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        did = int(params["deployment_id"])
        deployment = next((d for d in self.deployments if d["id"] == did), None)
        if deployment is None:
            return self._not_found()
        sid, now = self._next_id(), self._now()
        status = {
            "url": f"{deployment['url']}/statuses/{sid}",
            "id": sid,
            "node_id": fakegithub._node_id("DES", sid),
            "state": body["state"],
            "creator": self._user(fakegithub._BOT),
            "description": body.get("description", ""),
            "environment": body.get("environment", deployment["environment"]),
            "target_url": body.get("target_url", ""),
            "log_url": body.get("log_url", ""),
            "deployment_url": deployment["url"],
            "repository_url": self._repo_api(),
            "created_at": now,
            "updated_at": now,
        }
        self.deployment_statuses.setdefault(did, []).append(status)
        return 201, status, {}


@pytest.fixture(scope="session")
def deploy_spec() -> Spec:
    saved = fakegithub.OPERATIONS
    fakegithub.OPERATIONS = (*saved, *DEPLOYMENT_OPS)  # trim() reads the module's list
    try:
        with open(fakegithub.SPEC_PATH, encoding="utf-8") as f:
            doc = fakegithub.trim(json.load(f))
    finally:
        fakegithub.OPERATIONS = saved
    return Spec(doc)


@pytest.fixture
def server(deploy_spec: Spec) -> Iterator[DeployGitHub]:
    fake = DeployGitHub(deploy_spec).start()
    yield fake
    fake.stop()
    assert not fake.violations, "\n".join(fake.violations)


def mlops(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    proc = subprocess.run(
        [str(BIN / "mlops-actions"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**env, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def noop_stub(path: Path, uses: str) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    step = {"shell": "bash", "run": f"echo '{uses} stub: nothing to do on this host'"}
    inputs = {n: {"description": n} for n in ("python-version", "path", "key", "restore-keys")}
    action = {"name": uses, "inputs": inputs, "runs": {"using": "composite", "steps": [step]}}
    (path / "action.yml").write_text(json.dumps(action), encoding="utf-8")
    return path


def setup_remote_actions() -> list[str]:
    action = yaml.safe_load((ROOT / ".github/actions/setup/action.yml").read_text("utf-8"))
    return [step["uses"] for step in action["runs"]["steps"] if "uses" in step]


def copy_action(dest: Path) -> Path:
    """This checkout's action files, as a repository holding the action would have them."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("action.yml", "constraints.txt"):
        shutil.copyfile(ROOT / name, dest / name)
    for name in ("scripts", "mlops_actions", ".github/actions"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    workflow = dest / PROMOTE_STAGE
    workflow.parent.mkdir(parents=True)
    workflow.write_text(act_form(ROOT / PROMOTE_STAGE), encoding="utf-8")
    return dest


def act_form(path: Path) -> str:
    """A workflow as act reads it: `$/` (its own ref) as `./`, which names the same files in
    these copies."""
    return path.read_text(encoding="utf-8").replace("uses: $/", "uses: ./")


@dataclass
class Project:
    base: Path
    repo: Path
    server: DeployGitHub
    commits: dict[str, str]  # version -> commit

    def act(
        self, event_name: str, workflow: str, event: dict[str, Any]
    ) -> subprocess.CompletedProcess[str]:
        path = self.base / f"{event_name}.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        stubs = {
            uses: noop_stub(self.base / "stubs" / re.sub(r"\W", "-", uses), uses)
            for uses in setup_remote_actions()
        }
        stubs[ACTION_REPO] = self.base / "action"
        return run_act(
            self.repo,
            event_name,
            workflow,
            path,
            self.server,
            cache=self.base / "act",
            stubs=stubs,
            timeout=240,
        )

    def repository_json(self) -> dict[str, Any]:
        owner, name = self.server.repository.split("/")
        return {
            "name": name,
            "full_name": self.server.repository,
            "owner": {"login": owner},
            "default_branch": self.server.default_branch,
        }

    def assigned(self, **payload: Any) -> dict[str, Any]:
        """A `mlops-assigned` repository_dispatch event with this client_payload."""
        return {
            "action": "mlops-assigned",
            "client_payload": payload,
            "repository": self.repository_json(),
        }


@pytest.fixture
def project(tmp_path: Path, server: DeployGitHub) -> Project:
    """v0.0.1 (model one, in prod) and v0.0.2 (model two, in no stage), registered by
    `promote`, which stored each model file in the DVC remote. The fake's main is HEAD."""
    copy_action(tmp_path / "action")
    repo = init_repo(tmp_path / "repo")
    for name in (PROMOTE_STAGE, DEPLOY, STAGES):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(act_form(ROOT / name), encoding="utf-8")
    for name in (".github/actions", "scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "constraints.txt", repo / "constraints.txt")
    write_params(repo, PARAMS)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n/metrics.json\n")
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "storage", str(tmp_path / "remote"))
    commits = {}
    for version, model, f1, stage in (
        ("v0.0.1", MODEL_ONE, 0.9, ["--stage", "prod"]),
        ("v0.0.2", MODEL_TWO, 0.95, []),
    ):
        (repo / "train.py").write_text(f"# {version}\n")
        commits[version] = commit_all(repo, f"train {version}")
        fake_train(repo, {"f1": f1}, model=model)
        assert f"promoted {NAME}@{version}" in mlops(repo, "promote", *stage)
    server.add_ref("refs/heads/main", git(repo, "rev-parse", "HEAD"))
    return Project(tmp_path, repo, server, commits)


def printed(out: str) -> list[str]:
    return [m[1] for m in re.finditer(r"^\[[^\]]+\]\s+\| (.*)$", out, re.MULTILINE)]


def deployed(project: Project, event: dict[str, Any], version: str, model: bytes) -> None:
    """Run the deploy example for `event`; it must deploy `version` with the file `model`."""
    proc = project.act("repository_dispatch", DEPLOY, event)

    out = proc.stdout
    assert proc.returncode == 0 and "🏁  Job succeeded" in out, out[-6000:]
    lines = printed(out)
    assert any(
        line.startswith(f"wrote {NAME}@{version} to prod-model/model (from the DVC remote")
        for line in lines
    ), out[-6000:]
    assert any(line.startswith(hashlib.sha256(model).hexdigest()) for line in lines)
    server = project.server
    [deployment] = server.deployments
    assert deployment["sha"] == project.commits[version]
    assert deployment["environment"] == "prod" and deployment["production_environment"] is True
    assert deployment["payload"] == {"name": NAME, "version": version}
    assert deployment["description"] == f"{NAME}@{version}"
    [status] = server.deployment_statuses[deployment["id"]]
    assert status["state"] == "success"
    assert re.search(r"/actions/runs/\d+$", status["log_url"])


def test_an_assignment_to_prod_deploys_its_model_as_a_github_deployment(
    project: Project,
) -> None:
    event = project.assigned(
        name=NAME,
        version="v0.0.1",
        stage="prod",
        tag=f"{NAME}#prod#2",
        commit=project.commits["v0.0.1"],
        sha256=hashlib.sha256(MODEL_ONE).hexdigest(),
        run_url=None,
    )
    deployed(project, event, "v0.0.1", MODEL_ONE)


def test_the_version_deployed_is_the_one_the_tags_name_not_the_payload(project: Project) -> None:
    event = project.assigned(
        name=NAME, version="v0.0.2", stage="prod", commit=project.commits["v0.0.2"]
    )
    deployed(project, event, "v0.0.1", MODEL_ONE)


def test_an_assignment_to_another_stage_deploys_nothing(project: Project) -> None:
    event = project.assigned(name=NAME, version="v0.0.2", stage="staging")

    proc = project.act("repository_dispatch", DEPLOY, event)

    assert proc.returncode == 0, proc.stdout[-6000:]
    assert "models get" not in proc.stdout
    assert project.server.requests == []


def test_a_hostile_payload_stays_data(project: Project, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    name = f'x"; touch {marker}; echo "$(touch {marker})'
    event = project.assigned(name=name, version="v0.0.2", stage="prod")

    proc = project.act("repository_dispatch", DEPLOY, event)

    assert proc.returncode != 0  # no such model: the job stops before any deployment
    assert f"error: no model '{name}' in the registry" in proc.stdout, proc.stdout[-4000:]
    assert not marker.exists()
    assert project.server.deployments == []


# ---- promote-stage.yml ----------------------------------------------------------------------


def dispatch_inputs(project: Project, **inputs: str) -> dict[str, Any]:
    return {
        "inputs": inputs,
        "ref": "refs/heads/main",
        "repository": project.repository_json(),
    }


def test_promote_stage_runs_its_environment_bound_job_and_assigns_the_stage(
    project: Project,
) -> None:
    workflow = yaml.safe_load((ROOT / PROMOTE_STAGE).read_text(encoding="utf-8"))
    job = workflow["jobs"]["assign"]
    assert job["environment"] == "${{ inputs.stage }}"  # the review act cannot simulate
    server = project.server
    event = dispatch_inputs(project, name=NAME, version="v0.0.2", stage="prod")

    proc = project.act("workflow_dispatch", PROMOTE_STAGE, event)

    out = proc.stdout
    lines = printed(out)
    assert "[mlops-promote-stage/assign prod]" in out  # the job, named after its stage, ran
    assert any("already installed" in line for line in lines), out[-6000:]
    assert proc.returncode == 0 and "🏁  Job succeeded" in out, out[-6000:]
    stage_tags = [r for r in server.refs if r.startswith(f"refs/tags/{NAME}#prod#")]
    assert len(stage_tags) == 1, server.refs
    tag = server.tag_objects[server.refs[stage_tags[0]]]
    assert tag["object"]["sha"] == project.commits["v0.0.2"]  # the version's commit
    assert tag["message"].startswith(f"Assigning stage prod to artifact {NAME} version v0.0.2")
    written = stage_tags[0].removeprefix("refs/tags/")
    assert f"assigned stage prod to {NAME}@v0.0.2 ({written})" in lines
    assert f"::set-output:: tag={written}" in out  # the step output the workflow's `tag` is
    [event_sent] = server.dispatches
    assert event_sent["event_type"] == "mlops-assigned"
    payload = event_sent["client_payload"]
    assert (payload["name"], payload["version"], payload["stage"]) == (NAME, "v0.0.2", "prod")
    assert payload["tag"] == written
    assert payload["commit"] == project.commits["v0.0.2"]
    assert payload["sha256"] == hashlib.sha256(MODEL_TWO).hexdigest()
    assert re.search(r"/actions/runs/\d+", payload["run_url"] or "")


def test_promote_stage_refuses_a_version_that_is_not_registered(project: Project) -> None:
    event = dispatch_inputs(project, name=NAME, version="v9.9.9", stage="prod")

    proc = project.act("workflow_dispatch", PROMOTE_STAGE, event)

    assert proc.returncode != 0
    assert "[mlops-promote-stage/assign prod]" in proc.stdout
    assert not [r for r in project.server.refs if "#prod#" in r]
    assert f"error: {NAME}@v9.9.9: no such version (registered: v0.0.2, v0.0.1)" in printed(
        proc.stdout
    ), proc.stdout[-4000:]
    assert not [r for r in project.server.requests if r.method == "POST"]


def test_the_stages_example_assigns_staging_then_prod_on_registration(project: Project) -> None:
    server = project.server
    commit = project.commits["v0.0.2"]
    event = {
        "action": "mlops-registered",
        "client_payload": {
            "name": NAME,
            "version": "v0.0.2",
            "stage": None,
            "tag": f"{NAME}@v0.0.2",
            "commit": commit,
            "sha256": hashlib.sha256(MODEL_TWO).hexdigest(),
            "run_url": None,
        },
        "repository": project.repository_json(),
    }

    proc = project.act("repository_dispatch", STAGES, event)

    out = proc.stdout
    assert proc.returncode == 0, out[-6000:]
    # act cannot wait for prod's reviewers: both jobs run, staging first (`needs:`).
    assert [e["client_payload"]["stage"] for e in server.dispatches] == ["staging", "prod"]
    assert out.index("[prod/mlops-promote-stage/assign prod]") > out.index(
        "[staging/mlops-promote-stage/assign staging] 🏁  Job succeeded"
    )
    for stage in ("staging", "prod"):
        [ref] = [r for r in server.refs if r.startswith(f"refs/tags/{NAME}#{stage}#")]
        assert server.tag_objects[server.refs[ref]]["object"]["sha"] == commit
