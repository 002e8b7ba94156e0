"""The report's closed sections that are plain tables and lists: params, data versions, the
confusion matrix, sizes and durations. Every name in them goes through the inert module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlops_actions import inert
from mlops_actions.report.verdicts import DIGITS, Row, fmt, name_cell


@dataclass(frozen=True)
class DataChange:
    """One tracked input of the report: its hash at the base and now."""

    path: str
    old: str | None
    new: str | None
    nfiles: int | None = None
    size: int | None = None


def params_table(rows: list[Row], digits: int = DIGITS) -> str:
    from tabulate import tabulate

    table = [(name_cell(r.name), fmt(r.old, digits), fmt(r.new, digits)) for r in rows]
    return tabulate(
        table, headers=["param", "base", "this run"], tablefmt="pipe", disable_numparse=True
    )


def size(n: int | None) -> str:
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
        lines.append(f"- {inert.code(v.path)}: {shown} · {files} · {size(v.size)}")
    return "\n".join(lines)


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
    rows = [[f"**{labels[i]}**", *map(fmt, row)] for i, row in enumerate(matrix)]
    return tabulate(rows, headers=["actual \\ predicted", *labels], tablefmt="pipe")


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"
