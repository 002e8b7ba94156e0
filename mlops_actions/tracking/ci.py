"""Recording in GitHub Actions.

Two-job shape: the training job (PR code, read-only token) writes `experiment.json` beside
results.json — the run's files (params, metrics, plots, dvc.lock) and what its model card says
it trained (the model's sha256, the data version, the seconds). It does not push the run's
DVC outputs: the step holds no DVC remote credentials (the `pull` step keeps them to itself;
PR code never runs next to them), so the record says `outputs: not-pushed`. The publishing
job, which never runs that code, records the experiment through the git data API: the trained
commit, the event, the pull request, the run and the fork flag come from its own trusted
event; the file is untrusted data, held to experiment-1.schema.json (beside this module) and
never executed.
One-job shape (`run` in Actions): the same record, written by the job that trained, which
pushes the outputs itself.
Recording is on with MLOPS_RECORD=true; a fork's pull request only with MLOPS_RECORD_FORKS=true,
which only the base repository's workflow sets (the publish action's `record-forks`). Every
problem is one line: the report is posted regardless.
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
from mlops_actions.tracking import apiwriter, record, runrecord, snapshot

if TYPE_CHECKING:
    from mlops_actions.flow.publishing import Target
    from mlops_actions.flow.results import Results
    from mlops_actions.github.client import GitHub
    from mlops_actions.training.base import TrainResult

FILE = "experiment.json"
MAX_BYTES = 12 * 1024 * 1024
SCHEMA_FILE = "experiment-1.schema.json"  # beside this module
SCHEMA_ID = "https://mlops-actions.github.io/schemas/experiment-1.json"


def enabled() -> bool:
    return os.environ.get("MLOPS_RECORD", "").strip().lower() in ("1", "true", "yes", "on")


def forks_allowed() -> bool:
    return os.environ.get("MLOPS_RECORD_FORKS", "").strip().lower() in ("1", "true", "yes", "on")


def _runner() -> str:
    name = os.environ.get("RUNNER_NAME") or ""
    return f"{os.environ.get('RUNNER_OS') or platform.system()} {name}".strip()


# --- the training job ------------------------------------------------------------------------


def write_files(directory: str, cfg: Config | None, *, trained: bool, fork: bool) -> None:
    """experiment.json for the publishing job (with what the run has, even after a failure).
    `trained`: the training step succeeded, so the model card in the workspace is this run's.
    The run's DVC outputs are not pushed: this step holds no credentials for the DVC remote
    (the training job's `pull` step keeps them; `fork` is the same for a fork's pull request)."""
    files: dict[str, bytes] = {}
    found, outputs = record.Measured(), None
    if cfg is not None:
        try:
            files = snapshot.collect(cfg)
        except (MlopsError, OSError) as exc:
            output.warning(f"experiment: the run's files could not be collected: {exc}")
        if trained:
            found = record.measured(cfg.resolve(cfg.train.card))
        outputs = _not_pushed(cfg, fork=fork)
    data = {
        "schema": SCHEMA_ID,
        "files": {p: base64.b64encode(d).decode() for p, d in files.items()},
        "runner": runrecord._text(_runner()),
        "duration": found.seconds,
        "model": cfg.model.name if cfg is not None else None,
        "model_sha256": found.model_sha256,
        "data": found.data,
        "outputs": outputs,
    }
    path = Path(directory) / FILE
    from mlops_actions.util import write_json

    write_json(path, data)


def _not_pushed(cfg: Config, *, fork: bool) -> str | None:
    """The two-job shape's training job: "not-pushed" (one line says why), or None when the
    run has no DVC-tracked outputs."""
    from mlops_actions.training import get_trainer

    if not get_trainer(cfg.train.mode).outputs_in_dvc:
        return None
    why = "a fork's pull request has" if fork else "this step holds"
    output.info(
        f"experiment: {why} no credentials for the DVC remote; the run's outputs are not "
        "pushed (the record says so: `dvc exp apply` brings back params, metrics and dvc.lock, "
        "`dvc repro` the outputs)"
    )
    return "not-pushed"


def _push_outputs(cfg: Config, *, fork: bool = False) -> str | None:
    """`dvc push` of the run's outputs, so `dvc exp pull` + `dvc exp apply` gets the model.
    Where they are: "pushed", "not-pushed", or None when the run has no DVC-tracked outputs."""
    from mlops_actions.dvcio import store
    from mlops_actions.dvcio.data import run_dvc
    from mlops_actions.training import get_trainer

    if not get_trainer(cfg.train.mode).outputs_in_dvc:
        return None
    if fork:
        return _not_pushed(cfg, fork=True)
    if store.remote(cfg.root) is None:
        return "not-pushed"
    proc = run_dvc(["push", "--quiet"], cfg.root)
    if proc.returncode != 0:
        last = (proc.stderr + proc.stdout).strip().splitlines()[-1:] or ["failed"]
        output.warning(f"experiment: dvc push of the run's outputs failed: {last[0][:200]}")
        return "not-pushed"
    return "pushed"


def read_files(directory: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The training job's files and measurements, held to experiment-1.schema.json (written
    where the pull request's code ran: untrusted)."""
    from mlops_actions import schemas

    path = Path(directory) / FILE
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MlopsError(f"{path}: larger than {MAX_BYTES} bytes; refusing it")
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}, {}
    except (OSError, ValueError, RecursionError) as exc:
        raise MlopsError(f"{path}: not readable JSON ({exc}); refusing it") from None
    try:
        schemas.validate(__name__.rpartition(".")[0], SCHEMA_FILE, raw)
    except schemas.SchemaError as exc:
        raise MlopsError(f"{path}: {exc}; refusing it") from None
    decoded: dict[str, Any] = {}
    for name, text in raw["files"].items():
        try:
            decoded[name] = base64.b64decode(text, validate=True)
        except ValueError:
            decoded[name] = None
    files = snapshot.checked(decoded, str(path))
    facts = {k: raw.get(k) for k in ("runner", "duration", "model", "model_sha256", "outputs")}
    return files, {**facts, "data": raw.get("data") or {}}


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
            output.info(
                "experiment: a fork's pull request; not recorded (the base repository records "
                "its forks' runs with reusable-publish-record.yml and contents: write)"
            )
            return None
        attempt = _attempt(ctx, where.run_url)
        files, facts = read_files(directory)
        branch = (run.head_branch if run else None) or ctx.pr_head_ref or ctx.ref_name
        outputs = facts.get("outputs")
        made = runrecord.RunRecord(
            event=where.event_name,
            status="failed" if found.error is not None or found.report is None else "ok",
            pr=where.pr,
            branch=runrecord._text(branch),
            run_url=where.run_url,
            attempt=attempt[1] if attempt else None,
            runner=runrecord._text(facts.get("runner")),
            duration=facts.get("duration"),
            data=facts.get("data") or {},
            model=runrecord._text(facts.get("model"), 100),
            model_sha256=facts.get("model_sha256"),
            # A fork's run has no credentials: whatever it claims, it pushed nothing of ours.
            outputs="not-pushed" if fork and outputs else outputs,
            fork=fork,
            error=runrecord._text(found.error, 400),
            created=runrecord.now(),
        )
        return _write(gh, where.sha, _name(attempt, comment_id), files, made)
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
    gh: GitHub, sha: str, name: str, files: dict[str, bytes], made: runrecord.RunRecord
) -> str:
    commit = apiwriter.write(gh, sha, name, files, made)
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
        files = snapshot.collect(cfg)
        outputs = _push_outputs(cfg, fork=ctx.is_fork)
        found = record.of_run(trained)
        attempt = runrecord.run_id_of(ctx.run_url)
        made = runrecord.RunRecord(
            event=ctx.event_name,
            status="failed" if error else "ok",
            pr=ctx.pr_number,
            branch=ctx.pr_head_ref or ctx.ref_name,
            run_url=ctx.run_url,
            attempt=attempt[1] if attempt else None,
            runner=_runner(),
            duration=found.seconds,
            data=found.data,
            model_sha256=found.model_sha256,
            outputs=outputs,
            fork=ctx.is_fork,
            error=error,
            created=runrecord.now(),
            model=cfg.model.name,
        )
        return _write(gh, sha, _name(attempt, "default"), files, made)
    except MlopsError as exc:
        output.warning(f"experiment: not recorded: {exc}")
        return None
