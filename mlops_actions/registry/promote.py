"""Promotion: what the tag records about the workspace's model, the policy that decides
whether it becomes the next version, and the bounded loop that publishes it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass

from mlops_actions import git, output
from mlops_actions import metrics as metrics_mod
from mlops_actions import tag as tags
from mlops_actions.config import gatenames
from mlops_actions.config.settings import Config
from mlops_actions.dvcio import store as dvcstore
from mlops_actions.dvcio.data import file_md5
from mlops_actions.errors import ConfigError, MetricsError, MlopsError
from mlops_actions.metrics import lower_is_better
from mlops_actions.registry.state import Model, ModelVersion, find_model, next_version
from mlops_actions.registry.writers import GitTagWriter, NewTag, TagWriter
from mlops_actions.tag import TagInfo
from mlops_actions.util import file_hash

MAX_ATTEMPTS = 5

# -- the model being promoted ----------------------------------------------------------------


def _params_sha256(params: object) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def current_info(cfg: Config, run_url: str | None) -> TagInfo:
    """What the tag will record about the workspace's model: metrics, hashes, and `run_url`
    (the workflow run that made it: `Context.run_url`, None outside Actions)."""
    metrics_path, card_path = cfg.resolve(cfg.train.metrics), cfg.resolve(cfg.train.card)
    for name, path in ((cfg.train.metrics, metrics_path), (cfg.train.card, card_path)):
        if not path.is_file():
            raise MlopsError(f"{name}: not found; run `mlops-actions train` first")
    # Several metrics files: `path:metric` names, and the bare ones no two files share.
    flat = gatenames.values(cfg, metrics_mod.load(metrics_path, cfg.train.metrics)).values
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
    if not (sha and rel):  # a version whose model nobody can fetch is no version
        raise ConfigError(
            f"{cfg.path}: mlops.train.model: '{cfg.train.model}' was not written by the last "
            "training, so there is no model to register; set mlops.train.model to the file the "
            "pipeline writes (or declare it with `type: model` under dvc.yaml's `artifacts:` or "
            "in artifacts.yaml) and train again"
        )
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


def durable(cfg: Config, info: TagInfo, head: str, *, release: bool = False) -> TagInfo:
    """Make the model file retrievable from any clone before it is registered, and record
    where: a DVC output of HEAD's dvc.lock (or .dvc file) is DVC's; any other model file is
    stored in the project's DVC remote by its md5 (DVC's layout); without a remote, only the
    release asset (`--release`) outlives the run cache."""
    if not info.model_path or not info.model_sha256 or info.model_store:
        return info
    model = cfg.resolve(info.model_path)
    md5 = file_md5(model)
    found = dvcstore.remote(cfg.root)
    tracked = dvcstore.recorded_md5(cfg.root, head, info.model_path) == md5
    store = "dvc" if tracked else "dvc-remote" if found else "release" if release else None
    if store is None:
        return info  # only the run cache (and the workspace) hold it
    if found is not None:
        dvcstore.push_file(cfg.root, model, md5, found)
    name = found.name if found else None
    return dataclasses.replace(info, model_md5=md5, model_store=store, dvc_remote=name)


# -- the policy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromoteResult:
    promoted: bool
    reason: str
    version: str | None = None
    tag: str | None = None
    stage_tag: str | None = None
    stage: str | None = None
    pushed: bool = False
    registered: bool = True  # False: `tag` was there already, only `stage_tag` is new
    commit: str | None = None  # the commit tagged
    sha256: str | None = None  # the model file's


def _number(value: object) -> float | None:
    """`value` itself when it is a finite number (not a bool), else None."""
    if isinstance(value, (int, float)) and metrics_mod.finite(value):
        return value
    return None


def _fmt(value: float, other: float) -> tuple[str, str]:
    """Two numbers short, but never so short that different values print the same."""
    for spec in (".4g", ".6g", ".10g", "r"):
        a, b = (repr(x) if spec == "r" else format(x, spec) for x in (value, other))
        if a != b or value == other:
            return a, b
    return repr(value), repr(other)  # pragma: no cover


def _beats(cfg: Config, primary: str, value: float, base: ModelVersion) -> tuple[bool, str]:
    old = _number((base.info.metrics if base.info else {}).get(primary))
    if old is None:
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
    # The stage records what the version recorded (the bytes registered and approved), not
    # what this run's workspace holds.
    if v.info is not None:
        info = dataclasses.replace(v.info, run_url=info.run_url)
    message = tags.format_message(tags.assignment_subject(name, stage, v.version), info)
    if not writer.write([NewTag(stage_tag, head, message)], push=push):
        raise MlopsError(f"{stage_tag}: another run assigned this stage meanwhile; re-run the job")
    reason = f"{name}@{v.version} was registered without its stage {stage}; assigned it now"
    return PromoteResult(
        True, reason, v.version, v.tag, stage_tag, stage, push, False, head, info.model_sha256
    )


# -- promote ---------------------------------------------------------------------------------


def promote(
    cfg: Config,
    *,
    bump: str | None = None,
    stage: str | None = None,
    push: bool = False,
    gates_passed: bool | None = None,
    writer: TagWriter | None = None,
    info: TagInfo | None = None,
    run_url: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    release: bool = False,
) -> PromoteResult:
    """Tag HEAD as the next version of the model if the gates passed (None: not evaluated)
    and it beats the latest version on `metrics.primary`; `stage` also assigns that stage.
    `bump` and `stage` default to params.yaml's `promote:`; `run_url` is recorded in the tags
    (unless `info` is given, which is recorded as it is). The model file is stored where any
    clone can get it (`durable`) before the first tag is written; `release`: a GitHub release
    will hold it.

    Tags are never moved: when a push finds the version taken by a concurrent run, our local
    tags are dropped, the remote tags fetched and the next free version tried.
    """
    bump, stage = _checked_options(cfg, bump, stage)
    primary = _primary(cfg)
    info = info or current_info(cfg, run_url)
    value = _value(cfg, primary, info)
    if gates_passed is False:
        return PromoteResult(False, "the gates failed")
    head = _head(cfg)
    writer = writer or GitTagWriter(cfg.root)
    if push:
        writer.refresh()
    model = find_model(cfg.model_name, cwd=cfg.root)
    existing = model.at_commit(head) if model else None
    if model and existing:
        if stage and existing.active and stage not in existing.stages:
            # A run that registered this version but could not assign its stage: finish it.
            return _assign_missing_stage(model, existing, stage, head, info, writer, push)
        return _already(cfg.model_name, existing, head, meanwhile=False)
    better, reason = _verdict(cfg, primary, value, model)
    if not better:
        return PromoteResult(False, reason)
    info = durable(cfg, info, head, release=release)
    attempt = _Attempt(cfg.model_name, head, info, writer, push)
    for _ in range(max_attempts):
        result = attempt.tag(bump, stage, reason, model)
        if result is not None:
            return result
        model = find_model(cfg.model_name, cwd=cfg.root)
        existing = model.at_commit(head) if model else None
        if model and existing:
            return _already(cfg.model_name, existing, head, meanwhile=True)
    raise MlopsError(
        f"could not push a new version of {cfg.model_name} in {max_attempts} attempts: other "
        "runs kept taking the version numbers; nothing was tagged, re-run the job"
    )


def _checked_options(cfg: Config, bump: str | None, stage: str | None) -> tuple[str, str | None]:
    """`bump` and `stage`, else params.yaml's `promote:` ones, checked."""
    bump, stage = bump or cfg.promote.bump, stage or cfg.promote.stage
    if bump not in tags.BUMPS:
        raise MlopsError(f"--bump: '{bump}' is not one of patch, minor, major")
    if stage is not None and not tags.is_stage(stage):
        raise MlopsError(f"--stage: '{stage}' is not a valid stage name (e.g. prod, staging)")
    return bump, stage


