"""Gates fail closed on pull requests: a PR cannot remove, move or rename its own baseline,
nor loosen the rules it is gated with (`mlops.gate_options.rules_from: base`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.fakegithub import FakeGitHub
from tests.helpers import (
    commit_all,
    gated_params,
    git,
    pull_request_env,
    read_outputs,
    write_params,
)

RELATIVE = "mlops/gate: f1 >= base - 0.05"


def _weak(params: dict[str, Any]) -> dict[str, Any]:
    """`params` with a model far below the base (f1 drops by much more than 0.05)."""
    params["model"] = {
        **params["model"],
        "estimator": "sklearn.dummy.DummyClassifier",
        "params": {"strategy": "uniform", "random_state": 0},
    }
    return params


def _pr_run(
    monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path
) -> tuple[int, dict[str, dict[str, Any]], dict[str, Any]]:
    """`run` for a pull request of HEAD into main: the exit code, the latest status per
    context on the head, and the gates output by context."""
    pull = pull_request_env(monkeypatch, server, repo)
    runner = repo.parent / "runner"
    code = cli.main(["run"])
    statuses: dict[str, dict[str, Any]] = {}
    for status in server.statuses.get(pull["head"]["sha"], []):  # newest first
        statuses.setdefault(status["context"], status)
    outputs = read_outputs(runner / "output")
    gates = {g["context"]: g for g in json.loads(outputs.get("gates") or "[]")}
    return code, statuses, gates


@pytest.fixture
def untrained_main(demo_repo: Path) -> Path:
    """main with gates and no committed metrics: nothing to compare a PR with."""
    write_params(demo_repo, gated_params())
    commit_all(demo_repo, "gates on main, no metrics committed")
    git(demo_repo, "checkout", "-q", "-b", "feature")
    return demo_repo


def test_a_relative_gate_with_no_baseline_is_an_error_on_a_pull_request(
    untrained_main: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`no_baseline: skip` counted a relative gate with nothing to compare as passed."""
    commit_all(untrained_main, "a change")
    code, statuses, gates = _pr_run(monkeypatch, github_server, untrained_main)
    assert code == 2
    assert gates[RELATIVE]["state"] == "error"
    assert statuses[RELATIVE]["state"] == "error"
    assert statuses["mlops/gate"]["state"] == "error"


