"""A stage is bound to the bytes that were approved: attacks by someone who can create tags
(and releases) but not approve a stage, run against real git tags, real `gto` and the fake
GitHub.

- a later registration of the promoted version (``NAME@v0.0.1#3``, GTO's counter) recording
  another model sha256, with a release of other bytes: a conflict, listed and refused;
- the same, dated before the real one; or at another commit under the same version name;
- a registration tag deleted and written again with other bytes: the assignment's hash binds
  the stage;
- tag fields that are not what mlops-actions writes (digests, paths): refused with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions import cli, registry
from mlops_actions import tag as tags
from mlops_actions.errors import MlopsError
from mlops_actions.flow import deliver
from mlops_actions.github.client import GitHub
from mlops_actions.registry import lifecycle
from mlops_actions.registry.writers import GitTagWriter
from mlops_actions.tag import TagInfo
from tests.helpers import GIT_ENV, git
from tests.registry_project import NAME, at, cfg_of, fake_train, new_commit, project_in

APPROVED = b"approved weights"
THEIRS = b"attacker weights"
GTO = str(Path(sys.executable).parent / "gto")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def forge(repo: Path, tag: str, when: int, info: TagInfo, commit: str = "HEAD") -> None:
    """An annotated tag as anyone with `contents: write` can push it, dated `when`."""
    p = tags.parse(tag)
    assert p is not None and p.version
    message = tags.format_message(tags.registration_subject(p.name, p.version), info)
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": f"@{1_700_000_000 + when} +0000"}
    subprocess.run(["git", "tag", "-a", "-m", message, tag, commit], cwd=repo, env=env, check=True)


def theirs(**fields: object) -> TagInfo:
    base: dict[str, object] = {
        "metrics": {"f1": 0.99},
        "primary": "f1",
        "model_sha256": sha(THEIRS),
        "model_path": "model/model.skops",
    }
    return TagInfo.from_dict({**base, **fields})


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """v0.0.1 promoted to prod (model APPROVED); the workspace then holds the attacker's file,
    so every source that could serve their bytes does."""
    project = project_in(tmp_path, monkeypatch)
    at(monkeypatch, 0)
    fake_train(project, {"f1": 0.9}, model=APPROVED)
    result = registry.promote(cfg_of(project), stage="prod")
    assert result.promoted and result.stage_tag == f"{NAME}#prod#1"
    (project / "model" / "model.skops").write_bytes(THEIRS)
    return project


def get(ref: str, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["models", "get", ref, "-o", str(out)])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).strip()


def test_a_later_registration_with_a_release_of_other_bytes_cannot_swap_prod(
    repo: Path, tmp_path: Path, github: GitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack as it was found: `NAME@v0.0.1#3` on the promoted commit, recording the
    attacker's hash and metric, and a release for it holding their bytes; the deploy clone
    has only the releases."""
    head = git(repo, "rev-parse", "HEAD")
    model = repo / "model" / "model.skops"
    model.write_bytes(APPROVED)
    deliver.create_release(github, f"{NAME}@v0.0.1", head, "approved", model)
    forge(repo, f"{NAME}@v0.0.1#3", 5, theirs())
    model.write_bytes(THEIRS)
    deliver.create_release(github, f"{NAME}@v0.0.1#3", head, "theirs", model)
    shutil.rmtree(repo / ".mlops-cache")  # a clean deploy clone: only the releases
    model.unlink()

    cfg = cfg_of(repo)
    out = tmp_path / "prod.skops"
    for ref in (f"{NAME}#prod", f"{NAME}@v0.0.1", NAME):
        with pytest.raises(MlopsError) as refused:
            registry.get(cfg, ref, out, sources=registry.default_sources(cfg, github))
        message = str(refused.value)
        assert f"{NAME}@v0.0.1 and {NAME}@v0.0.1#3 register" in message, message
        assert "\n" not in message and refused.value.exit_code == 2
        assert not out.exists()

    # `models` lists the version as approved (its first registration's metric), marked.
    assert cli.main(["models"]) == 0
    printed = capsys.readouterr()
    row = next(line for line in printed.out.splitlines() if "v0.0.1" in line)
    assert "(conflict)" in row and "prod" in row and "f1 0.9" in row and "0.99" not in row
    assert f"{NAME}@v0.0.1#3 records sha256 {sha(THEIRS)[:12]}" in printed.err
    assert cli.main(["models", "--json"]) == 0
    [version] = json.loads(capsys.readouterr().out)[NAME]["versions"]
    assert version["model_sha256"] == sha(APPROVED) and version["metrics"] == {"f1": 0.9}
    assert version["tag"] == f"{NAME}@v0.0.1" and version["conflicts"] == [f"{NAME}@v0.0.1#3"]

    # GTO reads the registry as before: prod is v0.0.1.
    shown = subprocess.run(
        [GTO, "show", "--json"], cwd=repo, capture_output=True, text=True, check=True
    )
    assert json.loads(shown.stdout)[NAME]["stage"]["prod"] == "v0.0.1"


@pytest.mark.parametrize("when", [-5, 5], ids=["dated-before", "dated-after"])
def test_get_refuses_a_conflicting_registration_in_one_line_exit_2(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], when: int
) -> None:
    forge(repo, f"{NAME}@v0.0.1#3", when, theirs())
    out = tmp_path / "prod.skops"
    for ref in (f"{NAME}#prod", f"{NAME}@v0.0.1"):
        code, printed = get(ref, out, capsys)
        assert code == 2, printed
        assert len(printed.splitlines()) == 1
        assert f"{NAME}@v0.0.1 and {NAME}@v0.0.1#3 register" in printed
        assert not out.exists()


