"""Zero-configuration DVC projects and data discovery: real git, real dvc, temp repos."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from mlops_actions import cli
from mlops_actions.config import settings
from mlops_actions.dvcio import project as dvcproject
from mlops_actions.errors import ConfigError
from mlops_actions.flow import steps
from tests.helpers import DEMO_PARAMS, commit_all, dvc, init_repo, write_breast_cancer, write_params

PREPARE = """\
import csv, os, yaml
seed = yaml.safe_load(open("params.yaml"))["prepare"]["seed"]
rows = list(csv.DictReader(open("data/raw.csv")))
os.makedirs("data/prepared", exist_ok=True)
with open("data/prepared/rows.json", "w") as f:
    import json; json.dump({"seed": seed, "values": [float(r["x"]) for r in rows]}, f)
"""
TRAIN = """\
import json, os, pickle, yaml
n_est = yaml.safe_load(open("params.yaml"))["train"]["n_est"]
values = json.load(open("data/prepared/rows.json"))["values"]
pickle.dump({"mean": sum(values) / len(values), "n_est": n_est}, open("model.pkl", "wb"))
os.makedirs("eval", exist_ok=True)
json.dump({"accuracy": 0.9, "rows": len(values)}, open("eval/metrics.json", "w"))
"""
DVC_YAML = {
    "stages": {
        "prepare": {
            "cmd": "python prepare.py",
            "deps": ["prepare.py", "data/raw.csv"],
            "params": ["prepare.seed"],
            "outs": ["data/prepared"],
        },
        "train": {
            "cmd": "python train.py",
            "deps": ["train.py", "data/prepared"],
            "params": ["train.n_est"],
            "outs": ["model.pkl"],
            "metrics": [{"eval/metrics.json": {"cache": False}}],
            "plots": [{"eval/plots.json": {"cache": False}}],
        },
    },
    "artifacts": {"churn-model": {"path": "model.pkl", "type": "model"}},
}


@pytest.fixture(scope="session")
def pipeline_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DVC get-started-shaped project: the user's own params.yaml, no `mlops:` at all; its
    data pushed to a local remote beside it (built once, copied for each test)."""
    base = tmp_path_factory.mktemp("pipeline")
    repo = init_repo(base / "repo")
    (repo / "data").mkdir()
    (repo / "data" / "raw.csv").write_text("x\n" + "".join(f"{i}\n" for i in range(50)))
    (repo / "prepare.py").write_text(PREPARE)
    (repo / "train.py").write_text(
        TRAIN.replace(
            '"eval/metrics.json", "w"))',
            '"eval/metrics.json", "w"))\njson.dump([], open("eval/plots.json", "w"))',
        )
    )
    own = {"prepare": {"seed": 1}, "featurize": {"max_features": 10}, "train": {"n_est": 5}}
    (repo / "params.yaml").write_text(yaml.safe_dump(own))
    (repo / "dvc.yaml").write_text(yaml.safe_dump(DVC_YAML, sort_keys=False))
    (repo / ".gitignore").write_text("/.mlops-cache/\n")
    _dvc_project(repo, "data/raw.csv")
    commit_all(repo, "pipeline")
    return base


