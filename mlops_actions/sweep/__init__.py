"""Hyper-parameter sweeps: Optuna plans waves of trials from the trials already recorded as
DVC experiments (`planner`, `journal`), each trial is one training run on a copy of the
workspace (`trial`, `overlay`), and `leaderboard` ranks what came back.

`config.sweep` holds `mlops.sweep` of params.yaml, validated when the settings are loaded.
"""
