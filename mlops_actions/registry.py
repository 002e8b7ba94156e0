"""The model registry: GTO-format git tags, read in one `git for-each-ref`; promote; get.

State follows GTO's rules (`gto show`, default `--sort timestamp`):
- a version is active when its latest registration/deregistration tag is a registration;
- an assignment tag belongs to the version registered at the tag's commit (an unregistered
  commit becomes a version named by its hexsha, as in GTO);
- a stage points at the active version whose latest still-active assignment is newest.
"Newest" is the tagger date; GTO breaks same-second ties arbitrarily, we break them by the
tag's ``#N`` counter, then registration before deregistration, assignment before unassignment.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from mlops_actions import git, output
from mlops_actions import metrics as metrics_mod
from mlops_actions import tag as tags
from mlops_actions.config import Config
from mlops_actions.errors import ConfigError, GitError, MetricsError, MlopsError
from mlops_actions.metrics import lower_is_better
from mlops_actions.tag import Action, SemVer, TagInfo
from mlops_actions.training.cache import ENTRY
from mlops_actions.util import atomic_path, file_hash

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
MAX_ATTEMPTS = 5


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

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
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


# -- the model being promoted ----------------------------------------------------------------


def run_url() -> str | None:
    env = os.environ
    parts = [env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    if not all(parts):
        return None
    server, repo, run_id = parts
    return f"{server}/{repo}/actions/runs/{run_id}"


def _params_sha256(params: Any) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def current_info(cfg: Config, run_url: str | None = None) -> TagInfo:
    """What the tag will record about the workspace's model: metrics, hashes, run URL."""
    metrics_path, card_path = cfg.resolve(cfg.train.metrics), cfg.resolve(cfg.train.card)
    for name, path in ((cfg.train.metrics, metrics_path), (cfg.train.card, card_path)):
        if not path.is_file():
            raise MlopsError(f"{name}: not found; run `mlops-actions train` first")
    flat = metrics_mod.load(metrics_path, cfg.train.metrics).flat()
    values = {k: v for k, v in flat.items() if not (isinstance(v, float) and not math.isfinite(v))}
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        model = card.get("model") or {}
        data = card.get("data") or {}
        hashes = {k: str(v.get("md5")) for k, v in data.items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError) as exc:
        raise MlopsError(
            f"{cfg.train.card}: not a model card ({exc}); run `mlops-actions train` again"
        ) from None
    sha, rel = model.get("sha256"), model.get("path")
    if sha and rel:
        model_file = cfg.resolve(rel)
        if not model_file.is_file():
            raise MlopsError(f"{rel}: not found; run `mlops-actions train` first")
        if file_hash(model_file) != sha:
            raise MlopsError(
                f"{rel}: does not match its model card {cfg.train.card}; "
                "run `mlops-actions train` again"
            )
    return TagInfo(
        metrics=values,
        primary=cfg.metrics.primary,
        model_sha256=sha,
        model_path=rel,
        data=hashes,
        params_sha256=_params_sha256(card.get("params")),
        fingerprint=card.get("fingerprint"),
        run_url=run_url,
    )


# -- promote ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromoteSettings:
    """params.yaml's `promote:` section."""

    bump: str = "patch"
    stage: str | None = None


def settings(cfg: Config) -> PromoteSettings:
    return PromoteSettings(cfg.promote.bump, cfg.promote.stage)


@dataclass(frozen=True)
class NewTag:
    name: str
    commit: str
    message: str


class TagWriter(Protocol):
    """Where promote's tags are written: local git (+ push), or later the GitHub API."""

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        """Create all the tags or none. False when one of them already exists where they are
        published (another run took the name first); nothing is left behind then."""
        ...

    def refresh(self) -> None:
        """Bring the local tags up to date with the published ones."""
        ...

    def published_versions(self) -> set[str]:
        """Versions taken where the tags are published, as far as refresh() learned them
        (including tags on commits this clone does not have)."""
        ...


