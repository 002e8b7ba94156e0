"""`dvc repro`: the user's DVC pipeline trains; we read the metrics it declares.

In CI: `pull_pipeline` fetches what the committed dvc.lock records and the remote's run history
(`dvc pull --run-cache`), `dvc repro --pull` then restores unchanged stages from the run cache
instead of running them; `push_pipeline` (a push to the default branch) sends the outputs and
the run history back; `lock_check` tells whether the committed dvc.lock describes the result.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions import git
from mlops_actions.config.settings import Config
from mlops_actions.dvcio import failure, repo, store
from mlops_actions.dvcio.data import DataVersion, file_md5, outputs, run_dvc
from mlops_actions.dvcio.project import DvcProject, tracked_files
from mlops_actions.errors import ConfigError, DataError, TrainingError
from mlops_actions.training import userenv
from mlops_actions.training.base import Artifacts
from mlops_actions.training.command import fresh_metrics, run_command
from mlops_actions.training.common import named_code, package_versions

if TYPE_CHECKING:
    from mlops_actions.dvcio.dvcyaml import PlotDecl


def project(cfg: Config) -> DvcProject:
    """What the project's dvc.yaml files declare (read once, at config load)."""
    if cfg.project is None:
        raise ConfigError(
            f"{cfg.path}: mlops.train.mode: 'dvc' needs a dvc.yaml next to it; none found"
        )
    return cfg.project


def dvc_files(cfg: Config) -> list[str]:
    """The .dvc files whose data the run key already holds (mlops.data.dvc, else all)."""
    if cfg.data.dvc is not None:
        return cfg.data.dvc
    return tracked_files(cfg.root, skip=cfg.cache_skip)


class DvcTrainer:
    """`dvc repro`: its outputs, lock and run history are DVC's, so it pulls and pushes them,
    and its dvc.lock must describe what a registered commit holds."""

    mode = "dvc"
    run_settings: tuple[str, ...] = ()  # the pipeline's own params, in DVC's params diff
    outputs_in_dvc = True

    def untracked_data(self, cfg: Config) -> DataVersion:
        """No .dvc file: the pipeline's own inputs are `dvc repro`'s to check."""
        return DataVersion(())

    def pull_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        pull_pipeline(cfg, remote=remote, jobs=jobs)

    def push_outputs(self, cfg: Config, *, remote: str | None, jobs: int | None) -> None:
        push_pipeline(cfg, remote=remote, jobs=jobs)

    def lock_problem(self, cfg: Config) -> str | None:
        return lock_check(cfg)

    def plot_decls(self, cfg: Config, root: Path) -> list[PlotDecl]:
        return []  # dvc.yaml declares the pipeline's plots

    def code_files(self, cfg: Config) -> list[Path]:
        declared = project(cfg)
        # Every dependency counts, files and directories alike, except DVC-tracked data: that
        # is in the key already through its .dvc hashes.
        tracked = [
            o.path
            for o in outputs(cfg.root, [f for f in dvc_files(cfg) if cfg.resolve(f).is_file()])
        ]

        def is_data(path: Path) -> bool:
            return any(path == t or t in path.parents for t in tracked)

        deps = [
            d
            for d in declared.deps
            if cfg.resolve(d).exists() and not is_data(cfg.resolve(d).resolve())
        ]
        # params.yaml too: the pipeline's own params (`params:` of its stages) live there.
        return named_code(cfg, [*declared.files, "params.yaml", *deps])

    def versions(self, cfg: Config) -> dict[str, str]:
        # The stages run with the job's Python and packages; dvc is theirs when they have one.
        found = userenv.package_versions(cfg.root, "dvc", "scikit-learn", "pandas", "numpy")
        if repo.ours(repo.dvc_command()):
            found.update(package_versions("dvc"))
        return found

    def train(self, cfg: Config, staging: Path) -> Artifacts:
        declared = project(cfg).metrics
        if not declared:
            raise ConfigError(
                "dvc.yaml: declares no metrics; add a `metrics:` entry to the training stage"
            )
        if cfg.train.metrics not in declared:
            raise ConfigError(
                f"{cfg.path}: mlops.train.metrics: '{cfg.train.metrics}' is not a metrics file "
                f"dvc.yaml declares ({', '.join(declared)}); set mlops.train.metrics to it"
            )
        chosen = cfg.train.metrics
        started = time.time()
        # --pull: a stage the run cache knows is restored from the remote instead of re-run.
        pull = ["--pull"] if store.remote(cfg.root) is not None else []
        lock = _lock_text(cfg)
        run_command(cfg, [*repo.dvc_command(), "repro", *pull], "dvc repro")
        metrics = fresh_metrics(cfg, cfg.resolve(chosen), started - 1e9, "dvc repro")
        model = cfg.resolve(cfg.train.model)
        if not metrics.is_file():
            raise TrainingError(f"{chosen}: dvc repro did not produce it")
        found = model if model.is_file() else None
        # dvc.lock as it was: every stage was up to date (or restored as it was recorded)
        return Artifacts(metrics=metrics, model=found, up_to_date=_lock_text(cfg) == lock)


