"""The report, statuses and tags a run leaves on GitHub, against the fake GitHub server
(every request validated against GitHub's OpenAPI description)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, registry, tag
from mlops_actions.report import markdown
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import GATES, actions_env, commit_all, git, read_outputs, write_params
from tests.helpers import gated_params as _params

MARKER = "<!-- mlops-actions:report id=default -->"


def _push_env(monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path) -> str:
    """A push of the repo's HEAD to main; returns the pushed sha."""
    sha = git(repo, "rev-parse", "HEAD")
    event = {
        "ref": "refs/heads/main",
        "after": sha,
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }
    actions_env(monkeypatch, server, repo.parent / "runner", "push", event, sha, "refs/heads/main")
    return sha


def _pr_env(
    monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path, head_repo: str | None = None
) -> dict[str, Any]:
    head = git(repo, "rev-parse", "HEAD")
    pull = server.add_pull("feature", "main", head_sha=head, head_repo=head_repo)
    event = {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }
    merge = "f" * 40  # GITHUB_SHA of a pull_request event: a merge commit nobody sees
    actions_env(
        monkeypatch,
        server,
        repo.parent / "runner",
        "pull_request",
        event,
        merge,
        f"refs/pull/{pull['number']}/merge",
    )
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    return pull


def _branch(repo: Path, **changes: Any) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    write_params(repo, _params(**changes))
    commit_all(repo, "try another depth")


def _outputs(runner: Path) -> dict[str, str]:
    return read_outputs(runner / "output")


