"""The JSON schema of a run's results file, and the validator that holds the file to it.

The results file is written by the job that runs the pull request's code, so the publishing
job reads it as untrusted data: every object closed (no unknown key), every string, list and
number bounded, every name and hash of a known shape (a pattern matches the whole text: a final
newline is not "one line"). The schema is plain JSON Schema (draft 2020-12)
and versioned by its `$id` (a copy for other tools: docs/results-1.schema.json); `validate`
implements the keywords it uses.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from typing import Any

from mlops_actions.report.charts import CLASSES, FILES, POINTS, SERIES

VERSION = 1
ID = f"https://mlops-actions.github.io/schemas/results-{VERSION}.json"
MAX_BYTES = 2 * 1024 * 1024  # the whole file
MAX_TEXT = 500  # one string
MAX_ROWS = 2000  # metrics or params rows
MAX_PLOTS = 100  # the Plots section draws 12 and names the rest
MAX_NOTES = 50  # notes on the plots, and errors of one plot
MAX_COUNT = 2**53  # a count or a size: any integer a float holds exactly
MAX_NUMBER = sys.float_info.max  # a score, a value, a point: any finite float
MAX_SECONDS = 10**9  # a training time (some 31 years)

_SHA = "^[0-9a-f]{40}$"
_LINE = "^[^\\x00-\\x1f\\x7f]*$"  # one line, no control characters
# Every number is bounded, so a value a float cannot hold (10**400) is refused, not a crash.
_NUMBER: dict[str, Any] = {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER}
_COUNT: dict[str, Any] = {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_COUNT}


def _text(max_length: int = MAX_TEXT, pattern: str = _LINE) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "type": [schema["type"], "null"]}


def _record(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required if required is not None else list(properties),
        "additionalProperties": False,
    }


_VALUE = {
    "type": ["number", "string", "boolean", "null"],
    "maxLength": MAX_TEXT,
    "minimum": -MAX_NUMBER,
    "maximum": MAX_NUMBER,
}
_NAMES = {"type": "array", "maxItems": MAX_ROWS, "items": _text(200)}
_INTERVAL = {"type": "array", "minItems": 2, "maxItems": 2, "items": _NUMBER}
_INTERVALS = {
    "type": "object",
    "maxProperties": MAX_ROWS,
    "propertyNames": {"maxLength": 200, "pattern": _LINE},
    "additionalProperties": _INTERVAL,
}
_ROW = _record({"name": _text(200), "old": _VALUE, "new": _VALUE, "path": _text(300)})
_HASH = _nullable(_text(80, "^[0-9a-f]{1,64}(\\.dir)?$"))
_DATA = _record(
    {
        "path": _text(300),
        "old": _HASH,
        "new": _HASH,
        "nfiles": _COUNT,
        "size": _COUNT,
    }
)
_CONFUSION = _record(
    {
        "labels": {"type": "array", "maxItems": 100, "items": _text(100)},
        "matrix": {
            "type": "array",
            "maxItems": 100,
            "items": {"type": "array", "maxItems": 100, "items": _NUMBER},
        },
    }
)
_MD5 = _nullable(_text(32, "^[0-9a-f]{32}$"))
_FILES = {"maxProperties": FILES, "propertyNames": {"maxLength": 300, "pattern": _LINE}}
_SERIES = _record(
    {
        "name": _text(300),
        "points": {"type": "array", "minItems": 1, "maxItems": POINTS, "items": _INTERVAL},
    }
)
_LINES = {"type": ["array", "null"], "maxItems": SERIES, "items": _SERIES}
_CELL = _record(
    {
        "actual": _text(100),
        "predicted": _text(100),
        "count": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
    }
)
_CELLS = {  # file -> the counted (actual, predicted) pairs
    "type": ["object", "null"],
    **_FILES,
    "additionalProperties": {"type": "array", "maxItems": CLASSES * CLASSES, "items": _CELL},
}
_PLOT = _record(
    {
        "id": _text(300),
        "kind": {"enum": ["linear", "confusion", "image"]},
        "title": _nullable(_text(300)),
        "template": _nullable(_text(40, "^[a-z][a-z0-9_-]*$")),
        "x_label": _nullable(_text(200)),
        "y_label": _nullable(_text(200)),
        "base": _LINES,
        "new": _LINES,
        "base_cells": _CELLS,
        "new_cells": _CELLS,
        "images": {
            "type": "object",
            **_FILES,
            "additionalProperties": _record({"old": _MD5, "new": _MD5}),
        },
        "errors": {"type": "array", "maxItems": MAX_NOTES, "items": _text()},
    }
)
_PLOTS = _record(
    {
        "plots": {"type": "array", "maxItems": MAX_PLOTS, "items": _PLOT},
        "notes": {"type": "array", "maxItems": MAX_NOTES, "items": _text()},
    }
)
_GATE = _record(
    {
        "rule": _text(300),
        "state": {"enum": ["pass", "fail", "error", "skipped"]},
        "value": _nullable(_NUMBER),
        "baseline": _nullable(_NUMBER),
        "threshold": _nullable(_NUMBER),
        "detail": _text(),
        "description": _text(140),
    }
)
_REPORT = _record(
    {
        "model": _text(200, "^[^`\\x00-\\x1f\\x7f]+$"),  # shown in a code span
        "baseline": _nullable(_text(300)),
        "metrics": {"type": "array", "maxItems": MAX_ROWS, "items": _ROW},
        "params": {"type": "array", "maxItems": MAX_ROWS, "items": _ROW},
        "data": {"type": "array", "maxItems": 200, "items": _DATA},
        "mode": _nullable(_text(40, "^[a-z][a-z0-9_-]*$")),
        "cache_hit": {"type": ["boolean", "null"]},
        "confusion": {"oneOf": [{"type": "null"}, _CONFUSION]},
        "lower": _NAMES,
        "higher": _NAMES,
        "primary": _nullable(_text(200)),
        "intervals": _INTERVALS,
        "base_intervals": _INTERVALS,
        "gated": _NAMES,
        "precision": {"type": ["integer", "null"], "minimum": 1, "maximum": 15},
        "training_seconds": {"type": ["number", "null"], "minimum": 0, "maximum": MAX_SECONDS},
        "model_size": _COUNT,
        "first_version": {"type": "boolean"},
        "note": _nullable(_text()),
    }
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": ID,
    "title": "mlops-actions run results",
    **_record(
        {
            "schema": {"const": ID},
            "event": _record(
                {
                    "name": _text(40, "^[a-z_]+$"),
                    "sha": _nullable(_text(40, _SHA)),
                    "pr": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_COUNT},
                }
            ),
            "comment_id": _text(64, "^[A-Za-z0-9._-]+$"),
            "status_prefix": _text(100),
            "report": {"oneOf": [{"type": "null"}, _REPORT]},
            "plots": _PLOTS,
            "gates": _record(
                {
                    "results": {"type": "array", "maxItems": 200, "items": _GATE},
                    "note": _nullable(_text()),
                }
            ),
            "error": _nullable(_text()),
        }
    ),
}

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}


class SchemaError(ValueError):
    """`where` (a JSON path such as report.metrics[3].name) and what is wrong there."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the top level'}: {problem}")
        self.where, self.problem = where, problem


