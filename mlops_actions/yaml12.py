"""YAML as DVC reads it: YAML 1.2 through ruamel.yaml's safe loader (dvc/utils/serialize/_yaml.py).

The one YAML reader of the package: params files, metrics files, dvc.yaml, dvc.lock, .dvc files,
GTO's artifacts.yaml and .gto. YAML 1.2 means `3e-1` is the float 0.3 and `yes` is a string,
where a YAML 1.1 reader (PyYAML) says the string '3e-1' and True. ruamel.yaml is imported on the
first read, so commands that read no YAML (`--help`) never load it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


class YamlError(ValueError):
    """Text that is not valid YAML; `line` and `column` are 1-based when the parser knows them."""

    def __init__(self, problem: str, line: int | None = None, column: int | None = None) -> None:
        self.problem, self.line, self.column = problem, line, column
        super().__init__(f"{problem} at line {line}" if line is not None else problem)

    @property
    def where(self) -> str:
        """' at line L, column C', or '' when the parser does not say."""
        if self.line is None:
            return ""
        return f" at line {self.line}" + (f", column {self.column}" if self.column else "")


_loader: Any = None


def load(text: str | bytes | None) -> Any:
    """The document in `text` (None for an empty one), or YamlError."""
    global _loader
    if text is None:
        return None
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    if _loader is None:
        _loader = YAML(typ="safe")
    try:
        return _loader.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise YamlError(str(exc.problem or "invalid YAML"), line, column) from None
    except Exception as exc:  # ruamel raises a few types outside its YAMLError tree
        raise YamlError(str(exc) or type(exc).__name__) from None


def edit(path: Path, change: Callable[[Any], None]) -> None:
    """Load `path` keeping its comments, quotes and layout (ruamel's round trip, as `dvc exp run
    -S` edits a params file), apply `change` to the document ({} for an empty or missing file)
    and write it back through a temporary file."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    data = yaml.load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = {} if data is None else data
    change(data)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        yaml.dump(data, fh)
    os.replace(tmp, path)
