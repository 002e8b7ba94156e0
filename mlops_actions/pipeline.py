"""The path of one run, top to bottom: each step a plain function on plain data."""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_actions import data, output
from mlops_actions.config import Config
from mlops_actions.errors import ConfigError
from mlops_actions.training import TrainResult
from mlops_actions.util import file_hash

if TYPE_CHECKING:
    from mlops_actions.compare import BaselineMetrics, Comparison
    from mlops_actions.context import Context
    from mlops_actions.gates import GateResult
    from mlops_actions.report import ReportInput


@dataclass(frozen=True)
class RunOptions:
    remote: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    comment_id: str = "default"
    promote: bool = True
    bump: str | None = None
    stage: str | None = None
    release: bool = False
    retrain_token: str | None = None


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files to use; the default data.dvc may be absent (data kept in git)."""
    explicit = isinstance(cfg.raw.get("data"), dict) and "dvc" in cfg.raw["data"]
    present = [f for f in cfg.data.dvc if cfg.resolve(f).is_file()]
    if explicit and len(present) < len(cfg.data.dvc):
        missing = next(f for f in cfg.data.dvc if f not in present)
        raise ConfigError(
            f"{cfg.path}: data.dvc: '{missing}' does not exist; run `dvc add` for the data"
        )
    return present


def _untracked_version(cfg: Config) -> dict[str, dict[str, Any]]:
    path = cfg.resolve(cfg.data.path)
    if not path.is_file():
        raise ConfigError(f"{cfg.path}: data.path: '{cfg.data.path}' does not exist")
    version = {"dvc_file": None, "md5": file_hash(path, "md5"), "size": path.stat().st_size}
    return {cfg.data.path: {**version, "nfiles": 1}}


def pull(cfg: Config, options: RunOptions) -> dict[str, dict[str, Any]]:
    """Pull and verify the versioned data; returns the data version for training."""
    files = dvc_files(cfg)
    if not files:
        output.info(f"no .dvc file found; using {cfg.data.path} as it is in the workspace")
        return _untracked_version(cfg)
    result = data.pull(cfg.root, files, remote=options.remote, jobs=options.jobs)
    verb = "pulled and verified" if result.pulled else "up to date:"
    output.info(
        f"data {verb} {_plural(result.files, 'file')}, {_size(result.size)} ({', '.join(files)})"
    )
    return data.describe(cfg.root, result.outputs)


def verified_data(cfg: Config) -> dict[str, dict[str, Any]]:
    """The data version of the workspace, checked against the .dvc files (no pull)."""
    files = dvc_files(cfg)
    if not files:
        return _untracked_version(cfg)
    return data.describe(cfg.root, data.check(cfg.root, files))


def train(cfg: Config, version: dict[str, dict[str, Any]], options: RunOptions) -> TrainResult:
    from mlops_actions.training.runner import train as run_training

    result = run_training(cfg, version, use_cache=options.use_cache)
    where = os.path.relpath(result.metrics_path, cfg.root)
    if result.cache_hit:
        output.info(f"cache hit: restored {where} and the model from run {result.fingerprint[:12]}")
    else:
        output.info(f"trained ({result.mode}) in {result.seconds:.2f} s; wrote {where}")
    return result


def show_metrics(result: TrainResult) -> None:
    from tabulate import tabulate

    from mlops_actions.metrics import scalars

    rows = [(k, _fmt(v)) for k, v in scalars(result.metrics).items()]
    output.info(tabulate(rows, headers=["metric", "value"], tablefmt="simple"))


def registry_baseline(cfg: Config) -> BaselineMetrics | None:
    """The latest promoted version's metrics: the baseline when the base branch has none."""
    from mlops_actions import compare, registry

    model = registry.find_model(cfg.model.name, cwd=cfg.root)
    latest = model.latest() if model else None
    if latest is None or latest.info is None or not latest.info.metrics:
        return None
    found = compare.Baseline("tag", ref=latest.tag, sha=latest.commit, label=f"`{latest.tag}`")
    return compare.BaselineMetrics(found, {cfg.train.metrics: latest.info.metrics})


def comparison(cfg: Config, ctx: Context, base: str | None) -> Comparison:
    from mlops_actions import compare

    return compare.compare(
        cfg.path, base=base, pr_base_ref=ctx.pr_base_ref, fallback=lambda: registry_baseline(cfg)
    )


