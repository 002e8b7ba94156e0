"""The Markdown report a reviewer reads on the pull request and in the job summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlops_actions import inert
from mlops_actions.metrics import finite, is_number, lower_is_better

COMMENT_LIMIT = 65_536
MARKER = "<!-- mlops-actions:report id={id} -->"
HEADLINE = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "r2")
TRUNCATED = (
    "\n\n> [!NOTE]\n> This report was cut to fit GitHub's comment limit; the full report is in "
    "the job summary{link}.\n"
)


@dataclass(frozen=True)
class Row:
    """One metric or param: its flattened name, the base value and the PR value."""

    name: str
    old: Any
    new: Any
    path: str = ""


@dataclass(frozen=True)
class DataChange:
    """One tracked input of the report: its hash at the base and now."""

    path: str
    old: str | None
    new: str | None
    nfiles: int | None = None
    size: int | None = None


Interval = tuple[float, float]


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
    verdict: str | None = None  # e.g. "**❌ gates failed** · gates: 3 passed, 1 failed"
    plots: str | None = None  # the Plots section's Markdown (plots_render)


def marker(comment_id: str) -> str:
    return MARKER.format(id=comment_id)


DIGITS = 4
NAN = "NaN"
MISSING = "—"


def number(value: float, digits: int = DIGITS) -> str:
    """One number format for the whole report: integers as they are, other numbers to `digits`
    significant digits (0.3077, 55.12, 1.235e+05), NaN and infinities spelled one way."""
    if not math.isfinite(value):
        return NAN if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-4 <= abs(value) < 10**digits:  # pragma: no cover - %g avoids these
        text = f"{value:.{digits}f}"
    return text


def _fmt(value: Any, digits: int = DIGITS) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return number(value, digits)
    return inert.cell(value)


def _name(text: str) -> str:
    """A metric or param name in a table: code, so Markdown in it stays text."""
    return inert.code(text, table=True)


def _is_fact(name: str) -> bool:
    """Counts about the data, not scores of the model: no better or worse."""
    return name == "rows" or name.startswith("rows.")


def half_width(interval: Interval | None) -> float | None:
    return None if interval is None else (interval[1] - interval[0]) / 2


def within_noise(row: Row, base: Interval | None, current: Interval | None) -> bool:
    """The new value inside the base's interval (or, when only this run has one, the base
    value inside this run's)."""
    if not (finite(row.old) and finite(row.new)):
        return False
    if base is not None:
        return base[0] <= float(row.new) <= base[1]
    if current is not None:
        return current[0] <= float(row.old) <= current[1]
    return False


def verdict(
    row: Row,
    lower: list[str],
    higher: list[str],
    base: Interval | None = None,
    current: Interval | None = None,
    digits: int = DIGITS,
) -> tuple[str, str, str]:
    """(change, arrow, judgement) for a metric row. Neutral words: ✅ and ❌ are the gates'."""
    if not (is_number(row.old) and is_number(row.new)):
        if row.old is None and row.new is not None:
            return "", "", "new"
        if row.new is None and row.old is not None:
            return "", "", "removed"
        return "", "", "" if row.old == row.new else "changed"
    delta = float(row.new) - float(row.old)
    if not math.isfinite(delta):
        return "", "", "not a number"
    if delta == 0:
        return "0", "", "same"
    pct = f" ({delta / abs(row.old):+.1%})" if row.old else ""
    change = f"{'+' if delta > 0 else ''}{number(delta, digits)}{pct}"
    arrow = "↑" if delta > 0 else "↓"
    if _is_fact(row.name):
        return change, arrow, "more" if delta > 0 else "fewer"
    if within_noise(row, base, current):
        return change, arrow, "within noise"
    better = (delta < 0) == lower_is_better(row.name, lower, higher)
    return change, arrow, "better" if better else "worse"


def _with_interval(value: Any, interval: Interval | None, digits: int) -> str:
    width = half_width(interval)
    if width is None or not finite(value):
        return _fmt(value, digits)
    return f"{_fmt(value, digits)} ± {number(width, max(digits - 2, 2))}"


def _digits(data: ReportInput) -> int:
    return data.precision or DIGITS


