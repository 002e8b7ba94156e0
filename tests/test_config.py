from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from mlops_actions.config import settings
from mlops_actions.errors import ConfigError
from tests.helpers import DEMO_PARAMS, params_file, write_params


def _with(path: str, value: Any) -> dict[str, Any]:
    params = copy.deepcopy(DEMO_PARAMS)
    node = params
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return params


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (None, "params.yaml: no `mlops:` section and no dvc.yaml"),
        ([], "params.yaml: expected a mapping"),
        (
            {"model": DEMO_PARAMS["model"]},
            "params.yaml: mlops.data.path and mlops.data.target: required when "
            "mlops.train.mode is 'builtin'",
        ),
        (
            _with("model.estimatr", "x"),
            "params.yaml: mlops.model.estimatr: unknown key (did you mean 'estimator'?)",
        ),
        (_with("dataa", {}), "params.yaml: mlops.dataa: unknown key (did you mean 'data'?)"),
        (
            _with("data.test_size", "a"),
            "params.yaml: mlops.data.test_size: expected a number, got 'a'",
        ),
        (
            _with("data.test_size", 1.5),
            "params.yaml: mlops.data.test_size: must be between 0 and 1",
        ),
        (_with("data.seed", 1.5), "params.yaml: mlops.data.seed: expected an integer, got 1.5"),
        (_with("data.seed", True), "params.yaml: mlops.data.seed: expected an integer, got True"),
        (
            _with("train.mode", "comand"),
            "params.yaml: mlops.train.mode: 'comand' is not one of builtin, command, dvc (did you mean 'command'?)",
        ),
        (
            _with("train.mode", "command"),
            "params.yaml: mlops.train.command: required when mlops.train.mode is 'command'",
        ),
        (
            _with("train.code", "train.py"),
            "params.yaml: mlops.train.code: expected a list, got 'train.py'",
        ),
        (
            _with("cache.enabled", "yes"),
            "params.yaml: mlops.cache.enabled: expected true or false, got 'yes'",
        ),
        (
            _with("model.name", "My Model"),
            "params.yaml: mlops.model.name: 'My Model' is not a valid registry name",
        ),
        (
            _with("model.name", "team//churn"),
            "params.yaml: mlops.model.name: 'team//churn' is not a valid registry name "
            "(lowercase letters, digits and dashes, e.g. 'churn-model')",
        ),
        (
            _with("model.estimator", "RandomForest"),
            "params.yaml: mlops.model.estimator: 'RandomForest' is not an import path",
        ),
        (
            _with("model.params", [1]),
            "params.yaml: mlops.model.params: expected a mapping, got [1]",
        ),
    ],
)
def test_config_errors_name_the_file_and_key(params: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse(
            params if params is None or not isinstance(params, dict) else params_file(params),
            "params.yaml",
        )
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_valid_params_load_into_typed_objects(tmp_path: Path) -> None:
    write_params(tmp_path, DEMO_PARAMS)
    cfg = settings.load(tmp_path / "params.yaml")
    assert cfg.data.target == "diagnosis"
    assert cfg.data.test_size == 0.25
    assert cfg.model.params == {"n_estimators": 20, "max_depth": 4}
    assert cfg.train.mode == "builtin"
    assert cfg.cache.dir == ".mlops-cache"
    assert cfg.resolve("metrics.json") == tmp_path.resolve() / "metrics.json"


def test_not_yaml_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "params.yaml"
    path.write_text("data:\n  path: [unclosed\nmodel: {}\n")
    with pytest.raises(ConfigError, match=r"params.yaml: not valid YAML at line \d+"):
        settings.load(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; create it"):
        settings.load(tmp_path / "params.yaml")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "model.estimator",
            "sklearn.ensemble.NoSuchForest",
            "params.yaml: mlops.model.estimator: 'sklearn.ensemble' has no 'NoSuchForest'",
        ),
        (
            "model.estimator",
            "nosuchpackage.Model",
            "params.yaml: mlops.model.estimator: cannot import 'nosuchpackage'",
        ),
        (
            "model.estimator",
            "collections.OrderedDict",
            "params.yaml: mlops.model.estimator: 'collections.OrderedDict' is not a scikit-learn estimator",
        ),
        (
            "model.params",
            {"n_estimatorz": 3},
            "params.yaml: mlops.model.params.n_estimatorz: not a parameter of RandomForestClassifier (did you mean 'n_estimators'?)",
        ),
        (
            "data.target",
            "diagnosys",
            "params.yaml: mlops.data.target: column 'diagnosys' is not in data/breast_cancer.csv (did you mean 'diagnosis'?)",
        ),
    ],
)
def test_training_config_errors_exit_2_and_write_nothing(
    demo_repo: Path, capsys: pytest.CaptureFixture[str], key: str, value: Any, message: str
) -> None:
    write_params(demo_repo, _with(key, value))
    assert cli.main(["train"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"error: {message}")
    assert not (demo_repo / "metrics.json").exists()
    assert not (demo_repo / "model").exists()
    runs = demo_repo / ".mlops-cache" / "runs"
    assert not runs.exists() or not any(p for p in runs.iterdir() if not p.name.startswith("."))


def test_the_users_own_top_level_params_are_never_judged() -> None:
    own = {
        "prepare": {"split": 0.2, "seed": 20170428},
        "featurize": {"max_features": 100, "ngrams": 1},
        "train": {"seed": 20170428, "n_est": 50, "min_split": 0.01},
        "data": {"path": "elsewhere.csv"},
        "model": {"layers": [64, 32]},
    }
    cfg = settings.parse(params_file(DEMO_PARAMS, own), "params.yaml")
    assert cfg.data.path == "data/breast_cancer.csv"
    assert cfg.model.name == "demo-model"
    assert cfg.raw["prepare"] == own["prepare"]
    assert cfg.training_params()["data"] == DEMO_PARAMS["data"]  # the run key: ours only


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {**DEMO_PARAMS, "gates": ["f1 >= 0.8"]},
            "params.yaml: gates, model, data: our settings now live under one top-level key; "
            "move them under `mlops:` (your own params stay where they are)",
        ),
        ({"gates": ["f1 >= 0.8"], "train": {"epochs": 3}}, "params.yaml: gates: our settings"),
        ({"mlops": ["data"]}, "params.yaml: mlops: expected a mapping, got ['data']"),
        (
            {"mlops": {**DEMO_PARAMS, "gates": ["f1 >= 0.9x"]}},
            "params.yaml: mlops.gates[0]: 'f1 >= 0.9x': unexpected 'x'",
        ),
    ],
)
def test_the_old_layout_gets_one_line_to_move_it(params: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings.parse(params, "params.yaml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
