"""The real .github/workflows/ml.yml, run end to end by act against the fake GitHub.

Each test builds a project the way a user's repository looks: this repository's action
(action.yml, scripts/, mlops_actions/) and its workflow file unchanged, params.yaml with gates,
the data imported with `dvc import-url` from a source file beside the repo, a DVC remote at an
absolute path (act runs the workflow in its own copy of the checkout) and a bare `origin`.

act runs the workflow on the host (`-P ubuntu-latest=-self-hosted`) and copies the checkout
instead of running actions/checkout. Nothing leaves 127.0.0.1:
- the venv's bin directory comes first on PATH, so install.sh finds mlops-actions installed;
- the repository variable MLOPS_OFFLINE (act's --var) makes ml.yml turn off the action's
  actions/setup-python and actions/cache steps; act still fetches the actions a composite action
  names, skipped or not, so --local-repository hands it stubs that fail if they ever run;
- GITHUB_SERVER_URL and GITHUB_API_URL point at the fake, ACT_DISABLE_VERSION_CHECK stops act's
  notice check.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import stat
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
from tests.helpers import (
    GIT_ENV,
    commit_all,
    dvc,
    git,
    init_repo,
    write_breast_cancer,
    write_params,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/ml.yml"
NAME = "demo-model"
DATA = "data/breast_cancer.csv"
DVC_FILE = f"{DATA}.dvc"
MARKER = "<!-- mlops-actions:report id=default -->"
OVERALL = "mlops/gate"
RULES = {"mlops/gate: accuracy >= 0.8", "mlops/gate: f1 >= base - 0.05"}
PARAMS: dict[str, Any] = {
    "data": {"path": DATA, "target": "diagnosis", "seed": 42, "dvc": [DVC_FILE]},
    "model": {
        "name": NAME,
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 10, "max_depth": 4},
    },
    "train": {"mode": "builtin", "metrics": "metrics.json"},
    "metrics": {"primary": "f1"},
    "gates": ["accuracy >= 0.8", "f1 >= base - 0.05"],
}

# origin stands in for GitHub's git side: a branch pushed to it becomes a ref the API knows, as
# on GitHub, where the head of the retraining pull request must exist before it is opened.
HOOK = """#!{python}
import json, sys, urllib.error, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
for line in sys.stdin:
    old, new, ref = line.split()
    if not ref.startswith("refs/heads/") or set(old) != {{"0"}}:
        continue
    request = urllib.request.Request(
        {url!r},
        data=json.dumps({{"ref": ref, "sha": new}}).encode(),
        method="POST",
        headers={{
            "Authorization": "Bearer {token}",
            "Accept": "application/vnd.github+json",
            "Content-Type": "application/json",
        }},
    )
    try:
        opener.open(request, timeout=10).close()
    except urllib.error.URLError as exc:
        print(f"post-receive: {{ref}}: {{exc}}", file=sys.stderr)
