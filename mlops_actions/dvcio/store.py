"""Single files in a DVC remote, content-addressed by md5 in DVC 3's layout (`files/md5/xx/…`),
the place `dvc push` puts an output's object: so a model registered from any mode can be
fetched back by its md5, by us or by DVC's own tools.

A remote that is a plain directory is read and written directly; any other remote (s3, gs,
ssh, …) through DVC's object database for it, with the credentials DVC would use.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.dvcio import repo as dvcrepo
from mlops_actions.dvcio.repo import DvcConfig, Remote
from mlops_actions.errors import DataError
from mlops_actions.util import atomic_path

if TYPE_CHECKING:
    from mlops_actions.dvcio.data import Output


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


def unpushed(
    root: Path,
    outs: list[Output],
    config: DvcConfig,
    remote: str | None = None,
    *,
    deep: bool = False,
) -> tuple[str, ...]:
    """The paths (relative to `root`) whose data the DVC remote `remote` (else the default
    one) lacks; () when the remote is not configured or cannot be asked.

    An output's own object is asked first (a file, or a directory's listing: a changed
    directory has a new one, and `dvc push` sends it last). The files of a directory whose
    listing the remote lacks are then asked to name them; `deep` asks every directory's files
    (the listing from the cache, else from the remote), to find one a remote lost.
    """
    found = config.remote(remote)
    if found is None:
        return ()
    pushed = [o for o in outs if o.pushed]
    lacks = lacking(root, found, [(o.md5, o.legacy) for o in pushed])
    if lacks is None:
        return ()
    paths: list[str] = []
    for out in pushed:
        rel = os.path.relpath(out.path, root)
        if not out.is_dir or (out.md5 not in lacks and not deep):
            paths += [rel] if out.md5 in lacks else []
            continue
        listing = config.listing(out.md5, out.legacy) or (
            _remote_listing(root, found, out) if deep else []
        )
        files = [
            (os.path.join(rel, e["relpath"]), e["md5"])
            for e in listing
            if isinstance(e.get("md5"), str) and isinstance(e.get("relpath"), str)
        ]
        missing = lacking(root, found, [(md5, out.legacy) for _, md5 in files]) or set()
        named = [path for path, md5 in files if md5 in missing]
        # A directory's files say more than its listing does.
        paths += named or ([rel] if out.md5 in lacks else [])
    return tuple(paths)


def _remote_listing(root: Path, found: Remote, out: Output) -> list[dict[str, Any]]:
    """A directory's listing as the remote holds it (a fresh clone's cache has none); [] when
    the remote lacks it or cannot be read."""
    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "listing"
        try:
            if not fetch(root, out.md5, dest, found, legacy=out.legacy):
                return []
            entries = json.loads(dest.read_bytes())
        except (DataError, OSError, ValueError):
            return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
