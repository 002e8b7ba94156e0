"""A run's results as a file: what the training job hands to the job that publishes.

The training job runs the pull request's code and holds no write token; it writes
`results.json` (the report's inputs, the gate results, the plots cut to what their charts and
tables draw, the commit and pull request it claims) into a directory that the workflow uploads
as an artifact. The publishing job, which never runs that code, reads the file back as
untrusted data: held to the schema (`results_schema`), and every text of it shown through the inert
module.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.errors import MlopsError
from mlops_actions.flow import results_schema
from mlops_actions.metrics import finite, json_safe
from mlops_actions.report import charts
from mlops_actions.report.markdown import DataChange, ReportInput, Row
from mlops_actions.report.plots import Pairs, Plot, Series
from mlops_actions.report.standing import Placed, Standing
from mlops_actions.util import write_text

FILE = "results.json"

# Fields of the report that the publishing side makes itself: from the trusted event, from the
# gate records it checks (the gates table, the verdict) and from the plot records (the Plots
# section, drawn there so every name in it is made inert by this package's code).
TRUSTED_FIELDS = ("gates_markdown", "verdict", "failed", "run_url", "head", "head_url", "plots")
_TEMPLATE = re.compile(r"[a-z][a-z0-9_-]{0,39}")


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
    plots: list[Plot] = field(default_factory=list)  # what the Plots section is drawn from
    plot_notes: list[str] = field(default_factory=list)


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
        if report["standing"] is not None:
            report["standing"]["top"] = list(report["standing"]["top"])
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
        "plots": _plots(results.plots, results.plot_notes),
    }


def _line(value: str, limit: int | None = None) -> str:
    """A text as the schema holds it: one line, at most `limit` characters (a free text's)."""
    return re.sub(r"[\x00-\x1f\x7f]", " ", value)[: limit or results_schema.max_text()]


def _plots(plots: list[Plot], notes: list[str]) -> dict[str, Any]:
    """The plots cut to what the section draws of them, in the schema's terms."""
    notes, most = list(notes), results_schema.max_plots()
    if len(plots) > most:
        notes.append(f"{len(plots) - most} more plots not reported")
    return {
        "plots": [_plot(charts.drawable(p)) for p in plots[:most]],
        "notes": [_line(n) for n in notes[: results_schema.max_notes()]],
    }


def _plot(plot: Plot) -> dict[str, Any]:
    title, template = plot.props.get("title"), plot.props.get("template")

    def text(value: Any, limit: int) -> str | None:
        return _line(value, limit) if isinstance(value, str) and value.strip() else None

    def lines(found: list[Series] | None) -> list[dict[str, Any]] | None:
        if found is None:
            return None
        out = []
        for s in found:
            points = [[x, y] for x, y in s.points if finite(x) and finite(y)]
            if points:
                out.append({"name": _line(s.name, 300), "points": points})
        return out

    def cells(found: Mapping[str, Pairs] | None) -> dict[str, Any] | None:
        if found is None:
            return None
        return {
            _line(file, 300): [
                {"actual": _line(a, 100), "predicted": _line(p, 100), "count": n}
                for (a, p), n in Counter(pairs).items()
            ]
            for file, pairs in found.items()
        }

    return {
        "id": _line(plot.id, 300),
        "kind": plot.kind,
        "title": text(title, 300),
        "template": template
        if isinstance(template, str) and _TEMPLATE.fullmatch(template)
        else None,
        "x_label": text(plot.x_label, 200),
        "y_label": text(plot.y_label, 200),
        "base": lines(plot.base),
        "new": lines(plot.new),
        "base_cells": cells(plot.base_pairs),
        "new_cells": cells(plot.new_pairs),
        "images": {
            _line(k, 300): {"old": old, "new": new} for k, (old, new) in plot.images.items()
        },
        "errors": [_line(e) for e in plot.errors[: results_schema.max_notes()]],
    }


def _value(value: Any) -> Any:
    """A metric or param value as the schema holds it: a scalar, other values as their text."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[: results_schema.max_text()]


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
    doc = to_json(results)
    try:  # what the publishing job would refuse is refused here, where the log is the author's
        results_schema.validate(doc)
    except results_schema.SchemaError as exc:
        raise MlopsError(
            f"{path}: these results break the schema the publishing job holds them to ({exc}); "
            "shorten the names or values it names"
        ) from None
    data = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)
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
    except results_schema.SchemaError as exc:
        raise MlopsError(f"{path}: {exc}; refusing the results") from None
    return from_json(data)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _int(value: float | None) -> int | None:
    """An integer of the schema as Python's: JSON Schema counts 3.0 as the integer 3."""
    return None if value is None else int(value)


def from_json(data: dict[str, Any]) -> Results:
    """Records from a document that passed the schema."""
    event, gates = data["event"], data["gates"]
    report = data["report"]
    return Results(
        event_name=event["name"],
        sha=event["sha"],
        pr=_int(event["pr"]),
        comment_id=data["comment_id"],
        status_prefix=data["status_prefix"],
        report=_report(report) if report is not None else None,
        gates=[GateRecord(**g) for g in gates["results"]],
        gates_note=gates["note"],
        error=data["error"],
        plots=[_plot_of(p) for p in data["plots"]["plots"]],
        plot_notes=list(data["plots"]["notes"]),
    )


def _plot_of(data: dict[str, Any]) -> Plot:
    """A plot record back as the section's renderer takes it (the names still untrusted)."""

    def lines(found: list[dict[str, Any]] | None) -> list[Series] | None:
        if found is None:
            return None
        return [Series(s["name"], [(float(x), float(y)) for x, y in s["points"]]) for s in found]

    def pairs(found: dict[str, list[dict[str, Any]]] | None) -> dict[str, Pairs] | None:
        if found is None:
            return None
        out: dict[str, Pairs] = {}
        for file, cells in found.items():
            counts: Counter[tuple[str, str]] = Counter()
            for cell in cells:
                counts[(cell["actual"], cell["predicted"])] += int(cell["count"])
            out[file] = counts
        return out

    return Plot(
        id=data["id"],
        props={k: data[k] for k in ("title", "template") if data[k] is not None},
        kind=data["kind"],
        files=list(data["images"]),
        base=lines(data["base"]),
        new=lines(data["new"]),
        base_pairs=pairs(data["base_cells"]),
        new_pairs=pairs(data["new_cells"]),
        images={k: (v["old"], v["new"]) for k, v in data["images"].items()},
        x_label=data["x_label"],
        y_label=data["y_label"],
        errors=list(data["errors"]),
    )


def _report(data: dict[str, Any]) -> ReportInput:
    fields = dict(data)
    fields["metrics"] = [Row(**row) for row in data["metrics"]]
    fields["params"] = [Row(**row) for row in data["params"]]
    fields["data"] = [
        DataChange(**{**change, "nfiles": _int(change["nfiles"]), "size": _int(change["size"])})
        for change in data["data"]
    ]
    for key in ("precision", "model_size"):
        fields[key] = _int(data[key])
    for key in ("intervals", "base_intervals"):
        fields[key] = {name: (float(lo), float(hi)) for name, (lo, hi) in data[key].items()}
    fields["standing"] = _standing(data.get("standing"))
    return ReportInput(**fields)


def _standing(data: dict[str, Any] | None) -> Standing | None:
    """The run's standing as the training job read it (the names still untrusted)."""
    if data is None:
        return None

    def placed(p: dict[str, Any]) -> Placed:
        return Placed(p["name"], float(p["value"]), _int(p["pr"]), p["run_url"])

    return Standing(
        data["metric"],
        float(data["value"]),
        int(data["rank"]),
        int(data["total"]),
        data["lower_is_better"],
        placed(data["best"]),
        tuple(placed(p) for p in data["top"]),
    )
