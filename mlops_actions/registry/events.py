"""The registry's events: one git tag as read (TagRecord) and what it did (Event), and
`gto history`'s order of them. GTO's index of the events is in index.py."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

from mlops_actions import tag as tags


class Kind(IntEnum):
    """GTO's event classes; the value is GTO's `priority` (history's tie-breaker)."""

    COMMIT = 0
    CREATION = 1
    DEPRECATION = 2
    REGISTRATION = 3
    DEREGISTRATION = 4
    ASSIGNMENT = 5
    UNASSIGNMENT = 6


_ADDITION = {Kind.COMMIT, Kind.CREATION, Kind.REGISTRATION, Kind.ASSIGNMENT}


class TagRecord(NamedTuple):
    """One git tag as `git for-each-ref` reports it."""

    tag: str
    parsed: tags.ParsedTag
    annotated: bool
    commit: str  # the object the tag points at (its commit)
    timestamp: int  # tagger date, unix seconds
    date: str  # tagger date, ISO 8601 with its offset
    message: str
    author: str = ""
    email: str = ""
    commit_time: int = 0  # the target commit's committer date


class Event(NamedTuple):
    kind: Kind
    time: int
    date: str
    artifact: str
    commit: str
    version: str | None = None
    stage: str | None = None
    tag: str | None = None  # None for a commit event
    author: str = ""
    email: str = ""
    message: str = ""

    @property
    def addition(self) -> bool:
        return self.kind in _ADDITION

    @property
    def ref(self) -> str:
        return self.tag or self.commit


def history(found: Iterable[list[Event]]) -> list[Event]:
    """`gto history`: the artifacts' tag events (each in its `tag_events` order, the artifacts
    in the order GTO met them), by time and priority, newest first."""
    every = [e for events in found for e in events]
    return sorted(every, key=lambda e: (e.time, int(e.kind)))[::-1]
