"""Helpers the training modes share."""

from __future__ import annotations

import glob
from importlib import metadata
from pathlib import Path

from mlops_actions.config.settings import Config
from mlops_actions.errors import ConfigError


def package_versions(*names: str) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def named_code(cfg: Config, extra: list[str] | None = None) -> list[Path]:
    """The files behind mlops.train.code (files, directories or globs), sorted, de-duplicated."""
    files: set[Path] = set()
    for i, pattern in enumerate([*cfg.train.code, *(extra or [])]):
        matches = glob.glob(str(cfg.resolve(pattern)), recursive=True)
        if not matches and i < len(cfg.train.code):
            raise ConfigError(f"{cfg.path}: mlops.train.code[{i}]: '{pattern}' matches no file")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                files.update(
                    p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                )
            elif path.is_file():
                files.add(path)
    return sorted(files)
