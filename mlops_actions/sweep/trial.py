"""One trial: the params set in a copy of the workspace, one training run there, recorded as
a DVC experiment of HEAD (status failed, with the error, when the training failed)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import git, output
from mlops_actions.config import settings
from mlops_actions.config.settings import Config
from mlops_actions.config.sweep import Choice, SweepSpec
from mlops_actions.errors import ConfigError, MlopsError
from mlops_actions.metrics import finite
from mlops_actions.sweep import journal, overlay
from mlops_actions.sweep.journal import TrialRecord
from mlops_actions.tracking import runrecord
from mlops_actions.tracking.runrecord import RunRecord, SweepTrial


@dataclass(frozen=True)
class Outcome:
    record: TrialRecord
    ref: str
    seconds: float


def check_params(spec: SweepSpec, params: Any, where: str) -> dict[str, Any]:
    """The trial's params, refused unless they are exactly the sweep's names with values of
    its space (a matrix entry is data: it names nothing else to set)."""
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: expected a JSON object of param names to values")
    unknown = sorted(set(params) - set(spec.params))
    missing = sorted(set(spec.params) - set(params))
    if unknown or missing:
        what = f"not in mlops.sweep.params: {', '.join(unknown)}" if unknown else ""
        what += ("; " if what else "") + (f"missing: {', '.join(missing)}" if missing else "")
        raise ConfigError(f"{where}: {what}")
    for name, value in params.items():
        space = spec.params[name]
        if isinstance(space, Choice):
            ok = value in space.values
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            ok = ok and space.low <= value <= space.high
        if not ok:
            raise ConfigError(f"{where}: {name}: {value!r} is outside the sweep's space")
    return dict(params)


def run(
    cfg: Config,
    spec: SweepSpec,
    number: int,
    params: dict[str, Any],
    run_url: str | None,
    event: str = "local",
) -> Outcome:
    """Train trial `number` with `params` and record it; never touches the user's files."""
    from mlops_actions.flow import steps

    started = time.perf_counter()
    top = overlay.top_of(cfg.root)
    rel_root = os.path.relpath(cfg.root, top)
    params_name = os.path.basename(cfg.path)
    files: dict[str, bytes] = {}
    metrics: dict[str, Any] = {}
    error: str | None = None
    with overlay.workspace(cfg.root, cfg.cache_skip) as project:
        try:
            changed = overlay.apply(project, params, params_name)
            for name in changed:
                files[_in_tree(rel_root, name)] = (project / name).read_bytes()
            trial_cfg = settings.load(project / params_name)
            cache = dataclasses.replace(trial_cfg.cache, dir=str(cfg.cache_dir))
            trial_cfg = dataclasses.replace(trial_cfg, cache=cache)
            result = steps.train(trial_cfg, steps.verified_data(trial_cfg), use_cache=True)
            metrics = result.metrics.flat()
            files[_in_tree(rel_root, cfg.train.metrics)] = result.metrics_path.read_bytes()
            for lock in project.rglob("dvc.lock"):
                rel = lock.relative_to(project).as_posix()
                files[_in_tree(rel_root, rel)] = lock.read_bytes()
        except MlopsError as exc:
            error = str(exc)
    seconds = time.perf_counter() - started
    value = metrics.get(spec.metric)
    if error is None and not finite(value):
        error = f"metric '{spec.metric}' is not a finite number in {cfg.train.metrics}"
    status = "failed" if error else "ok"
    run = RunRecord(
        event=event,
        created=runrecord.now(),
        model=cfg.model.name,
        status=status,
        error=error,
        run_url=run_url,
        duration=round(seconds, 3),
        sweep=SweepTrial(spec.id, number, params, spec.metric),
    )
    ref = _record(cfg.root, f"sweep-{spec.id}-{number}", files, run)
    if error:
        output.warning(f"trial {number} failed: {error}")
    ok = error is None and finite(value)
    record = TrialRecord(
        sweep_id=spec.id,
        number=number,
        params=params,
        value=float(value) if ok and value is not None else None,
        state="complete" if ok else "failed",
        name=ref.rsplit("/", 1)[-1],
        commit=git.run("rev-parse", ref, cwd=cfg.root),
        metrics=metrics,
        error=error,
    )
    return Outcome(record, ref, seconds)


def _record(root: Path, stem: str, files: dict[str, bytes], run: RunRecord) -> str:
    for _ in range(3):  # a name taken by another attempt: draw again
        try:
            return journal.record(root, f"{stem}-{secrets.token_hex(3)}", files, run)
        except MlopsError:
            continue
    return journal.record(root, f"{stem}-{secrets.token_hex(6)}", files, run)


def _in_tree(rel_root: str, path: str) -> str:
    return Path(os.path.normpath(os.path.join(rel_root, path))).as_posix()
