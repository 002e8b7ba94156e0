"""Gate evaluation: parsed rules (see rules.py) against the current and base metrics.

Evaluation never passes on doubt: a missing, NaN, infinite or non-numeric metric, or a relative
rule whose base value is missing, is an error. Values within a relative 1e-9 of the threshold
count as equal, so ``f1 >= base - 0.01`` does not fail on float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from mlops_actions import inert
from mlops_actions.config.rules import OPERATORS, Rule, parse_rule, parse_rules, plain_number
from mlops_actions.metrics import is_number
from mlops_actions.util import close_names, did_you_mean

__all__ = ["OPERATORS", "Rule", "parse_rule", "parse_rules"]  # the grammar lives in rules.py

State = Literal["pass", "fail", "error", "skipped"]
PASS: State = "pass"
FAIL: State = "fail"
ERROR: State = "error"
SKIPPED: State = "skipped"

NO_BASELINE = ("skip", "fail", "error")
DEFAULT_PREFIX = "mlops/gate"
DESCRIPTION_LIMIT = 140  # GitHub's limit for a commit status description

# The commit status state for each gate state: a skipped rule does not block the merge.
GITHUB_STATES: dict[State, str] = {
    PASS: "success",
    FAIL: "failure",
    ERROR: "error",
    SKIPPED: "success",
}

_SYMBOL = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
_NEGATED = {">=": "<", "<=": ">", ">": "≤", "<": "≥", "==": "≠"}


@dataclass(frozen=True)
class GateResult:
    """One rule's outcome. ``value``, ``baseline`` and ``threshold`` are None when unknown."""

    rule: Rule
    state: State
    value: float | None
    baseline: float | None
    threshold: float | None
    detail: str  # what happened, without the metric name: '0.871 < 0.880 (base 0.890 − 0.010)'
    description: str  # ≤ 140 characters, for the commit status: 'f1 0.871 < 0.880 (...)'
    context: str  # the commit status context: 'mlops/gate: f1 >= base - 0.01'
    hint: str = ""  # for a metric not found: the metrics there are, 'metrics.json has: f1, …'

    @property
    def text(self) -> str:
        return self.rule.text or self.rule.normalized

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers become null)."""
        return {
            "rule": self.text,
            "metric": self.rule.metric,
            "context": self.context,
            "state": self.state,
            "value": _json_number(self.value),
            "baseline": _json_number(self.baseline),
            "threshold": _json_number(self.threshold, rounded=True),
            "description": self.description,
        }


# --- evaluation ------------------------------------------------------------------------------


def context(rule: Rule, prefix: str = DEFAULT_PREFIX) -> str:
    """The commit status context of one rule: stable however the rule is spaced."""
    return f"{prefix}: {rule.normalized}"


def overall_context(prefix: str = DEFAULT_PREFIX) -> str:
    """The commit status context of all rules together: the one to require in branch protection."""
    return prefix


def evaluate(
    rules: Sequence[Rule],
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    *,
    no_baseline: str = "skip",
    prefix: str = DEFAULT_PREFIX,
    noise: dict[str, float] | None = None,
    source: str = "the metrics file",
) -> list[GateResult]:
    """Each rule against the flattened scalar metrics; ``baseline`` is None when there is none.

    ``no_baseline`` decides what a relative rule does when there is no baseline at all:
    ``skip`` (counts as passed; the caller should say so), ``fail`` or ``error``.
    ``noise`` holds the half-width of the base's confidence interval per metric, for
    ``base - noise`` rules. ``source`` names where `current` was read, for the list of the
    metrics it has when a rule's metric is not there.
    """
    if no_baseline not in NO_BASELINE:
        raise ValueError(
            f"no_baseline must be one of {', '.join(NO_BASELINE)}, got {no_baseline!r}"
        )
    return [
        _evaluate(rule, current, baseline, no_baseline, prefix, noise or {}, source)
        for rule in rules
    ]


def available(name: str, metrics: dict[str, Any], source: str, limit: int = 12) -> str:
    """The metrics `source` has, for a rule whose metric `name` it lacks: the closest names
    first, then the rest in order, at most `limit` of them."""
    names = sorted(metrics)
    if not names:
        return f"{source} has no metrics"
    close = close_names(name, names, n=3)
    shown = close + [n for n in names if n not in close]
    more = len(shown) - limit
    listed = ", ".join(shown[:limit]) + (f", … ({more} more)" if more > 0 else "")
    return f"{source} has: {listed}"


def _evaluate(
    rule: Rule,
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    no_baseline: str,
    prefix: str,
    noise: dict[str, float],
    source: str,
) -> GateResult:
    def result(
        state: State,
        detail: str,
        value: float | None = None,
        base: float | None = None,
        threshold: float | None = None,
    ) -> GateResult:
        if threshold is not None:  # a comparison: 'f1 0.871 < 0.880 (...)'
            description = _fit(rule.metric, " ", detail + (" ✓" if state == PASS else ""))
        else:  # a problem: 'f1: metric is NaN'
            description = _fit(rule.metric, ": ", detail)
        return GateResult(
            rule, state, value, base, threshold, detail, description, context(rule, prefix)
        )

    value, problem = _number(current, rule.metric, "metric")
    if value is None:
        found = result(ERROR, problem, _maybe_number(current.get(rule.metric)))
        if rule.metric in current:
            return found
        return replace(found, hint=available(rule.metric, current, source))
    base, base_problem = None, "no base metrics"
    if baseline is not None:
        base, base_problem = _number(baseline, rule.metric, "base value")
    if rule.relative and base is None:
        if baseline is not None:
            return result(ERROR, base_problem, value, _maybe_number(baseline.get(rule.metric)))
        states: dict[str, State] = {"skip": SKIPPED, "fail": FAIL, "error": ERROR}
        state = states[no_baseline]
        return result(state, "no base metrics" + (", skipped" if state == SKIPPED else ""), value)
    spread = noise.get(rule.metric)
    if rule.noise and spread is None:
        return result(ERROR, "the base has no confidence interval (ci) for noise", value, base)
    threshold = rule.threshold(base, spread)
    passed = rule.holds(value, threshold)
    detail = _comparison(rule, value, threshold, base, passed, spread)
    return result(PASS if passed else FAIL, detail, value, base, threshold)


def _number(metrics: dict[str, Any], name: str, what: str) -> tuple[float | None, str]:
    """The metric as a finite float, or None and why not."""
    if name not in metrics:
        return None, f"{what} not found{did_you_mean(name, set(metrics))}"
    value = metrics[name]
    if value is None:
        return None, f"{what} is null"
    if not is_number(value):
        shown = repr(value) if isinstance(value, str) else str(value).lower()
        return None, f"{what} is {_clip(shown, 40)}, not a number"
    if math.isnan(value):
        return None, f"{what} is NaN"
    if math.isinf(value):
        return None, f"{what} is {'-' if value < 0 else ''}infinite"
    return float(value), ""


def _maybe_number(value: Any) -> float | None:
    return float(value) if is_number(value) else None


def _comparison(
    rule: Rule,
    value: float,
    threshold: float,
    base: float | None,
    ok: bool,
    spread: float | None = None,
) -> str:
    numbers = [value, threshold]
    if rule.relative and base is not None:
        numbers.append(base)
        if rule.noise and spread is not None:
            numbers.append(spread)
        elif not rule.percent:
            numbers.append(abs(rule.number))
    fmt = _formatter(numbers, value, threshold)
    symbol = _SYMBOL[rule.op] if ok else _NEGATED[rule.op]
    text = f"{fmt(value)} {symbol} {fmt(threshold)}"
    if rule.relative and base is not None:
        if rule.number == 0:
            text += " (base)"
        else:
            sign = "−" if rule.number < 0 else "+"
            offset = f"{plain_number(abs(rule.number))}%" if rule.percent else fmt(abs(rule.number))
            if rule.noise and spread is not None:
                offset = f"noise {fmt(spread)}"
            text += f" (base {fmt(base)} {sign} {offset})"
    return text


def overall(results: Sequence[GateResult]) -> State:
    """error if any rule errored, else fail if any failed, else pass (skipped counts as pass)."""
    states = {r.state for r in results}
    if ERROR in states:
        return ERROR
    if FAIL in states:
        return FAIL
    return PASS


def exit_code(results: Sequence[GateResult]) -> int:
    """0 when every rule passed or was skipped, 1 when any failed, 2 when any errored."""
    return {PASS: 0, FAIL: 1, ERROR: 2}[overall(results)]


def summary(results: Sequence[GateResult]) -> str:
    """One line, e.g. 'gates: 3 passed, 1 failed, 1 skipped'."""
    if not results:
        return "no gates in params.yaml"
    counts = {state: sum(r.state == state for r in results) for state in (PASS, FAIL, ERROR)}
    counts[SKIPPED] = sum(r.state == SKIPPED for r in results)
    labels = {PASS: "passed", FAIL: "failed", ERROR: "errors", SKIPPED: "skipped"}
    if counts[ERROR] == 1:
        labels[ERROR] = "error"
    parts = ", ".join(f"{n} {labels[state]}" for state, n in counts.items() if n)
    return f"gates: {parts}"


MARKS: dict[State, str] = {PASS: "✅", FAIL: "❌", ERROR: "⚠️", SKIPPED: "⏭"}
_VERDICTS: dict[State, str] = {
    PASS: "gates passed",
    FAIL: "gates failed",
    ERROR: "gates could not be evaluated",
}


def verdict(results: Sequence[GateResult]) -> str:
    """The outcome in a few words, marked: '❌ gates failed'."""
    state = overall(results)
    return f"{MARKS[state]} {_VERDICTS[state]}"


def headline(results: Sequence[GateResult]) -> str | None:
    """The report's first line, Markdown: the verdict and the gate that decided it, e.g.
    '**❌ f1 0.902 < 0.920** (base 0.940 − 0.020) · 1 of 4 gates failed'; when every gate
    passed, '**✅ 4 of 4 gates passed**'. None without gates. Gate descriptions hold metric
    names from the project: they go through the inert module."""
    if not results:
        return None
    state = overall(results)
    total = len(results)
    if state == PASS:
        skipped = sum(r.state == SKIPPED for r in results)
        passed = total - skipped
        more = f" · {skipped} skipped" if skipped else ""
        return f"**{MARKS[PASS]} {passed} of {total} gates passed**{more}"
    worst = [r for r in results if r.state == state]
    first = worst[0]
    what = "failed" if state == FAIL else "could not be evaluated"
    decided, _, why = first.description.removesuffix(" ✓").partition(" (")
    rest = f" ({inert.text(why)}" if why else ""
    skipped = sum(r.state == SKIPPED for r in results)
    more = f" · {skipped} skipped" if skipped else ""
    return (
        f"**{MARKS[state]} {inert.text(decided)}**{rest} · {len(worst)} of {total} gates {what}"
        f"{more}"
    )


def failed_metrics(results: Sequence[GateResult]) -> list[str]:
    """The metrics whose gate failed or could not be evaluated: never 'noise' in a report."""
    names = [r.rule.metric for r in results if r.state in (FAIL, ERROR)]
    return list(dict.fromkeys(names))


# The report's Gates section for a project without rules.
NO_GATES = (
    "_No gates yet: add rules under `mlops.gates` in params.yaml (e.g. `- accuracy >= base`) "
    "and `mlops.metrics.primary` to get commit statuses and promotion._"
)


def render_markdown(results: Sequence[GateResult], *, with_headline: bool = True) -> str:
    """A Markdown table for the PR report, the result second so a phone shows it; empty when
    there are no rules."""
    if not results:
        return ""
    from tabulate import tabulate

    def result(r: GateResult) -> str:
        detail = inert.code(f"{r.detail}; {r.hint}", table=True) if r.hint else inert.cell(r.detail)
        return f"{MARKS[r.state]} {detail}"

    rows = [[inert.code(r.text, table=True), result(r)] for r in results]
    table = tabulate(rows, headers=["gate", "result"], tablefmt="github", disable_numparse=True)
    return f"{headline(results)}\n\n{table}\n" if with_headline else f"{table}\n"


# --- formatting ------------------------------------------------------------------------------


def format_number(value: float | None, digits: int = 4) -> str:
    """For tables, as the report writes numbers: integers as integers, others to 4 significant
    digits, NaN as 'NaN', '—' for none."""
    from mlops_actions.metrics import MISSING, number

    return MISSING if value is None else number(value, digits)


def _formatter(numbers: list[float], value: float, threshold: float) -> Callable[[float], str]:
    """One format for every number in a description: integers stay integers; otherwise enough
    decimals to show the smallest number and to tell the value from the threshold."""
    if all(n == int(n) and abs(n) < 1e15 for n in numbers):
        return lambda n: str(int(n))
    smallest = min((abs(n) for n in numbers if n), default=1.0)
    decimals = max(3, min(12, 1 - math.floor(math.log10(smallest))))
    close = math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
    while not close and decimals < 12 and f"{value:.{decimals}f}" == f"{threshold:.{decimals}f}":
        decimals += 1
    return lambda n: f"{n:.{decimals}f}"


def _fit(name: str, separator: str, rest: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """'name<separator>rest' in at most `limit` characters: a long name loses its middle first
    (the ends of a dotted name tell it apart), then the text is cut."""
    text = f"{name}{separator}{rest}"
    if len(text) <= limit:
        return text
    room = limit - len(separator) - len(rest)
    if room >= 16:
        return f"{_clip_middle(name, room)}{separator}{rest}"
    return _clip(text, limit)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip_middle(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = (limit - 1) // 3
    tail = limit - 1 - head
    return f"{text[:head]}…{text[-tail:]}"


def _json_number(value: float | None, *, rounded: bool = False) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    # A computed threshold loses its float noise: base 0.94 - 0.01 is 0.93, not 0.9299999999999999.
    return float(f"{value:.12g}") if rounded else value
