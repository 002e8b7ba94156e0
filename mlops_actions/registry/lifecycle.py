"""The registry's lifecycle after promotion: assign, unassign, deregister and deprecate.

Each verb writes one tag in GTO's exact form (`gto assign`, `gto deprecate` write the same):

| verb                        | tag                    | on the commit of            |
| --------------------------- | ---------------------- | --------------------------- |
| ``assign NAME@v1.2.3 prod`` | ``NAME#prod#N``        | the version                 |
| ``unassign NAME prod``      | ``NAME#prod!#N``       | the version in the stage    |
| ``deregister NAME@v1.2.3``  | ``NAME@v1.2.3!``       | the version                 |
| ``deprecate NAME``          | ``NAME@deprecated``    | the model's newest tag      |

``N`` is one more than the highest counter on any of NAME's tags, as GTO counts it. A
deregistration or deprecation whose simple tag exists already (the version was registered
again, the model brought back) gets the counter too, as `gto ... --force` writes it.

Tags are never moved. When the tag is taken where it is published (another run wrote it
first), the registry is read again and the verb decided afresh, once; a race lost twice is an
error and leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, TypedDict

from mlops_actions import git, output
from mlops_actions import tag as tags
from mlops_actions.errors import MlopsError
from mlops_actions.registry.state import Model, ModelVersion, find_model, models
from mlops_actions.registry.writers import NewTag, TagWriter
from mlops_actions.tag import TagInfo

ATTEMPTS = 2  # the first try, and one more after a lost race


class VerbWriter(TagWriter, Protocol):
    def published_tags(self) -> set[str]:
        """Tag names taken where the tags are published that local git may not show."""
        ...


class ChangeJson(TypedDict):
    """What `assign`, `unassign`, `deregister` and `deprecate` print with --json."""

    action: str
    name: str
    version: str | None
    stage: str | None
    tag: str
    commit: str
    written: bool
    pushed: bool
    sha256: str | None


@dataclass(frozen=True)
class Change:
    """One verb's outcome. `written` False: the registry already was so; `tag` is then the
    tag that made it so, and nothing was written."""

    action: str
    name: str
    version: str | None
    stage: str | None
    tag: str
    commit: str
    written: bool
    pushed: bool = False
    sha256: str | None = None  # the model file's, as its registration recorded it

    def to_json(self) -> ChangeJson:
        return {
            "action": self.action,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "tag": self.tag,
            "commit": self.commit,
            "written": self.written,
            "pushed": self.pushed,
            "sha256": self.sha256,
        }


class _Tag(NamedTuple):
    """One of the model's tags: its name and, when it is annotated, its commit."""

    name: str
    commit: str | None


# A verb's decision: the outcome, and the tag to write for it (None: nothing to write).
Plan = tuple[Change, NewTag | None]
Planner = Callable[[Model, set[str], list[_Tag]], Plan]


# -- reading ---------------------------------------------------------------------------------


def parse_version_ref(text: str) -> tuple[str, str]:
    """NAME@vX.Y.Z as (name, version); a one-line error otherwise."""
    name, sep, version = text.rpartition("@")
    if not sep or not tags.is_name(name) or not tags.VERSION_RE.match(version):
        raise MlopsError(
            f"'{text}' is not a model version: use NAME@vX.Y.Z, e.g. my-model@v1.2.0 "
            "(`mlops-actions models` lists them)"
        )
    return name, version


def check_name(name: str) -> str:
    if not tags.is_name(name):
        raise MlopsError(
            f"'{name}' is not a registry name (letters, digits, '-', '_' and '/', starting "
            "and ending with a letter or digit; `mlops-actions models` lists them)"
        )
    return name


def check_stage(stage: str) -> str:
    if not tags.is_stage(stage):
        raise MlopsError(
            f"stage '{stage}': not a valid stage name (GTO's grammar: letters, digits, '-', "
            "'_' and '/', starting and ending with a letter or digit, valid in a git ref; "
            "e.g. prod, staging)"
        )
    return stage


