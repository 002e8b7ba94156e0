"""Every shape of report a reader meets, made by the real renderers from realistic inputs: a
passing and a failing pull request on the demo classifier (the failing one with the built-in
trainer's plots), a regression, a DVC project's plots, the drift issue, and the job summary."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from mlops_actions.config import gates
from mlops_actions.monitor import drift, issue
from mlops_actions.monitor.watch import Decay, DecayEntry, MonitorResult
from mlops_actions.report import charts, markdown
from mlops_actions.report.markdown import DataChange, ReportInput, Row
from mlops_actions.report.plots import Plot, Series
from mlops_actions.report.standing import Placed, Standing

DEMO_RULES = ["accuracy >= 0.90", "f1 >= base - 0.02", "roc_auc >= 0.95", "rows.test >= 100"]
BASE = {
    "accuracy": 0.958,
    "balanced_accuracy": 0.9434,
    "precision": 1.0,
    "recall": 0.8868,
    "f1": 0.94,
    "roc_auc": 0.9954,
    "log_loss": 0.1129,
    "rows.train": 426,
    "rows.test": 143,
}
FAILING = {
    "accuracy": 0.9301,
    "balanced_accuracy": 0.9198,
    "precision": 0.9792,
    "recall": 0.8302,
    "f1": 0.902,
    "roc_auc": 0.9887,
    "log_loss": 0.1712,
    "rows.train": 426,
    "rows.test": 143,
}
PASSING = {**BASE, "accuracy": 0.965, "recall": 0.9057, "f1": 0.9505, "log_loss": 0.1051}


def _curves(noise: float, seed: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    from sklearn import metrics

    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, 143)
    scores = np.clip(actual * 0.6 + rng.normal(0.2, noise, 143), 0, 1)
    fpr, tpr, _ = metrics.roc_curve(actual, scores)
    precision, recall, _ = metrics.precision_recall_curve(actual, scores)
    return (
        [(float(x), float(y)) for x, y in zip(fpr, tpr, strict=True)],
        [(float(x), float(y)) for x, y in zip(recall, precision, strict=True)],
    )


def builtin_plots() -> list[Plot]:
    """The built-in trainer's plots, base and this run: ROC, precision-recall, confusion."""
    base_roc, base_pr = _curves(0.15, 0)
    new_roc, new_pr = _curves(0.2, 1)
    pairs_base = [("benign", "benign")] * 90 + [("malignant", "benign")] * 6
    pairs_base += [("malignant", "malignant")] * 47
    pairs_new = [("benign", "benign")] * 89 + [("benign", "malignant")]
    pairs_new += [("malignant", "benign")] * 9 + [("malignant", "malignant")] * 44
    return [
        Plot(
            "roc.json",
            {"title": "ROC"},
            "linear",
            ["roc.json"],
            base=[Series("roc.json", base_roc)],
            new=[Series("roc.json", new_roc)],
            x_label="false positive rate",
            y_label="true positive rate",
        ),
        Plot(
            "precision_recall.json",
            {"title": "Precision-recall"},
            "linear",
            ["precision_recall.json"],
            base=[Series("precision_recall.json", base_pr)],
            new=[Series("precision_recall.json", new_pr)],
            x_label="recall",
            y_label="precision",
        ),
        Plot(
            "confusion.json",
            {"title": "Confusion matrix", "template": "confusion"},
            "confusion",
            ["confusion.json"],
            base_pairs={"confusion.json": pairs_base},
            new_pairs={"confusion.json": pairs_new},
        ),
    ]


def dvc_plots() -> list[Plot]:
    """A DVC project's plots: the sklearn curves, a train/test loss over 30 epochs (two files),
    a loss per step, an image."""
    epochs = range(1, 31)
    train = [(float(e), 1 / e + 0.05) for e in epochs]
    test = [(float(e), 1 / e + 0.08 + 0.002 * e) for e in epochs]
    steps = [(float(s), round(1 / (s + 1) + 0.01 * s, 4)) for s in range(12)]
    return [
        *builtin_plots()[:2],
        Plot(
            "Train and test loss",
            {},
            "linear",
            ["eval/train.csv", "eval/test.csv"],
            base=[Series("eval/train.csv", train[:-1]), Series("eval/test.csv", test[:-1])],
            new=[
                Series("eval/train.csv", [(x, y * 0.97) for x, y in train]),
                Series("eval/test.csv", [(x, y * 0.98) for x, y in test]),
            ],
            x_label="epoch",
            y_label="loss",
        ),
        Plot(
            "eval/loss.tsv",
            {},
            "linear",
            ["eval/loss.tsv"],
            base=[Series("eval/loss.tsv", steps)],
            new=[Series("eval/loss.tsv", [(x, y * 1.02) for x, y in steps])],
            x_label="step_loss",
            y_label="loss",
        ),
        builtin_plots()[2],
        Plot(
            "eval/importance.png",
            {},
            "image",
            ["eval/importance.png"],
            images={"eval/importance.png": ("a" * 32, "b" * 32)},
        ),
    ]


