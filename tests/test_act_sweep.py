"""The reusable sweep workflow, two waves end to end: act runs `.github/workflows/sweep.yml`
(called from a user's workflow_dispatch workflow, as examples/sweep.yml shows) against the fake
GitHub, offline, on the host.

Stand-ins as in test_act_split.py: `$/` becomes `mlops-actions/mlops-actions/...@v0` served from
a copy of this repository; actions/upload-artifact and actions/download-artifact copy files into
and out of one store directory per run; every other remote action fails if it ever runs. origin
is a bare repository whose post-receive hook tells the fake about new branches, as GitHub knows
a pushed branch. GitHub would start the next wave on the workflow_dispatch that `gather` sends;
here the test runs act again when the fake has received it. act leaves GITHUB_WORKFLOW_REF
unset: the test sets it as GitHub does.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.acting import run_act
from tests.fakegithub import FakeGitHub
from tests.helpers import commit_all, git, init_repo
from tests.test_act import HOOK

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "mlops-actions/mlops-actions"
CALLER_PATH = ".github/workflows/tune.yml"
CALLER = {
    "name": "tune",
    "on": {"workflow_dispatch": {}},
    "permissions": {},
    "jobs": {
        "sweep": {
            "permissions": {
                "contents": "write",
                "issues": "write",
                "pull-requests": "write",
                "actions": "write",
            },
            "uses": "./.github/workflows/sweep.yml",
            "with": {"python-version": "", "cache": False},
        }
    },
}
TRAIN_PY = """import json, yaml
scale = yaml.safe_load(open("params.yaml"))["train"]["scale"]
if scale == 4:
    raise SystemExit("scale 4 breaks the training")
json.dump({"score": -((scale - 2) ** 2)}, open("metrics.json", "w"))
"""
PARAMS = """\
train:
  scale: 1  # the sweep's param
mlops:
  train: {mode: command, command: python train.py, metrics: metrics.json}
  metrics: {primary: score}
  sweep:
    sampler: grid
    parallel: 2
    params:
      train.scale: [1, 2, 3, 4]
"""
UPLOAD = """name: upload-artifact stand-in
inputs: {{name: {{}}, path: {{}}, if-no-files-found: {{}}, retention-days: {{}}}}
runs:
  using: composite
  steps:
    - shell: bash
      env: {{NAME: "${{{{ inputs.name }}}}", FILE: "${{{{ inputs.path }}}}"}}
      run: if [ -e "$FILE" ]; then mkdir -p "{store}/$NAME" && cp "$FILE" "{store}/$NAME/"; fi
"""
DOWNLOAD = """name: download-artifact stand-in
inputs: {{pattern: {{}}, path: {{}}}}
runs:
  using: composite
  steps:
    - shell: bash
      env: {{DEST: "${{{{ inputs.path }}}}"}}
      run: mkdir -p "$DEST" && cp -r "{store}/." "$DEST/"
