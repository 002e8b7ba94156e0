"""A stat memo for data hashes: unchanged files are recognised without reading them again.

An entry maps a file to the md5 it had when it was last hashed, keyed by what the file system
says of it: device, inode, size, modification and change time (nanoseconds). The change time
cannot be set back by a user, so a file rewritten and `touch`ed to its old mtime is still hashed
again. A file whose stat differs from its entry is hashed in full; entries for files modified
within the last two seconds of hashing are not kept (a write in the same clock tick would be
missed: git's "racy" case). The memo lives in DVC's own untracked `.dvc/tmp/`; a memo that git
tracks (committed with `git add -f`) is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

from mlops_actions import git
from mlops_actions.util import write_text

MEMO = Path(".dvc") / "tmp" / "mlops-actions-md5.json"
VERSION = 1
RACY_SECONDS = 2.0

Key = tuple[int, int, int, int, int]


def _key(stat: os.stat_result) -> Key:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


class HashMemo:
    def __init__(self, path: Path | None, entries: dict[str, list[object]]) -> None:
        self.path = path  # None: remember nothing (no .dvc directory)
        self.entries = entries
        self.changed = False

    @classmethod
    def load(cls, root: Path) -> HashMemo:
        """The memo of the project at `root`; empty when absent, unreadable or git-tracked."""
        if not (root / ".dvc").is_dir():
            return cls(None, {})
        path = root / MEMO
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path, {})
        if not isinstance(data, dict) or data.get("version") != VERSION:
            return cls(path, {})
        entries = data.get("files")
        if not isinstance(entries, dict) or _tracked(root, path):
            return cls(path, {})
        return cls(path, entries)

    def md5(self, path: Path, legacy: bool, compute: Callable[[Path, bool], str]) -> str:
        """The md5 of `path` (DVC 2's text normalisation with `legacy`), from the memo when the
        file is unchanged since it was hashed, else computed and remembered."""
        stat = path.stat()
        name = f"{'legacy:' if legacy else ''}{path.resolve()}"
        entry = self.entries.get(name)
        if isinstance(entry, list) and len(entry) == 2:
            recorded, digest = entry
            if isinstance(recorded, list) and tuple(recorded) == _key(stat):
                return str(digest)
        digest = compute(path, legacy)
        after = path.stat()
        if _key(after) == _key(stat) and time.time() - after.st_mtime > RACY_SECONDS:
            self.entries[name] = [list(_key(stat)), digest]
        else:
            self.entries.pop(name, None)
        self.changed = True
        return digest

    def save(self) -> None:
        """Write the memo atomically, dropping entries for files that are gone."""
        if self.path is None or not self.changed:
            return
        live = {
            name: entry
            for name, entry in self.entries.items()
            if os.path.exists(name.removeprefix("legacy:"))
        }
        with contextlib.suppress(OSError):  # a read-only checkout only loses the speed-up
            write_text(self.path, json.dumps({"version": VERSION, "files": live}))
        self.changed = False


def _tracked(root: Path, path: Path) -> bool:
    rel = os.path.relpath(path, root)
    return bool(git.run("ls-files", "--", rel, cwd=root, check=False))
