"""Gate rules: a small grammar in params.yaml, evaluated against the current and base metrics.

A rule reads the way it is said::

    accuracy >= 0.90          an absolute threshold
    f1 >= base - 0.01         at most 0.01 below the base branch
    rmse <= base + 5%         at most 5% worse than the base branch
    roc_auc >= base           no worse than the base branch
    rows.test >= 100          metric names are DVC-flattened keys: dots are fine
    "test loss" <= 0.3        quote names that hold spaces or operators

Grammar (whitespace between tokens is free)::

    rule   := metric op rhs
    metric := name | "..." | '...'          name: letters (any script), digits, _ . - /
    op     := >= | <= | > | < | ==
    rhs    := number | base [(+ | -) number [%]]

``!=`` is refused on purpose: a gate needs a direction, and on floats ``!=`` passes on any
rounding change, so it never protects anything. ``==`` stays for counts (``rows.test == 143``).

Evaluation never passes on doubt: a missing, NaN, infinite or non-numeric metric, or a relative
rule whose base value is missing, is an error. Values within a relative 1e-9 of the threshold
count as equal, so ``f1 >= base - 0.01`` does not fail on float rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from mlops_actions.errors import ConfigError
from mlops_actions.metrics import is_number
from mlops_actions.util import did_you_mean

State = Literal["pass", "fail", "error", "skipped"]
PASS: State = "pass"
FAIL: State = "fail"
ERROR: State = "error"
SKIPPED: State = "skipped"

OPERATORS = (">=", "<=", ">", "<", "==")
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

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_SYMBOL = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
_NEGATED = {">=": "<", "<=": ">", ">": "≤", "<": "≥", "==": "≠"}
_OP_HINTS = {
    "!=": "a gate needs a direction: use >, <, >= or <=",
    "=>": "did you mean '>='?",
    "=<": "did you mean '<='?",
    "≥": "write '>='",
    "≤": "write '<='",
    "=": "did you mean '=='?",
}


def _is_name_char(c: str) -> bool:
    """Metric names may use any script's letters and digits: `précision`, `精度`."""
    return c in _NAME_CHARS or c.isalnum()


@dataclass(frozen=True)
class Rule:
    """One parsed rule.

    ``number`` is the threshold of an absolute rule, or the signed offset from the base value
    of a relative one (``base - 0.01`` → -0.01; ``base + 5%`` → 5.0 with ``percent``).
    """

    metric: str
    op: str
    number: float = 0.0
    relative: bool = False
    percent: bool = False
    text: str = field(default="", compare=False)  # as written in params.yaml

    @property
    def rhs(self) -> str:
        if not self.relative:
            return _plain(self.number)
        if self.number == 0:
            return "base"
        sign = "-" if self.number < 0 else "+"
        return f"base {sign} {_plain(abs(self.number))}{'%' if self.percent else ''}"

    @property
    def normalized(self) -> str:
        """The rule spelled one canonical way: the stable part of its status context."""
        return f"{_quote(self.metric)} {self.op} {self.rhs}"

    def threshold(self, base: float | None = None) -> float:
        """The number the metric is compared against, given the base value for relative rules.

        A percentage is taken of the base's magnitude, so ``base - 2%`` is 2% worse in the
        direction of the operator even for a metric that can be negative (r2, neg_log_loss).
        """
        if not self.relative:
            return self.number
        if base is None:
            raise ValueError(f"'{self.normalized}' needs a base value")
        if self.percent:
            return base + abs(base) * self.number / 100
        return base + self.number

    def holds(self, value: float, threshold: float) -> bool:
        close = math.isclose(value, threshold, rel_tol=1e-9, abs_tol=1e-12)
        if self.op == "==":
            return close
        if self.op == ">=":
            return close or value > threshold
        if self.op == "<=":
            return close or value < threshold
        if self.op == ">":
            return not close and value > threshold
        return not close and value < threshold


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


# --- parsing ---------------------------------------------------------------------------------


class _Mistake(Exception):
    def __init__(self, problem: str, index: int, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.index = index
        self.hint = hint

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.problem} at column {self.index + 1}{hint}"


