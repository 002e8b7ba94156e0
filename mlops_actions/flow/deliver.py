"""Everything a run leaves on GitHub and the runner: statuses, the report (file, job summary,
sticky comment), step outputs and releases. The only writer to either."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from mlops_actions import git, output
from mlops_actions.config import gates
from mlops_actions.config.settings import Config
from mlops_actions.errors import GitHubError, MlopsError
from mlops_actions.github import context
from mlops_actions.github.context import Context
from mlops_actions.metrics import json_safe
from mlops_actions.report import markdown, modelcard
from mlops_actions.tag import BOT
from mlops_actions.util import read_json, write_text

if TYPE_CHECKING:
    from mlops_actions.config.gates import GateResult
    from mlops_actions.github.client import GitHub
    from mlops_actions.github.types import Issue, StatusState
    from mlops_actions.monitor.watch import MonitorResult


@dataclass(frozen=True)
class Posted:
    where: str  # "pull request #12", "commit abc1234", or "" when nothing was posted
    url: str | None
    created: bool
    fallback: bool  # the token could not write; the report went to the job summary only


def comment_target(ctx: Context, pr: int | None) -> tuple[str, int | str] | None:
    """Where the sticky comment goes: an explicit PR, the event's PR, or the pushed commit."""
    if pr is not None:
        return "pr", pr
    if ctx.is_pull_request and ctx.pr_number is not None:
        return "pr", ctx.pr_number
    if ctx.event_name == "push" and ctx.sha:
        return "commit", ctx.sha
    return None


def post_comment(
    gh: GitHub, ctx: Context, body: str, comment_id: str, pr: int | None, author: str = BOT.name
) -> Posted:
    """Create or update the one comment that carries this report's marker and was written by
    `author`, the token's own login (GitHub Actions' bot for GITHUB_TOKEN).

    A read-only token (a pull request from a fork) is a warning, not a failure: the report is
    in the job summary instead.
    """
    from mlops_actions.github.client import GitHubRequestError

    target = comment_target(ctx, pr)
    if target is None:
        output.info(f"no pull request or pushed commit to comment on ({ctx.event_name} event)")
        return Posted("", None, False, False)
    kind, key = target
    marker = markdown.marker(comment_id)
    body = markdown.fit(body, markdown.COMMENT_LIMIT, summary_url=ctx.run_url)
    try:
        if kind == "pr":
            issue_comment, created = gh.upsert_issue_comment(int(key), body, marker, author)
            url, where = issue_comment.get("html_url"), f"pull request #{key}"
        else:
            commit_comment, created = gh.upsert_commit_comment(str(key), body, marker, author)
            url, where = commit_comment.get("html_url"), f"commit {str(key)[:7]}"
    except GitHubRequestError as exc:
        if exc.status == 403:
            why = "a pull request from a fork gets a read-only token" if ctx.is_fork else str(exc)
            output.warning(
                f"could not comment on the {kind} ({why}); the report is in the job summary"
            )
            return Posted("", None, False, True)
        if exc.status == 404 and kind == "pr":
            raise GitHubError(
                f"pull request #{key} not found in {gh.repository}, or the token cannot read it: "
                "check the number (--pr, or the event's) and the job's `permissions:` "
                f"`pull-requests: write` ({exc.method} {exc.path}: 404 {exc.github_message})"
            ) from None
        raise
    verb = "posted" if created else "updated"
    output.info(f"report {verb} on {where}: {url or ''}")
    return Posted(where, url, created, False)


