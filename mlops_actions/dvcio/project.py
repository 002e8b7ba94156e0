"""What a DVC project declares: its dvc.yaml files (stages, metrics, params, plots, artifacts)
and its .dvc files, read once, the way DVC reads them.

Every path here is relative to the project root (the directory that holds the params file and
`.dvc/`), POSIX. A dvc.yaml in a subfolder declares paths relative to that folder, and its
artifacts are named the way GTO names them: ``sub/folder:name``. A file DVC itself would refuse
(not YAML, not a mapping, a stage that is not a mapping) is a ConfigError naming the file.
``vars``, ``foreach``/``matrix`` and ``${}`` are resolved by dvcyaml, the one reader of dvc.yaml.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.dvcio import dvcyaml
from mlops_actions.dvcio.diff import ParseError
from mlops_actions.errors import ConfigError

PROJECT_FILE = "dvc.yaml"
DEFAULT_PARAMS = "params.yaml"
# Never holds a .dvc file or a dvc.yaml of the project: DVC's own, git's, tools' and caches.
SKIP_DIRS = frozenset({".git", ".dvc", "node_modules", "__pycache__", ".venv", "venv"})


@dataclass(frozen=True)
class Stage:
    """One stage of a dvc.yaml; `deps`/`outs` include its metrics and plots outputs."""

    name: str
    file: str  # the dvc.yaml that declares it
    wdir: str
    cmd: str | None = None
    deps: tuple[str, ...] = ()
    outs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()
    plots: tuple[str, ...] = ()
    params: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (params file, keys; () = all)
    frozen: bool = False


@dataclass(frozen=True)
class Artifact:
    """An `artifacts:` entry; `name` is GTO's (``dir:name`` for a dvc.yaml in a subfolder)."""

    name: str
    path: str
    type: str | None
    file: str
    desc: str | None = None


@dataclass(frozen=True)
class DvcProject:
    root: Path
    files: tuple[str, ...]  # the dvc.yaml files, the root's first
    stages: tuple[Stage, ...] = ()
    artifacts: tuple[Artifact, ...] = ()
    metrics: tuple[str, ...] = ()  # every declared metrics file, in declaration order
    plots: tuple[str, ...] = ()
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file -> keys; () = all

    @property
    def models(self) -> list[Artifact]:
        return [a for a in self.artifacts if a.type == "model"]

    def artifact(self, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    @property
    def deps(self) -> list[str]:
        return list(dict.fromkeys(d for s in self.stages for d in s.deps))

    @property
    def outs(self) -> list[str]:
        return list(dict.fromkeys(o for s in self.stages for o in s.outs))


# --- walking the project -------------------------------------------------------------------


def _ignore_patterns(root: Path) -> list[str]:
    try:
        text = (root / ".dvcignore").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return []
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith(("#", "!"))]


def _ignored(rel: str, patterns: list[str]) -> bool:
    """.dvcignore, the common part of gitignore's grammar (no negation)."""
    name = posixpath.basename(rel)
    for pattern in patterns:
        anchored = pattern.strip("/")
        if "/" in anchored:
            if fnmatch.fnmatch(rel, anchored) or rel.startswith(anchored + "/"):
                return True
        elif fnmatch.fnmatch(name, anchored):
            return True
    return False


def walk(root: Path, skip: tuple[str, ...] = ()) -> Iterator[str]:
    """Every file of the project DVC would see, root-relative: not under `.git/`, `.dvc/`,
    `node_modules`, a virtualenv, a nested DVC repository, `skip` (e.g. the run cache),
    what .dvcignore names, nor inside a directory a sibling ``NAME.dvc`` tracks."""
    patterns = _ignore_patterns(root)
    skipped = {posixpath.normpath(s.strip("/")) for s in skip}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else f"{rel_dir}/"
        tracked = {f[: -len(".dvc")] for f in filenames if f.endswith(".dvc")}
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS
            and d not in tracked
            and f"{prefix}{d}" not in skipped
            and not _ignored(f"{prefix}{d}", patterns)
            and not (Path(dirpath, d, ".dvc").is_dir())
        )
        for name in sorted(filenames):
            if not _ignored(f"{prefix}{name}", patterns):
                yield f"{prefix}{name}"


def tracked_files(root: Path, skip: tuple[str, ...] = ()) -> list[str]:
    """Every .dvc file of the project (`dvc add`'s records), as DVC finds them."""
    return [p for p in walk(root, skip) if p.endswith(".dvc") and not p.endswith("/.dvc")]