def gto_stages(root: str | Path) -> list[str] | None:
    """The stages the repository's `.gto` file allows (`stages:`), None when it names none:
    `gto assign` refuses any other, and so do we."""
    from mlops_actions import yaml12

    path = Path(root) / ".gto"
    try:
        data = yaml12.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, yaml12.YamlError) as exc:
        raise MlopsError(f"{path}: not a readable GTO config ({exc}); fix or remove it") from None
    stages = data.get("stages") if isinstance(data, dict) else None
    if stages is None:
        return None
    if not isinstance(stages, list) or not all(isinstance(x, str) for x in stages):
        raise MlopsError(f"{path}: stages: expected a list of stage names, got {stages!r}")
    return stages


def _model(root: str | Path, name: str) -> Model:
    model = find_model(name, cwd=root)
    if model is None:
        have = ", ".join(models(cwd=root)) or "none"
        raise MlopsError(f"no model '{name}' in the registry (models: {have})")
    return model


def _registered(model: Model) -> str:
    found = [v.version for v in model.versions if v.registered and v.active]
    return ", ".join(found) or "none active"


def _version(model: Model, version: str) -> ModelVersion:
    v = model.find(version)
    if v is None or not v.registered:
        raise MlopsError(
            f"{model.name}@{version}: no such version (registered: {_registered(model)})"
        )
    return v


def _model_tags(root: str | Path, name: str) -> list[_Tag]:
    """Every tag of model `name`, newest first (lightweight ones have no commit)."""
    fmt = "%(refname:lstrip=2)%00%(objecttype)%00%(*objectname)"
    out = git.run("for-each-ref", "--sort=-creatordate", f"--format={fmt}", "refs/tags", cwd=root)
    found = []
    for line in out.splitlines():
        tag, kind, peeled = line.split("\x00")
        parsed = tags.parse(tag)
        if parsed is not None and parsed.name == name:
            found.append(_Tag(tag, peeled if kind == "tag" else None))
    return found


def _next_counter(taken: set[str]) -> int:
    """GTO's counter for a new tag: one more than the highest #N on any tag of the model."""
    counters = (p.counter or 0 for p in map(tags.parse, taken) if p is not None)
    return max(counters, default=0) + 1


def _info(base: TagInfo | None, run_url: str | None) -> TagInfo | None:
    """What the tag message records: the version's own record with this run as its run."""
    if base is None:
        return TagInfo(run_url=run_url) if run_url else None
    return dataclasses.replace(base, run_url=run_url)


def _sha256(v: ModelVersion) -> str | None:
    return v.info.model_sha256 if v.info else None


# -- writing ---------------------------------------------------------------------------------


def _apply(root: str | Path, name: str, plan: Planner, writer: VerbWriter, push: bool) -> Change:
    """Decide from the registry as it is, write the tag; after a lost race read and decide
    again, once."""
    if git.run("rev-parse", "--is-shallow-repository", cwd=root, check=False) == "true":
        # The tags' commits are missing: the registry cannot be read, nor its tags mirrored.
        raise MlopsError(
            f"{root}: a shallow clone cannot see the registry's tags; in GitHub Actions set "
            "`fetch-depth: 0` on actions/checkout"
        )
    if push:
        writer.refresh()
    lost = ""
    for _ in range(ATTEMPTS):
        model = _model(root, name)
        present = _model_tags(root, name)
        taken = {t.name for t in present} | writer.published_tags()
        change, new = plan(model, taken, present)
        if new is None:
            return change
        if writer.write([new], push=push):
            return dataclasses.replace(change, pushed=push)
        lost = new.name
        output.info(f"{lost} was written by another run meanwhile; reading the registry again")
        writer.refresh()
    raise MlopsError(
        f"{lost}: other runs changed {name}'s tags twice while this one wrote; nothing was "
        "tagged: check `mlops-actions models` and re-run"
    )


def assign(
    root: str | Path,
    name: str,
    version: str,
    stage: str,
    *,
    writer: VerbWriter,
    push: bool = False,
    run_url: str | None = None,
) -> Change:
    """Assign `stage` to NAME@version (GTO's ``NAME#STAGE#N`` on the version's commit).
    Nothing is written when the stage is already at that version."""
    check_name(name)
    check_stage(stage)
    allowed = gto_stages(root)
    if allowed is not None and stage not in allowed:
        raise MlopsError(
            f"stage '{stage}': not one of the stages .gto allows ({', '.join(allowed)}); "
            "add it to `stages:` in .gto or use one of them"
        )

    def plan(model: Model, taken: set[str], present: list[_Tag]) -> Plan:
        v = _version(model, version)
        if v.deregistered:
            raise MlopsError(
                f"{name}@{version} is deregistered: assign an active version "
                f"(registered: {_registered(model)}), or register this one again"
            )
        change = Change("assign", name, version, stage, "", v.commit, True, sha256=_sha256(v))
        if model.stages.get(stage) == version:
            current = _current_assignment(present, stage, v.commit)
            return dataclasses.replace(change, tag=current, written=False), None
        tag = tags.assignment(name, stage, _next_counter(taken))
        subject = tags.assignment_subject(name, stage, version)
        message = tags.format_message(subject, _info(v.info, run_url))
        return dataclasses.replace(change, tag=tag), NewTag(tag, v.commit, message)

    return _apply(root, name, plan, writer, push)


