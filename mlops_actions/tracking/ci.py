"""Recording in GitHub Actions.

Two-job shape: the training job (PR code, read-only token) writes `experiment.json` beside
results.json — the run's files (params, metrics, plots, dvc.lock) and what it measured — and
pushes the run's DVC outputs to the DVC remote. The publishing job, which never runs that
code, records the experiment through the git data API: the trained commit, the event, the pull
request, the run and the fork flag come from its own trusted event; the file's content is
untrusted data, validated (paths, sizes, types) and never executed.
One-job shape (`run` in Actions): the same record, written by the job that trained.
Recording is on with MLOPS_RECORD=true; a fork's pull request only with MLOPS_RECORD_FORKS=true
(the base repository's workflow says so). Every problem is one warning line: the report is
posted regardless.
"""

from __future__ import annotations

import base64
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions import output
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError
from mlops_actions.github import context
from mlops_actions.github.context import Context
from mlops_actions.tracking import apiwriter, runrecord, snapshot

if TYPE_CHECKING:
    from mlops_actions.flow.publishing import Target
    from mlops_actions.flow.results import Results
    from mlops_actions.github.client import GitHub
    from mlops_actions.training.base import TrainResult

FILE = "experiment.json"
MAX_BYTES = 12 * 1024 * 1024


def enabled() -> bool:
    return os.environ.get("MLOPS_RECORD", "").strip().lower() in ("1", "true", "yes", "on")


def forks_allowed() -> bool:
    return os.environ.get("MLOPS_RECORD_FORKS", "").strip().lower() in ("1", "true", "yes", "on")


def _runner() -> str:
    name = os.environ.get("RUNNER_NAME") or ""
    return f"{os.environ.get('RUNNER_OS') or platform.system()} {name}".strip()


# --- the training job ------------------------------------------------------------------------


def write_files(directory: str, cfg: Config | None, trained: TrainResult | None = None) -> None:
    """experiment.json for the publishing job (with what the run has, even after a failure),
    and the run's DVC outputs pushed to the remote."""
    files: dict[str, bytes] = {}
    if cfg is not None:
        try:
            files = snapshot.collect(cfg)
        except (MlopsError, OSError) as exc:
            output.warning(f"experiment: the run's files could not be collected: {exc}")
        _push_outputs(cfg)
    data = {
        "files": {p: base64.b64encode(d).decode() for p, d in files.items()},
        "runner": _runner(),
        "duration": round(trained.seconds, 3) if trained else None,
    }
    path = Path(directory) / FILE
    from mlops_actions.util import write_json

    write_json(path, data)


def _push_outputs(cfg: Config) -> None:
    """`dvc push` of the run's outputs, so `dvc exp pull` + `dvc exp apply` gets the model."""
    from mlops_actions.dvcio import store
    from mlops_actions.dvcio.data import run_dvc
    from mlops_actions.training import get_trainer

    if not get_trainer(cfg.train.mode).outputs_in_dvc or store.remote(cfg.root) is None:
        return
    proc = run_dvc(["push", "--quiet"], cfg.root)
    if proc.returncode != 0:
        last = (proc.stderr + proc.stdout).strip().splitlines()[-1:] or ["failed"]
        output.warning(f"experiment: dvc push of the run's outputs failed: {last[0][:200]}")


def read_files(directory: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The training job's files and measurements, validated (untrusted)."""
    path = Path(directory) / FILE
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MlopsError(f"{path}: larger than {MAX_BYTES} bytes; refusing it")
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, {}
    except (OSError, ValueError) as exc:
        raise MlopsError(f"{path}: not readable JSON ({exc}); refusing it") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("files", {}), dict):
        raise MlopsError(f"{path}: not an experiment file; refusing it")
    decoded: dict[str, Any] = {}
    for name, text in raw.get("files", {}).items():
        try:
            decoded[name] = base64.b64decode(text, validate=True) if isinstance(text, str) else None
        except ValueError:
            decoded[name] = None
    files = snapshot.checked(decoded, str(path))
    duration = raw.get("duration")
    facts = {
        "runner": raw.get("runner") if isinstance(raw.get("runner"), str) else None,
        "duration": duration
        if isinstance(duration, (int, float)) and not isinstance(duration, bool)
        else None,
    }
    return files, facts


# --- the publishing job ----------------------------------------------------------------------


