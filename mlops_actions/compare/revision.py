"""One side of a comparison: the metrics and params files DVC would read at a revision.

The workspace reads the disk; a commit reads its blobs through one `git cat-file --batch`
process, and a metrics output DVC keeps out of git from the local DVC cache. Which files count,
and how they are parsed and reduced, follows DVC (dvc.yaml's declarations, `${}` paths, wdir).
Paths here are relative to the project root (the directory of the params file), POSIX.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import git
from mlops_actions.dvcio import cache, dvcyaml
from mlops_actions.dvcio.diff import ParseError, extract_metrics, parse_file, select_keys

WORKSPACE = "workspace"
DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"  # the file DVC always tracks as a whole, whatever dvc.yaml says

_DIR = b"\0directory"  # a path that is a directory: DVC reads every file under it


@dataclass(frozen=True)
class FileError:
    """A file that could not be read; its values count as missing, as in DVC."""

    rev: str
    path: str
    type: str
    msg: str

    def __str__(self) -> str:
        return f"{self.path} at {self.rev}: {self.msg}"


def norm(wdir: str, path: str) -> str:
    """`path` of a stage running in `wdir`, relative to the project root."""
    return posixpath.normpath(posixpath.join(wdir, path))


def _dvc_files(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """(dvc.yaml files, `.dvc` files) among root-relative paths, as DVC collects them."""
    yamls, dvcfiles = [], []
    for name in names:
        if name.startswith((".dvc/", ".git/")) or "/.dvc/" in name or "/.git/" in name:
            continue
        base = posixpath.basename(name)
        if base == "dvc.yaml":
            yamls.append(name)
        elif base.endswith(".dvc") and base != ".dvc":
            dvcfiles.append(name)
    return sorted(yamls), sorted(dvcfiles)


class Source:
    """Files of one side of the comparison, read relative to the project root."""

    rev = WORKSPACE

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        raise NotImplementedError

    def files_under(self, path: str) -> list[str]:
        raise NotImplementedError

    def dvc_files(self) -> tuple[list[str], list[str]]:
        """(dvc.yaml files, `.dvc` files) of this side."""
        raise NotImplementedError


class Workspace(Source):
    def __init__(self, root: Path) -> None:
        self.root = root
        self._dvc: tuple[list[str], list[str]] | None = None

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

    def dvc_files(self) -> tuple[list[str], list[str]]:
        # git's index and untracked files (not what .gitignore hides): no walk of data dirs
        if self._dvc is None:
            listed = git.run(
                "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=self.root
            )
            names = [n for n in listed.split("\0") if n]
            yamls, dvcfiles = _dvc_files(names)  # stat only these: a deleted one drops out
            self._dvc = (
                [n for n in yamls if (self.root / n).is_file()],
                [n for n in dvcfiles if (self.root / n).is_file()],
            )
        return self._dvc


class Commit(Source):
    """The files committed at `sha`; `prefix` is the project root's path in the repository."""

    def __init__(self, root: Path, prefix: str, sha: str, rev: str, blobs: git.CatFile) -> None:
        self.root, self.prefix, self.sha, self.rev, self.blobs = root, prefix, sha, rev, blobs
        self._names: list[str] | None = None

    def read(self, paths: list[str]) -> dict[str, bytes | None]:
        got = self.blobs.read([f"{self.sha}:{self.prefix}{p}" for p in paths])
        return {
            p: None if g is None else (_DIR if g.type == "tree" else g.data)
            for p, g in zip(paths, got, strict=True)
        }

    @property
    def names(self) -> list[str]:
        """Every file of the project at this commit (one `git ls-tree`)."""
        if self._names is None:
            tree = f"{self.sha}:{self.prefix.rstrip('/')}"
            # --full-tree: run in a sub-folder, ls-tree would list only that folder of `tree`
            listed = git.run(
                "ls-tree", "--full-tree", "-r", "--name-only", "-z", tree, cwd=self.root
            )
            self._names = [n for n in listed.split("\0") if n]
        return self._names

    def files_under(self, path: str) -> list[str]:
        if path in (".", ""):
            return list(self.names)
        return [n for n in self.names if n.startswith(f"{path}/")]

    def dvc_files(self) -> tuple[list[str], list[str]]:
        return _dvc_files(self.names)


