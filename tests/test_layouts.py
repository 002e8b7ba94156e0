"""Every layout DVC allows, read as DVC reads it.

A DVC project in a sub-folder of the git repository (`dvc init --subdir`) whose foreach stage
writes four git-tracked (`cache: false`) metrics files; a model declared only in GTO's
artifacts.yaml; YAML 1.2 numbers (`3e-1`) in params and metrics. Real git and dvc throughout.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mlops_actions import cli
from mlops_actions.config import settings
from mlops_actions.dvcio import project as dvcproject
from tests.helpers import commit_all, dvc, git, init_repo

DVC_YAML = """\
stages:
  evaluate:
    foreach: ${folds}
    do:
      cmd: python evaluate.py ${item}
      params: [train.seed]
      metrics:
      - metrics/${item}.json:
          cache: false
"""
PARAMS = """\
train:
  test_size: 3e-1
  seed: 1
folds: [a, b, c, d]
mlops:
  metrics: {primary: auc}
  gates: [GATE]
"""
BASE = {
    "a": {"accuracy": 0.8, "loss": 0.3},
    "b": {"accuracy": 0.7},
    "c": {"accuracy": 0.75, "f1": 0.6},
    "d": {"auc": 0.9},
}


def write_metrics(project: Path, shift: float) -> None:
    for fold, values in BASE.items():
        path = project / "metrics" / f"{fold}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({k: round(v + shift, 4) for k, v in values.items()}))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """repo/proj: the DVC project; main holds the base metrics, branch pr worse ones."""
    repo = init_repo(tmp_path_factory.mktemp("layouts") / "repo")
    (repo / "README.md").write_text("a repository whose DVC project is in proj/\n")
    project = repo / "proj"
    project.mkdir()
    dvc(project, "init", "-q", "--subdir")
    (project / "dvc.yaml").write_text(DVC_YAML)
    (project / "params.yaml").write_text(PARAMS.replace("GATE", "auc >= base - 0.01"))
    write_metrics(project, 0.0)
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    write_metrics(project, -0.05)
    commit_all(repo, "worse")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(template, copy, symlinks=True)
    monkeypatch.chdir(copy)
    return copy


def set_gate(repo: Path, gate: str) -> None:
    (repo / "proj" / "params.yaml").write_text(PARAMS.replace("GATE", gate))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    here = os.getcwd()
    try:
        code = cli.main(list(args))
    finally:
        os.chdir(here)  # -C changes the directory of this process
    out, err = capsys.readouterr()
    return code, out, err


def test_a_subfolder_project_reads_its_base_from_the_base_commits_subfolder(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want = json.loads(dvc(repo / "proj", "metrics", "diff", "--json", "main").stdout)
    assert want["metrics/d.json"]["auc"]["old"] == 0.9  # dvc sees the base
    for args in (("-C", "proj", "compare"), ("compare", "-C", "proj")):
        code, out, err = run(capsys, *args, "--json")
        assert code == 0, err
        assert json.loads(out)["metrics"] == want
    code, out, _ = run(capsys, "-C", "proj", "compare")
    assert out.startswith("Baseline: main (")
    assert "no committed metrics file" not in out


def test_a_regression_in_a_subfolder_project_fails_its_relative_gate(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-C", "proj", "gate")
    assert code == 1, err
    assert "auc >= base - 0.01" in out and "0.9" in out


def test_an_ambiguous_metric_name_lists_the_qualified_spellings(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_gate(repo, "accuracy >= base")
    code, _, err = run(capsys, "-C", "proj", "gate")
    assert code == 2
    assert err.count("\n") == 1
    assert "'accuracy' is in 3 metrics files" in err
    assert "metrics/a.json:accuracy, metrics/b.json:accuracy, metrics/c.json:accuracy" in err


def test_a_qualified_metric_name_reads_that_file_at_both_sides(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_gate(repo, "metrics/c.json:accuracy >= base - 0.1")
    code, out, err = run(capsys, "-C", "proj", "gate")
    assert code == 0, err + out
    set_gate(repo, "metrics/c.json:accuracy >= base")
    code, out, _ = run(capsys, "-C", "proj", "gate")
    assert code == 1 and "0.75" in out


def test_the_report_groups_metrics_by_file_and_keeps_stdout_markdown(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "-C", "proj", "report", "--base", "main")
    assert code == 0, err
    section = out[out.index("<details><summary>All ") :]
    seen = []  # a file's name, then the first cell of each of its metric rows
    for line in section.splitlines():
        if line.startswith("`metrics/"):
            seen.append(line)
        elif line.startswith("| ") and not line.startswith("| metric "):
            seen.append(line.split("|")[1].strip())
    assert seen[:10] == [
        "`metrics/a.json`",
        "`accuracy`",
        "`loss`",
        "`metrics/b.json`",
        "`accuracy`",
        "`metrics/c.json`",
        "`accuracy`",
        "`f1`",
        "`metrics/d.json`",
        "**`auc`**",  # the primary metric
    ]
    assert "report written" not in out


def test_foreach_stages_are_expanded_for_config_as_for_compare(repo: Path) -> None:
    project = dvcproject.read(repo / "proj")
    assert project is not None
    assert [s.name for s in project.stages] == [f"evaluate@{f}" for f in "abcd"]
    assert project.metrics == tuple(f"metrics/{f}.json" for f in "abcd")
    cfg = settings.load(repo / "proj" / "params.yaml")
    assert cfg.train.mode == "dvc" and cfg.train.metrics == "metrics/a.json"


# --- YAML 1.2 ---------------------------------------------------------------------------------


def test_yaml_12_numbers_in_params_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_repo(tmp_path / "repo")
    dvc(repo, "init", "-q")
    (repo / "dvc.yaml").write_text("metrics: [eval.yaml]\n")
    (repo / "params.yaml").write_text(
        "mlops:\n  data: {test_size: 3e-1}\n  gates: ['auc >= 8e-1', 'auc >= base']\n"
    )
    (repo / "eval.yaml").write_text("auc: 9e-1\nflag: yes\n")
    commit_all(repo, "base")
    (repo / "eval.yaml").write_text("auc: 9.5e-1\nflag: yes\n")
    cfg = settings.load(repo / "params.yaml")
    assert cfg.data.test_size == 0.3
    monkeypatch.chdir(repo)
    code, out, err = run(capsys, "gate", "--base", "main")
    assert code == 0, err + out
    code, out, _ = run(capsys, "compare", "--json", "--all", "--base", "main")
    assert json.loads(out)["metrics"] == json.loads(
        dvc(repo, "metrics", "diff", "--json", "--all", "main").stdout
    )
    assert json.loads(out)["metrics"]["eval.yaml"]["flag"] == {"old": "yes", "new": "yes"}


# --- what the project declares --------------------------------------------------------------


def test_a_model_declared_only_in_artifacts_yaml_is_the_registry_model(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: python train.py\n    outs: [models/churn.pkl]\n"
        "    metrics: [{metrics.json: {cache: false}}]\n"
    )
    (repo / "artifacts.yaml").write_text(
        "churn-model:\n  type: model\n  path: models/churn.pkl\n  description: churn\n"
        "dataset:\n  type: dataset\n  path: data/train.csv\n"
    )
    cfg = settings.load(repo / "params.yaml")
    assert cfg.model.name == "churn-model"
    assert cfg.train.model == "models/churn.pkl"
    assert cfg.train.metrics == "metrics.json"


def test_promote_refuses_a_version_without_a_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / "dvc.yaml").write_text("metrics: [metrics.json]\n")
    (repo / "params.yaml").write_text(
        "mlops:\n  model: {name: churn}\n  metrics: {primary: auc}\n"
        "  train: {card: card.json, model: out/model.pkl}\n"
    )
    (repo / "metrics.json").write_text('{"auc": 0.9}')
    card = {"model": {"path": None, "sha256": None}, "data": {}, "params": {}}
    (repo / "card.json").write_text(json.dumps(card))
    commit_all(repo, "trained, but the model went elsewhere")
    monkeypatch.chdir(repo)
    code, _, err = run(capsys, "promote")
    assert code == 2
    assert err.count("\n") == 1 and "mlops.train.model" in err
    assert git(repo, "tag", "--list") == ""


def test_a_cache_false_metric_missing_at_the_base_is_to_commit_not_to_push(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from mlops_actions.compare import comparison

    repo = init_repo(tmp_path / "repo")
    dvc(repo, "init", "-q")
    (repo / "dvc.yaml").write_text(
        "stages:\n  evaluate:\n    cmd: python eval.py\n"
        "    metrics:\n    - eval.json:\n        cache: false\n"
    )
    content = b'{"auc": 0.9}'
    (repo / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  evaluate:\n    cmd: python eval.py\n    outs:\n"
        f"    - path: eval.json\n      hash: md5\n      md5: {hashlib.md5(content).hexdigest()}\n"
        f"      size: {len(content)}\n"
    )
    commit_all(repo, "the lock, but eval.json was never committed")
    (repo / "eval.json").write_bytes(content)
    monkeypatch.chdir(repo)
    found = comparison.compare("params.yaml", base="main")
    [error] = [e for e in found.errors if e.rev == "main"]
    assert error.path == "eval.json"
    assert "`cache: false`" in error.msg and "git add eval.json" in error.msg
    assert "dvc push" not in error.msg
