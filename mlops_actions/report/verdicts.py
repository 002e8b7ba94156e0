"""How a metric moved: one number format, the noise of a change (an interval at least one test
example wide) and the verdict a reader sees (better, worse, noise, failed), lower-is-better
aware. The report and the gates table write numbers through it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlops_actions import inert
from mlops_actions.metrics import DIGITS as DIGITS
from mlops_actions.metrics import MISSING as MISSING
from mlops_actions.metrics import NAN as NAN
from mlops_actions.metrics import finite, is_number, lower_is_better
from mlops_actions.metrics import number as number

Interval = tuple[float, float]


@dataclass(frozen=True)
class Row:
    """One metric or param: its flattened name, the base value and the PR value."""

    name: str
    old: Any
    new: Any
    path: str = ""


def fmt(value: Any, digits: int = DIGITS) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return number(value, digits)
    return inert.cell(value)


def name_cell(text: str) -> str:
    """A metric or param name in a table: code, so Markdown in it stays text."""
    return inert.code(text, table=True)


def is_fact(name: str) -> bool:
    """Counts about the data, not scores of the model: no better or worse."""
    return name == "rows" or name.startswith("rows.")


def half_width(interval: Interval | None) -> float | None:
    return None if interval is None else (interval[1] - interval[0]) / 2


# Scores whose change by one test example is about 1/rows: an interval narrower than that
# (a precision of 1 ± 0) would call one more false positive significant.
RATES = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc")


def widened(interval: Interval | None, floor: float) -> Interval | None:
    """`interval` at least `floor` wide on each side of its middle."""
    if interval is None or floor <= 0:
        return interval
    middle = (interval[0] + interval[1]) / 2
    return min(interval[0], middle - floor), max(interval[1], middle + floor)


def one_example(name: str, test_rows: Any) -> float:
    """The smallest change one test example can make to a rate metric `name`; 0 when unknown."""
    if not finite(test_rows) or test_rows <= 0 or name.rsplit(".", 1)[-1] not in RATES:
        return 0.0
    return 1.0 / float(test_rows)


def within_noise(row: Row, base: Interval | None, current: Interval | None) -> bool:
    """The new value inside the base's interval (or, when only this run has one, the base
    value inside this run's); the intervals' ends rounded in the files count as inside."""
    if not (finite(row.old) and finite(row.new)):
        return False

    def inside(value: float, interval: Interval) -> bool:
        slack = 1e-6 * max(1.0, abs(value))
        return interval[0] - slack <= value <= interval[1] + slack

    if base is not None:
        return inside(float(row.new), base)
    if current is not None:
        return inside(float(row.old), current)
    return False


def signed(text: str) -> str:
    """One minus sign in the whole report: U+2212."""
    return text.replace("-", "\u2212")


def verdict(
    row: Row,
    lower: list[str],
    higher: list[str],
    base: Interval | None = None,
    current: Interval | None = None,
    digits: int = DIGITS,
    failed: bool = False,
) -> tuple[str, str, str]:
    """(change, arrow, judgement) for a metric row. The arrow says better (↑) or worse (↓),
    whichever way the value moved; a change inside the noise has none. A metric whose gate
    failed is marked failed, never noise."""
    if not (is_number(row.old) and is_number(row.new)):
        if row.old is None and row.new is not None:
            return "", "", "❌ failed" if failed else "new"
        if row.new is None and row.old is not None:
            return "", "", "❌ failed" if failed else "removed"
        return "", "", "❌ failed" if failed else "" if row.old == row.new else "changed"
    delta = float(row.new) - float(row.old)
    if not math.isfinite(delta):
        return "", "", "❌ failed" if failed else "not a number"
    if delta == 0:
        return "0", "", "❌ failed" if failed else "same"
    pct = f" ({delta / abs(row.old):+.1%})" if row.old else ""
    change = signed(f"{'+' if delta > 0 else ''}{number(delta, min(digits, 3))}{pct}")
    if is_fact(row.name):
        return change, "↑" if delta > 0 else "↓", "more" if delta > 0 else "fewer"
    better = (delta < 0) == lower_is_better(row.name, lower, higher)
    if failed:
        return change, "", "❌ failed"
    if within_noise(row, base, current):
        return change, "", "noise"
    return change, "↑" if better else "↓", "better" if better else "worse"


@dataclass(frozen=True)
class Judged:
    row: Row
    change: str
    arrow: str
    judgement: str

    @property
    def cell(self) -> str:
        """The verdict as one unbreakable phrase: '↓ worse' never wraps in a narrow column."""
        return f"{self.arrow} {self.judgement}".strip().replace(" ", "\u00a0")