def record_published(
    ctx: Context,
    gh: GitHub | None,
    found: Results,
    directory: str,
    comment_id: str,
    locate: Callable[[], Target],
) -> str | None:
    """Record the run whose results were just published; its name, or None (a warning says
    why). Only facts of this job's own event name the commit, the pull request and the run:
    `locate` is the publishing job's own reading of them (flow.publishing.target)."""
    if not enabled():
        return None
    try:
        if gh is None:
            raise MlopsError("no GitHub token to write the experiment with")
        where = locate()
        run = context.triggering_run(ctx)
        fork = where.pr is not None and (
            (run is not None and not run.pull_requests) or (run is None and ctx.is_fork)
        )
        if fork and not forks_allowed():
            output.info("experiment: a fork's pull request; not recorded (MLOPS_RECORD_FORKS)")
            return None
        attempt = _attempt(ctx, where.run_url)
        files, facts = read_files(directory)
        branch = (run.head_branch if run else None) or ctx.pr_head_ref or ctx.ref_name
        record = runrecord.RunRecord(
            event=where.event_name,
            status="failed" if found.error is not None or found.report is None else "ok",
            pr=where.pr,
            branch=runrecord._text(branch),
            run_url=where.run_url,
            attempt=attempt[1] if attempt else None,
            runner=runrecord._text(facts.get("runner")),
            duration=facts.get("duration"),
            fork=fork,
            error=runrecord._text(found.error, 400),
            created=runrecord.now(),
        )
        return _write(gh, where.sha, _name(attempt, comment_id), files, record)
    except MlopsError as exc:
        output.warning(f"experiment: not recorded: {exc}")
        return None


def _attempt(ctx: Context, run_url: str | None) -> tuple[str, int] | None:
    found = runrecord.run_id_of(run_url)
    run = ctx.event.get("workflow_run") if ctx.event_name == "workflow_run" else None
    if found is not None and isinstance(run, dict) and isinstance(run.get("run_attempt"), int):
        return found[0], run["run_attempt"]
    return found


def _name(attempt: tuple[str, int] | None, comment_id: str) -> str:
    if attempt is None:
        raise MlopsError("no run id to name the experiment by (GITHUB_RUN_ID is not set)")
    suffix = "" if comment_id == "default" else comment_id
    try:
        return runrecord.ci_name(attempt[0], attempt[1], suffix)
    except ValueError:
        return runrecord.ci_name(attempt[0], attempt[1])


def _write(
    gh: GitHub, sha: str, name: str, files: dict[str, bytes], record: runrecord.RunRecord
) -> str:
    commit = apiwriter.write(gh, sha, name, files, record)
    output.info(f"experiment {name} recorded ({commit[:7]} on {sha[:7]})")
    return name


# --- one job (`run` in Actions) --------------------------------------------------------------


def record_run(
    cfg: Config, ctx: Context, gh: GitHub | None, trained: TrainResult | None, error: str | None
) -> str | None:
    """Record a `run` in Actions (the job trained here); a warning line on any problem."""
    if not enabled():
        return None
    try:
        if gh is None:
            raise MlopsError("no GitHub token to write the experiment with")
        if ctx.is_fork and not forks_allowed():
            output.info("experiment: a fork's pull request; not recorded (MLOPS_RECORD_FORKS)")
            return None
        sha = ctx.status_sha
        if not sha:
            raise MlopsError("no commit to record the run on (GITHUB_SHA is not set)")
        from mlops_actions.tracking.record import file_sha256

        files = snapshot.collect(cfg)
        _push_outputs(cfg)
        attempt = runrecord.run_id_of(ctx.run_url)
        record = runrecord.RunRecord(
            event=ctx.event_name,
            status="failed" if error else "ok",
            pr=ctx.pr_number,
            branch=ctx.pr_head_ref or ctx.ref_name,
            run_url=ctx.run_url,
            attempt=attempt[1] if attempt else None,
            runner=_runner(),
            duration=round(trained.seconds, 3) if trained else None,
            model_sha256=file_sha256(trained.model_path) if trained else None,
            fork=ctx.is_fork,
            error=error,
            created=runrecord.now(),
            model=cfg.model.name,
        )
        return _write(gh, sha, _name(attempt, "default"), files, record)
    except MlopsError as exc:
        output.warning(f"experiment: not recorded: {exc}")
        return None
