"""`mlops-actions monitor` and the scheduled monitoring: real git, real dvc, a version
registered with `mlops-actions promote`, the fake GitHub for the issue and the pull request."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from scipy import stats

from mlops_actions import cli
from mlops_actions.monitor import issue as monitor_report
from tests.fakegithub import FakeGitHub
from tests.helpers import actions_env, commit_all, gated_params, git, write_params

TARGET = "diagnosis"
INCOMING = "incoming/samples.csv"


def _params(**monitor: Any) -> dict[str, Any]:
    params = gated_params()
    params["monitor"] = {"data": INCOMING, "decay": ["f1 >= base - 0.05"], **monitor}
    return params


def _table(repo: Path) -> pd.DataFrame:
    return pd.read_csv(repo / "data" / "breast_cancer.csv")


def _incoming(repo: Path, frame: pd.DataFrame) -> None:
    (repo / "incoming").mkdir(exist_ok=True)
    frame.to_csv(repo / INCOMING, index=False)


def _shifted(repo: Path, column: str = "mean_radius") -> pd.DataFrame:
    frame = _table(repo).drop(columns=[TARGET])
    frame[column] = frame[column] * 1.5
    return frame


@pytest.fixture
def registered(project: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The demo project with `monitor:` set and its model registered as demo-model@v0.0.1."""
    write_params(project, _params())
    (project / "incoming").mkdir()
    commit_all(project, "monitor production samples")
    assert cli.main(["promote"]) == 0
    capsys.readouterr()
    return project


def _monitor_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["monitor", "--json", *args])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    return code, json.loads(captured.out)


