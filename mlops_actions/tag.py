"""The registry's text formats: GTO's tag names and our tag messages.

Tag names follow GTO (iterative/gto 1.x), so `gto show` and `gto history` read our registry
and we read theirs:

| tag                     | means                                        |
| ----------------------- | -------------------------------------------- |
| ``NAME@v1.2.3``         | register version v1.2.3 of NAME              |
| ``NAME@v1.2.3!``        | deregister it                                |
| ``NAME#prod#4``         | assign stage prod to the version at the tag's commit |
| ``NAME#prod!#5``        | unassign stage prod from it                  |
| ``NAME@deprecated``     | deprecate NAME                               |

Any of them may end in ``#N``, a counter over all of NAME's tags that keeps repeated actions
apart (GTO writes it on stage tags; registrations and deregistrations are "simple", without it).
A name is letters, digits, ``-``, ``_`` and ``/``, starting and ending with a letter or digit,
optionally prefixed by a directory as ``dir:name`` (``dir=name`` inside a tag). Names and stages
we write must also be valid in a git ref (`git check-ref-format`: no ``//``, no ``..``, no
component starting with ``.`` or ending in ``.lock``); a model name in params.yaml is narrower
still: lowercase letters, digits, ``-`` and ``/``.

A message keeps GTO's first line ("Registering artifact NAME version v1.2.3") and adds one
fenced JSON block that `parse_message` reads back: metrics, hashes, fingerprint, run URL.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any, NamedTuple


class Action(Enum):
    REGISTER = "register"
    DEREGISTER = "deregister"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPRECATE = "deprecate"
    CREATE = "create"  # in GTO's grammar (NAME@created) but never written or acted on by GTO


_NAME = r"[a-zA-Z0-9](?:[a-zA-Z0-9_/-]*[a-zA-Z0-9])?"
_DIRNAME = r"[a-zA-Z0-9_./-]+"
_NUM = r"0|[1-9]\d*"
_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
SEMVER = (
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<prerelease>{_IDENT}(?:\.{_IDENT})*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
NAME_RE = re.compile(rf"^(?:{_DIRNAME}:)?{_NAME}$")
STAGE_RE = re.compile(rf"^{_NAME}$")
# The model names params.yaml accepts: lowercase letters, digits and dashes (and `/`), a subset
# of what GTO accepts that is safe in tags, paths and status contexts alike.
MODEL_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-/]*[a-z0-9])?$")
VERSION_RE = re.compile(rf"^v{SEMVER}$")
TAG_RE = re.compile(
    rf"^(?P<artifact>(?:{_DIRNAME}=)?{_NAME})"
    rf"(?:(?:#(?P<stage>{_NAME})|@(?P<version>v{SEMVER}))(?P<cancel>!?)"
    r"|@(?P<special>deprecated|created))"
    r"(?:#(?P<counter>[0-9]+))?$"
)
REF_RE = re.compile(
    rf"^(?P<name>(?:{_DIRNAME}:)?{_NAME})"
    rf"(?:#(?P<stage>{_NAME})|@(?P<version>latest|greatest|v{SEMVER}))?$"
)


class SemVer(NamedTuple):
    major: int
    minor: int
    patch: int
    prerelease: str | None = None
    build: str | None = None

    @classmethod
    def parse(cls, text: str) -> SemVer:
        """'v1.2.3' (GTO's versions always start with 'v'); ValueError otherwise."""
        m = VERSION_RE.match(text)
        if not m:
            raise ValueError(f"'{text}' is not a version like v1.2.3")
        return cls(int(m["major"]), int(m["minor"]), int(m["patch"]), m["prerelease"], m["build"])

    def __str__(self) -> str:
        pre = f"-{self.prerelease}" if self.prerelease else ""
        build = f"+{self.build}" if self.build else ""
        return f"v{self.major}.{self.minor}.{self.patch}{pre}{build}"

    def key(self) -> tuple[Any, ...]:
        """SemVer precedence: a pre-release sorts before its release; build is ignored."""
        if self.prerelease is None:
            return (self.major, self.minor, self.patch, 1, ())
        parts = tuple(
            (0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease.split(".")
        )
        return (self.major, self.minor, self.patch, 0, parts)

    def bump(self, part: str) -> SemVer:
        if part == "major":
            return SemVer(self.major + 1, 0, 0)
        if part == "minor":
            return SemVer(self.major, self.minor + 1, 0)
        if part == "patch":
            return SemVer(self.major, self.minor, self.patch + 1)
        raise ValueError(f"unknown version part '{part}' (patch, minor or major)")


BUMPS = ("patch", "minor", "major")


class ParsedTag(NamedTuple):
    name: str
    action: Action
    version: str | None = None
    stage: str | None = None
    counter: int | None = None


def parse(tag: str) -> ParsedTag | None:
    """The meaning of a tag name, or None when it is not a GTO tag."""
    m = TAG_RE.match(tag)
    if not m:
        return None
    cancel = m["cancel"] == "!"
    if m["version"]:
        action = Action.DEREGISTER if cancel else Action.REGISTER
    elif m["stage"]:
        action = Action.UNASSIGN if cancel else Action.ASSIGN
    else:
        action = Action.DEPRECATE if m["special"] == "deprecated" else Action.CREATE
    counter = int(m["counter"]) if m["counter"] else None
    name = m["artifact"].replace("=", ":")
    return ParsedTag(name, action, m["version"], m["stage"], counter)


class Identity(NamedTuple):
    """Who a tag is made by: git's user.name and user.email."""

    name: str
    email: str


# The identity of tags and commits made in Actions when git has no user configured.
BOT = Identity("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")


def ref_safe(text: str) -> bool:
    """Whether `text` can be part of a git ref name, by the rules of `git check-ref-format`
    that the tag grammar does not already exclude: no empty component (``//``, a trailing
    ``/``), no ``..`` or ``@{``, no component starting with ``.`` or ending in ``.lock``."""
    if not text or text.endswith((".", "/")) or "//" in text or ".." in text or "@{" in text:
        return False
    return not any(part.startswith(".") or part.endswith(".lock") for part in text.split("/"))


def is_model_name(name: str) -> bool:
    """A model name params.yaml accepts (model.name): MODEL_NAME_RE, and valid in a ref."""
    return bool(MODEL_NAME_RE.match(name)) and ref_safe(name)


def is_name(name: str) -> bool:
    """A registry name we may write in a tag (GTO's grammar, and valid in a ref)."""
    return bool(NAME_RE.match(name)) and ref_safe(name.replace(":", "="))


def is_stage(stage: str) -> bool:
    """A stage name we may write in a tag (GTO's grammar, and valid in a ref)."""
    return bool(STAGE_RE.match(stage)) and ref_safe(stage)


def _check_name(name: str) -> str:
    if not is_name(name):
        raise ValueError(
            f"'{name}' is not a valid registry name (letters, digits, '-', '_' and '/', "
            "starting and ending with a letter or digit)"
        )
    return name.replace(":", "=")


def _check_stage(stage: str) -> str:
    if not is_stage(stage):
        raise ValueError(
            f"'{stage}' is not a valid stage (letters, digits, '-', '_' and '/', "
            "starting and ending with a letter or digit)"
        )
    return stage


def _suffix(counter: int | None) -> str:
    if counter is not None and counter < 1:
        raise ValueError(f"a tag counter starts at 1, got {counter}")
    return f"#{counter}" if counter is not None else ""


def registration(name: str, version: str, counter: int | None = None) -> str:
    SemVer.parse(version)
    return f"{_check_name(name)}@{version}{_suffix(counter)}"


def deregistration(name: str, version: str, counter: int | None = None) -> str:
    SemVer.parse(version)
    return f"{_check_name(name)}@{version}!{_suffix(counter)}"


def assignment(name: str, stage: str, counter: int | None) -> str:
    return f"{_check_name(name)}#{_check_stage(stage)}{_suffix(counter)}"


def unassignment(name: str, stage: str, counter: int | None) -> str:
    return f"{_check_name(name)}#{_check_stage(stage)}!{_suffix(counter)}"


def deprecation(name: str, counter: int | None = None) -> str:
    return f"{_check_name(name)}@deprecated{_suffix(counter)}"


def tag_prefix(name: str) -> str:
    """How every tag of model `name` starts (``dir:name`` is written ``dir=name``)."""
    return _check_name(name)


def tag_glob(name: str) -> str:
    """A `git tag --list` pattern for the tags of model `name` (and of no other model)."""
    return f"{tag_prefix(name)}[@#]*"


def next_counter(tag: str) -> str:
    """The same tag with its ``#N`` counter one higher; unchanged when it has no counter."""
    head, _, counter = tag.rpartition("#")
    return f"{head}#{int(counter) + 1}" if counter.isdigit() else tag


def format_tag(p: ParsedTag) -> str:
    """The tag name for a parsed tag: `format_tag(parse(t)) == t` for every GTO tag t."""
    if p.action is Action.REGISTER and p.version:
        return registration(p.name, p.version, p.counter)
    if p.action is Action.DEREGISTER and p.version:
        return deregistration(p.name, p.version, p.counter)
    if p.action is Action.ASSIGN and p.stage:
        return assignment(p.name, p.stage, p.counter)
    if p.action is Action.UNASSIGN and p.stage:
        return unassignment(p.name, p.stage, p.counter)
    if p.action is Action.DEPRECATE:
        return deprecation(p.name, p.counter)
    return f"{_check_name(p.name)}@created{_suffix(p.counter)}"


class Ref(NamedTuple):
    """What `models get` accepts: NAME, NAME@vX.Y.Z, NAME@latest or NAME#STAGE."""

    name: str
    version: str | None = None
    stage: str | None = None


def parse_ref(text: str) -> Ref:
    m = REF_RE.match(text)
    if not m:
        raise ValueError(
            f"'{text}' is not a model reference; use NAME@vX.Y.Z, NAME#STAGE or NAME@latest"
        )
    version = m["version"] if m["version"] not in (None, "latest", "greatest") else None
    return Ref(m["name"], version, m["stage"])


# -- messages -------------------------------------------------------------------------------

FENCE = "```"
INFO_STRING = "json mlops-actions"


def registration_subject(name: str, version: str) -> str:
    """The first line `gto register` writes."""
    return f"Registering artifact {name} version {version}"


def assignment_subject(name: str, stage: str, version: str) -> str:
    """The first line `gto assign` writes."""
    return f"Assigning stage {stage} to artifact {name} version {version}"


def unassignment_subject(name: str, stage: str, version: str) -> str:
    """The first line `gto deprecate NAME VERSION STAGE` (an unassignment) writes."""
    return f"Unassigning stage '{stage}' to artifact '{name}' version '{version}'"


def deregistration_subject(name: str, version: str) -> str:
    """The first line `gto deprecate NAME VERSION` (a deregistration) writes."""
    return f"Deregistering artifact {name} version {version}"


def deprecation_subject(name: str) -> str:
    """The first line `gto deprecate NAME` writes."""
    return f"Deprecating artifact '{name}'"


# TagInfo.model_store: "dvc": an output in the tag commit's dvc.lock (or a .dvc file), pushed to
# the DVC remote with the pipeline; "dvc-remote": pushed by promote to the DVC remote by its md5;
# "release": the asset of the version's GitHub release.
STORES = ("dvc", "dvc-remote", "release")


@dataclass(frozen=True)
class TagInfo:
    """What a registry tag's message records about the model, beyond GTO's first line."""

    metrics: dict[str, Any] = field(default_factory=dict)
    primary: str | None = None
    model_sha256: str | None = None
    model_path: str | None = None
    data: dict[str, str] = field(default_factory=dict)
    params_sha256: str | None = None
    fingerprint: str | None = None
    run_url: str | None = None
    # Where the model file stays retrievable from (`models get` in any clone):
    model_md5: str | None = None  # its md5, DVC's address for it
    model_store: str | None = None  # one of STORES, or None: the run cache and release only
    dvc_remote: str | None = None  # the DVC remote it is in (.dvc/config names its URL)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TagInfo:
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        for key in ("metrics", "data"):
            if not isinstance(known.get(key, {}), dict):
                known.pop(key)
        return cls(**known)


_HEX = {"model_sha256": 64, "model_md5": 32, "params_sha256": 64, "fingerprint": 64}


def check_info(info: TagInfo) -> str | None:
    """What is wrong with a tag message's fields, in a few words naming the field; None when
    nothing is. A tag is anyone's text: its digests must be digests (they name files and
    cache entries) and its path a relative path inside the repository."""
    for key, length in _HEX.items():
        value = getattr(info, key)
        if value is not None and not (
            isinstance(value, str) and re.fullmatch(rf"[0-9a-f]{{{length}}}", value)
        ):
            return f"{key} {_shown(value)} is not {length} lowercase hex digits"
    path = info.model_path
    if path is not None and (not isinstance(path, str) or not _relative(path)):
        return f"model_path {_shown(path)} is not a relative path inside the repository"
    if info.model_store is not None and info.model_store not in STORES:
        return f"model_store {_shown(info.model_store)} is not one of {', '.join(STORES)}"
    for key in ("primary", "run_url", "dvc_remote"):
        value = getattr(info, key)
        if value is not None and not isinstance(value, str):
            return f"{key} {_shown(value)} is not a string"
    return None


def _relative(path: str) -> bool:
    """A relative POSIX path with no empty, `.` or `..` part and no drive or backslash."""
    if not path or path.startswith("/") or "\\" in path or re.match(r"[A-Za-z]:", path):
        return False
    if any(not c.isprintable() for c in path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _shown(value: object) -> str:
    """A field's value for a one-line message: printable, and short."""
    text = "".join(c if c.isprintable() else "?" for c in json.dumps(value))
    return text if len(text) <= 40 else text[:37] + "..."


def format_message(subject: str, info: TagInfo | None) -> str:
    if info is None:
        return subject + "\n"
    body = json.dumps(asdict(info), indent=2, allow_nan=False)
    return f"{subject}\n\n{FENCE}{INFO_STRING}\n{body}\n{FENCE}\n"


def parse_message(message: str) -> TagInfo | None:
    """The TagInfo block of a tag message; None when there is none or it is unreadable."""
    start = message.find(f"{FENCE}{INFO_STRING}\n")
    if start < 0:
        return None
    start += len(FENCE) + len(INFO_STRING) + 1
    end = message.find(f"\n{FENCE}", start)
    if end < 0:
        return None
    try:
        data = json.loads(message[start:end])
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return TagInfo.from_dict(data)
    except TypeError:
        return None
