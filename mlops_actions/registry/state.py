"""The registry's state: GTO-format git tags, read in one `git for-each-ref`, as models.

`events` reads the tags by GTO's rules (`gto show`, default `--sort timestamp`, and
`gto history`); this module turns what it finds into models, versions and stages:
- a version is active when its newest registration/deregistration tag is a registration
  (a deregistration of the same second wins);
- a version is what its FIRST registration recorded: its tag, date, metrics and model hash
  (GTO shows the newest registration's; a later ``NAME@v1.2.3#N`` can only add a conflict,
  never change what the version is). A registration of the same version that records another
  model sha256 (at the same commit, or at another) is a conflict, listed with the version;
- an assignment tag belongs to the version registered at the tag's commit (the one its message
  names when there are several; an unregistered commit becomes a version named by its hexsha);
- a stage points at the active version whose newest still-active assignment is newest; that
  assignment tag (and the model sha256 it records: the bytes that were approved) is kept;
- a model HEAD's artifacts.yaml declares but no tag names is listed, as not registered;
- lightweight tags are not read (GTO ignores them), but no tag name they take is reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from mlops_actions import git
from mlops_actions import tag as tags
from mlops_actions.registry.events import Event, TagRecord
from mlops_actions.registry.events import history as gto_history
from mlops_actions.registry.index import Artifact, Version, index, semver_key
from mlops_actions.registry.shapes import ModelJson, VersionJson
from mlops_actions.tag import SemVer, TagInfo

# One record per tag: fields split by NUL (never in a tag message), records end in NUL+newline.
_FIELDS = (
    "%(refname:lstrip=2)",
    "%(objecttype)",
    "%(objectname)",
    "%(*objectname)",
    "%(creatordate:unix)",
    "%(creatordate:iso-strict)",
    "%(taggername)",
    "%(taggeremail:trim)",
    "%(*committerdate:unix)",
    "%(contents)",
)
_FORMAT = "%00".join(_FIELDS) + "%00"
INDEX = "artifacts.yaml"  # GTO's artifact declarations, read from HEAD's tree


def read_tags(cwd: str | Path | None = None) -> list[TagRecord]:
    """Every GTO-format tag of the repo, from a single `git for-each-ref`."""
    out = git.run("for-each-ref", f"--format={_FORMAT}", "refs/tags", cwd=cwd)
    records: list[TagRecord] = []
    if not out:
        return records
    for record in (out + "\n").split("\x00\n")[:-1]:
        name, kind, obj, peeled, unix, date, who, email, when, message = record.split("\x00", 9)
        parsed = tags.parse(name)
        if parsed is None:
            continue
        annotated = kind == "tag"
        commit = peeled if annotated else obj
        records.append(
            TagRecord(
                name,
                parsed,
                annotated,
                commit,
                int(unix or 0),
                date,
                message,
                who,
                email,
                int(when or 0),
            )
        )
    return records


def declared(cwd: str | Path | None = None) -> tuple[list[str], tuple[str, int, str] | None]:
    """The artifact names HEAD's artifacts.yaml declares, and HEAD (hexsha, committer time, date);
    nothing when HEAD has no artifacts.yaml (one `git cat-file`, a second only when it has)."""
    found = git.result("cat-file", "-p", f"HEAD:{INDEX}", cwd=cwd)
    if found.returncode != 0:
        return [], None
    from mlops_actions import yaml12  # only for a repo that has the file

    try:
        data = yaml12.load(found.stdout)
    except yaml12.YamlError:
        return [], None  # GTO refuses a corrupt file; we list what the tags say
    if not isinstance(data, dict):
        return [], None
    names = [n for n in data if isinstance(n, str) and tags.STAGE_RE.match(n)]
    sha, unix, date = git.run("log", "-1", "--format=%H%x00%ct%x00%cI", "HEAD", cwd=cwd).split(
        "\x00"
    )
    return names, (sha, int(unix), date)


class Conflict(NamedTuple):
    """Another registration of a version, recording another model sha256 than its first."""

    tag: str
    sha256: str | None
    commit: str


class Assignment(NamedTuple):
    """The assignment tag that puts a version in a stage, and what its message records."""

    tag: str
    info: TagInfo | None


@dataclass
class ModelVersion:
    name: str
    version: str
    commit: str
    tag: str | None  # the first registration tag; None for a commit that only has stage tags
    date: str
    info: TagInfo | None
    registered: bool
    active: bool
    stages: list[str] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)  # at this commit, or elsewhere

    @property
    def sha256(self) -> str | None:
        return self.info.model_sha256 if self.info else None

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
            "conflicts": [c.tag for c in self.conflicts],
        }


@dataclass
class Model:
    name: str
    versions: list[ModelVersion]  # highest version first; unregistered commits last
    stages: dict[str, str]  # stage -> version
    deprecated: bool
    max_counter: int  # the highest #N on any of the model's tags
    taken: set[str]  # every version that has a tag, deregistered or lightweight too
    registered: bool = True  # False: only artifacts.yaml declares it
    newest: ModelVersion | None = None  # GTO's latest (see `latest`)
    in_stage: dict[str, ModelVersion] = field(default_factory=dict)  # stage -> its version
    assignments: dict[str, Assignment] = field(default_factory=dict)  # stage -> its tag
    order: int = 0  # when GTO first met it (the tie-breaker of `gto history` across models)
    source: Artifact | None = field(default=None, repr=False)  # what GTO's rules read

    @property
    def events(self) -> list[Event]:
        """Its tags' events, in GTO's order for the artifact (`history` sorts them)."""
        return self.source.tag_events() if self.source else []

    def latest(self) -> ModelVersion | None:
        """The highest active registered version (GTO's `latest`: of v1.0.0 and
        v1.0.0+build.1, which rank the same, the one registered last)."""
        return self.newest

    def find(self, version: str) -> ModelVersion | None:
        found = [v for v in self.versions if v.version == version]
        return next((v for v in found if v.active), found[0] if found else None)

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
            "registered": self.registered,
            "deprecated": self.deprecated,
            "versions": [v.to_json() for v in self.versions],
        }


def _newest_info(v: Version) -> tuple[str | None, str, TagInfo | None]:
    e = v.authoring
    return e.tag, e.date, tags.parse_message(e.message)


def _sha(info: TagInfo | None) -> str | None:
    return info.model_sha256 if info else None


def _registered(a: str, v: Version) -> ModelVersion:
    """The row of a registered version: its first registration, and every later one at its
    commit that records another sha256. First is the tag without a ``#N`` counter (the one
    `promote` and `gto register` write; a tagger date is the tagger's to choose), else the
    earliest in GTO's index order (tagger time, then tag name)."""
    first, *later = sorted(v.registrations, key=_counted)
    info = tags.parse_message(first.message)
    row = ModelVersion(a, v.name, v.commit, first.tag, first.date, info, True, v.active)
    for e in later:
        sha = _sha(tags.parse_message(e.message))
        if sha is not None and sha != row.sha256:
            row.conflicts.append(Conflict(e.tag or "", sha, v.commit))
    return row


