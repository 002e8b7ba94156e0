"""The Markdown report a reviewer reads on the pull request and in the job summary."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.metrics import is_number, lower_is_better

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
    note: str | None = None  # one line about how this run went, e.g. stages re-run in CI


def marker(comment_id: str) -> str:
    return MARKER.format(id=comment_id)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def verdict(row: Row, lower: list[str], higher: list[str]) -> tuple[str, str, str]:
    """(change, arrow, judgement) for a metric row."""
    if not (is_number(row.old) and is_number(row.new)):
        if row.old is None and row.new is not None:
            return "", "🆕", "new"
        if row.new is None and row.old is not None:
            return "", "✖️", "removed"
        return "", "", "" if row.old == row.new else "changed"
    delta = float(row.new) - float(row.old)
    if not math.isfinite(delta):
        return "", "", "not a number"
    if delta == 0:
        return "0", "➖", "same"
    pct = f" ({delta / abs(row.old):+.1%})" if row.old else ""
    change = f"{delta:+.4f}{pct}" if abs(delta) < 1e5 else f"{delta:+.4g}{pct}"
    arrow = "⬆️" if delta > 0 else "⬇️"
    better = (delta < 0) == lower_is_better(row.name, lower, higher)
    return change, arrow, "better ✅" if better else "worse ❌"


def metrics_table(data: ReportInput) -> str:
    from tabulate import tabulate

    rows: list[tuple[str, ...]] = []
    for row in data.metrics:
        change, arrow, judgement = verdict(row, data.lower, data.higher)
        name = f"**{row.name}**" if row.name == data.primary else row.name
        if data.baseline is None:
            rows.append((name, _fmt(row.new)))
        else:
            rows.append(
                (name, _fmt(row.old), _fmt(row.new), change, f"{arrow} {judgement}".strip())
            )
    if data.baseline is None:
        return tabulate(rows, headers=["metric", "value"], tablefmt="pipe", disable_numparse=True)
    return tabulate(
        rows,
        headers=["metric", "base", "this run", "change", ""],
        tablefmt="pipe",
        disable_numparse=True,
        colalign=("left", "right", "right", "right", "left"),
    )


def chart(data: ReportInput) -> str | None:
    """A Mermaid bar chart of base vs this run for the headline metrics; GitHub renders it."""
    rows = {r.name: r for r in data.metrics if is_number(r.new) and math.isfinite(r.new)}
    names = [n for n in HEADLINE if n in rows and 0 <= rows[n].new <= 1]
    if not names:
        names = [n for n in rows if lower_is_better(n, data.lower, data.higher)][:6]
    if not names:
        return None
    olds = [rows[n].old if is_number(rows[n].old) else 0 for n in names]
    news = [rows[n].new for n in names]
    top = max([*olds, *news, 0])
    bounded = all(0 <= v <= 1 for v in [*olds, *news])
    y_max = 1 if bounded else top * 1.1 or 1
    series = [f"    bar [{', '.join(f'{v:.4f}' for v in news)}]"]
    legend = "this run"
    if data.baseline is not None:
        series.insert(0, f"    bar [{', '.join(f'{v:.4f}' for v in olds)}]")
        legend = "base (first bar) vs this run (second bar)"
    lines = [
        "```mermaid",
        "xychart-beta",
        f'    title "{legend}"',
        f"    x-axis [{', '.join(names)}]",
        f'    y-axis "value" 0 --> {y_max:.4g}',
        *series,
        "```",
    ]
    return "\n".join(lines)


def params_table(rows: list[Row]) -> str:
    from tabulate import tabulate

    table = [(r.name, _fmt(r.old), _fmt(r.new)) for r in rows]
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
        shown = f"`{new}`, unchanged" if v.old == v.new else f"`{old}` → `{new}`"
        lines.append(f"- `{v.path}`: {shown} · {files} · {_size(v.size)}")
    return "\n".join(lines)


def confusion_table(confusion: dict[str, Any]) -> str:
    from tabulate import tabulate

    labels = [str(label) for label in confusion["labels"]]
    rows = [[f"**{labels[i]}**", *row] for i, row in enumerate(confusion["matrix"])]
    return tabulate(rows, headers=["actual \\ predicted", *labels], tablefmt="pipe")


def render(data: ReportInput, comment_id: str = "default") -> str:
    parts = [marker(comment_id), f"## Model report: `{data.model}`", ""]
    context = []
    if data.baseline:
        context.append(f"compared with {data.baseline}")
    else:
        context.append("**no baseline**: nothing to compare with yet, current values only")
    if data.mode:
        cached = " (run cache hit: not retrained)" if data.cache_hit else ""
        context.append(f"training: {data.mode}{cached}")
    if data.run_url:
        context.append(f"[workflow run]({data.run_url})")
    parts += [" · ".join(context)] + ([f"\n> [!WARNING]\n> {data.note}"] if data.note else [])
    # The verdict and what changed first; the metrics table, the part that can grow past the
    # comment limit, after them, so a cut report still shows gates, params and data.
    if data.gates_markdown:
        parts += ["", "### Gates", "", data.gates_markdown]
    if data.params:
        parts += ["", "### Params changed", "", params_table(data.params)]
    if data.data:
        parts += ["", "### Data", "", data_lines(data.data)]
    parts += ["", "### Metrics", "", metrics_table(data) if data.metrics else "_no metrics_"]
    drawn = chart(data) if data.metrics else None
    if drawn:
        parts += ["", drawn]
    if data.confusion:
        parts += ["", "### Confusion matrix (this run)", "", confusion_table(data.confusion)]
    return "\n".join(parts).rstrip() + "\n"


def fit(body: str, limit: int = COMMENT_LIMIT, summary_url: str | None = None) -> str:
    """Cut `body` to `limit` characters at a line boundary, closing any open code fence."""
    if len(body) <= limit:
        return body
    link = f" ([open it]({summary_url}))" if summary_url else ""
    note = TRUNCATED.format(link=link)
    budget = limit - len(note) - len("\n```")
    cut = body.rfind("\n", 0, budget)
    head = body[: cut if cut > 0 else budget]
    if head.count("```") % 2:
        head += "\n```"
    return head + note
