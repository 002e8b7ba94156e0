"""DVC against an S3-protocol server (moto) on 127.0.0.1, credentials from the environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions import cli
from tests.helpers import commit_all, dvc, git

BUCKET = "mlops-data"


@pytest.fixture
def s3_server() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    port = server._server.server_port  # type: ignore[attr-defined]
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def s3_repo(demo_repo: Path, s3_server: str, s3_env: None) -> Path:
    """The demo repo with its data pushed to a bucket on the S3 server instead of a folder."""
    import boto3

    boto3.client("s3", endpoint_url=s3_server).create_bucket(Bucket=BUCKET)
    dvc(demo_repo, "remote", "add", "-f", "-d", "s3", f"s3://{BUCKET}/dvc")
    dvc(demo_repo, "remote", "modify", "s3", "endpointurl", s3_server)
    dvc(demo_repo, "push", "-q", "-r", "s3")
    commit_all(demo_repo, "data on S3")
    return demo_repo


def _clone(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clone = repo.parent / "s3-clone"
    git(repo.parent, "clone", "-q", str(repo), str(clone))
    monkeypatch.chdir(clone)
    return clone


def test_pull_from_s3_with_credentials_from_the_environment(
    s3_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = _clone(s3_repo, monkeypatch)
    assert cli.main(["pull"]) == 0, capsys.readouterr().err
    csv = "data/breast_cancer.csv"
    assert (clone / csv).read_bytes() == (s3_repo / csv).read_bytes()
    assert cli.main(["train"]) == 0


def test_s3_without_credentials_says_so(
    s3_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _clone(s3_repo, monkeypatch)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert "credentials" in err and "AWS_ACCESS_KEY_ID" in err
    assert len(err.strip().splitlines()) == 1


def test_s3_server_down_is_unreachable_and_a_rerun_recovers(
    s3_repo: Path,
    s3_server: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clone = _clone(s3_repo, monkeypatch)
    dvc(clone, "remote", "modify", "--local", "s3", "endpointurl", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert "unreachable" in err
    assert not (clone / "data" / "breast_cancer.csv").exists()
    os.remove(clone / ".dvc" / "config.local")
    assert cli.main(["pull"]) == 0
