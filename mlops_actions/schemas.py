"""Holding an untrusted JSON document to a JSON schema the package ships, and the one-line
refusal of one that breaks it: where (a JSON path such as report.metrics[3].name) and what is
wrong there, in the schema's terms. The `jsonschema` library does the checking; it is imported
only by the jobs that read such a document, never by `--help`.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator, ValidationError

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.cache
def load(package: str, file: str) -> dict[str, Any]:
    """A schema as the package ships it (`file` beside the modules of `package`)."""
    text = resources.files(package).joinpath(file).read_text(encoding="utf-8")
    found: dict[str, Any] = json.loads(text)
    return found


@functools.cache
def _validator(package: str, file: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # the reading job's, not --help's

    return Draft202012Validator(load(package, file))


class SchemaError(ValueError):
    """`where` (a JSON path such as report.metrics[3].name) and what is wrong there."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the top level'}: {problem}")
        self.where, self.problem = where, problem


def validate(package: str, file: str, value: Any) -> None:
    """Raise SchemaError for the most telling place where `value` breaks the schema."""
    from jsonschema.exceptions import best_match

    error = best_match(_validator(package, file).iter_errors(value))
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