"""


class Sweep:
    def __init__(self, base: Path, repo: Path, source: Path, server: FakeGitHub) -> None:
        self.base, self.repo, self.source, self.server = base, repo, source, server

    @property
    def store(self) -> Path:
        return self.base / "artifacts"

    def wave(self) -> str:
        """One run of the caller workflow (one wave), with a fresh artifact store."""
        shutil.rmtree(self.store, ignore_errors=True)
        self.store.mkdir()
        event = {
            "ref": "refs/heads/main",
            "inputs": {},
            "repository": {
                "name": self.server.repository.split("/")[1],
                "full_name": self.server.repository,
                "owner": {"login": self.server.repository.split("/")[0]},
                "default_branch": "main",
            },
        }
        path = self.base / "dispatch.json"
        path.write_text(json.dumps(event), encoding="utf-8")
        proc = run_act(
            self.repo,
            "workflow_dispatch",
            ".github/workflows/tune.yml",
            path,
            self.server,
            cache=self.base / "act",
            stubs=self.stubs(),
            # GitHub sets it on every step; act does not
            args=[
                "--env",
                f"GITHUB_WORKFLOW_REF={self.server.repository}/{CALLER_PATH}@refs/heads/main",
            ],
            timeout=400,
        )
        out = proc.stdout
        (self.base / "act.log").write_text(out)
        assert "must be skipped" not in out, out[-8000:]
        assert "🏁  Job succeeded" in out, out[-8000:]
        return out

    def stubs(self) -> dict[str, Path]:
        stubs: dict[str, Path] = {f"{SOURCE}@v0": self.source}
        uses_all = []
        for path in sorted((self.source / ".github" / "actions").glob("*/action.yml")):
            steps = yaml.safe_load(path.read_text(encoding="utf-8"))["runs"]["steps"]
            uses_all += [s.get("uses", "") for s in steps]
        workflow = yaml.safe_load((ROOT / ".github/workflows/sweep.yml").read_text())
        for job in workflow["jobs"].values():
            uses_all += [s.get("uses", "") for s in job["steps"]]
        for uses in uses_all:
            if not uses or uses in stubs or uses.startswith(("$/", "actions/checkout@")):
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

    def exp_refs(self) -> list[str]:
        origin = self.base / "origin.git"
        return git(origin, "for-each-ref", "--format=%(refname)", "refs/exps/").splitlines()


@pytest.fixture
def sweep_project(tmp_path: Path, github_server_factory: Callable[..., FakeGitHub]) -> Sweep:
    server = github_server_factory()
    repo = init_repo(tmp_path / "repo")
    workflows = repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    text = (ROOT / ".github" / "workflows" / "sweep.yml").read_text(encoding="utf-8")
    (workflows / "sweep.yml").write_text(re.sub(r"uses: \$/(\S+)", rf"uses: {SOURCE}/\1@v0", text))
    (workflows / "tune.yml").write_text(yaml.safe_dump(CALLER, sort_keys=False))
    source = tmp_path / "action-source"
    shutil.copytree(ROOT / ".github" / "actions", source / ".github" / "actions")
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "constraints.txt", source / "constraints.txt")
    (repo / "train.py").write_text(TRAIN_PY)
    (repo / "params.yaml").write_text(PARAMS)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n/metrics.json\n")
    sha = commit_all(repo, "a project to tune")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    hook = origin / "hooks" / "post-receive"
    url = f"{server.url}/repos/{server.repository}/git/refs"
    hook.write_text(HOOK.format(python=sys.executable, url=url, token=server.token))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    server.add_ref("refs/heads/main", sha)
    return Sweep(tmp_path, repo, source, server)


def test_a_two_wave_sweep_records_its_trials_and_proposes_the_best_params(
    sweep_project: Sweep,
) -> None:
    server = sweep_project.server
    before = (sweep_project.repo / "params.yaml").read_text()

    sweep_project.wave()

    assert len(sweep_project.exp_refs()) == 2  # the first wave's trials, recorded on origin
    assert [d["ref"] for d in server.workflow_dispatches] == ["refs/heads/main"]
    assert server.workflow_dispatches[0]["workflow"] == "tune.yml"
    [issue] = server.issue_list
    assert issue["title"].startswith("Sweep ") and issue["labels"][0]["name"] == "mlops-sweep"
    number = issue["number"]
    [comment] = server.issue_comments[number]
    assert "2 of 4 trials recorded" in comment["body"]
    assert not server.pulls

    sweep_project.wave()  # what GitHub starts on the dispatch

    refs = sweep_project.exp_refs()
    assert len(refs) == 4
    assert len(server.workflow_dispatches) == 1  # the budget is spent: no third wave
    [comment] = server.issue_comments[number]  # the same sticky comment, updated
    body = comment["body"]
    assert "4 of 4 trials recorded (1 failed); best: trial" in body
    rows = [line for line in body.splitlines() if line.startswith("| ")]
    assert rows[1].startswith("| 1 |") and "| **0** | 2 |" in rows[1]
    assert rows[-1].startswith("| — |") and "| failed | 4 |" in rows[-1]
    [pull] = server.pulls
    assert pull["head"]["ref"].startswith("mlops/sweep-")
    assert "dvc exp apply" in pull["body"] and "train.scale: 2" in pull["body"]
    origin = sweep_project.base / "origin.git"
    proposed = git(origin, "show", f"{pull['head']['ref']}:params.yaml")
    assert "scale: 2  # the sweep's param" in proposed
    assert (sweep_project.repo / "params.yaml").read_text() == before
