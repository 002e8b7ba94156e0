"""Attacks from the security review, each reproduced: none of them may work."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions import cli
from tests.fakegithub import FakeGitHub
from tests.helpers import actions_env, commit_all, git


@pytest.mark.parametrize(
    "argv",
    [["compare", "--json"], ["models", "--json"], ["pull"]],
    ids=["compare-json", "models-json", "pull"],
)
def test_no_stream_carries_the_token(project: Path, argv: list[str]) -> None:
    """`compare --json 2> f`, `models --json > f 2>&1`, `pull | tee log`: the raw token (or its
    base64 `x-access-token:` form) is in none of them, not even as an `::add-mask::` command."""
    token = "ghs_" + "Tok3n" * 8
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": token,
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_actions", *argv],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    both = proc.stdout + proc.stderr
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert token not in both
    assert basic not in both
    assert "::add-mask::" not in both


def test_pull_request_target_running_the_head_is_refused(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A maintainer switching to pull_request_target to get statuses on fork PRs would train
    the fork's code next to a write token; the CLI used to accept it silently."""
    git(project, "checkout", "-q", "-b", "fork-change")
    commit_all(project, "a fork's change")
    head = git(project, "rev-parse", "HEAD")
    pull = github_server.add_pull("fork-change", "main", head_sha=head, head_repo="evil/demo")
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    runner = project.parent / "runner"
    actions_env(
        monkeypatch, github_server, runner, "pull_request_target", event, head, "refs/heads/main"
    )
    assert cli.main(["run"]) == 2
    captured = capsys.readouterr()
    assert "pull_request_target with the pull request's code checked out" in captured.err
    assert "mlops.gate_options.allow_pull_request_target" in captured.err
    assert "trained" not in captured.out and "cache hit" not in captured.out
    assert github_server.calls("POST") == []


def test_a_dvc_package_in_the_checkout_does_not_stand_in_for_dvc(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m dvc` from the project directory imported a committed `dvc/__main__.py`."""
    fake = demo_repo / "dvc"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        "import pathlib; pathlib.Path('PWNED').write_text('x'); raise SystemExit(0)\n"
    )
    (demo_repo / "data" / "breast_cancer.csv").unlink()
    assert cli.main(["pull"]) == 0
    assert not (demo_repo / "PWNED").exists()
    assert (demo_repo / "data" / "breast_cancer.csv").is_file()


def test_a_strangers_comment_with_the_marker_is_left_alone(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Editing it would show our report under the stranger's name, for them to rewrite."""
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    head = git(project, "rev-parse", "HEAD")
    pull = github_server.add_pull("feature", "main", head_sha=head)
    forged = "gates passed, trust me\n<!-- mlops-actions:report id=default -->"
    github_server.add_issue_comment(pull["number"], forged, user="mallory")
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": github_server.repository, "default_branch": "main"},
    }
    runner = project.parent / "runner"
    merge = "f" * 40
    actions_env(
        monkeypatch, github_server, runner, "pull_request", event, merge, "refs/pull/1/merge"
    )
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    assert cli.main(["run"]) == 0
    comments = github_server.issue_comments[pull["number"]]
    assert [c["user"]["login"] for c in comments] == ["mallory", "github-actions[bot]"]
    assert comments[0]["body"] == forged
    assert "## Model report" in comments[1]["body"]
    assert cli.main(["run"]) == 0  # the next run updates ours, still not theirs
    assert len(github_server.issue_comments[pull["number"]]) == 2
    assert github_server.issue_comments[pull["number"]][0]["body"] == forged


def test_a_release_asset_name_never_forms_a_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The asset's name is the uploader's text: `../../x` must not write outside a temp dir."""
    from mlops_actions.registry.sources import ReleaseSource

    class Releases:  # the two calls ReleaseSource makes, answering as GitHub would
        def get_release_by_tag(self, tag: str) -> dict[str, object]:
            return {"assets": [{"id": 7, "name": "../../escaped.skops", "size": 5}]}

        def download_release_asset(self, asset_id: int) -> bytes:
            return b"model"

    workdir = tmp_path / "a" / "b"
    workdir.mkdir(parents=True)
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("TMPDIR", str(workdir))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    version = type("V", (), {"tag": "m@v1.0.0"})()
    source = ReleaseSource(Releases())  # type: ignore[arg-type]
    paths = [p.name for p in source.candidates(version, "0" * 64)]  # type: ignore[arg-type]
    assert paths == ["asset"]
    assert not list(tmp_path.rglob("escaped.skops"))
