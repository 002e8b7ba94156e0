"""The stat memo: unchanged data is not read again; any change is hashed in full."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlops_actions import cli
from mlops_actions.dvcio import data, hashmemo
from tests.helpers import git

CSV = Path("data") / "breast_cancer.csv"


def _age(path: Path, seconds: float = 3600) -> None:
    """Give the file an mtime in the past: fresh files are never memoised (the racy window)."""
    past = time.time() - seconds
    os.utime(path, (past, past))


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file data.py hashes."""
    seen: list[Path] = []
    real = data.file_md5

    def counting(path: Path, legacy: bool = False) -> str:
        seen.append(path)
        return real(path, legacy)

    monkeypatch.setattr(data, "file_md5", counting)
    return seen


def test_an_unchanged_file_is_hashed_once(
    demo_repo: Path, reads: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _age(demo_repo / CSV)
    assert cli.main(["pull"]) == 0
    assert len(reads) == 1
    assert (demo_repo / hashmemo.MEMO).is_file()
    assert cli.main(["pull"]) == 0
    assert cli.main(["train"]) == 0
    assert len(reads) == 1
    assert "verified, already in the workspace" in capsys.readouterr().out


def test_a_rewritten_file_with_its_old_mtime_is_hashed_again_and_refused(
    demo_repo: Path, reads: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    csv = demo_repo / CSV
    _age(csv)
    assert cli.main(["pull"]) == 0
    before = csv.stat()
    text = csv.read_text()
    csv.write_text(text.replace("malignant", "Malignant", 1)[: len(text)])  # same size
    os.utime(csv, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert csv.stat().st_size == before.st_size and csv.stat().st_mtime_ns == before.st_mtime_ns
    assert cli.main(["pull"]) == 2
    assert "content does not match its .dvc file" in capsys.readouterr().err
    assert len(reads) == 2


def test_a_fresh_file_is_not_remembered(demo_repo: Path, reads: list[Path]) -> None:
    (demo_repo / CSV).touch()
    assert cli.main(["pull"]) == 0
    assert cli.main(["pull"]) == 0
    assert len(reads) == 2


def test_a_memo_committed_to_git_is_ignored(demo_repo: Path, reads: list[Path]) -> None:
    _age(demo_repo / CSV)
    assert cli.main(["pull"]) == 0
    git(demo_repo, "add", "-f", str(hashmemo.MEMO))
    assert cli.main(["pull"]) == 0
    assert len(reads) == 2


def test_the_memo_is_shared_by_pull_and_a_fresh_process(demo_repo: Path) -> None:
    """A second process (the next CI step) reads the memo the first one wrote."""
    _age(demo_repo / CSV)
    assert cli.main(["pull"]) == 0
    memo = hashmemo.HashMemo.load(demo_repo)
    assert len(memo.entries) == 1
    script = (
        "import sys; from pathlib import Path; from mlops_actions.dvcio import data\n"
        "calls = []\nreal = data.file_md5\n"
        "data.file_md5 = lambda p, legacy=False: calls.append(p) or real(p, legacy)\n"
        "data.check(Path('.').resolve(), ['data.dvc'])\nprint(len(calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=demo_repo, capture_output=True, text=True
    )
    assert out.stdout.strip() == "0", out.stderr
