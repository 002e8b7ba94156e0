"""The planner: Optuna's study rebuilt from recorded trials, one wave at a time."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mlops_actions.config.sweep import SweepSpec, parse
from mlops_actions.errors import ConfigError
from mlops_actions.sweep import journal, leaderboard, planner
from mlops_actions.sweep.journal import TrialRecord
from mlops_actions.tracking import runrecord


def sweep(**raw: Any) -> SweepSpec:
    return parse(raw, "params.yaml", primary="f1", lower=[], higher=[])


GRID = {"a": [1, 2, 3], "b": {"low": 10, "high": 20, "step": 10}}


def record(spec: SweepSpec, t: planner.PlannedTrial, value: float | None) -> TrialRecord:
    state = "complete" if value is not None else "failed"
    return TrialRecord(spec.id, t.number, t.params, value, state, name=f"exp-{t.number}")


def run_sweep(spec: SweepSpec, objective: Any, parallel: int | None = None) -> list[TrialRecord]:
    """Plan and record waves until the budget is spent, as the workflow does."""
    records: list[TrialRecord] = []
    for _ in range(100):
        wave = planner.plan(spec, records, parallel)
        if wave.done:
            return records
        records += [record(spec, t, objective(t.params)) for t in wave.trials]
    raise AssertionError("the sweep never finished")


def test_grid_covers_every_combination_once_across_waves() -> None:
    spec = sweep(sampler="grid", parallel=2, params=GRID)
    assert spec.trials == 6
    records = run_sweep(spec, lambda p: p["a"] * p["b"])
    combos = {(r.params["a"], r.params["b"]) for r in records}
    assert combos == {(a, b) for a in (1, 2, 3) for b in (10, 20)}
    assert [r.number for r in records] == list(range(6))
    top = leaderboard.best(records, spec.minimize)
    assert top is not None and top.params == {"a": 3, "b": 20}


def test_grid_waves_of_any_size_try_the_same_points_in_the_same_order() -> None:
    spec = sweep(sampler="grid", parallel=1, params=GRID)
    one = [(r.number, r.params) for r in run_sweep(spec, lambda p: 0.5)]
    four = [(r.number, r.params) for r in run_sweep(spec, lambda p: 0.5, parallel=4)]
    assert one == four


def test_a_trials_budget_below_the_grid_stops_there() -> None:
    spec = sweep(sampler="grid", trials=4, parallel=3, params=GRID)
    assert len(run_sweep(spec, lambda p: 1.0)) == 4


def test_random_is_deterministic_with_the_seed_and_stays_in_its_ranges() -> None:
    space = {
        "lr": {"low": 1e-4, "high": 1.0, "log": True},
        "depth": {"low": 2, "high": 9},
        "kind": ["gini", "entropy"],
    }
    spec = sweep(sampler="random", trials=12, parallel=5, params=space, seed=7)
    first = run_sweep(spec, lambda p: p["lr"])
    again = run_sweep(spec, lambda p: p["lr"])
    assert [r.params for r in first] == [r.params for r in again]
    other = run_sweep(sweep(sampler="random", trials=12, params=space, seed=8), lambda p: 1.0)
    assert [r.params for r in other] != [r.params for r in first]
    assert len(first) == 12
    for r in first:
        assert 1e-4 <= r.params["lr"] <= 1.0 and isinstance(r.params["lr"], float)
        assert 2 <= r.params["depth"] <= 9 and isinstance(r.params["depth"], int)
        assert r.params["kind"] in ("gini", "entropy")
    # each wave draws new points: no repeat of the first wave's draws
    assert len({r.params["lr"] for r in first}) == 12


def test_tpe_learns_from_the_recorded_trials() -> None:
    """After 20 recorded trials of a bowl with its minimum at x=0.8, TPE's wave lands nearer
    the minimum than a random wave does."""
    space = {"x": {"low": 0.0, "high": 1.0}}

    def loss(p: dict[str, Any]) -> float:
        return (p["x"] - 0.8) ** 2

    def wave(sampler: str) -> list[float]:
        spec = parse(
            {"sampler": sampler, "trials": 28, "parallel": 10, "params": space, "metric": "loss"},
            "params.yaml",
            primary=None,
            lower=[],
            higher=[],
        )
        assert spec.minimize  # "loss" is lower-is-better, as the gates know it
        start = sweep(sampler="random", trials=20, parallel=20, params=space, metric="loss")
        history = run_sweep(start, loss)
        history = [TrialRecord(spec.id, r.number, r.params, r.value, r.state) for r in history]
        planned = planner.plan(spec, history, parallel=8)
        assert [t.number for t in planned.trials] == list(range(20, 28))
        return [abs(t.params["x"] - 0.8) for t in planned.trials]

    tpe, rnd = wave("tpe"), wave("random")
    assert sum(tpe) / len(tpe) < sum(rnd) / len(rnd)
    assert len(set(tpe)) == len(tpe)  # constant liar: the wave's trials differ


def test_resumption_plans_from_the_recorded_trials_only() -> None:
    spec = sweep(sampler="tpe", trials=9, parallel=3, params={"x": {"low": 0.0, "high": 1.0}})
    records = run_sweep(spec, lambda p: p["x"])
    # a new planner process given the first two waves plans what the sweep planned third
    resumed = planner.plan(spec, records[:6])
    assert [(t.number, t.params) for t in resumed.trials] == [
        (r.number, r.params) for r in records[6:]
    ]
    assert planner.plan(spec, records).done


def test_a_cancelled_wave_is_planned_again_not_lost() -> None:
    spec = sweep(sampler="random", trials=6, parallel=3, params={"x": {"low": 0.0, "high": 1.0}})
    first = planner.plan(spec, [])
    again = planner.plan(spec, [])  # the wave was cancelled: nothing recorded
    assert again == first
    # one trial of the wave made it: the next wave fills the two lost numbers first
    kept = [record(spec, first.trials[1], 0.5)]
    refill = planner.plan(spec, kept)
    assert [t.number for t in refill.trials] == [0, 2, 3]
    assert refill.recorded == 1


def test_failed_trials_use_budget_and_never_win() -> None:
    spec = sweep(sampler="grid", parallel=4, params={"a": [1, 2, 3, 4]})
    records = run_sweep(spec, lambda p: None if p["a"] == 4 else p["a"] / 10)
    assert len(records) == 4 and planner.plan(spec, records).done
    assert sum(r.state == "failed" for r in records) == 1
    ranked = leaderboard.ranked(records, spec.minimize)
    assert ranked[-1].params == {"a": 4} and ranked[-1].state == "failed"
    top = leaderboard.best(records, spec.minimize)
    assert top is not None and top.params == {"a": 3}
    only_failed = [TrialRecord(spec.id, 0, {"a": 1}, None, "failed")]
    assert leaderboard.best(only_failed, spec.minimize) is None


def test_trials_of_another_sweep_or_outside_the_space_do_not_count() -> None:
    spec = sweep(sampler="random", trials=3, parallel=3, params={"a": [1, 2]})
    strangers = [TrialRecord("other", n, {"a": 1}, 1.0, "complete") for n in range(3)]
    assert [t.number for t in planner.plan(spec, strangers).trials] == [0, 1, 2]
    odd = [TrialRecord(spec.id, 0, {"a": 99}, 1.0, "complete")]
    wave = planner.plan(spec, odd)  # recorded, so not planned again, but teaches nothing
    assert [t.number for t in wave.trials] == [1, 2]


def test_the_matrix_is_what_actions_takes() -> None:
    spec = sweep(sampler="grid", parallel=2, params={"a": [1, 2, 3]})
    matrix = planner.plan(spec, []).matrix()
    assert list(matrix) == ["include"] and len(matrix["include"]) == 2
    assert all(set(e) == {"trial", "params"} for e in matrix["include"])


def test_the_sweep_id_follows_the_space_not_the_budget() -> None:
    base = sweep(params={"a": [1, 2]}, trials=5)
    assert sweep(params={"a": [1, 2]}, trials=50, parallel=9).id == base.id
    assert sweep(params={"a": [1, 3]}, trials=5).id != base.id
    assert sweep(params={"a": [1, 2]}, seed=1).id != base.id


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "mlops.sweep.params: required"),
        ({"params": {"a": []}}, "mlops.sweep.params.a: an empty list"),
        ({"params": {"a": [[1]]}}, "mlops.sweep.params.a[0]: [1]: a choice must be"),
        ({"params": {"a": {"low": 1}}}, "mlops.sweep.params.a.high: required key"),
        ({"params": {"a": {"low": 2, "high": 1}}}, "low (2) must be below high (1)"),
        ({"params": {"a": {"low": 0, "high": 1, "log": True}}}, "a log range needs low above 0"),
        (
            {"params": {"a": {"low": 1, "high": 9, "typ": "int"}}},
            "a.typ: unknown key (did you mean 'type'?)",
        ),
        ({"params": {"a": {"low": 0.5, "high": 9, "type": "int"}}}, "type int needs whole numbers"),
        (
            {"params": {"a": {"low": 1, "high": 9}}, "sampler": "grid"},
            "a grid needs choices or a range with a step",
        ),
        (
            {"params": {"a": [1]}, "sampler": "bayes"},
            "mlops.sweep.sampler: 'bayes' is not one of grid, random, tpe",
        ),
        (
            {"params": {"a": [1]}, "parallel": 257},
            "mlops.sweep.parallel: must be between 1 and 256, got 257",
        ),
        ({"params": {"a": [1]}, "trials": 0}, "mlops.sweep.trials: must be at least 1"),
        ({"params": {"a": [1]}, "runs-on": 3}, "mlops.sweep.runs-on: expected a runner label"),
        ({"params": {"a b": [1]}}, "mlops.sweep.params.a b: not a param name"),
        ({"params": {"a": [1]}, "budget": 3}, "mlops.sweep.budget: unknown key"),
    ],
)
def test_bad_sweep_settings_are_one_line_naming_the_key(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(raw, "params.yaml", primary="f1", lower=[], higher=[])
    text = str(err.value)
    assert text.startswith("params.yaml: ") and message in text and "\n" not in text


def test_no_metric_and_no_primary_is_an_error_and_a_stepped_float_range_grids() -> None:
    with pytest.raises(ConfigError, match=r"mlops\.sweep\.metric: not set"):
        parse({"params": {"a": [1]}}, "params.yaml", primary=None, lower=[], higher=[])
    spec = sweep(sampler="grid", params={"lr": {"low": 0.1, "high": 0.3, "step": 0.1}})
    values = sorted(r.params["lr"] for r in run_sweep(spec, lambda p: 1.0))
    assert all(math.isclose(v, w) for v, w in zip(values, [0.1, 0.2, 0.3], strict=True))


def test_a_trial_whose_numbers_are_beyond_a_float_fails_and_the_leaderboard_still_renders() -> None:
    """A trial's record and metrics are its job's output: JSON allows 1e400 written as an
    integer, which no float holds. The trial fails; gathering and the leaderboard go on."""
    spec = sweep(params={"a": [1, 2]}, metric="f1")
    huge = 10**400
    record = runrecord.RunRecord(
        event="workflow_dispatch", sweep=runrecord.SweepTrial(spec.id, 0, {"a": huge})
    )
    trial = journal._trial("a" * 40, "refs/exps/aa/bb/exp-0", record, {"f1": huge}, "f1")
    assert trial is not None and trial.state == "failed" and trial.value is None
    ok = TrialRecord(spec.id, 1, {"a": huge}, 0.5, "complete", name="exp-1")
    board = leaderboard.markdown(spec, [trial, ok])
    assert "| 1 | 1 | **0.5** | out of range | `exp-1` |" in board, board
