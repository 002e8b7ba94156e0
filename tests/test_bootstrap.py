"""The bootstrap intervals: the vectorised metrics of each resample against scikit-learn on the
same resample spelled out row by row, and the intervals against the textbook index bootstrap."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sklearn import metrics as m

from mlops_actions.training import bootstrap


def _classification(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    scores = np.round(np.clip(0.35 * y + rng.random(n) * 0.75, 0, 1), 3)  # ties on purpose
    return y, (scores > 0.5).astype(int), scores


def _point(y: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": m.accuracy_score(y, pred),
        "balanced_accuracy": m.balanced_accuracy_score(y, pred),
        "precision": m.precision_score(y, pred, zero_division=0),
        "recall": m.recall_score(y, pred, zero_division=0),
        "f1": m.f1_score(y, pred, zero_division=0),
        "roc_auc": m.roc_auc_score(y, scores),
    }


def test_each_resample_matches_scikit_learn_on_the_same_rows() -> None:
    """The reference: a slow loop that spells every resample's cell counts out as rows."""
    y, pred, scores = _classification(143)
    matrix = np.zeros((2, 2))
    np.add.at(matrix, (y, pred), 1)
    drawn = bootstrap.confusion_resamples(matrix, np.random.default_rng(7), 200)
    fast = bootstrap.confusion_scores(drawn, positive=1)
    for i, cm in enumerate(drawn):
        t = np.repeat([0, 0, 1, 1], cm.reshape(-1).astype(int))
        p = np.repeat([0, 1, 0, 1], cm.reshape(-1).astype(int))
        assert fast["accuracy"][i] == pytest.approx(m.accuracy_score(t, p))
        assert fast["precision"][i] == pytest.approx(m.precision_score(t, p, zero_division=0))
        assert fast["recall"][i] == pytest.approx(m.recall_score(t, p, zero_division=0))
        assert fast["f1"][i] == pytest.approx(m.f1_score(t, p, zero_division=0))
        if len(set(t)) == 2:
            assert fast["balanced_accuracy"][i] == pytest.approx(m.balanced_accuracy_score(t, p))

    cells, _ = bootstrap._score_cells(y == 1, scores)
    levels = np.unique(scores)
    rng = np.random.default_rng(8)
    resampled = rng.multinomial(len(y), cells.reshape(-1) / len(y), size=100).reshape(100, 2, -1)
    fast_auc = bootstrap.auc_of_cells(resampled)
    for i, c in enumerate(resampled):
        t = np.repeat([0] * len(levels) + [1] * len(levels), c.reshape(-1).astype(int))
        s = np.repeat(np.concatenate([levels, levels]), c.reshape(-1).astype(int))
        assert fast_auc[i] == pytest.approx(m.roc_auc_score(t, s))


def test_multiclass_macro_scores_match_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    t, p = rng.integers(0, 3, 90), rng.integers(0, 3, 90)
    cm = m.confusion_matrix(t, p)
    fast = bootstrap.confusion_scores(cm, positive=None)
    assert fast["f1"] == pytest.approx(m.f1_score(t, p, average="macro"))
    assert fast["precision"] == pytest.approx(m.precision_score(t, p, average="macro"))
    assert fast["recall"] == pytest.approx(m.recall_score(t, p, average="macro"))
    assert fast["balanced_accuracy"] == pytest.approx(m.balanced_accuracy_score(t, p))


def _index_bootstrap(
    y: np.ndarray, pred: np.ndarray, scores: np.ndarray, resamples: int
) -> dict[str, list[float]]:
    """The textbook bootstrap, one resample of row indices at a time."""
    rng = np.random.default_rng(11)
    values: dict[str, list[float]] = {}
    for _ in range(resamples):
        i = rng.integers(0, len(y), len(y))
        for name, value in _point(y[i], pred[i], scores[i]).items():
            values.setdefault(name, []).append(value)
    return {k: list(np.percentile(v, [2.5, 97.5])) for k, v in values.items()}


@pytest.mark.slow
def test_intervals_agree_with_the_index_bootstrap() -> None:
    y, pred, scores = _classification(300)
    point = _point(y, pred, scores)
    fast = bootstrap.classification_intervals(y, pred, [0, 1], scores, point, seed=5)
    slow = _index_bootstrap(y, pred, scores, 1000)
    assert set(fast) == set(slow)
    for name, (low, high) in slow.items():
        assert fast[name][0] == pytest.approx(low, abs=0.012), name
        assert fast[name][1] == pytest.approx(high, abs=0.012), name
        assert fast[name][0] <= point[name] <= fast[name][1]


def test_regression_intervals_agree_with_the_index_bootstrap() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(150, 50, 400)
    pred = y + rng.normal(0, 30, 400)
    point = {
        "rmse": m.root_mean_squared_error(y, pred),
        "mae": m.mean_absolute_error(y, pred),
        "r2": m.r2_score(y, pred),
    }
    fast = bootstrap.regression_intervals(y, pred, point, seed=5)
    slow: dict[str, list[float]] = {"rmse": [], "mae": [], "r2": []}
    draw = np.random.default_rng(12)
    for _ in range(1000):
        i = draw.integers(0, len(y), len(y))
        slow["rmse"].append(m.root_mean_squared_error(y[i], pred[i]))
        slow["mae"].append(m.mean_absolute_error(y[i], pred[i]))
        slow["r2"].append(m.r2_score(y[i], pred[i]))
    for name, values in slow.items():
        low, high = np.percentile(values, [2.5, 97.5])
        width = high - low
        assert fast[name][0] == pytest.approx(low, abs=0.1 * width), name
        assert fast[name][1] == pytest.approx(high, abs=0.1 * width), name


def test_seeded_and_fast_at_a_hundred_thousand_rows() -> None:
    y, pred, scores = _classification(100_000)
    scores = scores + np.random.default_rng(4).random(len(y)) * 1e-4  # ~all distinct
    point = _point(y, pred, scores)
    bootstrap.classification_intervals(y, pred, [0, 1], scores, point, seed=1)  # warm up
    started = time.perf_counter()
    first = bootstrap.classification_intervals(y, pred, [0, 1], scores, point, seed=1)
    took = time.perf_counter() - started
    assert first == bootstrap.classification_intervals(y, pred, [0, 1], scores, point, seed=1)
    assert took < 5.0  # the bench row holds the 0.5 s aim; this only catches a row loop
    low, high = first["roc_auc"]
    assert low < point["roc_auc"] < high and high - low < 0.01


def test_resamples_drawn_a_chunk_at_a_time_are_those_drawn_at_once() -> None:
    """250 resamples: two whole chunks and a part of one, from the same seeded stream."""
    y, _, scores = _classification(5000)  # ~750 distinct scores: grouped into quantile groups
    cells, _ = bootstrap._score_cells(y == 1, scores)
    assert cells.shape == (2, bootstrap.SCORE_LEVELS)
    chunked = bootstrap.auc_resamples(cells, np.random.default_rng(4), 250)
    drawn = bootstrap._draw(np.random.default_rng(4), cells.reshape(-1), 250)
    assert np.array_equal(chunked, bootstrap.auc_of_cells(drawn.reshape(250, *cells.shape)))
