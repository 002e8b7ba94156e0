"""What one dvc.yaml declares, resolved the way DVC's parser does (dvc/parsing).

`vars` (files, `file:key1,key2`, inline mappings), the dvc.yaml directory's params.yaml as the
default context, `${a.b}` / `${a[0]}` interpolation, `foreach`/`do` and `matrix` stages, stage
`wdir`; and which values of vars *files* the stages used (DVC's `tracked_vars`, which
`dvc params diff` shows for a vars file that is no params file). Paths come out relative to
the project root, POSIX. A dvc.yaml DVC would refuse to resolve raises ParseError.
"""

from __future__ import annotations

import itertools
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.dvcio.diff import ParseError, parse_file, template_problem

DEFAULT_PARAMS = "params.yaml"
Reader = Callable[[str], bytes | None]  # a root-relative path -> its bytes, None if absent

_INTERP = re.compile(r"(?<!\\)\$\{([^}]*)\}")


@dataclass
class _Val:
    """A context value and where it came from: a vars file and its dotted key, or None for
    values defined in dvc.yaml itself (DVC does not track those). A matrix `item` keeps each
    dimension's own origin in `members`."""

    value: Any
    source: str | None = None
    path: str = ""
    members: dict[str, _Val] | None = None

    def child(self, key: str | int) -> _Val:
        if self.members is not None:
            return self.members[str(key)]
        if isinstance(self.value, dict):  # noqa: SIM114 (two branches: mypy narrows each)
            got = self.value[key]
        elif isinstance(self.value, list) and isinstance(key, int):
            got = self.value[key]
        else:
            raise KeyError(key)
        return _Val(got, self.source, f"{self.path}.{key}" if self.path else str(key))


# What a stage's plot output may say about its plot (DVC's PLOT_PROPS).
PLOT_PROPS = ("template", "x", "y", "x_label", "y_label", "title", "header")


@dataclass(frozen=True)
class PlotDecl:
    """One plot as DVC resolves its definition: `id` is a root-relative data path (a file or a
    directory) when `is_path`, else the plot's name, whose `x`/`y` mappings then name
    root-relative files."""

    id: str
    props: dict[str, Any]
    is_path: bool
    file: str  # the dvc.yaml that declares it


def _plot_decl(here: str, item: Any, file: str) -> PlotDecl | None:
    """A top-level `plots:` entry the way DVC's _resolve_definitions reads it."""
    if isinstance(item, str):
        return PlotDecl(_join(here, item), {}, True, file)
    if not isinstance(item, dict) or len(item) != 1:
        return None
    name, props = next(iter(item.items()))
    props = dict(props) if isinstance(props, dict) else {}
    if not isinstance(props.get("y"), dict):  # DVC's _id_is_path
        return PlotDecl(_join(here, str(name)), props, True, file)
    for axis in ("x", "y"):
        if isinstance(props.get(axis), dict):
            props[axis] = {_join(here, str(k)): v for k, v in props[axis].items()}
    return PlotDecl(str(name), props, False, file)


@dataclass
class Declared:
    """One side's declarations, merged over every dvc.yaml: root-relative paths."""

    metrics: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)  # path -> keys ([] = all)
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)  # vars file -> {key: v}
    lock_outs: dict[str, dict[str, Any]] = field(default_factory=dict)  # out path -> lock entry
    plots: list[PlotDecl] = field(default_factory=list)
    unread_locks: list[Callable[[], None]] = field(default_factory=list)

    def add_params(self, path: str, keys: list[str]) -> None:
        if path in self.params and not self.params[path]:
            return
        self.params[path] = [] if not keys else [*self.params.get(path, []), *keys]

    def outs(self) -> dict[str, dict[str, Any]]:
        """`lock_outs`, the dvc.lock files read first: only a side that reads an output from
        DVC's cache needs them (dvc.lock is read on demand, as it differs in every commit)."""
        while self.unread_locks:
            self.unread_locks.pop(0)()
        return self.lock_outs


