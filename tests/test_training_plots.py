"""The built-in trainer's plot files: curves of a bounded number of points that stay on the
exact curve and keep its end points, confusion rows that count exactly, all read and drawn by
real `dvc plots diff`."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m

from mlops_actions.report.plots import BUILTIN_FILES, BUILTIN_PROPS
from mlops_actions.training.plotfiles import CURVE_POINTS
from mlops_actions.training.plotfiles import write_plots as write_files
from tests.helpers import commit_all, dvc, init_repo


def _test_set(rows: int, seed: int) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Labels "neg"/"pos", ~all-distinct scores of a useful but imperfect model, predictions."""
    rng = np.random.default_rng(seed)
    signal = rng.standard_normal(rows)
    y = pd.Series(np.where(signal + 1.5 * rng.standard_normal(rows) > 0, "pos", "neg"))
    scores = 1 / (1 + np.exp(-signal))
    return y, np.where(scores > 0.5, "pos", "neg"), scores


def _write(folder: Path, rows: int, seed: int) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    y, pred, scores = _test_set(rows, seed)
    written = write_files(folder, y, (pred, None, scores), ["neg", "pos"])
    assert sorted(p.relative_to(folder).as_posix() for p in written) == sorted(
        BUILTIN_FILES.values()
    )
    return y, pred, scores


def _rows(folder: Path, name: str) -> list[dict[str, Any]]:
    content = json.loads((folder / BUILTIN_FILES[name]).read_text())
    rows: list[dict[str, Any]] = content if name == "confusion_matrix" else content[name]
    return rows


def _farthest(xs: np.ndarray, ys: np.ndarray, kept: np.ndarray) -> float:
    """The largest distance of a point of the curve (xs, ys) from the line drawn between the
    kept points (ascending indices, both ends among them) on either side of it."""
    after = np.clip(np.searchsorted(kept, np.arange(len(xs))), 1, len(kept) - 1)
    ax, ay = xs[kept[after - 1]], ys[kept[after - 1]]
    dx, dy = xs[kept[after]] - ax, ys[kept[after]] - ay
    length2 = dx * dx + dy * dy
    qx, qy = xs - ax, ys - ay
    t = np.clip((qx * dx + qy * dy) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    return float(np.hypot(qx - t * dx, qy - t * dy).max())


def test_long_curves_are_cut_to_points_of_the_exact_curve_keeping_both_ends(
    tmp_path: Path,
) -> None:
    y, pred, scores = _write(tmp_path, 4_000, 1)
    fpr, tpr, roc_t = m.roc_curve(y, scores, pos_label="pos", drop_intermediate=False)
    precision, recall, pr_t = m.precision_recall_curve(y, scores, pos_label="pos")
    assert len(m.roc_curve(y, scores, pos_label="pos")[0]) > CURVE_POINTS  # corners alone
    full = {
        "roc": (fpr, tpr, np.append(np.nan, roc_t[1:]), ("fpr", "tpr")),
        "precision_recall": (recall, precision, np.append(pr_t, np.nan), ("recall", "precision")),
    }
    for name, (xs, ys, thresholds, (x, y_name)) in full.items():
        rows = _rows(tmp_path, name)
        assert len(rows) == CURVE_POINTS, name
        assert {k: rows[0][k] for k in (x, y_name)} == {x: xs[0], y_name: ys[0]}, name
        assert {k: rows[-1][k] for k in (x, y_name)} == {x: xs[-1], y_name: ys[-1]}, name
        # Every point written is the exact curve's point at its threshold.
        index = {float(t): i for i, t in enumerate(thresholds) if np.isfinite(t)}
        kept = []
        for row in rows:
            if row["threshold"] is None:  # ROC's start, precision-recall's end (recall 0)
                i = 0 if name == "roc" else len(xs) - 1
            else:
                i = index[row["threshold"]]
            assert (row[x], row[y_name]) == (xs[i], ys[i]), name
            kept.append(i)
        assert kept == sorted(kept), name  # in the curve's order
        assert _farthest(xs, ys, np.array(kept)) < 0.005, name  # the whole curve, drawn
    assert _rows(tmp_path, "precision_recall")[-1] == {
        "precision": 1.0,
        "recall": 0.0,
        "threshold": None,
    }
    assert _rows(tmp_path, "roc")[0] == {"fpr": 0.0, "tpr": 0.0, "threshold": None}
    confusion = _rows(tmp_path, "confusion_matrix")
    assert confusion == [
        {"actual": a, "predicted": p} for a, p in zip(y.tolist(), pred.tolist(), strict=True)
    ]


def test_a_curve_with_few_corners_is_written_whole(tmp_path: Path) -> None:
    y, _, scores = _write(tmp_path, 300, 2)
    fpr, tpr, thresholds = m.roc_curve(y, scores, pos_label="pos")
    assert len(fpr) < CURVE_POINTS
    assert _rows(tmp_path, "roc") == [
        {"fpr": a, "tpr": b, "threshold": t if np.isfinite(t) else None}
        for a, b, t in zip(fpr.tolist(), tpr.tolist(), thresholds.tolist(), strict=True)
    ]


@pytest.mark.slow
def test_dvc_reads_the_files_and_its_confusion_template_counts_every_test_row(
    tmp_path: Path,
) -> None:
    repo = init_repo(tmp_path / "repo")
    dvc(repo, "init", "-q")
    decls = [{path: BUILTIN_PROPS[name]} for name, path in BUILTIN_FILES.items()]
    (repo / "dvc.yaml").write_text(json.dumps({"plots": decls}))
    rows = 8_000
    sides = {"HEAD": _write(repo, rows, 3)}
    commit_all(repo, "plots at HEAD")
    sides["workspace"] = _write(repo, rows, 4)

    shown = json.loads(dvc(repo, "plots", "diff", "HEAD", "--json").stdout)["data"]
    for name, path in BUILTIN_FILES.items():
        (plot,) = shown[path]
        values = plot["content"]["data"]["values"]
        revs = Counter(v["rev"] for v in values)
        assert set(revs) == set(sides), name
        if name == "confusion_matrix":
            # DVC's template draws a cell as the count of its rows: every test row is there.
            (aggregate,) = plot["content"]["spec"]["transform"][0]["aggregate"]
            assert aggregate["op"] == "count"
            for rev, (y, pred, _) in sides.items():
                cells = Counter((v["actual"], v["predicted"]) for v in values if v["rev"] == rev)
                matrix = m.confusion_matrix(y, pred, labels=["neg", "pos"])
                assert [[cells[(a, p)] for p in ("neg", "pos")] for a in ("neg", "pos")] == (
                    matrix.tolist()
                )
            continue
        x, y_name = BUILTIN_PROPS[name]["x"], BUILTIN_PROPS[name]["y"]
        for rev, (y, _, scores) in sides.items():
            assert 2 < revs[rev] <= CURVE_POINTS, name
            drawn = [(v[x], v[y_name]) for v in values if v["rev"] == rev]
            if name == "roc":
                fpr, tpr, _ = m.roc_curve(y, scores, pos_label="pos")
                ends = [(fpr[0], tpr[0]), (fpr[-1], tpr[-1])]
            else:
                precision, recall, _ = m.precision_recall_curve(y, scores, pos_label="pos")
                ends = [(recall[0], precision[0]), (recall[-1], precision[-1])]
            assert [drawn[0], drawn[-1]] == ends, name
