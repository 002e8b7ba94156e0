"""The Markdown report a reviewer reads on the pull request and in the job summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlops_actions import inert
from mlops_actions.metrics import finite
from mlops_actions.report import standing as ranked
from mlops_actions.report.sections import DataChange as DataChange
from mlops_actions.report.sections import confusion_table as confusion_table
from mlops_actions.report.sections import data_lines, duration, params_table, size
from mlops_actions.report.verdicts import DIGITS as DIGITS
from mlops_actions.report.verdicts import MISSING as MISSING
from mlops_actions.report.verdicts import Interval as Interval
from mlops_actions.report.verdicts import (
    Judged,
    fmt,
    is_fact,
    name_cell,
    one_example,
    verdict,
    widened,
)
from mlops_actions.report.verdicts import Row as Row
from mlops_actions.report.verdicts import half_width as half_width
from mlops_actions.report.verdicts import number as number
from mlops_actions.report.verdicts import within_noise as within_noise

COMMENT_LIMIT = 65_536
MARKER = "<!-- mlops-actions:report id={id} -->"
TRUNCATED = (
    "\n\n> [!NOTE]\n> This report was cut to fit GitHub's comment limit; the full report is in "
    "the job summary{link}.\n"
)


@dataclass
class ReportInput:
    model: str
    baseline: str | None  # e.g. "main (3f2c1aa)"; None when there is no baseline at all
    metrics: list[Row]
    params: list[Row] = field(default_factory=list)
    data: list[DataChange] = field(default_factory=list)
    gates_markdown: str | None = None
    mode: str | None = None
    cache_hit: bool | None = None
    run_url: str | None = None
    confusion: dict[str, Any] | None = None
    lower: list[str] = field(default_factory=list)
    higher: list[str] = field(default_factory=list)
    primary: str | None = None
    intervals: dict[str, Interval] = field(default_factory=dict)  # this run's, by metric
    base_intervals: dict[str, Interval] = field(default_factory=dict)
    gated: list[str] = field(default_factory=list)  # metrics the gates name, in order
    precision: int | None = None  # significant digits (report.precision); default 4
    head: str | None = None  # the commit this run trained, full sha
    head_url: str | None = None
    training_seconds: float | None = None
    model_size: int | None = None
    first_version: bool = False  # the first run on the default branch: nothing before it
    note: str | None = None  # one line about how this run went, e.g. stages re-run in CI
    verdict: str | None = None  # gates.headline: "**❌ f1 0.902 < 0.920** (base …) · 1 of 4 …"
    failed: list[str] = field(default_factory=list)  # metrics whose gate failed (gates)
    plots: str | None = None  # the Plots section's Markdown (plots_render)
    standing: ranked.Standing | None = None  # among the recorded runs of the model (tracking)


def marker(comment_id: str) -> str:
    return MARKER.format(id=comment_id)


def _with_interval(value: Any, interval: Interval | None, digits: int) -> str:
    width = half_width(interval)
    if width is None or not finite(value):
        return fmt(value, digits)
    return f"{fmt(value, digits)} ± {number(width, 2)}"


def _digits(data: ReportInput) -> int:
    return data.precision or DIGITS


def _test_rows(data: ReportInput) -> tuple[Any, Any]:
    row = next((r for r in data.metrics if r.name == "rows.test"), None)
    return (row.old, row.new) if row else (None, None)


def intervals(
    data: ReportInput, name: str, test_rows: tuple[Any, Any] | None = None
) -> tuple[Interval | None, Interval | None]:
    """The base's and this run's interval of `name`, each at least one test example wide."""
    old_rows, new_rows = test_rows or _test_rows(data)
    base = widened(data.base_intervals.get(name), one_example(name, old_rows))
    current = widened(data.intervals.get(name), one_example(name, new_rows))
    return base, current


def judged(data: ReportInput) -> list[Judged]:
    """Every metric row with its change and verdict."""
    digits = _digits(data)
    failed = set(data.failed)
    test_rows = _test_rows(data)
    out = []
    for row in data.metrics:
        base, current = intervals(data, row.name, test_rows)
        found = verdict(row, data.lower, data.higher, base, current, digits, row.name in failed)
        out.append(Judged(row, *found))
    return out


def _label(data: ReportInput, name: str) -> str:
    shown = name_cell(name)
    return f"**{shown}**" if name == data.primary else shown


def changed_table(data: ReportInput, rows: list[Judged]) -> str:
    """The metrics a reviewer decides on: verdict second, short cells (a phone shows them)."""
    from tabulate import tabulate

    digits = _digits(data)
    table = [
        (
            _label(data, j.row.name),
            j.cell,
            fmt(j.row.old, digits),
            fmt(j.row.new, digits),
            j.change,
        )
        for j in rows
    ]
    return tabulate(
        table,
        headers=["metric", "verdict", "base", "now", "change"],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=("left", "left", "right", "right", "right"),
    )


KEY_ROWS = 8  # metrics above the fold at most; the rest are in the full table


def key_rows(data: ReportInput, rows: list[Judged]) -> list[Judged]:
    """What the reviewer needs: failed, the primary and gated metrics, then what got better or
    worse; noise and the unchanged wait in the full table."""
    important = {data.primary, *data.gated}
    moved = ("better", "worse", "new", "removed", "changed")
    tiers: list[Callable[[Judged], bool]] = [
        lambda j: "failed" in j.judgement,
        lambda j: j.row.name in important,
        lambda j: j.judgement in moved,
    ]
    picked: dict[int, Judged] = {}
    for wanted in tiers:
        for i, j in enumerate(rows):
            if len(picked) < KEY_ROWS and wanted(j) and not is_fact(j.row.name):
                picked.setdefault(i, j)
    return list(picked.values())


def metrics_table(data: ReportInput, everything: list[Judged] | None = None) -> str:
    """Every metric: verdict second, the base and this run with their intervals; one table per
    metrics file when there are several."""
    from tabulate import tabulate

    digits = _digits(data)
    everything = judged(data) if everything is None else everything
    files = list(dict.fromkeys(j.row.path for j in everything))
    parts = []
    for path in files:
        rows: list[tuple[str, ...]] = []
        for j in everything:
            if j.row.path != path:
                continue
            base, current = data.base_intervals.get(j.row.name), data.intervals.get(j.row.name)
            new = _with_interval(j.row.new, current, digits)
            if data.baseline is None:
                rows.append((_label(data, j.row.name), new))
            else:
                old = _with_interval(j.row.old, base, digits)
                rows.append((_label(data, j.row.name), j.cell, old, new, j.change))
        if data.baseline is None:
            table = tabulate(
                rows, headers=["metric", "value"], tablefmt="pipe", disable_numparse=True
            )
        else:
            table = tabulate(
                rows,
                headers=["metric", "verdict", "base", "this run", "change"],
                tablefmt="pipe",
                disable_numparse=True,
                colalign=("left", "left", "right", "right", "right"),
            )
        parts.append(f"{inert.code(path)}\n\n{table}" if len(files) > 1 and path else table)
    table = "\n\n".join(parts)
    if data.intervals or data.base_intervals:
        table += (
            "\n\n<sub>± half the 95% bootstrap interval of the test set, at least one test "
            "example wide; a change inside the base's interval is *noise*.</sub>"
        )
    return table


def row_counts(data: ReportInput) -> tuple[str | None, str | None]:
    """'train 426 → 420 · test 143 → 141' from the metrics' `rows`, and a warning when the
    test rows changed (then a metric's change is the data's as much as the model's)."""
    found = {r.name[len("rows.") :]: r for r in data.metrics if r.name.startswith("rows.")}
    if not found:
        return None, None
    parts = []
    for split, row in found.items():
        if data.baseline is None or row.old is None or row.old == row.new:
            parts.append(f"{inert.text(split)} {fmt(row.new)}")
        else:
            parts.append(f"{inert.text(split)} {fmt(row.old)} → {fmt(row.new)}")
    test = found.get("test")
    warning = None
    moved = data.baseline is not None and test is not None and test.old is not None
    if moved and test is not None and test.old != test.new:
        warning = (
            f"> [!WARNING]\n> The test set changed ({fmt(test.old)} → {fmt(test.new)} "
            "rows): the metrics below compare different data, not only different models."
        )
    return "rows: " + " · ".join(parts), warning


def facts(data: ReportInput) -> str:
    """The line under the title: what was compared, which commit, how it was trained."""
    context = []
    if data.first_version:
        context.append("**first version**: nothing to compare with yet, current values only")
    elif data.baseline:
        context.append(f"compared with {inert.spans(data.baseline)}")
    else:
        context.append("**no baseline**: nothing to compare with yet, current values only")
    if data.head:
        short = f"`{data.head[:7]}`"
        context.append(f"head [{short}]({data.head_url})" if data.head_url else f"head {short}")
    if data.mode:
        trained = f"training: {inert.text(data.mode)}"
        if data.cache_hit:
            trained += " (run cache hit: not retrained)"
        elif data.training_seconds is not None:
            trained += f", {duration(data.training_seconds)}"
        context.append(trained)
    if data.model_size is not None:
        context.append(f"model {size(data.model_size)}")
    if data.run_url:
        context.append(f"[workflow run: model card and artifacts]({data.run_url})")
    return " · ".join(context)


def details(summary: str, body: str) -> list[str]:
    """A closed section: the comment stays short; the job summary opens it (`opened`)."""
    return ["", f"<details><summary>{summary}</summary>", "", body.rstrip(), "", "</details>"]


def opened(body: str) -> str:
    """The report with every section open, for the job summary (untrusted text never holds a
    literal tag: the inert module escapes `<`)."""
    return body.replace("<details><summary>", "<details open><summary>")


def primary_change(data: ReportInput, rows: list[Judged]) -> str | None:
    """'`f1` 0.94 → 0.951 (+1.2%), ↑ better': the primary metric's move, for the headline."""
    found = next((j for j in rows if j.row.name == data.primary), None)
    if found is None or data.baseline is None:
        return None
    digits = _digits(data)
    values = f"{fmt(found.row.old, digits)} → {fmt(found.row.new, digits)}"
    pct = found.change[found.change.find("(") :] if "(" in found.change else found.change
    moved = f" {pct}" if pct and pct != "0" else ""
    return f"{inert.code(found.row.name)} {values}{moved}, {found.cell or 'same'}"


def headline(data: ReportInput, rows: list[Judged]) -> str | None:
    """The verdict, said once: the gates' (with the gate that failed), and when they passed,
    the primary metric's change."""
    change = primary_change(data, rows)
    if data.verdict and (data.failed or not change or "❌" in data.verdict):
        return data.verdict
    if data.verdict and change:
        return f"{data.verdict} · {change}"
    return change


def render(data: ReportInput, comment_id: str = "default") -> str:
    """Above the fold what decides a merge: the headline, the gates, the metrics that moved;
    params, data, every metric and the plots in closed sections."""
    rows = judged(data) if data.metrics else []
    parts = [marker(comment_id)]
    first = headline(data, rows)
    if first:
        parts += [first, ""]
    parts += [f"## Model report: {inert.code(data.model)}", "", facts(data)]
    if data.note:
        parts += ["", "> [!WARNING]", f"> {inert.text(data.note)}"]
    counted, warning = row_counts(data)
    if warning:
        parts += ["", warning]
    gates_markdown = (data.gates_markdown or "").strip()
    if gates_markdown:
        parts += ["", gates_markdown]
    key = key_rows(data, rows) if data.baseline is not None else []
    if key:
        parts += ["", changed_table(data, key)]
    if data.standing:  # one closed line: the run among the recorded runs, the top five in it
        parts += details(ranked.summary(data.standing), ranked.table(data.standing))
    noise = sum(j.judgement == "noise" for j in rows)
    # The parts that can grow past the comment limit last, so a cut report keeps the above.
    if data.metrics:
        if data.baseline is None:
            title = f"Metrics ({len(rows)})"
        else:
            title = f"All {len(rows)} metrics" + (f" ({noise} within noise)" if noise else "")
        body = metrics_table(data, rows)
        # Without a base there is nothing to decide: the values are the report.
        parts += ["", body] if data.baseline is None else details(title, body)
    else:
        parts += ["", "_no metrics_"]
    if data.params:
        parts += details(
            f"Params changed ({len(data.params)})", params_table(data.params, _digits(data))
        )
    if data.data or counted:
        lines = [data_lines(data.data)] if data.data else []
        if counted:
            lines.append(f"- {counted}")
        parts += details("Data", "\n".join(lines))
    if data.confusion:
        parts += details("Confusion matrix (this run)", confusion_table(data.confusion))
    if data.plots:
        parts += details("Plots", data.plots)
    return "\n".join(parts).rstrip() + "\n"


def fit(body: str, limit: int = COMMENT_LIMIT, summary_url: str | None = None) -> str:
    """Cut `body` to `limit` characters at a line boundary, before a code block it would cut."""
    if len(body) <= limit:
        return body
    link = f" ([open it]({summary_url}))" if summary_url else ""
    note = TRUNCATED.format(link=link)
    budget = limit - len(note) - len("\n```")
    cut = body.rfind("\n", 0, budget)
    head = body[: cut if cut > 0 else budget]
    if head.count("```") % 2:
        # A cut chart would draw as a syntax error: leave the whole block out.
        head = head[: head.rfind("```")].rstrip()
    return head + note
