"""The sweep's ranking: the best trial, and the leaderboard as Markdown (names and values
from params files and experiment refs are untrusted: rendered through the report's cells)."""

from __future__ import annotations

from typing import Any

from mlops_actions import inert
from mlops_actions.config.sweep import SweepSpec
from mlops_actions.metrics import finite
from mlops_actions.report.verdicts import name_cell, number
from mlops_actions.sweep.journal import TrialRecord

LIMIT = 20  # rows in the leaderboard; the rest are counted


def ranked(records: list[TrialRecord], minimize: bool) -> list[TrialRecord]:
    """Complete trials best first (ties: the earlier trial), then the failed ones: a failed
    trial never ranks above a complete one."""
    done = [r for r in records if r.state == "complete" and r.value is not None]
    done.sort(
        key=lambda r: ((r.value if minimize else -r.value) if r.value is not None else 0, r.number)
    )
    return done + sorted((r for r in records if r.state != "complete"), key=lambda r: r.number)


def best(records: list[TrialRecord], minimize: bool) -> TrialRecord | None:
    top = ranked(records, minimize)
    return top[0] if top and top[0].state == "complete" else None


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        # A trial's params are its job's output: an integer beyond a float's range is shown,
        # not formatted (nor turned into 400 digits).
        return number(value) if finite(value) else "out of range"
    return "null" if value is None else inert.cell(str(value))


def status_line(spec: SweepSpec, records: list[TrialRecord]) -> str:
    failed = sum(1 for r in records if r.state == "failed")
    top = best(records, spec.minimize)
    line = f"{len(records)} of {spec.trials} trials recorded"
    line += f" ({failed} failed)" if failed else ""
    if top is not None and top.value is not None:
        line += f"; best: trial {top.number}, {spec.metric} {number(top.value)}"
    return line


def markdown(spec: SweepSpec, records: list[TrialRecord], limit: int = LIMIT) -> str:
    names = sorted(spec.params)
    goal = "lowest" if spec.minimize else "highest"
    lines = [
        f"### Sweep `{spec.id}`: {name_cell(spec.metric)}, {goal} wins",
        "",
        f"{spec.sampler} sampler, seed {spec.seed}: {inert.cell(status_line(spec, records))}.",
        "",
    ]
    if not records:
        return "\n".join([*lines, "No trial recorded yet."]) + "\n"
    header = ["#", "trial", name_cell(spec.metric), *(name_cell(n) for n in names), "experiment"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    rows = ranked(records, spec.minimize)
    for rank, r in enumerate(rows[:limit], 1):
        value = number(r.value) if r.value is not None else "failed"
        cells = [
            str(rank) if r.state == "complete" else "—",
            str(r.number),
            f"**{value}**" if rank == 1 and r.state == "complete" else value,
            *(_value(r.params.get(n)) for n in names),
            name_cell(r.name) if r.name else "—",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > limit:
        lines += ["", f"{len(rows) - limit} more trials not shown."]
    return "\n".join(lines) + "\n"


def to_json(record: TrialRecord) -> dict[str, Any]:
    return {
        "trial": record.number,
        "params": record.params,
        "value": record.value,
        "state": record.state,
        "experiment": record.name or None,
        "commit": record.commit or None,
        "error": record.error,
    }