class GitTagWriter:
    """Annotated tags made with `git tag`; with push, one `git push --atomic` to the remote."""

    BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")

    def __init__(self, root: str | Path, remote: str = "origin") -> None:
        self.root = root
        self.remote = remote

    def _identity(self) -> list[str]:
        """Tag as the Actions bot when git has no user configured (a fresh runner)."""
        if git.run("var", "GIT_COMMITTER_IDENT", cwd=self.root, check=False):
            return []
        return ["-c", f"user.name={self.BOT[0]}", "-c", f"user.email={self.BOT[1]}"]

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        created: list[str] = []
        identity = self._identity()
        try:
            for t in new:
                git.run(
                    *identity,
                    "tag",
                    "-a",
                    "--cleanup=verbatim",
                    "-m",
                    t.message,
                    t.name,
                    t.commit,
                    cwd=self.root,
                )
                created.append(t.name)
            if push and not self._push(created):
                self._delete(created)
                return False
        except BaseException:
            self._delete(created)
            raise
        return True

    def _push(self, names: list[str]) -> bool:
        refspecs = [f"refs/tags/{n}:refs/tags/{n}" for n in names]
        proc = git.result("push", "--atomic", "--porcelain", self.remote, *refspecs, cwd=self.root)
        lines = [line.split("\t") for line in proc.stdout.splitlines() if line.count("\t") >= 2]
        flags = {parts[1]: parts[0][:1] for parts in lines}
        if all(flags.get(spec) in ("*", "=", " ") for spec in refspecs):
            return True
        taken = git.run(
            "ls-remote", "--tags", self.remote, *(f"refs/tags/{n}" for n in names), cwd=self.root
        )
        if taken:
            return False
        refused = _refusal(lines, proc.stderr)
        if refused:
            raise GitError(
                f"git push {self.remote}: the remote refused {', '.join(names)} ({refused}); "
                f"nothing was tagged: let {self.remote} accept these tag names (its hooks or "
                "tag protection rules) and re-run"
            )
        git.run("push", "--atomic", self.remote, *refspecs, cwd=self.root)  # git's own error
        return True

    def _delete(self, names: list[str]) -> None:
        if names:
            with contextlib.suppress(MlopsError):
                git.run("tag", "-d", *names, cwd=self.root)

    def refresh(self) -> None:
        git.run("fetch", "--quiet", self.remote, "refs/tags/*:refs/tags/*", cwd=self.root)

    def published_versions(self) -> set[str]:
        return set()  # fetched tags are local tags: the registry already sees them


def _refusal(porcelain: list[list[str]], stderr: str) -> str:
    """Why the remote refused a push: git's reason and what the remote's hooks said; "" when
    it refused no ref (the push failed some other way)."""
    if not any(flag.startswith("!") for flag, *_ in porcelain):
        return ""
    reasons: list[str] = []
    for flag, _, summary, *_ in porcelain:
        reason = summary.partition("(")[2].rstrip(")").strip() or summary.strip("[] ")
        if flag.startswith("!") and reason != "atomic push failed" and reason not in reasons:
            reasons.append(reason)
    said = [
        ln.removeprefix("remote:").strip() for ln in stderr.splitlines() if ln.startswith("remote:")
    ]
    return ": ".join(part for part in ("; ".join(reasons), "; ".join(filter(None, said))) if part)


@dataclass(frozen=True)
class PromoteResult:
    promoted: bool
    reason: str
    version: str | None = None
    tag: str | None = None
    stage_tag: str | None = None
    stage: str | None = None
    pushed: bool = False


def _fmt(value: Any, other: Any) -> tuple[str, str]:
    """Two numbers short, but never so short that different values print the same."""
    for spec in (".4g", ".6g", ".10g", "r"):
        a, b = (repr(x) if spec == "r" else format(x, spec) for x in (value, other))
        if a != b or value == other:
            return a, b
    return repr(value), repr(other)  # pragma: no cover


def _beats(cfg: Config, primary: str, value: Any, base: ModelVersion) -> tuple[bool, str]:
    old: Any = (base.info.metrics if base.info else {}).get(primary)
    if not metrics_mod.finite(old):
        return True, f"{primary} {value:.4g}; {base.version} has no recorded {primary}"
    lower = lower_is_better(primary, cfg.metrics.lower_is_better, cfg.metrics.higher_is_better)
    new_s, old_s = _fmt(value, old)
    if (value < old) if lower else (value > old):
        return True, f"{primary} {new_s} {'<' if lower else '>'} {old_s}"
    hint = " (lower is better)" if lower else ""
    return False, f"{primary} {new_s} does not beat {base.version}'s {old_s}{hint}"


