"""The run cache is never trusted from the repository: a forged entry must not pass a model."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from mlops_actions.config import settings
from tests.fakegithub import FakeGitHub
from tests.helpers import actions_env, commit_all, gated_params, git, pull_request_env, write_params

FORGED = {"accuracy": 0.999, "f1": 0.999}


def _weak(**cache: Any) -> dict[str, Any]:
    """A model that fails two gates (accuracy >= 0.85, f1 >= base - 0.05)."""
    params = gated_params()
    params["model"] = {"name": "demo-model", "estimator": "sklearn.dummy.DummyClassifier"}
    params["model"]["params"] = {"strategy": "uniform", "random_state": 0}
    params.pop("cache")
    if cache:
        params["cache"] = cache
    return params


def _forge(repo: Path, search: Path) -> Path:
    """Train honestly, then rewrite the entry the run left (wherever the cache is) so that it
    claims accuracy 0.999: what anyone who can write the directory can do. Returns it."""
    assert cli.main(["train"]) == 0
    entry = max(search.rglob("runs/*/entry.json"), key=lambda p: p.stat().st_mtime_ns)
    manifest = json.loads(entry.read_text())
    metrics_file = entry.parent / manifest["files"]["metrics"]["name"]
    metrics = {**json.loads(metrics_file.read_text()), **FORGED}
    metrics_file.write_text(json.dumps(metrics))
    manifest["files"]["metrics"]["sha256"] = hashlib.sha256(metrics_file.read_bytes()).hexdigest()
    entry.write_text(json.dumps(manifest))
    for name in ("metrics.json", "model", "confusion_matrix.json"):
        path = repo / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return entry.parent


def _commit_forged_entry(repo: Path, search: Path) -> None:
    entry = _forge(repo, search)
    committed = repo / ".mlops-cache" / "runs" / entry.name
    if entry != committed:
        committed.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(entry, committed)
    git(repo, "add", "-f", ".mlops-cache")
    commit_all(repo, "a change, and a run cache entry")


def _pr_env(monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path) -> None:
    pull_request_env(monkeypatch, server, repo)


def test_a_forged_entry_committed_with_git_add_f_does_not_pass_the_gates(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The attack: `.mlops-cache/runs/<key>/` committed by force in a pull request turned a
    model with two failing gates into "gates passed", accuracy 0.999."""
    git(project, "checkout", "-q", "-b", "feature")
    write_params(project, _weak())
    _commit_forged_entry(project, project.parent.parent)
    capsys.readouterr()
    _pr_env(monkeypatch, github_server, project)
    assert cli.main(["run"]) == 1
    out = capsys.readouterr().out
    assert "cache hit" not in out
    metrics = json.loads((project / "metrics.json").read_text())
    assert metrics["accuracy"] < 0.85
    head = git(project, "rev-parse", "HEAD")
    (status,) = [s for s in github_server.statuses[head] if s["context"] == "mlops/gate"][:1]
    assert status["state"] == "failure"
    (comment,) = github_server.issue_comments[1]
    assert "gates failed" in comment["body"] and "0.999" not in comment["body"]


def test_a_named_cache_directory_holding_tracked_files_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    write_params(project, _weak(dir=".mlops-cache"))
    _commit_forged_entry(project, project)
    capsys.readouterr()
    assert cli.main(["train"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: params.yaml: mlops.cache.dir: ")
    assert "tracked by git" in err[0] and ".mlops-cache/runs/" in err[0]
    assert not (project / "metrics.json").exists()


def test_the_default_run_cache_is_outside_the_workspace(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    write_params(project, _weak())
    cfg = settings.load("params.yaml")
    assert cfg.cache.dir is None
    assert cfg.cache_dir.is_relative_to(tmp_path / "user-cache" / "mlops-actions")
    assert project.resolve() not in cfg.cache_dir.parents
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path / "runner-temp"))
    assert (
        settings.load("params.yaml").cache_dir.parent == tmp_path / "runner-temp" / "mlops-actions"
    )
    explicit = copy.deepcopy(_weak(dir="../elsewhere"))
    write_params(project, explicit)
    assert settings.load("params.yaml").cache_dir.resolve() == (project / "../elsewhere").resolve()


def test_promote_never_rests_on_a_cache_entry(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An entry planted in the cache directory (e.g. a poisoned cache restore): `train` is a
    hit, and `promote` used to tag the forged 0.999 model."""
    write_params(project, _weak())
    commit_all(project, "a weaker model")
    _forge(project, project.parent.parent)
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out
    assert cli.main(["promote"]) == 0
    out = capsys.readouterr().out
    assert "not promoted: the model was restored from the run cache" in out
    assert git(project, "tag", "--list") == ""


def test_a_push_that_may_promote_trains_instead_of_reading_the_cache(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_params(project, _weak())
    sha = commit_all(project, "a weaker model")
    _forge(project, project.parent.parent)
    capsys.readouterr()
    event = {
        "ref": "refs/heads/main",
        "after": sha,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    runner = project.parent / "runner"
    actions_env(monkeypatch, github_server, runner, "push", event, sha, "refs/heads/main")
    assert cli.main(["run"]) == 1
    out = capsys.readouterr().out
    assert "cache hit" not in out and "not promoted" in out
    assert json.loads((project / "metrics.json").read_text())["accuracy"] < 0.85
    assert github_server.calls("POST", r"/git/(tags|refs)") == []
