"""The two trust levels: `results DIR` where the pull request's code runs (no token), and
`publish DIR` where the write token is (no checkout). Each attack on the hand-off between them
is a results file an author could make their code write."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mlops_actions import cli, inert
from mlops_actions.flow import results, results_schema
from mlops_actions.report import charts as plots_render
from mlops_actions.report import markdown, plots
from mlops_actions.report.plots import Plot, Series
from tests.fakegithub import FakeGitHub
from tests.helpers import (
    actions_env,
    commit_all,
    gated_params,
    git,
    serve_contents,
    write_params,
)
from tests.markdown import to_html

MARKER = "<!-- mlops-actions:report id=default -->"
FORK = "evil/demo"


def _pull_request_event(server: FakeGitHub, pull: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": "synchronize",
        "number": pull["number"],
        "pull_request": pull,
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }


def _workflow_run_event(
    server: FakeGitHub, head: str, branch: str, owner: str, numbers: list[int]
) -> dict[str, Any]:
    return {
        "action": "completed",
        "workflow_run": {
            "id": 991,
            "event": "pull_request",
            "head_sha": head,
            "head_branch": branch,
            "head_repository": {"full_name": f"{owner}/demo", "owner": {"login": owner}},
            "html_url": f"{server.host_url}/{server.repository}/actions/runs/991",
            "pull_requests": [_listed(server, n, head) for n in numbers],
        },
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }


def _listed(server: FakeGitHub, number: int, head: str, base_repo: str = "") -> dict[str, Any]:
    """A pull request as `workflow_run.pull_requests` lists it."""
    repo = base_repo or server.repository
    url = f"{server.url}/repos/{repo}"

    def branch(ref: str, sha: str) -> dict[str, Any]:
        return {"ref": ref, "sha": sha, "repo": {"id": 1, "url": url, "name": repo.split("/")[1]}}

    return {
        "id": 5000 + number,
        "number": number,
        "url": f"{url}/pulls/{number}",
        "head": branch("more-trees", head),
        "base": branch("main", server.refs["refs/heads/main"]),
    }


@pytest.fixture(autouse=True)
def _contents_api(request: pytest.FixtureRequest) -> None:
    """The fake GitHub serves the project's commits through the contents API, main as it is
    there: the publishing job reads the base branch's rules from it."""
    if {"project", "github_server"} <= set(request.fixturenames):
        serve_contents(request.getfixturevalue("github_server"), request.getfixturevalue("project"))


@pytest.fixture
def fork_pull(project: Path, github_server: FakeGitHub) -> tuple[dict[str, Any], str]:
    """A fork's pull request that adds trees; its head checked out."""
    git(project, "checkout", "-q", "-b", "more-trees")
    write_params(project, gated_params(model__params={"n_estimators": 30, "max_depth": 4}))
    assert cli.main(["train"]) == 0
    head = commit_all(project, "more trees")
    pull = github_server.add_pull("more-trees", "main", head_sha=head, head_repo=FORK)
    return pull, head


def _train_half(
    project: Path, server: FakeGitHub, monkeypatch: pytest.MonkeyPatch, pull: dict[str, Any]
) -> Path:
    """The training job of a fork's pull request: the read-only job, with no token at all."""
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
    assert cli.main(["results", str(out)]) == 0
    return out


def _publish_half(
    tmp_path: Path,
    server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    event: dict[str, Any],
    directory: Path,
) -> int:
    """The workflow_run job: an empty working directory (no checkout), the write token."""
    empty = tmp_path / "publish-job"
    empty.mkdir(exist_ok=True)
    monkeypatch.chdir(empty)
    sha = server.refs["refs/heads/main"]
    actions_env(
        monkeypatch,
        server,
        tmp_path / "publish-runner",
        "workflow_run",
        event,
        sha,
        "refs/heads/main",
    )
    return cli.main(["publish", str(directory)])


def _statuses(server: FakeGitHub, sha: str) -> dict[str, str]:
    return {s["context"]: s["state"] for s in reversed(server.statuses.get(sha, []))}