class GateStatuses:
    """The commit statuses of one evaluation, as a context manager.

    On enter the overall context is set `pending`, so a required check never goes missing; a
    token that may not post statuses (a pull request from a fork) turns them off with a
    warning, and the gates still decide the exit code. `finish(results)` posts one status per
    rule and the overall one. An exception inside the block ends the overall context `error`.
    """

    def __init__(self, gh: GitHub | None, ctx: Context, prefix: str) -> None:
        self.gh, self.ctx, self.prefix = gh, ctx, prefix

    def __enter__(self) -> GateStatuses:
        if self.gh is not None and not self._start(self.gh):
            self.gh = None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if exc is not None and self.gh is not None:
            self._error(self.gh, f"the run failed: {exc}")

    def _start(self, gh: GitHub) -> bool:
        from mlops_actions.github.client import GitHubRequestError

        try:
            self._post(gh, "pending", "training and evaluating…")
        except GitHubRequestError as exc:
            if exc.status != 403 or "not accessible" not in exc.github_message.lower():
                raise  # rate limits and outages are errors; only a read-only token is expected
            fork = self.ctx.is_fork
            why = "a pull request from a fork gets a read-only token" if fork else str(exc)
            output.warning(
                f"cannot post commit statuses ({why}); the gates are in the job log only"
            )
            return False
        return True

    def finish(self, results: Sequence[GateResult]) -> None:
        """One status per rule, then the overall one."""
        if self.gh is None:
            return
        if not self.ctx.status_sha:
            output.warning("no commit to put statuses on (no GITHUB_SHA); statuses not posted")
            return
        for result in results:
            state = cast("StatusState", gates.GITHUB_STATES[result.state])
            self.gh.create_status(
                self.ctx.status_sha, state, result.context, result.description, self.ctx.run_url
            )
        overall = cast("StatusState", gates.GITHUB_STATES[gates.overall(results)])
        self._post(self.gh, overall, gates.summary(results))

    def _post(self, gh: GitHub, state: StatusState, description: str) -> None:
        if self.ctx.status_sha:
            context = gates.overall_context(self.prefix)
            gh.create_status(self.ctx.status_sha, state, context, description, self.ctx.run_url)

    def _error(self, gh: GitHub, message: str) -> None:
        """Best effort: a GitHub failure here must not hide the run's own error."""
        try:
            self._post(gh, "error", output.redact(message)[: gates.DESCRIPTION_LIMIT])
        except MlopsError as exc:
            output.warning(f"could not mark the gate status as error: {exc}")


@dataclass(frozen=True)
class Delivery:
    """Where a report goes besides its file: the job summary, the sticky comment."""

    comment_id: str = "default"
    comment: bool = False
    summary: bool = False
    pr: int | None = None  # comment on this pull request instead of the event's
    path: str | None = None  # the report file; default: report.md in the cache directory
    author: str = BOT.name  # the login the token comments as: only its comments are updated


def deliver_report(
    cfg: Config,
    ctx: Context,
    gh: GitHub | None,
    body: str,
    delivery: Delivery,
    *,
    body_on_stdout: bool = False,
) -> None:
    """Write the report file and its output; append the job summary; post the sticky comment.

    The summary comes first, so a GitHub failure while commenting never loses the report. With
    `body_on_stdout` (`report > file`) the line naming the report file goes to stderr.
    """
    named = cfg.cache.dir  # as written when set (relative to params.yaml), else outside
    target = delivery.path or (f"{named}/report.md" if named else str(cfg.cache_dir / "report.md"))
    try:
        write_text(cfg.resolve(target), body)
        write_outputs(ctx, report_path=str(cfg.resolve(target)))
        (output.status if body_on_stdout else output.info)(f"report written to {target}")
    except OSError as exc:
        if delivery.path:
            raise MlopsError(f"-o {target}: cannot write the report ({exc.strerror})") from None
        output.warning(f"{target}: cannot write the report file ({exc.strerror})")
    if delivery.summary and not context.append_summary(ctx, markdown.opened(body)):
        output.info("no job summary outside GitHub Actions (GITHUB_STEP_SUMMARY is not set)")
    if delivery.comment:
        if gh is None:
            raise GitHubError(
                "no GitHub token: set GITHUB_TOKEN (in Actions: the action's token input)"
            )
        posted = post_comment(gh, ctx, body, delivery.comment_id, delivery.pr, delivery.author)
        if posted.fallback and not delivery.summary:
            context.append_summary(ctx, markdown.opened(body))


OutputValue = str | int | float | bool | None | Sequence[object] | Mapping[str, object]


