"""Metrics files: reading JSON or YAML, and DVC-compatible flattening."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.errors import MetricsError


def parse(text: str, name: str) -> Any:
    """Parse metrics text the way DVC does: by suffix, JSON or YAML (YAML also reads JSON)."""
    from mlops_actions import yaml12

    if name.endswith(".json"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise MetricsError(f"{name}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        return yaml12.load(text)
    except yaml12.YamlError as exc:
        raise MetricsError(f"{name}: not valid YAML ({exc})") from None


@dataclass(frozen=True)
class Metrics:
    """One metrics file as read: `values` nested as in the file, `.flat()` for gates and reports.

    `path` names the file relative to the project root, as params.yaml's `train.metrics` does.
    NaN and infinities are kept (a gate on them is an error); `.json()` turns them into null.
    """

    values: Mapping[str, Any]
    path: str

    def flat(self) -> dict[str, Any]:
        """The scalar entries with dotted keys (`rows.test`), as `dvc metrics show` prints them."""
        return scalars(dict(self.values))

    def json(self) -> dict[str, Any]:
        """The nested values with NaN and infinities as null: what a step output or card holds."""
        safe: dict[str, Any] = json_safe(dict(self.values))
        return safe


def load(path: Path, name: str | None = None) -> Metrics:
    """Read a metrics file; `name` (default: the path) is how messages and Metrics name it."""
    return Metrics(read(path, name), name or str(path))


def read(path: Path, name: str | None = None) -> dict[str, Any]:
    """The parsed content of a metrics file: a mapping, or a MetricsError naming the file."""
    name = name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MetricsError(f"{name}: metrics file not found; did training write it?") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MetricsError(f"{name}: cannot be read: {exc}") from None
    data = parse(text, name)
    if not isinstance(data, dict):
        raise MetricsError(f"{name}: expected a mapping of metric names to values")
    return data


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested keys joined with '.', as `dvc metrics show` prints them."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict) and value:
            flat.update(flatten(value, dotted))
        else:
            flat[dotted] = value
    return flat


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite(value: Any) -> bool:
    """A number that is a finite float: NaN, the infinities and an integer beyond a float's
    range (JSON allows 1e400 as an integer's digits) are not."""
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) <= sys.float_info.max
    return isinstance(value, float) and math.isfinite(value)


def scalars(data: dict[str, Any]) -> dict[str, Any]:
    """The flattened entries that are scalars (numbers, strings, booleans, null)."""
    return {k: v for k, v in flatten(data).items() if not isinstance(v, (list, dict))}


LOWER_IS_BETTER = ("rmse", "mse", "mae", "mape", "log_loss", "logloss")


def lower_is_better(
    name: str, lower: list[str] | None = None, higher: list[str] | None = None
) -> bool:
    """Whether a smaller value of metric `name` is an improvement.

    Config lists (full dotted name or its last part) win; then well-known error metrics and any name with "loss" or "error" in it.
    """
    leaf = name.rsplit(".", 1)[-1]
    if higher and (name in higher or leaf in higher):
        return False
    if lower and (name in lower or leaf in lower):
        return True
    leaf = leaf.lower()
    return leaf in LOWER_IS_BETTER or "loss" in leaf or "error" in leaf


def json_safe(data: Any) -> Any:
    """`data` with NaN and infinities as None: what JSON (a card, a step output) can hold."""
    if isinstance(data, dict):
        return {k: json_safe(v) for k, v in data.items()}
    if isinstance(data, list):
        return [json_safe(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data


def intervals(values: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """The confidence intervals a metrics file holds under "ci", by flattened metric name:
    ``{"ci": {"f1": [0.921, 0.958]}}`` (a trainer's bootstrap, or the user's own). Entries that
    are not two finite numbers, low first, are ignored."""
    block = values.get("ci")
    if not isinstance(block, Mapping):
        return {}
    found: dict[str, tuple[float, float]] = {}
    for name, pair in flatten(dict(block)).items():
        if isinstance(pair, list) and len(pair) == 2 and all(finite(v) for v in pair):
            low, high = float(pair[0]), float(pair[1])
            if low <= high:
                found[name] = (low, high)
    return found


@dataclass(frozen=True)
class GateNames:
    """The names a gate may use over several metrics files: `path:metric` always (the form
    DVC's tables use), the bare metric when one file alone has it."""

    values: dict[str, Any]
    aliases: dict[str, str]  # bare name -> its qualified name, where unique
    ambiguous: dict[str, list[str]]  # bare name -> the qualified spellings to choose from
    files: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        """How a message names where the metrics come from."""
        return (
            self.files[0]
            if len(self.files) == 1
            else f"the union of {len(self.files)} metrics files"
        )


def qualified(path: str, name: str) -> str:
    return f"{path}:{name}"


def gate_names(files: Mapping[str, Mapping[str, Any]]) -> GateNames:
    """`files`: {path: flattened metrics}; one file gives its bare names alone."""
    owners: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for path, flat in files.items():
        for name, value in flat.items():
            values[qualified(path, name)] = value
            owners.setdefault(name, []).append(path)
    aliases = {n: qualified(p[0], n) for n, p in owners.items() if len(p) == 1}
    for name, full in aliases.items():
        values[name] = values[full] if len(files) > 1 else values.pop(full)
    ambiguous = {n: [qualified(p, n) for p in ps] for n, ps in owners.items() if len(ps) > 1}
    return GateNames(values, aliases, ambiguous, tuple(files))


def with_declared(
    current: Metrics, declared: Sequence[str], resolve: Callable[[str], Path]
) -> dict[str, dict[str, Any]]:
    """{path: flattened metrics}: `current` as read, then every other `declared` metrics file
    (project-relative, found by `resolve`) that exists and can be read."""
    found = {current.path: current.flat()}
    for path in declared:
        if path in found or not resolve(path).is_file():
            continue
        try:
            found[path] = load(resolve(path), path).flat()
        except MetricsError:
            continue  # compare reports an unreadable file; a gate on it finds no value
    return found


# One number format for every report, table and headline.
DIGITS = 4
NAN = "NaN"
MISSING = "—"


def number(value: float, digits: int = DIGITS) -> str:
    """One number format for the whole report: integers as they are, other numbers to `digits`
    significant digits (0.3077, 55.12, 1.235e+05), NaN and infinities spelled one way."""
    if not math.isfinite(value):
        return NAN if math.isnan(value) else ("∞" if value > 0 else "\u2212∞")
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value)).replace("-", "\u2212")
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-4 <= abs(value) < 10**digits:  # pragma: no cover - %g avoids these
        text = f"{value:.{digits}f}"
    return text.replace("-", "\u2212")