def _counted(e: Event) -> bool:
    return (e.tag or "").count("#") > 0


def _same_name(rows: list[ModelVersion]) -> None:
    """Registrations of one version name at several commits that record different hashes
    conflict with each other (`models get NAME@vX.Y.Z` could not tell which is meant)."""
    by_name: dict[str, list[ModelVersion]] = {}
    for row in rows:
        by_name.setdefault(row.version, []).append(row)
    for same in by_name.values():
        for row in same if len(same) > 1 else ():
            row.conflicts += [
                Conflict(o.tag or "", o.sha256, o.commit)
                for o in same
                if o is not row and o.sha256 != row.sha256
            ]


def _assignment(v: Version, stage: str) -> Assignment:
    """The assignment in effect: the newest event of an active (version, stage) pair."""
    e = v.stages[stage].events[0]
    return Assignment(e.tag or "", tags.parse_message(e.message))


def _build(a: Artifact, records: list[TagRecord], order: int) -> Model:
    counter = max((r.parsed.counter or 0 for r in records), default=0)
    taken = {r.parsed.version for r in records if r.parsed.version}
    listed: dict[int, ModelVersion] = {}  # id(Version) -> its row
    explicit: list[ModelVersion] = []
    at_commit: dict[str, list[Version]] = {}
    for v in a.versions:
        if v.registered:
            row = _registered(a.name, v)
            explicit.append(row)
            listed[id(v)] = row
        elif v.discovered and v.active and (v.stages or v.declared):
            at_commit.setdefault(v.commit, []).append(v)
    unregistered: list[ModelVersion] = []
    for commit, found in sorted(at_commit.items(), reverse=True):
        # A commit's stage tags each make a version of their own (see events): one row for all.
        staged = [v for v in found if v.stages]
        _, date, info = _newest_info(max(staged, key=_created)) if staged else (None, "", None)
        row = ModelVersion(a.name, commit, commit, None, date, info, False, True)
        unregistered.append(row)
        listed.update((id(v), row) for v in found)
    current = a.stage_map()
    stages = {stage: current[stage].name for stage in sorted(current)}
    in_stage = {stage: listed[id(current[stage])] for stage in stages}
    _same_name(explicit)
    for stage, row in in_stage.items():
        row.stages.append(stage)
    explicit.sort(key=lambda v: semver_key(v.version) or (), reverse=True)
    latest = a.latest()
    return Model(
        a.name,
        explicit + unregistered,
        stages,
        not a.active,
        counter,
        taken,
        registered=a.registered,
        newest=listed.get(id(latest)) if latest else None,
        in_stage=in_stage,
        assignments={stage: _assignment(current[stage], stage) for stage in stages},
        source=a,
        order=order,
    )