@pytest.fixture
def pipeline(pipeline_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _copy(pipeline_template, tmp_path, monkeypatch)


def _dvc_project(repo: Path, data: str) -> None:
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    dvc(repo, "remote", "add", "-d", "local", "../remote")
    dvc(repo, "add", "-q", data)
    dvc(repo, "push", "-q")


def _copy(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of a template (the repo and its remote); the test runs inside it."""
    shutil.copytree(template, tmp_path, dirs_exist_ok=True, symlinks=True)
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


def test_a_dvc_pipeline_needs_no_settings_of_ours(pipeline: Path) -> None:
    cfg = settings.load("params.yaml")
    assert cfg.train.mode == "dvc"
    assert cfg.train.metrics == "eval/metrics.json"
    assert cfg.model.name == "churn-model"
    assert cfg.train.model == "model.pkl"
    assert cfg.plots == ("eval/plots.json",)
    assert cfg.rules == ()
    assert steps.dvc_files(cfg) == ["data/raw.csv.dvc"]  # `dvc add data/raw.csv` wrote it
    assert cfg.project is not None
    assert cfg.project.params == {"params.yaml": ("prepare.seed", "train.n_est")}


def test_run_on_a_zero_config_pipeline_reports_and_says_how_to_add_gates(
    pipeline: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (pipeline / "data" / "raw.csv").unlink()  # as in a fresh clone: the pull brings it back
    assert cli.main(["run"]) == 0
    metrics = json.loads((pipeline / "eval" / "metrics.json").read_text())
    assert metrics == {"accuracy": 0.9, "rows": 50}
    assert (pipeline / "model.pkl").is_file()
    report = (settings.default_cache_dir(pipeline.resolve()) / "report.md").read_text()
    assert "`churn-model`" in report
    assert "accuracy" in report
    assert "`mlops.gates`" in report and "`mlops.metrics.primary`" in report
    assert "unknown key" not in capsys.readouterr().err


def test_mlops_settings_refine_what_dvc_yaml_declares(pipeline: Path) -> None:
    params = yaml.safe_load((pipeline / "params.yaml").read_text())
    params["mlops"] = {"model": {"name": "other-name"}, "gates": ["accuracy >= 0.5"]}
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params))
    cfg = settings.load("params.yaml")
    assert (cfg.train.mode, cfg.model.name, cfg.train.model) == (
        "dvc",
        "other-name",
        "model/model.skops",
    )
    assert [r.normalized for r in cfg.rules] == ["accuracy >= 0.5"]
    params["mlops"] = {"model": {"estimatr": "x"}}
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(
        ConfigError, match=r"mlops.model.estimatr: unknown key \(did you mean 'estimator'\?\)"
    ):
        settings.load("params.yaml")
    params["mlops"] = {"train": {"mode": "builtin"}}
    (pipeline / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(ConfigError, match=r"mlops.data.path and mlops.data.target: required"):
        settings.load("params.yaml")


def test_a_dvc_yaml_in_a_subfolder_names_artifacts_the_gto_way(tmp_path: Path) -> None:
    (tmp_path / "models" / "churn").mkdir(parents=True)
    spec = {"artifacts": {"clf": {"path": "out/model.pkl", "type": "model"}}}
    (tmp_path / "models" / "churn" / "dvc.yaml").write_text(yaml.safe_dump(spec))
    project = dvcproject.read(tmp_path)
    assert project is not None
    (model,) = project.models
    assert (model.name, model.path) == ("models/churn:clf", "models/churn/out/model.pkl")
    cfg = settings.parse({}, str(tmp_path / "params.yaml"), project)
    assert cfg.model.name == "models/churn:clf"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stages: [unclosed\n", "dvc.yaml: not valid YAML at line"),
        ("- a\n- b\n", "dvc.yaml: expected a mapping with `stages`, got list"),
        ("stages:\n  train: python train.py\n", "dvc.yaml: stages.train: expected a mapping"),
        (
            "artifacts:\n  m: {path: ../../model.pkl, type: model}\n",
            "dvc.yaml: artifacts.m.path: '../../model.pkl' is outside the repository",
        ),
    ],
)
def test_a_dvc_yaml_dvc_refuses_is_one_line_exit_2_nothing_written(
    pipeline: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    (pipeline / "dvc.yaml").write_text(text)
    assert cli.main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {message}"), err
    assert not (pipeline / "eval").exists()
    assert not settings.default_cache_dir(pipeline.resolve()).exists()


@pytest.fixture(scope="session")
def table_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A builtin project whose table was added with `dvc add data/x.csv` (data/x.csv.dvc)."""
    base = tmp_path_factory.mktemp("table")
    repo = init_repo(base / "repo")
    write_breast_cancer(repo / "data" / "x.csv")
    params = {**DEMO_PARAMS, "data": {**DEMO_PARAMS["data"], "path": "data/x.csv"}}
    write_params(repo, params, own={"train": {"epochs": 3}})
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n")
    _dvc_project(repo, "data/x.csv")
    commit_all(repo, "table")
    return base


@pytest.fixture
def table_repo(table_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _copy(table_template, tmp_path, monkeypatch)


def test_the_dvc_file_of_a_table_is_discovered_and_pulled(table_repo: Path) -> None:
    (table_repo / "data" / "x.csv").unlink()  # a fresh clone has only data/x.csv.dvc
    cfg = settings.load("params.yaml")
    pulled = steps.pull(cfg)
    assert pulled.dvc_files == ["data/x.csv.dvc"]
    assert "data/x.csv" in pulled.version
    assert (table_repo / "data" / "x.csv").is_file()


def test_an_explicit_list_missing_the_tables_dvc_file_names_it(table_repo: Path) -> None:
    (table_repo / "other.txt").write_text("x\n")
    dvc(table_repo, "add", "-q", "other.txt")
    params = {
        **DEMO_PARAMS,
        "data": {**DEMO_PARAMS["data"], "path": "data/x.csv", "dvc": ["other.txt.dvc"]},
    }
    write_params(table_repo, params)
    cfg = settings.load("params.yaml")
    with pytest.raises(ConfigError) as info:
        steps.pull(cfg)
    assert str(info.value) == (
        "params.yaml: mlops.data.dvc: data/x.csv is tracked by data/x.csv.dvc; add it to the list"
    )


def test_discovery_skips_dvc_git_caches_and_dvcignore(tmp_path: Path) -> None:
    for rel in (
        "a.dvc",
        "sub/b.dvc",
        ".dvc/cache/c.dvc",
        "node_modules/d.dvc",
        ".mlops-cache/e.dvc",
        "ignored/f.dvc",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("outs: []\n")
    (tmp_path / ".dvcignore").write_text("ignored/\n")
    assert dvcproject.tracked_files(tmp_path, skip=(".mlops-cache",)) == ["a.dvc", "sub/b.dvc"]
