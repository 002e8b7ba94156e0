"""Scheduled retraining: refresh the data; only when a hash changed, retrain, compare with the
latest promoted model and, when the gates pass, open or update one pull request."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions import console, git, inert, output, yaml12
from mlops_actions.config.settings import Config
from mlops_actions.dvcio import data, failure
from mlops_actions.errors import DataError, MlopsError
from mlops_actions.flow import deliver, gating, reporting, steps
from mlops_actions.flow.steps import RunOptions
from mlops_actions.github import context
from mlops_actions.github.context import Context
from mlops_actions.report import markdown
from mlops_actions.tag import BOT

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub

BRANCH = "mlops/retrain"


def _is_import(path: Path) -> bool:
    """A .dvc file made by `dvc import`/`import-url`: it has deps that `dvc update` refreshes."""
    try:
        loaded = yaml12.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml12.YamlError):
        return False
    return isinstance(loaded, dict) and bool(loaded.get("deps"))


def refresh(cfg: Config, files: list[str]) -> list[str]:
    """`dvc update` the imported data, pull the rest; returns the .dvc files whose hash changed."""
    before = {f: _hashes(cfg, f) for f in files}
    imports = [f for f in files if _is_import(cfg.resolve(f))]
    if imports:
        proc = data.run_dvc(["update", *imports], cfg.root)
        if proc.returncode != 0:
            why = failure.dvc_message(proc.stderr + proc.stdout)
            raise DataError(f"{', '.join(imports)}: dvc update failed: {why}")
    return [f for f in files if _hashes(cfg, f) != before[f]]


def _hashes(cfg: Config, name: str) -> list[str]:
    return [o.md5 for o in data.read_dvc_file(cfg.resolve(name), cfg.root)]


def run(
    cfg: Config,
    ctx: Context,
    gh: GitHub | None,
    options: RunOptions,
    *,
    evidence: str | None = None,
    also: tuple[str, ...] = (),
) -> int:
    """`evidence`: the monitor's report when it found drift or decay and `monitor.retrain` is
    on; then the model is retrained even on unchanged data, and the pull request opens with the
    evidence. `also`: more .dvc files for its commit (the monitored data's)."""
    if ctx.in_actions:
        _on_the_default_branch(ctx)
    files = steps.dvc_files(cfg)
    changed = refresh(cfg, files) if files else []
    if not changed and evidence is not None:
        output.info("the monitor found drift or decay: retraining")
    elif not changed:
        where = ", ".join(files) or "no .dvc files"
        line = f"scheduled retraining: the data is unchanged ({where}); nothing to retrain"
        output.info(line)
        context.append_summary(ctx, inert.text(line) + "\n")
        deliver.write_outputs(ctx, retrained=False, promoted=False, version="", tag="")
        return 0
    else:
        output.info(f"new data in {', '.join(changed)}: retraining")
        _push_data(cfg, changed, options)
    pulled = steps.pull(cfg, remote=options.remote, jobs=options.jobs)
    console.pulled(pulled, cfg)
    trained = steps.train(cfg, pulled.version, use_cache=options.use_cache)
    console.trained(trained, cfg)
    console.metrics_table(trained.metrics)
    gates = gating.promotion_gates(cfg, trained.metrics)
    console.gate_run(gates)
    found = gating.compare(cfg, ctx, gating.latest_tag(cfg))
    body = reporting.report_body(cfg, ctx, found, gates, trained, f"retrain-{options.comment_id}")
    deliver.deliver_report(cfg, ctx, None, body, deliver.Delivery())
    deliver.write_outputs(
        ctx,
        promoted=False,
        version="",
        tag="",
        retrained=True,
        metrics=trained.metrics.json(),
        gates_passed=gates.passed,
    )
    if gates.passed:
        files_changed = list(dict.fromkeys([*changed, *also]))
        pr_body = f"{evidence}\n\n{body}" if evidence is not None else body
        url = open_pull_request(cfg, ctx, gh, options, files_changed, pr_body)
        context.append_summary(ctx, f"Retrained on new data: {url}\n\n{markdown.opened(body)}")
    else:
        output.info("the retrained model does not pass the gates; no pull request")
        context.append_summary(ctx, markdown.opened(body))
    return gates.code


def _on_the_default_branch(ctx: Context) -> None:
    """Retraining commits what the checkout holds: only the default branch's reviewed code may
    become a retraining pull request (a dispatch on a feature branch would push its unreviewed
    commits into mlops/retrain under the bot's name)."""
    branch = ctx.default_branch or "main"
    if ctx.ref != f"refs/heads/{branch}":
        raise MlopsError(
            f"retraining runs only on the default branch '{branch}', not {ctx.ref or 'this ref'}:"
            f" nothing was retrained; dispatch the workflow on {branch}"
        )


def _push_data(cfg: Config, changed: list[str], options: RunOptions) -> None:
    """Upload the new data to the DVC remote so the pull request's checks can pull it."""
    args = ["push", *changed] + (["--remote", options.remote] if options.remote else [])
    proc = data.run_dvc(args, cfg.root)
    if proc.returncode != 0:
        why = failure.dvc_message(proc.stderr + proc.stdout)
        output.warning(
            f"dvc push of the new data failed ({why}); "
            "the pull request's checks may not find it on the remote"
        )


def _files_to_commit(cfg: Config, changed: list[str]) -> list[str]:
    """The changed .dvc files and the training outputs git tracks, relative to the repo root."""
    top = Path(git.run("rev-parse", "--show-toplevel", cwd=cfg.root))
    candidates = [cfg.resolve(f) for f in changed]
    candidates += [
        cfg.resolve(p) for p in (cfg.train.metrics, cfg.train.confusion_matrix, "dvc.lock")
    ]
    tracked = set(git.run("ls-files", cwd=top).splitlines())
    paths = []
    for path in candidates:
        rel = os.path.relpath(path.resolve(), top)
        if path.is_file() and (rel in tracked or path.suffix == ".dvc"):
            paths.append(rel)
    return list(dict.fromkeys(paths))


def commit_on_branch(cfg: Config, paths: list[str], message: str) -> str:
    """A commit of HEAD plus `paths` as in the workspace, made without touching the index."""
    top = git.run("rev-parse", "--show-toplevel", cwd=cfg.root)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "GIT_INDEX_FILE": os.path.join(tmp, "index"),
            "GIT_AUTHOR_NAME": BOT[0],
            "GIT_AUTHOR_EMAIL": BOT[1],
            "GIT_COMMITTER_NAME": BOT[0],
            "GIT_COMMITTER_EMAIL": BOT[1],
        }
        git.run("read-tree", "HEAD", cwd=top, env=env)
        git.run("update-index", "--add", "--", *paths, cwd=top, env=env)
        tree = git.run("write-tree", cwd=top, env=env)
        return git.run("commit-tree", tree, "-p", "HEAD", "-m", message, cwd=top, env=env)


