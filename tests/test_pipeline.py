"""`run` as a whole, outside Actions: the flow of pipeline.py on the demo project."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops_actions import cli
from tests.helpers import dvc, gated_params, read_outputs, write_params


def test_demo_outside_a_git_repository_gates_nested_metrics_and_reports_them(
    demo_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(demo_repo, plain, ignore=shutil.ignore_patterns(".git"))
    shutil.copytree(demo_repo.parent / "remote", tmp_path / "remote")
    dvc(plain, "config", "core.no_scm", "true")
    write_params(plain, gated_params())
    monkeypatch.chdir(plain)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))

    assert cli.main(["run"]) == 0

    out = capsys.readouterr().out
    assert "rows.test >= 100" in out
    assert "gates: 2 passed, 1 skipped" in out
    report = (plain / ".mlops-cache" / "report.md").read_text()
    assert "_no metrics_" not in report
    assert "rows.test" in report and "143" in report
    metrics = json.loads(read_outputs(tmp_path / "output")["metrics"])
    assert metrics["rows"] == {"train": 426, "test": 143}


def test_the_metrics_output_is_the_nested_file_from_train_report_and_run(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shapes = []
    for argv in (["train"], ["report", "-o", str(tmp_path / "r.md")], ["run"]):
        out = tmp_path / f"{argv[0]}.out"
        monkeypatch.setenv("GITHUB_OUTPUT", str(out))
        assert cli.main(argv) == 0
        shapes.append(json.loads(read_outputs(out)["metrics"]))
    assert shapes[0] == shapes[1] == shapes[2]
    assert shapes[0]["rows"] == {"train": 426, "test": 143}