def _primary(cfg: Config) -> str:
    """The metric versions are compared on."""
    if not cfg.metrics.primary:
        raise ConfigError(
            f"{cfg.path}: mlops.metrics.primary: not set; promote compares models on it "
            "(e.g. mlops: {metrics: {primary: f1}})"
        )
    return cfg.metrics.primary


def _value(cfg: Config, primary: str, info: TagInfo) -> float:
    value = _number(info.metrics.get(primary))
    if value is None:
        have = ", ".join(sorted(info.metrics)) or "none"
        raise MetricsError(
            f"{cfg.train.metrics}: no numeric '{primary}' (mlops.metrics.primary); it has: {have}"
        )
    return value


def _head(cfg: Config) -> str:
    """The commit to tag: HEAD of a clone that can see the registry's history."""
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
    return head


def _verdict(cfg: Config, primary: str, value: float, model: Model | None) -> tuple[bool, str]:
    """Whether this run is a new version, and why: it beats the latest, or there is none."""
    base = model.latest() if model else None
    if base is not None:
        return _beats(cfg, primary, value, base)
    if model and any(v.deregistered for v in model.versions):
        why = "no active version to beat (every earlier one is deregistered)"
        return True, f"{why}; {primary} {value:.4g}"
    return True, f"first version; {primary} {value:.4g}"


@dataclass(frozen=True)
class _Attempt:
    """One try at tagging `head` as the next free version (and its stage)."""

    name: str
    head: str
    info: TagInfo
    writer: TagWriter
    push: bool

    def tag(
        self, bump: str, stage: str | None, reason: str, model: Model | None
    ) -> PromoteResult | None:
        """The result, or None (the writer refreshed) when another run took the version."""
        name, head, info = self.name, self.head, self.info
        taken = [*(model.taken if model else ()), *self.writer.published_versions()]
        version = next_version(bump, taken)
        subject = tags.registration_subject(name, version)
        new = [NewTag(tags.registration(name, version), head, tags.format_message(subject, info))]
        if stage:
            counter = (model.max_counter if model else 0) + 1
            subject = tags.assignment_subject(name, stage, version)
            assignment = tags.assignment(name, stage, counter)
            new.append(NewTag(assignment, head, tags.format_message(subject, info)))
        if self.writer.write(new, push=self.push):
            stage_tag = new[1].name if stage else None
            return PromoteResult(
                True,
                reason,
                version,
                new[0].name,
                stage_tag,
                stage,
                self.push,
                commit=head,
                sha256=info.model_sha256,
            )
        output.info(f"{new[0].name} was pushed by another run meanwhile; trying the next version")
        self.writer.refresh()
        return None
