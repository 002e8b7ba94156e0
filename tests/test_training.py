from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.helpers import DEMO_PARAMS, commit_all, dvc, write_diabetes, write_params


def _train(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = cli.main(["train", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _metrics(repo: Path) -> dict[str, Any]:
    return json.loads((repo / "metrics.json").read_text())


def _entries(repo: Path) -> list[Path]:
    runs = repo / ".mlops-cache" / "runs"
    return [p for p in runs.iterdir() if not p.name.startswith(".")] if runs.exists() else []


def test_builtin_classification_writes_metrics_model_and_card(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _train(capsys)
    assert code == 0, out
    metrics = _metrics(demo_repo)
    for key in (
        "accuracy",
        "balanced_accuracy",
        "precision",
        "recall",
        "f1",
        "roc_auc",
        "log_loss",
    ):
        assert 0 <= metrics[key] <= 1 or key == "log_loss", key
    assert metrics["accuracy"] > 0.9
    assert metrics["rows"] == {"train": 426, "test": 143}
    assert "confusion_matrix" not in metrics  # kept apart from the scalars
    confusion = json.loads((demo_repo / "confusion_matrix.json").read_text())
    assert confusion["labels"] == ["benign", "malignant"]
    assert sum(map(sum, confusion["matrix"])) == 143
    model = demo_repo / "model" / "model.skops"
    assert model.read_bytes()[:2] == b"PK"  # a skops zip archive, not a pickle
    from skops import io as skio

    loaded = skio.load(model, trusted=skio.get_untrusted_types(file=model))
    # The file the saver child wrote is the model the metrics were computed with.
    import pandas as pd
    from sklearn.metrics import accuracy_score, log_loss
    from sklearn.model_selection import train_test_split

    table = pd.read_csv(demo_repo / "data" / "breast_cancer.csv")
    y = table["diagnosis"]
    _, x_test, _, y_test = train_test_split(
        table.drop(columns=["diagnosis"]), y, test_size=0.25, random_state=42, stratify=y
    )
    assert accuracy_score(y_test, loaded.predict(x_test)) == metrics["accuracy"]
    assert (
        log_loss(y_test, loaded.predict_proba(x_test), labels=list(loaded.classes_))
        == (metrics["log_loss"])
    )
    card = json.loads((demo_repo / "model" / "card.json").read_text())
    assert card["data"]["data"]["md5"].endswith(".dir")
    assert card["git"]["commit"]
    assert card["versions"]["scikit-learn"]
    assert card["params"]["model"]["params"] == {"n_estimators": 20, "max_depth": 4}
    assert card["metrics"] == metrics
    assert card["training_seconds"] > 0
    import hashlib

    assert card["model"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()


def test_same_seed_gives_same_metrics(demo_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _train(capsys, "--no-cache")[0] == 0
    first = _metrics(demo_repo)
    assert _train(capsys, "--no-cache")[0] == 0
    assert _metrics(demo_repo) == first


def test_run_cache_hit_and_misses(demo_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _train(capsys)
    assert code == 0 and "trained (builtin)" in out
    first = _metrics(demo_repo)
    (demo_repo / "metrics.json").unlink()
    shutil.rmtree(demo_repo / "model")

    code, out = _train(capsys)
    assert code == 0 and "cache hit" in out
    assert _metrics(demo_repo) == first
    assert (demo_repo / "model" / "model.skops").is_file()

    # One param changed: a miss, and a second entry.
    params = copy.deepcopy(DEMO_PARAMS)
    params["model"]["params"]["max_depth"] = 3
    write_params(demo_repo, params)
    code, out = _train(capsys)
    assert code == 0 and "trained (builtin)" in out
    assert len(_entries(demo_repo)) == 2

    # Data changed (a new version recorded with dvc add): a miss.
    csv = demo_repo / "data" / "breast_cancer.csv"
    lines = csv.read_text().splitlines(keepends=True)
    csv.write_text("".join(lines[:-20]))
    dvc(demo_repo, "add", "-q", "data")
    code, out = _train(capsys)
    assert code == 0 and "trained (builtin)" in out
    assert _metrics(demo_repo)["rows"]["test"] < first["rows"]["test"]


def test_corrupt_cache_entry_is_rebuilt_not_trusted(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _train(capsys)[0] == 0
    good = _metrics(demo_repo)
    (entry,) = _entries(demo_repo)
    (entry / "metrics.json").write_text('{"accuracy": 1.0}\n')  # tampered
    code, out = _train(capsys)
    assert code == 0
    assert "corrupt" in out and "trained (builtin)" in out
    assert _metrics(demo_repo) == good
    code, out = _train(capsys)
    assert "cache hit" in out


def test_code_named_in_train_code_is_part_of_the_key(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    params = copy.deepcopy(DEMO_PARAMS)
    params["train"]["code"] = ["features.py"]
    (demo_repo / "features.py").write_text("SCALE = 1\n")
    write_params(demo_repo, params)
    assert "trained" in _train(capsys)[1]
    assert "cache hit" in _train(capsys)[1]
    (demo_repo / "features.py").write_text("SCALE = 2\n")
    assert "trained" in _train(capsys)[1]


def test_builtin_regression_and_parquet(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    write_diabetes(git_repo / "data" / "diabetes.csv")
    pd.read_csv(git_repo / "data" / "diabetes.csv").to_parquet(
        git_repo / "data" / "diabetes.parquet"
    )
    params = {
        "data": {"path": "data/diabetes.parquet", "target": "target", "seed": 1},
        "model": {
            "name": "diabetes",
            "estimator": "sklearn.linear_model.Ridge",
            "params": {"alpha": 1.0},
        },
    }
    write_params(git_repo, params)
    commit_all(git_repo, "regression project")
    code, out = _train(capsys)
    assert code == 0, out
    metrics = _metrics(git_repo)
    assert set(metrics) == {"rmse", "mae", "r2", "rows", "ci"}
    assert set(metrics["ci"]) == {"rmse", "mae", "r2"}
    assert 40 < metrics["rmse"] < 80 and metrics["r2"] > 0.3
    assert not (git_repo / "confusion_matrix.json").exists()


def test_categorical_columns_are_encoded(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = ["colour,size,label"] + [
        f"{c},{s},{'yes' if c == 'red' else 'no'}"
        for c in ("red", "blue", "green")
        for s in range(20)
    ]
    (git_repo / "t.csv").write_text("\n".join(rows) + "\n")
    write_params(
        git_repo,
        {
            "data": {"path": "t.csv", "target": "label"},
            "model": {"name": "m", "estimator": "sklearn.linear_model.LogisticRegression"},
        },
    )
    code, out = _train(capsys)
    assert code == 0, out
    assert _metrics(git_repo)["accuracy"] == 1.0


TRAIN_PY = """
import json, os, sys, yaml
params = yaml.safe_load(open(os.environ["MLOPS_PARAMS"]))
with open("{metrics}", "w") as f:
    {dump}
os.makedirs("model", exist_ok=True)
open("model/model.bin", "w").write("weights")
print("custom training done")
"""


@pytest.mark.parametrize(
    ("metrics_file", "dump"),
    [
        ("scores.json", 'json.dump({"auc": 0.8, "nested": {"loss": 0.3}}, f)'),
        ("scores.yaml", 'yaml.safe_dump({"auc": 0.8, "nested": {"loss": 0.3}}, f)'),
    ],
)
def test_command_mode_reads_the_metrics_it_writes(
    git_repo: Path, capsys: pytest.CaptureFixture[str], metrics_file: str, dump: str
) -> None:
    (git_repo / "train.py").write_text(TRAIN_PY.format(metrics=metrics_file, dump=dump))
    write_params(
        git_repo,
        {
            "data": {"path": "train.py", "target": "y"},
            "model": {"name": "custom"},
            "train": {
                "mode": "command",
                "command": "python train.py",
                "metrics": metrics_file,
                "model": "model/model.bin",
            },
        },
    )
    code = cli.main(["train"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "auc" in out.out and "nested.loss" in out.out
    card = json.loads((git_repo / "model" / "card.json").read_text())
    assert card["mode"] == "command" and card["metrics"]["auc"] == 0.8
    assert card["model"]["path"] == "model/model.bin"
    # Same inputs: cache hit. The script (named by the command) changed: a miss.
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out
    (git_repo / "train.py").write_text(
        TRAIN_PY.format(metrics=metrics_file, dump=dump) + "\n# v2\n"
    )
    assert cli.main(["train"]) == 0
    assert "trained (command)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("exit 3", "mlops.train.command exited with code 3"),
        ("true", "metrics.json: mlops.train.command finished but did not write this metrics file"),
        ("echo '{not json' > metrics.json", "metrics.json: not valid JSON"),
    ],
)
def test_command_mode_failures(
    git_repo: Path, capsys: pytest.CaptureFixture[str], command: str, message: str
) -> None:
    (git_repo / "d.csv").write_text("a,y\n1,2\n")
    write_params(
        git_repo,
        {
            "data": {"path": "d.csv", "target": "y"},
            "model": {"name": "custom"},
            "train": {"mode": "command", "command": command},
        },
    )
    assert cli.main(["train"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (git_repo / "model" / "card.json").exists()
    assert not _entries(git_repo)


DVC_YAML = """
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [model]
    metrics:
      - eval/metrics.json:
          cache: false
"""

DVC_TRAIN = """
import json, os, yaml
p = yaml.safe_load(open("params.yaml"))
os.makedirs("eval", exist_ok=True)
json.dump({"score": 0.5 + p["model"]["params"]["k"] / 10}, open("eval/metrics.json", "w"))
"""


def test_dvc_mode_runs_repro_and_reads_declared_metrics(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dvc(git_repo, "init", "-q")
    (git_repo / "dvc.yaml").write_text(DVC_YAML)
    (git_repo / "train.py").write_text(DVC_TRAIN)
    (git_repo / "d.csv").write_text("a,y\n1,2\n")
    own = {"model": {"params": {"k": 2}}}  # the user's own `model`, read by dvc.yaml
    ours = {"model": {"name": "piped"}, "train": {"mode": "dvc", "metrics": "metrics.json"}}
    write_params(git_repo, ours, own)
    commit_all(git_repo, "dvc pipeline")
    # mlops.train.metrics must name a file dvc.yaml declares: gates and compare read it later.
    assert cli.main(["train"]) == 2
    assert (
        "params.yaml: mlops.train.metrics: 'metrics.json' is not a metrics file dvc.yaml "
        "declares (eval/metrics.json)" in capsys.readouterr().err
    )
    # Unset, it is the first metrics file dvc.yaml declares.
    write_params(git_repo, {"model": {"name": "piped"}}, own)
    assert cli.main(["train"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "trained (dvc)" in out and "score" in out
    assert json.loads((git_repo / "eval" / "metrics.json").read_text()) == {"score": 0.7}
    assert (git_repo / "dvc.lock").is_file()
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out
    # A file in a directory the stage depends on is code too: changing it retrains.
    (git_repo / "src").mkdir()
    (git_repo / "src" / "helper.py").write_text("FACTOR = 1\n")
    (git_repo / "dvc.yaml").write_text(
        DVC_YAML.replace("deps: [train.py]", "deps: [train.py, src]")
    )
    assert cli.main(["train"]) == 0
    assert "trained (dvc)" in capsys.readouterr().out
    assert cli.main(["train"]) == 0
    assert "cache hit" in capsys.readouterr().out
    (git_repo / "src" / "helper.py").write_text("FACTOR = 2\n")
    assert cli.main(["train"]) == 0
    assert "trained (dvc)" in capsys.readouterr().out


def test_dvc_mode_without_dvc_yaml(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (git_repo / "d.csv").write_text("a,y\n1,2\n")
    write_params(
        git_repo,
        {
            "data": {"path": "d.csv", "target": "y"},
            "model": {"name": "m"},
            "train": {"mode": "dvc"},
        },
    )
    assert cli.main(["train"]) == 2
    assert "params.yaml: mlops.train.mode: 'dvc' needs a dvc.yaml" in capsys.readouterr().err


def test_a_table_dvc_does_not_record_is_hashed_into_the_key(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file added inside the tracked directory without `dvc add` must not hit the cache."""
    extra = demo_repo / "data" / "smaller.csv"
    lines = (demo_repo / "data" / "breast_cancer.csv").read_text().splitlines(keepends=True)
    extra.write_text("".join(lines[:300]))
    params = copy.deepcopy(DEMO_PARAMS)
    params["data"]["path"] = "data/smaller.csv"
    write_params(demo_repo, params)
    assert "trained" in _train(capsys)[1]
    assert "cache hit" in _train(capsys)[1]
    extra.write_text("".join(lines[:200]))
    assert "trained" in _train(capsys)[1]
    assert _metrics(demo_repo)["rows"]["test"] == 50


def test_estimator_from_the_project_is_code(
    git_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (git_repo / "mymodels").mkdir()
    (git_repo / "mymodels" / "__init__.py").write_text(
        "from sklearn.linear_model import LogisticRegression\n\n\n"
        "class Clf(LogisticRegression):\n    pass\n"
    )
    write_diabetes(git_repo / "d.csv")
    import pandas as pd

    frame = pd.read_csv(git_repo / "d.csv")
    frame["target"] = (frame["target"] > 140).astype(int)
    frame.to_csv(git_repo / "d.csv", index=False)
    write_params(
        git_repo,
        {
            "data": {"path": "d.csv", "target": "target"},
            "model": {"name": "m", "estimator": "mymodels.Clf", "params": {"max_iter": 500}},
        },
    )
    import sys

    try:
        assert "trained" in _train(capsys)[1]
        assert "cache hit" in _train(capsys)[1]
        with (git_repo / "mymodels" / "__init__.py").open("a") as f:
            f.write("# changed\n")
        assert "trained" in _train(capsys)[1]
    finally:
        if str(git_repo.resolve()) in sys.path:
            sys.path.remove(str(git_repo.resolve()))
        sys.modules.pop("mymodels", None)
