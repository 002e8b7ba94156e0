"""One side of a comparison: the metrics and params files DVC would read at a revision.

The workspace reads the disk; a commit reads its blobs through one `git cat-file --batch`
process, and a metrics output DVC keeps out of git from the local DVC cache. Which files count,
and how they are parsed and reduced, follows DVC (dvc.yaml's declarations, `${}` paths, wdir).
Paths here are relative to the project root (the directory of the params file), POSIX.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import dvcrepo, git
from mlops_actions.dvcdiff import (
    ParseError,
    extract_metrics,
    parse_file,
    select_keys,
    template_problem,
)

WORKSPACE = "workspace"
DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"  # the file DVC always tracks as a whole, whatever dvc.yaml says

# Parsed dvc.yaml / dvc.lock, read duck-typed as DVC does: a shape its schema rejects raises
# AttributeError/TypeError/ValueError here, which becomes a ParseError for that file.
_Loose = Any

_DIR = b"\0directory"  # a path that is a directory: DVC reads every file under it


@dataclass(frozen=True)
class FileError:
    """A file that could not be read; its values count as missing, as in DVC. With
    `whole_revision`, DVC could not load the pipeline and read nothing at that revision."""

    rev: str
    path: str
    type: str
    msg: str
    whole_revision: bool = False

    def __str__(self) -> str:
        return f"{self.path} at {self.rev}: {self.msg}"

    def to_json(self) -> dict[str, str]:
        """DVC's shape for an error (as `dvc metrics show --json` prints it)."""
        return {"type": self.type, "msg": str(self)}


def norm(wdir: str, path: str) -> str:
    """`path` of a stage running in `wdir`, relative to the project root."""
    return posixpath.normpath(posixpath.join(wdir, path))


class Source:
    """Files of one side of the comparison, read relative to the project root."""

    rev = WORKSPACE

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        raise NotImplementedError

    def files_under(self, path: str) -> list[str]:
        raise NotImplementedError

    def cached(self, path: str, lock: object) -> bytes | None:
        return None


class Workspace(Source):
    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in paths:
            full = self.root / path
            try:
                out[path] = full.read_bytes()
            except IsADirectoryError:
                out[path] = _DIR
            except OSError:
                out[path] = None
        return out

    def files_under(self, path: str) -> list[str]:
        found = []
        for dirpath, dirnames, filenames in os.walk(self.root / path):
            dirnames.sort()
            rel = Path(dirpath).relative_to(self.root).as_posix()
            found += [f"{rel}/{name}" for name in sorted(filenames)]
        return found


class Commit(Source):
    """The files committed at `sha`; `prefix` is the project root's path in the repository."""

    def __init__(self, root: Path, prefix: str, sha: str, rev: str, blobs: git.CatFile) -> None:
        self.root, self.prefix, self.sha, self.rev, self.blobs = root, prefix, sha, rev, blobs

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        got = self.blobs.read([f"{self.sha}:{self.prefix}{p}" for p in paths])
        return {
            p: None if g is None else (_DIR if g.type == "tree" else g.data)
            for p, g in zip(paths, got, strict=True)
        }

    def files_under(self, path: str) -> list[str]:
        listed = git.run(
            "ls-tree",
            "-r",
            "--name-only",
            "-z",
            self.sha,
            "--",
            f"{self.prefix}{path}/",
            cwd=self.root,
        )
        return [name[len(self.prefix) :] for name in listed.split("\0") if name]

    def cached(self, path: str, lock: _Loose) -> bytes | None:
        """An output DVC keeps in its cache: dvc.lock names its md5, the local cache holds it."""
        for stage in (lock.get("stages") or {}).values() if isinstance(lock, dict) else ():
            wdir = stage.get("wdir", ".") if isinstance(stage, dict) else "."
            for out in (stage.get("outs") or []) if isinstance(stage, dict) else ():
                if not isinstance(out, dict) or norm(wdir, str(out.get("path"))) != path:
                    continue
                md5 = str(out.get("md5") or "")
                if len(md5) < 3 or md5.endswith(".dir"):
                    return None
                config = dvcrepo.read_config(self.root)
                try:
                    return config.cache_object(md5, legacy=out.get("hash") != "md5").read_bytes()
                except OSError:
                    return None
        return None


def _interpolate(path: str, context: object) -> str | None:
    """`${a.b}` from params.yaml, the way dvc.yaml templating fills paths; None if unknown."""
    while "${" in path:
        start = path.index("${")
        end = path.find("}", start)
        if end < 0:
            return None
        value = context
        for part in path[start + 2 : end].strip().split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        path = f"{path[:start]}{value}{path[end + 1 :]}"
    return path


@dataclass
class _Declared:
    metrics: dict[str, bool] = field(default_factory=dict)  # path -> kept in the DVC cache
    params: dict[str, list[str]] = field(default_factory=dict)  # path -> keys ([] = all)

    def add_params(self, path: str, keys: list[str]) -> None:
        if path in self.params and not self.params[path]:
            return
        self.params[path] = [] if not keys else [*self.params.get(path, []), *keys]