def metrics_table(data: ReportInput) -> str:
    from tabulate import tabulate

    digits = _digits(data)
    rows: list[tuple[str, ...]] = []
    paths = list(dict.fromkeys(row.path for row in data.metrics))
    grouped = len(paths) > 1  # several metrics files: a heading row per file, its metrics under it
    ordered = sorted(data.metrics, key=lambda r: paths.index(r.path)) if grouped else data.metrics
    width = 2 if data.baseline is None else 5
    for i, row in enumerate(ordered):
        if grouped and (i == 0 or ordered[i - 1].path != row.path):
            rows.append((f"**{_name(row.path)}**", *[""] * (width - 1)))
        base, current = data.base_intervals.get(row.name), data.intervals.get(row.name)
        change, arrow, judgement = verdict(row, data.lower, data.higher, base, current, digits)
        name = _name(row.name)
        if row.name == data.primary:
            name = f"**{name}**"
        new = _with_interval(row.new, current, digits)
        if data.baseline is None:
            rows.append((name, new))
        else:
            old = _with_interval(row.old, base, digits)
            rows.append((name, old, new, change, f"{arrow} {judgement}".strip()))
    if data.baseline is None:
        table = tabulate(rows, headers=["metric", "value"], tablefmt="pipe", disable_numparse=True)
    else:
        table = tabulate(
            rows,
            headers=["metric", "base", "this run", "change", ""],
            tablefmt="pipe",
            disable_numparse=True,
            colalign=("left", "right", "right", "right", "left"),
        )
    if data.intervals or data.base_intervals:
        table += (
            "\n\n<sub>± half the 95% bootstrap interval of the test set; a change inside the "
            "base's interval is *within noise*.</sub>"
        )
    return table


# --- charts -----------------------------------------------------------------------------------

CHARTS = 4
_LABEL_LIMIT = 60


def chart_label(text: str) -> str | None:
    """`text` as a quoted Mermaid string, or None when the label would not show it as it is."""
    return inert.mermaid(text, limit=_LABEL_LIMIT) if inert.is_mermaid_safe(text) else None


def chart_metrics(data: ReportInput) -> list[str]:
    """The metrics worth a chart, most important first: the primary one, the gated ones, the
    usual headline scores, then the rest; only numbers on both sides, never row counts."""
    rows = {
        r.name: r
        for r in data.metrics
        if finite(r.old) and finite(r.new) and not _is_fact(r.name) and chart_label(r.name)
    }
    order = [data.primary, *data.gated, *HEADLINE]
    order += [n for n in rows if lower_is_better(n, data.lower, data.higher)]
    order += list(rows)
    names: list[str] = []
    for name in order:
        if name and name in rows and name not in names:
            names.append(name)
    return names[:CHARTS]


def _axis(values: list[float]) -> tuple[float, float]:
    """A y range around the values, zoomed so a small change shows; within [0, 1] for scores."""
    low, high = min(values), max(values)
    span = high - low or abs(high) * 0.05 or 1.0
    low, high = low - span * 0.6, high + span * 0.6
    if min(values) >= 0 and low < 0:
        low = 0.0
    if max(values) <= 1 and high > 1 and min(values) >= 0:
        high = 1.0
    return low, high


def metric_chart(data: ReportInput, name: str) -> str:
    """One small chart: base and this run side by side on a zoomed axis, with the 95% intervals
    as lines when both sides have one."""
    row = next(r for r in data.metrics if r.name == name)
    old, new = float(row.old), float(row.new)
    digits = _digits(data)
    base, current = data.base_intervals.get(name), data.intervals.get(name)
    _, arrow, judgement = verdict(row, data.lower, data.higher, base, current, digits)
    values = [old, new]
    lines = []
    if base is not None and current is not None:
        values += [*base, *current]
        lines = [
            f"    line [{_plain(base[0])}, {_plain(current[0])}]",
            f"    line [{_plain(base[1])}, {_plain(current[1])}]",
        ]
    low, high = _axis(values)
    moved = f"{arrow} {judgement}".strip()
    title = f"{name}: {number(old, digits)} → {number(new, digits)}, {moved}"
    if lines:
        title += " (lines: 95% interval)"
    label = chart_label(name) or '"value"'
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{title}"',
            '    x-axis ["base", "this run"]',
            f"    y-axis {label} {_plain(low)} --> {_plain(high)}",
            f"    bar [{_plain(old)}, {_plain(new)}]",
            *lines,
            "```",
        ]
    )


def _plain(value: float) -> str:
    """A number as Mermaid reads it: no exponent, no thousands separator."""
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def chart(data: ReportInput) -> str | None:
    """Small charts, one per headline metric, base beside this run; None without a baseline."""
    if data.baseline is None:
        return None
    names = chart_metrics(data)
    if not names:
        return None
    return "\n\n".join(metric_chart(data, name) for name in names)


def params_table(rows: list[Row], digits: int = DIGITS) -> str:
    from tabulate import tabulate

    table = [(_name(r.name), _fmt(r.old, digits), _fmt(r.new, digits)) for r in rows]
    return tabulate(
        table, headers=["param", "base", "this run"], tablefmt="pipe", disable_numparse=True
    )


