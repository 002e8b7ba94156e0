"""Training modes as plug-ins: `TRAINERS` maps a `train.mode` to the class that trains.

A trainer module is loaded only when its mode runs, so the CLI starts without scikit-learn,
and `config` can check a mode against `TRAINERS` without importing any trainer.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_actions.training.base import Trainer

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
