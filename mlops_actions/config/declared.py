"""What dvc.yaml declares, filled into our settings where the user set nothing: the metrics
file, the model artifact's name and path, and where our model card goes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_actions import tag
from mlops_actions.config.modes import NEEDS
from mlops_actions.config.records import SECTION, default_cache_dir
from mlops_actions.dvcio.project import DvcProject
from mlops_actions.errors import ConfigError


def is_registry_name(name: str) -> bool:
    """`churn-model`, or GTO's `sub/folder:churn-model` for a dvc.yaml in a subfolder."""
    folder, _, base = name.rpartition(":")
    return tag.is_model_name(base) and (not folder or tag.is_name(name))


def filled(section: dict[str, Any], project: DvcProject | None, file: str) -> dict[str, Any]:
    """`section` with what dvc.yaml declares filled in where the user set nothing: mode dvc,
    the first declared metrics file, the model artifact's name and path, and our model card
    in the cache directory; as it is for a mode that takes nothing from dvc.yaml."""
    if project is None:
        return section
    train = section.get("train")
    train = dict(train) if isinstance(train, dict) else train
    mode = train.get("mode", "dvc") if isinstance(train, dict) else "dvc"
    needs = NEEDS.get(mode) if isinstance(mode, str) else None
    if (needs is not None and not needs.declared) or not isinstance(train, (dict, type(None))):
        return section
    train = train or {}
    model = section.get("model")
    model = dict(model) if isinstance(model, dict) else ({} if model is None else model)
    if not isinstance(model, dict):
        return section
    train.setdefault("mode", mode)
    # Our model card stays out of the user's tree, beside the run cache.
    cache = section.get("cache")
    cache_dir = cache.get("dir") if isinstance(cache, dict) else None
    if not isinstance(cache_dir, str) or not cache_dir:
        cache_dir = str(default_cache_dir(Path(file).resolve().parent))
    train.setdefault("card", f"{cache_dir}/card.json")
    if project.metrics:
        train.setdefault("metrics", project.metrics[0])
    models = project.models
    name = model.get("name")
    if name is None and len(models) > 1:
        names = ", ".join(a.name for a in models)
        raise ConfigError(
            f"{project.files[0]}: declares {len(models)} model artifacts ({names}); set "
            f"{SECTION}.model.name in {file} to the one to register"
        )
    chosen = project.artifact(name) if isinstance(name, str) else (models[0] if models else None)
    if chosen is not None:
        if name is None and not is_registry_name(chosen.name):
            raise ConfigError(
                f"{chosen.file}: artifacts.{chosen.name.rpartition(':')[2]}: '{chosen.name}' "
                "is not a valid registry name (lowercase letters, digits and dashes); rename "
                f"it or set {SECTION}.model.name in {file}"
            )
        model.setdefault("name", chosen.name)
        if chosen.path:
            train.setdefault("model", chosen.path)
    return {**section, "train": train, "model": model}
