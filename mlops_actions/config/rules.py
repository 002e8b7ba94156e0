"""Gate rules: the small grammar of params.yaml's `mlops.gates` list.

A rule reads the way it is said::

    accuracy >= 0.90          an absolute threshold
    f1 >= base - 0.01         at most 0.01 below the base branch
    rmse <= base + 5%         at most 5% worse than the base branch
    roc_auc >= base           no worse than the base branch
    rows.test >= 100          metric names are DVC-flattened keys: dots are fine
    "test loss" <= 0.3        quote names that hold spaces or operators
    f1 >= base - noise        no further below the base than its noise: half the width of the
                              base's confidence interval (the metrics file's "ci"); an error
                              when the base has no interval

Grammar (whitespace between tokens is free)::

    rule   := metric op rhs
    metric := name | "..." | '...'          name: letters (any script), digits, _ . - /
    op     := >= | <= | > | < | ==
    rhs    := number | base [(+ | -) (number [%] | noise)]

``!=`` is refused on purpose: a gate needs a direction, and on floats ``!=`` passes on any
rounding change, so it never protects anything. ``==`` stays for counts (``rows.test == 143``).

Rules are parsed once, when params.yaml is loaded; `gates` evaluates them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_actions.errors import ConfigError
from mlops_actions.util import did_you_mean

OPERATORS = (">=", "<=", ">", "<", "==")
# ":" joins a metrics file and a metric: `eval/a.json:accuracy`, as DVC's tables name them
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/:")
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
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
    noise: bool = False  # base ± the base's noise; `number` is then the sign, -1 or +1

    @property
    def rhs(self) -> str:
        if not self.relative:
            return plain_number(self.number)
        if self.number == 0:
            return "base"
        sign = "-" if self.number < 0 else "+"
        if self.noise:
            return f"base {sign} noise"
        return f"base {sign} {plain_number(abs(self.number))}{'%' if self.percent else ''}"

    @property
    def normalized(self) -> str:
        """The rule spelled one canonical way: the stable part of its status context."""
        return f"{_quote(self.metric)} {self.op} {self.rhs}"

    def threshold(self, base: float | None = None, noise: float | None = None) -> float:
        """The number the metric is compared against, given the base value for relative rules.

        A percentage is taken of the base's magnitude, so ``base - 2%`` is 2% worse in the
        direction of the operator even for a metric that can be negative (r2, neg_log_loss).
        """
        if not self.relative:
            return self.number
        if base is None:
            raise ValueError(f"'{self.normalized}' needs a base value")
        if self.noise:
            if noise is None:
                raise ValueError(f"'{self.normalized}' needs the base's confidence interval")
            return base + self.number * noise
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
            if self._word() == "noise":
                self.pos += len("noise")
                return Rule(metric, op, -1.0 if sign == "-" else 1.0, True, noise=True)
            number = self._number(f"a number or 'noise' after 'base {sign}'")
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
                    f"for an absolute threshold write {plain_number(number / 100)}",
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


def parse_rules(raw: Sequence[Any], file: str, key: str = "mlops.gates") -> list[Rule]:
    """The ``mlops.gates`` list of params.yaml (`key`), parsed; the first mistake is a
    ConfigError, e.g. ``params.yaml: mlops.gates[2]: 'accuracy >= 0.9x': unexpected 'x' at
    column 16``.
    """
    rules: list[Rule] = []
    seen: dict[Rule, int] = {}
    for index, item in enumerate(raw):
        where = f"{file}: {key}[{index}]"
        if not isinstance(item, str):
            raise ConfigError(f"{where}: expected a rule like 'accuracy >= 0.9', got {item!r}")
        try:
            rule = parse_rule(item)
        except ValueError as exc:
            raise ConfigError(f"{where}: '{item}': {exc}") from None
        if rule in seen:
            raise ConfigError(f"{where}: '{item}': the same rule as {key}[{seen[rule]}]")
        seen[rule] = index
        rules.append(rule)
    return rules


def plain_number(number: float) -> str:
    """A number as short as it can be written: 0.9, 100, 1e-05."""
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


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