class _Parser:
    """A scanner and recursive-descent parser in one: each position knows what it expects."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def parse(self) -> Rule:
        self._space()
        if self.pos == len(self.text):
            raise _Mistake("empty rule", 0, "write e.g. 'accuracy >= 0.9'")
        metric = self._metric()
        self._space()
        op = self._operator()
        self._space()
        rule = self._rhs(metric, op)
        self._space()
        if self.pos < len(self.text):
            word = self._word()
            hint = ""
            if word.lower() in ("and", "or"):
                hint = "one condition per rule; give each its own list item"
            raise _Mistake(f"unexpected '{word}'", self.pos, hint)
        return replace(rule, text=self.text.strip())

    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _word(self) -> str:
        """The offending token for a message: a run of word characters, or one character."""
        end = self.pos
        while end < len(self.text) and self.text[end] in _WORD_CHARS:
            end += 1
        return self.text[self.pos : max(end, self.pos + 1)]

    def _expected(self, what: str) -> _Mistake:
        if self.pos == len(self.text):
            return _Mistake(f"expected {what}, found the end of the rule", self.pos)
        return _Mistake(f"expected {what}, got '{self._word()}'", self.pos)

    def _metric(self) -> str:
        start = self.pos
        quote = self._peek()
        if quote in ("'", '"'):
            end = self.text.find(quote, start + 1)
            if end < 0:
                raise _Mistake(f"unterminated quote {quote}", start)
            if end == start + 1:
                raise _Mistake("empty metric name", start)
            self.pos = end + 1
            return self.text[start + 1 : end]
        while self._peek() and _is_name_char(self._peek()):
            self.pos += 1
        name = self.text[start : self.pos]
        if not name:
            self.pos = start
            raise self._expected("a metric name")
        if _is_float(name):
            raise _Mistake(
                f"expected a metric name, got the number '{name}'",
                start,
                "the metric goes on the left, e.g. 'accuracy >= 0.9'",
            )
        return name

    def _operator(self) -> str:
        start = self.pos
        for token in ("!=", "=>", "=<", ">=", "<=", "==", ">", "<", "≥", "≤", "="):
            if self.text.startswith(token, start):
                if token in OPERATORS:
                    self.pos += len(token)
                    return token
                raise _Mistake(f"unexpected '{token}'", start, _OP_HINTS[token])
        raise self._expected("an operator (>=, <=, >, <, ==)")

    def _rhs(self, metric: str, op: str) -> Rule:
        start = self.pos
        word = self._word()
        if word == "base":
            self.pos += len(word)
            self._space()
            sign = self._peek()
            if sign not in ("+", "-"):
                return Rule(metric, op, 0.0, relative=True)
            self.pos += 1
            self._space()
            number = self._number(f"a number after 'base {sign}'")
            percent = self._percent()
            if number == 0:  # 'base + 0%' is plain 'base'
                return Rule(metric, op, 0.0, relative=True)
            return Rule(metric, op, -number if sign == "-" else number, True, percent)
        if self._peek() in ("+", "-", ".") or self._peek().isdigit():
            number = self._number("a number or 'base'", signed=True)
            if self._percent():
                raise _Mistake(
                    "unexpected '%'",
                    self.pos - 1,
                    "a percentage needs 'base', e.g. 'base - 2%'; "
                    f"for an absolute threshold write {_plain(number / 100)}",
                )
            return Rule(metric, op, number)
        if word[:1].isalpha():
            hint = did_you_mean(word, {"base"}).strip()[1:-1]
            raise _Mistake(f"expected a number or 'base', got '{word}'", start, hint)
        raise self._expected("a number or 'base'")

    def _percent(self) -> bool:
        mark = self.pos
        self._space()
        if self._peek() == "%":
            self.pos += 1
            return True
        self.pos = mark
        return False

    def _number(self, what: str, *, signed: bool = False) -> float:
        start = self.pos
        if signed and self._peek() in ("+", "-"):
            self.pos += 1
        digits = self._digits()
        if self._peek() == ".":
            self.pos += 1
            digits += self._digits()
        if not digits:
            self.pos = start
            raise self._expected(what)
        if self._peek() in ("e", "E"):
            mark = self.pos
            self.pos += 1
            if self._peek() in ("+", "-"):
                self.pos += 1
            if not self._digits():
                self.pos = mark  # not an exponent after all: the 'e' is reported as unexpected
        number = float(self.text[start : self.pos])
        if not math.isfinite(number):
            raise _Mistake(f"number '{self.text[start : self.pos]}' is out of range", start)
        return number

    def _digits(self) -> int:
        start = self.pos
        while self._peek() and self._peek() in "0123456789":
            self.pos += 1
        return self.pos - start


def parse_rule(text: str) -> Rule:
    """Parse one rule; raise ValueError with the problem and its 1-based column."""
    try:
        return _Parser(text).parse()
    except _Mistake as exc:
        raise ValueError(str(exc)) from None


def parse_rules(raw: Sequence[Any], file: str) -> list[Rule]:
    """The ``gates:`` list of params.yaml, parsed; the first mistake is a ConfigError.

    e.g. ``params.yaml: gates[2]: 'accuracy >= 0.9x': unexpected 'x' at column 16``.
    """
    rules: list[Rule] = []
    seen: dict[Rule, int] = {}
    for index, item in enumerate(raw):
        where = f"{file}: gates[{index}]"
        if not isinstance(item, str):
            raise ConfigError(f"{where}: expected a rule like 'accuracy >= 0.9', got {item!r}")
        try:
            rule = parse_rule(item)
        except ValueError as exc:
            raise ConfigError(f"{where}: '{item}': {exc}") from None
        if rule in seen:
            raise ConfigError(f"{where}: '{item}': the same rule as gates[{seen[rule]}]")
        seen[rule] = index
        rules.append(rule)
    return rules


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
) -> list[GateResult]:
    """Each rule against the flattened scalar metrics; ``baseline`` is None when there is none.

    ``no_baseline`` decides what a relative rule does when there is no baseline at all:
    ``skip`` (counts as passed; the caller should say so), ``fail`` or ``error``.
    """
    if no_baseline not in NO_BASELINE:
        raise ValueError(
            f"no_baseline must be one of {', '.join(NO_BASELINE)}, got {no_baseline!r}"
        )
    return [_evaluate(rule, current, baseline, no_baseline, prefix) for rule in rules]


def _evaluate(
    rule: Rule,
    current: dict[str, Any],
    baseline: dict[str, Any] | None,
    no_baseline: str,
    prefix: str,
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
        return result(ERROR, problem, _maybe_number(current.get(rule.metric)))
    base, base_problem = None, "no base metrics"
    if baseline is not None:
        base, base_problem = _number(baseline, rule.metric, "base value")
    if rule.relative and base is None:
        if baseline is not None:
            return result(ERROR, base_problem, value, _maybe_number(baseline.get(rule.metric)))
        states: dict[str, State] = {"skip": SKIPPED, "fail": FAIL, "error": ERROR}
        state = states[no_baseline]
        return result(state, "no base metrics" + (", skipped" if state == SKIPPED else ""), value)
    threshold = rule.threshold(base)
    passed = rule.holds(value, threshold)
    detail = _comparison(rule, value, threshold, base, passed)
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


def _comparison(rule: Rule, value: float, threshold: float, base: float | None, ok: bool) -> str:
    numbers = [value, threshold]
    if rule.relative and base is not None:
        numbers.append(base)
        if not rule.percent:
            numbers.append(abs(rule.number))
    fmt = _formatter(numbers, value, threshold)
    symbol = _SYMBOL[rule.op] if ok else _NEGATED[rule.op]
    text = f"{fmt(value)} {symbol} {fmt(threshold)}"
    if rule.relative and base is not None:
        if rule.number == 0:
            text += " (base)"
        else:
            sign = "−" if rule.number < 0 else "+"
            offset = f"{_plain(abs(rule.number))}%" if rule.percent else fmt(abs(rule.number))
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
    """One line, e.g. 'gates failed: 3 passed, 1 failed, 1 skipped'."""
    if not results:
        return "no gates in params.yaml"
    counts = {state: sum(r.state == state for r in results) for state in (PASS, FAIL, ERROR)}
    counts[SKIPPED] = sum(r.state == SKIPPED for r in results)
    labels = {PASS: "passed", FAIL: "failed", ERROR: "errors", SKIPPED: "skipped"}
    if counts[ERROR] == 1:
        labels[ERROR] = "error"
    parts = ", ".join(f"{n} {labels[state]}" for state, n in counts.items() if n)
    head = {PASS: "gates passed", FAIL: "gates failed", ERROR: "gates could not be evaluated"}
    return f"{head[overall(results)]}: {parts}"


def render_markdown(results: Sequence[GateResult]) -> str:
    """A Markdown table for the PR report; empty when there are no rules."""
    if not results:
        return ""
    from tabulate import tabulate

    marks = {PASS: "✅", FAIL: "❌", ERROR: "⚠️", SKIPPED: "⏭"}
    rows = [
        [
            marks[r.state],
            _md_cell(f"`{r.text}`"),
            _md_cell(format_number(r.value)),
            _md_cell(format_number(r.baseline)),
            _md_cell(r.detail),
        ]
        for r in results
    ]
    table = tabulate(
        rows,
        headers=["", "Gate", "Value", "Base", "Result"],
        tablefmt="github",
        disable_numparse=True,
    )
    return f"**{summary(results)}**\n\n{table}\n"


# --- formatting ------------------------------------------------------------------------------


def format_number(value: float | None) -> str:
    """For tables: integers as integers, other numbers to 6 significant digits, '-' for none."""
    if value is None:
        return "-"
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _plain(number: float) -> str:
    """A number as short as it can be written: 0.9, 100, 1e-05."""
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


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


def _quote(name: str) -> str:
    # Only ASCII names go unquoted: the normalized rule is a status context branch protection
    # may require, and `"précision" >= 0.8` is how it read before unquoted names were allowed.
    if name and all(c in _NAME_CHARS for c in name) and not _is_float(name):
        return name
    return f"'{name}'" if '"' in name else f'"{name}"'


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _json_number(value: float | None, *, rounded: bool = False) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    # A computed threshold loses its float noise: base 0.94 - 0.01 is 0.93, not 0.9299999999999999.
    return float(f"{value:.12g}") if rounded else value
