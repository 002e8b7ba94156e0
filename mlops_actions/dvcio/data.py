"""The DVC-versioned data: read .dvc files, pull with dvc, verify every file's hash.

Verification is our own (plain md5, as DVC 3 records it; DVC 2's text normalisation for
.dvc files without ``hash: md5``). Unchanged files are recognised by a stat memo
(hashmemo.py) whose key includes the change time, so a file rewritten and given back its old
mtime is still hashed in full.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import output
from mlops_actions.dvcio import failure, repo
from mlops_actions.dvcio.hashmemo import HashMemo
from mlops_actions.dvcio.repo import DvcConfig
from mlops_actions.errors import ConfigError, DataError

# DVC's message, whole (monitoring, retraining and DVC mode call it by this name).
last_line = failure.dvc_message

_CHUNK = 1 << 20
_TEXT_CHARS = bytes(range(32, 127)) + b"\n\r\t\f\b"


@dataclass(frozen=True)
class Output:
    """One `outs:` entry of a .dvc file."""

    dvc_file: str
    path: Path
    md5: str
    size: int | None
    nfiles: int | None
    legacy: bool
    # Whether `dvc push` puts it in the remote: not an import (its data comes from its source),
    # nor an output with `push: false` or `cache: false`.
    pushed: bool = True

    @property
    def is_dir(self) -> bool:
        return self.md5.endswith(".dir")


@dataclass(frozen=True)
class PullResult:
    """`unpushed`: for a workspace that was up to date, the outputs the DVC remote `remote`
    lacks (added but never pushed: a fresh clone cannot pull them); `remote` is None when no
    remote is configured."""

    outputs: list[Output]
    pulled: bool
    files: int
    size: int
    remote: str | None = None
    unpushed: tuple[str, ...] = ()


def read_dvc_file(path: Path, root: Path) -> list[Output]:
    from mlops_actions import yaml12

    rel = os.path.relpath(path, root)
    try:
        data = yaml12.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(
            f"{rel}: not found; track the data with `dvc add` or set mlops.data.dvc in params.yaml"
        ) from None
    except (yaml12.YamlError, UnicodeDecodeError) as exc:
        raise DataError(f"{rel}: not a valid .dvc file: {exc}") from None
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list) or not outs:
        raise DataError(f"{rel}: has no 'outs' entry; re-create it with `dvc add`")
    result = []
    for i, out in enumerate(outs):
        if not isinstance(out, dict) or "path" not in out:
            raise DataError(f"{rel}: outs[{i}] has no path")
        md5 = out.get("md5")
        if not isinstance(md5, str) or not re.fullmatch(r"[0-9a-f]{32}(\.dir)?", md5):
            raise DataError(
                f"{rel}: outs[{i}] has no md5 hash; only md5-hashed outputs are supported"
            )
        result.append(
            Output(
                dvc_file=rel,
                path=(path.parent / out["path"]).resolve(),
                md5=md5,
                size=out.get("size"),
                nfiles=out.get("nfiles"),
                legacy=out.get("hash") != "md5",
                pushed=not data.get("deps")
                and out.get("push") is not False
                and out.get("cache") is not False,
            )
        )
    return result


def _is_text(block: bytes) -> bool:
    if not block:
        return True
    if b"\x00" in block:
        return False
    return len(block.translate(None, _TEXT_CHARS)) / len(block) <= 0.30


def file_md5(path: Path, legacy: bool = False) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        first = f.read(_CHUNK)
        normalise = legacy and _is_text(first[:8192])
        chunk = first
        while chunk:
            digest.update(chunk.replace(b"\r\n", b"\n") if normalise else chunk)
            chunk = f.read(_CHUNK)
    return digest.hexdigest()


def _manifest(config: DvcConfig, out: Output) -> list[dict[str, Any]] | None:
    obj = config.cache_object(out.md5, out.legacy)
    try:
        raw = obj.read_bytes()
    except FileNotFoundError:
        return None
    if hashlib.md5(raw).hexdigest() != out.md5[: -len(".dir")]:
        return None
    entries = json.loads(raw)
    return entries if isinstance(entries, list) else None


@dataclass(frozen=True)
class Problem:
    path: Path
    missing: bool
    detail: str
    expected: str = ""
    legacy: bool = False
    actual: str = ""


def verify(
    root: Path, out: Output, config: DvcConfig | None = None, memo: HashMemo | None = None
) -> tuple[list[Problem], int, int]:
    """Check `out` in the workspace; returns (problems, file count, bytes). `config`: the
    repository's DVC config, when the caller has read it already; `memo`: the stat memo that
    spares re-reading unchanged files (none: every file is hashed)."""
    md5 = file_md5 if memo is None else lambda p, legacy: memo.md5(p, legacy, file_md5)
    if not out.is_dir:
        if not out.path.is_file():
            return [Problem(out.path, True, "missing")], 0, 0
        actual = md5(out.path, out.legacy)
        if actual != out.md5:
            detail = f"md5 {actual} but {out.dvc_file} records {out.md5}"
            return [Problem(out.path, False, detail, out.md5, out.legacy, actual)], 1, 0
        return [], 1, out.path.stat().st_size
    entries = _manifest(config or repo.read_config(root), out)
    if entries is None:
        return [Problem(out.path, True, "directory listing not in the DVC cache")], 0, 0
    problems, files, size = [], 0, 0
    for entry in entries:
        path = out.path / entry["relpath"]
        if not path.is_file():
            problems.append(Problem(path, True, "missing"))
            continue
        actual = md5(path, out.legacy)
        if actual != entry["md5"]:
            detail = f"md5 {actual} but {out.dvc_file} records {entry['md5']}"
            problems.append(Problem(path, False, detail, entry["md5"], out.legacy, actual))
            continue
        files += 1
        size += path.stat().st_size
    return problems, files, size


def outputs(root: Path, dvc_files: list[str]) -> list[Output]:
    result: list[Output] = []
    for name in dvc_files:
        result.extend(read_dvc_file(root / name, root))
    return result


def _verify_all(
    root: Path, outs: list[Output], config: DvcConfig
) -> tuple[list[Problem], int, int]:
    problems, files, size = [], 0, 0
    memo = HashMemo.load(root)
    for out in outs:
        p, f, s = verify(root, out, config, memo)
        problems += p
        files += f
        size += s
    memo.save()
    return problems, files, size


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
    from mlops_actions.dvcio import store

    found = config.remote(remote)
    if found is None:
        return ()
    pushed = [o for o in outs if o.pushed]
    lacks = store.lacking(root, found, [(o.md5, o.legacy) for o in pushed])
    if lacks is None:
        return ()
    paths: list[str] = []
    for out in pushed:
        rel = os.path.relpath(out.path, root)
        if not out.is_dir or (out.md5 not in lacks and not deep):
            paths += [rel] if out.md5 in lacks else []
            continue
        listing = _manifest(config, out) or (_remote_manifest(root, found, out) if deep else [])
        files = [
            (os.path.join(rel, e["relpath"]), e["md5"])
            for e in listing
            if isinstance(e.get("md5"), str) and isinstance(e.get("relpath"), str)
        ]
        missing = store.lacking(root, found, [(md5, out.legacy) for _, md5 in files]) or set()
        named = [path for path, md5 in files if md5 in missing]
        # A directory's files say more than its listing does.
        paths += named or ([rel] if out.md5 in lacks else [])
    return tuple(paths)


def _remote_manifest(root: Path, found: repo.Remote, out: Output) -> list[dict[str, Any]]:
    """A directory's listing as the remote holds it (a fresh clone's cache has none); [] when
    the remote lacks it or cannot be read."""
    import tempfile

    from mlops_actions.dvcio import store

    with tempfile.TemporaryDirectory() as tmp:
        dest = Path(tmp) / "listing"
        try:
            if not store.fetch(root, out.md5, dest, found, legacy=out.legacy):
                return []
            entries = json.loads(dest.read_bytes())
        except (DataError, OSError, ValueError):
            return []
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def run_dvc(
    args: list[str], cwd: Path, timeout: float | None = None
) -> subprocess.CompletedProcess[str]:
    from mlops_actions import stepfiles

    env = output.child_env({"DVC_NO_ANALYTICS": "1"})
    # The user's own dvc (their environment's, which a pull request's requirements may change)
    # is their code: it gets scratch step files, as the training does.
    with stepfiles.scratch(env, "dvc"):
        return subprocess.run(
            [*repo.dvc_command(), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )


def pull(
    root: Path,
    dvc_files: list[str],
    remote: str | None = None,
    jobs: int | None = None,
    force: bool = False,
) -> PullResult:
    """Make the workspace hold exactly the data the .dvc files record, or raise DataError."""
    outs = outputs(root, dvc_files)
    config = repo.read_config(root)
    problems, files, size = _verify_all(root, outs, config)
    if not problems and not force:
        # Up to date here; a fresh clone (CI) would fail on data that was never pushed.
        name = remote or config.get("core", "remote")
        lacks = unpushed(root, outs, config, remote) if name else ()
        return PullResult(outs, False, files, size, name, lacks)
    changed = [p for p in problems if not p.missing]
    # A file whose content is another version DVC already caches (after `git checkout` of an
    # older commit, say) loses nothing when replaced; anything else is the user's edit.
    edited = [p for p in changed if not config.cache_object(p.actual, p.legacy).is_file()]
    if edited:
        raise DataError(_mismatch(root, edited[0]))
    args = ["pull", *dvc_files] + (["--force"] if changed else [])
    if remote:
        args += ["--remote", remote]
    if jobs:
        args += ["--jobs", str(jobs)]
    proc = run_dvc(args, root)
    if proc.returncode != 0:
        absent = failure.missing_local_remote(config, remote)
        if absent:
            raise DataError(f"{', '.join(dvc_files)}: the DVC remote is unreachable: {absent}")
        text = proc.stderr if "ERROR:" in proc.stderr else proc.stderr + proc.stdout
        name = remote or config.get("core", "remote")
        ask = functools.partial(unpushed, root, outs, config, remote, deep=True)
        raise DataError(failure.pull_failure(text, dvc_files, ask, name))
    problems, files, size = _verify_all(root, outs, config)
    if problems:
        p = problems[0]
        rel = os.path.relpath(p.path, root)
        if p.missing:
            raise DataError(
                f"{rel}: still missing after dvc pull; the remote lacks it, run `dvc push` "
                "from the machine that has the data"
            )
        _discard_corrupt(root, config, problems)
        raise DataError(
            f"{rel}: the pulled copy does not match its .dvc file ({p.detail}); the remote "
            "holds a corrupt copy: push the data again from a good copy"
        )
    return PullResult(outs, True, files, size, remote or config.get("core", "remote"))


def _discard_corrupt(root: Path, config: DvcConfig, problems: list[Problem]) -> None:
    """Drop corrupt files and their cache objects: nothing trains on them, a rerun refetches."""
    for p in problems:
        if p.missing:
            continue
        config.cache_object(p.expected, p.legacy).unlink(missing_ok=True)
        p.path.unlink(missing_ok=True)
        output.warning(f"removed the corrupt copy of {os.path.relpath(p.path, root)}")


@dataclass(frozen=True)
class DataFile:
    """One verified input: a file or directory the training reads, with its DVC hash."""

    path: str  # relative to the project root
    dvc_file: str | None  # None for a file DVC does not track
    md5: str
    size: int | None
    nfiles: int | None


@dataclass(frozen=True)
class DataVersion:
    """The data a run trains on: part of the run-cache key, the model card and the tag."""

    files: tuple[DataFile, ...]

    def __contains__(self, path: object) -> bool:
        return any(f.path == path for f in self.files)

    def hashes(self) -> dict[str, str]:
        return {f.path: f.md5 for f in self.files}

    @property
    def dvc_files(self) -> list[str]:
        return sorted({f.dvc_file for f in self.files if f.dvc_file})

    def to_json(self) -> dict[str, dict[str, str | int | None]]:
        """The shape the model card records: {path: {dvc_file, md5, size, nfiles}}."""
        return {
            f.path: {"dvc_file": f.dvc_file, "md5": f.md5, "size": f.size, "nfiles": f.nfiles}
            for f in self.files
        }


def describe(root: Path, outs: list[Output]) -> DataVersion:
    """The data version of verified outputs."""
    return DataVersion(
        tuple(
            DataFile(os.path.relpath(o.path, root), o.dvc_file, o.md5, o.size, o.nfiles)
            for o in outs
        )
    )


def untracked(root: Path, path: str, name: str) -> DataVersion:
    """A table DVC does not track, versioned by its own md5; `name` is how params name it."""
    full = root / path
    if not full.is_file():
        raise ConfigError(f"{name}: '{path}' does not exist")
    return DataVersion((DataFile(path, None, file_md5(full), full.stat().st_size, 1),))


def check(root: Path, dvc_files: list[str]) -> list[Output]:
    """Verify the workspace against the .dvc files without pulling; raise on any difference."""
    outs = outputs(root, dvc_files)
    problems, _, _ = _verify_all(root, outs, repo.read_config(root))
    if problems:
        p = problems[0]
        rel = os.path.relpath(p.path, root)
        if p.missing:
            raise DataError(f"{rel}: missing; run `mlops-actions pull` first")
        raise DataError(_mismatch(root, p))
    return outs


def _mismatch(root: Path, p: Problem) -> str:
    return (
        f"{os.path.relpath(p.path, root)}: content does not match its .dvc file ({p.detail}); "
        "record the change with `dvc add`, or restore it with `dvc checkout --force`"
    )


def recorded(root: Path, dvc_files: list[str], path: Path) -> bool:
    """Whether `path` is a file the .dvc files record (itself, or in a directory's listing)."""
    target = path.resolve()
    config = repo.read_config(root)
    for out in outputs(root, dvc_files):
        if not out.is_dir:
            if out.path == target:
                return True
        elif out.path in target.parents:
            entries = _manifest(config, out) or []
            rel = target.relative_to(out.path).as_posix()
            if any(e.get("relpath") == rel for e in entries):
                return True
    return False