def _declared(dvcyaml: _Loose, context: object) -> _Declared:
    """The metrics and params files dvc.yaml declares (top level and its stages)."""
    found = _Declared()
    for item in dvcyaml.get("metrics") or []:
        if isinstance(item, str) and (path := _interpolate(item, context)):
            found.metrics.setdefault(norm(".", path), False)
    for item in dvcyaml.get("params") or []:
        if isinstance(item, str) and (path := _interpolate(item, context)):
            found.add_params(norm(".", path), [])
    stages = dvcyaml.get("stages")
    for stage in stages.values() if isinstance(stages, dict) else ():
        if not isinstance(stage, dict) or "foreach" in stage or "matrix" in stage:
            continue  # templated stage families are not expanded here
        wdir = _interpolate(str(stage.get("wdir") or "."), context) or "."
        for item in stage.get("metrics") or []:
            name, opts = (item, {}) if isinstance(item, str) else next(iter(item.items()))
            if path := _interpolate(str(name), context):
                cache = (opts or {}).get("cache", True) is not False
                found.metrics.setdefault(norm(wdir, path), cache)
        for item in stage.get("params") or []:
            if isinstance(item, str):
                found.add_params(norm(wdir, DEFAULT_PARAMS), [item])
            elif isinstance(item, dict):
                for name, keys in item.items():
                    if path := _interpolate(str(name), context):
                        found.add_params(norm(wdir, path), [str(k) for k in keys or []])
    return found


@dataclass
class Snapshot:
    """One side, read: parsed metrics and params by path, and the files that failed."""

    metrics: dict[str, object] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)
    has_metrics: bool = False  # a metrics file exists here (even an unreadable one)


def _pipeline(first: dict[str, bytes | None]) -> tuple[_Declared, object]:
    """What dvc.yaml declares, and dvc.lock; raises ParseError when DVC would load nothing."""
    try:
        dvcyaml = parse_file("dvc.yaml", first["dvc.yaml"] or b"")
    except ParseError as exc:
        raise ParseError(exc.kind, str(exc), "dvc.yaml") from None
    context: object = {}
    if (params := first[DEFAULT_PARAMS]) is not None:  # dvc.yaml templating reads params.yaml
        try:
            context = parse_file(DEFAULT_PARAMS, params)
        except ParseError as exc:
            raise ParseError(exc.kind, str(exc), DEFAULT_PARAMS) from None
        if not isinstance(context, dict):
            raise ParseError("ParseError", "not a mapping", DEFAULT_PARAMS)
        if problem := template_problem(context):
            raise ParseError("TypeError", problem, DEFAULT_PARAMS)
    try:
        declared = _declared(dvcyaml, context)
    except (AttributeError, TypeError, ValueError, StopIteration):
        raise ParseError("ParseError", "does not follow DVC's schema", "dvc.yaml") from None
    lock: object = None
    if any(declared.metrics.values()) and first["dvc.lock"] is not None:
        with contextlib.suppress(ParseError):
            lock = parse_file("dvc.lock", first["dvc.lock"])
    return declared, lock


def read(source: Source, params_file: str, metrics_file: str) -> Snapshot:
    """One side's metrics and params files, parsed and reduced the way DVC reads them."""
    snap = Snapshot()
    names = ["dvc.yaml", "dvc.lock", DEFAULT_PARAMS, params_file, metrics_file]
    contents = source.read(list(dict.fromkeys(names)))
    declared = _Declared(metrics={metrics_file: False})
    declared.add_params(params_file, [])
    lock: object = None
    if contents["dvc.yaml"] is not None:
        try:
            found, lock = _pipeline(contents)
        except ParseError as exc:
            msg = f"{exc}, so DVC can load no pipeline and reads nothing there"
            snap.errors.append(FileError(source.rev, exc.path, exc.kind, msg, whole_revision=True))
            snap.has_metrics = contents[metrics_file] is not None
            return snap
        for path, cached in found.metrics.items():
            declared.metrics[path] = declared.metrics.get(path, False) or cached
        for path, keys in found.params.items():
            declared.add_params(path, keys)
    if contents[DEFAULT_PARAMS] is not None:
        declared.add_params(DEFAULT_PARAMS, [])
    wanted = [p for p in [*declared.metrics, *declared.params] if p not in contents]
    contents.update(source.read(list(dict.fromkeys(wanted))))

    def files(paths: Iterable[str], cached: dict[str, bool]) -> list[tuple[str, bytes | None]]:
        out: list[tuple[str, bytes | None]] = []
        for path in paths:
            content = contents[path]
            if content is None and cached.get(path):
                content = source.cached(path, lock)
            if content is _DIR:
                under = source.files_under(path)
                out += source.read(under).items() if under else [(path, None)]
            else:
                out.append((path, content))
        return out

    for path, content in files(declared.metrics, declared.metrics):
        if content is None:
            hint = " (has training run?)" if source.rev == WORKSPACE else ""
            snap.errors.append(FileError(source.rev, path, "FileNotFoundError", f"not found{hint}"))
            continue
        snap.has_metrics = True
        try:
            snap.metrics[path] = extract_metrics(parse_file(path, content)) or {}
        except ParseError as exc:
            snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    for path, content in files(declared.params, {}):
        if content is None:
            continue  # DVC skips params files that do not exist
        try:
            snap.params[path] = select_keys(parse_file(path, content), declared.params[path])
        except ParseError as exc:
            snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    return snap


def read_commit(root: Path, prefix: str, sha: str, rev: str, names: tuple[str, str]) -> Snapshot:
    """`read` of the commit `sha` (shown as `rev`), with its own cat-file process."""
    with git.CatFile(root) as blobs:
        return read(Commit(root, prefix, sha, rev, blobs), *names)


def metrics_file(params_text: bytes | None) -> str:
    """mlops.train.metrics from the params file, read leniently (compare does not validate it)."""
    try:
        data = parse_file(DEFAULT_PARAMS, params_text) if params_text else {}
    except ParseError:
        return DEFAULT_METRICS
    section = data.get("mlops") if isinstance(data, dict) else None
    train = section.get("train") if isinstance(section, dict) else None
    value = train.get("metrics") if isinstance(train, dict) else None
    return norm(".", value) if isinstance(value, str) and value else DEFAULT_METRICS
