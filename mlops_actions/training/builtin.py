"""The built-in trainer: pandas reads the table, scikit-learn fits and evaluates."""

from __future__ import annotations

import dataclasses
import importlib
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions import output
from mlops_actions.config.settings import Config
from mlops_actions.errors import ConfigError, DataError
from mlops_actions.training.base import Artifacts, NoPipeline
from mlops_actions.training.common import named_code, package_versions
from mlops_actions.training.plotfiles import this_runs_plots, write_plots
from mlops_actions.training.saver import ModelSaver
from mlops_actions.util import atomic_path, close_names, did_you_mean, write_json

if TYPE_CHECKING:
    from mlops_actions.dvcio.data import DataVersion
    from mlops_actions.dvcio.dvcyaml import PlotDecl


def project_importable(cfg: Config) -> None:
    """Let `mlops.model.estimator` name the project's own module (e.g. `models.custom.Clf`).

    Only when its top-level module is not installed but lives in the project root, and then
    at the end of `sys.path`: a `sklearn/` or `skops/` committed in the checkout must never
    stand in for the installed package."""
    import importlib.util

    root = str(cfg.root)
    top = cfg.model.estimator.split(".")[0]
    if root in sys.path or not top.isidentifier():
        return
    try:
        installed = importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        installed = False
    if installed:
        return
    if (cfg.root / f"{top}.py").is_file() or (cfg.root / top).is_dir():
        sys.path.append(root)


def load_estimator_class(cfg: Config) -> type[Any]:
    where = f"{cfg.path}: mlops.model.estimator"
    project_importable(cfg)
    module_name, _, attr = cfg.model.estimator.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"{where}: cannot import '{module_name}' ({exc}); install it or fix the path"
        ) from None
    try:
        cls = getattr(module, attr)
    except AttributeError:
        names = {n for n in dir(module) if not n.startswith("_")}
        raise ConfigError(
            f"{where}: '{module_name}' has no '{attr}'{did_you_mean(attr, names)}"
        ) from None
    if not isinstance(cls, type) or not all(
        hasattr(cls, m) for m in ("fit", "predict", "get_params")
    ):
        raise ConfigError(
            f"{where}: '{cfg.model.estimator}' is not a scikit-learn estimator "
            "(it needs fit, predict and get_params)"
        )
    return cls


def make_estimator(cfg: Config, cls: type[Any]) -> Any:
    params = dict(cfg.model.params)
    try:
        known = set(cls().get_params())
    except Exception:
        known = set()
    for key in params:
        if known and key not in known:
            raise ConfigError(
                f"{cfg.path}: mlops.model.params.{key}: not a parameter of {cls.__name__}"
                f"{did_you_mean(key, known)}"
            )
    if "random_state" in known and "random_state" not in params:
        params["random_state"] = cfg.data.seed
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cfg.path}: mlops.model.params: {exc}") from None


def _missing_table(path: Path, name: str) -> str:
    """A table that is not there: a typo when its directory exists (the data was pulled), else
    data not pulled yet."""
    folder = path.parent
    if not folder.is_dir():
        return f"{name}: not found; run `mlops-actions pull` first (mlops.data.path in params.yaml)"
    names = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
    close = close_names(path.name, names)
    hint = f"; close names: {', '.join(close)}" if close else ""
    return f"{name}: not in the pulled data{hint}; check mlops.data.path in params.yaml"


def read_table(path: Path, name: str) -> Any:
    import pandas as pd

    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except FileNotFoundError:
        raise DataError(_missing_table(path, name)) from None
    except Exception as exc:
        raise DataError(f"{name}: cannot be read as a table: {exc}") from None


def _task(cfg: Config, estimator: Any) -> str:
    from sklearn.base import is_classifier, is_regressor

    kind = (
        "classification"
        if is_classifier(estimator)
        else "regression"
        if is_regressor(estimator)
        else None
    )
    if kind is None:
        raise ConfigError(
            f"{cfg.path}: mlops.model.estimator: '{cfg.model.estimator}' is neither a classifier nor a regressor"
        )
    if cfg.data.task not in ("auto", kind):
        raise ConfigError(
            f"{cfg.path}: mlops.data.task: is '{cfg.data.task}' but {cfg.model.estimator} does {kind}"
        )
    return kind


def _with_encoding(estimator: Any, features: Any) -> Any:
    """Wrap the estimator so text/categorical columns are one-hot encoded."""
    categorical = [
        c
        for c in features.columns
        if features[c].dtype.kind in "OSUbc"
        or str(features[c].dtype) in ("category", "string", "str")
    ]
    if not categorical:
        return estimator
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    prep = ColumnTransformer(
        [("categorical", OneHotEncoder(handle_unknown="ignore"), categorical)],
        remainder="passthrough",
    )
    return Pipeline([("encode", prep), ("model", estimator)])