def _already(name: str, v: ModelVersion, head: str, meanwhile: bool) -> PromoteResult:
    state = " (deregistered)" if v.deregistered else ""
    who = "another run registered it as" if meanwhile else "it is already registered as"
    return PromoteResult(
        False, f"HEAD {head[:7]}: {who} {name}@{v.version}{state}", v.version, v.tag
    )


def _assign_missing_stage(
    model: Model,
    v: ModelVersion,
    stage: str,
    head: str,
    info: TagInfo,
    writer: TagWriter,
    push: bool,
) -> PromoteResult:
    name = model.name
    stage_tag = tags.assignment(name, stage, model.max_counter + 1)
    message = tags.format_message(tags.assignment_subject(name, stage, v.version), info)
    if not writer.write([NewTag(stage_tag, head, message)], push=push):
        raise MlopsError(f"{stage_tag}: another run assigned this stage meanwhile; re-run the job")
    reason = f"{name}@{v.version} was registered without its stage {stage}; assigned it now"
    return PromoteResult(True, reason, v.version, v.tag, stage_tag, stage, push)


def promote(
    cfg: Config,
    *,
    bump: str | None = None,
    stage: str | None = None,
    push: bool = False,
    gates_passed: bool | None = None,
    writer: TagWriter | None = None,
    info: TagInfo | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    run_url: str | None = None,
) -> PromoteResult:
    """Tag HEAD as the next version of the model if the gates passed (None: not evaluated)
    and it beats the latest version on `metrics.primary`; `stage` also assigns that stage.

    Tags are never moved: when a push finds the version taken by a concurrent run, our local
    tags are dropped, the remote tags fetched and the next free version tried.
    """
    opts = settings(cfg)
    bump, stage = bump or opts.bump, stage or opts.stage
    if bump not in tags.BUMPS:
        raise MlopsError(f"--bump: '{bump}' is not one of patch, minor, major")
    if stage is not None and not tags.STAGE_RE.match(stage):
        raise MlopsError(f"--stage: '{stage}' is not a valid stage name (e.g. prod, staging)")
    primary = cfg.metrics.primary
    if not primary:
        raise ConfigError(
            f"{cfg.path}: metrics.primary: not set; promote compares models on it "
            "(e.g. metrics: {primary: f1})"
        )
    info = info or current_info(cfg, run_url)
    value: Any = info.metrics.get(primary)
    if not metrics_mod.finite(value):
        have = ", ".join(sorted(info.metrics)) or "none"
        raise MetricsError(
            f"{cfg.train.metrics}: no numeric '{primary}' (metrics.primary); it has: {have}"
        )
    if gates_passed is False:
        return PromoteResult(False, "the gates failed")
    head = git.head_sha(cfg.root)
    if head is None:
        raise MlopsError(f"{cfg.root}: not a git repository with a commit; promote tags HEAD")
    if git.run("rev-parse", "--is-shallow-repository", cwd=cfg.root, check=False) == "true":
        # The versions to beat may sit on commits a shallow clone lacks: deciding without
        # them could promote a worse model as a "first version".
        raise MlopsError(
            f"{cfg.root}: a shallow clone cannot see the registry's history; in GitHub Actions "
            "set `fetch-depth: 0` on actions/checkout"
        )
    name = cfg.model.name
    writer = writer or GitTagWriter(cfg.root)
    if push:
        writer.refresh()
    model = find_model(name, cwd=cfg.root)
    existing = model.at_commit(head) if model else None
    if model and existing:
        if stage and existing.active and stage not in existing.stages:
            # A run that registered this version but could not assign its stage: finish it.
            return _assign_missing_stage(model, existing, stage, head, info, writer, push)
        return _already(name, existing, head, meanwhile=False)
    base = model.latest() if model else None
    if base is None:
        reason = f"first version; {primary} {value:.4g}"
    else:
        better, reason = _beats(cfg, primary, value, base)
        if not better:
            return PromoteResult(False, reason)
    for _ in range(max_attempts):
        version = next_version(
            bump, [*(model.taken if model else ()), *writer.published_versions()]
        )
        new = [
            NewTag(
                tags.registration(name, version),
                head,
                tags.format_message(tags.registration_subject(name, version), info),
            )
        ]
        if stage:
            counter = (model.max_counter if model else 0) + 1
            subject = tags.assignment_subject(name, stage, version)
            new.append(
                NewTag(
                    tags.assignment(name, stage, counter), head, tags.format_message(subject, info)
                )
            )
        if writer.write(new, push=push):
            stage_tag = new[1].name if stage else None
            return PromoteResult(True, reason, version, new[0].name, stage_tag, stage, push)
        output.info(f"{new[0].name} was pushed by another run meanwhile; trying the next version")
        writer.refresh()
        model = find_model(name, cwd=cfg.root)
        existing = model.at_commit(head) if model else None
        if model and existing:
            return _already(name, existing, head, meanwhile=True)
    raise MlopsError(
        f"could not push a new version of {name} in {max_attempts} attempts: other runs kept "
        "taking the version numbers; nothing was tagged, re-run the job"
    )


