"""A DVC project with plots of every kind, in two commits: `main` (the base) and a workspace
that changed them. dvclive-format ROC, precision-recall and confusion files (as
`log_sklearn_plot` writes and declares them), a learning curve a stage writes into DVC's cache
(x and y left for DVC to infer), a named plot over two CSV files, and an image."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, dvc, init_repo

DVC_YAML = """\
stages:
  learn:
    cmd: python learn.py
    deps: [learn.py, params.yaml]
    params: [noise]
    plots:
      - eval/loss.tsv
plots:
  - dvclive/plots/sklearn/roc.json:
      template: simple
      x: fpr
      y: tpr
      title: Receiver operating characteristic (ROC)
      x_label: False Positive Rate
      y_label: True Positive Rate
  - dvclive/plots/sklearn/precision_recall.json:
      template: simple
      x: recall
      y: precision
      title: Precision-Recall Curve
      x_label: Recall
      y_label: Precision
  - dvclive/plots/sklearn/confusion_matrix.json:
      template: confusion
      x: actual
      y: predicted
      title: Confusion Matrix
      x_label: True Label
      y_label: Predicted Label
  - Train and test loss:
      x: epoch
      y:
        eval/train.csv: loss
        eval/test.csv: loss
  - eval/importance.png
"""

LEARN = """\
import yaml
noise = yaml.safe_load(open("params.yaml"))["noise"]
rows = ["step_loss\\tloss"] + [f"{1 / (i + 1):.4f}\\t{1 / (i + 1) + noise * i:.4f}" for i in range(12)]
open("eval/loss.tsv", "w").write("\\n".join(rows) + "\\n")
"""


def sklearn_plots(root: Path, noise: float, seed: int = 0) -> None:
    """dvclive's three sklearn plot files for a binary classifier whose scores carry `noise`."""
    import numpy as np
    from sklearn import metrics

    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, 200)
    scores = np.clip(actual * 0.6 + rng.normal(0.2, noise, 200), 0, 1)
    predicted = (scores > 0.5).astype(int)
    fpr, tpr, roc_t = metrics.roc_curve(actual, scores)
    precision, recall, pr_t = metrics.precision_recall_curve(actual, scores)
    out = root / "dvclive" / "plots" / "sklearn"
    out.mkdir(parents=True, exist_ok=True)
    roc = [
        {"fpr": float(f), "tpr": float(t), "threshold": min(float(h), 2.0)}
        for f, t, h in zip(fpr, tpr, roc_t, strict=True)
    ]
    (out / "roc.json").write_text(json.dumps({"roc": roc}))
    pr = [
        {"precision": float(p), "recall": float(r), "threshold": float(h)}
        for p, r, h in zip(precision, recall, pr_t, strict=False)
    ]
    (out / "precision_recall.json").write_text(json.dumps({"precision_recall": pr}))
    cm = [{"actual": str(a), "predicted": str(p)} for a, p in zip(actual, predicted, strict=True)]
    (out / "confusion_matrix.json").write_text(json.dumps(cm))


def losses(root: Path, slope: float) -> None:
    for name, extra in (("train", 0.0), ("test", 0.05)):
        rows = ["epoch,loss"] + [f"{e},{1 / e + extra + slope * e:.4f}" for e in range(1, 11)]
        (root / "eval" / f"{name}.csv").write_text("\n".join(rows) + "\n")


def build(base: Path) -> tuple[Path, str]:
    """base/plots: main committed (its learn stage's output in DVC's cache only), then the
    workspace changed: new scores, losses, image, and the stage re-run. Returns the repo and
    main's sha."""
    repo = init_repo(base / "plots")
    dvc(repo, "init", "-q")
    dvc(repo, "config", "core.analytics", "false")
    (repo / "eval").mkdir()
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "learn.py").write_text(LEARN)
    (repo / "params.yaml").write_text("noise: 0.01\n")
    sklearn_plots(repo, noise=0.35)
    losses(repo, slope=0.01)
    (repo / "eval" / "importance.png").write_bytes(b"\x89PNG\r\n\x1a\nbase")
    dvc(repo, "repro", "-q")
    sha = commit_all(repo, "main")
    (repo / "params.yaml").write_text("noise: 0.03\n")
    sklearn_plots(repo, noise=0.2)
    losses(repo, slope=0.005)
    (repo / "eval" / "importance.png").write_bytes(b"\x89PNG\r\n\x1a\nthis run")
    dvc(repo, "repro", "-q")
    return repo, sha