def test_the_same_version_name_at_another_commit_is_a_conflict_for_get_by_version(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`NAME@v0.0.1#9` on a commit of theirs: `get NAME@v0.0.1` cannot tell which is meant and
    refuses; `get NAME#prod` is bound to the assignment's commit and its hash."""
    other = new_commit(repo, "theirs")
    forge(repo, f"{NAME}@v0.0.1#9", -5, theirs(), commit=other)
    out = tmp_path / "got.skops"
    code, printed = get(f"{NAME}@v0.0.1", out, capsys)
    assert code == 2 and f"{NAME}@v0.0.1#9 (commit {other[:7]})" in printed, printed
    assert f"{NAME}@v0.0.1 (commit " in printed and len(printed.splitlines()) == 1
    assert not out.exists()
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 0, printed
    assert out.read_bytes() == APPROVED


def test_a_registration_written_again_with_other_bytes_is_caught_by_the_assignments_hash(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registration tag deleted and pushed again under its own name with the attacker's
    hash: the prod assignment still records the approved bytes, and get refuses."""
    [assignment] = [t for t in git(repo, "tag", "-l").splitlines() if "#prod" in t]
    message = git(repo, "tag", "-l", "--format=%(contents)", assignment)
    recorded = tags.parse_message(message)
    assert recorded is not None and recorded.model_sha256 == sha(APPROVED)

    git(repo, "tag", "-d", f"{NAME}@v0.0.1")
    forge(repo, f"{NAME}@v0.0.1", 0, theirs())
    out = tmp_path / "prod.skops"
    code, printed = get(f"{NAME}#prod", out, capsys)
    assert code == 2, printed
    assert f"{NAME}#prod#1 assigns {NAME}@v0.0.1 with sha256 {sha(APPROVED)[:12]}" in printed
    assert len(printed.splitlines()) == 1 and not out.exists()


def test_a_stage_assigned_after_registration_records_the_registered_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promote registers HEAD without a stage; a later run at the same commit (whose training
    gave other bytes) assigns the missing stage: the tag records the registered model."""
    project = project_in(tmp_path, monkeypatch)
    at(monkeypatch, 0)
    fake_train(project, {"f1": 0.9}, model=APPROVED)
    assert registry.promote(cfg_of(project)).promoted
    at(monkeypatch, 5)
    fake_train(project, {"f1": 0.9}, model=b"retrained, other bytes")
    result = registry.promote(cfg_of(project), stage="prod")
    assert result.stage_tag and result.sha256 == sha(APPROVED)
    message = git(project, "tag", "-l", "--format=%(contents)", result.stage_tag)
    recorded = tags.parse_message(message)
    assert recorded is not None and recorded.model_sha256 == sha(APPROVED)


BAD_FIELDS = {
    "model_sha256-not-hex": ({"model_sha256": "z" * 64}, "model_sha256"),
    "model_sha256-upper": ({"model_sha256": sha(APPROVED).upper()}, "model_sha256"),
    "model_md5-short": ({"model_md5": "abc", "model_sha256": sha(APPROVED)}, "model_md5"),
    "model_path-dotdot": (
        {"model_path": "../outside/model.skops", "model_sha256": sha(APPROVED)},
        "model_path",
    ),
    "model_path-absolute": (
        {"model_path": "/etc/model.skops", "model_sha256": sha(APPROVED)},
        "model_path",
    ),
    "fingerprint-path": (
        {"fingerprint": "../../elsewhere", "model_sha256": sha(APPROVED)},
        "fingerprint",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FIELDS))
def test_a_tag_field_that_we_never_write_is_refused_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    fields, key = BAD_FIELDS[case]
    project = project_in(tmp_path, monkeypatch)
    fake_train(project, {"f1": 0.9}, model=APPROVED)  # the run cache holds the bytes
    forge(project, f"{NAME}@v0.0.1", 0, theirs(**fields))
    out = tmp_path / "got.skops"
    code, printed = get(f"{NAME}@v0.0.1", out, capsys)
    assert code == 2, printed
    assert len(printed.splitlines()) == 1
    assert f"tag {NAME}@v0.0.1: {key}" in printed
    assert not out.exists()
    assert cli.main(["models"]) == 0
    assert f"tag {NAME}@v0.0.1: {key}" in capsys.readouterr().err


def test_assign_records_the_first_registrations_bytes_not_a_later_tags(repo: Path) -> None:
    """`assign` after the attack: the new stage tag records the approved model, so a stage
    assigned now is bound to it whatever the extra tag says."""
    forge(repo, f"{NAME}@v0.0.1#3", 5, theirs())
    change = lifecycle.assign(repo, NAME, "v0.0.1", "staging", writer=GitTagWriter(repo))
    assert change.written and change.sha256 == sha(APPROVED)
    recorded = tags.parse_message(git(repo, "tag", "-l", "--format=%(contents)", change.tag))
    assert recorded is not None and recorded.model_sha256 == sha(APPROVED)
    assert recorded.metrics == {"f1": 0.9}


def test_models_prints_a_tags_metric_as_one_printable_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tag's metric name and value are the tagger's text: no line break (a row of its own,
    a workflow command) and no terminal escape reaches the table."""
    project = project_in(tmp_path, monkeypatch)
    fake_train(project, {"f1": 0.9}, model=APPROVED)
    hostile = "f1\n::error::forged\x1b]8;;https://evil.example\x1b\\"
    forge(
        project,
        f"{NAME}@v0.0.1",
        0,
        theirs(primary=hostile, metrics={hostile: "0.9\n::warning::x"}, model_sha256=sha(APPROVED)),
    )
    assert cli.main(["models"]) == 0
    printed = capsys.readouterr().out
    assert "\x1b" not in printed
    assert len(printed.splitlines()) == 3, printed  # the header, its rule, the version