def _lock_text(cfg: Config) -> bytes | None:
    try:
        return cfg.resolve(repo.LOCK_FILE).read_bytes()
    except OSError:
        return None


def _remote_args(remote: str | None, jobs: int | None) -> list[str]:
    return [*(["--remote", remote] if remote else []), *(["--jobs", str(jobs)] if jobs else [])]


def pull_pipeline(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> bool:
    """`dvc pull --run-cache --allow-missing`: every output the committed dvc.lock and .dvc
    files record that the remote has, and the remote's run history. False (nothing pulled)
    when the project has no DVC remote. What is missing `dvc repro` recomputes; the data of
    the .dvc files is verified afterwards (`data.pull`)."""
    if store.remote(cfg.root, remote) is None:
        return False
    args = ["pull", "--run-cache", "--allow-missing", *_remote_args(remote, jobs)]
    proc = run_dvc(args, cfg.root)
    if proc.returncode != 0:
        why = failure.dvc_message(proc.stderr + proc.stdout)
        raise DataError(
            f"dvc.yaml: dvc pull --run-cache failed: {why}; "
            "check the DVC remote's URL and credentials"
        )
    return True


def push_pipeline(cfg: Config, *, remote: str | None = None, jobs: int | None = None) -> None:
    """`dvc push --run-cache`: the outputs of the reproduced pipeline and its run history, so
    a registered version's files can be fetched from any clone."""
    found = store.remote(cfg.root, remote)
    if found is None:
        raise DataError(
            "dvc.yaml: no DVC remote to push the pipeline's outputs to, so a registered "
            "version could not be fetched elsewhere; add one with `dvc remote add -d NAME URL`"
        )
    proc = run_dvc(["push", "--run-cache", *_remote_args(remote, jobs)], cfg.root)
    if proc.returncode != 0:
        why = failure.dvc_message(proc.stderr + proc.stdout)
        raise DataError(
            f"dvc push --run-cache to '{found.name}' failed: {why}; "
            "the job needs write access to the remote"
        )


FIX_LOCK = "commit the reproduced dvc.lock: run dvc repro locally and commit dvc.lock"


def lock_check(cfg: Config) -> str | None:
    """Why the committed dvc.lock does not describe the workspace's result, or None when it
    does: the stages `dvc repro` had to re-run, or a model file unlike the lock's."""
    head = git.head_sha(cfg.root)
    if head is None:
        return None
    committed = store.committed(cfg.root, head, repo.LOCK_FILE)
    lock = cfg.root / repo.LOCK_FILE
    now = lock.read_text(encoding="utf-8") if lock.is_file() else None
    rerun = repo.changed_stages(committed, now)
    if rerun:
        return f"the committed dvc.lock was stale: CI re-ran {', '.join(rerun)}; {FIX_LOCK}"
    model = cfg.resolve(cfg.train.model)
    recorded = repo.lock_outs(committed).get(cfg.train.model)
    if recorded and model.is_file() and file_md5(model) != recorded:
        return (
            f"{cfg.train.model}: does not match its md5 in the committed dvc.lock "
            f"({recorded[:12]}); {FIX_LOCK}"
        )
    return None
