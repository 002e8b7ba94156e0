"""The publishing half of a run: the sticky comment, the commit statuses and the job summary
from a results file that another job wrote.

That job ran the pull request's code, so nothing in the file is trusted: the commit and pull
request to report on come from this job's own event (the `workflow_run` GitHub sent, or the
pull request event itself) and the file must agree with them; the comment's marker and the
statuses' prefix are this job's settings; a pull request GitHub lists for the run counts only
when its head is the run's commit and its base this repository; the gates are evaluated here,
from the rules of the base commit read through the contents API (publish_gates.py), with only
the numbers taken from the file; the Plots section is drawn here from the plot records; every
text is rendered through the inert module. No project code is imported or run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlops_actions import output
from mlops_actions.config import gates
from mlops_actions.config.gates import GateResult, State
from mlops_actions.config.rules import parse_rule
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver, publish_gates
from mlops_actions.flow.results import GateRecord, Results
from mlops_actions.github import context
from mlops_actions.github.context import Context
from mlops_actions.report import charts, markdown

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub


@dataclass(frozen=True)
class Target:
    """What this job reports on, from its own event."""

    event_name: str
    sha: str
    pr: int | None
    run_url: str | None
    base_sha: str | None = None  # the pull request's base commit, as GitHub has it


def target(ctx: Context, found: Results, gh: GitHub | None) -> Target:
    """The commit and pull request of the trusted event; a MlopsError when the results claim
    others (an artifact of another pull request or commit is refused, not published)."""
    run = context.triggering_run(ctx)
    if run is not None:
        pr, base = _run_pull_request(ctx, run, found, gh)
        trusted = Target(run.event, run.head_sha, pr, run.html_url, base)
    elif ctx.is_pull_request and ctx.pr_head_sha:
        base = ctx.pr_base_sha
        trusted = Target(ctx.event_name, ctx.pr_head_sha, ctx.pr_number, ctx.run_url, base)
    elif ctx.sha:
        trusted = Target(ctx.event_name, ctx.sha, None, ctx.run_url)
    else:
        raise MlopsError("no commit to publish for: GITHUB_SHA is not set")
    _agree("event", found.event_name, trusted.event_name)
    _agree("commit", found.sha, trusted.sha)
    _agree("pull request", found.pr, trusted.pr)
    return trusted


def _agree(what: str, claimed: object, trusted: object) -> None:
    if claimed != trusted:
        raise MlopsError(
            f"the results name {what} {_show(claimed)} but this run publishes for "
            f"{_show(trusted)}: refusing results that do not belong to this run"
        )


def _setting(what: str, claimed: str, ours: str, option: str, source: str) -> None:
    """A setting of the publishing job, which the results must have been made with: a status
    prefix from the results could set another check, a marker another workflow's comment."""
    if claimed != ours:
        raise MlopsError(
            f"the results were made with {what} '{claimed[:40]}' but this job publishes with "
            f"'{ours}': set the publish step's {option} input (--{option}) to {source} "
            "value; a results file never chooses it"
        )


def _show(value: object) -> str:
    if value is None:
        return "none"
    return f"#{value}" if isinstance(value, int) else f"'{str(value)[:40]}'"


def _run_pull_request(
    ctx: Context, run: context.TriggeringRun, found: Results, gh: GitHub | None
) -> tuple[int | None, str | None]:
    """The pull request of a workflow_run: GitHub lists the open pull requests whose head
    branch is the run's (only those into this repository); one counts when its head is the
    run's commit and its base is this repository. For a fork's (an empty list) the claimed
    number counts only when that pull request's head is the run's head commit, asked of
    GitHub. With the number, the pull request's base commit as GitHub has it."""
    if run.event not in context.PR_EVENTS:
        return None, None
    if found.pr is None:
        raise MlopsError(f"the results of a {run.event} run name no pull request; refusing them")
    if run.listed:
        listed = next((p for p in run.listed if p.number == found.pr), None)
        if listed is None:
            numbers = ", ".join(f"#{p.number}" for p in run.listed)
            raise MlopsError(
                f"the results name pull request #{found.pr} but the workflow_run lists "
                f"{numbers}: refusing results that do not belong to this run"
            )
        _check_listed(ctx, run, listed)
        return listed.number, listed.base_sha
    if gh is None or not run.head_branch or not run.head_owner:
        raise MlopsError(
            "cannot check the pull request of the results without a token and the run's head "
            "branch; refusing them"
        )
    for pull in gh.list_pulls(state="open", head=f"{run.head_owner}:{run.head_branch}"):
        repo = pull["base"].get("repo")
        into = repo["full_name"].lower() if repo else (ctx.repository or "").lower()
        if (
            pull["number"] == found.pr
            and pull["head"]["sha"] == run.head_sha
            and into == (ctx.repository or "").lower()
        ):
            return found.pr, pull["base"]["sha"]
    raise MlopsError(
        f"pull request #{found.pr} is not an open pull request whose head is the run's commit "
        f"{run.head_sha[:7]} ({run.head_owner}:{run.head_branch}): refusing the results"
    )


