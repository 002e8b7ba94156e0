"""A run's results as a file: what the training job hands to the job that publishes.

The training job runs the pull request's code and holds no write token; it writes
`results.json` (the report's inputs, the gate results, the commit and pull request it claims)
into a directory that the workflow uploads as an artifact. The publishing job, which never runs
that code, reads the file back as untrusted data: held to `results_schema.SCHEMA`, and rendered
only through the report's own escaping.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import results_schema
from mlops_actions.errors import MlopsError
from mlops_actions.metrics import finite, json_safe
from mlops_actions.report import DataChange, ReportInput, Row
from mlops_actions.results_schema import SchemaError
from mlops_actions.util import write_text

FILE = "results.json"

# Fields of the report that the publishing side sets itself, from the trusted event.
TRUSTED_FIELDS = ("gates_markdown", "run_url", "head", "head_url")


@dataclass(frozen=True)
class GateRecord:
    """One gate's outcome as the training job saw it (gates.GateResult.to_dict's fields)."""

    rule: str
    state: str
    value: float | None
    baseline: float | None
    threshold: float | None
    detail: str
    description: str


@dataclass(frozen=True)
class Results:
    event_name: str
    sha: str | None  # the commit the statuses belong to: the pull request's head on PRs
    pr: int | None
    comment_id: str
    status_prefix: str
    report: ReportInput | None
    gates: list[GateRecord]
    gates_note: str | None = None
    error: str | None = None  # the one line of a run that could not finish


def to_json(results: Results) -> dict[str, Any]:
    report = None
    if results.report is not None:
        report = dataclasses.asdict(results.report)
        for name in TRUSTED_FIELDS:
            del report[name]
        for key in ("intervals", "base_intervals"):
            report[key] = {k: list(v) for k, v in report[key].items() if all(map(finite, v))}
        for key in ("metrics", "params"):
            report[key] = [
                {**row, "old": _value(row["old"]), "new": _value(row["new"])} for row in report[key]
            ]
        report["confusion"] = _confusion(report["confusion"])
    return {
        "schema": results_schema.ID,
        "event": {"name": results.event_name, "sha": results.sha, "pr": results.pr},
        "comment_id": results.comment_id,
        "status_prefix": results.status_prefix,
        "report": json_safe(report),
        "gates": {
            "results": [json_safe(dataclasses.asdict(g)) for g in results.gates],
            "note": results.gates_note,
        },
        "error": results.error,
    }


def _value(value: Any) -> Any:
    """A metric or param value as the schema holds it: a scalar, other values as their text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[: results_schema.MAX_TEXT]


def _confusion(found: Any) -> dict[str, Any] | None:
    """The confusion matrix when it has the shape the report draws, else none."""
    if not isinstance(found, dict):
        return None
    labels, matrix = found.get("labels"), found.get("matrix")
    if not (isinstance(labels, list) and isinstance(matrix, list)):
        return None
    rows = [r for r in matrix if isinstance(r, list) and all(finite(v) for v in r)]
    if len(rows) != len(matrix) or len(labels) > 100 or len(rows) > 100:
        return None
    names = [re.sub(r"[\x00-\x1f\x7f]", " ", str(label))[:100] for label in labels]
    return {"labels": names, "matrix": rows}


def write(directory: str | os.PathLike[str], results: Results) -> Path:
    """Write `results.json` into `directory` (created if needed), atomically."""
    path = Path(directory) / FILE
    data = json.dumps(to_json(results), indent=1, ensure_ascii=False, allow_nan=False)
    try:
        write_text(path, data + "\n")
    except OSError as exc:
        raise MlopsError(f"{path}: cannot write the results ({exc.strerror})") from None
    return path


def read(directory: str | os.PathLike[str]) -> Results:
    """The results in `directory`, held to the schema; a MlopsError names the first problem."""
    path = Path(directory) / FILE
    try:
        size = path.stat().st_size
        if size > results_schema.MAX_BYTES:
            raise MlopsError(
                f"{path}: {size} bytes, more than the {results_schema.MAX_BYTES} a results file "
                "may have; refusing it"
            )
        with path.open("rb") as f:
            raw = f.read(results_schema.MAX_BYTES + 1)
    except FileNotFoundError:
        raise MlopsError(
            f"{path} does not exist: the training job wrote no results (see its log)"
        ) from None
    except OSError as exc:
        raise MlopsError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MlopsError(f"{path}: not a JSON results file ({exc}); refusing it") from None
    except RecursionError:
        raise MlopsError(f"{path}: nested too deeply for a results file; refusing it") from None
    try:
        results_schema.validate(data)
    except SchemaError as exc:
        raise MlopsError(f"{path}: {exc}; refusing the results") from None
    return from_json(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def from_json(data: dict[str, Any]) -> Results:
    """Records from a document that passed the schema."""
    event, gates = data["event"], data["gates"]
    report = data["report"]
    return Results(
        event_name=event["name"],
        sha=event["sha"],
        pr=event["pr"],
        comment_id=data["comment_id"],
        status_prefix=data["status_prefix"],
        report=_report(report) if report is not None else None,
        gates=[GateRecord(**g) for g in gates["results"]],
        gates_note=gates["note"],
        error=data["error"],
    )


def _report(data: dict[str, Any]) -> ReportInput:
    fields = dict(data)
    fields["metrics"] = [Row(**row) for row in data["metrics"]]
    fields["params"] = [Row(**row) for row in data["params"]]
    fields["data"] = [DataChange(**change) for change in data["data"]]
    for key in ("intervals", "base_intervals"):
        fields[key] = {name: (float(lo), float(hi)) for name, (lo, hi) in data[key].items()}
    return ReportInput(**fields)
