"""A registry project for the registry tests: a git repo with params.yaml, and what
`mlops-actions train` would leave in it (metrics, model, card, a run-cache entry)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.config import settings
from mlops_actions.config.settings import Config
from mlops_actions.training.cache import RunCache
from tests.helpers import commit_all, git, init_repo, write_params

NAME = "demo-model"
PARAMS: dict[str, Any] = {
    "data": {"path": "data/data.csv", "target": "y"},
    "model": {"name": NAME},
    "metrics": {"primary": "f1"},
    "cache": {"dir": ".mlops-cache"},
}


def make_project(repo: Path, params: dict[str, Any] | None = None) -> Path:
    init_repo(repo)
    write_params(repo, params or PARAMS)
    (repo / ".gitignore").write_text("/.mlops-cache/\n/model/\n/metrics.json\n")
    commit_all(repo, "project")
    return repo


def fake_train(repo: Path, metrics: dict[str, Any], model: bytes | None = None) -> str:
    """What `mlops-actions train` leaves behind: metrics, model, card, a run-cache entry."""
    model = model if model is not None else json.dumps(metrics).encode()
    sha = hashlib.sha256(model).hexdigest()
    key = hashlib.sha256(b"run" + model).hexdigest()
    (repo / "model").mkdir(exist_ok=True)
    (repo / "metrics.json").write_text(json.dumps(metrics))
    (repo / "model" / "model.skops").write_bytes(model)
    card = {
        "name": NAME,
        "params": {"model": {"name": NAME}},
        "fingerprint": key,
        "data": {"data": {"md5": "0" * 32 + ".dir", "size": 1, "nfiles": 1}},
        "metrics": metrics,
        "model": {"path": "model/model.skops", "sha256": sha},
    }
    (repo / "model" / "card.json").write_text(json.dumps(card))
    RunCache(repo / ".mlops-cache").store(
        key,
        {
            "metrics": (repo / "metrics.json", "metrics.json"),
            "model": (repo / "model" / "model.skops", "model/model.skops"),
            "card": (repo / "model" / "card.json", "model/card.json"),
        },
    )
    return sha


def cfg_of(repo: Path) -> Config:
    return settings.load(repo / "params.yaml")


def new_commit(repo: Path, text: str) -> str:
    (repo / "train.py").write_text(f"# {text}\n")
    return commit_all(repo, text)


def tag_names(repo: Path) -> list[str]:
    return git(repo, "tag", "-l").splitlines()


def at(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """Our git tags get this tagger date (GTO orders the registry by it, to the second)."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{1_700_000_000 + seconds} +0000")


def project_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `repo` fixture of the registry tests: a project the test runs inside."""
    project = make_project(tmp_path / "repo")
    monkeypatch.chdir(project)
    return project
