"""The registry's state: GTO-format git tags, read in one `git for-each-ref`, as models.

`events` reads the tags by GTO's rules (`gto show`, default `--sort timestamp`, and
`gto history`); this module turns what it finds into models, versions and stages:
- a version is active when its newest registration/deregistration tag is a registration
  (a deregistration of the same second wins); its tag, date and metrics are its newest
  registration's;
- an assignment tag belongs to the version registered at the tag's commit (the one its message
  names when there are several; an unregistered commit becomes a version named by its hexsha);
- a stage points at the active version whose newest still-active assignment is newest;
- a model HEAD's artifacts.yaml declares but no tag names is listed, as not registered;
- lightweight tags are not read (GTO ignores them), but no tag name they take is reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from mlops_actions import git
from mlops_actions import tag as tags
from mlops_actions.registry.events import Artifact, Event, TagRecord, Version, index, semver_key
from mlops_actions.registry.events import history as gto_history
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
    registered: bool
    deprecated: bool
    versions: list[VersionJson]


class EventJson(TypedDict):
    """One event in `mlops-actions models NAME --history --json`: `gto history --json`'s
    fields, plus the workflow run that wrote the tag (from its message, when it records one)."""

    timestamp: str
    artifact: str
    event: str
    priority: int
    version: str | None
    stage: str | None
    commit: str
    author: str
    author_email: str
    message: str
    ref: str
    run_url: str | None


def event_json(e: Event) -> EventJson:
    info = tags.parse_message(e.message)
    return {
        "timestamp": e.date,
        "artifact": e.artifact,
        "event": e.kind.name.lower(),
        "priority": int(e.kind),
        "version": e.version,
        "stage": e.stage,
        "commit": e.commit,
        "author": e.author,
        "author_email": e.email,
        "message": e.message,
        "ref": e.ref,
        "run_url": info.run_url if info else None,
    }


@dataclass
class ModelVersion:
    name: str
    version: str
    commit: str
    tag: str | None  # the newest registration tag; None for a commit that only has stage tags
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
    registered: bool = True  # False: only artifacts.yaml declares it
    newest: ModelVersion | None = None  # GTO's latest (see `latest`)
    in_stage: dict[str, ModelVersion] = field(default_factory=dict)  # stage -> its version
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


def _build(a: Artifact, records: list[TagRecord], order: int) -> Model:
    counter = max((r.parsed.counter or 0 for r in records), default=0)
    taken = {r.parsed.version for r in records if r.parsed.version}
    listed: dict[int, ModelVersion] = {}  # id(Version) -> its row
    explicit: list[ModelVersion] = []
    at_commit: dict[str, list[Version]] = {}
    for v in a.versions:
        if v.registered:
            tag, date, info = _newest_info(v)
            row = ModelVersion(a.name, v.name, v.commit, tag, date, info, True, v.active)
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
