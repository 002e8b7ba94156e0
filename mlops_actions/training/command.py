"""The user's own training command; it writes the metrics file named in params.yaml."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from pathlib import Path

from mlops_actions import metrics as metrics_mod
from mlops_actions import output, stepfiles
from mlops_actions.config.settings import Config
from mlops_actions.errors import ConfigError, TrainingError
from mlops_actions.training import userenv
from mlops_actions.training.base import Artifacts, NoPipeline
from mlops_actions.training.common import named_code

_SIGNALS = {2, 6, 9, 11, 15}  # SIGINT, SIGABRT, SIGKILL, SIGSEGV, SIGTERM


def run_command(cfg: Config, argv: list[str] | str, label: str, shell: bool = False) -> None:
    env = output.child_env(
        {
            "MLOPS_PARAMS": str(Path(cfg.path).resolve()),
            "MLOPS_METRICS": str(cfg.resolve(cfg.train.metrics)),
            "MLOPS_MODEL": str(cfg.resolve(cfg.train.model)),
        }
    )
    try:
        with stepfiles.scratch(env, label):
            proc = subprocess.run(
                argv,
                cwd=cfg.root,
                env=env,
                shell=shell,
                timeout=cfg.train.timeout,
                check=False,
                executable="/bin/bash" if shell else None,
            )
    except subprocess.TimeoutExpired:
        raise TrainingError(
            f"{cfg.path}: mlops.train.timeout: {label} ran longer than {cfg.train.timeout:g} s and was stopped"
        ) from None
    except FileNotFoundError as exc:
        raise TrainingError(f"{label}: cannot start: {exc}") from None
    if proc.returncode < 0 or (
        shell and proc.returncode > 128 and proc.returncode - 128 in _SIGNALS
    ):
        number = -proc.returncode if proc.returncode < 0 else proc.returncode - 128
        hint = " (out of memory?)" if number == 9 else ""
        raise TrainingError(f"{label} was killed by signal {number}{hint}; see its output above")
    if proc.returncode != 0:
        raise TrainingError(f"{label} exited with code {proc.returncode}; see its output above")


def fresh_metrics(cfg: Config, path: Path, started: float, label: str) -> Path:
    """The metrics file `label` wrote, parsed once to prove it is readable."""
    rel = os.path.relpath(path, cfg.root)
    if not path.is_file():
        raise TrainingError(f"{rel}: {label} finished but did not write this metrics file")
    if path.stat().st_mtime < started - 1:
        raise TrainingError(
            f"{rel}: {label} did not rewrite this metrics file; it is from an earlier run"
        )
    metrics_mod.load(path, rel)
    return path


class CommandTrainer(NoPipeline):
    mode = "command"

    def code_files(self, cfg: Config) -> list[Path]:
        # Files the command names (e.g. `python train.py`) count as code, like mlops.train.code.
        assert cfg.train.command
        try:
            words = shlex.split(cfg.train.command)
        except ValueError:
            words = cfg.train.command.split()
        named = [w for w in words if not w.startswith("-") and cfg.resolve(w).is_file()]
        return named_code(cfg, named)

    def versions(self, cfg: Config) -> dict[str, str]:
        # The command runs with the job's Python and packages, not ours: theirs key the cache.
        return userenv.package_versions(cfg.root, "scikit-learn", "pandas", "numpy")

    def train(self, cfg: Config, staging: Path) -> Artifacts:
        if not cfg.train.command:
            raise ConfigError(
                f"{cfg.path}: mlops.train.command: required when mlops.train.mode is 'command'"
            )
        started = time.time()
        for where in (cfg.train.metrics, cfg.train.model):  # the command may just open them
            cfg.resolve(where).parent.mkdir(parents=True, exist_ok=True)
        output.info(f"$ {cfg.train.command}")
        run_command(cfg, cfg.train.command, "mlops.train.command", shell=True)
        metrics = fresh_metrics(cfg, cfg.resolve(cfg.train.metrics), started, "mlops.train.command")
        model = cfg.resolve(cfg.train.model)
        wrote_model = model.is_file() and model.stat().st_mtime >= started - 1
        if not wrote_model:
            output.warning(
                f"{cfg.path}: mlops.train.model: mlops.train.command wrote no model at "
                f"{cfg.train.model}; the run has metrics but nothing to register (set "
                "mlops.train.model to the file it writes)"
            )
        return Artifacts(metrics=metrics, model=model if wrote_model else None)