def _input(
    base: dict[str, float],
    new: dict[str, float],
    rules: list[str],
    primary: str,
    **kw: Any,
) -> ReportInput:
    results = gates.evaluate(gates.parse_rules(rules, "params.yaml"), new, base)
    return ReportInput(
        model="breast-cancer-classifier",
        baseline="`main` (3f2c1aa)",
        metrics=[Row(name, base.get(name), value, "metrics.json") for name, value in new.items()],
        gates_markdown=gates.render_markdown(results, with_headline=False),
        verdict=gates.headline(results),
        failed=gates.failed_metrics(results),
        primary=primary,
        gated=[r.split()[0] for r in rules],
        mode="builtin",
        training_seconds=3.4,
        model_size=1_843_200,
        head="0123456789abcdef0123456789abcdef01234567",
        head_url="https://github.com/o/r/commit/0123456789abcdef0123456789abcdef01234567",
        run_url="https://github.com/o/r/actions/runs/1",
        **kw,
    )


def _classifier(new: dict[str, float], plots: list[Plot] | None) -> ReportInput:
    return _input(
        BASE,
        new,
        DEMO_RULES,
        "f1",
        params=[Row("mlops.model.params.max_depth", 6, 3, "params.yaml")],
        data=[DataChange("data", "a" * 32 + ".dir", "a" * 32 + ".dir", 1, 124_869)],
        intervals={"f1": (0.861, 0.938), "precision": (0.9375, 1.0), "accuracy": (0.902, 0.958)},
        base_intervals={
            "f1": (0.901, 0.972),
            "precision": (0.9792, 1.0),
            "accuracy": (0.923, 0.986),
        },
        plots=charts.render(plots, [], "https://github.com/o/r/actions/runs/1") if plots else None,
    )


def drift_issue() -> str:
    rng = np.random.default_rng(3)
    names = [
        f"{kind}_{part}"
        for kind in ("mean", "worst", "se")
        for part in (
            "radius",
            "texture",
            "perimeter",
            "area",
            "smoothness",
            "compactness",
            "concavity",
            "concave_points",
            "symmetry",
            "fractal_dimension",
        )
    ]
    import pandas as pd

    reference = pd.DataFrame({n: rng.normal(0, 1, 500) for n in names})
    current = pd.DataFrame({n: rng.normal(0, 1, 400) for n in names})
    current["mean_radius"] += 0.6
    current["worst_area"] += 0.4
    current["se_texture"] *= 1.5
    found = drift.compare(reference, current, names, drift.Thresholds(psi=0.1, share=0.05))
    decay_rules = gates.parse_rules(["f1 >= base - 0.05"], "params.yaml")
    decay = Decay(
        [DecayEntry("f1", 0.94, 0.871), DecayEntry("accuracy", 0.958, 0.91)],
        gates.evaluate(decay_rules, {"f1": 0.871}, {"f1": 0.94}),
        120,
    )
    result = MonitorResult(
        "breast-cancer-classifier",
        "v1.4.0",
        "breast-cancer-classifier@v1.4.0",
        "3f2c1aa",
        "data/incoming.csv",
        "data/breast_cancer.csv",
        500,
        400,
        found,
        decay,
    )
    history: list[issue.HistoryEntry] = [
        {
            "date": f"2026-11-{day:02d}T04:07:12Z",
            "version": "v1.4.0",
            "share": share,
            "alarm": share > 0.05,
        }
        for day, share in zip(
            range(6, 31),
            [
                0.0,
                0.0333,
                0.0,
                0.0333,
                0.0,
                0.0,
                0.0333,
                0.0667,
                0.0333,
                0.0,
                0.0,
                0.0333,
                0.0,
                0.0,
                0.0333,
                0.0,
                0.0333,
                0.0333,
                0.0667,
                0.0333,
                0.0,
                0.0333,
                0.0667,
                0.0333,
                0.1,
            ],
            strict=True,
        )
    ]
    return issue.issue_body(result, history, "https://github.com/o/r/actions/runs/9")


def standing() -> Standing:
    """A passing run third of 214 recorded runs (recording on): the five best of the others."""
    top = tuple(
        Placed(f"ci-1{i}482931-1", v, 40 + i, None)
        for i, v in enumerate([0.9612, 0.9558, 0.9481, 0.9477, 0.9460])
    )
    return Standing("f1", 0.9505, 3, 214, False, top[0], top)


def shapes() -> dict[str, str]:
    """Each report's Markdown, by name."""
    failing = markdown.render(_classifier(FAILING, builtin_plots()))
    regression = markdown.render(
        _input(
            {"rmse": 61.2, "mae": 45.3, "r2": 0.412, "rows.test": 111},
            {"rmse": 57.9, "mae": 46.1, "r2": 0.447, "rows.test": 111},
            ["rmse <= base + 2", "r2 >= 0.3"],
            "rmse",
            intervals={"rmse": (52.1, 63.8), "mae": (40.9, 51.2), "r2": (0.33, 0.53)},
            base_intervals={"rmse": (55.0, 67.4), "mae": (40.1, 50.6), "r2": (0.30, 0.50)},
            plots=charts.render(dvc_plots()[2:4], []),
        )
    )
    dvc = markdown.render(_classifier(PASSING, dvc_plots()))
    return {
        "passing-pr": markdown.render(
            dataclasses.replace(_classifier(PASSING, builtin_plots()), standing=standing())
        ),
        "failing-pr": failing,
        "regression": regression,
        "dvc-plots": dvc,
        "drift-issue": drift_issue(),
        "job-summary": markdown.opened(failing),
        "dvc-plots-summary": markdown.opened(dvc),
    }
