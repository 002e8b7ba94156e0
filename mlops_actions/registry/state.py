"""The registry's state: GTO-format git tags, read in one `git for-each-ref`, as models.

State follows GTO's rules (`gto show`, default `--sort timestamp`):
- a version is active when its latest registration/deregistration tag is a registration;
- an assignment tag belongs to the version registered at the tag's commit (an unregistered
  commit becomes a version named by its hexsha, as in GTO);
- a stage points at the active version whose latest still-active assignment is newest.
"Newest" is the tagger date; GTO breaks same-second ties arbitrarily, we break them by the
tag's ``#N`` counter, then registration before deregistration, assignment before unassignment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, TypedDict

from mlops_actions import git
from mlops_actions import tag as tags
from mlops_actions.tag import Action, SemVer, TagInfo

# One record per tag: fields split by NUL (never in a tag message), records end in NUL+newline.
_FIELDS = (
    "%(refname:lstrip=2)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(creatordate:unix)",
    "%(creatordate:iso-strict)",
    "%(contents)",
)
_FORMAT = "%00".join(_FIELDS) + "%00"
_PRIORITY = {
    Action.CREATE: 1,
    Action.DEPRECATE: 2,
    Action.REGISTER: 3,
    Action.DEREGISTER: 4,
    Action.ASSIGN: 5,
    Action.UNASSIGN: 6,
}  # GTO's event priorities, our last tie-breaker


class TagRecord(NamedTuple):
    tag: str
    parsed: tags.ParsedTag
    annotated: bool
    commit: str
    timestamp: int
    date: str
    message: str

    @property
    def order(self) -> tuple[int, int, int]:
        return (self.timestamp, self.parsed.counter or 0, _PRIORITY[self.parsed.action])


def read_tags(cwd: str | Path | None = None) -> list[TagRecord]:
    """Every GTO-format tag of the repo, from a single `git for-each-ref`."""
    out = git.run("for-each-ref", f"--format={_FORMAT}", "refs/tags", cwd=cwd)
    records: list[TagRecord] = []
    if not out:
        return records
    for record in (out + "\n").split("\x00\n")[:-1]:
        name, kind, obj, peeled, unix, date, message = record.split("\x00", 6)
        parsed = tags.parse(name)
        if parsed is None:
            continue
        annotated = kind == "tag"
        commit = peeled if annotated else obj
        records.append(TagRecord(name, parsed, annotated, commit, int(unix or 0), date, message))
    return records


class VersionJson(TypedDict):
    """One version in `mlops-actions models --json`."""

    version: str
    commit: str
    tag: str | None
    created_at: str
    registered: bool
    deregistered: bool
    stages: list[str]
    primary: str | None
    metrics: dict[str, object]
    model_sha256: str | None
    model_path: str | None
    data: dict[str, str]
    params_sha256: str | None
    fingerprint: str | None
    run_url: str | None


class ModelJson(TypedDict):
    """One model in `mlops-actions models --json`."""

    latest: str | None
    stages: dict[str, str]
    deprecated: bool
    versions: list[VersionJson]


@dataclass
class ModelVersion:
    name: str
    version: str
    commit: str
    tag: str | None  # the registration tag; None for a commit that only has stage tags
    date: str
    info: TagInfo | None
    registered: bool
    active: bool
    stages: list[str] = field(default_factory=list)

    @property
    def deregistered(self) -> bool:
        return self.registered and not self.active

    def to_json(self) -> VersionJson:
        info = self.info or TagInfo()
        return {
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "created_at": self.date,
            "registered": self.registered,
            "deregistered": self.deregistered,
            "stages": self.stages,
            "primary": info.primary,
            "metrics": info.metrics,
            "model_sha256": info.model_sha256,
            "model_path": info.model_path,
            "data": info.data,
            "params_sha256": info.params_sha256,
            "fingerprint": info.fingerprint,
            "run_url": info.run_url,
        }


@dataclass
class Model:
    name: str
    versions: list[ModelVersion]  # highest version first; unregistered commits last
    stages: dict[str, str]  # stage -> version
    deprecated: bool
    max_counter: int  # the highest #N on any of the model's tags
    taken: set[str]  # every version that has a tag, deregistered or lightweight too

    def latest(self) -> ModelVersion | None:
        """The highest active registered version (GTO's `latest`)."""
        return next((v for v in self.versions if v.registered and v.active), None)

    def find(self, version: str) -> ModelVersion | None:
        return next((v for v in self.versions if v.version == version), None)

    def at_commit(self, commit: str) -> ModelVersion | None:
        return next((v for v in self.versions if v.registered and v.commit == commit), None)

    def next_version(self, bump: str, also_taken: Iterable[str] = ()) -> str:
        """`bump` applied to the highest version ever tagged, so no tag name is reused."""
        return next_version(bump, [*self.taken, *also_taken])

    def to_json(self) -> ModelJson:
        latest = self.latest()
        return {
            "latest": latest.version if latest else None,
            "stages": self.stages,
            "deprecated": self.deprecated,
            "versions": [v.to_json() for v in self.versions],
        }


@dataclass
class _Pair:
    """One (version, stage): whether it is assigned now and since which tag."""

    active: bool = False
    since: tuple[int, int, int] = (0, 0, 0)


def _build(name: str, records: list[TagRecord]) -> Model:
    counter = max((r.parsed.counter or 0 for r in records), default=0)
    taken = {r.parsed.version for r in records if r.parsed.version}
    rank = {v: SemVer.parse(v).key() for v in taken}
    events = sorted((r for r in records if r.annotated), key=lambda r: r.order)
    versions: dict[str, ModelVersion] = {}
    for r in events:
        action, version = r.parsed.action, r.parsed.version
        if action not in (Action.REGISTER, Action.DEREGISTER) or version is None:
            continue
        v = versions.get(version)
        if v is None:
            v = versions[version] = ModelVersion(
                name, version, r.commit, None, r.date, None, registered=False, active=False
            )
        if action is Action.REGISTER:
            if v.tag is None:
                v.tag, v.date, v.info = r.tag, r.date, tags.parse_message(r.message)
            v.registered = v.active = True
        else:
            v.active = False
    by_commit: dict[str, list[ModelVersion]] = {}
    for v in versions.values():
        by_commit.setdefault(v.commit, []).append(v)
    pairs: dict[tuple[str, str], _Pair] = {}
    for r in events:
        if r.parsed.action not in (Action.ASSIGN, Action.UNASSIGN) or r.parsed.stage is None:
            continue
        found = by_commit.get(r.commit)
        if found:
            v = max(found, key=lambda v: (v.active, rank[v.version]))
        else:
            info = tags.parse_message(r.message)
            v = versions[r.commit] = ModelVersion(
                name, r.commit, r.commit, None, r.date, info, registered=False, active=True
            )
            by_commit[r.commit] = [v]
        pair = pairs.setdefault((v.version, r.parsed.stage), _Pair())
        pair.active = r.parsed.action is Action.ASSIGN
        if pair.active:
            pair.since = r.order
    current: dict[str, tuple[tuple[int, int, int], str]] = {}
    for (version, stage), pair in pairs.items():
        newer = stage not in current or pair.since > current[stage][0]
        if pair.active and versions[version].active and newer:
            current[stage] = (pair.since, version)
    stages = {stage: version for stage, (_, version) in sorted(current.items())}
    for stage, version in stages.items():
        versions[version].stages.append(stage)
    explicit = sorted(
        (v for v in versions.values() if v.version in taken),
        key=lambda v: rank[v.version],
        reverse=True,
    )
    commits = sorted(
        (v for v in versions.values() if v.version not in taken),
        key=lambda v: v.version,
        reverse=True,
    )
    deprecated = bool(events) and events[-1].parsed.action is Action.DEPRECATE
    return Model(name, explicit + commits, stages, deprecated, counter, taken)


def next_version(bump: str, taken: Iterable[str]) -> str:
    """`bump` applied to the highest of `taken` (v0.0.0 when empty)."""
    highest = max((SemVer.parse(v) for v in taken), key=SemVer.key, default=SemVer(0, 0, 0))
    return str(highest.bump(bump))


def models(name: str | None = None, *, cwd: str | Path | None = None) -> dict[str, Model]:
    """The registry from the repo's tags, by model name (all models, or just `name`)."""
    grouped: dict[str, list[TagRecord]] = {}
    for record in read_tags(cwd):
        if name is None or record.parsed.name == name:
            grouped.setdefault(record.parsed.name, []).append(record)
    return {n: _build(n, grouped[n]) for n in sorted(grouped)}


def find_model(name: str, *, cwd: str | Path | None = None) -> Model | None:
    return models(name, cwd=cwd).get(name)