def _check_listed(ctx: Context, run: context.TriggeringRun, pull: context.ListedPull) -> None:
    """A listed pull request whose head moved on, or whose base is another repository (a pull
    request between two forks on the same branch name), is not this run's."""
    if pull.head_sha != run.head_sha:
        raise MlopsError(
            f"pull request #{pull.number}'s head is {_show(pull.head_sha)}, not the run's commit "
            f"{run.head_sha[:7]}: refusing to publish another commit's results on it"
        )
    ours = f"/repos/{ctx.repository or ''}".lower()
    repository = ctx.event.get("repository")
    repo_id = repository.get("id") if isinstance(repository, dict) else None
    # The API's URL of the base repository (https://api.github.com/repos/OWNER/NAME).
    same_url = pull.base_repo_url is not None and pull.base_repo_url.lower().endswith(ours)
    same_id = pull.base_repo_id is not None and pull.base_repo_id == repo_id
    if not (same_url or same_id):
        raise MlopsError(
            f"pull request #{pull.number} of the workflow_run is into "
            f"{_show(pull.base_repo_url)}, not {ctx.repository}: refusing to publish on it"
        )


def gate_results(records: list[GateRecord], prefix: str) -> list[GateResult]:
    """The gates as the statuses and the report need them; each rule must parse, and its
    status context is built here, under this job's prefix."""
    out = []
    for index, rec in enumerate(records):
        try:
            rule = parse_rule(rec.rule)
        except ValueError as exc:
            raise MlopsError(
                f"results: gates.results[{index}].rule: {exc}; refusing them"
            ) from None
        where = gates.context(rule, prefix)
        state: State = rec.state  # type: ignore[assignment]  # the schema's enum
        out.append(
            GateResult(
                rule=rule,
                state=state,
                value=rec.value,
                baseline=rec.baseline,
                threshold=rec.threshold,
                detail=rec.detail,  # made inert where it is rendered
                description=rec.description,
                context=where,
            )
        )
    return out


def evaluated(
    found: Results, where: Target, gh: GitHub | None, prefix: str, params: str
) -> list[GateResult]:
    """The statuses, evaluated here from rules read through the contents API; without a token
    (nothing is posted) the records' rules, evaluated here all the same."""
    if gh is None:
        rules = tuple(r.rule for r in gate_results(found.gates, prefix))
        no_baseline = "error" if where.pr is not None else "skip"
        trusted = publish_gates.Trusted(rules, no_baseline, "the results (no token)")
        return publish_gates.evaluate(found, trusted, prefix)
    trusted = publish_gates.trusted(
        gh, params, head=where.sha, base=where.base_sha, pull_request=where.pr is not None
    )
    output.info(f"gates: the rules of {trusted.where}")
    return publish_gates.evaluate(found, trusted, prefix)


def body(found: Results, where: Target, results: list[GateResult], ctx: Context) -> str:
    """The report, rendered here: the facts this job knows (commit, run) are its own."""
    assert found.report is not None
    head_url = f"{ctx.server_url}/{ctx.repository}/commit/{where.sha}" if ctx.repository else None
    data = dataclasses.replace(
        found.report,
        # report.render shows every text of the results through the inert module
        gates_markdown=gates.render_markdown(results, with_headline=False)
        if results
        else gates.NO_GATES,
        verdict=gates.headline(results),
        failed=gates.failed_metrics(results),
        plots=charts.render(found.plots, found.plot_notes, where.run_url),
        run_url=where.run_url,
        head=where.sha,
        head_url=head_url,
    )
    return markdown.render(data, found.comment_id)


def publish_results(
    ctx: Context,
    gh: GitHub | None,
    found: Results,
    *,
    comment_id: str,
    author: str,
    prefix: str,
    params: str = "params.yaml",
) -> int:
    """Statuses, then the job summary and the sticky comment. The exit code is the gates'.
    `params`: the params file, relative to the repository's root, whose rules gate."""
    _setting("comment id", found.comment_id, comment_id, "comment-id", "the results step's")
    prefix_from = "params.yaml's mlops.gate_options.status_prefix"
    _setting("status prefix", found.status_prefix, prefix, "status-prefix", prefix_from)
    where = target(ctx, found, gh)
    results = evaluated(found, where, gh, prefix, params)
    trusted = dataclasses.replace(
        ctx,
        event_name=where.event_name,
        sha=where.sha,
        pr_number=where.pr,
        pr_head_sha=where.sha if where.pr is not None else None,
        run_url=where.run_url,
    )
    with deliver.GateStatuses(gh if results or found.error else None, trusted, prefix) as s:
        if found.error is not None or found.report is None:
            raise MlopsError(f"the training job failed: {found.error or 'no report'}")
        s.finish(results)
    text = body(found, where, results, trusted)
    delivery = deliver.Delivery(
        comment_id, comment=gh is not None and where.pr is not None, summary=True, author=author
    )
    _deliver(trusted, gh, text, delivery, where)
    deliver.write_outputs(
        trusted, gates_passed=gates.exit_code(results) == 0, gates=[r.to_dict() for r in results]
    )
    if found.gates_note:
        output.warning(found.gates_note)
    output.info(gates.summary(results) if results else "no gates")
    return gates.exit_code(results)


def _deliver(
    ctx: Context, gh: GitHub | None, text: str, delivery: deliver.Delivery, where: Target
) -> None:
    if not context.append_summary(ctx, markdown.opened(text)):
        output.info("no job summary outside GitHub Actions (GITHUB_STEP_SUMMARY is not set)")
    if delivery.comment and gh is not None:
        posted = deliver.post_comment(gh, ctx, text, delivery.comment_id, where.pr, delivery.author)
        if posted.fallback:
            output.warning("the report is in the job summary only")
