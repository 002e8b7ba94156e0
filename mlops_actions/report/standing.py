"""Where a run stands among the recorded runs of the same model, as the report shows it: one
line ("`f1` 0.951: 3rd of 214 runs; best 0.962 in run `ci-…-1` (PR #41)") and the top five
in a closed section. Experiment names and the metric name are untrusted (a teammate's ref, a
results file): every one goes through the inert module."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_actions import inert
from mlops_actions.metrics import number

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


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _run(p: Placed, table: bool = False) -> str:
    name = inert.code(p.name, table=table, limit=100)
    return name + (f" (PR #{int(p.pr)})" if p.pr else "")


def line(s: Standing) -> str:
    """'`f1` 0.951: 3rd of 214 runs; best 0.962 in run `ci-…-1` (PR #41)'."""
    return (
        f"{inert.code(s.metric, limit=100)} {number(s.value)}: {ordinal(s.rank)} of {s.total} "
        f"runs; best {number(s.best.value)} in run {_run(s.best)}"
    )


def summary(s: Standing) -> str:
    return f"Top {len(s.top)} recorded runs"


def table(s: Standing) -> str:
    """The top five: rank, run (and pull request), value."""
    rows = [f"| {i} | {_run(p, True)} | {number(p.value)} |" for i, p in enumerate(s.top, 1)]
    return "\n".join(["| # | run | value |", "|---|---|---:|", *rows])
