"""`models get NAME#STAGE` through the command line: the version a stage names now, as real
`gto assign` and `gto deprecate` move it, verified by the sha256 of its tag."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions import cli, registry
from tests.helpers import GIT_ENV
from tests.registry_project import NAME, at, cfg_of, fake_train, new_commit, project_in

BIN = Path(sys.executable).parent


def gto(repo: Path, *args: str) -> None:
    proc = subprocess.run(
        [str(BIN / "gto"), *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two registered versions, v0.0.1 (model one) and v0.0.2 (model two, in the workspace)."""
    project = project_in(tmp_path, monkeypatch)
    at(monkeypatch, 0)
    fake_train(project, {"f1": 0.9}, model=b"model one")
    registry.promote(cfg_of(project))
    new_commit(project, "two")
    at(monkeypatch, 10)
    fake_train(project, {"f1": 0.95}, model=b"model two")
    registry.promote(cfg_of(project))
    return project


def get(ref: str, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["models", "get", ref, "-o", str(out)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_get_by_stage_follows_gto_assign(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "prod.skops"
    at(monkeypatch, 20)
    gto(repo, "assign", NAME, "--version", "v0.0.2", "--stage", "prod")
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 0, printed
    assert out.read_bytes() == b"model two"
    assert f"wrote {NAME}@v0.0.2" in printed and "sha256" in printed

    # A rollback: prod goes back to v0.0.1, whose file only the run cache still holds.
    at(monkeypatch, 30)
    gto(repo, "assign", NAME, "--version", "v0.0.1", "--stage", "prod")
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 0, printed
    assert out.read_bytes() == b"model one"
    assert f"wrote {NAME}@v0.0.1" in printed and "from the run cache" in printed


def test_get_by_a_stage_no_version_holds_is_one_line_exit_2(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    at(monkeypatch, 20)
    gto(repo, "assign", NAME, "--version", "v0.0.1", "--stage", "staging")
    out = tmp_path / "prod.skops"
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 2
    assert f"{NAME}#prod: no version of {NAME} is in stage 'prod' (stages: staging)" in printed
    assert len(printed.strip().splitlines()) == 1
    assert not out.exists()


def test_get_by_stage_refuses_a_file_that_is_not_the_registered_one(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    at(monkeypatch, 20)
    gto(repo, "assign", NAME, "--version", "v0.0.2", "--stage", "prod")
    (repo / "model" / "model.skops").write_bytes(b"swapped after registration")
    for entry in (repo / ".mlops-cache" / "runs").glob("*/model.skops"):
        entry.write_bytes(b"swapped after registration")
    out = tmp_path / "prod.skops"
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 2
    assert "the file was changed after it was registered" in printed
    assert not out.exists()
