"""What a DVC repository's own configuration says: its cache and its default remote.

`.dvc/config` then `.dvc/config.local` (the local file wins key by key), read the way DVC
reads them: paths in them are relative to `.dvc/`. A file that is missing, not UTF-8 or not
INI counts as empty here; dvc itself reports a broken config when a command of it runs.
"""

from __future__ import annotations

import configparser
import os
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


def dvc_command() -> list[str]:
    """How to start DVC so that nothing in the checkout can stand in for it: `python -m dvc`
    from the project directory would import a `dvc/` package committed there first. Python
    3.11's -P leaves the working directory off sys.path; before 3.11, the console script beside
    this interpreter (its sys.path starts at its own directory)."""
    if sys.version_info >= (3, 11):
        return [sys.executable, "-P", "-m", "dvc"]
    script = Path(sys.executable).with_name("dvc")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dvc"]


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