@dataclass
class Snapshot:
    """One side, read: parsed metrics and params by path, and the files that failed."""

    metrics: dict[str, object] = field(default_factory=dict)
    params: dict[str, object] = field(default_factory=dict)
    errors: list[FileError] = field(default_factory=list)
    has_metrics: bool = False  # a metrics file exists here (even an unreadable one)
    declared: list[str] = field(default_factory=list)  # the metrics paths DVC reads here


class _Reader:
    """A side's files: git or the disk first, then DVC's cache through the data index, made
    (dvc.lock and `.dvc` files read) only when a path is not in git or on the disk."""

    def __init__(self, source: Source, contents: dict[str, bytes | None]) -> None:
        self.source, self.contents = source, contents
        self.make_index: Callable[[], cache.DataIndex] | None = None
        self._index: cache.DataIndex | None = None

    @property
    def index(self) -> cache.DataIndex | None:
        if self._index is None and self.make_index is not None:
            self._index = self.make_index()
        return self._index

    @property
    def missing(self) -> list[cache.Missing]:
        """Outputs the index looked for and found in no cache (none when it was not made)."""
        return self._index.missing if self._index is not None else []

    def raw(self, path: str) -> bytes | None:
        if path not in self.contents:
            self.contents.update(self.source.read([path]))
        return self.contents[path]

    def read(self, path: str) -> bytes | None:
        got = self.raw(path)
        if got is None and self.index is not None:
            got = self.index.read(path)
        return None if got is _DIR else got

    def expand(self, paths: Iterable[str]) -> list[str]:
        """Files DVC reads for these paths: a directory (in git, on disk or DVC-tracked) is
        every file under it; a file in git or on the disk is itself."""
        out: list[str] = []
        for path in paths:
            raw = self.raw(path)
            if raw is not None and raw is not _DIR:
                out.append(path)
                continue
            index = self.index
            if raw is _DIR or (index is not None and index.isdir(path)):
                under = set(self.source.files_under(path)) if raw is _DIR else set()
                if index is not None:
                    under.update(index.files_under(path))
                out += sorted(under) if under else [path]
            else:
                out.append(path)
        return list(dict.fromkeys(out))


def _index(reader: _Reader, dvcfiles: list[str], declared: dvcyaml.Declared) -> dict[str, Any]:
    """Outputs of dvc.lock files and `.dvc` files: root-relative path -> entry."""
    outs = dict(declared.outs())
    for path in dvcfiles:
        content = reader.raw(path)
        try:
            data = parse_file(path, content) if content and content is not _DIR else None
        except ParseError:
            continue
        for out in (data.get("outs") or []) if isinstance(data, dict) else []:
            if isinstance(out, dict) and "path" in out:
                outs[norm(posixpath.dirname(path) or ".", str(out["path"]))] = out
    return outs


