"""Getting a registered model file: where it may be found (the sources) and `get`, which
resolves a reference and writes the first candidate whose sha256 matches the tag's.

The sha256 a file must have is the one its version's first registration recorded, or for
NAME#STAGE the one the assignment tag recorded (the bytes that were approved for the stage).
A version whose registrations disagree on the hash, an assignment that disagrees with the
version it assigns, or a tag field that is not what we write is refused: never guessed.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mlops_actions import output
from mlops_actions import tag as tags
from mlops_actions.config.settings import Config
from mlops_actions.dvcio import repo, store
from mlops_actions.dvcio.data import file_md5
from mlops_actions.errors import DataError, MlopsError
from mlops_actions.github.types import MAX_ASSET_SIZE
from mlops_actions.registry.state import Model, ModelVersion, find_model
from mlops_actions.training.cache import ENTRY
from mlops_actions.util import atomic_path, file_hash

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub


class ModelSource(Protocol):
    """A place a registered model file may be found: `candidates` yields paths that may hold
    the file with `sha256`; `get` copies and verifies each until one matches."""

    label: str
    hint: str | None  # after `candidates`: why it had no file, and what to do (or None)

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]: ...


class RunCacheSource:
    """The run cache: runs/<fingerprint>/ first, then every entry whose model has the hash."""

    label = "run cache"
    hint: str | None = None

    def __init__(self, cfg: Config) -> None:
        self.runs = cfg.cache_dir / "runs"

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        first = version.info.fingerprint if version.info else None
        entries = [self.runs / first / ENTRY] if first else []
        with contextlib.suppress(OSError):
            entries += sorted(p for p in self.runs.glob(f"*/{ENTRY}") if p not in entries)
        for entry in entries:
            try:
                meta = json.loads(entry.read_text(encoding="utf-8"))["files"]["model"]
                if meta["sha256"] == sha256:
                    yield entry.parent / meta["name"]
            except (OSError, ValueError, KeyError, TypeError):
                continue


class WorkspaceSource:
    """The model file in the workspace (train.model), if it is the registered one."""

    label = "workspace"
    hint: str | None = None

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        path = self.cfg.resolve(self.cfg.train.model)
        if path.is_file() and file_hash(path) == sha256:
            yield path


class ReleaseSource:
    """The asset of the version's GitHub release (`promote --release` uploads it)."""

    label = "GitHub release"
    hint: str | None = None

    def __init__(self, gh: GitHub) -> None:
        self.gh = gh

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        release = self.gh.get_release_by_tag(version.tag) if version.tag else None
        for asset in release.get("assets", []) if release else []:
            if asset.get("size", 0) > MAX_ASSET_SIZE:
                continue  # GitHub holds no model asset this large: not ours
            with tempfile.TemporaryDirectory(prefix="mlops-asset-") as tmp:
                # A fixed name: an asset's name is the uploader's text and must never form a path.
                path = Path(tmp) / "asset"
                path.write_bytes(self.gh.download_release_asset(asset["id"]))
                yield path


class _DvcObjects:
    """An object by its md5: DVC's local cache, then the DVC remote (read into a temp dir)."""

    label = "DVC"

    def __init__(self, cfg: Config) -> None:
        self.root = cfg.root
        self.hint: str | None = None

    def _objects(self, what: str, md5: str, remote: str | None, fix: str) -> Iterator[Path]:
        if (self.root / ".dvc").is_dir():
            local = repo.read_config(self.root).cache_object(md5)
            if local.is_file() and file_md5(local) == md5:
                yield local
        found = store.remote(self.root, remote)
        if found is None:
            named = f" '{remote}'" if remote else ""
            self.hint = (
                f"{what} (md5 {md5[:12]}) is not in the local DVC cache and the project has no "
                f"DVC remote{named} to fetch it from; configure it with `dvc remote add -d`"
            )
            return
        with tempfile.TemporaryDirectory(prefix="mlops-dvc-") as tmp:
            path = Path(tmp) / Path(what).name
            try:
                fetched = store.fetch(self.root, md5, path, found)
            except DataError as exc:
                self.hint = str(exc)
                return
            if not fetched:
                self.hint = f"the DVC remote '{found.name}' lacks {what} (md5 {md5[:12]}); {fix}"
            elif file_md5(path) != md5:
                self.hint = (
                    f"the DVC remote '{found.name}' holds a corrupt copy of {what} "
                    f"(md5 {md5[:12]}); push it again from a clone that has it"
                )
            else:
                yield path


