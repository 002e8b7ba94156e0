"""The builtin trainer's bootstrap intervals at 10^5 test rows: classification (confusion
metrics and ROC AUC over ~all-distinct scores) and regression, 1,000 resamples each, timed
in-process (the interval computation alone, as `classification_intervals` and
`regression_intervals` run it after the fit). No peer. Aim: under 0.5 s each.

    .venv/bin/python -m bench.bootstrap_bench [--rows 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from bench.common import Result, Row, fmt_seconds
from mlops_actions.training import bootstrap

AIM = 0.5


def _cases(rows: int) -> dict[str, Callable[[], object]]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, rows)
    scores = np.clip(0.3 * y + rng.random(rows) * 0.8, 0, 1)
    pred = (scores > 0.5).astype(int)
    point = {"accuracy": 0.7, "balanced_accuracy": 0.7, "precision": 0.7, "recall": 0.7}
    point |= {"f1": 0.7, "roc_auc": 0.8}
    yr = rng.normal(150, 50, rows)
    pr = yr + rng.normal(0, 30, rows)
    return {
        "classification (6 metrics incl. ROC AUC)": lambda: bootstrap.classification_intervals(
            y, pred, [0, 1], scores, point, 1
        ),
        "regression (rmse, mae, r2)": lambda: bootstrap.regression_intervals(
            yr, pr, {"rmse": 30.0, "mae": 24.0, "r2": 0.64}, 1
        ),
    }


def run(rows: int = 100_000, runs: int = 5, log: Any = print) -> Result:
    result = Result()
    for name, case in _cases(rows).items():
        case()  # warm-up
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            case()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        log(f"  bootstrap {name}, {rows:,} rows: {median * 1000:.0f} ms")
        result.rows.append(
            Row(
                f"bootstrap intervals, {name}, {rows:,} test rows",
                fmt_seconds(median),
                "—",
                "—",
                f"under {AIM} s",
                median < AIM,
                f"median of {runs}, in-process; {bootstrap.RESAMPLES:,} resamples, seeded",
            )
        )
        result.series[f"bootstrap {name}"] = {"seconds": median}
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    return 0 if all(r.met for r in run(args.rows, args.runs).rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