def _type_name(value: Any) -> str:
    for name in _TYPES:
        if name != "integer" and _is(value, name):
            return name
    return type(value).__name__


def _is(value: Any, name: str) -> bool:
    if name not in _TYPES:
        return False
    if isinstance(value, bool):
        return name == "boolean"
    if name == "integer":
        return isinstance(value, int)
    if name == "number":  # finite, and an integer within a float's range
        return isinstance(value, (int, float)) and abs(value) <= sys.float_info.max
    return isinstance(value, _TYPES[name])


def validate(value: Any, schema: Mapping[str, Any] = SCHEMA, where: str = "") -> None:
    """Raise SchemaError at the first place `value` breaks `schema`."""
    if "oneOf" in schema:
        typed = [o for o in schema["oneOf"] if _is(value, o.get("type", ""))]
        if len(typed) == 1:  # the one option of the value's type says what is wrong
            validate(value, typed[0], where)
            return
        problems = []
        for option in schema["oneOf"]:
            try:
                validate(value, option, where)
                return
            except SchemaError as exc:
                problems.append(exc.problem)
        raise SchemaError(where, " / ".join(problems))
    if "const" in schema and value != schema["const"]:
        raise SchemaError(where, f"expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(where, f"expected one of {', '.join(map(str, schema['enum']))}")
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is(value, kind) for kind in kinds):
            raise SchemaError(where, f"expected {' or '.join(kinds)}, got {_type_name(value)}")
    if isinstance(value, str):
        _string(value, schema, where)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise SchemaError(where, f"{value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise SchemaError(where, f"{value} is above {schema['maximum']}")
    elif isinstance(value, list):
        _array(value, schema, where)
    elif isinstance(value, dict):
        _object(value, schema, where)


def _string(value: str, schema: Mapping[str, Any], where: str) -> None:
    if len(value) > schema.get("maxLength", math.inf):
        raise SchemaError(where, f"longer than {schema['maxLength']} characters")
    # The whole text: `re.search` would let `$` match before a final newline.
    if "pattern" in schema and not re.fullmatch(schema["pattern"], value):
        raise SchemaError(where, f"{value[:40]!r} is not of the allowed form")


def _array(value: list[Any], schema: Mapping[str, Any], where: str) -> None:
    if len(value) > schema.get("maxItems", math.inf):
        raise SchemaError(where, f"more than {schema['maxItems']} items")
    if len(value) < schema.get("minItems", 0):
        raise SchemaError(where, f"fewer than {schema['minItems']} items")
    if "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def _object(value: dict[str, Any], schema: Mapping[str, Any], where: str) -> None:
    if len(value) > schema.get("maxProperties", math.inf):
        raise SchemaError(where, f"more than {schema['maxProperties']} keys")
    properties: Mapping[str, Any] = schema.get("properties", {})
    for key in schema.get("required", []):
        if key not in value:
            raise SchemaError(where, f"'{key}' is missing")
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames")
    for key, item in value.items():
        path = f"{where}.{key}" if where else str(key)
        if names is not None:
            validate(key, {"type": "string", **names}, f"{path} (the key)")
        if key in properties:
            validate(item, properties[key], path)
        elif extra is False:
            raise SchemaError(where, f"unknown key '{str(key)[:40]}'")
        elif isinstance(extra, Mapping):
            validate(item, extra, path)


if (
    __name__ == "__main__"
):  # python -m mlops_actions.flow.results_schema > docs/results-1.schema.json
    import json

    print(json.dumps(SCHEMA, indent=2, ensure_ascii=False))
