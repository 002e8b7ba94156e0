"""A trial trains in a copy of the workspace with its params set, as `dvc exp run -S` sets
them: the user's files, and other trials running beside it, never see its changes.

The copy is a `git clone --shared` of the repository (objects borrowed, not copied) with the
working tree copied over it, uncommitted changes and pulled data included; the DVC cache is
the original's, and virtual environments in the tree are linked, not copied.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mlops_actions import git, yaml12
from mlops_actions.errors import ConfigError, GitError

SKIP = {".git", ".dvc-cache"}


def top_of(root: Path) -> Path:
    """The repository's top directory (the project's own when it is not in git)."""
    try:
        return Path(git.run("rev-parse", "--show-toplevel", cwd=root))
    except GitError:
        return root


def _is_venv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


@contextlib.contextmanager
def workspace(root: Path, skip: tuple[str, ...] = ()) -> Iterator[Path]:
    """A throw-away copy of the repository holding `root`; yields the copy of `root`."""
    top = top_of(root)
    linked: list[str] = []

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        dropped = {n for n in names if n in SKIP or n in skip}
        if here.name == ".dvc":
            dropped |= {"cache", "tmp"} & set(names)
        for name in names:
            if name not in dropped and _is_venv(here / name):
                dropped.add(name)
                linked.append(os.path.relpath(here / name, top))
        return dropped

    with tempfile.TemporaryDirectory(prefix="mlops-trial-") as tmp:
        copy = Path(tmp) / top.name
        if (top / ".git").exists():
            git.run("clone", "--quiet", "--shared", "--no-checkout", str(top), str(copy))
        shutil.copytree(top, copy, ignore=ignore, symlinks=True, dirs_exist_ok=True)
        if (copy / ".git").exists():
            git.run("reset", "--quiet", cwd=copy)  # the index as HEAD, the files as copied
        for rel in linked:
            (copy / rel).symlink_to(top / rel, target_is_directory=True)
        for project in {top, root}:
            _share_dvc_cache(project, copy / os.path.relpath(project, top))
        yield copy / os.path.relpath(root, top)


def _share_dvc_cache(original: Path, copy: Path) -> None:
    """The copy's DVC project uses the original's cache (unless its config names one)."""
    cache = original / ".dvc" / "cache"
    local = copy / ".dvc" / "config.local"
    if not (original / ".dvc").is_dir():
        return
    texts = [p.read_text(encoding="utf-8") for p in (copy / ".dvc" / "config", local) if p.exists()]
    if any("[cache]" in text for text in texts):
        return
    with open(local, "a", encoding="utf-8") as fh:
        fh.write(f"\n[cache]\n    dir = {cache}\n")


def split_name(name: str, default_file: str) -> tuple[str, list[str]]:
    """`train.n_est` -> (params.yaml, [train, n_est]); `conf.yaml:lr` -> (conf.yaml, [lr])."""
    file, sep, key = name.rpartition(":")
    return (file if sep else default_file), key.split(".")


def apply(project: Path, overrides: Mapping[str, Any], default_file: str) -> list[str]:
    """Set each `name: value` in its params file under `project`, as `dvc exp run -S` does
    (YAML keeps its comments and layout; missing keys are created). Returns the files changed,
    relative to `project`."""
    by_file: dict[str, dict[tuple[str, ...], Any]] = {}
    for name, value in overrides.items():
        file, keys = split_name(name, default_file)
        by_file.setdefault(file, {})[tuple(keys)] = value
    for file, values in by_file.items():
        path = project / file
        if path.suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            for path_keys, value in values.items():
                _set(data, path_keys, value, file)
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        elif path.suffix in (".yaml", ".yml"):

            def change(
                data: Any, values: dict[tuple[str, ...], Any] = values, file: str = file
            ) -> None:
                for path_keys, value in values.items():
                    _set(data, path_keys, value, file)

            yaml12.edit(path, change)
        else:
            raise ConfigError(f"{file}: sweep params can be set in YAML or JSON params files only")
    return sorted(by_file)


def _set(data: Any, keys: tuple[str, ...], value: Any, file: str) -> None:
    node = data
    for i, key in enumerate(keys[:-1]):
        if not isinstance(node, dict):
            raise ConfigError(
                f"{file}: {'.'.join(keys[:i])}: not a mapping; cannot set {'.'.join(keys)}"
            )
        node = node.setdefault(key, {})
    if not isinstance(node, dict):
        raise ConfigError(
            f"{file}: {'.'.join(keys[:-1])}: not a mapping; cannot set {'.'.join(keys)}"
        )
    node[keys[-1]] = value
