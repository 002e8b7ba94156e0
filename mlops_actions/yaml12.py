"""YAML as DVC reads it: YAML 1.2 through ruamel.yaml's safe loader (dvc/utils/serialize/_yaml.py).

The one YAML reader of the package: params files, metrics files, dvc.yaml, dvc.lock, .dvc files,
GTO's artifacts.yaml and .gto. YAML 1.2 means `3e-1` is the float 0.3 and `yes` is a string,
where a YAML 1.1 reader (PyYAML) says the string '3e-1' and True. ruamel.yaml is imported on the
first read, so commands that read no YAML (`--help`) never load it.

A text read again (the dvc.yaml most experiments share, a params file both the pipeline and
the params reader read) is parsed once: the parsed documents of the last texts read are kept,
and every caller gets its own deep copy, free to change it.
"""

from __future__ import annotations

import copy
import datetime
import os
from collections import OrderedDict
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
_parsed: OrderedDict[str | bytes, Any] = OrderedDict()  # text -> document, newest last
_KEEP = 256  # texts kept: enough for one listing's shared files, small in a long process
_KEEP_CHARS = 1 << 20  # a bigger text is parsed every time


def load(text: str | bytes | None) -> Any:
    """The document in `text` (None for an empty one), or YamlError."""
    if text is None:
        return None
    if text in _parsed:
        _parsed.move_to_end(text)
        return _copy(_parsed[text], text)
    document = _parse(text)
    if len(text) <= _KEEP_CHARS:
        _parsed[text] = document
        if len(_parsed) > _KEEP:
            _parsed.popitem(last=False)
        return _copy(document, text)
    return document


_ATOMS = (str, int, float, bool, type(None), bytes, datetime.date)  # immutable (datetime too)


def _copy(document: Any, text: str | bytes) -> Any:
    """A copy sharing nothing mutable; a document with anchors (shared or recursive nodes)
    through `copy.deepcopy`, which keeps them shared."""
    if "&" in text if isinstance(text, str) else b"&" in text:
        return copy.deepcopy(document)
    return _tree(document)


def _tree(node: Any) -> Any:
    if type(node) is dict:
        return {k: _tree(v) for k, v in node.items()}
    if type(node) is list:
        return [_tree(v) for v in node]
    return node if isinstance(node, _ATOMS) else copy.deepcopy(node)  # a set, an omap


def _parse(text: str | bytes) -> Any:
    global _loader
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
