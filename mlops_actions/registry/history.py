"""The registry's journal as `gto history` has it: one event per annotated GTO tag, newest
first, with who wrote it and, when the tag records it, which workflow run.

Events are ordered by tagger date, then GTO's event priority (`gto history` sorts the same);
within one second and one priority, by the tag's ``#N`` counter. An assignment's version is the
version registered at the tag's commit (its hexsha when none is), as in GTO.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from mlops_actions import git
from mlops_actions import tag as tags
from mlops_actions.registry.state import Model, models
from mlops_actions.tag import Action

# GTO's event names and priorities.
EVENTS = {
    Action.CREATE: ("creation", 1),
    Action.DEPRECATE: ("deprecation", 2),
    Action.REGISTER: ("registration", 3),
    Action.DEREGISTER: ("deregistration", 4),
    Action.ASSIGN: ("assignment", 5),
    Action.UNASSIGN: ("unassignment", 6),
}

_FIELDS = (
    "%(refname:lstrip=2)",
    "%(objecttype)",
    "%(*objectname)",
    "%(creatordate:unix)",
    "%(creatordate:iso-strict)",
    "%(taggername)",
    "%(taggeremail)",
    "%(contents)",
)
_FORMAT = "%00".join(_FIELDS) + "%00"


class EventJson(TypedDict):
    """One event of `models --history --json`: `gto history --json`'s fields, plus run_url."""

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


def _versions_at(model: Model) -> dict[str, str]:
    """commit -> the version an assignment there belongs to: the active one registered there
    (the highest when several are), else the highest registered there."""
    at: dict[str, str] = {}
    for v in sorted(model.versions, key=lambda v: not v.active):  # stable: highest first
        if v.registered:
            at.setdefault(v.commit, v.version)
    return at


def history(name: str | None = None, *, cwd: str | Path | None = None) -> list[EventJson]:
    """Every model's events (or `name`'s), newest first, from one `git for-each-ref`."""
    out = git.run("for-each-ref", f"--format={_FORMAT}", "refs/tags", cwd=cwd)
    if not out:
        return []
    versions = {n: _versions_at(m) for n, m in models(name, cwd=cwd).items()}
    keyed: list[tuple[tuple[int, int, int], EventJson]] = []
    for record in (out + "\n").split("\x00\n")[:-1]:
        ref, kind, commit, unix, date, who, email, message = record.split("\x00", 7)
        parsed = tags.parse(ref)
        if parsed is None or kind != "tag" or (name is not None and parsed.name != name):
            continue  # lightweight tags are no events to GTO
        event, priority = EVENTS[parsed.action]
        version = parsed.version
        if parsed.action in (Action.ASSIGN, Action.UNASSIGN):
            version = versions.get(parsed.name, {}).get(commit, commit)
        info = tags.parse_message(message)
        entry: EventJson = {
            "timestamp": date,
            "artifact": parsed.name,
            "event": event,
            "priority": priority,
            "version": version,
            "stage": parsed.stage,
            "commit": commit,
            "author": who,
            "author_email": email.strip("<>"),
            "message": message.strip(),
            "ref": ref,
            "run_url": info.run_url if info else None,
        }
        keyed.append(((int(unix or 0), priority, parsed.counter or 0), entry))
    keyed.sort(key=lambda pair: pair[0], reverse=True)
    return [entry for _, entry in keyed]
