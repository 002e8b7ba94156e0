"""Which revision a comparison reads as the baseline, fetched from origin when a clone lacks it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlops_actions import git
from mlops_actions.errors import GitError

FETCH_HINT = "in GitHub Actions, set `fetch-depth: 0` on actions/checkout"


@dataclass(frozen=True)
class Baseline:
    """What the workspace is compared against.

    kind "ref": the files committed at `sha` (`ref` as the user or the PR named it);
    kind "tag": metrics from a registry tag (the fallback hook); kind "none": no baseline
    metrics (`ref`/`sha`, when set, are the revision the params were still compared against).
    """

    kind: Literal["ref", "tag", "none"]
    ref: str | None = None
    sha: str | None = None
    label: str = "no baseline"

    @property
    def name(self) -> str:
        """A short column header: the ref as named, or 'baseline'."""
        return self.ref or "baseline"


@dataclass(frozen=True)
class BaselineMetrics:
    """What the fallback hook returns: metrics files' parsed content (objects), by path."""

    baseline: Baseline
    metrics: Mapping[str, dict[str, Any]]


Fallback = Callable[[], BaselineMetrics | None]


def _has_origin(cwd: Path) -> bool:
    return "origin" in git.run("remote", cwd=cwd, check=False).split()


def fetch(ref: str, cwd: Path) -> tuple[str | None, str]:
    """Fetch one ref from origin (depth 1 in a shallow clone); its sha, or why it failed."""
    if not _has_origin(cwd):
        return None, "there is no 'origin' remote to fetch it from"
    shallow = git.run("rev-parse", "--is-shallow-repository", cwd=cwd, check=False) == "true"
    depth = ["--depth=1"] if shallow else []
    args = ("fetch", "--quiet", "--no-tags", *depth, "origin")
    # A branch lands in origin/<ref>, so the next command finds it without fetching again.
    branch = git.remote_result(*args, f"+refs/heads/{ref}:refs/remotes/origin/{ref}", cwd=cwd)
    if branch.returncode == 0:
        return git.commit_sha(f"refs/remotes/origin/{ref}", cwd), ""
    proc = git.remote_result(*args, ref, cwd=cwd)  # a tag or a commit
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        why = next(
            (line for line in lines if line.startswith("fatal:")), lines[-1] if lines else ""
        )
        return None, f"`git fetch origin {ref}` failed: {why or 'no output'}"
    return git.commit_sha("FETCH_HEAD", cwd), ""


def _find(candidates: list[str], fetch_name: str | None, cwd: Path) -> tuple[str | None, str]:
    for candidate in candidates:
        if sha := git.commit_sha(candidate, cwd):
            return sha, ""
    return fetch(fetch_name, cwd) if fetch_name else (None, "")


def default_branch(cwd: Path) -> tuple[str, str] | None:
    """(name, sha): origin/HEAD, else main or master (local or origin/), else what origin calls
    HEAD, fetched."""
    head = git.run("symbolic-ref", "--quiet", "refs/remotes/origin/HEAD", cwd=cwd, check=False)
    if head.startswith("refs/remotes/") and (sha := git.commit_sha(head, cwd)):
        return head.removeprefix("refs/remotes/"), sha
    for name in ("main", "master"):
        for ref in (name, f"origin/{name}"):
            if sha := git.commit_sha(ref, cwd):
                return ref, sha
    if _has_origin(cwd):  # e.g. actions/checkout, which sets no origin/HEAD
        remote = git.remote_result("ls-remote", "--symref", "origin", "HEAD", cwd=cwd).stdout
        first = remote.splitlines()[0] if remote else ""
        if first.startswith("ref: refs/heads/"):
            name = first.split()[1].removeprefix("refs/heads/")
            sha, _ = fetch(name, cwd)
            if sha:
                return name, sha
    return None


def _at(ref: str, sha: str) -> Baseline:
    return Baseline("ref", ref, sha, f"{ref} ({sha[:7]})")


def resolve_baseline(
    base: str | None = None, pr_base_ref: str | None = None, *, cwd: str | Path | None = None
) -> Baseline:
    """The git revision to compare against: `base` if given, else the PR's base branch, else
    the default branch; fetched from origin when this clone lacks it. Kind "none" when the repo
    has no such branch. Raises GitError when a named ref cannot be found or fetched."""
    where = Path(cwd) if cwd is not None else Path.cwd()
    if base:
        sha, why = _find([base, f"origin/{base}"], base, where)
        if not sha:
            raise GitError(
                f"--base {base}: no such branch, tag or commit here"
                f"{f'; {why}' if why else ''} ({FETCH_HINT})"
            )
        return _at(base, sha)
    if pr_base_ref:
        sha, why = _find([f"origin/{pr_base_ref}", pr_base_ref], pr_base_ref, where)
        if not sha:
            raise GitError(
                f"the pull request's base branch '{pr_base_ref}' is not in this clone"
                f"{f'; {why}' if why else ''} ({FETCH_HINT})"
            )
        return _at(pr_base_ref, sha)
    found = default_branch(where)
    if found is None:
        return Baseline("none", label="no main, master or origin/HEAD branch found")
    return _at(*found)


@dataclass(frozen=True)
class BaseSettings:
    """Our settings as the pull request's base branch has them: what a pull request is gated
    with, so that it cannot move, rename or loosen what it is measured against. Read leniently:
    a value the base does not set is None."""

    sha: str
    metrics: str | None = None  # mlops.train.metrics (relative to the params file)
    model_name: str | None = None  # mlops.model.name, else the base dvc.yaml's one model
    gates: list[str] | None = None  # mlops.gates as written
    no_baseline: str | None = None
    rules_from: str | None = None
    allow_pull_request_target: bool = False  # only `true` itself counts


def file_at(sha: str, path: str, cwd: Path) -> bytes | None:
    """The content of `path` (relative to `cwd`) committed at `sha`, or None."""
    proc = git.result("show", f"{sha}:./{path}", cwd=cwd)
    return proc.stdout.encode() if proc.returncode == 0 else None


def _mapping(node: Any, *keys: str) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dvc_model(text: bytes | None) -> str | None:
    """The one model artifact a dvc.yaml declares, or None."""
    from mlops_actions import yaml12

    try:
        loaded = yaml12.load(text) if text else None
    except yaml12.YamlError:
        return None
    artifacts = _mapping(loaded, "artifacts")
    if not isinstance(artifacts, dict):
        return None
    models = [str(name) for name, a in artifacts.items() if _mapping(a, "type") == "model"]
    return models[0] if len(models) == 1 else None


@functools.lru_cache(maxsize=16)
def settings_at(root: Path, params: str, sha: str) -> BaseSettings:
    """The base's settings from its params file (`params` relative to `root`) and dvc.yaml;
    kept per commit (a commit never changes), so a run reads them once."""
    from mlops_actions import yaml12

    try:
        loaded = yaml12.load(file_at(sha, params, root) or b"")
    except yaml12.YamlError:
        loaded = None
    section = _mapping(loaded, "mlops")
    gates = _mapping(section, "gates")
    model = _text(_mapping(section, "model", "name")) or _dvc_model(file_at(sha, "dvc.yaml", root))
    return BaseSettings(
        sha=sha,
        metrics=_text(_mapping(section, "train", "metrics")),
        model_name=model,
        gates=[str(g) for g in gates] if isinstance(gates, list) else None,
        no_baseline=_text(_mapping(section, "gate_options", "no_baseline")),
        rules_from=_text(_mapping(section, "gate_options", "rules_from")),
        allow_pull_request_target=_mapping(section, "gate_options", "allow_pull_request_target")
        is True,
    )
