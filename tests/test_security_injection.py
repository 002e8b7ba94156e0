"""Untrusted text (metric names, params values, error messages) can neither forge part of the
report nor become a workflow command on stdout; the report shows only this run's files."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.fakegithub import FakeGitHub
from tests.helpers import DEMO_PARAMS, commit_all, git, pull_request_env, write_params
from tests.markdown import outside_code, to_html

HOSTILE = "loss]\n```\n### Gates\n\n**✅ gates passed** · gates: 9 passed\n<!--"
COMMANDS = ["::stop-commands::pwned", "::set-output name=x::y", "  ::error::forged", "a ##[error]b"]

TRAIN = """\
import json, sys
values = json.loads(sys.argv[1])
json.dump(values, open("metrics.json", "w"))
open("model.bin", "w").write("m")
"""


def _command_project(repo: Path, values: dict[str, Any], **extra: Any) -> None:
    """A command-mode project whose training writes exactly `values` as its metrics."""
    (repo / "train.py").write_text(TRAIN)
    (repo / ".gitignore").write_text("/model.bin\n/model/\n")
    argv = f"{sys.executable} train.py '{json.dumps(values)}'"
    params = {
        "model": {"name": "m"},
        "train": {"mode": "command", "command": argv, "model": "model.bin"},
        "cache": {"enabled": False},
        **extra,
    }
    write_params(repo, params)


def _pr_run(monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path) -> str:
    pull = pull_request_env(monkeypatch, server, repo)
    cli.main(["run"])
    (comment,) = server.issue_comments[pull["number"]]
    return str(comment["body"])


def _outside_code(body: str) -> str:
    """The report as GitHub renders it, with code spans and blocks removed: what shows as
    Markdown and HTML rather than as literal text."""
    return outside_code(to_html(body))


def test_a_metric_name_cannot_forge_a_section_of_the_report(
    git_repo: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name used to close the Mermaid fence, render a fake "gates passed" section and hide
    the rest of the report in an HTML comment; a gate's did-you-mean repeated a name raw."""
    gates = {"gates": ["accuracy >= 0.9", "loss <= 1"], "metrics": {"primary": "accuracy"}}
    near = "loss<!--"  # what the `loss` gate's did-you-mean names
    _command_project(git_repo, {"accuracy": 0.95, HOSTILE: 0.5, near: 1}, **gates)
    assert cli.main(["train"]) == 0
    commit_all(git_repo, "main")
    git(git_repo, "checkout", "-q", "-b", "feature")
    _command_project(git_repo, {"accuracy": 0.5, HOSTILE: 0.1, near: 1}, **gates)
    commit_all(git_repo, "worse")
    body = _pr_run(monkeypatch, github_server, git_repo)
    rendered = _outside_code(body)
    assert [line for line in body.splitlines() if line.startswith("#")] == [
        "## Model report: `m`"
    ]  # no heading of the input's
    assert "gates passed" not in rendered
    assert rendered.count("<!--") == 1  # our marker, nothing that hides the rest
    html = to_html(body)
    assert html.count("<pre") == html.count('<pre lang="mermaid">')  # no fence of the name's
    for block in re.findall(r"```mermaid\n(.*?)```", body, flags=re.S):
        assert "loss" not in block and "<!--" not in block
    assert "did you mean" in body


def _lines_that_are_commands(text: str) -> list[str]:
    return [
        line
        for line in re.split(r"[\r\n]", text)
        if line.lstrip().startswith("::") or "##[" in line
    ]


