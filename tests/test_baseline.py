"""The baseline a comparison reads: a named ref, the PR's base branch or the default branch,
fetched from origin when the clone lacks it; a registry tag when the base has no metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.compare import baseline, comparison
from tests.comparing import PARAMS, compare_json, main_repo, make_repo, run, write
from tests.helpers import commit_all, git, init_repo


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """main: params.yaml and metrics.json committed; the test runs on branch pr."""
    return main_repo(tmp_path, monkeypatch)


def test_no_commits_means_no_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    init_repo(tmp_path / "repo")
    write(tmp_path / "repo", {"params.yaml": PARAMS, "metrics.json": {"accuracy": 0.9}})
    monkeypatch.chdir(tmp_path / "repo")
    code, out, _ = run(capsys)
    assert code == 0
    assert out.startswith("No baseline: no main, master or origin/HEAD branch found;")
    assert "accuracy  0.9" in out
    # The JSON is DVC's: `dvc metrics diff --json` prints {} in a repository with no commits.
    assert compare_json(capsys) == {"metrics": {}, "params": {}}


def test_base_branch_without_metrics_means_no_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(tmp_path / "repo", {"params.yaml": PARAMS})
    write(repo, {"metrics.json": {"accuracy": 0.9}})
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys)
    assert code == 0
    sha = git(repo, "rev-parse", "--short=7", "main")
    assert out.splitlines()[0] == (
        f"No baseline metrics: main ({sha}) has no committed metrics.json; "
        "showing the current metrics alone."
    )
    assert "Metric    Value" in out


def test_fallback_supplies_metrics_when_the_base_has_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo", {"params.yaml": PARAMS})
    tagged = commit_all(repo, "promoted model")
    write(repo, {"metrics.json": {"accuracy": 0.9}})
    monkeypatch.chdir(repo)
    tag = baseline.Baseline("tag", "demo@v1.0.0", tagged, "demo@v1.0.0 (promoted)")

    def latest_tag() -> baseline.BaselineMetrics:
        return baseline.BaselineMetrics(tag, {"metrics.json": {"accuracy": 0.8}})

    result = comparison.compare(fallback=latest_tag)
    assert result.baseline == tag
    assert result.to_json()["metrics"] == {
        "metrics.json": {"accuracy": {"old": 0.8, "new": 0.9, "diff": 0.9 - 0.8}}
    }
    assert result.notes == [
        f"main ({git(repo, 'rev-parse', '--short=7', 'main')}) has no committed metrics.json; "
        "metrics are compared against demo@v1.0.0 (promoted)"
    ]


def test_explicit_base_reads_the_files_committed_there(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = git(repo, "rev-parse", "HEAD")
    write(repo, {"metrics.json": {"accuracy": 0.7}})
    commit_all(repo, "worse")
    git(repo, "tag", "v1")
    write(repo, {"metrics.json": {"accuracy": 0.8}})
    assert compare_json(capsys, "--base", "v1")["metrics"]["metrics.json"]["accuracy"] == {
        "old": 0.7,
        "new": 0.8,
        "diff": 0.8 - 0.7,
    }
    assert compare_json(capsys, "--base", first[:10])["metrics"]["metrics.json"]["accuracy"] == {
        "old": 0.9,
        "new": 0.8,
        "diff": 0.8 - 0.9,
    }


def test_unknown_base_is_one_line_error_with_a_hint(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--base", "nope")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: --base nope: no such branch, tag or commit here")
    assert "fetch-depth: 0" in err


@pytest.mark.parametrize("default", ["main", "master"])
def test_default_branch_is_the_baseline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    default: str,
) -> None:
    repo = make_repo(
        tmp_path / "repo", {"params.yaml": PARAMS, "metrics.json": {"f1": 0.5}}, default
    )
    write(repo, {"metrics.json": {"f1": 0.6}})
    monkeypatch.chdir(repo)
    code, out, _ = run(capsys)
    assert code == 0
    assert out.splitlines()[0].startswith(f"Baseline: {default} (")
    assert ["metrics.json", "f1", "0.5", "0.6", "0.1"] in [
        line.split() for line in out.splitlines()
    ]


def test_origin_head_wins_over_local_main(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = make_repo(tmp_path / "origin", {"params.yaml": PARAMS, "metrics.json": {"f1": 0.5}})
    git(origin, "checkout", "-q", "-b", "trunk")  # the remote's default branch is trunk
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{origin}", str(clone))
    git(clone, "checkout", "-q", "-b", "main")
    write(clone, {"metrics.json": {"f1": 0.4}})
    monkeypatch.chdir(clone)
    code, out, _ = run(capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("Baseline: origin/trunk (")


def test_pull_request_base_ref_from_the_environment(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    git(repo, "checkout", "-q", "-b", "release", "main")
    write(repo, {"metrics.json": {"accuracy": 0.5}})
    commit_all(repo, "release")
    git(repo, "checkout", "-q", "pr")
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    result = compare_json(capsys)
    assert result["metrics"]["metrics.json"]["accuracy"] == {
        "old": 0.5,
        "new": 0.9,
        "diff": 0.9 - 0.5,
    }


def test_shallow_clone_fetches_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    origin = make_repo(tmp_path / "origin", {"params.yaml": PARAMS, "metrics.json": {"auc": 0.7}})
    write(origin, {"metrics.json": {"auc": 0.75}})
    commit_all(origin, "pr work")
    git(origin, "checkout", "-q", "main")
    write(origin, {"metrics.json": {"auc": 0.72}})
    commit_all(origin, "main moved on")
    clone = tmp_path / "clone"
    # actions/checkout's default: one commit of the PR, no base branch.
    git(
        tmp_path,
        "clone",
        "-q",
        "--depth",
        "1",
        "--branch",
        "pr",
        "--single-branch",
        f"file://{origin}",
        str(clone),
    )
    assert git(clone, "branch", "-a", "--list", "*main*") == ""
    monkeypatch.chdir(clone)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    result = compare_json(capsys)
    assert result["metrics"]["metrics.json"]["auc"] == {
        "old": 0.72,
        "new": 0.75,
        "diff": 0.75 - 0.72,
    }
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"

    git(clone, "remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")
    monkeypatch.setenv("GITHUB_BASE_REF", "develop")
    code, _, err = run(capsys)
    assert code == 2
    assert "the pull request's base branch 'develop' is not in this clone" in err
    assert "set `fetch-depth: 0` on actions/checkout" in err
