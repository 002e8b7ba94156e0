"""Where a run stands among the recorded runs of the same model, as the report shows it: one
closed section whose summary is the line ("f1 0.951: 3rd of 214 recorded runs; best 0.962 in
ci-…-1 (PR #41)") and whose body is the top five. Experiment names and the metric name are
untrusted (a teammate's ref, a results file): every one goes through the inert module."""

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


def _name(name: str, limit: int = 60) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def summary(s: Standing) -> str:
    """The line, as the summary of the closed top-five section (an HTML block: the names
    inert as HTML): '<code>f1</code> 0.951: 3rd of 214 recorded runs; best 0.962 in
    <code>ci-…-1</code> (PR #41)'. A pull request's number is text, never a reference: a
    report does not mention the best run's pull request on every post."""
    pr = f" ({inert.html(f'PR #{s.best.pr}')})" if s.best.pr else ""
    return (
        f"<code>{inert.html(_name(s.metric))}</code> {number(s.value)}: {ordinal(s.rank)} of "
        f"{s.total} recorded runs; best {number(s.best.value)} in "
        f"<code>{inert.html(_name(s.best.name))}</code>{pr}"
    )


def table(s: Standing) -> str:
    """The top five: rank, run, pull request, value."""
    rows = [
        f"| {i} | {inert.code(_name(p.name, 100), table=True)} | "
        f"{inert.cell(f'#{p.pr}') if p.pr else '—'} | {number(p.value)} |"
        for i, p in enumerate(s.top, 1)
    ]
    metric = inert.code(_name(s.metric), table=True)
    return "\n".join([f"| # | run | PR | {metric} |", "|---:|---|---|---:|", *rows])