def test_pr_run_posts_one_comment_and_statuses_on_the_head_sha(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _branch(project, model__params={"n_estimators": 20, "max_depth": 2})
    pull = _pr_env(monkeypatch, github_server, project)
    head = pull["head"]["sha"]
    assert cli.main(["run"]) == 0, capsys.readouterr().err

    (comment,) = github_server.issue_comments[pull["number"]]
    body = comment["body"]
    assert body.startswith(MARKER)
    assert "compared with `main`" in body and "| gate " in body and "```mermaid" in body
    assert "model.params.max_depth" in body  # the param this PR changed
    assert "[workflow run: model card and artifacts](" in body and "/actions/runs/77" in body

    statuses = list(reversed(github_server.statuses[head]))  # oldest first
    assert statuses[0]["state"] == "pending" and statuses[0]["context"] == "mlops/gate"
    finals = {s["context"]: s for s in statuses[1:]}
    assert finals["mlops/gate"]["state"] == "success"
    assert finals["mlops/gate: accuracy >= 0.85"]["description"].startswith("accuracy 0.9")
    assert all(s["target_url"].endswith("/actions/runs/77") for s in statuses)
    assert "f" * 40 not in github_server.statuses  # nothing on the merge commit

    outputs = _outputs(project.parent / "runner")
    assert outputs["gates-passed"] == "true"
    assert json.loads(outputs["metrics"])["accuracy"] > 0.85
    assert Path(outputs["report-path"]).read_text() == body
    assert "## Model report" in (project.parent / "runner" / "summary.md").read_text()

    # A re-run updates the same comment: never a second one.
    (project / "model" / "card.json").unlink()
    assert cli.main(["run"]) == 0
    assert len(github_server.issue_comments[pull["number"]]) == 1


def test_failing_gate_is_a_failure_status_with_the_numbers(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _branch(project, model__estimator="sklearn.dummy.DummyClassifier", model__params={})
    pull = _pr_env(monkeypatch, github_server, project)
    assert cli.main(["run"]) == 1
    finals = {s["context"]: s for s in reversed(github_server.statuses[pull["head"]["sha"]])}
    overall = finals["mlops/gate"]
    assert overall["state"] == "failure"
    f1 = finals["mlops/gate: f1 >= base - 0.05"]
    assert f1["state"] == "failure"
    assert "base" in f1["description"] and "<" in f1["description"]
    assert len(f1["description"]) <= 140
    assert _outputs(project.parent / "runner")["gates-passed"] == "false"
    captured = capsys.readouterr()
    assert "gates: " in captured.out and " failed" in captured.out.split("gates: ")[-1]
    assert "error: gate 'f1 >= base - 0.05' failed: " in captured.err


def test_gate_on_an_unknown_metric_is_an_error_status(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    params = _params()
    params["gates"] = [*GATES, "precison >= 0.9"]
    write_params(project, params)
    commit_all(project, "a typo in a gate")  # on main: a pull request is gated by main's rules
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    pull = _pr_env(monkeypatch, github_server, project)
    assert cli.main(["gate"]) == 2
    statuses = github_server.statuses[pull["head"]["sha"]]
    assert statuses[-1]["state"] == "pending"  # the oldest: posted before anything ran
    finals = {s["context"]: s for s in reversed(statuses)}
    assert finals["mlops/gate: precison >= 0.9"]["state"] == "error"
    assert "did you mean 'precision'" in finals["mlops/gate: precison >= 0.9"]["description"]
    assert finals["mlops/gate"]["state"] == "error"
    assert "did you mean 'precision'" in capsys.readouterr().err


def test_two_comment_ids_keep_two_comments_and_many_comments_are_paged(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _branch(project)
    pull = _pr_env(monkeypatch, github_server, project)
    for i in range(120):
        github_server.add_issue_comment(pull["number"], f"chatter {i}")
    for _ in range(2):
        assert cli.main(["report", "--comment", "--comment-id", "nightly"]) == 0
        assert cli.main(["report", "--comment", "--comment-id", "weekly"]) == 0
    ours = [
        c
        for c in github_server.issue_comments[pull["number"]]
        if "mlops-actions:report" in c["body"]
    ]
    assert sorted(c["body"].splitlines()[0] for c in ours) == [
        markdown.marker("nightly"),
        markdown.marker("weekly"),
    ]
    pages = github_server.calls("GET", r"/issues/\d+/comments")
    assert any(r.query.get("page") == ["2"] for r in pages)


def test_push_event_comments_on_the_commit(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = _push_env(monkeypatch, github_server, project)
    assert cli.main(["report", "--comment"]) == 0
    assert cli.main(["report", "--comment"]) == 0
    (comment,) = github_server.commit_comments[sha]
    assert comment["body"].startswith(MARKER)


def test_explicit_pr_number_outside_actions(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pull = github_server.add_pull("feature", "main")
    monkeypatch.setenv("GITHUB_API_URL", github_server.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", github_server.repository)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert (
        cli.main(
            ["report", "--comment", "--pr", str(pull["number"]), "--token", github_server.token]
        )
        == 0
    )
    (comment,) = github_server.issue_comments[pull["number"]]
    assert "## Model report" in comment["body"]


def test_fork_pr_falls_back_to_the_job_summary(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _branch(project)
    pull = _pr_env(monkeypatch, github_server, project, head_repo="someone/demo-fork")
    github_server.script("POST", r"/issues/\d+/comments", Answer.forbidden())
    assert cli.main(["report", "--comment"]) == 0
    captured = capsys.readouterr()
    assert "a pull request from a fork gets a read-only token" in captured.out + captured.err
    assert pull["number"] not in github_server.issue_comments
    assert "## Model report" in (project.parent / "runner" / "summary.md").read_text()


def test_report_over_the_comment_limit_is_cut_and_complete_in_the_summary(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    _branch(project)
    metrics = json.loads((project / "metrics.json").read_text())
    metrics["per_class"] = {f"label_{i:04d}": {"f1": 0.5 + i / 1e5} for i in range(2500)}
    (project / "metrics.json").write_text(json.dumps(metrics))
    pull = _pr_env(monkeypatch, github_server, project)
    assert cli.main(["report", "--comment", "--summary"]) == 0
    (comment,) = github_server.issue_comments[pull["number"]]
    assert len(comment["body"]) <= markdown.COMMENT_LIMIT
    assert "the full report is in the job summary" in comment["body"]
    summary = (project.parent / "runner" / "summary.md").read_text()
    assert "label_2499" in summary and "label_2499" not in comment["body"]


def test_push_to_main_promotes_through_the_api(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sha = _push_env(monkeypatch, github_server, project)
    monkeypatch.setenv("MLOPS_STAGE", "prod")
    assert cli.main(["run"]) == 0, capsys.readouterr().err
    tag_ref = "refs/tags/demo-model@v0.0.1"
    assert tag_ref in github_server.refs
    assert "refs/tags/demo-model#prod#1" in github_server.refs
    obj = github_server.tag_objects[github_server.refs[tag_ref]]
    assert obj["object"]["sha"] == sha
    info = tag.parse_message(obj["message"])
    assert info is not None and info.metrics["f1"] > 0.8
    outputs = _outputs(project.parent / "runner")
    assert (outputs["promoted"], outputs["tag"]) == ("true", "demo-model@v0.0.1")
    # Mirrored locally: the registry sees it at once.
    model = registry.find_model("demo-model", cwd=project)
    assert model is not None and model.latest() is not None
    assert model.stages == {"prod": "v0.0.1"}
    # Nothing new to promote on a second push of the same commit.
    assert cli.main(["run"]) == 0
    assert sorted(r for r in github_server.refs if r.startswith("refs/tags/")) == [
        "refs/tags/demo-model#prod#1",
        tag_ref,
    ]


def test_promotion_race_through_the_api_takes_the_next_version(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run published v0.0.1 after this clone was made: we end up as v0.0.2."""
    sha = git(project, "rev-parse", "HEAD")
    other = github_server.tag_objects  # a tag object made by "another run"
    from mlops_actions.github.client import GitHub

    gh = GitHub(github_server.url, github_server.token, github_server.repository)
    message = tag.format_message(
        tag.registration_subject("demo-model", "v0.0.1"),
        tag.TagInfo(metrics={"f1": 0.5}, primary="f1"),
    )
    obj = gh.create_tag_object("demo-model@v0.0.1", message, "a" * 40)
    gh.create_ref("refs/tags/demo-model@v0.0.1", obj["sha"])
    assert obj["sha"] in other
    actions_env(
        monkeypatch,
        github_server,
        project.parent / "runner",
        "push",
        {
            "ref": "refs/heads/main",
            "after": sha,
            "repository": {"full_name": github_server.repository, "default_branch": "main"},
        },
        sha,
        "refs/heads/main",
    )
    assert cli.main(["promote"]) == 0
    assert (
        github_server.tag_objects[github_server.refs["refs/tags/demo-model@v0.0.2"]]["object"][
            "sha"
        ]
        == sha
    )


def test_release_carries_the_model_and_models_get_fetches_it(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _push_env(monkeypatch, github_server, project)
    model = (project / "model" / "model.skops").read_bytes()
    md5 = hashlib.md5(model).hexdigest()
    assert cli.main(["promote", "--release"]) == 0, capsys.readouterr().err
    (release,) = github_server.releases
    assert release["tag_name"] == "demo-model@v0.0.1"
    assert '"fingerprint"' in release["body"]  # the model card
    (asset,) = release["assets"]
    assert github_server.asset_data[asset["id"]] == model
    # Nothing local left and promote's copy in the DVC remote gone: the release is the only one.
    import shutil

    shutil.rmtree(project / ".mlops-cache")
    shutil.rmtree(project / "model")
    (project.parent / "remote" / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    out = tmp_path / "fetched.skops"
    assert cli.main(["models", "get", "demo-model@v0.0.1", "-o", str(out)]) == 0
    assert out.read_bytes() == model
    assert "from the GitHub release, sha256" in capsys.readouterr().out


def test_fork_pr_run_with_gates_trains_reports_and_exits_by_the_gates(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fork's read-only token can post neither statuses nor comments: warnings, not a failure."""
    _branch(project)
    pull = _pr_env(monkeypatch, github_server, project, head_repo="someone/demo-fork")
    github_server.script("POST", r"/statuses/", Answer.forbidden())
    github_server.script("POST", r"/issues/\d+/comments", Answer.forbidden())
    assert cli.main(["run"]) == 0
    captured = capsys.readouterr()
    assert "cannot post commit statuses (a pull request from a fork" in captured.out + captured.err
    assert "gates: " in captured.out and "failed" not in captured.out.split("gates: ")[-1]
    assert pull["head"]["sha"] not in github_server.statuses
    assert "## Model report" in (project.parent / "runner" / "summary.md").read_text()
    outputs = _outputs(project.parent / "runner")
    assert (outputs["gates-passed"], outputs["promoted"], outputs["tag"]) == ("true", "false", "")


def test_a_shallow_clone_refuses_to_promote(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Versions on commits a depth-1 clone lacks would be invisible: never promote blind."""
    git(project, "commit", "-q", "--allow-empty", "-m", "a second commit")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{project}", str(shallow))
    import shutil

    shutil.copytree(project / "model", shallow / "model")  # what training left there
    monkeypatch.chdir(shallow)
    assert cli.main(["promote"]) == 2
    assert "set `fetch-depth: 0` on actions/checkout" in capsys.readouterr().err
    assert not [r for r in github_server.refs if r.startswith("refs/tags/")]


def test_push_run_reports_against_the_latest_version_and_writes_every_output(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _push_env(monkeypatch, github_server, project)
    assert cli.main(["run"]) == 0, capsys.readouterr().err
    git(project, "commit", "-q", "--allow-empty", "-m", "next")
    monkeypatch.setenv("GITHUB_SHA", git(project, "rev-parse", "HEAD"))
    (project.parent / "runner" / "output").unlink()
    assert cli.main(["run"]) == 0
    outputs = _outputs(project.parent / "runner")
    assert set(outputs) >= {
        "metrics",
        "gates",
        "gates-passed",
        "promoted",
        "version",
        "tag",
        "report-path",
    }
    assert outputs["promoted"] == "false"  # the same model does not beat itself
    assert "compared with `demo-model@v0.0.1`" in Path(outputs["report-path"]).read_text()
