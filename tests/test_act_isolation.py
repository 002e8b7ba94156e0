"""The one-step action, run by act, where the job's Python and mlops-actions' own venv differ:
the `install` input installs the project's packages into the job's Python, and the training
command runs with those versions, not ours.

The runner (act on the host, `-P ubuntu-latest=-self-hosted`) has mlops-actions installed as
the action leaves it — a directory holding only the `mlops-actions` command on PATH, so
install.sh skips its install — and the job's Python is a venv made here (tests/userenv.py)
with pip and nothing else. The project's wheels (`six` 1.0.0, ours is 1.17.0; `userpkg` 9.9,
which we do not ship) are committed beside its code; `install:` pip-installs them offline.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import userenv
from tests.acting import run_act
from tests.fakegithub import FakeGitHub
from tests.helpers import commit_all, init_repo, write_params

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = {
    "name": "ml",
    "on": {"push": {"branches": ["main"]}},
    "permissions": {},
    "jobs": {
        "ml": {
            "runs-on": "ubuntu-latest",
            "permissions": {"contents": "read", "statuses": "write"},
            "steps": [
                {  # act copies the checkout instead
                    "uses": "actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8",
                    "with": {"fetch-depth": 0, "persist-credentials": False},
                },
                {
                    "uses": "./",
                    "with": {
                        "token": "${{ secrets.GITHUB_TOKEN }}",
                        "python-version": "",
                        "cache": "false",
                        "promote": "false",
                        "install": "pip install --no-index --quiet wheels/*.whl",
                    },
                },
            ],
        }
    },
}


def _stub(base: Path, uses: str) -> Path:
    path = base / "stubs" / re.sub(r"[^A-Za-z0-9.-]", "-", uses)
    path.mkdir(parents=True, exist_ok=True)
    step = {"shell": "bash", "run": f"echo '{uses} must be skipped'; exit 1"}
    action = {"name": uses, "runs": {"using": "composite", "steps": [step]}}
    (path / "action.yml").write_text(json.dumps(action), encoding="utf-8")
    return path


def test_the_action_installs_the_projects_packages_and_trains_with_them_not_ours(
    tmp_path: Path, github_server_factory: Callable[..., FakeGitHub]
) -> None:
    server = github_server_factory()
    env = userenv.make_env(tmp_path / "job-python", pip=True)  # pip and nothing else
    repo = init_repo(tmp_path / "repo")
    shutil.copyfile(ROOT / "action.yml", repo / "action.yml")
    shutil.copyfile(ROOT / "constraints.txt", repo / "constraints.txt")
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name, version in userenv.THEIRS.items():
        userenv.wheel(repo / "wheels", name, version)
    (repo / "stage.py").write_text(userenv.STAGE)
    write_params(
        repo,
        {"model": {"name": "m"}, "train": {"mode": "command", "command": "python stage.py"}},
    )
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "ml.yml").write_text(yaml.safe_dump(WORKFLOW))
    sha = commit_all(repo, "a project with its own requirements")
    server.add_ref("refs/heads/main", sha)
    event: dict[str, Any] = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": {
            "name": server.repository.split("/")[1],
            "full_name": server.repository,
            "owner": {"login": server.repository.split("/")[0]},
            "default_branch": server.default_branch,
        },
        "head_commit": {"id": sha, "message": "a project"},
    }
    (tmp_path / "push.json").write_text(json.dumps(event))
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    remote = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    seen_file = tmp_path / "seen.json"

    proc = run_act(
        repo,
        "push",
        ".github/workflows/ml.yml",
        tmp_path / "push.json",
        server,
        cache=tmp_path / "act",
        stubs={uses: _stub(tmp_path, uses) for uses in remote},
        args=["--env", f"MLOPS_TEST_SEEN={seen_file}"],
        env={"PATH": userenv.action_path(tmp_path, env)},
        timeout=240,
    )

    out = proc.stdout
    assert proc.returncode == 0 and "🏁  Job succeeded" in out, out[-6000:]
    assert "must be skipped" not in out
    assert re.search(r"\| mlops-actions \S+ is already installed: .*/mlops-actions-bin/", out)
    assert "trained (command)" in out
    seen = json.loads(seen_file.read_text())
    assert Path(seen["executable"]).parent == env / "bin"  # the job's Python
    assert (seen["six"], seen["userpkg"]) == ("1.0.0", "9.9")  # the versions `install` put there
    assert seen["sklearn"] is False  # our packages are not visible to it
    listed = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    installed = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
    assert installed["userpkg"] == "9.9"  # `install` ran in the job's Python
