"""The training modes by name, and what the settings of each must hold.

The trainers live in `training/` (`training.TRAINERS`, keyed by `MODES`) and import config;
config never imports them. What config checks per mode at load is data here, so a mistake is
still reported when params.yaml is read, before any trainer is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# The training modes: training.TRAINERS holds one trainer for each (tests/test_architecture.py).
Mode = Literal["builtin", "command", "dvc"]
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class ModeSettings:
    """What one mode needs of the settings."""

    required: tuple[str, ...] = ()  # dotted keys under `mlops:` it cannot run without
    required_for: str = ""  # what those keys are, for the error that names them
    # What dvc.yaml declares (its first metrics file, its model artifact) fills in the
    # settings the user left unset.
    declared: bool = True
    # `train.metrics` must be a metrics file dvc.yaml declares: the mode reads no other.
    declared_metrics: bool = False


NEEDS: dict[str, ModeSettings] = {
    "builtin": ModeSettings(
        required=("data.path", "data.target"),
        required_for=" (the table to train on and its target column)",
        declared=False,
    ),
    "command": ModeSettings(required=("train.command",)),
    "dvc": ModeSettings(declared_metrics=True),
}
