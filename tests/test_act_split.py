"""The reusable workflow's two trust levels, run end to end by act against the fake GitHub.

The project is a user's repository that calls `.github/workflows/reusable.yml` (and, for forks,
`reusable-publish.yml` from a `workflow_run` workflow) as examples/reusable.yml and
examples/fork-pull-requests.yml show. Its training command is the pull request's code: it
looks for the token everywhere a process can (its environment and every readable
`/proc/<pid>/environ`) and writes what it found beside the repository.

Stand-ins, as in test_act.py (act runs on the host, offline):
- GitHub's `$/` self-repository references (the action from the workflow's own repository, not
  from the workspace) become `mlops-actions/mlops-actions/...@v0` in the copied workflows, and
  act's --local-repository serves that from a copy of this repository (act does not know `$/`).
  A job without actions/checkout has an empty workspace, as on GitHub.
- actions/upload-artifact and actions/download-artifact are stubs that copy files (the existing
  ones of the paths, one a line) into and out of one store directory (per artifact name), and
  log the run id and whether a token was given;
  actions/setup-python and actions/cache are stubs that fail if they ever run.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.acting import run_act
from tests.fakegithub import FakeGitHub
from tests.helpers import GIT_ENV, commit_all, git, init_repo, write_params

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NAME = "demo-model"
MARKER = "<!-- mlops-actions:report id=default -->"
OVERALL = "mlops/gate"
RULES = ("mlops/gate: accuracy >= 0.8", "mlops/gate: f1 >= base - 0.05")
ARTIFACT = "mlops-results-default"
SOURCE = "mlops-actions/mlops-actions"

CALLER = {
    "name": "ml",
    "on": {"pull_request": {}, "push": {"branches": ["main"]}, "schedule": [{"cron": "0 4 * * 1"}]},
    "permissions": {},
    "jobs": {
        "ml": {
            "permissions": {"contents": "write", "pull-requests": "write", "statuses": "write"},
            "uses": "./.github/workflows/reusable.yml",
            # The training jobs on a runner named by a JSON list of labels (a self-hosted one);
            # `install` runs before the training, after the pull and its credentials.
            "with": {
                "python-version": "",
                "cache": False,
                "stage": "prod",
                "runs-on": '["self-hosted", "linux"]',
                "install": 'test -f train.py && echo installed >> "$MLOPS_TEST_INSTALLED"',
            },
            "secrets": {"dvc-env": "${{ secrets.DVC_ENV }}"},
        }
    },
}
FORK_CALLER = {
    "name": "ml-publish",
    "on": {"workflow_run": {"workflows": ["ml"], "types": ["completed"]}},
    "permissions": {},
    "jobs": {
        "publish": {
            "permissions": {
                "actions": "read",
                "contents": "read",
                "pull-requests": "write",
                "statuses": "write",
            },
            "uses": "./.github/workflows/reusable-publish.yml",
            "with": {"python-version": ""},
        }
    },
}


def _opting_in(caller: dict[str, Any]) -> dict[str, Any]:
    """The base repository records its forks' runs: the recording publisher, contents: write."""
    job = caller["jobs"]["publish"]
    job = {**job, "permissions": {**job["permissions"], "contents": "write"}}
    job["uses"] = "./.github/workflows/reusable-publish-record.yml"
    return {**caller, "jobs": {"publish": job}}


# The pull request's training code: scores from params.yaml, a model file, and a search for the
# token and the remote's credential in every environment it can read (of this test's processes).
CREDENTIAL = "remote-secret-4f1d9c"
TRAIN_PY = """import glob, json, os, yaml
quality = yaml.safe_load(open("params.yaml"))["train"]["quality"]
if quality == "crash":
    raise SystemExit("the training crashed")
os.makedirs("model", exist_ok=True)
open("model/model.bin", "w").write(str(quality))
json.dump({{"accuracy": quality, "f1": quality}}, open("metrics.json", "w"))
secrets = [{token!r}, {credential!r}]
found = [k for k, v in os.environ.items() if any(s in v for s in secrets)]
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    if {base!r}.encode() in data:  # a process of this test's run (other tests run act too)
        found += [path for s in secrets if s.encode() in data]
with open({log!r}, "a") as f:
    f.write(json.dumps(found) + "\\n")
"""