# --- reading dvc.yaml ----------------------------------------------------------------------


class _Reader:
    """One resolved dvc.yaml (dvcyaml resolves vars, foreach, matrix and `${}` as DVC does)."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.base = posixpath.dirname(file)

    def fail(self, what: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.file}: {what}; {fix} (DVC refuses this file as it is)")

    def path(self, wdir: str, value: object, where: str) -> str:
        """`value` (relative to `wdir`, itself root-relative) made root-relative."""
        if not isinstance(value, str) or not value:
            raise self.fail(f"{where}: expected a path, got {value!r}", "write the path")
        joined = posixpath.normpath(posixpath.join(wdir, value))
        if joined == ".." or joined.startswith("../") or posixpath.isabs(joined):
            raise ConfigError(
                f"{self.file}: {where}: '{value}' is outside the repository; "
                "point it at a path inside the project"
            )
        return joined

    def entries(self, wdir: str, items: object, where: str) -> list[str]:
        """A list of paths, each a string or a one-key mapping {path: options}."""
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail(f"{where}: expected a list, got {items!r}", "make it a list")
        found = []
        for i, item in enumerate(items):
            if isinstance(item, dict) and len(item) == 1:
                item = next(iter(item))
            found.append(self.path(wdir, item, f"{where}[{i}]"))
        return found

    def params(self, wdir: str, items: object, where: str) -> list[tuple[str, tuple[str, ...]]]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail(f"{where}: expected a list, got {items!r}", "make it a list")
        found: list[tuple[str, tuple[str, ...]]] = []
        default = self.path(wdir, DEFAULT_PARAMS, where)
        for i, item in enumerate(items):
            if isinstance(item, str):
                found.append((default, (item,)))
            elif isinstance(item, dict):
                for name, keys in item.items():
                    path = self.path(wdir, name, f"{where}[{i}]")
                    found.append((path, tuple(str(k) for k in keys or [])))
            else:
                raise self.fail(f"{where}[{i}]: expected a key or a file, got {item!r}", "fix it")
        return found

    def stage(self, name: str, wdir: str, raw: dict[str, Any]) -> Stage:
        where = f"stages.{name}"
        metrics = self.entries(wdir, raw.get("metrics"), f"{where}.metrics")
        plots = self.entries(wdir, raw.get("plots"), f"{where}.plots")
        outs = self.entries(wdir, raw.get("outs"), f"{where}.outs")
        cmd = raw.get("cmd")
        return Stage(
            name=name,
            file=self.file,
            wdir=wdir,
            cmd=" && ".join(map(str, cmd)) if isinstance(cmd, list) else cmd and str(cmd),
            deps=tuple(self.entries(wdir, raw.get("deps"), f"{where}.deps")),
            outs=tuple(dict.fromkeys([*outs, *metrics, *plots])),
            metrics=tuple(metrics),
            plots=tuple(plots),
            params=tuple(self.params(wdir, raw.get("params"), f"{where}.params")),
            frozen=raw.get("frozen") is True,
        )

    def artifacts(self, raw: dict[str, Any]) -> list[Artifact]:
        found = []
        for name, spec in raw.items():
            where = f"artifacts.{name}"
            if not isinstance(spec, dict) or "path" not in spec:
                raise self.fail(f"{where}: needs a `path`", "add one")
            full = f"{self.base}:{name}" if self.base else str(name)
            desc = spec.get("desc")
            kind = spec.get("type")
            found.append(
                Artifact(
                    name=full,
                    path=self.path(self.base or ".", spec["path"], f"{where}.path"),
                    type=str(kind) if kind is not None else None,
                    file=self.file,
                    desc=str(desc) if desc is not None else None,
                )
            )
        return found


def _load_yaml(root: Path, file: str) -> object:
    from mlops_actions import yaml12

    try:
        return yaml12.load((root / file).read_bytes())
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from None
    except yaml12.YamlError as exc:
        where = f" at line {exc.line}" if exc.line is not None else ""
        raise ConfigError(
            f"{file}: not valid YAML{where}; fix it (DVC refuses this file as it is)"
        ) from None


def _resolve(root: Path, file: str) -> dvcyaml.Resolved:
    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    data = _load_yaml(root, file)  # the shape first, for messages that name the key
    reader = _Reader(file)
    if data is None:
        return dvcyaml.Resolved(file)  # an empty dvc.yaml declares nothing; DVC accepts it
    if not isinstance(data, dict):
        raise reader.fail(f"expected a mapping with `stages`, got {type(data).__name__}", "fix it")
    stages = data.get("stages")
    if stages is not None and not isinstance(stages, dict):
        raise reader.fail("stages: expected a mapping of stage names", "fix it")
    for name, raw in (stages or {}).items():
        if not isinstance(raw, dict):
            raise reader.fail(
                f"stages.{name}: expected a mapping with `cmd`, got {raw!r}", "fix it"
            )
    try:
        return dvcyaml.resolve(file, (root / file).read_bytes(), read)
    except ParseError as exc:
        where = exc.path or file
        raise ConfigError(f"{where}: {exc}; fix it (DVC refuses this file as it is)") from None
    except (AttributeError, TypeError, ValueError, StopIteration, KeyError, IndexError):
        raise ConfigError(
            f"{file}: does not follow DVC's schema; fix it (DVC refuses this file as it is)"
        ) from None


GTO_FILE = "artifacts.yaml"


def gto_artifacts(root: Path) -> list[Artifact]:
    """The artifacts GTO's artifacts.yaml declares: the project root's, else the git
    repository's top-level one (GTO's own place); paths made project-relative."""
    from mlops_actions import yaml12

    for where in (root, *root.parents):
        file = where / GTO_FILE
        if file.is_file() or (where / ".git").exists():
            break
    else:
        return []
    rel = os.path.relpath(file, root).replace(os.sep, "/")
    try:
        data = yaml12.load(file.read_bytes())
    except FileNotFoundError:
        return []
    except (OSError, yaml12.YamlError) as exc:
        raise ConfigError(f"{rel}: not a readable GTO artifacts file ({exc}); fix it") from None
    if data is None:
        return []
    reader = _Reader(rel)
    if not isinstance(data, dict):
        raise ConfigError(f"{rel}: expected a mapping of artifact names; fix it (GTO refuses it)")
    found = []
    for name, spec in data.items():
        spec = spec if isinstance(spec, dict) else {}
        path = spec.get("path")
        kind, desc = spec.get("type"), spec.get("description")
        found.append(
            Artifact(
                name=str(name),
                path=posixpath.normpath(posixpath.join(reader.base or ".", path))
                if isinstance(path, str) and path
                else "",
                type=str(kind) if kind is not None else None,
                file=rel,
                desc=str(desc) if desc is not None else None,
            )
        )
    return found


def read(root: Path, skip: tuple[str, ...] = ()) -> DvcProject | None:
    """The project's declarations, or None when it has no dvc.yaml."""
    files = sorted(
        (p for p in walk(root, skip) if posixpath.basename(p) == PROJECT_FILE),
        key=lambda p: (p.count("/"), p),
    )
    if not files:
        return None
    stages: list[Stage] = []
    artifacts: list[Artifact] = []
    metrics: list[str] = []
    plots: list[str] = []
    params: dict[str, tuple[str, ...]] = {}

    def add_params(path: str, keys: tuple[str, ...]) -> None:
        if path in params and not params[path]:
            return
        params[path] = () if not keys else tuple(dict.fromkeys([*params.get(path, ()), *keys]))

    for file in files:
        resolved = _resolve(root, file)
        reader = _Reader(file)
        metrics += resolved.metrics
        plots += [p.id for p in resolved.plots if p.is_path]
        for path in resolved.params:
            add_params(path, ())  # a top-level params file is tracked whole
        for raw in resolved.stages:
            stage = reader.stage(raw.name, raw.wdir, raw.body)
            stages.append(stage)
            metrics += stage.metrics
            plots += stage.plots
            for path, keys in stage.params:
                add_params(path, keys)
        artifacts += reader.artifacts(resolved.artifacts)
    named = {a.name for a in artifacts}  # dvc.yaml's and GTO's, as GTO lists them both
    artifacts += [a for a in gto_artifacts(root) if a.name not in named]
    return DvcProject(
        root=root,
        files=tuple(files),
        stages=tuple(stages),
        artifacts=tuple(artifacts),
        metrics=tuple(dict.fromkeys(metrics)),
        plots=tuple(dict.fromkeys(plots)),
        params=params,
    )