"""


@dataclass
class Project:
    base: Path
    repo: Path
    origin: Path
    remote: Path
    source: Path
    server: FakeGitHub

    def act(self, event_name: str, event: dict[str, Any], *env: str) -> list[str]:
        """Run ml.yml for one event and check it ran offline; returns what the steps printed.

        `env`: more NAME=VALUE for the run (act's --env).
        """
        path = self.base / f"{event_name}.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        args = ["--var", "MLOPS_OFFLINE=true"]
        for item in env:
            args += ["--env", item]
        stubs = {uses: self.stub(uses) for uses in remote_actions()}
        proc = run_act(
            self.repo,
            event_name,
            WORKFLOW,
            path,
            self.server,
            cache=self.base / "act",
            stubs=stubs,
            args=args,
            timeout=240,
        )
        out = proc.stdout
        assert proc.returncode == 0 and "🏁  Job succeeded" in out, out[-6000:]
        printed = [m[1] for m in re.finditer(r"^\[[^\]]+\]\s+\| (.*)$", out, re.MULTILINE)]
        assert any(
            line.startswith("mlops-actions ") and "already installed" in line for line in printed
        ), out[-6000:]
        assert "must be skipped" not in out
        return printed

    def stub(self, uses: str) -> Path:
        """What act gets instead of the remote action `uses`: one step that fails."""
        path = self.base / "stubs" / re.sub(r"[^A-Za-z0-9.-]", "-", uses)
        path.mkdir(parents=True, exist_ok=True)
        step = {"shell": "bash", "run": f"echo '{uses} must be skipped offline'; exit 1"}
        action = {"name": uses, "runs": {"using": "composite", "steps": [step]}}
        (path / "action.yml").write_text(json.dumps(action), encoding="utf-8")
        return path

    def repository_json(self) -> dict[str, Any]:
        owner, name = self.server.repository.split("/")
        return {
            "name": name,
            "full_name": self.server.repository,
            "owner": {"login": owner},
            "default_branch": self.server.default_branch,
        }

    def origin_git(self, *args: str) -> str | None:
        proc = subprocess.run(
            ["git", "--git-dir", str(self.origin), *args], capture_output=True, text=True
        )
        return proc.stdout.strip() if proc.returncode == 0 else None

    def origin_sha(self, ref: str) -> str | None:
        return self.origin_git("rev-parse", "--verify", "-q", ref)


def remote_actions() -> list[str]:
    """The `uses:` of action.yml's steps: other repositories' actions."""
    action = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return [step["uses"] for step in action["runs"]["steps"] if "uses" in step]


def mlops(repo: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(BIN / "mlops-actions"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def breast_cancer_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "breast_cancer.csv"
    write_breast_cancer(path)
    return path


@pytest.fixture
def project(
    tmp_path: Path,
    breast_cancer_csv: Path,
    github_server_factory: Callable[..., FakeGitHub],
) -> Project:
    """main: the action, ml.yml, params.yaml, the imported data pushed to the remote and the
    metrics of a first training, committed and pushed to origin; the fake's main is that commit.
    """
    server = github_server_factory()
    source = tmp_path / "source" / "breast_cancer.csv"
    source.parent.mkdir()
    shutil.copyfile(breast_cancer_csv, source)
    remote = tmp_path / "remote"
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)

    repo = init_repo(tmp_path / "repo")
    for name in ("action.yml", WORKFLOW):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, repo / name)
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    write_params(repo, PARAMS)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "storage", str(remote))
    (repo / "data").mkdir()
    dvc(repo, "import-url", str(source), DATA)
    dvc(repo, "push", "-q")
    mlops(repo, "train")
    sha = commit_all(repo, "demo project")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    server.add_ref("refs/heads/main", sha)

    hook = origin / "hooks" / "post-receive"
    url = f"{server.url}/repos/{server.repository}/git/refs"
    hook.write_text(HOOK.format(python=sys.executable, url=url, token=server.token))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    return Project(tmp_path, repo, origin, remote, source, server)


def test_pull_request_gets_one_sticky_report_and_gate_statuses_on_its_head(
    project: Project,
) -> None:
    repo, server = project.repo, project.server
    main = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "more-trees")
    params = copy.deepcopy(PARAMS)
    params["model"]["params"]["n_estimators"] = 20
    write_params(repo, params)
    head = commit_all(repo, "More trees")
    git(repo, "push", "-q", "origin", "more-trees")
    git(repo, "push", "-q", str(server.bare()), "main", "more-trees")  # what GitHub holds
    pull = server.add_pull("more-trees", head_sha=head, title="More trees")
    # What actions/checkout checks out for a pull request: its merge into the base branch.
    git(repo, "checkout", "-q", "--detach", main)
    git(repo, "merge", "-q", "--no-ff", "-m", f"Merge {head} into {main}", head)
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": project.repository_json(),
    }

    printed = project.act("pull_request", event)

    [comment] = server.issue_comments[pull["number"]]
    body = comment["body"]
    assert body.count(MARKER) == 1
    assert f"compared with `main` ({main[:7]})" in body
    assert re.search(
        r"\| `mlops\.model\.params\.n_estimators` +\| 10 +\| 20 +\|", body
    )  # params diff
    assert re.search(r"/actions/runs/\d+\)", body)  # the run's link
    assert any(
        line.startswith(f"report posted on pull request #{pull['number']}") for line in printed
    )
    # Statuses go on the head commit, never on the merge commit that ran.
    assert set(server.statuses) == {head}
    posted = list(reversed(server.statuses[head]))  # the fake keeps them newest first
    assert (posted[0]["context"], posted[0]["state"]) == (OVERALL, "pending")  # before training
    final = {s["context"]: s["state"] for s in posted}
    assert final == {OVERALL: "success", **dict.fromkeys(RULES, "success")}
    # The run is recorded as a DVC experiment on the PR's head, through the git data API.
    [recorded] = git(server.bare(), "for-each-ref", "--format=%(refname)", "refs/exps").split()
    assert recorded.startswith(f"refs/exps/{head[:2]}/{head[2:]}/")
    assert git(server.bare(), "rev-parse", f"{recorded}^1") == head

    # A re-run of the same event: its second attempt, whose report links to that attempt. The
    # checkout's origin is GitHub's repository, where the first attempt's experiment now is.
    git(repo, "remote", "set-url", "origin", str(server.bare()))
    project.act("pull_request", event, "GITHUB_RUN_ATTEMPT=2")

    [again] = server.issue_comments[pull["number"]]
    assert again["id"] == comment["id"]
    assert again["body"].count(MARKER) == 1
    assert re.search(r"/actions/runs/\d+/attempts/2\)", again["body"])
    # The first attempt's experiment is the same run's: not ranked against, so the re-run has
    # no other recorded run and no standing line.
    assert " recorded runs" not in again["body"]
    assert len(server.calls("POST", r"/issues/\d+/comments$")) == 1
    assert len(server.calls("PATCH", r"/issues/comments/\d+$")) == 1


def test_push_to_main_promotes_the_model_with_tags_made_through_the_api(
    project: Project,
) -> None:
    server = project.server
    sha = git(project.repo, "rev-parse", "HEAD")
    event = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": project.repository_json(),
        "head_commit": {"id": sha, "message": "demo project"},
    }

    printed = project.act("push", event)

    version = f"{NAME}@v0.0.1"
    stage = f"{NAME}#prod#1"  # ml.yml: stage: prod
    tags = sorted(r for r in server.refs if r.startswith("refs/tags/"))
    assert tags == [f"refs/tags/{stage}", f"refs/tags/{version}"]
    for name in (version, stage):
        tag = server.tag_objects[server.refs[f"refs/tags/{name}"]]  # an annotated tag
        assert tag["tag"] == name
        assert (tag["object"]["sha"], tag["object"]["type"]) == (sha, "commit")
    assert len(server.calls("POST", r"/git/tags$")) == 2
    assert any(line.startswith(f"promoted {version} (first version") for line in printed)
    assert server.statuses[sha][0]["context"] == OVERALL
    assert server.statuses[sha][0]["state"] == "success"
    assert project.origin_git("tag", "--list") == ""  # the API made the tags, not a git push


def schedule_event(project: Project) -> dict[str, Any]:
    return {"schedule": "0 4 * * 1", "repository": project.repository_json()}


def test_schedule_with_new_data_pushes_a_branch_and_opens_the_retraining_pull_request(
    project: Project,
) -> None:
    server = project.server
    old = md5(project.source)
    rows = project.source.read_text(encoding="utf-8").splitlines(keepends=True)
    project.source.write_text("".join(rows[:-40]), encoding="utf-8")  # the source changed
    new = md5(project.source)

    printed = project.act("schedule", schedule_event(project))

    branch = project.origin_sha("refs/heads/mlops/retrain")
    assert branch is not None
    main = git(project.repo, "rev-parse", "HEAD")
    assert project.origin_sha("refs/heads/main") == main
    assert project.origin_git("rev-parse", f"{branch}^") == main
    assert DVC_FILE in (project.origin_git("diff", "--name-only", main, branch) or "").split()
    dvc_file = yaml.safe_load(project.origin_git("show", f"{branch}:{DVC_FILE}") or "")
    assert dvc_file["outs"][0]["md5"] == new
    assert (project.remote / "files" / "md5" / new[:2] / new[2:]).is_file()  # pushed for CI
    [pull] = server.pulls
    assert pull["head"]["ref"] == "mlops/retrain"
    assert pull["head"]["sha"] == branch
    assert pull["base"]["ref"] == "main"
    assert pull["state"] == "open"
    assert pull["title"] == f"Retrain {NAME} on new data"
    assert f"`{DVC_FILE}`: `{old[:8]}` → `{new[:8]}`" in pull["body"]
    assert any(line.startswith("opened the retraining pull request") for line in printed)


def test_schedule_with_unchanged_data_says_so_in_one_line_and_opens_nothing(
    project: Project,
) -> None:
    printed = project.act("schedule", schedule_event(project))

    pipeline = [line for line in printed if not line.startswith("mlops-actions ")]  # install.sh
    assert pipeline == [
        f"scheduled retraining: the data is unchanged ({DVC_FILE}); nothing to retrain"
    ]
    assert project.server.requests == []
    assert project.origin_sha("refs/heads/mlops/retrain") is None
