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
    <code>ci-…-1</code> (PR #41)', or, when this run is the best, '1st of 214 recorded runs:
    the best so far (previous best 0.962 in …)'. A pull request's number is text, never a
    reference: a report does not mention the best run's pull request on every post."""
    pr = f" ({inert.html(f'PR #{s.best.pr}')})" if s.best.pr else ""
    best = f"{number(s.best.value)} in <code>{inert.html(_name(s.best.name))}</code>{pr}"
    head = f"<code>{inert.html(_name(s.metric))}</code> {number(s.value)}: {ordinal(s.rank)} of "
    if s.rank == 1:
        return f"{head}{s.total} recorded runs: the best so far (previous best {best})"
    return f"{head}{s.total} recorded runs; best {best}"


def table(s: Standing) -> str:
    """The top five: rank, run, pull request, value; this run among them at its rank, marked
    as this run, when it is one of the five."""
    rows = [
        (inert.code(_name(p.name, 100), table=True), inert.cell(f"#{p.pr}") if p.pr else "—", p)
        for p in s.top
    ]
    if s.rank <= TOP:
        rows.insert(s.rank - 1, ("**this run**", "—", Placed("", s.value, None, None)))
    metric = inert.code(_name(s.metric), table=True)
    lines = [
        f"| {i} | {run} | {pr} | {number(p.value)} |" for i, (run, pr, p) in enumerate(rows, 1)
    ]
    return "\n".join([f"| # | run | PR | {metric} |", "|---:|---|---|---:|", *lines[:TOP]])
