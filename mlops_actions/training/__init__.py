"""Training modes as plug-ins: `TRAINERS` maps a `train.mode` to the class that trains.

Whatever differs by mode is a method of its trainer (`base.Trainer`): callers ask
`get_trainer(cfg.train.mode)`, never compare mode names. A trainer module is loaded only when
its mode is asked for, so the CLI starts without scikit-learn; `config` names the modes
(`config.settings.MODES`) and never imports a trainer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_actions.training import builtin, command, dvc
    from mlops_actions.training.base import Trainer

    # mypy checks here that every trainer implements the whole protocol.
    _IMPLEMENTED: tuple[type[Trainer], ...] = (
        builtin.BuiltinTrainer,
        command.CommandTrainer,
        dvc.DvcTrainer,
    )

TRAINERS: dict[str, str] = {  # keyed by config.settings.MODES
    "builtin": "mlops_actions.training.builtin:BuiltinTrainer",
    "command": "mlops_actions.training.command:CommandTrainer",
    "dvc": "mlops_actions.training.dvc:DvcTrainer",
}


def get_trainer(mode: str) -> Trainer:
    """The trainer for `mode`; config has already refused a mode that is not in TRAINERS."""
    module, _, name = TRAINERS[mode].partition(":")
    trainer: Trainer = getattr(importlib.import_module(module), name)()
    return trainer
