"""The run cache: one directory of finished training runs, keyed by a fingerprint.

An entry is a directory ``runs/<fingerprint>/`` holding the run's files and ``entry.json``
(their sha256). It is built in a temp directory and renamed into place, so it is complete
or absent; an entry whose files do not match entry.json is removed and rebuilt, never used.

The hashes catch corruption, not forgery: anyone who can write the directory can write an
entry. So the cache lives outside the workspace by default, a directory holding files git
tracks (an entry committed with `git add -f`) is refused, and a promotion always retrains.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from mlops_actions import __version__, git, output
from mlops_actions.errors import ConfigError
from mlops_actions.util import file_hash

ENTRY = "entry.json"


def fingerprint(
    data_hashes: dict[str, str],
    params: dict[str, Any],
    code: list[Path],
    root: Path,
    versions: dict[str, str],
    mode: str,
) -> str:
    digest = hashlib.sha256()
    record = {
        "mode": mode,
        "data": data_hashes,
        "params": params,
        "code": {os.path.relpath(p, root): file_hash(p) for p in code},
        "versions": {**versions, "python": sys.version.split()[0], "mlops-actions": __version__},
    }
    digest.update(json.dumps(record, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def refuse_tracked(directory: Path, root: Path, key: str) -> None:
    """A ConfigError when git tracks a file under `directory`: such a cache came with the
    checkout (anyone's pull request), and its entries would stand in for training."""
    if not directory.is_dir():
        return
    top = git.run("rev-parse", "--show-toplevel", cwd=root, check=False)
    if not top or not directory.resolve().is_relative_to(Path(top).resolve()):
        return  # outside the repository: nothing in it comes from a commit
    listed = git.run("ls-files", "-z", "--", str(directory.resolve()), cwd=top, check=False)
    tracked = [name for name in listed.split("\0") if name]
    if tracked:
        raise ConfigError(
            f"{key}: {directory} holds {len(tracked)} file(s) tracked by git (e.g. "
            f"{tracked[0]}); a run cache from the repository is never used: run `git rm -r "
            "--cached` on it and ignore it, or unset mlops.cache.dir (the default is outside "
            "the workspace)"
        )


class RunCache:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.runs = directory / "runs"

    def entry(self, key: str) -> Path:
        return self.runs / key

    def lookup(self, key: str) -> dict[str, tuple[Path, str]] | None:
        """(cached file, workspace path) by role for a valid entry; None on a miss.

        A corrupt entry is removed, so the caller trains again and stores a good one.
        """
        entry = self.entry(key)
        manifest = entry / ENTRY
        if not manifest.is_file():
            return None
        try:
            files: dict[str, dict[str, str]] = json.loads(manifest.read_text())["files"]
            found = {}
            for role, meta in files.items():
                path = entry / meta["name"]
                if file_hash(path) != meta["sha256"]:
                    raise ValueError(f"{meta['name']} does not match its recorded hash")
                found[role] = (path, str(meta["target"]))
            if "metrics" not in found:
                raise ValueError("no metrics file")
            return found
        except (OSError, ValueError, KeyError, TypeError) as exc:
            output.warning(f"run cache entry {key[:12]} is corrupt ({exc}); training again")
            self._discard(entry)
            return None

    def store(self, key: str, files: dict[str, tuple[Path, str]]) -> bool:
        """Copy files (role -> (path, workspace path)) into a new entry.

        A cache that cannot be written costs a warning, never the run.
        """
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.runs))
        except OSError as exc:
            output.warning(
                f"run cache {self.dir} is not writable ({exc.strerror}); result not cached: "
                "make mlops.cache.dir in params.yaml a writable directory"
            )
            return False
        try:
            meta = {}
            for role, (src, target) in files.items():
                name = f"{role}{''.join(src.suffixes[-1:])}"
                shutil.copyfile(src, staging / name)
                meta[role] = {"name": name, "sha256": file_hash(staging / name), "target": target}
            (staging / ENTRY).write_text(json.dumps({"files": meta}, indent=2))
            final = self.entry(key)
            if final.exists():
                self._discard(final)
            os.rename(staging, final)
            return True
        except OSError as exc:
            output.warning(
                f"run cache {self.dir}: cannot store the run ({exc.strerror}); result not "
                "cached: free space there or point mlops.cache.dir in params.yaml elsewhere"
            )
            return False
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _discard(self, entry: Path) -> None:
        trash = entry.with_name(f".trash-{uuid.uuid4().hex}")
        with contextlib.suppress(OSError):
            os.rename(entry, trash)
            shutil.rmtree(trash, ignore_errors=True)