def current_metrics(cfg: Config) -> dict[str, Any]:
    from mlops_actions import metrics

    return metrics.scalars(metrics.load(cfg.resolve(cfg.train.metrics), cfg.train.metrics))


def baseline_metrics(cfg: Config, found: Comparison) -> dict[str, Any] | None:
    """The base values of the training metrics file, flattened; None with no baseline."""
    if found.baseline.kind == "none":
        return None
    path = posixpath.normpath(cfg.train.metrics)  # entry paths are relative to the project root
    values = {e.key: e.old for e in found.rows("metrics", all=True) if e.path == path}
    return {k: v for k, v in values.items() if v is not None} or None


def evaluate_gates(
    cfg: Config, current: dict[str, Any], baseline: dict[str, Any] | None, where: str
) -> list[GateResult]:
    from mlops_actions import gates

    rules = gates.parse_rules(cfg.gates, cfg.path)
    options = cfg.gate_options
    relative = sum(rule.relative for rule in rules)
    if baseline is None and relative:
        outcome = {"skip": "skipped", "fail": "failed", "error": "errors"}[options.no_baseline]
        output.warning(
            f"no base metrics ({where}): {relative} relative gate(s) {outcome} "
            f"(gate_options.no_baseline: {options.no_baseline})"
        )
    return gates.evaluate(
        rules, current, baseline, no_baseline=options.no_baseline, prefix=options.status_prefix
    )


def _dvc_hash_at(cfg: Config, sha: str | None, dvc_file: str) -> str | None:
    import yaml

    from mlops_actions import git
    from mlops_actions.errors import GitError

    if not sha:
        return None
    rel = os.path.relpath(cfg.resolve(dvc_file), cfg.root)
    try:
        data = yaml.safe_load(git.run("show", f"{sha}:./{rel}", cwd=cfg.root))
    except (GitError, yaml.YAMLError):
        return None
    outs = data.get("outs") if isinstance(data, dict) else None
    return str(outs[0].get("md5")) if isinstance(outs, list) and outs else None


def report_input(
    cfg: Config,
    ctx: Context,
    found: Comparison,
    results: list[GateResult] | None,
    trained: TrainResult | None = None,
) -> ReportInput:
    import json

    from mlops_actions import gates, report

    base = found.baseline
    label = None
    if base.kind != "none":
        label = base.label if base.kind == "tag" else f"`{base.name}` ({(base.sha or '')[:7]})"
    versions = []
    for name in dvc_files(cfg):
        for out in data.read_dvc_file(cfg.resolve(name), cfg.root):
            versions.append(
                report.DataVersion(
                    name,
                    _dvc_hash_at(cfg, base.sha, name),
                    out.md5,
                    out.nfiles or (None if out.is_dir else 1),
                    out.size,
                )
            )
    confusion_path = cfg.resolve(cfg.train.confusion_matrix)
    confusion = json.loads(confusion_path.read_text()) if confusion_path.is_file() else None
    card = read_json(cfg.resolve(cfg.train.card))
    return report.ReportInput(
        model=cfg.model.name,
        baseline=label,
        metrics=[report.Row(e.key, e.old, e.new, e.path) for e in found.rows("metrics", all=True)],
        params=[report.Row(e.key, e.old, e.new, e.path) for e in found.rows("params")],
        data=versions,
        gates_markdown=gates.render_markdown(results) if results else None,
        mode=trained.mode if trained else card.get("mode"),
        cache_hit=trained.cache_hit if trained else None,
        run_url=ctx.run_url,
        confusion=confusion,
        lower=cfg.metrics.lower_is_better,
        higher=cfg.metrics.higher_is_better,
        primary=cfg.metrics.primary,
    )


