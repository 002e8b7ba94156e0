"""Reading the registry from the tags, as GTO does; the `models` command."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, registry
from mlops_actions import tag as tags
from mlops_actions.tag import TagInfo
from tests.helpers import GIT_ENV, git
from tests.registry_project import NAME, at, cfg_of, fake_train, new_commit, project_in, tag_names

GTO = [str(Path(sys.executable).parent / "gto")]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


def gto(repo: Path, *args: str) -> Any:
    proc = subprocess.run(
        [*GTO, *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout) if "--json" in args else proc.stdout


def test_gto_reads_what_we_promote(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, stage in enumerate(["prod", "staging", "prod"]):
        at(monkeypatch, i)
        new_commit(repo, f"v{i}")
        fake_train(repo, {"f1": 0.5 + i / 10})
        registry.promote(cfg_of(repo), stage=stage)
    shown = gto(repo, "show", "--json")
    assert shown == {
        NAME: {
            "version": "v0.0.3",
            "stage": {"prod": "v0.0.3", "staging": "v0.0.2"},
            "registered": True,
            "active": True,
        }
    }
    history = gto(repo, "history", NAME, "--json", "--ascending")
    assert [(e["event"], e["version"], e["stage"], e["ref"]) for e in history] == [
        ("registration", "v0.0.1", None, f"{NAME}@v0.0.1"),
        ("assignment", "v0.0.1", "prod", f"{NAME}#prod#1"),
        ("registration", "v0.0.2", None, f"{NAME}@v0.0.2"),
        ("assignment", "v0.0.2", "staging", f"{NAME}#staging#2"),
        ("registration", "v0.0.3", None, f"{NAME}@v0.0.3"),
        ("assignment", "v0.0.3", "prod", f"{NAME}#prod#3"),
    ]
    ours = registry.find_model(NAME)
    assert ours is not None
    assert ours.stages == shown[NAME]["stage"]


def test_we_read_what_gto_writes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = git(repo, "rev-parse", "HEAD")
    gto(repo, "register", NAME)
    second = new_commit(repo, "second")
    gto(repo, "register", NAME, "--bump-minor")
    gto(repo, "assign", NAME, "--version", "v0.0.1", "--stage", "prod")
    gto(repo, "assign", NAME, "--version", "v0.1.0", "--stage", "staging")
    gto(repo, "deprecate", NAME, "v0.0.1")  # deregisters v0.0.1
    assert set(tag_names(repo)) == {
        f"{NAME}@v0.0.1",
        f"{NAME}@v0.1.0",
        f"{NAME}#prod#1",
        f"{NAME}#staging#2",
        f"{NAME}@v0.0.1!",
    }
    model = registry.find_model(NAME)
    assert model is not None
    assert [(v.version, v.commit, v.deregistered, v.stages) for v in model.versions] == [
        ("v0.1.0", second, False, ["staging"]),
        ("v0.0.1", first, True, []),
    ]
    assert model.stages == {"staging": "v0.1.0"}  # a deregistered version holds no stage
    latest = model.latest()
    assert latest is not None and latest.version == "v0.1.0"
    shown = gto(repo, "show", "--json")[NAME]
    assert (shown["version"], {k: v for k, v in shown["stage"].items() if v}) == (
        "v0.1.0",
        {"staging": "v0.1.0"},
    )
    # Our promote continues GTO's numbering; GTO's tags carry no metrics to beat.
    new_commit(repo, "third")
    fake_train(repo, {"f1": 0.9})
    result = registry.promote(cfg_of(repo), stage="prod")
    assert (result.version, result.stage_tag) == ("v0.1.1", f"{NAME}#prod#3")
    assert result.reason == "f1 0.9; v0.1.0 has no recorded f1"
    assert cli.main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[NAME]["latest"] == "v0.1.1"
    assert listed[NAME]["stages"] == {"prod": "v0.1.1", "staging": "v0.1.0"}


def annotated(repo: Path, name: str, commit: str, when: int, message: str | None = None) -> None:
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": f"@{1_700_000_000 + when} +0000"}
    args = ["git", "tag", "-a", "-m", message or name, name, commit]
    subprocess.run(args, cwd=repo, env=env, check=True)


def test_stage_semantics_match_gto(repo: Path) -> None:
    c1 = git(repo, "rev-parse", "HEAD")
    c2 = new_commit(repo, "c2")
    c3 = new_commit(repo, "c3")
    scenario = {
        # the latest assignment wins, even of an older version
        "reassigned": [
            ("@v0.0.1", c1, 1),
            ("@v0.0.2", c2, 2),
            ("#prod#1", c1, 3),
            ("#prod#2", c2, 4),
            ("#prod#3", c1, 5),
        ],
        # unassigning the newest falls back to the one assigned before
        "unassigned": [
            ("@v0.0.1", c1, 1),
            ("@v0.0.2", c2, 2),
            ("#prod#1", c1, 3),
            ("#prod#2", c2, 4),
            ("#prod!#3", c2, 5),
            ("#dev#4", c2, 6),
        ],
        # a deregistered version loses its stages and is not the latest
        "deregistered": [
            ("@v0.0.1", c1, 1),
            ("@v0.0.2", c2, 2),
            ("#prod#1", c1, 3),
            ("#prod#2", c2, 4),
            ("@v0.0.2!", c2, 5),
        ],
        # a stage on a commit without a version names the commit
        "unregistered": [("@v0.0.1", c1, 1), ("#prod#1", c3, 2)],
        # tags are read in time order, not in counter order
        "out-of-order": [
            ("@v0.0.1", c1, 1),
            ("@v0.0.2", c2, 2),
            ("#prod#7", c2, 3),
            ("#prod#2", c1, 4),
        ],
        # registered again after a deregistration
        "revived": [("@v0.0.1", c1, 1), ("@v0.0.1!", c1, 2), ("@v0.0.1#3", c1, 3)],
    }
    for model, events in scenario.items():
        for suffix, commit, when in events:
            annotated(repo, f"{model}{suffix}", commit, when)
    git(repo, "tag", "reassigned@v9.0.0", c3)  # lightweight: ignored by GTO and by us
    shown = gto(repo, "show", "--json")
    ours = registry.models()
    assert set(ours) == set(shown)
    for model, state in shown.items():
        latest = ours[model].latest()
        assert (latest.version if latest else None) == state["version"], model
        assert ours[model].stages == {k: v for k, v in state["stage"].items() if v}, model
    assert ours["reassigned"].stages == {"prod": "v0.0.1"}
    assert ours["unassigned"].stages == {"prod": "v0.0.1", "dev": "v0.0.2"}
    assert ours["unregistered"].stages == {"prod": c3}
    assert ours["reassigned"].next_version("patch") == "v9.0.1"  # never reuse a tag name


def test_same_second_assignments_go_by_the_counter(repo: Path) -> None:
    c1 = git(repo, "rev-parse", "HEAD")
    c2 = new_commit(repo, "c2")
    for name, commit in [("m@v0.0.1", c1), ("m@v0.0.2", c2), ("m#prod#1", c2), ("m#prod#2", c1)]:
        annotated(repo, name, commit, 0)
    assert registry.models()["m"].stages == {"prod": "v0.0.1"}


def test_deprecated_models_are_flagged(repo: Path) -> None:
    c1 = git(repo, "rev-parse", "HEAD")
    annotated(repo, "old@v0.0.1", c1, 1)
    annotated(repo, "old@deprecated", c1, 10**9)  # after the commit's date, as GTO needs
    assert registry.models()["old"].deprecated


def test_listing_many_tags_takes_one_git_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speed by construction: 2,000 tags are read in one `git for-each-ref` (and one
    `git cat-file` looks for artifacts.yaml), whatever the machine (bench/models_bench.py
    measures the time against gto)."""
    from bench.models_bench import make_tags
    from mlops_actions import git as git_mod

    make_tags(tmp_path / "big", 2000)
    calls: list[tuple[str, ...]] = []
    real = git_mod.result

    def counted(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(git_mod, "result", counted)
    found = registry.models(cwd=tmp_path / "big")
    assert len(found) == 10
    assert sum(len(m.versions) for m in found.values()) == 1800
    assert found["model-0"].stages == {"prod": "v0.1.71", "staging": "v0.1.80"}
    assert sorted(args[0] for args in calls) == ["cat-file", "for-each-ref"]  # side by side


# -- the models command ----------------------------------------------------------------------


def test_models_command(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_train(repo, {"f1": 0.93}, model=b"weights")
    registry.promote(cfg_of(repo), stage="prod")
    head = git(repo, "rev-parse", "HEAD")
    assert cli.main(["models"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "version", "stages", "commit", "date", "metric"]
    row = table[2].split()
    assert row[:4] == [NAME, "v0.0.1", "prod", head[:7]] and row[-2:] == ["f1", "0.93"]
    assert cli.main(["models", NAME, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[NAME]["versions"][0]["metrics"] == {"f1": 0.93}
    assert cli.main(["models", "nope"]) == 2
    assert f"no model 'nope' in the registry (models: {NAME})" in capsys.readouterr().err
    out = tmp_path / "fetched.skops"
    assert cli.main(["models", "get", f"{NAME}#prod", "-o", str(out)]) == 0
    assert out.read_bytes() == b"weights"
    assert "verified" in capsys.readouterr().out


def test_models_command_without_models(git_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["models"]) == 0
    assert "no models registered yet" in capsys.readouterr().out
    assert cli.main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {}


# -- a stage is the version its assignment names ---------------------------------------------


@pytest.mark.parametrize("forged_at", [-5, 5], ids=["dated-before", "dated-after"])
def test_a_forged_version_on_the_promoted_commit_does_not_take_prod(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, forged_at: int
) -> None:
    """Anyone who can push a tag adds `NAME@v9.9.9` on the commit `prod` is assigned to, with
    the hash of a file of theirs; `prod` stays the version the assignment tag names, and
    `models get NAME#prod` fetches that version's file, not theirs."""
    at(monkeypatch, 0)
    fake_train(repo, {"f1": 0.9}, model=b"real weights")
    registry.promote(cfg_of(repo), stage="prod")
    forged = b"forged weights"
    (repo / "model" / "model.skops").write_bytes(forged)  # the workspace holds their file
    info = TagInfo(
        metrics={"f1": 0.99},
        primary="f1",
        model_sha256=hashlib.sha256(forged).hexdigest(),
        model_path="model/model.skops",
    )
    message = tags.format_message(tags.registration_subject(NAME, "v9.9.9"), info)
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": f"@{1_700_000_000 + forged_at} +0000"}
    subprocess.run(
        ["git", "tag", "-a", "-m", message, f"{NAME}@v9.9.9", "HEAD"], cwd=repo, env=env, check=True
    )
    model = registry.find_model(NAME)
    assert model is not None
    assert model.stages == {"prod": "v0.0.1"}
    got = tmp_path / "got.skops"
    assert cli.main(["models", "get", f"{NAME}#prod", "-o", str(got)]) == 0
    assert got.read_bytes() == b"real weights"


def test_an_assignment_without_a_named_version_goes_by_time(repo: Path) -> None:
    """A hand-made stage tag (its message names no version) at a commit with two versions:
    the one registered there when it was assigned."""
    c1 = git(repo, "rev-parse", "HEAD")
    annotated(repo, "m@v0.0.1", c1, 1)
    annotated(repo, "m#prod#1", c1, 2)
    annotated(repo, "m@v9.9.9", c1, 3)
    assert registry.models()["m"].stages == {"prod": "v0.0.1"}


# -- models --history --------------------------------------------------------------------------


def test_history_is_gtos_with_who_and_which_run(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_url = "https://github.com/o/r/actions/runs/42"
    for i, stage in enumerate(["staging", "prod"]):
        at(monkeypatch, i * 10)
        new_commit(repo, f"v{i}")
        fake_train(repo, {"f1": 0.5 + i / 10})
        registry.promote(cfg_of(repo), stage=stage, run_url=run_url if i else None)
    at(monkeypatch, 30)
    gto(repo, "deprecate", NAME, "v0.0.1")  # gto's own tag: no run recorded
    theirs = gto(repo, "history", NAME, "--json")
    assert cli.main(["models", NAME, "--history", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    assert [{k: v for k, v in e.items() if k != "run_url"} for e in ours] == theirs
    assert [(e["ref"], e["run_url"]) for e in ours] == [
        (f"{NAME}@v0.0.1!", None),
        (f"{NAME}#prod#2", run_url),
        (f"{NAME}@v0.0.2", run_url),
        (f"{NAME}#staging#1", None),
        (f"{NAME}@v0.0.1", None),
    ]
    assert cli.main(["models", NAME, "--history"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["date", "name", "event", "version", "stage", "by", "run"]
    prod = next(line for line in table if "assignment" in line and "prod" in line)
    assert "Test <test@example.invalid>" in prod and prod.endswith(run_url)
    assert cli.main(["models", "get", f"{NAME}#prod", "--history"]) == 2
    assert "--history is for `models [NAME]`" in capsys.readouterr().err


def test_history_rows_never_carry_control_characters(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c1 = git(repo, "rev-parse", "HEAD")
    info = TagInfo(run_url="https://x.invalid/\n::stop-commands::t")
    message = tags.format_message(tags.registration_subject("m", "v0.0.1"), info)
    annotated(repo, "m@v0.0.1", c1, 1, message)
    assert cli.main(["models", "m", "--history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and not any(line.startswith("::") for line in lines)
    assert "https://x.invalid/ ::stop-commands::t" in lines[2]


def test_a_model_only_artifacts_yaml_declares(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "artifacts.yaml").write_text("declared:\n  type: model\n")
    git(repo, "add", "artifacts.yaml")
    git(repo, "commit", "-q", "-m", "declare")
    assert cli.main(["models", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["declared"]
    assert (listed["registered"], listed["latest"], listed["stages"]) == (False, None, {})
    assert cli.main(["models"]) == 0
    head = git(repo, "rev-parse", "--short=7", "HEAD")
    assert f"declared  {head} (not registered)" in capsys.readouterr().out


def test_a_forged_tag_with_the_staged_versions_name_does_not_take_prod(
    repo: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same attack with the staged version's own name on another commit, dated before
    the real one: `models get NAME#prod` still fetches the version the stage tag points at."""
    at(monkeypatch, 0)
    fake_train(repo, {"f1": 0.9}, model=b"real weights")
    registry.promote(cfg_of(repo), stage="prod")
    other = new_commit(repo, "theirs")
    forged = b"forged weights"
    (repo / "model" / "model.skops").write_bytes(forged)
    info = TagInfo(model_sha256=hashlib.sha256(forged).hexdigest(), model_path="model/model.skops")
    message = tags.format_message(tags.registration_subject(NAME, "v0.0.1"), info)
    annotated(repo, f"{NAME}@v0.0.1#9", other, -5, message)
    got = tmp_path / "got.skops"
    assert cli.main(["models", "get", f"{NAME}#prod", "-o", str(got)]) == 0
    assert got.read_bytes() == b"real weights"
