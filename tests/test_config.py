from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, config
from mlops_actions.errors import ConfigError
from tests.helpers import DEMO_PARAMS, write_params


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
        (None, "params.yaml: the file is empty"),
        ([], "params.yaml: expected a mapping"),
        ({"model": DEMO_PARAMS["model"]}, "params.yaml: data: required key is missing"),
        (
            _with("model.estimatr", "x"),
            "params.yaml: model.estimatr: unknown key (did you mean 'estimator'?)",
        ),
        (_with("dataa", {}), "params.yaml: dataa: unknown key (did you mean 'data'?)"),
        (_with("data.test_size", "a"), "params.yaml: data.test_size: expected a number, got 'a'"),
        (_with("data.test_size", 1.5), "params.yaml: data.test_size: must be between 0 and 1"),
        (_with("data.seed", 1.5), "params.yaml: data.seed: expected an integer, got 1.5"),
        (_with("data.seed", True), "params.yaml: data.seed: expected an integer, got True"),
        (
            _with("train.mode", "comand"),
            "params.yaml: train.mode: 'comand' is not one of builtin, command, dvc (did you mean 'command'?)",
        ),
        (
            _with("train.mode", "command"),
            "params.yaml: train.command: required when train.mode is 'command'",
        ),
        (
            _with("train.code", "train.py"),
            "params.yaml: train.code: expected a list, got 'train.py'",
        ),
        (
            _with("cache.enabled", "yes"),
            "params.yaml: cache.enabled: expected true or false, got 'yes'",
        ),
        (
            _with("model.name", "My Model"),
            "params.yaml: model.name: 'My Model' is not a valid registry name",
        ),
        (
            _with("model.name", "team//churn"),
            "params.yaml: model.name: 'team//churn' is not a valid registry name "
            "(lowercase letters, digits and dashes, e.g. 'churn-model')",
        ),
        (
            _with("model.estimator", "RandomForest"),
            "params.yaml: model.estimator: 'RandomForest' is not an import path",
        ),
        (_with("model.params", [1]), "params.yaml: model.params: expected a mapping, got [1]"),
    ],
)
def test_config_errors_name_the_file_and_key(params: Any, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.parse(params, "params.yaml")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_valid_params_load_into_typed_objects(tmp_path: Path) -> None:
    write_params(tmp_path, DEMO_PARAMS)
    cfg = config.load(tmp_path / "params.yaml")
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
        config.load(path)


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; create it"):
        config.load(tmp_path / "params.yaml")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "model.estimator",
            "sklearn.ensemble.NoSuchForest",
            "params.yaml: model.estimator: 'sklearn.ensemble' has no 'NoSuchForest'",
        ),
        (
            "model.estimator",
            "nosuchpackage.Model",
            "params.yaml: model.estimator: cannot import 'nosuchpackage'",
        ),
        (
            "model.estimator",
            "collections.OrderedDict",
            "params.yaml: model.estimator: 'collections.OrderedDict' is not a scikit-learn estimator",
        ),
        (
            "model.params",
            {"n_estimatorz": 3},
            "params.yaml: model.params.n_estimatorz: not a parameter of RandomForestClassifier (did you mean 'n_estimators'?)",
        ),
        (
            "data.target",
            "diagnosys",
            "params.yaml: data.target: column 'diagnosys' is not in data/breast_cancer.csv (did you mean 'diagnosis'?)",
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