def _current_assignment(present: list[_Tag], stage: str, commit: str) -> str:
    """The newest assignment tag of `stage` on `commit` (the one in effect)."""
    for t in present:
        p = tags.parse(t.name)
        if p is not None and (p.action, p.stage, t.commit) == (tags.Action.ASSIGN, stage, commit):
            return t.name
    return ""


def unassign(
    root: str | Path,
    name: str,
    stage: str,
    *,
    writer: VerbWriter,
    push: bool = False,
    run_url: str | None = None,
) -> Change:
    """Take `stage` from the version that holds it (GTO's ``NAME#STAGE!#N`` on its commit)."""
    check_name(name)
    check_stage(stage)

    def plan(model: Model, taken: set[str], present: list[_Tag]) -> Plan:
        version = model.stages.get(stage)
        v = model.find(version) if version else None
        if version is None or v is None:
            held = ", ".join(f"{s} ({ver})" for s, ver in model.stages.items())
            raise MlopsError(f"{name} has no version in stage '{stage}' (stages: {held or 'none'})")
        tag = tags.unassignment(name, stage, _next_counter(taken))
        subject = tags.unassignment_subject(name, stage, version)
        message = tags.format_message(subject, _info(None, run_url))
        change = Change("unassign", name, version, stage, tag, v.commit, True, sha256=_sha256(v))
        return change, NewTag(tag, v.commit, message)

    return _apply(root, name, plan, writer, push)


def deregister(
    root: str | Path,
    name: str,
    version: str,
    *,
    writer: VerbWriter,
    push: bool = False,
    run_url: str | None = None,
) -> Change:
    """Deregister NAME@version (GTO's ``NAME@vX.Y.Z!`` on the version's commit)."""
    check_name(name)

    def plan(model: Model, taken: set[str], present: list[_Tag]) -> Plan:
        v = _version(model, version)
        if v.deregistered:
            raise MlopsError(f"{name}@{version} is deregistered already (GTO refuses it twice)")
        tag = tags.deregistration(name, version)
        if tag in taken:  # deregistered before and registered again
            tag = tags.deregistration(name, version, _next_counter(taken))
        subject = tags.deregistration_subject(name, version)
        message = tags.format_message(subject, _info(None, run_url))
        change = Change("deregister", name, version, None, tag, v.commit, True, sha256=_sha256(v))
        return change, NewTag(tag, v.commit, message)

    return _apply(root, name, plan, writer, push)


def deprecate(
    root: str | Path,
    name: str,
    *,
    writer: VerbWriter,
    push: bool = False,
    run_url: str | None = None,
) -> Change:
    """Deprecate the model (GTO's ``NAME@deprecated`` on the commit of its newest tag)."""
    check_name(name)

    def plan(model: Model, taken: set[str], present: list[_Tag]) -> Plan:
        if model.deprecated:
            raise MlopsError(
                f"{name} is deprecated already (GTO refuses it twice); registering or "
                "assigning a version brings it back"
            )
        commits = [t.commit for t in present if t.commit]
        if not commits:
            raise MlopsError(
                f"{name} has only lightweight tags, which GTO ignores: nothing to deprecate"
            )
        commit = commits[0]
        tag = tags.deprecation(name)
        if tag in taken:  # deprecated before and brought back since
            tag = tags.deprecation(name, _next_counter(taken))
        message = tags.format_message(tags.deprecation_subject(name), _info(None, run_url))
        change = Change("deprecate", name, None, None, tag, commit, True)
        return change, NewTag(tag, commit, message)

    return _apply(root, name, plan, writer, push)
