"""What DVC's configuration says about a repository: its cache and its remotes.

Read the way DVC reads it (dvc/config.py): with configobj, level by level, each later file
winning key by key: the system file, the global file (`DVC_SYSTEM_CONFIG_DIR`,
`DVC_GLOBAL_CONFIG_DIR`, else platformdirs' directories for dvc), `.dvc/config` and
`.dvc/config.local`. A relative path in a file is relative to that file's directory; quoted
values come back without their quotes. A file that is missing, not UTF-8 or not valid counts
as empty here; dvc itself reports a broken config when a command of it runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

CONFIG_FILES = ("config", "config.local")
_NAMED = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')
_URL = re.compile(r"\w+://")


class Remote(NamedTuple):
    """A DVC remote: its name, its url as configured, and for a url without a scheme the
    directory it names (resolved against the directory of the file that set it)."""

    name: str
    url: str
    path: Path | None


@dataclass(frozen=True)
class DvcConfig:
    """The merged DVC config of the repository at `root`: {section: {option: value}}, a
    remote's section named `remote "NAME"` as in the file. `paths` holds the directory each
    path-valued option (`cache.dir`, a remote's `url`) is relative to."""

    root: Path
    sections: Mapping[str, Mapping[str, str]]
    paths: Mapping[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def dvc_dir(self) -> Path:
        return self.root / ".dvc"

    def get(self, section: str, option: str) -> str | None:
        return self.sections.get(section, {}).get(option)

    def _base(self, section: str, option: str) -> Path:
        return self.paths.get((section, option), self.dvc_dir)

    @property
    def cache_dir(self) -> Path:
        """`cache.dir` when set, else `.dvc/cache`."""
        configured = self.get("cache", "dir")
        if not configured:
            return self.dvc_dir / "cache"
        return (self._base("cache", "dir") / os.path.expanduser(configured)).resolve()

    def cache_object(self, md5: str, legacy: bool = False) -> Path:
        """Where the cache keeps the object with this md5: DVC 3's `files/md5/` layout, or the
        cache's top level for outputs recorded without `hash: md5` (DVC 2)."""
        base = self.cache_dir if legacy else self.cache_dir / "files" / "md5"
        return base / md5[:2] / md5[2:]

    def listing(self, md5: str, legacy: bool = False) -> list[dict[str, Any]] | None:
        """The cached listing of the directory output `md5` (a `.dir` hash); None when the
        cache lacks it or holds a corrupt copy."""
        try:
            raw = self.cache_object(md5, legacy).read_bytes()
        except FileNotFoundError:
            return None
        if hashlib.md5(raw).hexdigest() != md5.removesuffix(".dir"):
            return None
        entries = json.loads(raw)
        return entries if isinstance(entries, list) else None

    def remote(self, name: str | None = None) -> Remote | None:
        """The remote `name`, else the default one (`core.remote`); None when it is not set or
        not configured."""
        name = name or self.get("core", "remote")
        if not name:
            return None
        section = f'remote "{name}"'
        if section not in self.sections:
            return None
        url = self.get(section, "url") or ""
        path = None
        if not _URL.match(url):
            path = (self._base(section, "url") / os.path.expanduser(url)).resolve()
        return Remote(name, url, path)


def _text(value: Any) -> str:
    """configobj turns an unquoted `a, b` into a list; DVC's schema wants the text back."""
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def _parse(path: Path) -> dict[str, dict[str, str]]:
    from configobj import ConfigObj, ConfigObjError

    try:
        with path.open("rb") as stream:
            loaded = ConfigObj(stream).dict()
    except (OSError, UnicodeDecodeError, ConfigObjError):
        return {}
    found: dict[str, dict[str, str]] = {}
    for section, options in loaded.items():
        if not isinstance(options, dict):
            continue  # a key outside any section: DVC's schema refuses it
        named = _NAMED.match(section)
        key = f'{named[1].lower()} "{named[2]}"' if named else section.lower()
        found[key] = {
            str(k).lower(): _text(v) for k, v in options.items() if not isinstance(v, dict)
        }
    return found


def config_dirs() -> tuple[Path, Path]:
    """The system and global config directories, as dvc/dirs.py finds them."""
    import platformdirs

    system = os.getenv("DVC_SYSTEM_CONFIG_DIR") or platformdirs.site_config_dir("dvc", "iterative")
    user = os.getenv("DVC_GLOBAL_CONFIG_DIR") or platformdirs.user_config_dir("dvc", "iterative")
    return Path(system), Path(user)


def read_config(root: Path) -> DvcConfig:
    """The DVC config of the repository whose top directory (the one holding `.dvc/`) is
    `root`; read once by each caller and passed on."""
    system, user = config_dirs()
    files = [system / "config", user / "config", *(root / ".dvc" / n for n in CONFIG_FILES)]
    merged: dict[str, dict[str, str]] = {}
    paths: dict[tuple[str, str], Path] = {}
    for file in files:
        for section, options in _parse(file).items():
            merged.setdefault(section, {}).update(options)
            for option in options:
                if (section, option) == ("cache", "dir") or (
                    section.startswith("remote ") and option == "url"
                ):
                    paths[(section, option)] = file.parent.absolute()
    return DvcConfig(root, merged, paths)


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
    from mlops_actions import yaml12

    try:
        data = yaml12.load(text or "") or {}
    except yaml12.YamlError:
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
