"""The listing's filter grammar, sorting and inert rendering, on runs built in memory."""

from __future__ import annotations

import pytest

from mlops_actions.errors import MlopsError
from mlops_actions.tracking import runrecord, view
from mlops_actions.tracking.listing import Run


def _run(name: str, f1: float | None, n_est: int, pr: int | None = None) -> Run:
    metrics = {"metrics.json": {"data": {"f1": f1}}} if f1 is not None else {}
    record = runrecord.RunRecord(event="pull_request", pr=pr) if pr else None
    return Run(
        name,
        "a" * 40,
        "b" * 40,
        "2026-01-01T00:00:00",
        params={"params.yaml": {"data": {"train": {"n_est": n_est}}}},
        metrics=metrics,
        record=record,
    )


RUNS = [_run("a", 0.91, 50), _run("b", 0.95, 200, pr=4), _run("c", None, 300)]


def test_filter_joins_gate_rules_with_and() -> None:
    rules = view.parse_filter("f1 >= 0.9 and train.n_est > 100")
    assert [r.name for r in RUNS if view.matches(r, rules)] == ["b"]
    rules = view.parse_filter('"train.n_est" >= 50 AND f1 < 0.93')
    assert [r.name for r in RUNS if view.matches(r, rules)] == ["a"]
    with pytest.raises(MlopsError, match="--filter"):
        view.parse_filter("f1 >= and")


def test_sort_puts_runs_without_the_metric_last() -> None:
    assert [r.name for r in view.sort(RUNS, "f1")] == ["b", "a", "c"]
    assert [r.name for r in view.sort(RUNS, "-f1")] == ["a", "b", "c"]
    assert [r.name for r in view.select(RUNS, pr=4)] == ["b"]


def test_markdown_keeps_hostile_names_as_text() -> None:
    hostile = _run("x](https://evil)<img src=y>@team|", 0.5, 1)
    text = view.render_markdown([hostile])
    assert "<img" not in text and "@\u2060team" in text and "\\](" in text
    assert text.splitlines()[2].count(" | ") == text.splitlines()[0].count(" | ")


def test_experiment_names_follow_dvcs_rules() -> None:
    assert runrecord.ci_name("123", 2) == "ci-123-2"
    for bad in ("a/b", "a..b", "x.lock", "-x", "a b", ""):
        assert not runrecord.valid_name(bad)
    with pytest.raises(ValueError):
        runrecord.ref("not-a-sha", "x")
