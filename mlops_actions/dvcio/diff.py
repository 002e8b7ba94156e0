"""DVC's comparison rules, value for value: how metrics and params files are parsed, flattened
and diffed, so our numbers are the ones `dvc metrics diff` and `dvc params diff` print."""

from __future__ import annotations

import fnmatch
import json
import posixpath
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

UNABLE = "unable to parse"  # DVC's value for keys of a file that is a bare value on one side


@dataclass(frozen=True)
class Entry:
    """One key of one file, as one row of `dvc metrics diff` / `dvc params diff --all`."""

    path: str
    key: str  # dotted; "" when the whole file is one bare value
    old: Any  # None: absent at the baseline (DVC does not tell absent and null apart)
    new: Any
    diff: int | float | None  # new - old when both are numbers (bools count); else None
    changed: bool

    def to_json(self) -> dict[str, Any]:
        out = {"old": self.old, "new": self.new}
        if self.diff is not None:
            out["diff"] = self.diff
        return out


def nest(entries: Iterable[Entry]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        out.setdefault(e.path, {})[e.key] = e.to_json()
    return out


# --- DVC's diff, value for value ------------------------------------------------------------


def _lists_as_text(value: Any) -> Any:
    """DVC shows lists as their Python text ('[1, 2]'), nested at any depth."""
    if isinstance(value, dict):
        return {k: _lists_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return str(value)
    return value


def _top_value(raw: Any) -> Any:
    """A file's whole value; a bare string is read as JSON when it is JSON, as DVC does."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def flatten(data: dict[Any, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys; empty mappings vanish, as with DVC's flatten_dict."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flatten(value, dotted))
        else:
            flat[dotted] = value
    return flat


def _flat(data: Any) -> tuple[dict[str, Any], Any]:
    """The flattened keys, and the value any other key has on this side."""
    if not data:
        return {}, None
    if isinstance(data, dict):
        return flatten(data), None
    return {}, UNABLE


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bools included: DVC subtracts them too


def _entry(path: str, key: str, old: Any, new: Any) -> Entry:
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new) == 1:
        return _entry(path, key, old[0], new[0])
    diff = new - old if _is_number(old) and _is_number(new) else None
    return Entry(path, key, old, new, diff, changed=old != new)


def diff_file(path: str, old_data: Any, new_data: Any) -> list[Entry]:
    """Every key of one file at both sides (unchanged ones with changed=False)."""
    old, new = _top_value(_lists_as_text(old_data)), _top_value(_lists_as_text(new_data))
    if not isinstance(old, dict) and not isinstance(new, dict):
        return [_entry(path, "", old, new)]
    (old_flat, old_default), (new_flat, new_default) = _flat(old), _flat(new)
    keys = dict.fromkeys([*new_flat, *old_flat])
    return [
        _entry(path, key, old_flat.get(key, old_default), new_flat.get(key, new_default))
        for key in keys
    ]


def diff_files(old: dict[str, Any], new: dict[str, Any]) -> list[Entry]:
    """DVC's diff of two {path: parsed content} maps; absent paths count as empty."""
    entries: list[Entry] = []
    for path in dict.fromkeys([*new, *old]):
        entries += diff_file(path, old.get(path, {}), new.get(path, {}))
    return entries


def extract_metrics(value: Any) -> Any:
    """What DVC keeps of a metrics file: numbers, strings and booleans; not lists or nulls."""
    if isinstance(value, (int, float, str)):
        return value
    if not isinstance(value, dict):
        return None
    kept = {}
    for key, item in value.items():
        got = extract_metrics(item)
        if got is not None and not (isinstance(got, dict) and not got):
            kept[key] = got
    return kept


def select_keys(data: Any, keys: list[str]) -> Any:
    """The parts of a params file that dotted key paths (with globs) name; all when none."""
    if not keys or not isinstance(data, dict):
        return data
    out: dict[Any, Any] = {}
    for key in dict.fromkeys(keys):
        _merge(out, _search(data, key.split(".")))
    return out


_NO_MATCH = object()


def _search(node: Any, parts: list[str]) -> Any:
    if not parts:
        return node
    if not isinstance(node, dict):
        return _NO_MATCH
    found = {}
    for key, value in node.items():
        if fnmatch.fnmatchcase(str(key), parts[0]):
            sub = _search(value, parts[1:])
            if sub is not _NO_MATCH:
                found[key] = sub
    return found or _NO_MATCH


def _merge(into: dict[Any, Any], part: Any) -> None:
    if part is _NO_MATCH:
        return
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


# --- parsing files the way DVC does ---------------------------------------------------------


class ParseError(Exception):
    def __init__(self, kind: str, msg: str, path: str = "") -> None:
        super().__init__(msg)
        self.kind, self.path = kind, path


def _parse_yaml(text: str) -> Any:
    from mlops_actions import yaml12

    try:
        return yaml12.load(text)
    except yaml12.YamlError as exc:
        raise ParseError("YAMLFileCorruptedError", f"not valid YAML ({exc})") from None


def parse_file(path: str, content: bytes) -> Any:
    """Parse by suffix like DVC: .json, .toml, anything else YAML; falsy content is {}."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("EncodingError", "not valid UTF-8") from None
    suffix = posixpath.splitext(path)[1].lower()
    if suffix == ".json":
        try:
            return json.loads(text) or {}
        except json.JSONDecodeError as exc:
            msg = f"not valid JSON ({exc.msg} at line {exc.lineno})"
            raise ParseError("JSONFileCorruptedError", msg) from None
    if suffix == ".toml":
        return _parse_toml(text)
    if suffix == ".py":
        return _parse_py(text) or {}
    return _parse_yaml(text) or {}


def _parse_py(text: str) -> dict[str, Any]:
    """Top-level assignments and class attributes (and `self.x` in a class's `__init__`), as
    DVC's params reader takes them from the `ast`; anything not a literal is skipped."""
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise ParseError("PythonFileCorruptedError", f"not valid Python ({exc.msg})") from None
    return _py_body(tree.body, only_self=False)


def _py_body(body: list[Any], only_self: bool) -> dict[str, Any]:
    import ast

    out: dict[str, Any] = {}
    for node in body:
        try:
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                if len(targets) != 1 or node.value is None:
                    continue
                target = targets[0]
                if isinstance(target, ast.Name) and not only_self:
                    name = target.id
                elif (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    name = target.attr
                else:
                    continue
                value = node.value
                if isinstance(value, ast.Dict):
                    got: Any = {
                        ast.literal_eval(k): ast.literal_eval(v)
                        for k, v in zip(value.keys, value.values, strict=True)
                        if k is not None
                    }
                elif isinstance(value, (ast.List, ast.Set, ast.Tuple)):
                    items = [ast.literal_eval(v) for v in value.elts]
                    kinds = {ast.List: list, ast.Set: set, ast.Tuple: tuple}
                    got = kinds[type(value)](items)
                else:
                    got = ast.literal_eval(value)
                out[name] = got
            elif isinstance(node, ast.ClassDef):
                out[node.name] = _py_body(node.body, only_self=False)
            elif isinstance(node, ast.FunctionDef) and node.name == "__init__":
                out.update(_py_body(node.body, only_self=True))
        except (ValueError, TypeError, SyntaxError):
            continue
    return out


def _parse_toml(text: str) -> Any:
    if sys.version_info >= (3, 11):
        import tomllib

        try:
            return tomllib.loads(text) or {}
        except tomllib.TOMLDecodeError as exc:
            raise ParseError("TOMLFileCorruptedError", f"not valid TOML ({exc})") from None
    raise ParseError("ParseError", "TOML params need Python 3.11 or later")  # pragma: no cover


_CONTEXT_TYPES = (type(None), int, float, str, bytes, bool)


def template_problem(value: Any, key: str = "") -> str | None:
    """Why DVC's dvc.yaml templating would refuse params.yaml (and fail the revision)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if problem := template_problem(v, f"{key}.{k}" if key else str(k)):
                return problem
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            if problem := template_problem(v, f"{key}[{i}]"):
                return problem
        return None
    if isinstance(value, _CONTEXT_TYPES):
        return None
    return f"unsupported value of type '{type(value).__name__}' at {key}"
