"""`mlops.sweep` of params.yaml, validated into a typed SweepSpec.

```yaml
mlops:
  sweep:
    params:
      train.n_est: {low: 10, high: 400, log: true, type: int}   # a range
      train.criterion: [gini, entropy]                           # choices
    sampler: tpe        # grid | random | tpe
    trials: 40          # the budget; grid: every combination by default
    parallel: 8         # trials per wave (one matrix), at most 256
    metric: f1          # default: mlops.metrics.primary
    seed: 0
    runs-on: ubuntu-latest
```

Param names are spelled as `dvc exp run -S` spells them: `train.n_est` is a key of params.yaml,
`other.yaml:lr` a key of another params file.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_actions.errors import ConfigError
from mlops_actions.metrics import lower_is_better
from mlops_actions.util import did_you_mean

if TYPE_CHECKING:
    from mlops_actions.config.settings import Config

SAMPLERS = ("grid", "random", "tpe")
MAX_PARALLEL = 256  # GitHub Actions' limit of jobs in one matrix
DEFAULT_TRIALS = 20
DEFAULT_PARALLEL = 4
KEYS = ("params", "sampler", "trials", "parallel", "metric", "seed", "runs-on")
RANGE_KEYS = ("low", "high", "log", "step", "type")
Scalar = str | int | float | bool | None
_NAME = re.compile(r"^(?:[\w./-]+\.(?:yaml|yml|json|toml|py):)?[\w-]+(?:\.[\w-]+)*$")


@dataclass(frozen=True)
class Choice:
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool = False
    step: float | None = None
    integer: bool = False

    def grid(self) -> tuple[Scalar, ...]:
        """The values of a stepped range, low to high (what a grid sweep tries)."""
        assert self.step is not None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        values = [self.low + i * self.step for i in range(count)]
        if self.integer:
            return tuple(round(v) for v in values)
        return tuple(round(v, 12) for v in values)


Space = Choice | Range


@dataclass(frozen=True)
class SweepSpec:
    params: dict[str, Space]
    sampler: str
    trials: int
    parallel: int
    metric: str
    minimize: bool
    seed: int
    runs_on: str | list[str]

    @property
    def id(self) -> str:
        """What names the sweep: the search space, sampler, seed and metric. A larger budget
        or another wave size continues the same sweep; another space starts a new one."""
        canon = {
            "params": {k: _canon(v) for k, v in sorted(self.params.items())},
            "sampler": self.sampler,
            "seed": self.seed,
            "metric": self.metric,
        }
        text = json.dumps(canon, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def direction(self) -> str:
        return "minimize" if self.minimize else "maximize"


def _canon(space: Space) -> Any:
    if isinstance(space, Choice):
        return list(space.values)
    return [space.low, space.high, space.log, space.step, space.integer]


def grid_size(params: dict[str, Space]) -> int:
    size = 1
    for space in params.values():
        size *= len(space.values) if isinstance(space, Choice) else len(space.grid())
    return size


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _range(name: str, data: dict[str, Any], where: str) -> Range:
    for key in data:
        if key not in RANGE_KEYS:
            hint = did_you_mean(str(key), set(RANGE_KEYS))
            raise ConfigError(f"{where}.{key}: unknown key{hint}")
    for key in ("low", "high"):
        if key not in data:
            raise ConfigError(
                f"{where}.{key}: required key is missing (a range needs low and high)"
            )
        if not _number(data[key]):
            raise ConfigError(f"{where}.{key}: expected a number, got {data[key]!r}")
    low, high = data["low"], data["high"]
    step, log = data.get("step"), data.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.log: expected true or false, got {log!r}")
    if step is not None and (not _number(step) or step <= 0):
        raise ConfigError(f"{where}.step: expected a number above 0, got {step!r}")
    whole = all(isinstance(v, int) for v in (low, high, step) if v is not None)
    kind = data.get("type", "int" if whole else "float")
    if kind not in ("int", "float"):
        raise ConfigError(f"{where}.type: '{kind}' is not one of int, float")
    if kind == "int" and not whole:
        raise ConfigError(f"{where}: type int needs whole numbers for low, high and step")
    if not low < high:
        raise ConfigError(f"{where}: low ({low}) must be below high ({high})")
    if log and low <= 0:
        raise ConfigError(f"{where}.low: a log range needs low above 0, got {low}")
    if log and step is not None:
        raise ConfigError(f"{where}: log and step cannot be combined; drop one of them")
    return Range(low, high, log, step, kind == "int")


def _space(name: str, value: Any, where: str) -> Space:
    if isinstance(value, list):
        if not value:
            raise ConfigError(f"{where}: an empty list of choices; give at least one value")
        for i, item in enumerate(value):
            if isinstance(item, (list, dict)) or (isinstance(item, float) and not _number(item)):
                raise ConfigError(
                    f"{where}[{i}]: {item!r}: a choice must be a string, number, true/false or null"
                )
        if len(set(map(repr, value))) != len(value):
            raise ConfigError(f"{where}: a value is listed twice; list each choice once")
        return Choice(tuple(value))
    if isinstance(value, dict):
        return _range(name, value, where)
    raise ConfigError(
        f"{where}: expected a list of choices or a range {{low, high}}, got {value!r}"
    )


def parse(
    raw: Any, file: str, *, primary: str | None, lower: list[str], higher: list[str]
) -> SweepSpec:
    """The sweep section `raw` as written; every mistake is one ConfigError naming its key."""
    top = "mlops.sweep"
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: {top}: expected a mapping, got {raw!r}")
    for key in raw:
        if key not in KEYS:
            raise ConfigError(
                f"{file}: {top}.{key}: unknown key{did_you_mean(str(key), set(KEYS))}"
            )
    params = raw.get("params")
    if not isinstance(params, dict) or not params:
        raise ConfigError(
            f"{file}: {top}.params: required: a mapping of param names (as `dvc exp run -S` "
            "spells them, e.g. train.n_est) to choices or ranges"
        )
    spaces: dict[str, Space] = {}
    for name, value in params.items():
        where = f"{file}: {top}.params.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise ConfigError(
                f"{where}: not a param name; use dotted keys of params.yaml (train.n_est) or "
                "FILE:key for another params file"
            )
        spaces[name] = _space(name, value, where)
    sampler = raw.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        hint = did_you_mean(str(sampler), set(SAMPLERS))
        raise ConfigError(
            f"{file}: {top}.sampler: '{sampler}' is not one of {', '.join(SAMPLERS)}{hint}"
        )
    if sampler == "grid":
        for name, space in spaces.items():
            if isinstance(space, Range) and space.step is None:
                raise ConfigError(
                    f"{file}: {top}.params.{name}: a grid needs choices or a range with a step"
                )
    combos = grid_size(spaces) if sampler == "grid" else None
    trials = _whole(raw, "trials", combos or DEFAULT_TRIALS, 1, None, file)
    if combos is not None:
        trials = min(trials, combos)
    parallel = _whole(raw, "parallel", DEFAULT_PARALLEL, 1, MAX_PARALLEL, file)
    seed = _whole(raw, "seed", 0, 0, None, file)
    metric = raw.get("metric", primary)
    if metric is None:
        raise ConfigError(
            f"{file}: {top}.metric: not set, and no mlops.metrics.primary to default to; name "
            "the metric the sweep optimises"
        )
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"{file}: {top}.metric: expected a metric name, got {metric!r}")
    runs_on = raw.get("runs-on", "ubuntu-latest")
    labels_ok = (
        isinstance(runs_on, list) and runs_on and all(isinstance(x, str) and x for x in runs_on)
    )
    if not (isinstance(runs_on, str) and runs_on) and not labels_ok:
        raise ConfigError(
            f"{file}: {top}.runs-on: expected a runner label or a list of labels, got {runs_on!r}"
        )
    return SweepSpec(
        params=spaces,
        sampler=sampler,
        trials=trials,
        parallel=parallel,
        metric=metric,
        minimize=lower_is_better(metric, lower, higher),
        seed=seed,
        runs_on=runs_on,
    )


def _whole(
    raw: dict[str, Any], key: str, default: int, low: int, high: int | None, file: str
) -> int:
    value = raw.get(key, default)
    where = f"{file}: mlops.sweep.{key}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{where}: must be {bound}, got {value}")
    return value


def from_config(cfg: Config) -> SweepSpec:
    """The sweep of a loaded config, or a ConfigError saying how to declare one."""
    if cfg.sweep is None:
        raise ConfigError(
            f"{cfg.path}: mlops.sweep: not set; declare the params to search (see docs/sweeps.md)"
        )
    m = cfg.metrics
    return parse(
        cfg.sweep, cfg.path, primary=m.primary, lower=m.lower_is_better, higher=m.higher_is_better
    )