def _created(v: Version) -> int:
    return v.created_at


def next_version(bump: str, taken: Iterable[str]) -> str:
    """`bump` applied to the highest of `taken` (v0.0.0 when empty)."""
    highest = max((SemVer.parse(v) for v in taken), key=SemVer.key, default=SemVer(0, 0, 0))
    return str(highest.bump(bump))


def models(name: str | None = None, *, cwd: str | Path | None = None) -> dict[str, Model]:
    """The registry from the repo's tags, by model name (all models, or just `name`): the
    models GTO lists, deprecated ones too."""
    import contextlib
    import threading  # subprocess has loaded it already

    side: list[tuple[list[str], tuple[str, int, str] | None]] = []

    def read_declared() -> None:
        with contextlib.suppress(Exception):  # read again below, where the error surfaces
            side.append(declared(cwd))

    reader = threading.Thread(target=read_declared)
    reader.start()  # its git runs while for-each-ref does
    records = read_tags(cwd)
    reader.join()
    names, head = side[0] if side else declared(cwd)
    if name is not None:
        records = [r for r in records if r.parsed.name == name]
        names = [n for n in names if n == name]
    grouped: dict[str, list[TagRecord]] = {}
    for record in records:
        grouped.setdefault(record.parsed.name, []).append(record)
    found = index(records, names, head)
    order = {n: i for i, n in enumerate(found)}
    return {n: _build(found[n], grouped.get(n, []), order[n]) for n in sorted(found)}


def find_model(name: str, *, cwd: str | Path | None = None) -> Model | None:
    return models(name, cwd=cwd).get(name)


def history(found: dict[str, Model]) -> list[Event]:
    """The models' events as `gto history` orders them, newest first."""
    return gto_history(m.events for m in sorted(found.values(), key=lambda m: m.order))
