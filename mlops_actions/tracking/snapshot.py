"""Which files of a run go into its experiment commit: the params files, metrics files, plots,
dvc.lock and .dvc files as the run left them (what DVC reads at a revision), git-tracked or
not ignored; a DVC-cached output is in the commit through dvc.lock, as in DVC's own."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from mlops_actions import git
from mlops_actions.compare import revision
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError

MAX_FILES = 200
MAX_FILE = 2 * 1024 * 1024
MAX_TOTAL = 8 * 1024 * 1024


def top_level(root: Path) -> Path:
    return Path(git.run("rev-parse", "--show-toplevel", cwd=root))


def candidates(cfg: Config) -> list[str]:
    """Root-relative paths DVC (or our own settings) read as params, metrics and plots."""
    root = cfg.root
    source = revision.Workspace(root)
    yamls, dvcfiles = source.dvc_files()
    dvc_mode = bool(yamls)
    snap = revision.read(source, Path(cfg.path).name, cfg.train.metrics, dvc_mode=dvc_mode)
    paths = [*snap.metrics, *snap.params, *dvcfiles, revision.DEFAULT_PARAMS, Path(cfg.path).name]
    paths += [posixpath.join(posixpath.dirname(y), "dvc.lock") for y in yamls]
    paths += [] if dvc_mode else [cfg.train.metrics]
    plots = revision.plot_source(source)
    for decl in plots.declared:
        if decl.is_path:
            paths += plots.expand(decl.id)
    paths += list(cfg.plots)
    return list(dict.fromkeys(revision.norm(".", p) for p in paths))


def collect(cfg: Config) -> dict[str, bytes]:
    """The run's files, keyed by their path from the repository's top level."""
    top = top_level(cfg.root)
    prefix = cfg.root.relative_to(top.resolve()).as_posix() if cfg.root != top.resolve() else ""
    found = [p for p in candidates(cfg) if (cfg.root / p).is_file()]
    if not found:
        return {}
    ignored = set(git.result("check-ignore", "--no-index", *found, cwd=cfg.root).stdout.split("\n"))
    out: dict[str, bytes] = {}
    for path in found:
        if path in ignored:
            continue  # a DVC-cached output: dvc.lock names it
        key = posixpath.join(prefix, path) if prefix and prefix != "." else path
        out[key] = (cfg.root / path).read_bytes()
    return checked(out, "the run's files")


def checked(files: dict[str, Any], where: str) -> dict[str, bytes]:
    """Files from an untrusted hand-off: safe relative paths, bounded sizes, bytes."""
    if len(files) > MAX_FILES:
        raise MlopsError(f"{where}: {len(files)} files; at most {MAX_FILES} are recorded")
    total = 0
    out: dict[str, bytes] = {}
    for path, data in files.items():
        if not isinstance(path, str) or not safe_path(path):
            raise MlopsError(f"{where}: {str(path)[:80]!r} is not a safe relative path")
        if not isinstance(data, bytes):
            raise MlopsError(f"{where}: {path}: not file content")
        if len(data) > MAX_FILE:
            raise MlopsError(f"{where}: {path}: {len(data)} bytes; at most {MAX_FILE}")
        total += len(data)
        out[path] = data
    if total > MAX_TOTAL:
        raise MlopsError(f"{where}: {total} bytes in all; at most {MAX_TOTAL}")
    return out


def safe_path(path: str) -> bool:
    """A plain relative POSIX path inside the repository, not into .git."""
    if not path or len(path) > 400 or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    parts = path.split("/")
    if any(p in ("", ".", "..") for p in parts):
        return False
    if any(p.lower() == ".git" for p in parts):
        return False
    return all(c >= " " and c != "\x7f" for c in path)
