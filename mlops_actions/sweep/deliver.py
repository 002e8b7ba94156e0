"""What a sweep leaves on GitHub: the leaderboard as a sticky comment, the next wave as a
`workflow_dispatch` of the calling workflow, and at the end a pull request setting the best
params (its body: the leaderboard and the best trial's evidence)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from mlops_actions import git, inert, output
from mlops_actions.config.settings import Config
from mlops_actions.config.sweep import SweepSpec
from mlops_actions.errors import ConfigError
from mlops_actions.github.client import GitHub
from mlops_actions.github.context import Context
from mlops_actions.report.markdown import fit
from mlops_actions.sweep import journal, overlay
from mlops_actions.sweep.journal import TrialRecord


def marker(spec: SweepSpec) -> str:
    return f"<!-- mlops-actions:sweep id={spec.id} -->"


def comment(gh: GitHub, number: int, spec: SweepSpec, body: str, author: str | None) -> str:
    found, _ = gh.upsert_issue_comment(number, fit(body), marker(spec), author)
    return str(found.get("html_url", ""))


LABEL = "mlops-sweep"


def tracking_issue(gh: GitHub, spec: SweepSpec) -> int:
    """The sweep's own issue (label mlops-sweep, the sweep id in its title), opened once."""
    title = f"Sweep {spec.id}: {spec.metric}"
    for issue in gh.list_issues(labels=LABEL, state="open"):
        if f"Sweep {spec.id}" in str(issue.get("title", "")):
            return int(issue["number"])
    names = ", ".join(sorted(spec.params))
    body = (
        f"Hyper-parameter sweep `{spec.id}` over {inert.cell(names)}: {spec.sampler} sampler, "
        f"{spec.trials} trials in waves of {spec.parallel}. The leaderboard follows as a comment."
    )
    return int(gh.create_issue(title, body=body, labels=[LABEL])["number"])


def workflow_of(ref: str) -> tuple[str, str | None]:
    """`owner/repo/.github/workflows/sweep.yml@refs/heads/main` (github.workflow_ref) or a
    bare `sweep.yml`: the workflow file's name and the git ref, when given."""
    path, _, at = ref.partition("@")
    name = path.rsplit("/", 1)[-1]
    if not name.endswith((".yml", ".yaml")):
        raise ConfigError(f"--dispatch {ref}: not a workflow file (e.g. sweep.yml)")
    return name, at or None


def dispatch(gh: GitHub, workflow: str, ref: str) -> None:
    """Start the next wave: `workflow_dispatch` of `workflow` on `ref` (GITHUB_TOKEN may:
    unlike most events, a dispatch it sends does start a run). Permissions: `actions: write`."""
    path = f"/repos/{gh.repository}/actions/workflows/{workflow}/dispatches"
    gh.request("POST", path, json={"ref": ref}, permission="actions: write")


def evidence(spec: SweepSpec, top: TrialRecord, ref_url: str | None) -> str:
    params = "\n".join(f"    {k}: {json.dumps(v)}" for k, v in sorted(top.params.items()))
    lines = [
        f"Best of the sweep: trial {top.number}, {inert.cell(spec.metric)} = {top.value}.",
        "",
        f"- experiment: {inert.code(top.name)} (commit `{top.commit[:12]}`); "
        f"{inert.code(f'dvc exp apply {top.name}')} restores it after `git fetch origin "
        f"'refs/exps/*:refs/exps/*'`",
    ]
    if ref_url:
        lines.append(f"- sweep run: {ref_url}")
    lines += ["", "```yaml", _fence_safe(params), "```", ""]
    return "\n".join(lines)


def _fence_safe(text: str) -> str:
    return text.replace("```", "'''")


def best_params_commit(cfg: Config, top: TrialRecord, message: str) -> tuple[str, list[str]]:
    """A commit of HEAD with the best trial's params set in the params files (the user's
    files untouched): its sha and the files it changes."""
    root = overlay.top_of(cfg.root)
    rel = os.path.relpath(cfg.root, root)
    params_name = os.path.basename(cfg.path)
    with tempfile.TemporaryDirectory(prefix="mlops-best-") as tmp:
        staged = Path(tmp)
        for name in top.params:
            file, _ = overlay.split_name(name, params_name)
            source = cfg.root / file
            if source.exists():
                (staged / file).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, staged / file)
        changed = overlay.apply(staged, top.params, params_name)
        files = {
            Path(os.path.normpath(os.path.join(rel, f))).as_posix(): (staged / f).read_bytes()
            for f in changed
        }
    return journal.commit_files(cfg.root, files, message), sorted(files)


def pull_request(
    cfg: Config,
    ctx: Context,
    gh: GitHub,
    spec: SweepSpec,
    top: TrialRecord,
    body: str,
    token: str | None = None,
) -> str:
    """Push the best params to `mlops/sweep-<id>` and open (or update) its pull request.
    `token` (an App's or a PAT's): push and open with it, so the pull request's own workflows
    (report, gates) run; GITHUB_TOKEN's pushes and pull requests start none."""
    if token:
        output.add_secret(token)
        gh = GitHub(ctx.api_url, token, gh.repository)
    branch = f"mlops/sweep-{spec.id}"
    title = f"Sweep {spec.id}: set the best params ({spec.metric} {top.value:.4g})"
    commit, files = best_params_commit(cfg, top, title)
    git.run(
        "push",
        "--force",
        "origin",
        f"{commit}:refs/heads/{branch}",
        cwd=cfg.root,
        env=git.auth_env(token or ctx.token, ctx.server_url),
    )
    output.info(f"pushed {', '.join(files)} with the best params to {branch}")
    base = ctx.default_branch or gh.default_branch()
    owner = gh.repository.split("/")[0]
    existing = gh.list_pulls(state="open", head=f"{owner}:{branch}", base=base)
    if existing:
        pr = gh.update_pull(existing[0]["number"], title=title, body=fit(body))
    else:
        pr = gh.create_pull(title, branch, base, body=fit(body))
    return str(pr["html_url"])
