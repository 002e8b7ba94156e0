"""GTO's index of the registry tags, rule for rule (iterative/gto 1.x: gto/base.py, gto/tag.py,
gto/registry.py, gto/index.py), so `models` agrees with `gto show` and `gto history`.

GTO indexes the annotated tags in three passes (deprecations, then registrations and
deregistrations, then assignments and unassignments), each in tagger-time order (ties in tag
name order), adds one "commit" event per version (its commit's committer date) and finally
declares the artifacts that HEAD's artifacts.yaml names. Every later question is answered by
sorting events on their time, to the second, and reversing: of events in the same second the
one that came last in the list wins. That is what makes the same-second cases come out as they
do (an unassignment beats an assignment of the same second, a deregistration a registration,
the later-indexed of two registrations is the newest), and these lists are built here in the
same order as GTO builds them.

Where GTO fails (an assignment at a commit with two registered versions raises ManyVersions),
the assignment goes to the version its message names (GTO writes "Assigning stage S to artifact
A version V"), else to the version registered at that commit at the assignment's time: an extra
``NAME@v9.9.9`` tag pushed onto a promoted commit later does not take the stage over.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Generic, TypeVar

from mlops_actions.registry.events import Event, Kind, TagRecord
from mlops_actions.tag import Action, SemVer

_KIND = {
    Action.DEPRECATE: Kind.DEPRECATION,
    Action.REGISTER: Kind.REGISTRATION,
    Action.DEREGISTER: Kind.DEREGISTRATION,
    Action.ASSIGN: Kind.ASSIGNMENT,
    Action.UNASSIGN: Kind.UNASSIGNMENT,
}
_ASSIGN_SUBJECT = re.compile(r"^Assigning stage \S+ to artifact \S+ version (\S+)")


def _time(e: Event) -> int:
    return e.time


S = TypeVar("S")
T = TypeVar("T")


class once(Generic[S, T]):
    """functools.cached_property without its per-class lock (Python < 3.12 takes it on every
    first read; the registry reads thousands of these once each)."""

    def __init__(self, fn: Callable[[S], T]) -> None:
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj: S, owner: type | None = None) -> T:
        value = self.fn(obj)
        obj.__dict__[self.name] = value  # later reads find it there, not here
        return value


def _desc(events: list[Event]) -> list[Event]:
    """GTO's `sorted(events, key=created_at)[::-1]`: newest first, and of one second's events
    the last listed first."""
    return sorted(events, key=_time)[::-1]


class VStage:
    """One (version, stage) pair and its assignment tags."""

    def __init__(self, version: str, commit: str, stage: str) -> None:
        self.version, self.commit, self.stage = version, commit, stage
        self.assignments: list[Event] = []
        self.unassignments: list[Event] = []

    @once
    def events(self) -> list[Event]:
        return _desc(self.assignments + self.unassignments)

    @property
    def active(self) -> bool:
        return self.events[0].kind is Kind.ASSIGNMENT

    @property
    def activated_at(self) -> int:
        return self.events[0].time

    @property
    def created_at(self) -> int:
        return next(e for e in self.events if e.addition).time


class Version:
    """A version of an artifact at a commit: a registered one, or (named by the commit's hexsha)
    a commit that only stage tags point at."""

    def __init__(self, artifact: str, name: str, commit: str) -> None:
        self.artifact, self.name, self.commit = artifact, name, commit
        self.registrations: list[Event] = []
        self.deregistrations: list[Event] = []
        self.enrichments: list[Event] = []
        self.stages: dict[str, VStage] = {}
        self.declared = False  # made for HEAD's artifacts.yaml, with no tag

    def stage(self, stage: str) -> VStage:
        if stage not in self.stages:
            self.stages[stage] = VStage(self.name, self.commit, stage)
        return self.stages[stage]

    @once
    def direct(self) -> list[Event]:
        if not self.deregistrations and len(self.registrations) == 1:
            return self.registrations  # the common case, nothing to sort
        return _desc(self.registrations + self.deregistrations)

    @once
    def indirect(self) -> list[Event]:
        return _desc(self.enrichments + [e for s in self.stages.values() for e in s.events])

    @once
    def events(self) -> list[Event]:
        staged = [e for s in self.stages.values() for e in s.events]
        return _desc(self.registrations + self.deregistrations + self.enrichments + staged)

    @property
    def discovered(self) -> bool:
        """No registration or deregistration tag (GTO's `discovered`)."""
        return not self.registrations and not self.deregistrations

    @property
    def registered(self) -> bool:
        return bool(self.registrations)

    @once
    def active(self) -> bool:
        if self.direct:
            return self.direct[0].kind is Kind.REGISTRATION
        return bool(self.indirect)

    @once
    def authoring(self) -> Event:
        """The event GTO takes the version's ref, date and message from: its newest
        registration, else its newest other event."""
        added = [e for e in self.direct if e.addition]
        if added:
            return added[0]
        return (self.indirect or self.events)[0]

    @property
    def created_at(self) -> int:
        return self.authoring.time

    def active_stages(self) -> list[VStage]:
        """GTO's `get_vstages(ascending=True)`: active pairs, earliest activated first."""
        return sorted((s for s in self.stages.values() if s.active), key=lambda s: s.activated_at)


class Artifact:
    def __init__(self, name: str) -> None:
        self.name = name
        self.versions: list[Version] = []
        self.deprecations: list[Event] = []
        self._by_name: dict[tuple[str, str], Version] = {}
        self._explicit: dict[str, list[Version]] = {}  # commit -> non-discovered versions

    def version(self, name: str, commit: str) -> Version:
        """The non-discovered version `name` at `commit`, created if new (GTO's find_version)."""
        found = self._by_name.get((name, commit))
        if found is None:
            found = self._by_name[(name, commit)] = self._new(name, commit)
            self._explicit.setdefault(commit, []).append(found)
        return found

    def _new(self, name: str, commit: str) -> Version:
        v = Version(self.name, name, commit)
        self.versions.append(v)
        return v

    def explicit_at(self, commit: str) -> list[Version]:
        return self._explicit.get(commit, [])

    def assign(self, event: Event, message: str) -> None:
        """Index a stage tag: it belongs to the version registered at its commit; at a commit
        without one GTO makes two versions named by the hexsha (an empty one, and one holding
        the tag), so each such tag stands alone."""
        found = self.explicit_at(event.commit)
        if not found:
            self._new(event.commit, event.commit)
            v = self._new(event.commit, event.commit)
        else:
            v = found[0] if len(found) == 1 else _named(found, event, message)
        event = event._replace(version=v.name)
        vstage = v.stage(event.stage or "")
        if event.kind is Kind.ASSIGNMENT:
            vstage.assignments.append(event)
        else:
            vstage.unassignments.append(event)

    @once
    def events(self) -> list[Event]:
        return _desc(self.deprecations + [e for v in self.versions for e in v.events])

    @once
    def active(self) -> bool:
        """Not deprecated: GTO's newest event is not a deprecation. A version's event of the
        same second comes after the deprecations in GTO's list, so it wins the tie; this is
        that rule without sorting every event."""
        newest = max((e.time for v in self.versions for e in _all(v)), default=None)
        if not self.deprecations:
            return newest is not None
        return newest is not None and newest >= max(e.time for e in self.deprecations)

    @property
    def registered(self) -> bool:
        """Whether any tag names it (an artifact only artifacts.yaml declares is not)."""
        return bool(self.deprecations) or any(
            v.registrations or v.deregistrations or v.stages for v in self.versions
        )

    def active_versions(self, include_unregistered: bool) -> list[Version]:
        return [
            v
            for v in self.versions
            if v.active and ((v.registered and not v.discovered) or include_unregistered)
        ]

    def latest(self) -> Version | None:
        """GTO's `get_latest_version(registered_only=True)`: the highest active registered
        version; of equal versions (v1.0.0 and v1.0.0+build.1) the one indexed last."""
        best: Version | None = None
        key: tuple[object, ...] = ()
        for v in self.active_versions(include_unregistered=False):
            k = semver_key(v.name)
            if k is not None and (best is None or k >= key):
                best, key = v, k
        return best

    def stage_map(self) -> dict[str, Version]:
        """Stage -> version as `gto show` reports it (sort by timestamp, one version per stage)."""
        versions = sorted(self.active_versions(include_unregistered=True), key=_created)[::-1]
        by_version = {id(s): v for v in versions for s in v.stages.values()}
        pairs = [s for v in versions for s in v.active_stages()]
        current: dict[str, Version] = {}
        for pair in sorted(pairs, key=lambda s: s.created_at)[::-1]:
            current.setdefault(pair.stage, by_version[id(pair)])
        return current

    def tag_events(self) -> list[Event]:
        """Its tag events in GTO's artifact order (`history` sorts them)."""
        return [e for e in self.events if e.kind is not Kind.COMMIT]


def _all(v: Version) -> Iterable[Event]:
    yield from v.registrations
    yield from v.deregistrations
    yield from v.enrichments
    for s in v.stages.values():
        yield from s.assignments
        yield from s.unassignments


def _created(v: Version) -> int:
    return v.created_at


@cache
def semver_key(name: str) -> tuple[object, ...] | None:
    """SemVer precedence of a version name; None for a hexsha."""
    try:
        return SemVer.parse(name).key()
    except ValueError:
        return None


def _named(found: list[Version], event: Event, message: str) -> Version:
    """Of several versions registered at one commit, the one the assignment means: the version
    its message names, else the last one registered at or before the assignment's time."""
    m = _ASSIGN_SUBJECT.match(message)
    if m:
        named = [v for v in found if v.name == m[1]]
        if named:
            return named[0]
    before = [v for v in found if v.registrations and v.registrations[0].time <= event.time]
    return before[-1] if before else found[0]


def _event(r: TagRecord) -> Event:
    p = r.parsed
    return Event(
        _KIND[p.action],
        r.timestamp,
        r.date,
        p.name,
        r.commit,
        p.version,
        p.stage,
        r.tag,
        r.author,
        r.email,
        r.message.strip(),
    )


def index(
    records: Iterable[TagRecord],
    declared: Sequence[str] = (),
    head: tuple[str, int, str] | None = None,
) -> dict[str, Artifact]:
    """The artifacts the tags describe, in GTO's creation order; `declared` are the names in
    HEAD's artifacts.yaml, `head` HEAD's (hexsha, committer time, ISO date)."""
    usable = [r for r in records if r.annotated and r.parsed.action in _KIND]
    ordered = sorted(sorted(usable, key=lambda r: r.tag), key=lambda r: r.timestamp)
    commit_time = {r.commit: (r.commit_time, "") for r in ordered}
    artifacts: dict[str, Artifact] = {}

    def artifact(name: str) -> Artifact:
        if name not in artifacts:
            artifacts[name] = Artifact(name)
        return artifacts[name]

    passes = (
        (Action.DEPRECATE,),
        (Action.REGISTER, Action.DEREGISTER),
        (Action.ASSIGN, Action.UNASSIGN),
    )
    for actions in passes:
        for r in ordered:
            if r.parsed.action not in actions:
                continue
            e = _event(r)
            a = artifact(e.artifact)
            if e.kind is Kind.DEPRECATION:
                a.deprecations.append(e._replace(version=None))
            elif e.kind is Kind.REGISTRATION:
                a.version(e.version or "", e.commit).registrations.append(e)
            elif e.kind is Kind.DEREGISTRATION:
                a.version(e.version or "", e.commit).deregistrations.append(e)
            else:
                a.assign(e, r.message)
    if head is not None:
        commit_time[head[0]] = (head[1], head[2])
    for a in artifacts.values():
        for v in a.versions:
            when, date = commit_time.get(v.commit, (0, ""))
            v.enrichments.append(Event(Kind.COMMIT, when, date, a.name, v.commit, v.name))
    if head is not None:
        sha, when, date = head
        for name in declared:
            a = artifact(name)
            if not a.explicit_at(sha):
                v = a._new(sha, sha)
                v.declared = True
                v.enrichments.append(Event(Kind.COMMIT, when, date, name, sha, sha))
    return artifacts
