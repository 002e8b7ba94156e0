"""The JSON schema of a run's results file, and the one-line refusal of a file that breaks it.

The results file is written by the job that runs the pull request's code, so the publishing
job reads it as untrusted data: every object closed (no unknown key), every string, list and
number bounded, every name and hash of a known shape (a pattern matches the whole text: a final
newline is not "one line"). The schema is the JSON file beside this module, plain JSON Schema
(draft 2020-12) versioned by its `$id` and published as docs/results-1.schema.json; the
`jsonschema` library holds documents to it.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

VERSION = 1
FILE = f"results-{VERSION}.schema.json"
ID = f"https://mlops-actions.github.io/schemas/results-{VERSION}.json"
MAX_BYTES = 2 * 1024 * 1024  # the whole file, refused before it is parsed
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.cache
def schema() -> dict[str, Any]:
    """The schema as the package ships it."""
    text = resources.files(__package__).joinpath(FILE).read_text(encoding="utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


def limit(*path: str) -> int:
    """A bound the schema sets, by its path in the schema (the writer cuts values to it)."""
    node: Any = schema()
    for key in path:
        node = node[key]
    assert isinstance(node, int), path
    return node


def max_text() -> int:
    """The length of one free text (an error, a note, a gate's detail)."""
    return limit("properties", "error", "maxLength")


def max_plots() -> int:
    return limit("properties", "plots", "properties", "plots", "maxItems")


def max_notes() -> int:
    return limit("properties", "plots", "properties", "notes", "maxItems")


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # the publishing job's, not --help's

    return Draft202012Validator(schema())


class SchemaError(ValueError):
    """`where` (a JSON path such as report.metrics[3].name) and what is wrong there."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the top level'}: {problem}")
        self.where, self.problem = where, problem


def validate(value: Any) -> None:
    """Raise SchemaError for the most telling place where `value` breaks the schema."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(value))
    if error is not None:
        raise _refusal(error)


def _path(parts: Any) -> str:
    """A JSON path on one line, whatever the keys hold."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{_short(part)}]"
    return out


def _short(value: Any) -> str:
    """A value from the file in a message: its repr (one line), cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _kind(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    names.update({list: "array", dict: "object", type(None): "null"})
    return names.get(type(value), type(value).__name__)


def _refusal(error: ValidationError) -> SchemaError:
    """jsonschema's error as one line: where, and what is wrong in this schema's terms."""
    keyword, expected, value = error.validator, error.validator_value, error.instance
    where = _path(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # the value is a key of the object
        where = f"{where or 'the top level'}, the key {_short(value)}"
    problems: dict[str, Any] = {
        "type": lambda: (
            f"expected {' or '.join(expected if isinstance(expected, list) else [expected])}, "
            f"got {_kind(value)}"
        ),
        "enum": lambda: f"expected one of {', '.join(map(str, expected))}",
        "const": lambda: f"expected {expected!r}",
        "required": lambda: f"'{next(k for k in expected if k not in value)}' is missing",
        "additionalProperties": lambda: "unknown key {}".format(
            _short(next(k for k in value if k not in error.schema.get("properties", {})))
        ),
        "maxLength": lambda: f"longer than {expected} characters",
        "pattern": lambda: f"{_short(value)} is not of the allowed form",
        "maximum": lambda: f"{_short(value)} is above {expected}",
        "minimum": lambda: f"{_short(value)} is below {expected}",
        "maxItems": lambda: f"more than {expected} items",
        "minItems": lambda: f"fewer than {expected} items",
        "maxProperties": lambda: f"more than {expected} keys",
    }
    problem = problems.get(str(keyword))
    return SchemaError(where, problem() if problem else f"breaks the schema's {keyword!r}")
