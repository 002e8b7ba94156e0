"""Single files in a DVC remote, content-addressed by md5 in DVC 3's layout (`files/md5/xx/…`),
the place `dvc push` puts an output's object: so a model registered from any mode can be
fetched back by its md5, by us or by DVC's own tools.

A remote that is a plain directory is read and written directly; any other remote (s3, gs,
ssh, …) through DVC's object database for it, with the credentials DVC would use.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlops_actions.dvcio import repo as dvcrepo
from mlops_actions.dvcio.repo import Remote
from mlops_actions.errors import DataError
from mlops_actions.util import atomic_path


def remote(root: Path, name: str | None = None) -> Remote | None:
    """The remote `name` (else the default one) of the DVC repository at `root`; None when the
    project has no `.dvc/` or no such remote."""
    if not (root / ".dvc").is_dir():
        return None
    return dvcrepo.read_config(root).remote(name)


def _object(base: Path, md5: str, legacy: bool = False) -> Path:
    """Where a remote (or cache) directory keeps an object: DVC 3's `files/md5/`, or the top
    level for an output recorded without `hash: md5` (DVC 2)."""
    return (base if legacy else base / "files" / "md5") / md5[:2] / md5[2:]


def lacking(root: Path, found: Remote, objects: Sequence[tuple[str, bool]]) -> set[str] | None:
    """Of `objects` (md5, legacy), the md5s the remote `found` does not hold; None when the
    remote cannot be asked. A directory remote is looked at directly; any other through DVC's
    object database (DVC 2 objects there are not checked)."""
    if found.path is not None:
        return {md5 for md5, legacy in objects if not _object(found.path, md5, legacy).is_file()}
    wanted = sorted({md5 for md5, legacy in objects if not legacy})
    if not wanted:
        return set()
    try:
        present = set(_odb(root, found.name).oids_exist(wanted))
    except Exception:  # DVC's and the cloud libraries' errors have no common base
        return None
    return set(wanted) - present


def _odb(root: Path, name: str) -> Any:
    from dvc.repo import Repo

    repo = Repo(str(root))
    return repo.cloud.get_remote_odb(name, "push")


def push_file(root: Path, path: Path, md5: str, found: Remote) -> None:
    """Store `path` (whose md5 is `md5`) in the remote `found` unless it holds it already."""
    try:
        if found.path is not None:
            target = _object(found.path, md5)
            if not target.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(target) as tmp:
                    shutil.copyfile(path, tmp)
            return
        from dvc_objects.fs.local import LocalFileSystem

        odb = _odb(root, found.name)
        if not odb.exists(md5):
            odb.add(os.fspath(path), LocalFileSystem(), md5)  # type: ignore[no-untyped-call]
    except Exception as exc:  # DVC's and the cloud libraries' errors have no common base
        raise DataError(
            f"{os.path.relpath(path, root)}: could not store it in the DVC remote "
            f"'{found.name}' ({exc}); check the remote's URL and write access, then re-run"
        ) from None


def fetch(root: Path, md5: str, dest: Path, found: Remote, *, legacy: bool = False) -> bool:
    """Copy the object `md5` of the remote `found` to `dest`; False when the remote lacks it.
    `legacy`: a DVC 2 object (only a directory remote has them looked up)."""
    if found.path is not None:
        source = _object(found.path, md5, legacy)
        if not source.is_file():
            return False
        shutil.copyfile(source, dest)
        return True
    try:
        odb = _odb(root, found.name)
        if not odb.exists(md5):
            return False
        odb.fs.get_file(odb.oid_to_path(md5), os.fspath(dest))
    except Exception as exc:  # as above
        raise DataError(
            f"the DVC remote '{found.name}' could not be read ({exc}); check its URL and "
            "credentials"
        ) from None
    return True


def committed(root: Path, commit: str, rel: str) -> str | None:
    """A file at `commit` (`rel` relative to `root`), or None when it is not there."""
    from mlops_actions import git
    from mlops_actions.errors import GitError

    try:
        return git.run("show", f"{commit}:./{rel}", cwd=root)
    except GitError:
        return None


def recorded_md5(root: Path, commit: str, rel: str) -> str | None:
    """The md5 DVC records at `commit` for the output `rel` (relative to `root`): in that
    commit's dvc.lock, else in `rel`.dvc; None when DVC does not track it there."""
    from mlops_actions import yaml12

    rel = os.path.normpath(rel).replace(os.sep, "/")
    found = dvcrepo.lock_outs(committed(root, commit, dvcrepo.LOCK_FILE)).get(rel)
    if found:
        return found
    try:
        data = yaml12.load(committed(root, commit, f"{rel}.dvc") or "")
    except yaml12.YamlError:
        return None
    outs = data.get("outs") if isinstance(data, dict) else None
    if isinstance(outs, list) and len(outs) == 1 and isinstance(outs[0], dict):
        md5 = outs[0].get("md5")
        return md5 if isinstance(md5, str) and not md5.endswith(".dir") else None
    return None