def test_a_pull_request_cannot_choose_skip_for_itself(
    untrained_main: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = gated_params()
    params["gate_options"] = {"no_baseline": "skip"}
    write_params(untrained_main, params)
    commit_all(untrained_main, "skip my missing baseline")
    code, statuses, _ = _pr_run(monkeypatch, github_server, untrained_main)
    assert code == 2 and statuses["mlops/gate"]["state"] == "error"


def test_the_base_branchs_explicit_skip_is_kept(
    demo_repo: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project that chose `no_baseline: skip` on its default branch keeps that choice."""
    params = gated_params()
    params["gate_options"] = {"no_baseline": "skip"}
    write_params(demo_repo, params)
    commit_all(demo_repo, "skip while there is no baseline")
    git(demo_repo, "checkout", "-q", "-b", "feature")
    commit_all(demo_repo, "a change")
    code, statuses, gates = _pr_run(monkeypatch, github_server, demo_repo)
    assert code == 0
    assert gates[RELATIVE]["state"] == "skipped"
    assert statuses["mlops/gate"]["state"] == "success"


def test_moving_the_metrics_file_keeps_the_baseline(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base is read with the base branch's `mlops.train.metrics`: a PR writing its
    metrics elsewhere used to find no base values, and its relative gate was skipped."""
    git(project, "checkout", "-q", "-b", "feature")
    params = _weak(gated_params(train__metrics="moved/metrics.json"))
    write_params(project, params)
    commit_all(project, "a weaker model, its metrics moved")
    code, statuses, gates = _pr_run(monkeypatch, github_server, project)
    assert code == 1
    base_f1 = json.loads(git(project, "show", "main:metrics.json"))["f1"]
    assert gates[RELATIVE]["state"] == "fail"
    assert gates[RELATIVE]["baseline"] == pytest.approx(base_f1)
    assert statuses[RELATIVE]["state"] == "failure"


def test_renaming_the_model_keeps_the_registry_baseline(
    demo_repo: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With no committed metrics the base is the latest version of the base branch's model
    name; a PR renaming the model looked up a name with no versions and skipped."""
    (demo_repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n/metrics.json\n")
    write_params(demo_repo, gated_params())
    commit_all(demo_repo, "main")
    assert cli.main(["train"]) == 0
    assert cli.main(["promote"]) == 0
    assert "promoted demo-model@v" in capsys.readouterr().out
    git(demo_repo, "checkout", "-q", "-b", "feature")
    write_params(demo_repo, _weak(gated_params(model__name="renamed-model")))
    commit_all(demo_repo, "a weaker model under a new name")
    code, statuses, gates = _pr_run(monkeypatch, github_server, demo_repo)
    assert code == 1
    assert gates[RELATIVE]["state"] == "fail"
    assert statuses[RELATIVE]["state"] == "failure"


def test_rules_from_base_gates_with_the_base_rules_and_reports_the_change(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`rules_from: base` on the base branch: a PR that loosens the accuracy gate, and drops
    the setting itself, is still gated with the base's rules; the report names the change and
    what its own rules would say, as information (no status of its own)."""
    main = gated_params()
    main["gate_options"] = {"rules_from": "base"}
    write_params(project, main)
    commit_all(project, "rules from the base branch")
    git(project, "checkout", "-q", "-b", "feature")
    loose = _weak(gated_params())
    loose["gates"] = ["accuracy >= 0.1", "rows.test >= 100"]
    write_params(project, loose)
    commit_all(project, "a weaker model, and looser gates")
    code, statuses, _ = _pr_run(monkeypatch, github_server, project)
    assert code == 1
    assert statuses["mlops/gate: accuracy >= 0.85"]["state"] == "failure"
    assert statuses[RELATIVE]["state"] == "failure"
    assert "mlops/gate: accuracy >= 0.1" not in statuses
    assert statuses["mlops/gate"]["state"] == "failure"
    [comment] = next(iter(github_server.issue_comments.values()))
    note = comment["body"].replace("&gt;", ">")  # the report escapes it
    assert "mlops.gates changed in this pull request (added accuracy >= 0.1" in note
    assert "own rules would say (information only): accuracy >= 0.1: pass" in note


def test_a_base_metrics_file_that_cannot_be_read_is_an_error_even_with_skip(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A vanished baseline: the base has its metrics file, but no values come out of it."""
    params = gated_params()
    params["gate_options"] = {"no_baseline": "skip"}
    write_params(project, params)
    (project / "metrics.json").write_text("{not json")
    commit_all(project, "main, its metrics file broken")
    git(project, "checkout", "-q", "-b", "feature")
    commit_all(project, "a change")
    code, statuses, gates = _pr_run(monkeypatch, github_server, project)
    assert code == 2
    assert gates[RELATIVE]["state"] == "error"
    assert statuses["mlops/gate"]["state"] == "error"


def test_a_pull_request_removing_every_rule_still_gets_the_base_rules_statuses(
    project: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = gated_params()
    main["gate_options"] = {"rules_from": "base"}
    write_params(project, main)
    commit_all(project, "rules from the base branch")
    git(project, "checkout", "-q", "-b", "feature")
    bare = _weak(gated_params())
    bare.pop("gates")
    write_params(project, bare)
    commit_all(project, "no gates at all")
    code, statuses, _ = _pr_run(monkeypatch, github_server, project)
    assert code == 1
    assert statuses["mlops/gate: accuracy >= 0.85"]["state"] == "failure"
    assert statuses["mlops/gate"]["state"] == "failure"