def _clean(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


Predicted = tuple[Any, Any, Any]  # (labels, probabilities or None, positive scores or None)


def predictions(model: Any, x_test: Any, labels: list[Any]) -> Predicted:
    """The predicted labels, the class probabilities and (binary) the positive class's scores."""
    pred = model.predict(x_test)
    proba = model.predict_proba(x_test) if hasattr(model, "predict_proba") else None
    scores = None
    if len(labels) == 2:
        if proba is not None:
            scores = proba[:, 1]
        elif hasattr(model, "decision_function"):
            scores = model.decision_function(x_test)
    return pred, proba, scores


def classification_metrics(
    model: Any,
    x_test: Any,
    y_test: Any,
    labels: list[Any],
    seed: int = 0,
    predicted: Predicted | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The test-set scores, their bootstrap intervals under "ci", and the confusion matrix.
    The resamples are drawn in a thread while scikit-learn computes the scores."""
    from concurrent.futures import ThreadPoolExecutor

    import pandas as pd
    from sklearn import metrics as m

    from mlops_actions.training import bootstrap

    pred, proba, scores = predicted or predictions(model, x_test, labels)
    binary = len(labels) == 2
    with_auc = binary and scores is not None and pd.Series(y_test).nunique() == 2
    with ThreadPoolExecutor(max_workers=1) as pool:
        drawn = pool.submit(
            bootstrap.classification_resamples,
            y_test.to_numpy(),
            pred,
            labels,
            scores if with_auc else None,
            seed,
        )
        avg: dict[str, Any] = (
            {"average": "binary", "pos_label": labels[1]} if binary else {"average": "macro"}
        )
        result: dict[str, Any] = {
            "accuracy": m.accuracy_score(y_test, pred),
            "balanced_accuracy": m.balanced_accuracy_score(y_test, pred),
            "precision": m.precision_score(y_test, pred, zero_division=0, **avg),
            "recall": m.recall_score(y_test, pred, zero_division=0, **avg),
            "f1": m.f1_score(y_test, pred, zero_division=0, **avg),
        }
        if with_auc:
            result["roc_auc"] = m.roc_auc_score(y_test, scores)
        if proba is not None:
            result["log_loss"] = m.log_loss(y_test, proba, labels=list(model.classes_))
        matrix = m.confusion_matrix(y_test, pred, labels=labels)
        clean = {k: _clean(v) for k, v in result.items()}
        ci = bootstrap.intervals_of(drawn.result(), clean)
    confusion = {"labels": [str(v) for v in labels], "matrix": matrix.tolist()}
    return {**clean, bootstrap.CI_KEY: ci} if ci else clean, confusion


def regression_metrics(model: Any, x_test: Any, y_test: Any, seed: int = 0) -> dict[str, Any]:
    """The test-set scores and their bootstrap intervals under "ci"."""
    from sklearn import metrics as m

    from mlops_actions.training import bootstrap

    pred = model.predict(x_test)
    mse = m.mean_squared_error(y_test, pred)
    scores = {
        "rmse": _clean(math.sqrt(mse)),
        "mae": _clean(m.mean_absolute_error(y_test, pred)),
        "r2": _clean(m.r2_score(y_test, pred)) if len(y_test) > 1 else None,
    }
    ci = bootstrap.regression_intervals(y_test.to_numpy(), pred, scores, seed)
    return {**scores, bootstrap.CI_KEY: ci} if ci else scores


def _local_code(top_level: str, root: Path) -> Path | None:
    """The project's own module or package `top_level`, if that is where it lives.

    Looks at the top-level module only, so nothing (not even scikit-learn) gets imported.
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return None
    origin = Path(spec.origin).resolve()
    if root.resolve() not in origin.parents:
        return None
    return origin.parent if origin.name == "__init__.py" else origin


def _distribution_versions(top_level: str) -> dict[str, str]:
    """Versions of the distribution that provides `top_level` (e.g. xgboost)."""
    if top_level == "sklearn":
        return {}  # scikit-learn is always in the key
    found = package_versions(top_level)
    if not found:  # the distribution is named differently from its module
        from importlib import metadata

        found = package_versions(*metadata.packages_distributions().get(top_level, []))
    return found


class BuiltinTrainer(NoPipeline):
    mode = "builtin"
    run_settings = ("data", "model", "train")  # as `Config.training_params` keys its run

    def untracked_data(self, cfg: Config) -> DataVersion:
        """The table as it is in the workspace (kept in git), versioned by its own md5."""
        from mlops_actions.dvcio import data

        assert cfg.data.path is not None  # config requires it in builtin mode
        return data.untracked(cfg.root, cfg.data.path, f"{cfg.path}: mlops.data.path")

    def plot_decls(self, cfg: Config, root: Path) -> list[PlotDecl]:
        """Its ROC, precision-recall and confusion files, as dvclive writes them: no dvc.yaml
        declares them, and only the files the last run wrote (its model card says) count."""
        from mlops_actions.report import plots

        return plots.builtin_decls(root, cfg.root, this_runs_plots(cfg))

    def code_files(self, cfg: Config) -> list[Path]:
        # An estimator defined in the project (e.g. models.custom.Clf) is code too.
        project_importable(cfg)
        local = _local_code(cfg.model.estimator.split(".")[0], cfg.root)
        return named_code(cfg, [str(local)] if local else [])

    def versions(self, cfg: Config) -> dict[str, str]:
        found = package_versions("scikit-learn", "pandas", "numpy", "scipy", "skops", "pyarrow")
        # The estimator's own package (xgboost, lightgbm, ...): a new release retrains.
        return {**found, **_distribution_versions(cfg.model.estimator.split(".")[0])}

    def train(self, cfg: Config, staging: Path) -> Artifacts:
        # The saver's child is reaped before the temporary model file is dropped on failure.
        with atomic_path(staging / "model.skops") as tmp, ModelSaver() as saver:
            artifacts = self._fit(cfg, staging, saver, tmp)
            plots = [path for written in saver.wait() for path in written]
        return dataclasses.replace(artifacts, plots=tuple(plots))

    def _fit(self, cfg: Config, staging: Path, saver: ModelSaver, model_file: Path) -> Artifacts:
        """Read, split, fit, evaluate. The model saver forks once scikit-learn is loaded (its
        child shares those modules), gets the model as soon as it is fitted and then writes
        the plot files, while this process computes the metrics and their intervals."""
        from sklearn.model_selection import train_test_split

        cls = load_estimator_class(cfg)
        saver.prepare(model_file)
        estimator = make_estimator(cfg, cls)
        task = _task(cfg, estimator)
        assert cfg.data.path is not None and cfg.data.target is not None  # config checked
        table = read_table(cfg.resolve(cfg.data.path), cfg.data.path)
        target = cfg.data.target
        if target not in table.columns:
            columns = [str(c) for c in table.columns]
            close = close_names(target, columns)
            ordered = close + [c for c in columns if c not in close]
            shown = ", ".join(ordered[:8]) + (", …" if len(ordered) > 8 else "")
            raise ConfigError(
                f"{cfg.path}: mlops.data.target: column '{target}' is not in {cfg.data.path}"
                f"{did_you_mean(target, set(columns))} (columns, closest first: {shown})"
            )
        missing = int(table[target].isna().sum())
        if missing:
            raise DataError(
                f"{cfg.data.path}: {missing} rows have no value in the target column '{target}'"
            )
        y = table[target]
        x = table.drop(columns=[target])
        model = _with_encoding(estimator, x)
        stratify = None
        if task == "classification":
            counts = y.value_counts()
            if len(counts) < 2:
                raise DataError(f"{cfg.data.path}: the target column '{target}' has a single class")
            stratify = y if counts.min() >= 2 else None
        try:
            x_train, x_test, y_train, y_test = train_test_split(
                x, y, test_size=cfg.data.test_size, random_state=cfg.data.seed, stratify=stratify
            )
        except ValueError as exc:
            raise DataError(f"{cfg.data.path}: cannot split for testing: {exc}") from None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            try:
                model.fit(x_train, y_train)
            except ValueError as exc:
                raise DataError(
                    f"{cfg.data.path}: {cfg.model.estimator} cannot fit this data: {exc}"
                ) from None
        saver.send(model)
        confusion = None
        if task == "classification":
            labels = sorted(y.unique().tolist(), key=str)
            predicted = predictions(model, x_test, labels)
            pred, _, positive_scores = predicted  # the probabilities stay here
            saver.submit(write_plots, staging, y_test, (pred, None, positive_scores), labels)
            scores, confusion = classification_metrics(
                model, x_test, y_test, labels, cfg.data.seed, predicted
            )
        else:
            scores = regression_metrics(model, x_test, y_test, cfg.data.seed)
        for key, value in scores.items():
            if value is None:
                output.warning(
                    f"metric {key} is not a finite number on this split; recorded as null"
                )
        metrics = {**scores, "rows": {"train": len(x_train), "test": len(x_test)}}
        write_json(staging / "metrics.json", metrics)
        if confusion is not None:
            write_json(staging / "confusion.json", confusion)
        artifacts = Artifacts(
            metrics=staging / "metrics.json",
            model=staging / "model.skops",
            confusion=staging / "confusion.json" if confusion is not None else None,
        )
        return artifacts