class DvcOutputSource(_DvcObjects):
    """A model that is a DVC output at the version's commit (its dvc.lock, or a .dvc file):
    the object DVC records there, as `dvc get . PATH --rev TAG` would fetch it."""

    label = "DVC cache or remote"

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        info = version.info
        path = info.model_path if info else None
        md5 = store.recorded_md5(self.root, version.commit, path) if path else None
        if path and md5:
            remote = info.dvc_remote if info else None
            fix = "push it with `dvc push --run-cache` from a clone that has it"
            yield from self._objects(path, md5, remote, fix)


class DvcRemoteSource(_DvcObjects):
    """A model file promote stored in the DVC remote by its md5 (`TagInfo.model_store`)."""

    label = "DVC remote"
    stored_as = "dvc-remote"  # the TagInfo.model_store of such a model (tag.STORES)

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        info = version.info
        if info and info.model_store == self.stored_as and info.model_md5 and info.model_path:
            fix = (
                f"copy it there from a clone whose run cache has it, as "
                f"files/md5/{info.model_md5[:2]}/{info.model_md5[2:]}"
            )
            yield from self._objects(info.model_path, info.model_md5, info.dvc_remote, fix)


def default_sources(cfg: Config, gh: GitHub | None = None) -> list[ModelSource]:
    """The run cache and the workspace, then DVC's cache and remote; with a GitHub client,
    the release asset last."""
    sources: list[ModelSource] = [
        RunCacheSource(cfg),
        WorkspaceSource(cfg),
        DvcOutputSource(cfg),
        DvcRemoteSource(cfg),
    ]
    return [*sources, ReleaseSource(gh)] if gh is not None else sources


@dataclass(frozen=True)
class GetResult:
    name: str
    version: str
    path: Path
    sha256: str
    source: str


def resolve(ref: str, *, cwd: str | Path | None = None) -> ModelVersion:
    """NAME@vX.Y.Z, NAME#STAGE (its current version), NAME or NAME@latest."""
    return _resolve(ref, cwd)[0]


def _resolve(ref: str, cwd: str | Path | None) -> tuple[ModelVersion, Model, tags.Ref]:
    try:
        r = tags.parse_ref(ref)
    except ValueError as exc:
        raise MlopsError(str(exc)) from None
    model = find_model(r.name, cwd=cwd)
    if model is None:
        raise MlopsError(f"{ref}: no model '{r.name}' in the registry (no {r.name}@v* tags)")
    if r.stage:
        if r.stage not in model.stages:
            have = ", ".join(model.stages) or "none"
            raise MlopsError(
                f"{ref}: no version of {r.name} is in stage '{r.stage}' (stages: {have})"
            )
        found: ModelVersion | None = model.in_stage[r.stage]  # that one, whatever its name
    elif r.version:
        found = model.find(r.version)
    else:
        found = model.latest()
    if found is None:
        latest = model.latest()
        hint = f"; the latest is {latest.version}" if latest else ""
        raise MlopsError(f"{ref}: no such version of {r.name}{hint}")
    return found, model, r


def _short(sha: str | None) -> str:
    return f"sha256 {sha[:12]}" if sha else "no sha256"


