"""Recording in Actions: the training job hands the run's files over, the publishing job
writes the experiment through the git data API (the fake GitHub validates every request and
keeps the objects in a real bare repository); forks only when the base opts in."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_actions import cli
from tests.fakegithub import Answer, FakeGitHub
from tests.helpers import actions_env, commit_all, dvc, gated_params, git, write_params
from tests.test_handoff import _pull_request_event, _workflow_run_event

pytestmark = pytest.mark.slow

FORK = "evil/demo"


@pytest.fixture
def pr_head(project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> str:
    """A pull request's head, trained and committed, on the fake GitHub's repository."""
    git(project, "checkout", "-q", "-b", "more-trees")
    write_params(project, gated_params(model__params={"n_estimators": 30, "max_depth": 4}))
    assert cli.main(["train"]) == 0
    head = commit_all(project, "more trees")
    git(project, "push", "-q", str(github_server.bare()), "main", "more-trees")
    monkeypatch.setenv("MLOPS_RECORD", "true")
    return head


def _train(
    project: Path, server: FakeGitHub, monkeypatch: pytest.MonkeyPatch, pull: dict[str, Any]
) -> Path:
    actions_env(
        monkeypatch,
        server,
        project.parent / "train-runner",
        "pull_request",
        _pull_request_event(server, pull),
        pull["head"]["sha"],
        f"refs/pull/{pull['number']}/merge",
    )
    monkeypatch.delenv("GITHUB_TOKEN")
    out = project.parent / "results"
    cli.main(["results", str(out)])
    return out


def _publish(
    tmp_path: Path,
    server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    out: Path,
    event: dict[str, Any] | None = None,
) -> int:
    empty = tmp_path / "publish-job"
    empty.mkdir(exist_ok=True)
    monkeypatch.chdir(empty)
    if event is not None:  # a fork's: the workflow_run job
        actions_env(
            monkeypatch,
            server,
            tmp_path / "publish-runner",
            "workflow_run",
            event,
            server.refs["refs/heads/main"],
            "refs/heads/main",
        )
    else:
        monkeypatch.setenv("GITHUB_TOKEN", server.token)
    return cli.main(["publish", str(out)])


def _exps(server: FakeGitHub) -> dict[str, str]:
    listed = git(server.bare(), "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return dict(line.split() for line in listed.splitlines())


def _trained(project: Path) -> tuple[str, dict[str, str]]:
    """The model file's sha256 and the data version (data.dvc's md5), read from the files
    themselves, not from what mlops-actions wrote about them."""
    model = hashlib.sha256((project / "model" / "model.skops").read_bytes()).hexdigest()
    [out] = yaml.safe_load((project / "data.dvc").read_text())["outs"]
    return model, {out["path"]: out["md5"]}


def _listed(
    server: FakeGitHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(server.bare()), str(clone))
    capsys.readouterr()
    assert cli.main(["runs", "-C", str(clone), "--json"]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def test_the_publishing_job_records_a_pull_request_run(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head)
    out = _train(project, github_server, monkeypatch, pull)
    assert github_server.requests == []  # the training half wrote nothing anywhere
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0
    [ref] = _exps(github_server)
    assert ref == f"refs/exps/{pr_head[:2]}/{pr_head[2:]}/ci-77-1"
    assert git(github_server.bare(), "rev-parse", f"{ref}^1") == pr_head  # never a merge commit
    [run] = _listed(github_server, tmp_path, capsys)
    assert (run["event"], run["pr"], run["status"], run["fork"]) == (
        "pull_request",
        pull["number"],
        "ok",
        False,
    )
    assert run["run_url"].endswith("/actions/runs/77")
    assert run["branch"] == "more-trees"
    assert (run["model_sha256"], run["data"]) == _trained(project)
    assert run["model"] == "demo-model"  # the standing ranks it among this model's runs only
    assert run["outputs"] is None  # built-in training: no DVC-tracked outputs to push
    trained = json.loads((project / "metrics.json").read_text())
    assert run["metrics"]["metrics.json"]["data"]["accuracy"] == trained["accuracy"]
    assert run["params"]["params.yaml"]["data"]["mlops"]["model"]["params"]["n_estimators"] == 30
    [comment] = github_server.issue_comments[pull["number"]]
    assert "recorded runs;" not in comment["body"]  # none recorded before this one


def test_a_forks_run_is_recorded_only_when_the_base_opts_in(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head, head_repo=FORK)
    out = _train(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, pr_head, "more-trees", "evil", [])
    assert _publish(tmp_path, github_server, monkeypatch, out, event) == 0
    assert _exps(github_server) == {}
    said = capsys.readouterr().out
    assert said.count("a fork's pull request; not recorded") == 1 and "::warning" not in said
    assert len(github_server.issue_comments[pull["number"]]) == 1  # the report still posted
    # The fork's job claims its DVC outputs are on the remote: it has no credentials to push.
    handed = json.loads((out / "experiment.json").read_text())
    (out / "experiment.json").write_text(json.dumps({**handed, "outputs": "pushed"}))
    monkeypatch.setenv("MLOPS_RECORD_FORKS", "true")
    assert _publish(tmp_path, github_server, monkeypatch, out, event) == 0
    [(ref, commit)] = _exps(github_server).items()
    assert ref == f"refs/exps/{pr_head[:2]}/{pr_head[2:]}/ci-991-1"
    assert git(github_server.bare(), "rev-parse", f"{commit}^1") == pr_head  # the fork's head
    [run] = _listed(github_server, tmp_path, capsys)
    assert (run["name"], run["fork"], run["pr"]) == ("ci-991-1", True, pull["number"])
    assert (run["model_sha256"], run["data"]) == _trained(project)
    assert run["outputs"] == "not-pushed"
    assert cli.main(["runs", "-C", str(tmp_path / "teammate"), "show", "ci-991-1"]) == 0
    shown = capsys.readouterr().out
    assert "fork       yes" in shown and "outputs    not on the DVC remote" in shown
    # Real DVC reads the fork's experiment: its params, and the data the record names.
    clone = tmp_path / "teammate"
    git(clone, "checkout", "-q", "main")
    git(clone, "fetch", "-q", "origin", "refs/exps/*:refs/exps/*")
    shown_by_dvc = json.loads(dvc(clone, "exp", "show", "-A", "--json").stdout)
    [exp] = [
        rev
        for commit_ in shown_by_dvc
        if commit_["rev"] == pr_head
        for e in commit_.get("experiments") or []
        for rev in e["revs"]
    ]
    assert exp["name"] == "ci-991-1"
    mlops = exp["data"]["params"]["params.yaml"]["data"]["mlops"]
    assert mlops["model"]["params"]["n_estimators"] == 30
    assert {p: o["hash"] for p, o in exp["data"]["outs"].items()} == run["data"]


def test_a_read_only_token_or_an_existing_ref_is_one_line_and_the_report_still_posts(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head)
    out = _train(project, github_server, monkeypatch, pull)
    github_server.script("POST", r"/git/blobs$", Answer.forbidden())
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0
    said = capsys.readouterr()
    err = said.out + said.err
    assert "GitHub refused to write experiment ci-77-1 (403)" in err and "contents: write" in err
    assert _exps(github_server) == {}
    assert len(github_server.issue_comments[pull["number"]]) == 1
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0
    before = _exps(github_server)
    assert len(before) == 1
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0  # a rerun of the same job
    assert "experiment ci-77-1 already exists" in capsys.readouterr().out
    assert _exps(github_server) == before


def test_a_failed_run_is_recorded_as_failed(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head)
    (project / "metrics.json").unlink()  # what a broken training leaves
    out = _train(project, github_server, monkeypatch, pull)
    assert _publish(tmp_path, github_server, monkeypatch, out) == 2
    [run] = _listed(github_server, tmp_path, capsys)
    assert run["status"] == "failed" and run["run_url"].endswith("/actions/runs/77")


UNSAFE = "is not a safe relative path"


@pytest.mark.parametrize(
    ("forged", "said"),
    [
        ({"files": {"../outside": "eA=="}}, UNSAFE),
        ({"files": {".git/config": "eA=="}}, UNSAFE),
        ({"files": {"/etc/passwd": "eA=="}}, UNSAFE),
        ({"files": {"a//b": "eA=="}}, UNSAFE),
        ({"model_sha256": "ab" * 31 + "a\n"}, "model_sha256: 'abab"),  # not 64 hex digits
    ],
    ids=["parent", "git", "absolute", "empty-part", "model-sha256"],
)
def test_a_forged_hand_off_records_nothing(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    forged: dict[str, Any],
    said: str,
) -> None:
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head)
    out = _train(project, github_server, monkeypatch, pull)
    handed = json.loads((out / "experiment.json").read_text())
    handed["files"].update(forged.pop("files", {}))
    (out / "experiment.json").write_text(json.dumps({**handed, **forged}))
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "not recorded" in x]
    assert said in line and "experiment.json" in line
    assert _exps(github_server) == {} and github_server.calls("POST", r"/git/") == []
    assert len(github_server.issue_comments[pull["number"]]) == 1


def test_the_one_job_run_records_its_pull_request_run(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.helpers import pull_request_env

    pull = pull_request_env(monkeypatch, github_server, project, branch="more-trees")
    cli.main(["run"])
    [(ref, commit)] = _exps(github_server).items()
    assert ref == f"refs/exps/{pr_head[:2]}/{pr_head[2:]}/ci-77-1"
    record = json.loads(git(github_server.bare(), "show", f"{commit}:.mlops/run.json"))
    assert (record["event"], record["pr"], record["status"]) == (
        "pull_request",
        pull["number"],
        "ok",
    )
    assert (record["model_sha256"], record["data"]) == _trained(project)
    assert record["duration"] is not None
    assert len(github_server.issue_comments[pull["number"]]) == 1


def test_the_hand_off_schema_is_a_draft_2020_12_schema_with_its_own_id() -> None:
    import jsonschema

    from mlops_actions import schemas
    from mlops_actions.tracking import ci

    schema = schemas.load("mlops_actions.tracking", ci.SCHEMA_FILE)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"] == ci.SCHEMA_ID == schema["properties"]["schema"]["const"]


def _seed(project: Path, server: FakeGitHub, f1: float) -> None:
    """Runs recorded on the origin (the fake GitHub's repository) by our recorder, around the
    pull request's `f1`: two better (one with a name nobody should render), one worse, a failed
    one, another model's and a fork's (all three better, all three left out)."""
    git(project, "remote", "add", "origin", str(server.bare()))
    base = git(project, "rev-parse", "main")
    runs = [
        ("ci-41-1", 0.02, 41, "demo-model", "ok"),
        ("hostile", 0.01, 43, None, "ok"),
        ("ci-42-1", -0.05, 42, None, "ok"),
        ("ci-50-1", 0.5, 50, None, "failed"),
        ("ci-51-1", 0.4, 51, "other-model", "ok"),
        ("ci-52-1", 0.5, 52, "fork", "ok"),  # a fork's own claim: never ranked
    ]
    for name, delta, pr, model, status in runs:
        _record(project, server, base, name, round(f1 + delta, 4), pr, model, status)
    hostile = f"refs/exps/{base[:2]}/{base[2:]}/hostile"
    git(project, "update-ref", f"{hostile[: -len('hostile')]}<img>@team", hostile)
    git(project, "update-ref", "-d", hostile)
    git(project, "push", "-q", "origin", "refs/exps/*:refs/exps/*")
    for ref in _exps(server):
        git(project, "update-ref", "-d", ref)  # a fresh clone has none of them


def _record(
    project: Path,
    server: FakeGitHub,
    base: str,
    name: str,
    f1: float,
    pr: int,
    model: str | None,
    status: str = "ok",
    attempt: int = 1,
) -> None:
    from mlops_actions.tracking import localgit, runrecord

    metrics = json.loads(git(project, "show", "main:metrics.json"))
    files = {"metrics.json": json.dumps({**metrics, "f1": f1}).encode()}
    url = f"{server.host_url}/{server.repository}/actions/runs/{pr}"
    url += f"/attempts/{attempt}" if attempt > 1 else ""
    fork = model == "fork"
    record = runrecord.RunRecord(
        "pull_request",
        status,
        pr,
        run_url=url,
        model=None if fork else model,
        fork=fork,
        created=runrecord.now(),
    )
    localgit.write(project, base, name, files, record)


def test_the_report_places_the_run_among_the_recorded_runs_of_its_model(
    project: Path,
    pr_head: str,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    from tests.helpers import pull_request_env
    from tests.markdown import to_html

    f1 = json.loads((project / "metrics.json").read_text())["f1"]
    _seed(project, github_server, f1)
    best = f"best {round(f1 + 0.02, 4):.4g} in <code>ci-41-1</code> (PR #\u206041)"
    # Two jobs: the training job reads the refs, the publishing job posts the line.
    pull = github_server.add_pull("more-trees", "main", head_sha=pr_head)
    out = _train(project, github_server, monkeypatch, pull)
    assert _publish(tmp_path, github_server, monkeypatch, out) == 0
    [comment] = github_server.issue_comments[pull["number"]]
    body = comment["body"]
    line = f"<code>f1</code> {f1:.4g}: 3rd of 4 recorded runs; {best}"
    assert f"<details><summary>{line}</summary>" in body
    top = body[body.index(line) :]
    top = top[: top.index("</details>")]
    assert top.splitlines()[4:-1] == [
        f"| 1 | `ci-41-1` | #\u206041 | {round(f1 + 0.02, 4):.4g} |",
        f"| 2 | `<img>@team` | #\u206043 | {round(f1 + 0.01, 4):.4g} |",
        f"| 3 | **this run** | — | {f1:.4g} |",  # this run at its place in the five
        f"| 4 | `ci-42-1` | #\u206042 | {round(f1 - 0.05, 4):.4g} |",
    ]
    shown = to_html(body)
    assert "<img" not in shown and "<td><code>&lt;img&gt;@team</code></td>" in shown
    summary = (project.parent / "train-runner" / "summary.md").read_text()
    assert f"<details open><summary>{line}</summary>" in summary
    # One job, a later run's second attempt: the run the publishing job recorded (ci-77-1)
    # counts too; the first attempt of this run (ci-78-1, the same model) does not.
    base = git(project, "rev-parse", "main")
    _record(project, github_server, base, "ci-78-1", round(f1 + 0.3, 4), 78, "demo-model")
    git(project, "push", "-q", "origin", "refs/exps/*:refs/exps/*")
    for ref in _exps(github_server):
        git(project, "update-ref", "-d", ref)
    monkeypatch.chdir(project)
    pull = pull_request_env(monkeypatch, github_server, project, branch="more-trees")
    monkeypatch.setenv("GITHUB_RUN_ID", "78")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "2")
    cli.main(["run"])
    [comment] = github_server.issue_comments[pull["number"]]
    assert f"<code>f1</code> {f1:.4g}: 3rd of 5 recorded runs; {best}" in comment["body"]
