"""The next wave of a sweep: Optuna's study rebuilt in memory from the recorded trials.

Nothing but the experiments is stored. Each plan replays the trials recorded for the sweep
into a fresh in-memory study, in trial-number order, and asks for the numbers nobody recorded
yet: the first missing ones (a cancelled or lost wave is planned again) up to `parallel` and
the budget. Trials asked for in one wave stay RUNNING while the rest are asked, so TPE's
`constant_liar` spreads them out. The samplers are seeded from the sweep's seed and the number
of recorded trials: the same journal always gives the same wave.

Optuna is imported here only, and only when a wave is planned.
"""

from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mlops_actions.config.sweep import Choice, Range, SweepSpec
from mlops_actions.sweep.journal import TrialRecord

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.samplers import BaseSampler


@dataclass(frozen=True)
class PlannedTrial:
    number: int
    params: dict[str, Any]

    def matrix_entry(self) -> dict[str, Any]:
        return {"trial": self.number, "params": self.params}


@dataclass(frozen=True)
class Plan:
    trials: list[PlannedTrial]
    recorded: int  # trials of this sweep recorded so far (complete or failed)
    budget: int

    @property
    def done(self) -> bool:
        return not self.trials

    def matrix(self) -> dict[str, list[dict[str, Any]]]:
        """The wave as a GitHub Actions matrix: `{"include": [{"trial": N, "params": {...}}]}`."""
        return {"include": [t.matrix_entry() for t in self.trials]}


def _distributions(spec: SweepSpec) -> dict[str, BaseDistribution]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    found: dict[str, BaseDistribution] = {}
    for name, space in spec.params.items():
        if spec.sampler == "grid":
            values = space.values if isinstance(space, Choice) else space.grid()
            found[name] = CategoricalDistribution(values)
        elif isinstance(space, Choice):
            found[name] = CategoricalDistribution(space.values)
        elif space.integer:
            step = int(space.step or 1)
            found[name] = IntDistribution(int(space.low), int(space.high), log=space.log, step=step)
        else:
            found[name] = FloatDistribution(space.low, space.high, log=space.log, step=space.step)
    return found


def _sampler(spec: SweepSpec, recorded: int) -> BaseSampler:
    import optuna

    # One seed per journal state: a re-plan of the same journal gives the same wave, the next
    # wave does not repeat the random draws of this one.
    seed = (spec.seed * 1_000_003 + recorded) % 2**32
    if spec.sampler == "grid":
        space: dict[str, Any] = {
            name: list(s.values if isinstance(s, Choice) else s.grid())
            for name, s in spec.params.items()
        }
        return optuna.samplers.GridSampler(space, seed=spec.seed)  # one grid order per sweep
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def _native(value: Any, space: Choice | Range) -> Any:
    if isinstance(space, Range) and space.integer:
        return int(value)
    if isinstance(value, float) and isinstance(space, Range):
        return float(value)
    return value.item() if hasattr(value, "item") else value


def plan(spec: SweepSpec, records: list[TrialRecord], parallel: int | None = None) -> Plan:
    """The next wave of `spec` given the trials recorded for it (empty when the budget is
    spent). `parallel` overrides the wave size."""
    import optuna
    from optuna.trial import TrialState, create_trial

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    size = parallel or spec.parallel
    by_number = {r.number: r for r in records if r.sweep_id == spec.id}
    finished = sum(1 for r in by_number.values() if r.state != "running")
    dists = _distributions(spec)
    missing = [n for n in range(spec.trials) if n not in by_number][:size]
    if not missing:
        return Plan([], finished, spec.trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optuna's experimental-feature warnings
        direction: Literal["minimize", "maximize"] = "minimize" if spec.minimize else "maximize"
        study = optuna.create_study(direction=direction, sampler=_sampler(spec, finished))

        def ask() -> dict[str, Any]:
            asked = study.ask(dists)
            return {n: _native(v, spec.params[n]) for n, v in asked.params.items()}

        def add(record: TrialRecord) -> None:
            try:
                study.add_trial(_frozen(record, dists, create_trial, TrialState))
            except (ValueError, TypeError, KeyError):
                # params outside this space (e.g. edited by hand): a placeholder keeps the
                # numbering, and the sampler learns nothing from it
                study.add_trial(create_trial(state=TrialState.FAIL))

        if spec.sampler == "grid":
            # The grid sampler gives trial N the N-th point of its (seeded) grid order: replay
            # by position, asking at each missing number.
            planned = []
            for number in range(max([missing[-1], *by_number]) + 1):
                if number in by_number:
                    add(by_number[number])
                else:
                    params = ask()
                    if number in missing:
                        planned.append(PlannedTrial(number, params))
        else:
            for number in sorted(by_number):
                add(by_number[number])
            planned = [PlannedTrial(number, ask()) for number in missing]
    return Plan(planned, finished, spec.trials)


def _frozen(
    record: TrialRecord, dists: dict[str, BaseDistribution], create: Any, states: Any
) -> Any:
    params = {name: record.params[name] for name in dists}
    if record.state == "complete":
        trial = create(params=params, distributions=dists, value=record.value)
    else:
        state = states.FAIL if record.state == "failed" else states.RUNNING
        trial = create(params=params, distributions=dists, state=state)
    return _once(trial)


def _once(trial: Any) -> Any:
    """`trial`, copied shallowly where the in-memory storage deep-copies its template: each
    template here is made for one add_trial and never used again, and the deep copies were
    most of the time a 1,000-trial replay took."""
    trial.__class__ = _replayed()
    return trial


@functools.cache
def _replayed() -> type:
    from optuna.trial import FrozenTrial

    class Replayed(FrozenTrial):
        def __deepcopy__(self, memo: dict[int, Any]) -> Any:
            return copy.copy(self)

    return Replayed