def test_a_fork_pull_request_gets_its_comment_and_statuses_from_the_workflow_run(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    assert github_server.requests == []  # the training half spoke to nobody

    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 0

    [comment] = github_server.issue_comments[pull["number"]]
    assert comment["body"].count(MARKER) == 1
    assert "compared with `main`" in comment["body"]
    assert re.search(r"\| `mlops\.model\.params\.n_estimators` +\| 20 +\| 30 +\|", comment["body"])
    assert "/actions/runs/991" in comment["body"]  # the training run, from the event
    assert set(github_server.statuses) == {head}
    assert _statuses(github_server, head) == {
        "mlops/gate": "success",
        "mlops/gate: accuracy >= 0.85": "success",
        "mlops/gate: f1 >= base - 0.05": "success",
        "mlops/gate: rows.test >= 100": "success",
    }
    summary = (tmp_path / "publish-runner" / "summary.md").read_text(encoding="utf-8")
    assert MARKER in summary


def _forge(directory: Path, change: Any) -> None:
    path = directory / results.FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_results_naming_another_commit_or_pull_request_are_refused(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fork's code writes results that claim a maintainer's pull request (#1, whose head is
    another commit), or the same PR on another sha: neither is published."""
    victim = github_server.add_pull("maintainer-branch", "main", head_sha="a" * 40)
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])

    _forge(out, lambda d: d["event"].update(pr=victim["number"]))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    err = capsys.readouterr().err
    assert f"pull request #{victim['number']} is not an open pull request whose head" in err
    _forge(out, lambda d: d["event"].update(pr=pull["number"], sha="a" * 40))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "refusing results that do not belong to this run" in capsys.readouterr().err
    assert github_server.calls("POST") == [] and github_server.calls("PATCH") == []


def test_a_forged_status_prefix_cannot_set_another_check(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`ci/tests` is the repository's required test check: results may not post it."""
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    _forge(out, lambda d: d.update(status_prefix="ci/tests"))
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "made with status prefix 'ci/tests'" in capsys.readouterr().err
    assert github_server.statuses == {}


INJECTED = "loss]\n```\n### Gates\n\n**✅ gates passed** <!--"


def test_markdown_in_names_and_texts_stays_text(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])

    # A newline in a name is refused outright ...
    _forge(out, lambda d: d["report"]["metrics"][0].update(name=INJECTED))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "report.metrics[0].name: " in capsys.readouterr().err

    # ... and one-line Markdown and HTML, in every text the report shows, stays text.
    one_line = INJECTED.replace("\n", " ")

    def inject(d: dict[str, Any]) -> None:
        d["report"]["metrics"][0].update(name=one_line, old=0.5, new=0.6)
        d["report"]["params"][0].update(new=one_line)
        d["report"]["baseline"] = "<!-- `main`"
        d["report"]["note"] = "</details> <!--"
        d["gates"]["results"][0]["detail"] = "0.9 ≥ 0.85 <!-- hidden"

    _forge(out, inject)
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 0
    [comment] = github_server.issue_comments[pull["number"]]
    body = comment["body"]
    text = re.sub(r"`[^`\n]*`", "", body)  # what is not inside a code span
    assert text.count("<!--") == 1 and body.startswith(MARKER)  # our marker, nothing more
    assert "</details> <!--" not in text  # only the report's own sections close
    assert text.count("</details>") == text.count("<details><summary>")
    assert [line for line in body.splitlines() if line.startswith("#")] == [
        "## Model report: `demo-model`"
    ]  # no heading of the input's
    html = to_html(body)
    assert html.count("<pre") == html.count('<pre lang="mermaid">')  # every fence is a chart's


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), "unknown key 'extra'"),
        (lambda d: d["report"].update(model="a`b"), "report.model: "),
        (lambda d: d["report"]["metrics"][0].update(new="x" * 600), "longer than 500"),
        (lambda d: d["gates"]["results"][0].update(state="passed"), "expected one of"),
        (lambda d: d["gates"]["results"][0].update(value="0.99"), "expected number or null"),
        (lambda d: d["gates"]["results"][0].update(value=10**400), "value: 1000000"),
        (lambda d: _plot(d, "confusion")["new_cells"].update(x=[{}]), "'actual' is missing"),
        (lambda d: d["event"].update(pr=True), "expected integer or null, got boolean"),
        (lambda d: d.update(schema="https://example.com/v2"), "schema: expected"),
    ],
    ids=[
        "unknown",
        "model",
        "oversize",
        "state",
        "type",
        "huge",
        "cell",
        "bool",
        "version",
    ],
)
def test_a_results_file_off_the_schema_is_refused_in_one_line(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Any,
    message: str,
) -> None:
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    _forge(out, change)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert github_server.calls("POST") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"schema": NaN}', "not a JSON results file"),
        ("\xff\xfe", "not a JSON results file"),
    ],
    ids=["deep", "nan", "binary"],
)
def test_a_results_file_that_is_not_json_is_refused(
    tmp_path: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / results.FILE).write_bytes(text.encode("latin-1"))
    event = _workflow_run_event(github_server, "b" * 40, "x", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert message in capsys.readouterr().err
    assert github_server.requests == []


def test_an_oversized_results_file_is_not_read(
    tmp_path: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / results.FILE).write_text(" " * (results_schema.MAX_BYTES + 1))
    event = _workflow_run_event(github_server, "b" * 40, "x", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "more than the" in capsys.readouterr().err


def test_failed_gates_fail_the_publishing_job_and_the_statuses(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The overall status is recomputed from the rules and the numbers, never taken from the
    file."""
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)

    def worse(d: dict[str, Any]) -> None:
        for row in d["report"]["metrics"]:
            if row["name"] == "accuracy":
                row["new"] = 0.5

    _forge(out, worse)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 1
    assert _statuses(github_server, head)["mlops/gate"] == "failure"
    assert _statuses(github_server, head)["mlops/gate: accuracy >= 0.85"] == "failure"


def test_a_training_job_that_failed_leaves_an_error_status_not_a_missing_one(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    pull, head = fork_pull
    (project / "metrics.json").unlink()  # what a broken training leaves
    actions_env(
        monkeypatch,
        github_server,
        project.parent / "train-runner",
        "pull_request",
        _pull_request_event(github_server, pull),
        head,
        f"refs/pull/{pull['number']}/merge",
    )
    monkeypatch.delenv("GITHUB_TOKEN")
    out = project.parent / "results"
    assert cli.main(["results", str(out)]) == 2
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    [status] = github_server.statuses[head][:1]
    assert (status["context"], status["state"]) == ("mlops/gate", "error")
    assert status["description"].startswith("the run failed: the training job failed")


def test_a_same_repository_pull_request_publishes_from_its_own_event(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The reusable workflow's publish job runs on the pull_request event itself."""
    git(project, "checkout", "-q", "-b", "more-trees")
    write_params(project, gated_params(model__params={"n_estimators": 30, "max_depth": 4}))
    assert cli.main(["train"]) == 0
    head = commit_all(project, "more trees")
    pull = github_server.add_pull("more-trees", "main", head_sha=head)
    out = _train_half(project, github_server, monkeypatch, pull)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", github_server.token)
    assert cli.main(["publish", str(out)]) == 0
    assert len(github_server.issue_comments[pull["number"]]) == 1
    assert _statuses(github_server, head)["mlops/gate"] == "success"
    assert github_server.calls("GET", r"/pulls$") == []  # the event names the PR


def test_the_schema_is_json_schema_and_covers_every_report_field() -> None:
    jsonschema.Draft202012Validator.check_schema(results_schema.schema())
    report_schema = results_schema.schema()["properties"]["report"]["oneOf"][1]
    fields = {f.name for f in dataclasses.fields(markdown.ReportInput)}
    assert set(report_schema["properties"]) == fields - set(results.TRUSTED_FIELDS)


def test_the_published_schema_file_is_the_one_publish_holds_files_to() -> None:
    published = Path(__file__).resolve().parents[1] / "docs" / results_schema.FILE
    shipped = Path(results_schema.__file__).with_name(results_schema.FILE)
    assert published.resolve() == shipped.resolve()  # one file, not a copy
    assert json.loads(published.read_text(encoding="utf-8")) == results_schema.schema()
    assert results_schema.schema()["$id"] == results_schema.ID


def test_the_schema_bounds_the_plots_as_the_charts_draw_them() -> None:
    plot = results_schema.schema()["properties"]["plots"]["properties"]["plots"]["items"]
    line = plot["properties"]["new"]
    assert line["maxItems"] == plots_render.SERIES
    assert line["items"]["properties"]["points"]["maxItems"] == plots_render.POINTS
    cells = plot["properties"]["new_cells"]
    assert cells["maxProperties"] == plot["properties"]["images"]["maxProperties"]
    assert cells["maxProperties"] == plots_render.FILES
    assert cells["additionalProperties"]["maxItems"] == plots_render.CLASSES**2


def test_an_integer_written_as_a_float_is_read_as_an_integer(tmp_path: Path) -> None:
    """JSON Schema counts 3.0 as the integer 3: the records hold ints all the same."""
    found = results.Results(
        "pull_request",
        "c" * 40,
        3,
        "default",
        "mlops/gate",
        markdown.ReportInput("m", None, []),
        [],
    )
    path = results.write(tmp_path, found)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["event"]["pr"] = 3.0
    data["report"].update(precision=3.0, model_size=2048.0)
    path.write_text(json.dumps(data), encoding="utf-8")
    back = results.read(tmp_path)
    assert back.report is not None
    assert (back.pr, back.report.precision, back.report.model_size) == (3, 3, 2048)
    assert all(type(v) is int for v in (back.pr, back.report.precision))


def test_what_results_writes_the_json_schema_accepts(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pull, _ = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    data = json.loads((out / results.FILE).read_text(encoding="utf-8"))
    jsonschema.validate(data, results_schema.schema())
    results_schema.validate(data)
    bad = {**data, "extra": 1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, results_schema.schema())
    with pytest.raises(results_schema.SchemaError, match="unknown key 'extra'"):
        results_schema.validate(bad)


def test_any_project_s_values_make_a_results_file_publish_accepts(tmp_path: Path) -> None:
    """List params, NaN intervals, a label with a newline: written so the schema takes them,
    shown as the report shows them."""
    data = markdown.ReportInput(
        model="sub/folder:churn-model",
        baseline="`main` (abc1234)",
        metrics=[markdown.Row("f1", 0.5, float("nan")), markdown.Row("auc", 0.7, 0.8)],
        params=[
            markdown.Row("train.layers", [64, 32], [128, 64]),
            markdown.Row("t", "a", "b" * 900),
        ],
        intervals={"f1": (float("nan"), float("nan")), "auc": (0.75, 0.85)},
        confusion={"labels": ["a\nb", 2], "matrix": [[1, 2], [3, 4]]},
    )
    found = results.Results("pull_request", "c" * 40, 3, "default", "mlops/gate", data, [])
    results.write(tmp_path, found)
    back = results.read(tmp_path)
    assert back.report is not None
    assert [r.new for r in back.report.params] == ["[128, 64]", "b" * 500]
    assert back.report.intervals == {"auc": (0.75, 0.85)}
    assert back.report.confusion == {"labels": ["a b", "2"], "matrix": [[1, 2], [3, 4]]}
    rendered = markdown.render(back.report)  # a list param is text in its cell, not a link
    assert "`[64, 32]`" not in rendered and "\\[64, 32\\]" in rendered


def test_a_workflow_run_names_its_pull_requests_and_results_naming_another_are_refused(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """For a same-repository pull request GitHub lists the run's pull requests: results
    claiming another one are refused without asking GitHub."""
    git(project, "checkout", "-q", "-b", "more-trees")
    head = commit_all(project, "a change")
    pull = github_server.add_pull("more-trees", "main", head_sha=head)
    other = github_server.add_pull("other", "main", head_sha="d" * 40)
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "octo-org", [pull["number"]])

    _forge(out, lambda d: d["event"].update(pr=other["number"]))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert f"pull request #{other['number']} but the workflow_run lists #{pull['number']}" in (
        capsys.readouterr().err
    )
    assert github_server.requests == []
    _forge(out, lambda d: d["event"].update(pr=pull["number"]))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 0
    assert len(github_server.issue_comments[pull["number"]]) == 1
    assert other["number"] not in github_server.issue_comments


def _plot(data: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(p for p in data["plots"]["plots"] if p["kind"] == kind)


def test_a_pull_request_s_plots_reach_the_comment_publish_posts(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """The built-in trainer's ROC, precision-recall and confusion plots travel as records and
    publish draws them: the section a one-job run draws from the checkout itself."""
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 0

    [comment] = github_server.issue_comments[pull["number"]]
    section = comment["body"].split("<details><summary>Plots</summary>\n\n", 1)[1]
    charts = re.findall(r"```mermaid\n(.*?)\n```", section, flags=re.S)
    titles = [re.findall(r'title "(.*)"', c) for c in charts]
    assert titles == [["Receiver operating characteristic (ROC)"], ["Precision-Recall Curve"]]
    assert [c.count("    line [") for c in charts] == [2, 2]  # the base and this run
    assert "| base: actual \\ predicted" in section
    assert "| this run: actual \\ predicted" in section

    base = git(project, "rev-parse", "main")
    drawn, notes = plots.read(
        project, base, plots.builtin_decls(project, project, set(plots.BUILTIN_FILES.values()))
    )
    section = section.split("\n\n</details>", 1)[0]
    assert section.rstrip() == (plots_render.render(drawn, notes) or "").rstrip()


def test_the_verdict_is_made_by_the_publishing_job_from_the_gates(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])
    data = json.loads((out / results.FILE).read_text(encoding="utf-8"))
    assert "verdict" not in data["report"]

    forged = "**✅ gates passed** · gates: 3 passed"
    _forge(out, lambda d: d["report"].update(verdict=forged))
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
    assert "report: unknown key 'verdict'" in capsys.readouterr().err
    assert github_server.issue_comments.get(pull["number"], []) == []

    def fail_one(d: dict[str, Any]) -> None:  # the numbers decide, whatever the state says
        del d["report"]["verdict"]
        for row in d["report"]["metrics"]:
            if row["name"] == "accuracy":
                row["new"] = 0.5
        d["gates"]["results"][0].update(value=0.5, state="pass")

    _forge(out, fail_one)
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 1
    [comment] = github_server.issue_comments[pull["number"]]
    first = comment["body"].splitlines()[1]
    assert first.startswith("**❌ accuracy ") and first.endswith("· 1 of 3 gates failed")
    assert "✓" not in first  # the recorded detail of a passed gate does not say it passed
    assert forged not in comment["body"]


def test_names_in_plots_stay_text(
    project: Path,
    fork_pull: tuple[dict[str, Any], str],
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull, head = fork_pull
    out = _train_half(project, github_server, monkeypatch, pull)
    event = _workflow_run_event(github_server, head, "more-trees", "evil", [])

    # A newline in a plot's id, a series' name or a class is refused ...
    for change, where in [
        (lambda d: _plot(d, "linear").update(id=INJECTED), r"plots\.plots\[\d+\]\.id: "),
        (lambda d: _plot(d, "linear")["new"][0].update(name=INJECTED), r"\.new\[0\]\.name: "),
        (
            lambda d: next(iter(_plot(d, "confusion")["new_cells"].values()))[0].update(
                actual=INJECTED
            ),
            r"\.new_cells\[.*\]\[0\]\.actual: ",  # a file name is quoted in brackets
        ),
    ]:
        data = json.loads((out / results.FILE).read_text(encoding="utf-8"))
        _forge(out, change)
        assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 2
        assert re.search(where, capsys.readouterr().err)
        (out / results.FILE).write_text(json.dumps(data), encoding="utf-8")
    assert github_server.issue_comments.get(pull["number"], []) == []

    # ... and one-line Markdown, HTML and Mermaid in every name a plot shows stays text.
    one_line = INJECTED.replace("\n", " ")

    def inject(d: dict[str, Any]) -> None:
        line = _plot(d, "linear")
        line.update(id=one_line, title=one_line, x_label=one_line, y_label=one_line)
        for side in ("base", "new"):
            line[side][0]["name"] = one_line
        matrix = _plot(d, "confusion")
        matrix.update(id=one_line, title=one_line)
        for side in ("base_cells", "new_cells"):
            [cells] = matrix[side].values()
            cells[0]["actual"] = one_line
            matrix[side] = {one_line: cells, "cm2.json": cells}
        d["plots"]["notes"] = [one_line]

    _forge(out, inject)
    assert _publish_half(tmp_path, github_server, monkeypatch, event, out) == 0
    [comment] = github_server.issue_comments[pull["number"]]
    body = comment["body"]
    text = re.sub(r"`[^`\n]*`", "", body)  # what is not inside a code span
    assert text.count("<!--") == 1 and body.startswith(MARKER)
    assert [line for line in body.splitlines() if line.startswith("#")] == [
        "## Model report: `demo-model`"
    ]  # no heading of the input's
    summaries = re.findall(r"<details><summary>(.*?)</summary>", body)
    assert [s.split(" ")[0] for s in summaries] == ["All", "Params", "Data", "Plots"]
    html = to_html(body)
    assert html.count("<pre") == html.count('<pre lang="mermaid">')  # every fence is a chart's
    assert inert.text(one_line) in body  # drawn, as text
    assert f"    title {inert.mermaid(one_line)}" in body  # what would end the label is `_`
    assert "| **loss\\] ``` \\#\\#\\# Gates" not in body
    assert f"**{inert.text(one_line)}**" in body


def test_plots_of_any_project_make_a_results_file_publish_accepts(tmp_path: Path) -> None:
    """Names with newlines, more series than a chart draws, long curves, many pairs: written so
    the schema takes them, and drawn again as the run would have drawn them."""
    curve = [(i / 4999, (i / 4999) ** 0.5) for i in range(5000)]
    many = [Series(f"run{i}\n.json", [(x, y + i / 10) for x, y in curve]) for i in range(6)]
    line = Plot("a\nb.json", {"title": "t\n`"}, "linear", ["a\nb.json"], many[:3], many)
    pairs = [("x\ny", "x\ny")] * 700 + [("z", "x\ny")] * 300 + [("z", "z")] * 2000
    matrix = Plot(
        "cm.json",
        {"template": "confusion_normalized"},
        "confusion",
        ["cm.json"],
        base_pairs={"cm.json": pairs[:1500]},
        new_pairs={"cm.json": pairs, "wide.json": [(str(i), str(i)) for i in range(40)]},
    )
    image = Plot("i.png", {}, "image", ["i.png"], images={"i.png": (None, "0" * 32)})
    data = markdown.ReportInput("m", None, [])
    found = results.Results(
        "pull_request", "c" * 40, 3, "default", "mlops/gate", data, [],
        plots=[line, matrix, image], plot_notes=["a\nnote"],
    )  # fmt: skip
    path = results.write(tmp_path, found)
    assert path.stat().st_size < 20_000
    back = results.read(tmp_path)
    assert [p.id for p in back.plots] == ["a b.json", "cm.json", "i.png"]
    flat = [(a.replace("\n", " "), p.replace("\n", " ")) for a, p in pairs]
    assert back.plots[1].new_pairs == {  # counted, one line each
        "cm.json": Counter(flat),
        "wide.json": Counter(),  # too many classes to show: named, not carried
    }
    before = plots_render.render(found.plots, found.plot_notes, "https://x/runs/1") or ""
    after = plots_render.render(back.plots, back.plot_notes, "https://x/runs/1") or ""
    chart = r"```mermaid\n.*?\n```"
    assert re.findall(chart, after, flags=re.S) == re.findall(chart, before, flags=re.S)
    tables = r"^\|.*\|$"
    assert re.findall(tables, after, flags=re.M) == re.findall(tables, before, flags=re.M)
    assert "showing 4 of 6 series" in after and "wide.json: 40 classes" in after
    heading = r"^.* · (?:base and this run|this run|base only)$"
    headings = re.findall(heading, after, flags=re.M)
    assert len(headings) == 2 and headings == re.findall(heading, before, flags=re.M)
    assert "[workflow run](https://x/runs/1)" in after


def test_the_split_gates_a_pull_request_with_its_base_branchs_rules(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`rules_from: base` on main: a pull request that drops the gate it fails is gated with
    main's rules in the two-job path too: the publishing job evaluates main's rules itself (the
    results job used to gate with the PR's own rules)."""
    strict = gated_params()
    strict["gates"] = [*strict["gates"], "accuracy >= 0.999"]
    strict["gate_options"] = {"rules_from": "base"}
    write_params(project, strict)
    commit_all(project, "main gates with its own rules")
    git(project, "checkout", "-q", "-b", "looser")
    write_params(project, {**gated_params(), "gate_options": {"rules_from": "head"}})
    head = commit_all(project, "drop the gate this change fails")
    serve_contents(github_server, project)
    pull = github_server.add_pull("looser", "main", head_sha=head)
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    out = _train_half(project, github_server, monkeypatch, pull)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", github_server.token)
    assert cli.main(["publish", str(out)]) != 0
    statuses = _statuses(github_server, head)
    assert statuses["mlops/gate"] == "failure"
    assert statuses["mlops/gate: accuracy >= 0.999"] == "failure"