class _Context:
    def __init__(self) -> None:
        self.data: dict[str, _Val] = {}
        self.tracked: dict[str, dict[str, Any]] = {}
        self.tracking = False

    def copy(self) -> _Context:
        new = _Context()
        new.data = dict(self.data)
        return new

    def merge(self, values: dict[Any, Any], source: str | None) -> None:
        for key, value in values.items():
            old = self.data.get(str(key))
            if old is not None and isinstance(old.value, dict) and isinstance(value, dict):
                value = {**old.value, **value}  # DVC merges mappings key by key
            self.data[str(key)] = _Val(value, source, str(key))

    def load_file(self, read: Reader, path: str, keys: list[str] | None) -> None:
        content = read(path)
        if content is None:
            raise ParseError("ParamsLoadError", "does not exist (a `vars` file)", path)
        try:
            data = parse_file(path, content)
        except ParseError as exc:
            raise ParseError(exc.kind, str(exc), path) from None
        if not isinstance(data, dict):
            raise ParseError("ParseError", "not a mapping", path)
        if problem := template_problem(data):
            raise ParseError("TypeError", problem, path)
        if keys:
            missing = [k for k in keys if k not in data]
            if missing:
                raise ParseError("ParamsLoadError", f"has no '{missing[0]}' (a `vars` key)", path)
            data = {k: data[k] for k in keys}
        self.merge(data, path)

    def load_vars(self, read: Reader, items: Any, wdir: str) -> None:
        for item in items or []:
            if isinstance(item, str):
                name, _, keys = item.partition(":")
                selected = [k for k in keys.split(",") if k] or None
                self.load_file(read, _join(wdir, name), selected)
            elif isinstance(item, dict):
                self.merge(item, None)
            else:
                raise ParseError("ParseError", "a `vars` entry is neither a file nor a mapping")

    def select(self, key: str) -> _Val:
        parts = [p for p in re.sub(r"\[(\d+)\]", r".\1", key.strip()).split(".") if p]
        if not parts or parts[0] not in self.data:
            raise ParseError("ResolveError", f"could not find '{key}'")
        node = self.data[parts[0]]
        try:
            for part in parts[1:]:
                node = node.child(int(part) if isinstance(node.value, list) else part)
        except (KeyError, IndexError, ValueError):
            raise ParseError("ResolveError", f"could not find '{key}'") from None
        if self.tracking and node.source and not isinstance(node.value, dict):
            self.tracked.setdefault(node.source, {})[node.path] = node.value
        return node

    def resolve(self, value: Any) -> Any:
        """`value` with every `${...}` filled in (a whole-string `${x}` keeps x's type)."""
        return self._resolve(value).value if isinstance(value, str) else self._deep(value)

    def _deep(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                (_to_str(self._resolve(k).value) if isinstance(k, str) else k): self._deep(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._deep(v) for v in value]
        return self._resolve(value).value if isinstance(value, str) else value

    def _resolve(self, text: str) -> _Val:
        whole = _INTERP.fullmatch(text)
        if whole:
            return self.select(whole.group(1))

        def fill(match: re.Match[str]) -> str:
            got = self.select(match.group(1)).value
            if isinstance(got, (dict, list)):
                raise ParseError("ResolveError", f"cannot interpolate a {type(got).__name__}")
            return _to_str(got)

        return _Val(_INTERP.sub(fill, text).replace("\\${", "${"))


def _to_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _join(wdir: str, path: str) -> str:
    return posixpath.normpath(posixpath.join(wdir, path))


def _members(name: str, stage: dict[str, Any], ctx: _Context) -> Iterator[tuple[str, Any]]:
    """(generated name, the {item/key} values to set) of a foreach or matrix stage."""
    if "foreach" in stage:
        got = stage["foreach"]
        node = ctx._resolve(got) if isinstance(got, str) else _Val(ctx._deep(got))
        if isinstance(node.value, dict):
            for key in node.value:
                yield f"{name}@{key}", {"item": node.child(key), "key": _Val(key)}
        elif isinstance(node.value, list):
            simple = all(not isinstance(v, (dict, list)) for v in node.value)
            for i, v in enumerate(node.value):
                yield f"{name}@{_to_str(v) if simple else i}", {"item": node.child(i)}
        else:
            raise ParseError("ResolveError", f"stage '{name}': foreach needs a list or mapping")
        return
    dims: dict[str, list[_Val]] = {}
    for dim, values in stage["matrix"].items():
        node = ctx._resolve(values) if isinstance(values, str) else _Val(ctx._deep(values))
        if not isinstance(node.value, list):
            raise ParseError("ResolveError", f"stage '{name}': matrix.{dim} is not a list")
        dims[str(dim)] = [node.child(i) for i in range(len(node.value))]
    for combo in itertools.product(*(enumerate(v) for v in dims.values())):
        parts = [
            f"{dim}{i}" if isinstance(v.value, (dict, list)) else _to_str(v.value)
            for dim, (i, v) in zip(dims, combo, strict=True)
        ]
        item = {dim: v.value for dim, (_, v) in zip(dims, combo, strict=True)}
        members = {dim: v for dim, (_, v) in zip(dims, combo, strict=True)}
        yield f"{name}@{'-'.join(parts)}", {"item": _Val(item, members=members)}


def _stages(data: dict[str, Any], ctx: _Context) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(name, definition, the context to resolve it in), foreach/matrix expanded."""
    for name, stage in (data.get("stages") or {}).items():
        if not isinstance(stage, dict):
            raise ParseError("ParseError", f"stage '{name}' is not a mapping")
        if "foreach" in stage or "matrix" in stage:
            template = stage.get("do", stage) if "foreach" in stage else stage
            body = {k: v for k, v in template.items() if k not in ("foreach", "matrix")}
            for generated, temp in _members(str(name), stage, ctx):
                local = ctx.copy()
                local.data.update(temp)
                yield generated, body, local
        else:
            yield str(name), stage, ctx


@dataclass
class ResolvedStage:
    """One stage as DVC resolves it (foreach/matrix expanded, `${}` filled, `vars` applied):
    `wdir` root-relative, `body` every key but `vars`, values resolved."""

    name: str
    wdir: str
    body: dict[str, Any]


@dataclass
class Resolved:
    """One dvc.yaml as DVC's parser resolves it; paths root-relative."""

    file: str
    metrics: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    plots: list[PlotDecl] = field(default_factory=list)
    artifacts: dict[str, Any] = field(default_factory=dict)
    stages: list[ResolvedStage] = field(default_factory=list)
    tracked: dict[str, dict[str, Any]] = field(default_factory=dict)  # vars file -> {key: v}


def resolve(path: str, text: bytes, read: Reader) -> Resolved:
    """The dvc.yaml at `path` (root-relative) resolved; ParseError where DVC would refuse it."""
    data = parse_file(path, text)
    if not isinstance(data, dict):
        raise ParseError("ParseError", "not a mapping")
    here = posixpath.dirname(path) or "."
    ctx = _Context()
    if read(_join(here, DEFAULT_PARAMS)) is not None:
        ctx.load_file(read, _join(here, DEFAULT_PARAMS), None)
    ctx.load_vars(read, data.get("vars"), here)
    out = Resolved(path)
    out.metrics = [_join(here, str(ctx.resolve(item))) for item in data.get("metrics") or []]
    out.params = [_join(here, str(ctx.resolve(item))) for item in data.get("params") or []]
    for item in data.get("plots") or []:
        if (plot := _plot_decl(here, ctx.resolve(item), path)) is not None:
            out.plots.append(plot)
    artifacts = data.get("artifacts")
    if isinstance(artifacts, dict):
        out.artifacts = {str(k): ctx.resolve(v) for k, v in artifacts.items()}
    elif artifacts is not None:
        raise ParseError("ParseError", "artifacts: expected a mapping of artifact names")
    stages = data.get("stages")
    if stages is not None and not isinstance(stages, dict):
        raise ParseError("ParseError", "stages: expected a mapping of stage names")
    for name, stage, stage_ctx in _stages(data, ctx):
        if stage.get("vars"):
            stage_ctx = stage_ctx.copy()
            wdir0 = _join(here, str(stage_ctx.resolve(stage.get("wdir") or ".")))
            stage_ctx.load_vars(read, stage["vars"], wdir0)
        stage_ctx.tracking, stage_ctx.tracked = True, {}
        body = {k: stage_ctx.resolve(v) for k, v in stage.items() if k != "vars"}
        stage_ctx.tracking = False
        for file, values in stage_ctx.tracked.items():
            out.tracked.setdefault(file, {}).update(values)
        out.stages.append(ResolvedStage(name, _join(here, str(body.get("wdir") or ".")), body))
    return out


def load(path: str, text: bytes, lock_text: bytes | None, read: Reader, into: Declared) -> None:
    """Add what the dvc.yaml at `path` (root-relative) declares to `into`."""
    found = resolve(path, text, read)
    here = posixpath.dirname(path) or "."
    into.metrics += found.metrics
    for item in found.params:
        into.add_params(item, [])
    into.plots += found.plots
    for file, values in found.tracked.items():
        into.tracked.setdefault(file, {}).update(values)
    stages: list[tuple[str, str, set[str]]] = []  # (name, wdir, outputs with cache: false)
    for stage in found.stages:
        resolved, wdir = stage.body, stage.wdir
        for item in resolved.get("metrics") or []:
            name_ = item if isinstance(item, str) else next(iter(item))
            into.metrics.append(_join(wdir, str(name_)))
        for item in resolved.get("plots") or []:
            out, props = (item, {}) if isinstance(item, str) else next(iter(item.items()))
            props = props if isinstance(props, dict) else {}
            kept = {k: v for k, v in props.items() if k in PLOT_PROPS}
            into.plots.append(PlotDecl(_join(wdir, str(out)), kept, True, path))
        for item in resolved.get("params") or []:
            if isinstance(item, str):
                into.add_params(_join(wdir, DEFAULT_PARAMS), [item])
            elif isinstance(item, dict):
                for file, keys in item.items():
                    into.add_params(_join(wdir, str(file)), [str(k) for k in keys or []])
        stages.append((stage.name, wdir, _uncached(resolved)))
    if lock_text is not None:
        lock_path = posixpath.join(here, "dvc.lock")
        into.unread_locks.append(lambda: _lock_outs(lock_path, lock_text, stages, into.lock_outs))


def _lock_outs(
    path: str, text: bytes, stages: list[tuple[str, str, set[str]]], into: dict[str, Any]
) -> None:
    """The outputs dvc.lock records for these stages (root-relative path -> entry); an
    unreadable dvc.lock records none."""
    try:
        lock = parse_file(path, text) or {}
    except ParseError:
        return
    lock_stages = lock.get("stages") if isinstance(lock, dict) else None
    for name, wdir, uncached in stages:
        locked = lock_stages.get(name) if isinstance(lock_stages, dict) else None
        outs = locked.get("outs") if isinstance(locked, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and "path" in out:
                # dvc.lock does not say `cache: false`; dvc.yaml does
                flag = {"cache": False} if str(out["path"]) in uncached else {}
                into[_join(wdir, str(out["path"]))] = {**out, **flag}


def _uncached(stage: dict[str, Any]) -> set[str]:
    """The outputs a stage declares with `cache: false` (git keeps them, DVC never pushes)."""
    found = set()
    for section in ("outs", "metrics", "plots"):
        for item in stage.get(section) or []:
            if isinstance(item, dict) and len(item) == 1:
                path, options = next(iter(item.items()))
                if isinstance(options, dict) and options.get("cache") is False:
                    found.add(str(path))
    return found