def test_a_shifted_feature_is_flagged_with_scipys_ks_statistic(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shifted = _shifted(registered)
    _incoming(registered, shifted)
    code, found = _monitor_json(capsys)
    assert code == 1
    assert found["version"] == "v0.0.1" and found["tag"] == "demo-model@v0.0.1"
    assert found["rows"] == {"reference": 569, "current": 569}
    features = {f["name"]: f for f in found["drift"]["features"]}
    assert len(features) == 30 and set(features["mean_radius"]) >= {
        "name",
        "test",
        "statistic",
        "p_value",
        "psi",
        "drifted",
    }
    radius = features.pop("mean_radius")
    expected = stats.ks_2samp(_table(registered)["mean_radius"], shifted["mean_radius"])
    assert radius["test"] == "ks" and radius["drifted"] is True
    assert radius["statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert radius["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert not [name for name, f in features.items() if f["drifted"]]
    assert found["drift"]["drifted"] == ["mean_radius"] and found["decay"] is None


def test_no_alarm_on_a_subsample_of_the_training_data(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _incoming(registered, _table(registered).sample(frac=0.5, random_state=7))
    code, found = _monitor_json(capsys)
    assert code == 0
    assert found["drift"]["drifted"] == [] and found["alarm"] is False
    assert found["decay"]["alarm"] is False  # labelled: the model is scored too


def test_decay_is_caught_with_40_percent_of_the_labels_flipped(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = _table(registered)
    flip = frame.sample(frac=0.4, random_state=3).index
    other = {"benign": "malignant", "malignant": "benign"}
    frame.loc[flip, TARGET] = frame.loc[flip, TARGET].map(other)
    _incoming(registered, frame)
    code, found = _monitor_json(capsys)
    assert code == 1
    assert found["drift"]["alarm"] is False  # the features did not move
    decay = found["decay"]
    assert decay["alarm"] is True and decay["rows"] == 569
    (gate,) = decay["gates"]
    assert gate["rule"] == "f1 >= base - 0.05" and gate["state"] == "fail"
    entries = {e["metric"]: e for e in decay["metrics"]}
    assert entries["accuracy"]["current"] < 0.7 < entries["accuracy"]["recorded"]


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["monitor"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    return err


def test_missing_columns_are_named(registered: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _incoming(registered, _table(registered).drop(columns=["mean_radius", "worst_area"]))
    err = _one_line_error(capsys)
    assert "missing columns" in err and "mean_radius, worst_area" in err


def test_no_registered_version(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_params(project, _params())
    _incoming(project, _table(project))
    err = _one_line_error(capsys)
    assert "no registered version of demo-model" in err and "mlops-actions promote" in err


def test_training_data_that_cannot_be_fetched(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _incoming(registered, _table(registered))
    (registered / "data" / "breast_cancer.csv").write_text("changed,by,hand\n1,2,3\n")
    shutil.rmtree(registered / ".dvc" / "cache")
    shutil.rmtree(registered.parent / "remote")
    err = _one_line_error(capsys)
    assert "demo-model@v0.0.1: its training data data/breast_cancer.csv" in err
    assert "cannot be fetched" in err


@pytest.mark.parametrize("content", ["", "mean_radius,diagnosis\n"])
def test_an_empty_file(registered: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    (registered / "incoming" / "samples.csv").write_text(content)
    err = _one_line_error(capsys)
    assert f"{INCOMING}: the file " in err and ("empty" in err or "no rows" in err)


def test_training_data_is_fetched_at_the_versions_commit(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The workspace's table changed since (and its cache too): dvc get --rev brings the old."""
    _incoming(registered, _table(registered).sample(frac=0.5, random_state=1))
    (registered / "data" / "breast_cancer.csv").write_text("changed,by,hand\n1,2,3\n")
    shutil.rmtree(registered / ".dvc" / "cache")
    code, found = _monitor_json(capsys)
    assert code == 0 and found["rows"]["reference"] == 569


def test_mermaid_labels_keep_the_chart_valid() -> None:
    assert monitor_report.mermaid_label('a "b", [c]; d') == '"a _b_, [c]_ d"'
    assert len(monitor_report.mermaid_label("x" * 80)) <= 26


# --- on a schedule, against the fake GitHub ---------------------------------------------------


def _schedule(monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path) -> None:
    event = {
        "schedule": "0 4 * * 1",
        "repository": {"full_name": server.repository, "default_branch": "main"},
    }
    sha = git(repo, "rev-parse", "HEAD")
    actions_env(
        monkeypatch, server, repo.parent / "runner", "schedule", event, sha, "refs/heads/main"
    )


def _drift_issues(server: FakeGitHub) -> list[dict[str, Any]]:
    return [
        i for i in server.issue_list if "mlops-drift" in {label["name"] for label in i["labels"]}
    ]


def test_scheduled_runs_keep_one_issue_and_a_clean_run_closes_it(
    registered: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _schedule(monkeypatch, github_server, registered)
    _incoming(registered, _shifted(registered))
    assert cli.main(["run"]) == 1, capsys.readouterr().err
    _incoming(registered, _shifted(registered, "worst_area"))
    assert cli.main(["run"]) == 1
    (issue,) = _drift_issues(github_server)
    assert issue["state"] == "open" and issue["title"] == "Data drift against demo-model@v0.0.1"
    body = issue["body"]
    assert "worst\\_area" in body and "xychart-beta" in body and "| feature |" in body
    history = monitor_report.parse_history(body)
    assert [h["alarm"] for h in history] == [True, True]
    assert history[0]["share"] == pytest.approx(1 / 30, abs=1e-4)
    summary = (registered.parent / "runner" / "summary.md").read_text()
    assert summary.count("## Data drift: `demo-model@v0.0.1`") == 2
    assert (
        github_server.calls("POST", r"/issues$")
        and len(github_server.calls("POST", r"/issues$")) == 1
    )

    _incoming(registered, _table(registered).sample(frac=0.5, random_state=7))
    assert cli.main(["run"]) == 0
    (issue,) = _drift_issues(github_server)
    assert issue["state"] == "closed" and issue["state_reason"] == "completed"
    (comment,) = github_server.issue_comments[issue["number"]]
    assert "A later run is clean" in comment["body"]
    assert [h["alarm"] for h in monitor_report.parse_history(issue["body"])] == [True, True, False]


def test_drift_starts_the_retraining_pull_request_with_the_evidence(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    write_params(project, _params(retrain=True))
    (project / "incoming").mkdir()
    commit_all(project, "monitor, and retrain on drift")
    assert cli.main(["promote"]) == 0
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(project, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(project, "push", "-q", "origin", "HEAD:refs/heads/main")
    github_server.add_ref("refs/heads/mlops/retrain", "1" * 40)  # the fake gets no git pushes
    _schedule(monkeypatch, github_server, project)
    _incoming(project, _shifted(project))
    assert cli.main(["run"]) == 1, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "the monitor found drift or decay: retraining" in out
    (pull,) = github_server.pulls
    assert pull["head"]["ref"] == "mlops/retrain"
    source, body = pull["body"].split("\n\n", 1)  # "Retrained from `abc1234` of `main`."
    assert source.startswith("Retrained from `")
    assert body.startswith("## Data drift: `demo-model@v0.0.1`")
    assert "mean\\_radius" in body and "| 🔴 yes |" in body and "## Model report" in body
    assert len(_drift_issues(github_server)) == 1


def test_a_bad_decay_rule_is_one_line_naming_the_key(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = _params()
    params["monitor"]["decay"] = ["f1 => base"]
    write_params(project, params)
    err = _one_line_error(capsys)
    assert "params.yaml: mlops.monitor.decay[0]: 'f1 => base'" in err


def test_a_drift_history_edited_in_the_issue_is_read_within_bounds() -> None:
    """The history rides in the issue's body, which its editors can change: a share that is
    no fraction (an integer beyond a float, infinity, a boolean) is dropped, not a crash."""
    body = monitor_report.history_block([])
    entries = (
        '[{"date":"2025-01-01T00:00","version":"v0.0.1","share":0.5,"alarm":false},'
        '{"date":"x","share":1' + "0" * 400 + '},{"date":"y","share":1e999},'
        '{"date":"z","share":true},{"date":"' + "d" * 500 + '","share":0.25}]'
    )
    body = body.replace("[]", entries)
    history = monitor_report.parse_history(body)
    assert [h["share"] for h in history] == [0.5, 0.25]
    assert len(history[1]["date"]) == 40
    chart = monitor_report.history_chart(history)
    assert "line [50.0, 25.0]" in chart
