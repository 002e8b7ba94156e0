"""`get`: a registered model file from the run cache or the workspace, verified."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from mlops_actions import registry
from mlops_actions.errors import MlopsError
from tests.helpers import write_params
from tests.registry_project import NAME, PARAMS, cfg_of, fake_train, new_commit, project_in


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


def test_get_from_the_run_cache(repo: Path, tmp_path: Path) -> None:
    write_params(repo, {**PARAMS, "promote": {"stage": "prod"}})
    fake_train(repo, {"f1": 0.9}, model=b"model one")
    registry.promote(cfg_of(repo))
    new_commit(repo, "two")
    fake_train(repo, {"f1": 0.95}, model=b"model two")  # the workspace now holds model two
    registry.promote(cfg_of(repo), stage="staging")
    result = registry.get(cfg_of(repo), f"{NAME}@v0.0.1", tmp_path / "out" / "m.skops")
    assert (tmp_path / "out" / "m.skops").read_bytes() == b"model one"
    assert (result.version, result.source) == ("v0.0.1", "run cache")
    assert registry.get(cfg_of(repo), f"{NAME}#staging", tmp_path / "s").version == "v0.0.2"
    assert (tmp_path / "s").read_bytes() == b"model two"
    result = registry.get(cfg_of(repo), NAME)  # the latest, named after it in the cwd
    assert result.path == Path(f"{NAME}-v0.0.2.skops")
    assert (repo / f"{NAME}-v0.0.2.skops").read_bytes() == b"model two"


def tamper_cache(repo: Path) -> None:
    for entry in (repo / ".mlops-cache" / "runs").glob("*/model.skops"):
        entry.write_bytes(b"tampered")


def test_get_catches_a_tampered_file(repo: Path, tmp_path: Path) -> None:
    fake_train(repo, {"f1": 0.9}, model=b"the real model")
    registry.promote(cfg_of(repo))
    tamper_cache(repo)
    (repo / "model" / "model.skops").unlink()
    out = tmp_path / "m.skops"
    with pytest.raises(MlopsError, match="changed after it was registered") as exc:
        registry.get(cfg_of(repo), f"{NAME}@v0.0.1", out)
    assert "mlops-actions train --no-cache" in str(exc.value)
    assert not out.exists()


def test_get_skips_a_tampered_cache_for_the_workspace_copy(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_train(repo, {"f1": 0.9}, model=b"the real model")
    registry.promote(cfg_of(repo))
    tamper_cache(repo)
    result = registry.get(cfg_of(repo), f"{NAME}@v0.0.1", tmp_path / "m")
    assert (result.source, (tmp_path / "m").read_bytes()) == ("workspace", b"the real model")
    assert "not the file registered" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (f"{NAME}@v9.9.9", "no such version of demo-model; the latest is v0.0.1"),
        (f"{NAME}#prod", "no version of demo-model is in stage 'prod'"),
        ("other@v0.0.1", "no model 'other' in the registry"),
        (f"{NAME}@1.0", "use NAME@vX.Y.Z, NAME#STAGE"),
    ],
)
def test_get_explains_a_bad_reference(repo: Path, ref: str, message: str) -> None:
    fake_train(repo, {"f1": 0.9})
    registry.promote(cfg_of(repo))
    with pytest.raises(MlopsError, match=re.escape(message)):
        registry.get(cfg_of(repo), ref)


def test_get_when_the_file_is_gone(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    registry.promote(cfg_of(repo))
    new_commit(repo, "x")
    fake_train(repo, {"f1": 0.1}, model=b"another")
    shutil.rmtree(repo / ".mlops-cache")
    with pytest.raises(MlopsError, match=r"no file with sha256 \w+ in the run cache"):
        registry.get(cfg_of(repo), f"{NAME}@v0.0.1")
