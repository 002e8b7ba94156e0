"""YAML as DVC reads it: YAML 1.2 through ruamel.yaml's safe loader (dvc/utils/serialize/_yaml.py).

The one YAML reader of the package: params files, metrics files, dvc.yaml, dvc.lock, .dvc files,
GTO's artifacts.yaml and .gto. YAML 1.2 means `3e-1` is the float 0.3 and `yes` is a string,
where a YAML 1.1 reader (PyYAML) says the string '3e-1' and True. ruamel.yaml is imported on the
first read, so commands that read no YAML (`--help`) never load it.

A text read again (the dvc.yaml most experiments share, a params file both the pipeline and
the params reader read) is parsed once: the parsed documents of the last texts read are kept,
and every caller gets its own deep copy, free to change it. A text that is only a block mapping
of plain words and numbers (most params files) skips ruamel's pure-Python scanner: its lines are
split here and each key and value goes through ruamel's YAML 1.2 resolver and constructor, so
the values are ruamel's (`runs` reads one such file per experiment; tests/test_yaml12.py holds
both ways to DVC's own reader).
"""

from __future__ import annotations

import copy
import datetime
import os
import re
import threading
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
_turn = threading.Lock()
_parsed: OrderedDict[str | bytes, Any] = OrderedDict()  # text -> document, newest last
_KEEP = 256  # texts kept: enough for one listing's shared files, small in a long process
_KEEP_CHARS = 1 << 20  # a bigger text is parsed every time


def load(text: str | bytes | None) -> Any:
    """The document in `text` (None for an empty one), or YamlError. Threads (a sweep's
    trials) take turns: the kept documents and ruamel's loader are shared."""
    if text is None:
        return None
    with _turn:
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


# A line of a block mapping of plain words and numbers: `key:` or `key: value`, a comment after.
_LINE = re.compile(
    r"( *)([A-Za-z_][A-Za-z0-9_.-]*):"
    r"(?: ((?:[A-Za-z0-9_+]|\.(?!\.)|-[0-9.])[A-Za-z0-9_.+-]*))?(?: +#[ -~]*)?"
)
_BLANK = re.compile(r" *(?:#[ -~]*)?")  # comments in printable ASCII: no other line breaks
_NOT_PLAIN = object()
_scalars: Any = None  # ruamel's YAML 1.2 resolver and safe constructor
_made: dict[str, Any] = {}  # plain scalar -> the value ruamel makes of it


def _plain_mapping(text: str) -> Any:
    """The document when `text` is only a block mapping of plain words and numbers, nested by
    indentation (`train:` / `  lr: 3e-1`: a params file as most are written), else _NOT_PLAIN.
    Only the layout is read here: ruamel's resolver and constructor make every key and value,
    so `3e-1`, `yes` and `0o17` are what ruamel makes of them. Anything else (quotes, flow
    collections, lists, anchors, tags, tabs, a key twice) is left to ruamel's parser."""
    global _scalars
    if "\t" in text or "\r" in text:
        return _NOT_PLAIN
    if _scalars is None:
        from ruamel.yaml import YAML

        helper = YAML(typ="safe", pure=True)
        _scalars = (helper.resolver, helper.constructor)
    resolver, constructor = _scalars
    from ruamel.yaml.nodes import ScalarNode

    def scalar(raw: str) -> Any:  # the values made are immutable: kept by their text
        if raw not in _made:
            tag = resolver.resolve(ScalarNode, raw, (True, False))
            if len(_made) > _KEEP * 64:
                _made.clear()
            _made[raw] = constructor.construct_non_recursive_object(ScalarNode(tag, raw))
        return _made[raw]

    root: dict[str, Any] = {}
    levels: list[tuple[int, dict[str, Any]]] = [(0, root)]  # open mappings: (indent, mapping)
    opened: tuple[int, dict[str, Any], str] | None = None  # a `key:` line just read
    for line in text.split("\n"):
        if _BLANK.fullmatch(line):
            continue
        found = _LINE.fullmatch(line)
        if found is None:
            return _NOT_PLAIN
        indent, key, raw = len(found[1]), found[2], found[3]
        if opened is not None:
            if indent > opened[0]:
                child: dict[str, Any] = {}
                opened[1][opened[2]] = child
                levels.append((indent, child))
            else:
                opened[1][opened[2]] = None
            opened = None
        while levels[-1][0] > indent:
            levels.pop()
        mapping = levels[-1][1]
        if levels[-1][0] != indent or key in mapping or type(scalar(key)) is not str:
            return _NOT_PLAIN
        if raw is None:
            mapping[key] = None
            opened = (indent, mapping, key)
        else:
            mapping[key] = scalar(raw)
    return root or _NOT_PLAIN


def _parse(text: str | bytes) -> Any:
    global _loader, _scalars
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    if isinstance(text, str):
        try:
            document = _plain_mapping(text)
        except Exception:  # a value ruamel cannot construct: its parser says why
            _scalars, document = None, _NOT_PLAIN
        if document is not _NOT_PLAIN:
            return document
    if _loader is None:
        _loader = YAML(typ="safe")
    try:
        return _loader.load(text)
    except Exception as exc:
        _loader = None  # ruamel's loader keeps a failed document's state: the next gets a new one
        if isinstance(exc, MarkedYAMLError):
            mark = exc.problem_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
            raise YamlError(str(exc.problem or "invalid YAML"), line, column) from None
        # ruamel raises a few types outside its YAMLError tree
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
