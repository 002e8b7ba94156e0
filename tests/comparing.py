"""Shared by the compare and baseline tests: git repos with committed files, the CLI's answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli
from tests.helpers import commit_all, git, init_repo

Files = dict[str, Any]  # path -> text, a mapping (written as JSON), or None (delete)

PARAMS = "train:\n  metrics: metrics.json\nmodel:\n  params: {n_estimators: 20, max_depth: 4}\n"


def write(repo: Path, files: Files) -> None:
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))


def make_repo(repo: Path, base: Files, branch: str = "main") -> Path:
    """A git repo whose `branch` has `base` committed, with a `pr` branch checked out."""
    init_repo(repo, branch)
    write(repo, base)
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    return repo


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["compare", *args])
    out, err = capsys.readouterr()
    return code, out, err


def compare_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code, out, err = run(capsys, "--json", *args)
    assert code == 0, err
    result: dict[str, Any] = json.loads(out)
    return result


def main_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """main: params.yaml and metrics.json committed; the test runs on branch pr."""
    metrics = {"accuracy": 0.9, "f1": 0.8, "nested": {"a": 1, "b": {"c": 2}}}
    made = make_repo(tmp_path / "repo", {"params.yaml": PARAMS, "metrics.json": metrics})
    monkeypatch.chdir(made)
    return made
