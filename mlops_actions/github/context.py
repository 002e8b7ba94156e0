"""Where this run is: the GitHub Actions event, or the local checkout when run by hand."""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions import git, output
from mlops_actions.errors import GitError, MlopsError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
LOCAL_EVENT = "local"

# Events whose payload carries a `pull_request` object and whose GITHUB_SHA is not the PR head.
PR_EVENTS = frozenset(
    {"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
)

_REPO_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?/[A-Za-z0-9._-]+$")
# https://github.com/o/r(.git), ssh://git@github.com/o/r.git, git@github.com:o/r.git,
# https://x-access-token:TOKEN@github.com/o/r (the credentials are never captured)
_REMOTE_RE = re.compile(
    r"^(?:(?:https?|ssh|git)://(?:[^@/]*@)?(?P<host1>[^/:]+)(?::\d+)?/"
    r"|(?:[^@/]+@)?(?P<host2>[^/:]+):/?)"
    r"(?P<repo>[^/]+/[^/]+?)(?:\.git)?/?$"
)


@dataclass(frozen=True)
class Context:
    """Everything a command needs to know about the event it runs for.

    In Actions every field comes from the runner's environment and event file. Run by hand
    (`in_actions` false) the repository and sha come from the checkout's `origin` and HEAD.
    """

    event_name: str
    event: Mapping[str, Any]
    repository: str | None
    sha: str | None
    ref: str | None
    default_branch: str | None = None
    # pull_request* events only; GITHUB_SHA is then a merge commit (or the base tip for
    # pull_request_target), so statuses and comments must use pr_head_sha.
    pr_number: int | None = None
    pr_head_sha: str | None = None
    pr_head_ref: str | None = None
    pr_head_repo: str | None = None
    pr_base_ref: str | None = None
    pr_base_sha: str | None = None
    run_url: str | None = None
    server_url: str = DEFAULT_SERVER_URL
    api_url: str = DEFAULT_API_URL
    token: str | None = field(default=None, repr=False)
    output_file: str | None = None
    summary_file: str | None = None
    in_actions: bool = False

    @property
    def local(self) -> bool:
        return not self.in_actions

    @property
    def is_pull_request(self) -> bool:
        return self.pr_number is not None

    @property
    def is_fork(self) -> bool:
        """The PR comes from another repository (its GITHUB_TOKEN is then read-only)."""
        if not self.is_pull_request:
            return False
        if self.pr_head_repo is None:  # the fork was deleted
            return True
        return self.pr_head_repo.lower() != (self.repository or "").lower()

    @property
    def status_sha(self) -> str | None:
        """The commit that statuses and commit comments belong to: the PR head on PR events."""
        return self.pr_head_sha if self.is_pull_request else self.sha

    @property
    def is_default_branch_push(self) -> bool:
        """A push to the default branch (main when the event does not name it)."""
        branch = self.default_branch or "main"
        return self.event_name == "push" and self.ref == f"refs/heads/{branch}"

    @property
    def ref_name(self) -> str | None:
        """`main` for refs/heads/main, `v1` for refs/tags/v1, the ref itself otherwise."""
        if self.ref is None:
            return None
        for prefix in ("refs/heads/", "refs/tags/"):
            if self.ref.startswith(prefix):
                return self.ref[len(prefix) :]
        return self.ref


def load(
    environ: Mapping[str, str] = os.environ,
    *,
    token: str | None = None,
    cwd: str | Path | None = None,
) -> Context:
    """Build the Context from the Actions environment, falling back to the checkout at `cwd`.

    `token` (e.g. from --token) wins over GITHUB_TOKEN, which wins over GH_TOKEN; whichever is
    used is registered as a secret so it is masked in everything we print.
    """

    def env(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    in_actions = env("GITHUB_ACTIONS") == "true"
    token = (token or "").strip() or env("GITHUB_TOKEN") or env("GH_TOKEN")
    output.add_secret(token)

    event_path = env("GITHUB_EVENT_PATH")
    event = _read_event(event_path) if event_path else {}
    event_name = env("GITHUB_EVENT_NAME") or (LOCAL_EVENT if not in_actions else "")
    server_url = (env("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")

    repository = env("GITHUB_REPOSITORY")
    sha = env("GITHUB_SHA")
    ref = env("GITHUB_REF")
    default_branch = _get(event, "repository", "default_branch")
    if not in_actions:
        repository = repository or _origin_repository(server_url, cwd)
        sha = sha or git.head_sha(cwd)
        ref = ref or _git_or_none("symbolic-ref", "-q", "HEAD", cwd=cwd)
        if default_branch is None:
            origin_head = _git_or_none(
                "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD", cwd=cwd
            )
            if origin_head and "/" in origin_head:
                default_branch = origin_head.split("/", 1)[1]
    if repository is not None and not _REPO_RE.match(repository):
        raise MlopsError(f"GITHUB_REPOSITORY='{repository}' is not of the form owner/name")

    pr: dict[str, Any] = {}
    if event_name in PR_EVENTS:
        pr = _pull_request(event, event_path, ref)
    if not pr.get("pr_base_ref") and env("GITHUB_BASE_REF"):
        pr["pr_base_ref"] = env("GITHUB_BASE_REF")  # set by the runner on pull request events

    run_url = None
    run_id = env("GITHUB_RUN_ID")
    if run_id and repository:
        run_url = f"{server_url}/{repository}/actions/runs/{run_id}"
        attempt = env("GITHUB_RUN_ATTEMPT")
        if attempt and attempt.isdigit() and int(attempt) > 1:
            run_url += f"/attempts/{attempt}"

    return Context(
        event_name=event_name,
        event=event,
        repository=repository,
        sha=sha,
        ref=ref,
        default_branch=default_branch,
        run_url=run_url,
        server_url=server_url,
        api_url=(env("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        token=token,
        output_file=env("GITHUB_OUTPUT"),
        summary_file=env("GITHUB_STEP_SUMMARY"),
        in_actions=in_actions,
        **pr,
    )


def set_output(ctx: Context, name: str, value: str | int | float | bool) -> bool:
    """Append a step output to $GITHUB_OUTPUT; any value, multi-line included, is safe.

    Uses the `name<<DELIMITER` form with a random delimiter, in one append. Returns False
    (and does nothing) when there is no output file, i.e. outside Actions.
    """
    if not name or any(c in name for c in "\r\n") or "<<" in name:
        raise ValueError(f"invalid output name {name!r}")
    if ctx.output_file is None:
        return False
    text = str(value).lower() if isinstance(value, bool) else str(value)
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in text:  # pragma: no cover - a random UUID will not be in the value
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    _append(ctx.output_file, f"{name}<<{delimiter}\n{text}\n{delimiter}\n", "GITHUB_OUTPUT")
    return True


SUMMARY_LIMIT = 1024 * 1024  # the runner refuses a step summary above 1 MiB


def append_summary(ctx: Context, markdown: str) -> bool:
    """Append Markdown to the job summary; False when there is none (outside Actions)."""
    if ctx.summary_file is None:
        return False
    text = output.redact(markdown).rstrip("\n") + "\n\n"
    try:
        used = os.path.getsize(ctx.summary_file)
    except OSError:
        used = 0
    room = SUMMARY_LIMIT - used
    if len(text.encode("utf-8")) > room:
        note = "\n\n*(truncated: the job summary is limited to 1 MiB)*\n"
        keep = max(room - len(note.encode("utf-8")), 0)
        text = text.encode("utf-8")[:keep].decode("utf-8", "ignore") + (note if keep else "")
        output.warning("the job summary reached GitHub's 1 MiB limit; the report was truncated")
    if text:
        _append(ctx.summary_file, text, "GITHUB_STEP_SUMMARY")
    return True


def _append(path: str, text: str, what: str) -> None:
    # One write on an O_APPEND descriptor: concurrent writers do not interleave within it.
    data = text.encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise MlopsError(f"{what}={path}: cannot write: {exc.strerror}") from None


def _read_event(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise MlopsError(f"event file {path} (GITHUB_EVENT_PATH) does not exist") from None
    except OSError as exc:
        raise MlopsError(f"event file {path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise MlopsError(f"event file {path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise MlopsError(
            f"event file {path}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise MlopsError(f"event file {path}: expected a JSON object, got {type(data).__name__}")
    return data


def _pull_request(event: Mapping[str, Any], path: str | None, ref: str | None) -> dict[str, Any]:
    pr = event.get("pull_request")
    if not isinstance(pr, dict):
        where = f"event file {path}" if path else "the event (no GITHUB_EVENT_PATH)"
        raise MlopsError(f"{where}: a pull request event without a 'pull_request' object")
    number = pr.get("number", event.get("number"))
    if not isinstance(number, int) or isinstance(number, bool):
        m = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", ref or "")
        if not m:
            raise MlopsError(f"event file {path}: pull_request.number is missing")
        number = int(m.group(1))
    head_sha = _get(pr, "head", "sha")
    if head_sha is None:
        raise MlopsError(f"event file {path}: pull_request.head.sha is missing")
    return {
        "pr_number": number,
        "pr_head_sha": head_sha,
        "pr_head_ref": _get(pr, "head", "ref"),
        "pr_head_repo": _get(pr, "head", "repo", "full_name"),
        "pr_base_ref": _get(pr, "base", "ref"),
        "pr_base_sha": _get(pr, "base", "sha"),
    }


def _get(data: Mapping[str, Any], *keys: str) -> str | None:
    """data[k1][k2]... when every step is an object and the end is a string, else None."""
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, str) and value else None


def parse_remote(url: str, hosts: tuple[str, ...] = ("github.com",)) -> str | None:
    """owner/name of a GitHub remote URL (https, ssh or scp-like), or None for other hosts."""
    m = _REMOTE_RE.match(url.strip())
    if not m:
        return None
    host = (m.group("host1") or m.group("host2") or "").lower()
    repo = m.group("repo")
    if host not in hosts or not _REPO_RE.match(repo):
        return None
    return repo


def _origin_repository(server_url: str, cwd: str | Path | None) -> str | None:
    url = _git_or_none("remote", "get-url", "origin", cwd=cwd)
    if not url:
        return None
    hosts = {"github.com", "ssh.github.com"}
    server_host = re.sub(r"^[a-z]+://", "", server_url).split("/", 1)[0].split(":", 1)[0]
    hosts.add(server_host.lower())
    return parse_remote(url, tuple(sorted(hosts)))


def _git_or_none(*args: str, cwd: str | Path | None) -> str | None:
    try:
        return git.run(*args, cwd=cwd) or None
    except GitError:
        return None


@dataclass(frozen=True)
class ListedPull:
    """A pull request as `workflow_run.pull_requests` lists it: GitHub lists every open pull
    request whose head branch is the run's, and each one counts for the run only when its head
    is the run's commit and its base is this repository."""

    number: int
    head_sha: str | None
    base_sha: str | None
    base_repo_url: str | None
    base_repo_id: int | None


@dataclass(frozen=True)
class TriggeringRun:
    """The run a `workflow_run` event reports on, as GitHub describes it (trusted: the event
    comes from GitHub, not from the run's own code)."""

    id: int
    event: str  # the triggering run's event: pull_request, push ...
    head_sha: str
    head_branch: str | None
    head_owner: str | None  # the owner of the repository the head is in (a fork's)
    html_url: str | None
    pull_requests: tuple[int, ...]  # empty for a pull request from a fork
    listed: tuple[ListedPull, ...] = ()  # the same pull requests, with their heads and bases


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def triggering_run(ctx: Context) -> TriggeringRun | None:
    """The workflow_run event's run, or None for other events."""
    if ctx.event_name != "workflow_run":
        return None
    run = ctx.event.get("workflow_run")
    if not isinstance(run, Mapping):
        raise MlopsError("a workflow_run event without a 'workflow_run' object")
    run_id, head_sha, event = run.get("id"), _get(run, "head_sha"), _get(run, "event")
    if not isinstance(run_id, int) or isinstance(run_id, bool) or not head_sha or not event:
        raise MlopsError("the workflow_run event lacks the run's id, head_sha or event")
    listed = []
    for pull in run.get("pull_requests") or []:
        number = _int(pull.get("number")) if isinstance(pull, Mapping) else None
        if number is not None:
            base = pull.get("base")
            listed.append(
                ListedPull(
                    number=number,
                    head_sha=_get(pull, "head", "sha"),
                    base_sha=_get(pull, "base", "sha"),
                    base_repo_url=_get(pull, "base", "repo", "url"),
                    base_repo_id=_int(_mapping_get(base, "repo", "id")),
                )
            )
    return TriggeringRun(
        id=run_id,
        event=event,
        head_sha=head_sha,
        head_branch=_get(run, "head_branch"),
        head_owner=_get(run, "head_repository", "owner", "login"),
        html_url=_get(run, "html_url"),
        pull_requests=tuple(p.number for p in listed),
        listed=tuple(listed),
    )


def _mapping_get(data: Any, *keys: str) -> Any:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    return data
