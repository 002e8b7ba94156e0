"""The builtin trainer's bootstrap intervals at 10^5 test rows: classification (confusion
metrics and ROC AUC over ~all-distinct scores) and regression, 1,000 resamples each. Aim: < 0.5 s.

    .venv/bin/python -m bench.bootstrap_bench [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from mlops_actions.training import bootstrap

AIM = 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, args.rows)
    scores = np.clip(0.3 * y + rng.random(args.rows) * 0.8, 0, 1)
    pred = (scores > 0.5).astype(int)
    point = {"accuracy": 0.7, "balanced_accuracy": 0.7, "precision": 0.7, "recall": 0.7}
    point |= {"f1": 0.7, "roc_auc": 0.8}
    yr = rng.normal(150, 50, args.rows)
    pr = yr + rng.normal(0, 30, args.rows)
    cases = {
        "classification": lambda: bootstrap.classification_intervals(
            y, pred, [0, 1], scores, point, 1
        ),
        "regression": lambda: bootstrap.regression_intervals(
            yr, pr, {"rmse": 30.0, "mae": 24.0, "r2": 0.64}, 1
        ),
    }
    print(
        f"| bootstrap, {args.rows:,} test rows, {bootstrap.RESAMPLES} resamples | median s | aim |"
    )
    print("|---|---:|---:|")
    for name, run in cases.items():
        run()
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        print(f"| {name} | {median:.3f} | {'✓' if median < AIM else '✗'} < {AIM} |")


if __name__ == "__main__":
    main()