def test_a_metric_name_printed_to_stdout_is_no_workflow_command(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train` prints the metrics table: a name at the start of a line was a command."""
    _command_project(git_repo, {"accuracy": 0.9, **{name: 1 for name in COMMANDS}})
    commit_all(git_repo, "main")
    capsys.readouterr()
    assert cli.main(["train"]) == 0
    captured = capsys.readouterr()
    assert "stop-commands" in captured.out  # shown, readable
    assert _lines_that_are_commands(captured.out + captured.err) == []


def test_an_error_message_carrying_a_command_is_neutralised(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A value from params.yaml (a PR's text) inside a one-line error on stderr."""
    from tests.helpers import DEMO_PARAMS

    params = json.loads(json.dumps(DEMO_PARAMS))
    params["data"]["target"] = "x\n::set-output name=gates-passed::true\n##[set-output name=a;]b"
    write_params(demo_repo, params)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["train"]) == 2
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert "set-output" in both
    commands = _lines_that_are_commands(both)
    assert commands and all(line.startswith("::error::") for line in commands), commands


def test_a_committed_confusion_matrix_is_not_shown_as_this_runs(
    git_repo: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command-mode run writes no confusion matrix; a stale one in the repository was shown
    under "Confusion matrix (this run)"."""
    gates = {"gates": ["accuracy >= 0.5"], "metrics": {"primary": "accuracy"}}
    _command_project(git_repo, {"accuracy": 0.9}, **gates)
    commit_all(git_repo, "main")
    git(git_repo, "checkout", "-q", "-b", "feature")
    stale = {"labels": ["a", "b"], "matrix": [[1234, 0], [0, 5678]]}
    (git_repo / "confusion_matrix.json").write_text(json.dumps(stale))
    commit_all(git_repo, "a stale confusion matrix")
    body = _pr_run(monkeypatch, github_server, git_repo)
    assert "Confusion matrix" not in body and "1234" not in body


def test_the_builtin_runs_own_confusion_matrix_is_shown(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    body = _pr_run(monkeypatch, github_server, project)
    section = body.split("<details><summary>Plots</summary>\n", 1)[1]
    assert "| this run: actual \\ predicted" in section
    shown = json.loads((project / "confusion_matrix.json").read_text())
    assert f"| {shown['matrix'][0][0]} " in section.split("| this run: actual", 1)[1]


def test_a_committed_builtin_plot_file_is_not_shown_as_this_runs(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plot file the trainer did not write this run (committed, or left by a run of another
    task) was drawn in the Plots section as this run's: here a regression, which writes no
    confusion matrix, beside a committed one."""
    git(project, "checkout", "-q", "-b", "feature")
    params = copy.deepcopy(DEMO_PARAMS)
    params["data"]["target"] = "mean_radius"
    params["model"]["estimator"] = "sklearn.ensemble.RandomForestRegressor"
    write_params(project, params)
    stale = [{"actual": "a", "predicted": "b"}] * 4321
    path = project / "plots" / "sklearn" / "confusion_matrix.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"confusion_matrix": stale}))
    git(project, "add", "-f", str(path))
    commit_all(project, "a regression, and a stale plot file")
    body = _pr_run(monkeypatch, github_server, project)
    assert "4321" not in body and "this run: actual" not in body


def test_compare_markdown_keeps_a_hostile_name_in_its_cell(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`compare --md` (for a job summary of one's own): a name's newline broke the table and
    its `<!--` hid the rest of the page."""
    _command_project(git_repo, {"accuracy": 0.9, HOSTILE: 0.5})
    assert cli.main(["train"]) == 0
    commit_all(git_repo, "main")
    _command_project(git_repo, {"accuracy": 0.8, HOSTILE: 0.1})
    assert cli.main(["train"]) == 0
    capsys.readouterr()
    assert cli.main(["compare", "--md"]) == 0
    out = capsys.readouterr().out
    assert "<!--" not in out and "```" not in out
    rows = [line for line in out.splitlines() if line.startswith("|")]
    assert any("loss\\]" in row and "0.1" in row for row in rows)
    assert [line for line in out.splitlines() if line.startswith("### ")] == []


def test_a_metric_name_printed_to_stdout_carries_no_terminal_control(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`train` prints the metrics table: a name with an escape sequence (an OSC 8 link, a
    colour, a cursor move) or a carriage return could draw over what the log shows."""
    hostile = "acc\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\x1b[2K\rgates passed\x9b31m"
    _command_project(git_repo, {"accuracy": 0.9, hostile: 1})
    commit_all(git_repo, "main")
    capsys.readouterr()
    assert cli.main(["train"]) == 0
    captured = capsys.readouterr()
    both = captured.out + captured.err
    assert "click" in both  # shown, readable
    assert not any(c in both for c in "\x1b\r\x9b")