def read(
    source: Source,
    params_file: str,
    metrics_file: str,
    *,
    dvc_mode: bool = False,
    objects: cache.Objects | None = None,
) -> Snapshot:
    """One side's metrics and params files, parsed and reduced the way DVC reads them.

    `dvc_mode`: a dvc.yaml exists (on either side), so exactly what DVC reads counts: every
    dvc.yaml's declarations and the root params.yaml. Otherwise our own settings name the
    files: `params_file` and its metrics file (and params.yaml)."""
    snap = Snapshot()
    yamls, dvcfiles = source.dvc_files()
    locks = [posixpath.join(posixpath.dirname(y), "dvc.lock") for y in yamls]
    names = [*yamls, *locks, *dvcfiles, DEFAULT_PARAMS]
    names += [] if dvc_mode else [params_file, metrics_file]
    reader = _Reader(source, source.read(list(dict.fromkeys(names))))
    declared = dvcyaml.Declared()
    for path, lock in zip(yamls, locks, strict=True):
        try:
            dvcyaml.load(path, reader.raw(path) or b"", reader.raw(lock), reader.read, declared)
        except ParseError as exc:
            where = exc.path or path
            msg = f"{exc}, so DVC can load no pipeline and reads nothing there"
            snap.errors.append(FileError(source.rev, where, exc.kind, msg))
            snap.has_metrics = bool(dvc_mode) or reader.raw(metrics_file) is not None
            return snap
        except (AttributeError, TypeError, ValueError, StopIteration, KeyError, IndexError):
            msg = "does not follow DVC's schema, so DVC can load no pipeline and reads nothing"
            snap.errors.append(FileError(source.rev, path, "ParseError", msg))
            return snap
    if objects is not None:
        reader.make_index = lambda: cache.DataIndex(_index(reader, dvcfiles, declared), objects)
    if dvc_mode:
        metrics = declared.metrics
        params = dict(declared.params)
    else:
        metrics, params = [metrics_file], {params_file: list[str]()}
    if reader.read(DEFAULT_PARAMS) is not None or (
        reader.index is not None and reader.index.isdir(DEFAULT_PARAMS)
    ):
        params[DEFAULT_PARAMS] = []  # the whole file, whatever keys stages name
    snap.declared = metrics

    for path in reader.expand(metrics):
        content = reader.read(path)
        if content is None:
            hint = " (has training run?)" if source.rev == WORKSPACE else ""
            snap.errors.append(FileError(source.rev, path, "FileNotFoundError", f"not found{hint}"))
            continue
        snap.has_metrics = True
        try:
            snap.metrics[path] = extract_metrics(parse_file(path, content)) or {}
        except ParseError as exc:
            snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    read_params: set[str] = set()
    for name, keys in params.items():
        for path in reader.expand([name]):
            read_params.add(path)
            content = reader.read(path)
            if content is None:
                continue  # DVC skips params files that do not exist
            try:
                snap.params[path] = select_keys(parse_file(path, content), keys)
            except ParseError as exc:
                snap.errors.append(FileError(source.rev, path, exc.kind, str(exc)))
    for path, values in declared.tracked.items():  # vars files DVC shows as params
        if path not in read_params and dvc_mode:
            snap.params[path] = values
    for gone in reader.missing:
        snap.errors.append(FileError(source.rev, gone.path, "ObjectMissing", gone.hint()))
    return snap


@dataclass
class PlotSource:
    """One side's plot declarations (every dvc.yaml's) and its files: git or the disk first,
    then DVC's cache for outputs DVC keeps out of git."""

    rev: str
    declared: list[dvcyaml.PlotDecl]
    reader: _Reader
    error: str | None = None  # DVC could not load the pipeline here

    def read(self, path: str) -> bytes | None:
        return self.reader.read(path)

    def expand(self, path: str) -> list[str]:
        return self.reader.expand([path])


def plot_source(source: Source, objects: cache.Objects | None = None) -> PlotSource:
    """The plots every dvc.yaml of this side declares, and a reader of their data files."""
    yamls, dvcfiles = source.dvc_files()
    locks = [posixpath.join(posixpath.dirname(y), "dvc.lock") for y in yamls]
    reader = _Reader(source, source.read([*yamls, *locks, *dvcfiles]))
    declared = dvcyaml.Declared()
    plots = PlotSource(source.rev, declared.plots, reader)
    for path, lock in zip(yamls, locks, strict=True):
        try:
            dvcyaml.load(path, reader.raw(path) or b"", reader.raw(lock), reader.read, declared)
        except ParseError as exc:
            plots.error = f"{exc.path or path}: {exc}"
            declared.plots.clear()
            break
        except (AttributeError, TypeError, ValueError, StopIteration, KeyError, IndexError):
            plots.error = f"{path}: does not follow DVC's schema"
            declared.plots.clear()
            break
    if objects is not None:
        reader.make_index = lambda: cache.DataIndex(_index(reader, dvcfiles, declared), objects)
    return plots


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