def read_json(path: Any) -> dict[str, Any]:
    import json

    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def run(cfg: Config, ctx: Context, options: RunOptions) -> int:
    """The work for this event; the exit code is the gates' (0 pass, 1 fail, 2 error).

    pull_request: pull, train, compare with the base branch, report, gates as statuses.
    push to the default branch: pull, train, gates against the latest version, promote.
    schedule / workflow_dispatch: retrain when the data changed (see retrain.py).
    Outside Actions: pull, train, the metrics table and the gates.
    """
    if ctx.event_name in ("schedule", "workflow_dispatch"):
        from mlops_actions import retrain

        return retrain.run(cfg, ctx, options)
    gh = github_client(ctx) if ctx.in_actions and ctx.token and ctx.repository else None
    statuses = gh is not None and bool(cfg.gates) and start_statuses(gh, ctx, cfg)
    from mlops_actions import context as context_mod
    from mlops_actions import gates, publish

    try:
        results, trained, body = _evaluate(cfg, ctx, options)
        if statuses and gh is not None:
            publish.post_statuses(gh, ctx, results, cfg.gate_options.status_prefix)
    except BaseException as exc:
        if statuses:
            publish_error(gh, ctx, cfg, f"the run failed: {exc}")
        raise
    code = gates.exit_code(results)
    context_mod.set_output(ctx, "gates-passed", code == 0)
    context_mod.set_output(ctx, "gates", json.dumps([r.to_dict() for r in results]))
    context_mod.set_output(ctx, "metrics", json.dumps(trained.metrics, allow_nan=False))
    # After the statuses, so they tell the gates' verdict even when GitHub then refuses the
    # comment (that still fails the job, loudly; the report is in the job summary first).
    comment = gh is not None and ctx.is_pull_request
    deliver_report(cfg, ctx, body, options.comment_id, comment, ctx.in_actions, None, None)
    if _on_default_branch_push(ctx) and options.promote:
        promote(cfg, ctx, options, gh, code)
    else:
        set_promotion_outputs(ctx, None)
    return code


def start_statuses(gh: Any, ctx: Context, cfg: Config) -> bool:
    """Set the overall status pending; False (with a warning) when the token may not post
    statuses, as on a pull request from a fork: the gates still decide the exit code."""
    from mlops_actions.github import GitHubRequestError

    try:
        publish_pending(gh, ctx, cfg)
    except GitHubRequestError as exc:
        if exc.status != 403 or "not accessible" not in exc.github_message.lower():
            raise  # rate limits and outages are errors; only a read-only token is expected
        why = "a pull request from a fork gets a read-only token" if ctx.is_fork else str(exc)
        output.warning(f"cannot post commit statuses ({why}); the gates are in the job log only")
        return False
    return True


def _on_default_branch_push(ctx: Context) -> bool:
    branch = ctx.default_branch or "main"
    return ctx.event_name == "push" and ctx.ref == f"refs/heads/{branch}"


def latest_tag(cfg: Config) -> str | None:
    from mlops_actions import registry

    model = registry.find_model(cfg.model.name, cwd=cfg.root)
    latest = model.latest() if model else None
    return latest.tag if latest else None


def _evaluate(
    cfg: Config, ctx: Context, options: RunOptions
) -> tuple[list[GateResult], TrainResult, str]:
    """Pull, train, compare and gate; returns the gate results, the run and the report."""
    from mlops_actions import report
    from mlops_actions.errors import MlopsError

    version = pull(cfg, options)
    trained = train(cfg, version, options)
    show_metrics(trained)
    # A pull request is compared with its base branch; a push to main with the latest
    # promoted version (the model it has to beat).
    base = latest_tag(cfg) if ctx.event_name == "push" else None
    try:
        found = comparison(cfg, ctx, base)
    except MlopsError as exc:
        if ctx.is_pull_request:
            raise
        output.warning(f"no comparison: {exc}")
        results = evaluate_gates(cfg, trained.metrics, None, "no comparison") if cfg.gates else []
        show_gates(results)
        return results, trained, report.render(report.ReportInput(cfg.model.name, None, []))
    if ctx.event_name == "push":
        results = promotion_gates(cfg) if cfg.gates else []
    else:
        baseline = baseline_metrics(cfg, found)
        current = current_metrics(cfg)
        results = evaluate_gates(cfg, current, baseline, found.baseline.label) if cfg.gates else []
    show_gates(results)
    body = report.render(report_input(cfg, ctx, found, results, trained), options.comment_id)
    return results, trained, body


def show_gates(results: list[GateResult]) -> None:
    from mlops_actions import gates
    from mlops_actions.commands.gate import render_table

    if results:
        output.info(render_table(results))
        for result in results:
            if result.state == gates.ERROR:
                output.error(f"gate '{result.text}': {result.detail}")
        output.info(gates.summary(results))


