"""Where a run stands among the recorded runs of the same model, for the report:
"f1 0.951: 3rd of 214 runs; best 0.962 in run ci-…-1 (PR #41)" and the top five."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_actions.metrics import lower_is_better
from mlops_actions.tracking import view
from mlops_actions.tracking.listing import Run

TOP = 5


@dataclass(frozen=True)
class Placed:
    """One recorded run in the standing: its name, value, pull request and run link."""

    name: str
    value: float
    pr: int | None
    run_url: str | None


@dataclass(frozen=True)
class Standing:
    metric: str
    value: float
    rank: int  # 1 is the best
    total: int  # the recorded runs with this metric, this one included
    lower_is_better: bool
    best: Placed
    top: tuple[Placed, ...]


def standing(
    runs: list[Run],
    metric: str,
    value: float,
    *,
    model: str | None = None,
    lower: list[str] | None = None,
    higher: list[str] | None = None,
    exclude: str | None = None,
) -> Standing | None:
    """This run's `value` of `metric` ranked among the recorded `runs` (of `model` when the
    runs say which model they trained; failed runs and `exclude`, this run's own experiment,
    left out). None when no recorded run has the metric."""
    down = lower_is_better(metric, lower, higher)
    placed = []
    for run in runs:
        if run.status != "ok" or run.name == exclude:
            continue
        if model and run.record and run.record.model and run.record.model != model:
            continue
        found = view.value(run, metric)
        if isinstance(found, (int, float)) and not isinstance(found, bool):
            placed.append(
                Placed(run.name, float(found), run.pr, run.record.run_url if run.record else None)
            )
    if not placed:
        return None
    placed.sort(key=lambda p: p.value, reverse=not down)
    better = sum(1 for p in placed if (p.value < value if down else p.value > value))
    return Standing(
        metric, value, better + 1, len(placed) + 1, down, placed[0], tuple(placed[:TOP])
    )