UPLOAD = """name: upload-artifact stand-in
inputs: {{name: {{}}, path: {{}}, if-no-files-found: {{}}, retention-days: {{}}, overwrite: {{}}}}
runs:
  using: composite
  steps:
    - shell: bash
      env: {{NAME: "${{{{ inputs.name }}}}", FILES: "${{{{ inputs.path }}}}"}}
      run: |
        mkdir -p "{store}/$NAME"
        while IFS= read -r file; do
          if [ -f "$file" ]; then cp "$file" "{store}/$NAME/"; fi
        done <<< "$FILES"
"""
DOWNLOAD = """name: download-artifact stand-in
inputs: {{name: {{}}, path: {{}}, run-id: {{default: ""}}, github-token: {{default: ""}}}}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: "${{{{ inputs.name }}}}"
        DEST: "${{{{ inputs.path }}}}"
        RUN_ID: "${{{{ inputs.run-id }}}}"
        TOKEN: "${{{{ inputs.github-token }}}}"
      run: |
        echo "run-id=$RUN_ID token=${{TOKEN:+given}}" >> "{store}/downloads.log"
        mkdir -p "$DEST" && cp -r "{store}/$NAME/." "$DEST/"
"""


@dataclass
class Project:
    base: Path
    repo: Path
    source: Path  # what `$/` names: this repository's actions, scripts and package
    server: FakeGitHub

    @property
    def store(self) -> Path:
        return self.base / "artifacts"

    @property
    def snooped(self) -> list[list[str]]:
        log = self.base / "snoop.log"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [json.loads(line) for line in lines]

    def act(self, event_name: str, event: dict[str, Any], workflow: str, ok: bool = True) -> str:
        """Run `workflow` for one event; `ok` False: a job must fail (a failed gate)."""
        path = self.base / f"{event_name}.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        proc = run_act(
            self.repo,
            event_name,
            workflow,
            path,
            self.server,
            cache=self.base / "act",
            stubs=self.stubs(),
            args=[
                "--secret",
                f"DVC_ENV=MLOPS_PROBE_CREDENTIAL={CREDENTIAL}",
                "--platform",
                "self-hosted=-self-hosted",
                "--env",
                f"MLOPS_TEST_INSTALLED={self.base / 'installed.log'}",
            ],
            timeout=300,
        )
        out = proc.stdout
        if ok:
            assert proc.returncode == 0 and "🏁  Job succeeded" in out, out[-8000:]
        else:
            assert proc.returncode != 0 and "🏁  Job failed" in out, out[-8000:]
        assert "must be skipped" not in out
        return out

    def experiment(self, baseline: str) -> dict[str, Any]:
        """The run record of the one experiment on `baseline` that the publishing job wrote
        through the fake GitHub's git data API; checks that its first parent is `baseline`."""
        [ref] = [r for r in self.server.refs if r.startswith(f"refs/exps/{baseline[:2]}/")]
        assert ref.startswith(f"refs/exps/{baseline[:2]}/{baseline[2:]}/ci-")
        commit = self.server.refs[ref]
        assert git(self.repo, "rev-parse", f"{commit}^1") == baseline
        record: dict[str, Any] = json.loads(git(self.repo, "show", f"{commit}:.mlops/run.json"))
        return record

    def stubs(self) -> dict[str, Path]:
        stubs: dict[str, Path] = {f"{SOURCE}@v0": self.source}
        for path in sorted((self.source / ".github" / "actions").glob("*/action.yml")):
            for step in yaml.safe_load(path.read_text(encoding="utf-8"))["runs"]["steps"]:
                uses = step.get("uses", "")
                if not uses or uses in stubs:
                    continue
                where = self.base / "stubs" / re.sub(r"[^A-Za-z0-9.-]", "-", uses)
                where.mkdir(parents=True, exist_ok=True)
                if uses.startswith("actions/upload-artifact@"):
                    text = UPLOAD.format(store=self.store)
                elif uses.startswith("actions/download-artifact@"):
                    text = DOWNLOAD.format(store=self.store)
                else:
                    failing = {"shell": "bash", "run": f"echo '{uses} must be skipped'; exit 1"}
                    text = json.dumps(
                        {"name": uses, "runs": {"using": "composite", "steps": [failing]}}
                    )
                (where / "action.yml").write_text(text, encoding="utf-8")
                stubs[uses] = where
        return stubs

    def repository_json(self) -> dict[str, Any]:
        owner, name = self.server.repository.split("/")
        return {
            "name": name,
            "full_name": self.server.repository,
            "owner": {"login": owner},
            "default_branch": self.server.default_branch,
        }

    def pull_request(
        self, quality: float, head_repo: str | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A branch that changes the training's quality, checked out as GitHub merges it."""
        main = git(self.repo, "rev-parse", "HEAD")
        git(self.repo, "checkout", "-q", "-b", "change")
        write_params(self.repo, PARAMS, {"train": {"quality": quality}})
        head = commit_all(self.repo, "change the model")
        pull = self.server.add_pull("change", head_sha=head, head_repo=head_repo)
        git(self.repo, "checkout", "-q", "--detach", main)
        git(self.repo, "merge", "-q", "--no-ff", "-m", f"Merge {head} into {main}", head)
        event = {
            "action": "synchronize",
            "number": pull["number"],
            "pull_request": pull,
            "repository": self.repository_json(),
        }
        return pull, event


PARAMS: dict[str, Any] = {
    "model": {"name": NAME},
    "train": {
        "mode": "command",
        "command": "python train.py",
        "metrics": "metrics.json",
        "model": "model/model.bin",
    },
    "metrics": {"primary": "f1"},
    "gates": ["accuracy >= 0.8", "f1 >= base - 0.05"],
}


@pytest.fixture
def project(tmp_path: Path, github_server_factory: Callable[..., FakeGitHub]) -> Project:
    server = github_server_factory()
    repo = init_repo(tmp_path / "repo")
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for name in ("reusable.yml", "reusable-publish.yml", "reusable-publish-record.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8")
        text = re.sub(r"uses: \$/(\S+)", rf"uses: {SOURCE}/\1@v0", text)
        (workflows / name).write_text(text, encoding="utf-8")
    (workflows / "ml.yml").write_text(yaml.safe_dump(CALLER, sort_keys=False), encoding="utf-8")
    (workflows / "ml-publish.yml").write_text(
        yaml.safe_dump(FORK_CALLER, sort_keys=False), encoding="utf-8"
    )
    source = tmp_path / "action-source"
    shutil.copytree(ROOT / ".github" / "actions", source / ".github" / "actions")
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "constraints.txt", source / "constraints.txt")
    (repo / "train.py").write_text(
        TRAIN_PY.format(
            token=server.token,
            credential=CREDENTIAL,
            base=str(tmp_path),
            log=str(tmp_path / "snoop.log"),
        ),
        encoding="utf-8",
    )
    write_params(repo, PARAMS, {"train": {"quality": 0.9}})
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    proc = subprocess.run(
        [str(BIN / "mlops-actions"), "train"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (tmp_path / "snoop.log").unlink()
    sha = commit_all(repo, "demo project")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    server.add_ref("refs/heads/main", sha)
    server.git_dir = repo  # the publishing job reads the base's rules through the contents API
    return Project(tmp_path, repo, source, server)


def _final(server: FakeGitHub, sha: str) -> dict[str, str]:
    return {s["context"]: s["state"] for s in reversed(server.statuses.get(sha, []))}


def test_a_pull_request_trains_read_only_and_publishes_from_the_artifact(project: Project) -> None:
    server = project.server
    pull, event = project.pull_request(0.92)

    out = project.act("pull_request", event, ".github/workflows/ml.yml")

    assert project.snooped == [[]]  # the training ran once and saw no token anywhere
    assert "results written to" in out
    # The training job ran on the runner the labels name, and `install` ran in the checkout.
    assert "🏁  Job succeeded" in out.split("train (read-only)] ")[-1], out[-3000:]
    assert (project.base / "installed.log").read_text() == "installed\n"
    [comment] = server.issue_comments[pull["number"]]
    assert comment["body"].count(MARKER) == 1
    assert "compared with `main`" in comment["body"]
    head = pull["head"]["sha"]
    assert set(server.statuses) == {head}
    assert _final(server, head) == {OVERALL: "success", **dict.fromkeys(RULES, "success")}
    assert (project.store / "downloads.log").read_text() == "run-id= token=\n"  # this run's
    # The publishing job recorded the run, with what the training job measured.
    record = project.experiment(head)
    assert (record["event"], record["pr"], record["fork"]) == (
        "pull_request",
        pull["number"],
        False,
    )
    assert record["model_sha256"] == hashlib.sha256(b"0.92").hexdigest()  # model/model.bin
    # and the run's files came over in the artifact: the metrics this run measured (the
    # pull request's head commit holds those of main's training).
    commit = server.refs[next(r for r in server.refs if r.startswith("refs/exps/"))]
    assert json.loads(git(project.repo, "show", f"{commit}:metrics.json"))["f1"] == 0.92


def test_a_fork_pull_request_gets_its_report_from_the_workflow_run(project: Project) -> None:
    server = project.server
    pull, event = project.pull_request(0.7, head_repo="evil/demo")  # a failing gate

    out = project.act("pull_request", event, ".github/workflows/ml.yml")

    assert server.requests == []  # the read-only half posted nothing, and never tried
    assert (project.store / ARTIFACT / "results.json").is_file()
    assert project.snooped == [[]]
    assert "results written to" in out

    head = pull["head"]["sha"]
    run = {
        "action": "completed",
        "workflow_run": {
            "id": 7001,
            "event": "pull_request",
            "head_sha": head,
            "head_branch": "change",
            "head_repository": {"full_name": "evil/demo", "owner": {"login": "evil"}},
            "html_url": f"{server.host_url}/{server.repository}/actions/runs/7001",
            "pull_requests": [],  # GitHub lists none for a fork's pull request
        },
        "repository": project.repository_json(),
    }
    out = project.act("workflow_run", run, ".github/workflows/ml-publish.yml", ok=False)

    assert "gates: 2 failed" in out  # the publishing job fails with the gates
    assert (project.store / "downloads.log").read_text() == "run-id=7001 token=given\n"
    [comment] = server.issue_comments[pull["number"]]
    assert comment["body"].count(MARKER) == 1
    assert "/actions/runs/7001" in comment["body"]
    assert "gates failed" in comment["body"]
    assert _final(server, head) == {OVERALL: "failure", RULES[0]: "failure", RULES[1]: "failure"}
    assert project.snooped == [[]]  # the publishing half ran no training
    # The base did not opt in: one notice, no experiment.
    assert out.count("a fork's pull request; not recorded") == 1
    assert not any(r.startswith("refs/exps/") for r in server.refs)

    # The base opts in (its own workflow_run workflow): the same run is recorded, on the
    # fork's head, marked as from a fork.
    (project.repo / ".github" / "workflows" / "ml-publish.yml").write_text(
        yaml.safe_dump(_opting_in(FORK_CALLER), sort_keys=False), encoding="utf-8"
    )
    project.act("workflow_run", run, ".github/workflows/ml-publish.yml", ok=False)
    record = project.experiment(head)
    assert (record["event"], record["pr"], record["fork"]) == ("pull_request", pull["number"], True)
    assert record["model_sha256"] == hashlib.sha256(b"0.7").hexdigest()
    assert record["run_url"].endswith("/actions/runs/7001")
    assert len(server.issue_comments[pull["number"]]) == 1  # the same sticky comment
    assert project.snooped == [[]]


def test_a_push_to_main_publishes_statuses_and_promotes(project: Project) -> None:
    server = project.server
    sha = git(project.repo, "rev-parse", "HEAD")
    event = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": project.repository_json(),
        "head_commit": {"id": sha, "message": "demo project"},
    }

    project.act("push", event, ".github/workflows/ml.yml")

    assert _final(server, sha)[OVERALL] == "success"
    tags = sorted(r for r in server.refs if r.startswith("refs/tags/"))
    assert tags == [f"refs/tags/{NAME}#prod#1", f"refs/tags/{NAME}@v0.0.1"]
    assert server.issue_comments == {}


def test_a_schedule_publishes_the_statuses_of_the_default_branch(project: Project) -> None:
    server = project.server
    sha = git(project.repo, "rev-parse", "HEAD")

    project.act(
        "schedule",
        {"schedule": "0 4 * * 1", "repository": project.repository_json()},
        ".github/workflows/ml.yml",
    )

    assert _final(server, sha)[OVERALL] == "success"
    assert not any(r.startswith("refs/tags/") for r in server.refs)  # promotion is for pushes
    assert server.issue_comments == {}


def test_a_pull_request_whose_training_fails_gets_an_error_status_not_a_missing_one(
    project: Project,
) -> None:
    server = project.server
    pull, event = project.pull_request("crash")

    out = project.act("pull_request", event, ".github/workflows/ml.yml", ok=False)

    assert "the training crashed" in out
    head = pull["head"]["sha"]
    assert _final(server, head) == {OVERALL: "error"}
    [latest] = server.statuses[head][:1]
    assert latest["description"].startswith("the run failed: the training job failed")
    assert pull["number"] not in server.issue_comments  # no report of a run that did not finish
