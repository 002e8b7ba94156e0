"""Files DVC keeps out of git, read the way DVC's filesystem reads them: by the md5 that a
revision's dvc.lock or `.dvc` file records, from the local cache, else from the default remote.

A directory output is a `.dir` object (a JSON list of `{md5, relpath}`) naming each file's
object. A remote that is a local directory is read directly; any other remote (s3, gs, ...)
goes through dvc's own object database, imported only then, for the objects the cache lacks.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.dvcio import repo


@dataclass(frozen=True)
class Missing:
    """An object that is neither in the cache nor on the remote: which output, and why."""

    path: str
    md5: str
    remote: str | None  # the remote that was asked (None: no remote configured)
    why: str = ""
    uncached: bool = False  # a `cache: false` output: git keeps it, DVC never pushes it

    def hint(self) -> str:
        if self.uncached:
            return (
                "it is a `cache: false` output, which git keeps and DVC never pushes, and this "
                f"commit lacks it; commit it (`git add {self.path}`)"
            )
        if self.remote is None:
            return (
                f"its DVC object {self.md5} is not in the local cache and no DVC remote is "
                "configured; run `dvc push` to a default remote (`dvc remote add -d`) "
                "where it was produced"
            )
        why = f" ({self.why})" if self.why else ""
        return (
            f"its DVC object {self.md5} is neither in the local cache nor on remote "
            f"'{self.remote}'{why}; run `dvc push` where it was produced, or `dvc fetch`"
        )


class Objects:
    """DVC objects of one repository, by md5: the local cache, then the default remote."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._config: repo.DvcConfig | None = None
        self._dvc_repo: Any = None
        self.fetched: list[str] = []  # md5s read from a remote (for tests and notes)

    @property
    def config(self) -> repo.DvcConfig:
        if self._config is None:
            self._config = repo.read_config(self.root)
        return self._config

    def read(self, md5: str, legacy: bool) -> tuple[bytes | None, str]:
        """The object's bytes, or None and why not."""
        with contextlib.suppress(OSError):
            return self.config.cache_object(md5, legacy).read_bytes(), ""
        remote = self.config.remote()
        if remote is None:
            return None, ""
        if remote.path is not None:
            base = remote.path if legacy else remote.path / "files" / "md5"
            try:
                data = (base / md5[:2] / md5[2:]).read_bytes()
            except OSError:
                return None, "not found there"
            self.fetched.append(md5)
            return data, ""
        return self._read_with_dvc(remote.name, md5, legacy)

    def _read_with_dvc(self, name: str, md5: str, legacy: bool) -> tuple[bytes | None, str]:
        """A cloud remote: dvc's object database for it (dvc is imported only here)."""
        try:
            if self._dvc_repo is None:
                from dvc.repo import Repo

                self._dvc_repo = Repo(str(self.root))
            odb = self._dvc_repo.cloud.get_remote_odb(
                name, hash_name="md5-dos2unix" if legacy else "md5"
            )
            data = odb.fs.cat_file(odb.oid_to_path(md5))
        except ImportError:
            return None, "reading this remote needs dvc installed (`pip install dvc[s3]` etc.)"
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
        self.fetched.append(md5)
        return bytes(data), ""

    def close(self) -> None:
        if self._dvc_repo is not None:
            self._dvc_repo.close()
            self._dvc_repo = None


@dataclass
class DataIndex:
    """One revision's DVC-tracked outputs: root-relative path -> its dvc.lock/.dvc entry."""

    outs: dict[str, dict[str, Any]]
    objects: Objects
    missing: list[Missing] = field(default_factory=list)
    _manifests: dict[str, list[tuple[str, str]] | None] = field(default_factory=dict)

    def _owner(self, path: str) -> tuple[str, dict[str, Any]] | None:
        """The output that is `path` or holds it."""
        probe = path
        while True:
            if probe in self.outs:
                return probe, self.outs[probe]
            if probe in ("", ".") or "/" not in probe:
                return None
            probe = posixpath.dirname(probe)

    def _object(self, path: str, md5: str, legacy: bool) -> bytes | None:
        data, why = self.objects.read(md5, legacy)
        if data is None:
            remote = self.objects.config.remote()
            self.missing.append(Missing(path, md5, remote.name if remote else None, why))
        return data

    def _manifest(self, out: str, entry: dict[str, Any]) -> list[tuple[str, str]] | None:
        if out not in self._manifests:
            md5, legacy = str(entry.get("md5") or ""), entry.get("hash") != "md5"
            data = self._object(out, md5, legacy)
            listed: list[tuple[str, str]] | None = None
            if data is not None:
                with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                    listed = [(str(f["relpath"]), str(f["md5"])) for f in json.loads(data)]
            self._manifests[out] = listed
        return self._manifests[out]

    def isdir(self, path: str) -> bool:
        """`path` is a tracked directory, or a directory holding tracked outputs."""
        if any(out.startswith(f"{path}/") for out in self.outs):
            return True
        owned = self._owner(path)
        if owned is None:
            return False
        out, entry = owned
        if out == path:
            return str(entry.get("md5") or "").endswith(".dir")
        listed = self._manifest(out, entry) or []
        rel = posixpath.relpath(path, out)
        return any(name.startswith(f"{rel}/") for name, _ in listed)

    def files_under(self, path: str) -> list[str]:
        found: list[str] = []
        for out, entry in self.outs.items():
            inside = out.startswith(f"{path}/") or path in (".", "")
            holds = path.startswith(f"{out}/") or out == path
            if not (inside or holds):
                continue
            if not str(entry.get("md5") or "").endswith(".dir"):
                found += [out] if inside or out == path else []
                continue
            for rel, _ in self._manifest(out, entry) or []:
                full = posixpath.join(out, rel)
                if inside or full.startswith(f"{path}/"):
                    found.append(full)
        return found

    def read(self, path: str) -> bytes | None:
        """The content of a tracked file (or of a file inside a tracked directory)."""
        owned = self._owner(path)
        if owned is None:
            return None
        out, entry = owned
        md5 = str(entry.get("md5") or "")
        legacy = entry.get("hash") != "md5"
        if entry.get("cache") is False:
            self.missing.append(Missing(path, md5, None, uncached=True))
            return None
        if out == path:
            return None if md5.endswith(".dir") or not md5 else self._object(path, md5, legacy)
        if not md5.endswith(".dir"):
            return None
        rel = posixpath.relpath(path, out)
        for name, file_md5 in self._manifest(out, entry) or []:
            if name == rel:
                return self._object(path, file_md5, legacy)
        return None
