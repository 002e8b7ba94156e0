"""The built-in trainer's plot files, in the files and format dvclive's `log_sklearn_plot`
writes (`plots.BUILTIN_FILES`): ROC and precision-recall curves (binary, with scores) and the
confusion rows.

Curves: scikit-learn's curve with `drop_intermediate` (only the corners of its staircase: the
points a straight line between neighbours would not draw), then, while more than
`CURVE_POINTS` corners remain, cut to that many by Douglas-Peucker with a point budget: the two
end points first, then again and again the point of the curve farthest from the line drawn
through the points kept so far. Every point written is a point of the exact curve, with its
threshold; both end points are kept; where the curve bends most, its points are kept first.
ROC starts at (0, 0) (threshold null: JSON has no infinity); precision-recall ends at recall
0, precision 1 (threshold null: scikit-learn's end point, which has none).

Confusion: one `{"actual", "predicted"}` row per test row, in test-row order. DVC's confusion
templates draw a cell as the *count* of rows with that pair (a Vega-Lite `count`, no weight
field), so a file of counted cells or of sampled rows would be drawn wrong: every row is kept.
The few distinct rows are encoded once and the file is written from them in chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.util import atomic_path, file_hash, read_json

if TYPE_CHECKING:
    import numpy as np

    from mlops_actions.config.settings import Config

CURVE_POINTS = 1000  # at most, per curve
_CHUNK = 1 << 16  # confusion rows per write


def simplify(x: np.ndarray, y: np.ndarray, limit: int = CURVE_POINTS) -> np.ndarray:
    """The indices (ascending) of at most `limit` points of the polyline (x, y): both ends,
    then, round by round, the point of each piece farthest from the straight line between the
    points kept around it (Douglas-Peucker, one round for all pieces at once; in the round that
    would pass `limit`, the farthest of those points). All of them when there are no more
    than `limit`; none that lies on the line already drawn."""
    import numpy as np

    n = len(x)
    if n <= max(limit, 2):
        return np.arange(n)
    kept = np.array([0, n - 1])
    while len(kept) < limit:
        spans = np.diff(kept)
        start = np.repeat(kept[:-1], spans)  # for each point but the last, its piece's ends
        end = np.repeat(kept[1:], spans)
        px, py = x[:-1] - x[start], y[:-1] - y[start]
        dx, dy = x[end] - x[start], y[end] - y[start]
        length2 = dx * dx + dy * dy
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(length2 > 0, (px * dx + py * dy) / length2, 0.0)
        t = np.clip(t, 0.0, 1.0)
        distance = np.hypot(px - t * dx, py - t * dy)  # from the segment; 0 at kept points
        farthest = np.maximum.reduceat(distance, kept[:-1])
        piece = np.repeat(np.arange(len(spans)), spans)
        at_max = np.flatnonzero((distance == farthest[piece]) & (distance > 0))
        if not len(at_max):
            break  # every point lies on the line drawn
        _, first = np.unique(piece[at_max], return_index=True)  # one point per piece
        found = at_max[first]
        room = limit - len(kept)
        if len(found) > room:
            found = found[np.argsort(-distance[found], kind="stable")[:room]]
        kept = np.union1d(kept, found)
    return kept


def _rows(names: tuple[str, str], x: np.ndarray, y: np.ndarray, t: np.ndarray) -> list[Any]:
    """Curve rows {x-name, y-name, "threshold"}, thresholds that are not finite as null."""
    import numpy as np

    keep = simplify(x, y)
    thresholds = [float(v) if np.isfinite(v) else None for v in t[keep].tolist()]
    return [
        {names[0]: a, names[1]: b, "threshold": h}
        for a, b, h in zip(x[keep].tolist(), y[keep].tolist(), thresholds, strict=True)
    ]


def curves(y_test: Any, scores: Any, positive: Any) -> dict[str, dict[str, list[Any]]]:
    """{"roc": file content, "precision_recall": file content}, each at most CURVE_POINTS
    points of scikit-learn's curve."""
    import numpy as np
    from sklearn import metrics as m

    fpr, tpr, roc_t = m.roc_curve(y_test, scores, pos_label=positive, drop_intermediate=True)
    precision, recall, pr_t = m.precision_recall_curve(
        y_test, scores, pos_label=positive, drop_intermediate=True
    )
    pr_t = np.append(pr_t.astype(float), np.nan)  # the end point (recall 0) has no threshold
    return {
        "roc": {"roc": _rows(("fpr", "tpr"), fpr, tpr, roc_t)},
        "precision_recall": {
            "precision_recall": _rows(("precision", "recall"), precision, recall, pr_t)
        },
    }


