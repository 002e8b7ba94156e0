"""The monitor's drift computation at scale, and its false-alarm rate.

- speed: a reference and a current table of N rows x 50 float features (the current one with 5
  shifted features), written as Parquet; timed in a fresh process: read both tables with the
  monitor's reader and run `drift.compare` (KS, PSI, Benjamini-Hochberg) on every feature.
  Aim: well under a minute at 10^6 rows on 2 cores.
- false alarms: 200 random half-subsamples of the breast-cancer table (30 features) against the
  whole table, with the default thresholds; the share of runs that alarm. Aim: at most 1%.

    .venv/bin/python -m bench.monitor_bench [--rows 100000,1000000] [--resamples 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Result, Row, fmt_seconds, measure, median_of

AIM_SECONDS = 30.0
AIM_FALSE_ALARMS = 0.01
FEATURES = 50

_TIMED = """\
import sys
from pathlib import Path
from mlops_actions.monitor import drift, watch
ref = watch.read_table(Path(sys.argv[1]), "reference")
cur = watch.read_table(Path(sys.argv[2]), "current")
found = drift.compare(ref, cur, [c for c in ref.columns], drift.Thresholds())
print(len(found.drifted))
"""


def _tables(tmp: Path, rows: int) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(20170428)
    columns = [f"f{i:02d}" for i in range(FEATURES)]
    ref = pd.DataFrame(rng.normal(size=(rows, FEATURES)), columns=columns)
    cur = pd.DataFrame(rng.normal(size=(rows, FEATURES)), columns=columns)
    for name in columns[:5]:
        cur[name] = cur[name] * 1.5 + 0.2
    paths = tmp / f"ref-{rows}.parquet", tmp / f"cur-{rows}.parquet"
    ref.to_parquet(paths[0])
    cur.to_parquet(paths[1])
    return paths


def false_alarms(resamples: int = 200) -> dict[str, float]:
    """Alarm rates over half-subsamples: the default rule, and the test alone for contrast."""
    import dataclasses

    from sklearn.datasets import load_breast_cancer

    from mlops_actions.monitor import drift

    table = load_breast_cancer(as_frame=True).frame.drop(columns=["target"])
    features = list(table.columns)
    default = drift.Thresholds()
    test_only = dataclasses.replace(default, psi=0.0)
    alarms = {
        "default": 0,
        "test only (psi 0)": 0,
        "any raw p < 0.05": 0,
        "disjoint: default": 0,
        "disjoint: test only (psi 0)": 0,
        "disjoint: any raw p < 0.05": 0,
    }
    for seed in range(resamples):
        half = table.sample(frac=0.5, random_state=seed)
        found = drift.compare(table, half, features, default)
        alarms["default"] += found.alarm
        alarms["test only (psi 0)"] += drift.compare(table, half, features, test_only).alarm
        alarms["any raw p < 0.05"] += any(f.p_value < 0.05 for f in found.features)
        # A harder null: the other half as the reference, so the two share no row.
        rest = table.drop(index=half.index)
        found = drift.compare(rest, half, features, default)
        alarms["disjoint: default"] += found.alarm
        alarms["disjoint: test only (psi 0)"] += drift.compare(
            rest, half, features, test_only
        ).alarm
        alarms["disjoint: any raw p < 0.05"] += any(f.p_value < 0.05 for f in found.features)
    return {k: v / resamples for k, v in alarms.items()}


def run(rows: list[int], runs: int = 3, resamples: int = 200, log: Any = print) -> Result:
    out: list[Row] = []
    series: dict[str, Any] = {"monitor": {}}
    with tempfile.TemporaryDirectory(prefix="monitor-bench-") as tmp:
        for n in rows:
            ref, cur = _tables(Path(tmp), n)
            cmd = [sys.executable, "-c", _TIMED, str(ref), str(cur)]
            stats = median_of(lambda cmd=cmd: measure(cmd, Path(tmp)), runs)
            drifted = int(stats.stdout.strip() or -1)
            log(
                f"  monitor drift, {n:,} rows x {FEATURES}: {stats.seconds:.2f} s "
                f"(cpu {stats.cpu:.2f} s, {stats.peak_mb:.0f} MB); {drifted} of 5 shifted found"
            )
            series["monitor"][n] = stats.seconds
            out.append(
                Row(
                    f"`monitor` drift, {n:,} rows × {FEATURES} features",
                    fmt_seconds(stats.seconds),
                    "—",
                    "—",
                    f"under {AIM_SECONDS:.0f} s",
                    stats.seconds < AIM_SECONDS and drifted == 5,
                    f"median of {runs}; read 2 Parquet tables + KS, PSI and BH on every "
                    f"feature; peak {stats.peak_mb:.0f} MB; the 5 shifted features found: "
                    f"{drifted == 5}",
                )
            )
    rates = false_alarms(resamples)
    log(f"  false alarms over {resamples} half-subsamples: {rates}")
    out.append(
        Row(
            f"`monitor` false alarms, {resamples} half-subsamples of breast cancer",
            f"{rates['default']:.1%}",
            "—",
            "—",
            f"at most {AIM_FALSE_ALARMS:.0%}",
            rates["default"] <= AIM_FALSE_ALARMS,
            f"default thresholds (fdr 0.05, psi 0.1, share 0); BH test alone "
            f"{rates['test only (psi 0)']:.1%}, any uncorrected p < 0.05 "
            f"{rates['any raw p < 0.05']:.1%}. Disjoint halves (reference = the other half): "
            f"default {rates['disjoint: default']:.1%}, BH test alone "
            f"{rates['disjoint: test only (psi 0)']:.1%}, any uncorrected p < 0.05 "
            f"{rates['disjoint: any raw p < 0.05']:.1%}",
        )
    )
    series["monitor_false_alarms"] = rates
    return Result(rows=out, series=series)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--resamples", type=int, default=200)
    args = parser.parse_args(argv)
    rows = [int(r) for r in args.rows.split(",")]
    result = run(rows, args.runs, args.resamples)
    for row in result.rows:
        print(f"{row.measure}: {row.ours} ({row.note})")
    return 0 if all(r.met for r in result.rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
