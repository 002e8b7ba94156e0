"""What a DVC repository's own configuration says: its cache and its default remote.

`.dvc/config` then `.dvc/config.local` (the local file wins key by key), read the way DVC
reads them: paths in them are relative to `.dvc/`. A file that is missing, not UTF-8 or not
INI counts as empty here; dvc itself reports a broken config when a command of it runs.
"""

from __future__ import annotations

import configparser
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

CONFIG_FILES = ("config", "config.local")


class Remote(NamedTuple):
    """A DVC remote: its name, its url as configured, and for a url without a scheme the
    directory it names (resolved against `.dvc/` when relative)."""

    name: str
    url: str
    path: Path | None


@dataclass(frozen=True)
class DvcConfig:
    """The merged DVC config of the repository at `root`: {section: {option: value}}."""

    root: Path
    sections: Mapping[str, Mapping[str, str]]

    @property
    def dvc_dir(self) -> Path:
        return self.root / ".dvc"

    def get(self, section: str, option: str) -> str | None:
        return self.sections.get(section, {}).get(option)

    @property
    def cache_dir(self) -> Path:
        """`cache.dir` when set, else `.dvc/cache`."""
        configured = self.get("cache", "dir")
        return (self.dvc_dir / configured).resolve() if configured else self.dvc_dir / "cache"

    def cache_object(self, md5: str, legacy: bool = False) -> Path:
        """Where the cache keeps the object with this md5: DVC 3's `files/md5/` layout, or the
        cache's top level for outputs recorded without `hash: md5` (DVC 2)."""
        base = self.cache_dir if legacy else self.cache_dir / "files" / "md5"
        return base / md5[:2] / md5[2:]

    def remote(self, name: str | None = None) -> Remote | None:
        """The remote `name`, else the default one (`core.remote`); None when it is not set or
        not configured."""
        name = name or self.get("core", "remote")
        if not name:
            return None
        section = self.sections.get(f"'remote \"{name}\"'")
        if section is None:
            return None
        url = section.get("url", "")
        path = None
        if "://" not in url:
            path = Path(url) if os.path.isabs(url) else (self.dvc_dir / url).resolve()
        return Remote(name, url, path)


def _parse(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return {}
    return {name: dict(parser.items(name)) for name in parser.sections()}


def read_config(root: Path) -> DvcConfig:
    """The DVC config of the repository whose top directory (the one holding `.dvc/`) is
    `root`; read once by each caller and passed on."""
    merged: dict[str, dict[str, str]] = {}
    for name in CONFIG_FILES:
        for section, options in _parse(root / ".dvc" / name).items():
            merged.setdefault(section, {}).update(options)
    return DvcConfig(root, merged)


def dvc_command(env: Mapping[str, str] | None = None) -> list[str]:
    """How to start DVC for the project: the user's own `dvc` when their PATH has one (their
    version and their remote plugins), else ours. Ours is started by our interpreter's absolute
    path with -I, never through PATH: the stages it runs keep the user's PATH (their `python`
    first), and nothing in the checkout (a committed `dvc/` package) or in the user's
    PYTHONPATH can stand in for a module of it. Only absolute PATH entries count: a relative
    one would name a file of the checkout."""
    path = (env if env is not None else os.environ).get("PATH", "")
    absolute = os.pathsep.join(d for d in path.split(os.pathsep) if os.path.isabs(d))
    theirs = shutil.which("dvc", path=absolute) if absolute else None
    return [theirs] if theirs else [sys.executable, "-I", "-m", "dvc"]


def ours(command: list[str]) -> bool:
    """Whether `command` (from dvc_command) starts our own dvc."""
    return command[0] == sys.executable


# -- dvc.lock --------------------------------------------------------------------------------

LOCK_FILE = "dvc.lock"


def lock_stages(text: str | None) -> dict[str, object]:
    """The stage entries of a dvc.lock's text ({} for none or an unreadable file)."""
    import yaml

    try:
        data = yaml.safe_load(text or "") or {}
    except yaml.YAMLError:
        return {}
    stages = data.get("stages") if isinstance(data, dict) else None
    return dict(stages) if isinstance(stages, dict) else {}


def lock_outs(text: str | None) -> dict[str, str]:
    """{output path (relative to dvc.lock's directory, posix): md5} of a dvc.lock's text."""
    found: dict[str, str] = {}
    for entry in lock_stages(text).values():
        outs = entry.get("outs") if isinstance(entry, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and isinstance(out.get("md5"), str) and out.get("path"):
                found[os.path.normpath(str(out["path"])).replace(os.sep, "/")] = out["md5"]
    return found


def changed_stages(committed: str | None, now: str | None) -> list[str]:
    """The stages whose dvc.lock entry differs between two versions of the file: the stages
    `dvc repro` re-ran because the committed lock did not describe them."""
    old, new = lock_stages(committed), lock_stages(now)
    return [name for name in new if old.get(name) != new[name]]