# -- get -------------------------------------------------------------------------------------


class ModelSource(Protocol):
    """A place a registered model file may be found. A GitHub release asset source (download
    into a temp file, yield it) slots in here without changing `get`."""

    label: str

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]: ...


class RunCacheSource:
    """The run cache: runs/<fingerprint>/ first, then every entry whose model has the hash."""

    label = "run cache"

    def __init__(self, cfg: Config) -> None:
        self.runs = cfg.resolve(cfg.cache.dir) / "runs"

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

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        path = self.cfg.resolve(self.cfg.train.model)
        if path.is_file() and file_hash(path) == sha256:
            yield path


class ReleaseSource:
    """The asset of the version's GitHub release (`promote --release` uploads it)."""

    label = "GitHub release"

    def __init__(self, gh: Any) -> None:
        self.gh = gh  # a mlops_actions.github.GitHub

    def candidates(self, version: ModelVersion, sha256: str) -> Iterator[Path]:
        import tempfile

        release = self.gh.get_release_by_tag(version.tag) if version.tag else None
        for asset in (release or {}).get("assets", []):
            with tempfile.TemporaryDirectory(prefix="mlops-asset-") as tmp:
                path = Path(tmp) / asset["name"]
                path.write_bytes(self.gh.download_release_asset(asset["id"]))
                yield path


def default_sources(cfg: Config, gh: Any = None) -> list[ModelSource]:
    sources: list[ModelSource] = [RunCacheSource(cfg), WorkspaceSource(cfg)]
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
        found = model.find(model.stages[r.stage])
    elif r.version:
        found = model.find(r.version)
    else:
        found = model.latest()
    if found is None:
        latest = model.latest()
        hint = f"; the latest is {latest.version}" if latest else ""
        raise MlopsError(f"{ref}: no such version of {r.name}{hint}")
    return found


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
    v = resolve(ref, cwd=cfg.root)
    sha = v.info.model_sha256 if v.info else None
    label = f"{v.name}@{v.version}"
    if not sha:
        raise MlopsError(
            f"{ref}: {v.tag or v.commit[:7]} records no model sha256 (not made by "
            "`mlops-actions promote`?), so the file cannot be verified"
        )
    if out is None:
        suffix = Path(v.info.model_path or cfg.train.model).suffix if v.info else ""
        out = f"{v.name.replace('/', '-').replace(':', '-')}-{v.version}{suffix}"
    target = Path(out)
    mismatched: list[str] = []
    for source in sources if sources is not None else default_sources(cfg):
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
    raise MlopsError(
        f"{label}: no file with sha256 {sha[:12]} in the run cache ({cfg.cache.dir}) or the "
        f"workspace ({cfg.train.model}); check out {v.commit[:7]} and run `mlops-actions train`"
    )


from mlops_actions.remote_tags import RestTagWriter  # noqa: E402, F401
