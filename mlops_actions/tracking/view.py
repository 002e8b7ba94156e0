"""A listing of runs as a table, JSON, CSV or Markdown; sorting, filtering and selection.

`--filter` takes gate rules with an absolute right-hand side, joined by `and`:
`f1 >= 0.9 and train.n_est > 100`. A name is a metric or a param (DVC-flattened keys); a run
without that value does not match.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

from mlops_actions import inert
from mlops_actions.config.rules import Rule, parse_rule
from mlops_actions.errors import ConfigError, MlopsError
from mlops_actions.tracking.listing import Run


def parse_filter(text: str) -> list[Rule]:
    """Rules joined by `and` (outside quotes); each an absolute gate rule."""
    parts, quote, start = [], "", 0
    lowered = text.lower()
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif lowered.startswith(" and ", i):
            parts.append(text[start:i])
            start = i + 5
            i += 4
        i += 1
    parts.append(text[start:])
    rules = []
    for part in parts:
        try:
            rule = parse_rule(part.strip())
        except (ConfigError, ValueError) as exc:
            raise MlopsError(f"--filter: {exc}") from None
        if rule.relative:
            raise MlopsError(
                f"--filter: '{rule.normalized}' compares with base; a filter takes numbers "
                "(f1 >= 0.9)"
            )
        rules.append(rule)
    return rules


def value(run: Run, key: str) -> Any:
    """A metric, else a param, by its flattened key (or `file:key`)."""
    for section in ("metrics", "params"):
        found = run.flat(section)
        if key in found:
            return found[key]
    return None


def number_of(found: Any) -> float | None:
    """A value as a float for sorting, filtering and the standing; None when it is not a
    usable number: not a number, a boolean, NaN or infinite, or an integer too large for a
    float (JSON keeps a 400-digit integer exact; such a run sorts last and matches no rule)."""
    if isinstance(found, bool) or not isinstance(found, (int, float)):
        return None
    try:
        number = float(found)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def matches(run: Run, rules: Sequence[Rule]) -> bool:
    for rule in rules:
        number = number_of(value(run, rule.metric))
        if number is None or not rule.holds(number, rule.threshold()):
            return False
    return True


def sort(runs: list[Run], key: str) -> list[Run]:
    """By a metric or param, highest first (`-key`: lowest first); runs without it last."""
    ascending = key.startswith("-")
    key = key.lstrip("-+")
    have = [(n, r) for r in runs if (n := number_of(value(r, key))) is not None]
    if not have and runs:
        raise MlopsError(f"--sort: no run has a number '{key[:80]}'")
    have.sort(key=lambda pair: pair[0], reverse=not ascending)
    rest = [r for r in runs if number_of(value(r, key)) is None]
    return [r for _, r in have] + rest


def select(
    runs: list[Run],
    *,
    baseline: str | None = None,
    branch: str | None = None,
    pr: int | None = None,
    sweep: str | None = None,
) -> list[Run]:
    out = runs
    if baseline:
        out = [r for r in out if r.baseline.startswith(baseline)]
    if branch:
        out = [r for r in out if (r.record and r.record.branch == branch) or r.branch == branch]
    if pr is not None:
        out = [r for r in out if r.pr == pr]
    if sweep:  # the trials of one sweep (its id, or the start of it)
        out = [r for r in out if r.sweep_id and r.sweep_id.startswith(sweep)]
    return out


def columns(runs: list[Run], limit: int = 8) -> tuple[list[str], list[str]]:
    """The metric and param keys to show: those of the runs, metrics first, bounded."""
    metrics: dict[str, None] = {}
    params: dict[str, None] = {}
    for run in runs:
        metrics.update(dict.fromkeys(run.flat("metrics")))
        params.update(dict.fromkeys(run.flat("params")))
    return list(metrics)[:limit], [p for p in params if not p.startswith("mlops.")][:limit]


def _cell(found: Any) -> str:
    if found is None:
        return "-"
    if isinstance(found, float):
        return f"{found:.5g}"
    return str(found)


def _header(run: Run) -> list[str]:
    where = f"PR #{run.pr}" if run.pr else (run.record.branch if run.record else None) or run.branch
    return [
        run.name,
        run.commit[:7],
        run.baseline[:7],
        where or "-",
        run.event or "-",
        run.created,
        run.status,
    ]


_FIXED = ["name", "commit", "baseline", "branch/PR", "event", "created", "status"]


def rows(runs: list[Run]) -> tuple[list[str], list[list[str]]]:
    metrics, params = columns(runs)
    head = _FIXED + metrics + params
    body = [
        _header(r) + [_cell(value(r, k)) for k in metrics] + [_cell(value(r, k)) for k in params]
        for r in runs
    ]
    return head, body


def render_table(runs: list[Run]) -> str:
    from tabulate import tabulate

    if not runs:
        return "no experiments"
    head, body = rows(runs)
    return tabulate(body, head, tablefmt="simple", disable_numparse=True)


def render_json(runs: list[Run]) -> str:
    """A JSON array, one run a line: json's C encoder writes each (an indented dump goes
    through its Python encoder, seconds at 10,000 runs)."""
    if not runs:
        return "[]"
    lines = (json.dumps(r.to_json(), allow_nan=False, default=str) for r in runs)
    return "[\n" + ",\n".join(lines) + "\n]"


def render_csv(runs: list[Run]) -> str:
    head, body = rows(runs)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(head)
    writer.writerows(body)
    return buf.getvalue().rstrip("\n")


def render_markdown(runs: list[Run]) -> str:
    if not runs:
        return "No experiments."
    head, body = rows(runs)
    lines = ["| " + " | ".join(inert.cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(inert.cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


def render(runs: list[Run], fmt: str | None) -> str:
    if fmt == "json":
        return render_json(runs)
    if fmt == "csv":
        return render_csv(runs)
    if fmt == "md":
        return render_markdown(runs)
    return render_table(runs)