def write_outputs(ctx: Context, **values: OutputValue) -> None:
    """Step outputs, one JSON policy for all: booleans `true`/`false`, strings as they are,
    None as empty, lists and mappings as JSON (UTF-8, NaN and infinities as null).
    A keyword's underscores become dashes: `gates_passed` is the output `gates-passed`."""
    for key, value in values.items():
        text: str | int | bool
        if value is None:
            text = ""
        elif isinstance(value, (bool, int, str)):
            text = value
        else:
            text = json.dumps(json_safe(value), ensure_ascii=False, allow_nan=False, default=str)
        context.set_output(ctx, key.replace("_", "-"), text)


def client(ctx: Context) -> GitHub:
    """The one GitHub client of a command; an error when there is no token."""
    from mlops_actions.github.client import GitHub

    if not ctx.token:
        raise GitHubError(
            "no GitHub token: set GITHUB_TOKEN (in Actions: the action's token input)"
        )
    return GitHub.from_context(ctx)


def client_in_actions(ctx: Context) -> GitHub | None:
    """The client when running in Actions with a token and a repository, else None."""
    return client(ctx) if ctx.in_actions and ctx.token and ctx.repository else None


def release(gh: GitHub, cfg: Config, tag: str) -> None:
    """The GitHub release of a version just tagged on HEAD: the model card as its body, the
    model file as an asset."""
    commit = git.head_sha(cfg.root) or ""
    model = cfg.resolve(cfg.train.model)
    card = read_json(cfg.resolve(cfg.train.card))
    body = modelcard.release_body(tag, card, cfg.train.card)
    url = create_release(gh, tag, commit, body, model if model.is_file() else None)
    output.info(f"released {tag}: {url}")


def create_release(gh: GitHub, tag: str, commit: str, body: str, model: Path | None) -> str:
    """A GitHub release for `tag` (kept when it exists): `body` (the model card), the model file
    as an asset."""
    existing = gh.get_release_by_tag(tag)
    release = existing or gh.create_release(
        tag, name=tag, body=body, target_commitish=commit, make_latest="false"
    )
    if model is not None and model.is_file():
        name = f"{tag.replace('@', '-').replace('/', '-')}{''.join(model.suffixes[-1:])}"
        if not any(a.get("name") == name for a in release.get("assets", [])):
            gh.upload_release_asset(
                release, model, name=name, content_type="application/octet-stream"
            )
    return str(release.get("html_url", ""))


@dataclass(frozen=True)
class DriftIssue:
    action: str  # "opened", "updated", "closed" or "" (a clean run and no open issue)
    number: int | None = None
    url: str | None = None


def drift_issue(gh: GitHub, ctx: Context, result: MonitorResult, date: str) -> DriftIssue:
    """The one open `mlops-drift` issue of the model: opened, or updated, when the monitor
    alarms; closed with a comment when a later run is clean. Its body keeps the history of the
    runs' drift share (a hidden JSON block), carried over from the last closed one.
    Permissions: `issues: write`."""
    from mlops_actions.monitor import issue as mr

    marker = mr.issue_marker(result.model)
    ours: list[Issue] = [
        i for i in gh.list_issues(labels=mr.LABEL, state="all") if marker in (i["body"] or "")
    ]
    current = next((i for i in ours if i["state"] == "open"), None)
    last = current or (ours[0] if ours else None)  # newest first
    history = mr.add_run(mr.parse_history(last["body"] if last else None), result, date)
    if result.alarm:
        body = markdown.fit(mr.issue_body(result, history, ctx.run_url))
        title = mr.issue_title(result)
        if current is not None:
            issue = gh.update_issue(current["number"], title=title, body=body)
            action = "updated"
        else:
            issue = gh.create_issue(title, body=body, labels=[mr.LABEL])
            action = "opened"
        output.info(f"drift issue {action}: {issue['html_url']}")
        return DriftIssue(action, issue["number"], issue["html_url"])
    if current is None:
        return DriftIssue("")
    gh.create_issue_comment(current["number"], mr.clean_comment(result, ctx.run_url))
    body = markdown.fit(mr.issue_body(result, history, ctx.run_url))
    issue = gh.update_issue(current["number"], body=body, state="closed", state_reason="completed")
    output.info(f"drift issue closed, the data is clean again: {issue['html_url']}")
    return DriftIssue("closed", issue["number"], issue["html_url"])
