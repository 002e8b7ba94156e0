"""The gate grammar: rules as written in params.yaml, parsed once at load."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mlops_actions.config import rules as gates
from mlops_actions.config.rules import Rule
from mlops_actions.errors import ConfigError

# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule", "normalized"),
    [
        ("accuracy >= 0.90", Rule("accuracy", ">=", 0.9), "accuracy >= 0.9"),
        ("rmse <= 3.5", Rule("rmse", "<=", 3.5), "rmse <= 3.5"),
        ("loss < 1e-3", Rule("loss", "<", 0.001), "loss < 0.001"),
        ("auc > .5", Rule("auc", ">", 0.5), "auc > 0.5"),
        ("delta >= -0.25", Rule("delta", ">=", -0.25), "delta >= -0.25"),
        ("rows.test >= 100", Rule("rows.test", ">=", 100), "rows.test >= 100"),
        ("rows.test == 143", Rule("rows.test", "==", 143), "rows.test == 143"),
        ("f1 >= base - 0.01", Rule("f1", ">=", -0.01, relative=True), "f1 >= base - 0.01"),
        ("f1>=base-0.01", Rule("f1", ">=", -0.01, relative=True), "f1 >= base - 0.01"),
        ("roc_auc >= base", Rule("roc_auc", ">=", 0, relative=True), "roc_auc >= base"),
        ("auc >= base + 0.02", Rule("auc", ">=", 0.02, relative=True), "auc >= base + 0.02"),
        (
            "rmse <= base + 5%",
            Rule("rmse", "<=", 5, relative=True, percent=True),
            "rmse <= base + 5%",
        ),
        (
            "accuracy >= base - 2.5 %",
            Rule("accuracy", ">=", -2.5, relative=True, percent=True),
            "accuracy >= base - 2.5%",
        ),
        ("val-loss <= 0.3", Rule("val-loss", "<=", 0.3), "val-loss <= 0.3"),
        ("per_class/benign.f1 > 0.8", Rule("per_class/benign.f1", ">", 0.8), None),
        ('"test loss" <= 0.3', Rule("test loss", "<=", 0.3), '"test loss" <= 0.3'),
        # Any script's letters; the normalized form (a status context) quotes them, as before.
        ("précision >= 0.85", Rule("précision", ">=", 0.85), '"précision" >= 0.85'),
        ("精度 >= base", Rule("精度", ">=", 0, relative=True), '"精度" >= base'),
        ("'a>=b' > 1", Rule("a>=b", ">", 1), '"a>=b" > 1'),
        ("'say \"hi\"' > 1", Rule('say "hi"', ">", 1), "'say \"hi\"' > 1"),
        ("base >= 0.5", Rule("base", ">=", 0.5), "base >= 0.5"),
        ("f1 >= base - 0%", Rule("f1", ">=", 0, relative=True), "f1 >= base"),
        ("  accuracy\t>=  0.9  ", Rule("accuracy", ">=", 0.9), "accuracy >= 0.9"),
    ],
)
def test_valid_rules(text: str, rule: Rule, normalized: str | None) -> None:
    parsed = gates.parse_rule(text)
    assert parsed == rule
    assert parsed.text == text.strip()
    assert parsed.normalized == (normalized or text)
    # The normalized form is itself a rule that means the same.
    assert gates.parse_rule(parsed.normalized) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accuracy >= 0.9x", "unexpected 'x' at column 16"),
        ("accuracy >= 0.9.1", "unexpected '.1' at column 16"),
        (
            "accuracy",
            "expected an operator (>=, <=, >, <, ==), found the end of the rule at column 9",
        ),
        ("accuracy 0.9", "expected an operator (>=, <=, >, <, ==), got '0.9' at column 10"),
        ("accuracy >=", "expected a number or 'base', found the end of the rule at column 12"),
        (">= 0.9", "expected a metric name, got '>' at column 1"),
        ("", "empty rule at column 1 (write e.g. 'accuracy >= 0.9')"),
        ("accuracy => 0.9", "unexpected '=>' at column 10 (did you mean '>='?)"),
        ("accuracy =< 0.9", "unexpected '=<' at column 10 (did you mean '<='?)"),
        ("accuracy = 0.9", "unexpected '=' at column 10 (did you mean '=='?)"),
        ("accuracy ≥ 0.9", "unexpected '≥' at column 10 (write '>=')"),
        (
            "accuracy != 0.9",
            "unexpected '!=' at column 10 (a gate needs a direction: use >, <, >= or <=)",
        ),
        (
            "accuracy >= 90%",
            "unexpected '%' at column 15 (a percentage needs 'base', e.g. 'base - 2%'; "
            "for an absolute threshold write 0.9)",
        ),
        (
            "f1 >= bsae - 0.01",
            "expected a number or 'base', got 'bsae' at column 7 (did you mean 'base'?)",
        ),
        ("f1 >= nan", "expected a number or 'base', got 'nan' at column 7"),
        (
            "f1 >= base -",
            "expected a number or 'noise' after 'base -', found the end of the rule at column 13",
        ),
        ("f1 >= base - -0.01", "expected a number or 'noise' after 'base -', got '-' at column 14"),
        ("f1 >= base * 0.9", "unexpected '*' at column 12"),
        ("f1 >= 1e", "unexpected 'e' at column 8"),
        ("f1 >= 1e999", "number '1e999' is out of range at column 7"),
        (
            "0.9 <= accuracy",
            "expected a metric name, got the number '0.9' at column 1 "
            "(the metric goes on the left, e.g. 'accuracy >= 0.9')",
        ),
        (
            "accuracy >= 0.9 and f1 >= 0.8",
            "unexpected 'and' at column 17 (one condition per rule; give each its own list item)",
        ),
        ('"test loss <= 0.3', 'unterminated quote " at column 1'),
        ("'' <= 0.3", "empty metric name at column 1"),
    ],
)
def test_invalid_rules_name_the_rule_and_column(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        gates.parse_rules([text], "params.yaml")
    assert str(info.value) == f"params.yaml: mlops.gates[0]: '{text}': {message}"


def test_invalid_rule_reports_its_index() -> None:
    raw = ["accuracy >= 0.9", "f1 >= base", "accuracy >= 0.9x"]
    with pytest.raises(ConfigError, match="x") as info:
        gates.parse_rules(raw, "params.yaml")
    assert (
        str(info.value)
        == "params.yaml: mlops.gates[2]: 'accuracy >= 0.9x': unexpected 'x' at column 16"
    )
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            [{"rule": "accuracy >= 0.9"}],
            "params.yaml: mlops.gates[0]: expected a rule like 'accuracy >= 0.9', "
            "got {'rule': 'accuracy >= 0.9'}",
        ),
        ([0.9], "params.yaml: mlops.gates[0]: expected a rule like 'accuracy >= 0.9', got 0.9"),
        (
            ["f1 >= base - 0.01", "f1>=base-0.01"],
            "params.yaml: mlops.gates[1]: 'f1>=base-0.01': the same rule as mlops.gates[0]",
        ),
    ],
)
def test_rule_list_errors(raw: list[Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        gates.parse_rules(raw, "params.yaml")
    assert str(info.value) == message


def test_threshold_needs_a_base_for_relative_rules() -> None:
    rule = gates.parse_rule("f1 >= base")
    with pytest.raises(ValueError, match="needs a base value"):
        rule.threshold()
    assert math.isclose(gates.parse_rule("f1 >= base - 50%").threshold(-2.0), -3.0)