def _confusion_lines(actual: Any, predicted: Any) -> Iterator[str]:
    """The JSON text of the confusion rows, a chunk of rows at a time."""
    import numpy as np
    import pandas as pd

    actual_codes, actual_values = pd.factorize(np.asarray(actual), use_na_sentinel=False)
    predicted_codes, predicted_values = pd.factorize(np.asarray(predicted), use_na_sentinel=False)
    actual_names = [str(v) for v in actual_values.tolist()]
    predicted_names = [str(v) for v in predicted_values.tolist()]
    width = len(predicted_names)
    pairs, inverse = np.unique(
        actual_codes.astype(np.int64) * width + predicted_codes, return_inverse=True
    )
    encoded = np.array(
        [
            json.dumps(
                {"actual": actual_names[p // width], "predicted": predicted_names[p % width]}
            )
            for p in pairs.tolist()
        ],
        dtype=object,
    )
    yield "["
    for start in range(0, len(inverse), _CHUNK):
        lead = "\n" if start == 0 else ",\n"
        yield lead + ",\n".join(encoded[inverse[start : start + _CHUNK]].tolist())
    yield "\n]\n"


def write_confusion(path: Path, actual: Any, predicted: Any) -> None:
    """The confusion rows of `actual` and `predicted` (same length) as a JSON list at `path`."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for text in _confusion_lines(actual, predicted):
            f.write(text)


def write_curve(path: Path, content: dict[str, list[dict[str, Any]]]) -> None:
    """`{"name": [row, ...]}` with one row a line."""
    ((name, rows),) = content.items()
    lines = ",\n".join(json.dumps(row, allow_nan=False) for row in rows)
    with atomic_path(path) as tmp:
        tmp.write_text(f"{{{json.dumps(name)}: [\n{lines}\n]}}\n", encoding="utf-8")


def write_plots(
    staging: Path, y_test: Any, predicted: tuple[Any, Any, Any], labels: list[Any]
) -> list[Path]:
    """ROC, precision-recall (binary, with scores, both classes in the test set) and the
    confusion rows under `staging`, at the paths of `plots.BUILTIN_FILES`; `predicted` is
    (labels, probabilities, positive scores) as `builtin.predictions` gives them."""
    import pandas as pd

    from mlops_actions.report.plots import BUILTIN_FILES

    pred, _, scores = predicted
    written = []
    path = staging / BUILTIN_FILES["confusion_matrix"]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_confusion(path, y_test, pred)
    written.append(path)
    if len(labels) == 2 and scores is not None and pd.Series(y_test).nunique() == 2:
        for name, content in curves(y_test, scores, labels[1]).items():
            path = staging / BUILTIN_FILES[name]
            write_curve(path, content)
            written.append(path)
    return written


def this_runs_plots(cfg: Config) -> set[str]:
    """The plot files the last run wrote and the workspace still holds unchanged, as its model
    card records them (project-relative path → sha256)."""
    recorded = read_json(cfg.resolve(cfg.train.card)).get("plots")
    if not isinstance(recorded, dict):
        return set()
    kept = set()
    for path, sha in recorded.items():
        try:
            if isinstance(path, str) and file_hash(cfg.resolve(path)) == sha:
                kept.add(path)
        except OSError:
            continue
    return kept
