from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_actions import cli
from mlops_actions.dvcio import data
from mlops_actions.errors import DataError
from tests.helpers import dvc, git

CSV = Path("data") / "breast_cancer.csv"


def _fresh_clone(demo_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A clone next to the original, so the relative DVC remote URL resolves the same way."""
    clone = demo_repo.parent / "clone"
    git(demo_repo.parent, "clone", "-q", str(demo_repo), str(clone))
    monkeypatch.chdir(clone)
    return clone


def _remote_blob(base: Path, md5: str) -> Path:
    return base / "remote" / "files" / "md5" / md5[:2] / md5[2:]


def test_pull_into_a_fresh_clone_verifies_every_file(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = _fresh_clone(demo_repo, monkeypatch)
    assert not (clone / CSV).exists()
    assert cli.main(["pull", "--jobs", "2"]) == 0
    assert (clone / CSV).read_bytes() == (demo_repo / CSV).read_bytes()
    assert "pulled and verified 1 file" in capsys.readouterr().out
    # A second pull finds the data in place and does not call dvc again.
    assert cli.main(["pull"]) == 0
    assert "verified, already in the workspace: 1 file" in capsys.readouterr().out


def test_tampered_workspace_file_is_refused_and_kept(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = (demo_repo / CSV).read_text().replace("malignant", "benign", 3)
    (demo_repo / CSV).write_text(tampered)
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert "data/breast_cancer.csv: content does not match its .dvc file" in err
    assert "dvc checkout --force" in err
    assert (demo_repo / CSV).read_text() == tampered  # the user's edit is not thrown away
    assert cli.main(["train"]) == 2  # and nothing trains on it
    assert not (demo_repo / "metrics.json").exists()


def test_corrupt_blob_on_the_remote_is_caught_and_not_kept(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = _fresh_clone(demo_repo, monkeypatch)
    md5 = data.file_md5(demo_repo / CSV)
    blob = _remote_blob(demo_repo.parent, md5)
    good = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(good[: len(good) // 2])  # truncated upload
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert "data/breast_cancer.csv: the pulled copy does not match its .dvc file" in err
    assert not (clone / CSV).exists()
    # Once the remote is repaired, a rerun recovers.
    blob.write_bytes(good)
    assert cli.main(["pull"]) == 0
    assert data.file_md5(clone / CSV) == md5


def test_blob_missing_from_remote(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fresh_clone(demo_repo, monkeypatch)
    md5 = data.file_md5(demo_repo / CSV)
    _remote_blob(demo_repo.parent, md5).unlink()
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert "data.dvc" in err or "breast_cancer.csv" in err
    assert "dvc push" in err


def test_no_remote_configured(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = _fresh_clone(demo_repo, monkeypatch)
    dvc(clone, "remote", "remove", "local")
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: data.dvc: no DVC remote is configured")
    assert "dvc remote add -d" in err


def test_unreachable_remote(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fresh_clone(demo_repo, monkeypatch)
    shutil.rmtree(demo_repo.parent / "remote")
    assert cli.main(["pull"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: data.dvc: the DVC remote is unreachable")
    assert len(err.strip().splitlines()) == 1


def test_missing_dvc_file_is_named(demo_repo: Path) -> None:
    with pytest.raises(DataError, match=r"other.dvc: not found; track the data with `dvc add`"):
        data.outputs(demo_repo, ["other.dvc"])


@pytest.mark.parametrize(
    ("content", "legacy", "expected"),
    [
        (b"a,b\r\n1,2\r\n", False, "md5 of the bytes"),
        (b"a,b\r\n1,2\r\n", True, "md5 with CRLF as LF"),
        (b"\x00\x01\r\n", True, "md5 of the bytes"),
    ],
)
def test_file_md5_follows_dvc(tmp_path: Path, content: bytes, legacy: bool, expected: str) -> None:
    import hashlib

    path = tmp_path / "f"
    path.write_bytes(content)
    raw = hashlib.md5(content).hexdigest()
    normalised = hashlib.md5(content.replace(b"\r\n", b"\n")).hexdigest()
    assert data.file_md5(path, legacy) == (raw if expected == "md5 of the bytes" else normalised)


def test_pull_after_checking_out_another_data_version_switches_to_it(
    demo_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The workspace holds an older version DVC caches: replacing it loses nothing."""
    csv = demo_repo / CSV
    first = csv.read_bytes()
    csv.write_bytes(first[: len(first) // 2].rsplit(b"\n", 1)[0] + b"\n")
    dvc(demo_repo, "add", "-q", "data")
    dvc(demo_repo, "push", "-q")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "half the data")
    git(demo_repo, "checkout", "-q", "HEAD~1", "--", "data.dvc")  # the old version's .dvc file
    assert cli.main(["pull"]) == 0, capsys.readouterr().err
    assert csv.read_bytes() == first
