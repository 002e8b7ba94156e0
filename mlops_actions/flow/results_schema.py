"""The JSON schema of a run's results file, and the one-line refusal of a file that breaks it.

The results file is written by the job that runs the pull request's code, so the publishing
job reads it as untrusted data: every object closed (no unknown key), every string, list and
number bounded, every name and hash of a known shape (a pattern matches the whole text: a final
newline is not "one line"). The schema is the JSON file beside this module, plain JSON Schema
(draft 2020-12) versioned by its `$id` and published as docs/results-1.schema.json; the
`jsonschema` library holds documents to it.
"""

from __future__ import annotations

from typing import Any

from mlops_actions import schemas
from mlops_actions.schemas import SchemaError

__all__ = ["ID", "MAX_BYTES", "SchemaError", "limit", "schema", "validate"]

VERSION = 1
FILE = f"results-{VERSION}.schema.json"
ID = f"https://mlops-actions.github.io/schemas/results-{VERSION}.json"
MAX_BYTES = 2 * 1024 * 1024  # the whole file, refused before it is parsed
_PACKAGE = __name__.rpartition(".")[0]


def schema() -> dict[str, Any]:
    """The schema as the package ships it."""
    return schemas.load(_PACKAGE, FILE)


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


def validate(value: Any) -> None:
    """Raise SchemaError for the most telling place where `value` breaks the schema."""
    schemas.validate(_PACKAGE, FILE, value)