def expected(ref: str, *, cwd: str | Path | None = None) -> tuple[ModelVersion, str]:
    """The version `ref` names and the sha256 its file must have; a one-line MlopsError when
    the registry cannot say which bytes are meant (conflicting registrations, an assignment
    that records other bytes than its version, a malformed tag field, no hash at all)."""
    v, model, r = _resolve(ref, cwd)
    assigned = model.assignments.get(r.stage) if r.stage else None
    for tag, info in ((v.tag, v.info), *([assigned] if assigned else [])):
        problem = tags.check_info(info) if info else None
        if problem:
            raise MlopsError(
                f"{ref}: tag {tag}: {problem}; mlops-actions never writes such a tag: delete it"
            )
    # A stage is bound to its commit's version: only a conflict there matters to it.
    conflicts = [c for c in v.conflicts if not r.stage or c.commit == v.commit]
    if conflicts:
        c = conflicts[0]
        one, two = v.tag, c.tag
        if c.commit != v.commit:
            one, two = f"{one} (commit {v.commit[:7]})", f"{two} (commit {c.commit[:7]})"
        raise MlopsError(
            f"{ref}: {one} and {two} register {v.name}@{v.version} with different "
            f"files ({_short(v.sha256)}, {_short(c.sha256)}): the registry holds conflicting "
            "tags; delete the one that was not approved (`git push --delete origin TAG`)"
        )
    sha = v.sha256
    if assigned is not None and assigned.info and assigned.info.model_sha256:
        if sha is not None and assigned.info.model_sha256 != sha:
            raise MlopsError(
                f"{ref}: {assigned.tag} assigns {v.name}@{v.version} with "
                f"{_short(assigned.info.model_sha256)}, but {v.tag} recorded {_short(sha)}: "
                "the registry holds conflicting tags; delete the one that was not approved"
            )
        sha = assigned.info.model_sha256
    if not sha:
        raise MlopsError(
            f"{ref}: {v.tag or v.commit[:7]} records no model sha256 (not made by "
            "`mlops-actions promote`?), so the file cannot be verified"
        )
    return v, sha


class _Mismatch(Exception):
    pass


def get(
    cfg: Config,
    ref: str,
    out: str | Path | None = None,
    *,
    sources: Sequence[ModelSource] | None = None,
) -> GetResult:
    """Write the registered model file of `ref` to `out`, verified against its sha256."""
    v, sha = expected(ref, cwd=cfg.root)
    label = f"{v.name}@{v.version}"
    if out is None:
        suffix = Path(v.info.model_path or cfg.train.model).suffix if v.info else ""
        out = f"{v.name.replace('/', '-').replace(':', '-')}-{v.version}{suffix}"
    target = Path(out)
    mismatched: list[str] = []
    sources = sources if sources is not None else default_sources(cfg)
    for source in sources:
        for path in source.candidates(v, sha):
            try:
                with atomic_path(target) as tmp:
                    shutil.copyfile(path, tmp)
                    actual = file_hash(tmp)
                    if actual != sha:
                        raise _Mismatch(actual)
            except _Mismatch as exc:
                mismatched.append(f"{path} ({source.label}) has sha256 {str(exc)[:12]}")
                output.warning(
                    f"{path}: not the file registered as {label} "
                    f"(sha256 {str(exc)[:12]}, expected {sha[:12]}); skipped"
                )
                continue
            except OSError as exc:
                output.warning(f"{path}: cannot be read ({exc.strerror}); skipped")
                continue
            return GetResult(v.name, v.version, target, sha, source.label)
    if mismatched:
        raise MlopsError(
            f"{label}: {'; '.join(mismatched)}, but the tag records {sha[:12]}: the file was "
            f"changed after it was registered; delete it and retrain at {v.commit[:7]} "
            "with `mlops-actions train --no-cache`"
        )
    hints = [source.hint for source in sources if source.hint]
    if hints:
        raise MlopsError(f"{label}: {hints[-1]}")
    raise MlopsError(
        f"{label}: no file with sha256 {sha[:12]} in the run cache ({cfg.cache_dir}) or the "
        f"workspace ({cfg.train.model}); check out {v.commit[:7]} and run `mlops-actions train`"
    )