def set_promotion_outputs(ctx: Context, result: Any) -> None:
    from mlops_actions import context as context_mod

    promoted = result is not None and result.promoted
    context_mod.set_output(ctx, "promoted", promoted)
    context_mod.set_output(ctx, "version", (result.version or "") if promoted else "")
    context_mod.set_output(ctx, "tag", (result.tag or "") if promoted else "")


def promote(cfg: Config, ctx: Context, options: RunOptions, gh: Any, gate_code: int) -> None:
    from mlops_actions import registry

    writer = None
    if gh is not None:
        from mlops_actions.remote_tags import RestTagWriter

        writer = RestTagWriter(gh, cfg.root, cfg.model.name)
    result = registry.promote(
        cfg,
        bump=options.bump,
        stage=options.stage,
        push=gh is not None,
        gates_passed=gate_code == 0,
        writer=writer,
    )
    if result.promoted:
        output.info(f"promoted {result.tag} ({result.reason})")
        if options.release and gh is not None and result.tag:
            from mlops_actions.publish import create_release

            url = create_release(
                gh,
                result.tag,
                ctx.sha or "",
                read_json(cfg.resolve(cfg.train.card)),
                trained_model(cfg),
            )
            output.info(f"released {result.tag}: {url}")
    else:
        reason = "a gate could not be evaluated" if gate_code == 2 else result.reason
        output.info(f"not promoted: {reason}")
    set_promotion_outputs(ctx, result)


def trained_model(cfg: Config) -> Any:
    path = cfg.resolve(cfg.train.model)
    return path if path.is_file() else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    return "—" if value is None else str(value)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def deliver_report(
    cfg: Config,
    ctx: Context,
    body: str,
    comment_id: str,
    comment: bool,
    summary: bool,
    pr: int | None,
    path: str | None,
) -> None:
    """Write the report file and outputs; append the job summary; post the sticky comment.

    The summary comes first, so a GitHub failure while commenting never loses the report.
    """
    from mlops_actions import context as context_mod
    from mlops_actions import publish
    from mlops_actions.errors import MlopsError
    from mlops_actions.util import write_text

    target = path or os.path.join(cfg.cache.dir, "report.md")
    try:
        write_text(cfg.resolve(target), body)
        context_mod.set_output(ctx, "report-path", str(cfg.resolve(target)))
        output.info(f"report written to {target}")
    except OSError as exc:
        if path:
            raise MlopsError(f"-o {path}: cannot write the report ({exc.strerror})") from None
        output.warning(f"{target}: cannot write the report file ({exc.strerror})")
    if summary and not context_mod.append_summary(ctx, body):
        output.info("no job summary outside GitHub Actions (GITHUB_STEP_SUMMARY is not set)")
    if comment:
        posted = publish.post_comment(github_client(ctx), ctx, body, comment_id, pr)
        if posted.fallback and not summary:
            context_mod.append_summary(ctx, body)


def promotion_gates(cfg: Config) -> list[GateResult]:
    """The gates against the latest promoted version: what a new version has to beat."""
    from mlops_actions import metrics

    found = registry_baseline(cfg)
    baseline = metrics.scalars(found.metrics[cfg.train.metrics]) if found else None
    where = found.baseline.label if found else "no promoted version yet"
    return evaluate_gates(cfg, current_metrics(cfg), baseline, where)


def github_client(ctx: Context) -> Any:
    from mlops_actions.errors import GitHubError
    from mlops_actions.github import GitHub

    if not ctx.token:
        raise GitHubError(
            "no GitHub token: set GITHUB_TOKEN (in Actions: the action's token input)"
        )
    return GitHub.from_context(ctx)


def publish_pending(gh: Any, ctx: Context, cfg: Config) -> None:
    from mlops_actions import publish

    publish.post_pending(gh, ctx, cfg.gate_options.status_prefix)


def publish_error(gh: Any, ctx: Context, cfg: Config, message: str) -> None:
    """Best effort: the overall status ends `error`, so a required check is never left pending."""
    from mlops_actions import publish
    from mlops_actions.errors import MlopsError

    try:
        publish.post_error(gh, ctx, cfg.gate_options.status_prefix, output.redact(message)[:140])
    except MlopsError as exc:
        output.warning(f"could not mark the gate status as error: {exc}")