def _size(n: int | None) -> str:
    if n is None:
        return "size unknown"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def data_lines(versions: list[DataChange]) -> str:
    lines = []
    for v in versions:
        old = (v.old or "none")[:8]
        new = (v.new or "none")[:8]
        files = "1 file" if v.nfiles == 1 else f"{v.nfiles} files" if v.nfiles else "files: unknown"
        shown = (
            f"{inert.code(new)}, unchanged"
            if v.old == v.new
            else f"{inert.code(old)} → {inert.code(new)}"
        )
        lines.append(f"- {inert.code(v.path)}: {shown} · {files} · {_size(v.size)}")
    return "\n".join(lines)


def row_counts(data: ReportInput) -> tuple[str | None, str | None]:
    """'train 426 → 420 · test 143 → 141' from the metrics' `rows`, and a warning when the
    test rows changed (then a metric's change is the data's as much as the model's)."""
    found = {r.name[len("rows.") :]: r for r in data.metrics if r.name.startswith("rows.")}
    if not found:
        return None, None
    parts = []
    for split, row in found.items():
        if data.baseline is None or row.old is None or row.old == row.new:
            parts.append(f"{inert.text(split)} {_fmt(row.new)}")
        else:
            parts.append(f"{inert.text(split)} {_fmt(row.old)} → {_fmt(row.new)}")
    test = found.get("test")
    warning = None
    moved = data.baseline is not None and test is not None and test.old is not None
    if moved and test is not None and test.old != test.new:
        warning = (
            f"> [!WARNING]\n> The test set changed ({_fmt(test.old)} → {_fmt(test.new)} "
            "rows): the metrics below compare different data, not only different models."
        )
    return "rows: " + " · ".join(parts), warning


def confusion_table(confusion: dict[str, Any]) -> str:
    from tabulate import tabulate

    labels = [inert.cell(label) for label in confusion.get("labels") or []]
    matrix = confusion.get("matrix")
    if (
        not isinstance(matrix, list)
        or len(matrix) != len(labels)
        or any(not isinstance(row, list) or len(row) != len(labels) for row in matrix)
    ):
        return f"_not shown: the file has {len(labels)} labels but not a square matrix of them_"
    rows = [[f"**{labels[i]}**", *map(_fmt, row)] for i, row in enumerate(matrix)]
    return tabulate(rows, headers=["actual \\ predicted", *labels], tablefmt="pipe")


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
            trained += f", {_duration(data.training_seconds)}"
        context.append(trained)
    if data.model_size is not None:
        context.append(f"model {_size(data.model_size)}")
    if data.run_url:
        context.append(f"[workflow run: model card and artifacts]({data.run_url})")
    return " · ".join(context)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def render(data: ReportInput, comment_id: str = "default") -> str:
    # The verdict is the first line a reviewer sees (in the comment and the job summary).
    parts = [marker(comment_id)]
    if data.verdict:
        parts += [data.verdict, ""]
    parts += [f"## Model report: {inert.code(data.model)}", "", facts(data)]
    if data.note:
        parts += ["", "> [!WARNING]", f"> {inert.text(data.note)}"]
    # What changed next; the metrics table and the plots, the parts that can grow past the
    # comment limit, after them, so a cut report still shows gates, params and data.
    gates_markdown = (data.gates_markdown or "").strip()
    if gates_markdown:
        parts += ["", "### Gates", "", gates_markdown]
    if data.params:
        parts += ["", "### Params changed", "", params_table(data.params, _digits(data))]
    rows, warning = row_counts(data)
    if data.data or rows:
        parts += ["", "### Data", ""]
        if warning:
            parts += [warning, ""]
        if data.data:
            parts += [data_lines(data.data)]
        if rows:
            parts += [f"- {rows}"]
    parts += ["", "### Metrics", "", metrics_table(data) if data.metrics else "_no metrics_"]
    drawn = chart(data) if data.metrics else None
    if drawn:
        parts += ["", drawn]
    if data.confusion:
        parts += ["", "### Confusion matrix (this run)", "", confusion_table(data.confusion)]
    if data.plots:
        parts += ["", "### Plots", "", data.plots.rstrip()]
    return "\n".join(parts).rstrip() + "\n"


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def standing_section(s: Any) -> str:
    """The run among the recorded runs (tracking.standing.Standing): one line and the top five
    in <details>. Experiment names, links and the metric name are untrusted: escaped here."""

    def run(p: Any, table: bool = False) -> str:
        name = inert.code(p.name, table=table)
        return name + (f" (PR #{int(p.pr)})" if p.pr else "")

    line = (
        f"{_name(s.metric)} {number(s.value)}: {ordinal(s.rank)} of {s.total} runs; "
        f"best {number(s.best.value)} in run {run(s.best)}"
    )
    rows = [f"| {i} | {run(p, True)} | {number(p.value)} |" for i, p in enumerate(s.top, 1)]
    table = "\n".join(["| # | run | value |", "|---|---|---|", *rows])
    return f"{line}\n\n<details><summary>Top {len(s.top)} recorded runs</summary>\n\n{table}\n\n</details>"


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