def open_pull_request(
    cfg: Config,
    ctx: Context,
    gh: GitHub | None,
    options: RunOptions,
    changed: list[str],
    body: str,
) -> str:
    """Push the new .dvc files to BRANCH and open, or update, its one pull request."""
    from mlops_actions.github.client import GitHub

    token = options.retrain_token or ctx.token
    output.add_secret(token)
    paths = _files_to_commit(cfg, changed)
    what = f"new data ({', '.join(changed)})" if changed else "the same data, after drift"
    message = f"Retrain {cfg.model.name or cfg.root.name} on {what}"
    commit = commit_on_branch(cfg, paths, message)
    git.run(
        "push",
        "--force",
        "origin",
        f"{commit}:refs/heads/{BRANCH}",
        cwd=cfg.root,
        env=git.auth_env(token, ctx.server_url),
    )
    output.info(f"pushed {', '.join(paths)} to {BRANCH}")
    if not (token and ctx.repository):
        output.warning(
            "no GitHub token or repository: the branch is pushed, no pull request opened"
        )
        return BRANCH
    if gh is None or token != ctx.token:  # the retraining token is a client of its own
        gh = GitHub(ctx.api_url, token, ctx.repository)
    base = ctx.default_branch or gh.default_branch()
    owner = ctx.repository.split("/")[0]
    title = f"Retrain {cfg.model.name or cfg.root.name} on new data"
    existing = gh.list_pulls(state="open", head=f"{owner}:{BRANCH}", base=base)
    head = inert.code((git.head_sha(cfg.root) or "")[:7])
    source = f"Retrained from {head} of {inert.code(base)}.\n\n"
    body = source + body
    if existing:
        pr = gh.update_pull(existing[0]["number"], title=title, body=markdown.fit(body))
        output.info(f"updated the retraining pull request: {pr['html_url']}")
    else:
        pr = gh.create_pull(title, BRANCH, base, body=markdown.fit(body))
        output.info(f"opened the retraining pull request: {pr['html_url']}")
    return str(pr["html_url"])
