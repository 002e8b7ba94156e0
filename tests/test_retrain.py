"""Scheduled retraining: data imported with `dvc import-url` changes at its source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops_actions import cli
from tests.fakegithub import FakeGitHub
from tests.helpers import (
    actions_env,
    commit_all,
    dvc,
    gated_params,
    git,
    init_repo,
    write_breast_cancer,
    write_params,
)

DVC_FILE = "data/breast_cancer.csv.dvc"


@pytest.fixture
def imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github_server: FakeGitHub) -> Path:
    source = tmp_path / "source" / "breast_cancer.csv"
    write_breast_cancer(source)
    repo = init_repo(tmp_path / "repo")
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    dvc(repo, "init", "-q")
    dvc(repo, "remote", "add", "-d", "local", str(tmp_path / "dvc-remote"))
    (repo / "data").mkdir()
    dvc(repo, "import-url", str(source), "data/breast_cancer.csv")
    params = gated_params()
    params["data"]["dvc"] = [DVC_FILE]
    write_params(repo, params)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    monkeypatch.chdir(repo)
    assert cli.main(["train"]) == 0
    commit_all(repo, "project with imported data")
    git(repo, "push", "-q", "origin", "HEAD:refs/heads/main")
    actions_env(
        monkeypatch,
        github_server,
        tmp_path / "runner",
        "schedule",
        {"schedule": "0 4 * * 1"},
        git(repo, "rev-parse", "HEAD"),
        "refs/heads/main",
    )
    return repo


def _drop_rows(source: Path, n: int) -> None:
    lines = source.read_text().splitlines(keepends=True)
    source.write_text("".join(lines[:-n]))


def test_unchanged_data_is_one_line_and_no_pull_request(
    imported: Path, github_server: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["run"]) == 0
    out = capsys.readouterr().out
    assert "the data is unchanged" in out and "nothing to retrain" in out
    assert "trained" not in out
    assert github_server.pulls == []
    summary = (imported.parent / "runner" / "summary.md").read_text()
    assert summary.strip().count("\n") == 0


def test_new_data_opens_one_pull_request_and_updates_it(
    imported: Path, github_server: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    source = imported.parent / "source" / "breast_cancer.csv"
    old_hash = yaml.safe_load((imported / DVC_FILE).read_text())["outs"][0]["md5"]
    _drop_rows(source, 40)
    # The fake does not receive git pushes; on GitHub the pushed branch exists for the PR.
    github_server.add_ref("refs/heads/mlops/retrain", "1" * 40)
    assert cli.main(["run"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "new data in data/breast_cancer.csv.dvc: retraining" in out
    (pull,) = github_server.pulls
    assert pull["head"]["ref"] == "mlops/retrain" and pull["base"]["ref"] == "main"
    assert "## Model report" in pull["body"]
    # The branch on origin carries the new .dvc file and the new metrics; main is untouched.
    origin = imported.parent / "origin.git"
    pushed = yaml.safe_load(git(origin, "show", f"mlops/retrain:{DVC_FILE}"))
    assert pushed["outs"][0]["md5"] != old_hash
    assert json.loads(git(origin, "show", "mlops/retrain:metrics.json"))["rows"]["test"] == 133
    assert git(origin, "rev-parse", "mlops/retrain^") == git(origin, "rev-parse", "main")
    assert (
        git(imported, "status", "--porcelain", "--untracked-files=no") != ""
    )  # workspace keeps the new data
    # More new data later: the same pull request is updated, never a second one.
    _drop_rows(source, 40)
    assert cli.main(["run"]) == 0
    assert len(github_server.pulls) == 1
    assert json.loads(git(origin, "show", "mlops/retrain:metrics.json"))["rows"]["test"] == 123


def test_a_dispatch_on_a_feature_branch_never_builds_a_retraining_pull_request(
    imported: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The review bypass: unreviewed commits of a branch pushed into mlops/retrain as the bot."""
    git(imported, "checkout", "-q", "-b", "feature")
    (imported / "backdoor.py").write_text("print('unreviewed')\n")
    commit_all(imported, "unreviewed change")
    _drop_rows(imported.parent / "source" / "breast_cancer.csv", 40)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "workflow_dispatch")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/feature")
    github_server.add_ref("refs/heads/mlops/retrain", "1" * 40)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err
    assert "retraining runs only on the default branch 'main', not refs/heads/feature" in err
    assert github_server.pulls == []
    origin = imported.parent / "origin.git"
    assert git(origin, "branch", "--list", "mlops/retrain") == ""


def test_the_retraining_pull_request_names_its_source_commit(
    imported: Path, github_server: FakeGitHub
) -> None:
    _drop_rows(imported.parent / "source" / "breast_cancer.csv", 40)
    github_server.add_ref("refs/heads/mlops/retrain", "1" * 40)
    assert cli.main(["run"]) == 0
    (pull,) = github_server.pulls
    head = git(imported, "rev-parse", "HEAD")
    assert pull["body"].startswith(f"Retrained from `{head[:7]}` of `main`.")
