"""Builders for the temp repos and data the tests run on: real git, real dvc."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def dvc(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"},
    )
    if check:
        assert proc.returncode == 0, f"dvc {' '.join(args)}: {proc.stderr}{proc.stdout}"
    return proc


def init_repo(repo: Path, branch: str = "main") -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", branch)
    git(repo, "config", "user.name", "Test")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "commit.gpgsign", "false")
    git(repo, "config", "tag.gpgsign", "false")
    return repo


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def write_breast_cancer(path: Path) -> None:
    """scikit-learn's breast cancer data (a real data set it ships), as the demo writes it."""
    from sklearn.datasets import load_breast_cancer

    frame = load_breast_cancer(as_frame=True).frame
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


def write_diabetes(path: Path) -> None:
    """scikit-learn's diabetes data: a real regression set."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)


# Our settings, as they go under params.yaml's `mlops:` key (write_params puts them there).
DEMO_PARAMS: dict[str, Any] = {
    "data": {
        "path": "data/breast_cancer.csv",
        "target": "diagnosis",
        "test_size": 0.25,
        "seed": 42,
    },
    "model": {
        "name": "demo-model",
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 20, "max_depth": 4},
    },
    "train": {"mode": "builtin", "metrics": "metrics.json"},
    "cache": {"dir": ".mlops-cache"},  # named: the default is outside the workspace
}


GATES = ["accuracy >= 0.85", "f1 >= base - 0.05", "rows.test >= 100"]


def gated_params(**changes: Any) -> dict[str, Any]:
    """DEMO_PARAMS with GATES and f1 as the primary metric; `section__key=value` overrides."""
    import copy

    params = copy.deepcopy(DEMO_PARAMS)
    params["gates"] = GATES
    params["metrics"] = {"primary": "f1"}
    for key, value in changes.items():
        section, name = key.split("__")
        params[section][name] = value
    return params


def params_file(params: dict[str, Any], own: dict[str, Any] | None = None) -> dict[str, Any]:
    """params.yaml's content: the user's `own` params at the top level, ours under `mlops:`.
    A dict that already has an `mlops` key (or is meant as a whole file) is kept as it is."""
    if "mlops" in params:
        return params
    return {**(own or {}), "mlops": params}


def write_params(repo: Path, params: dict[str, Any], own: dict[str, Any] | None = None) -> None:
    """Write params.yaml with our settings `params` under `mlops:` (see params_file)."""
    text = yaml.safe_dump(params_file(params, own), sort_keys=False)
    (repo / "params.yaml").write_text(text)


def build_demo_repo(base: Path) -> Path:
    """base/repo: a git repo whose data/ is tracked by data.dvc and pushed to base/remote."""
    repo = init_repo(base / "repo")
    write_breast_cancer(repo / "data" / "breast_cancer.csv")
    write_params(repo, DEMO_PARAMS)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "local", "../remote")  # relative to the repo
    dvc(repo, "add", "-q", "data")
    dvc(repo, "push", "-q")
    commit_all(repo, "demo project")
    return repo


def read_outputs(path: Path) -> dict[str, str]:
    """The step outputs in a $GITHUB_OUTPUT file (its `name<<DELIMITER` blocks)."""
    values: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        body = []
        for body_line in lines:
            if body_line == delimiter:
                break
            body.append(body_line)
        values[name] = "\n".join(body)
    return values


def actions_env(
    monkeypatch: Any,
    server: Any,
    runner: Path,
    event_name: str,
    event: dict[str, Any],
    sha: str,
    ref: str,
) -> None:
    """The environment of an Actions run of `event_name` whose GitHub is the fake `server`.

    The event file, $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY are under `runner`.
    """
    import json

    runner.mkdir(exist_ok=True)
    (runner / "event.json").write_text(json.dumps(event))
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(runner / "event.json"),
        "GITHUB_OUTPUT": str(runner / "output"),
        "GITHUB_STEP_SUMMARY": str(runner / "summary.md"),
        "GITHUB_API_URL": server.url,
        "GITHUB_SERVER_URL": server.host_url,
        "GITHUB_REPOSITORY": server.repository,
        "GITHUB_TOKEN": server.token,
        "GITHUB_SHA": sha,
        "GITHUB_REF": ref,
        "GITHUB_RUN_ID": "77",
        "NO_PROXY": "127.0.0.1",
    }.items():
        monkeypatch.setenv(name, value)


def pull_request_env(
    monkeypatch: Any, server: Any, repo: Path, branch: str = "feature"
) -> dict[str, Any]:
    """The environment of a `pull_request` run for HEAD of `repo` (on `branch`) into main,
    against the fake `server`; returns the pull request it opened there."""
    head = git(repo, "rev-parse", "HEAD")
    pull: dict[str, Any] = server.add_pull(branch, "main", head_sha=head)
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }
    ref = f"refs/pull/{pull['number']}/merge"
    actions_env(monkeypatch, server, repo.parent / "runner", "pull_request", event, "f" * 40, ref)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    return pull


def serve_contents(server: Any, repo: Path) -> None:
    """Let the fake GitHub `server` answer the contents API from `repo`, its main branch the
    repository's (pull requests opened after this have it as their base commit)."""
    server.git_dir = repo
    server.refs["refs/heads/main"] = git(repo, "rev-parse", "main")
