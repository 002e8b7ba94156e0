"""Promotion: the policy (better, gates, bumps, stages), what the tags record, the command."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, registry
from mlops_actions import tag as tags
from mlops_actions.errors import MlopsError
from mlops_actions.github import context
from tests.helpers import git, write_params
from tests.registry_project import (
    NAME,
    PARAMS,
    at,
    cfg_of,
    fake_train,
    new_commit,
    project_in,
    tag_names,
)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return project_in(tmp_path, monkeypatch)


def test_first_promotion_tags_head_with_an_annotated_gto_tag(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9, "test": {"accuracy": 0.95}})
    cfg = cfg_of(repo)
    result = registry.promote(cfg)
    assert (result.promoted, result.version, result.tag) == (True, "v0.0.1", f"{NAME}@v0.0.1")
    assert result.reason == "first version; f1 0.9"
    name = f"{NAME}@v0.0.1"
    assert git(repo, "cat-file", "-t", name) == "tag"
    assert git(repo, "rev-parse", f"{name}^{{commit}}") == git(repo, "rev-parse", "HEAD")
    message = git(repo, "tag", "-l", "--format=%(contents)", name)
    assert message.splitlines()[0] == f"Registering artifact {NAME} version v0.0.1"
    info = tags.parse_message(message)
    assert info == registry.current_info(cfg, None)
    assert info is not None and info.metrics == {"f1": 0.9, "test.accuracy": 0.95}
    assert (
        info.model_sha256 == hashlib.sha256((repo / "model/model.skops").read_bytes()).hexdigest()
    )


def test_versions_follow_the_bumps(repo: Path) -> None:
    seen = []
    for i, bump in enumerate([None, None, "minor", "major", "patch"]):
        new_commit(repo, f"change {i}")
        fake_train(repo, {"f1": 0.5 + i / 100})
        seen.append(registry.promote(cfg_of(repo), bump=bump).version)
    assert seen == ["v0.0.1", "v0.0.2", "v0.1.0", "v1.0.0", "v1.0.1"]
    write_params(repo, {**PARAMS, "promote": {"bump": "minor"}})
    new_commit(repo, "minor by default")
    fake_train(repo, {"f1": 0.9})
    assert registry.promote(cfg_of(repo)).version == "v1.1.0"
    model = registry.find_model(NAME)
    assert model is not None
    assert [v.version for v in model.versions] == [
        "v1.1.0",
        "v1.0.1",
        "v1.0.0",
        "v0.1.0",
        "v0.0.2",
        "v0.0.1",
    ]


def test_first_version_takes_the_bump(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    assert registry.promote(cfg_of(repo), bump="major").version == "v1.0.0"


def test_a_deregistered_version_number_is_not_reused(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    registry.promote(cfg_of(repo))
    new_commit(repo, "two")
    fake_train(repo, {"f1": 0.95})
    registry.promote(cfg_of(repo))
    git(repo, "tag", "-a", "-m", "bad model", f"{NAME}@v0.0.2!", "HEAD")
    new_commit(repo, "three")
    fake_train(repo, {"f1": 0.92})  # beats v0.0.1, the latest active version
    result = registry.promote(cfg_of(repo))
    assert (result.version, result.reason) == ("v0.0.3", "f1 0.92 > 0.9")


def test_after_every_version_is_deregistered_the_next_is_no_first_version(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    registry.promote(cfg_of(repo))
    git(repo, "tag", "-a", "-m", "bad model", f"{NAME}@v0.0.1!", "HEAD")
    new_commit(repo, "two")
    fake_train(repo, {"f1": 0.8})
    result = registry.promote(cfg_of(repo))
    assert (result.promoted, result.version) == (True, "v0.0.2")
    assert result.reason.startswith("no active version to beat (every earlier one is deregistered)")


@pytest.mark.parametrize(
    ("primary", "old", "new", "lists", "promoted", "reason"),
    [
        ("f1", 0.93, 0.95, {}, True, "f1 0.95 > 0.93"),
        ("f1", 0.93, 0.91, {}, False, "f1 0.91 does not beat v0.0.1's 0.93"),
        ("f1", 0.93, 0.93, {}, False, "f1 0.93 does not beat v0.0.1's 0.93"),
        ("f1", 0.93001, 0.93002, {}, True, "f1 0.93002 > 0.93001"),
        ("rmse", 40.0, 38.5, {}, True, "rmse 38.5 < 40"),
        ("rmse", 40.0, 42.0, {}, False, "rmse 42 does not beat v0.0.1's 40 (lower is better)"),
        ("val_loss", 0.2, 0.1, {}, True, "val_loss 0.1 < 0.2"),
        (
            "test.error_rate",
            0.2,
            0.3,
            {},
            False,
            "test.error_rate 0.3 does not beat v0.0.1's 0.2 (lower is better)",
        ),
        (
            "error_rate",
            0.2,
            0.3,
            {"higher_is_better": ["error_rate"]},
            True,
            "error_rate 0.3 > 0.2",
        ),
        ("f1", 0.93, 0.91, {"lower_is_better": ["f1"]}, True, "f1 0.91 < 0.93"),
    ],
)
def test_promotes_only_a_better_model(
    repo: Path,
    primary: str,
    old: float,
    new: float,
    lists: dict[str, list[str]],
    promoted: bool,
    reason: str,
) -> None:
    write_params(repo, {**PARAMS, "metrics": {"primary": primary, **lists}})
    key = primary.split(".")
    nest = (lambda v: {key[0]: {key[1]: v}}) if len(key) == 2 else (lambda v: {primary: v})
    fake_train(repo, nest(old))
    assert registry.promote(cfg_of(repo)).version == "v0.0.1"
    new_commit(repo, "retrain")
    fake_train(repo, nest(new))
    result = registry.promote(cfg_of(repo))
    assert (result.promoted, result.reason) == (promoted, reason)
    assert len(tag_names(repo)) == (2 if promoted else 1)


def test_no_promotion_when_the_gates_failed(repo: Path) -> None:
    fake_train(repo, {"f1": 0.99})
    result = registry.promote(cfg_of(repo), gates_passed=False)
    assert (result.promoted, result.reason) == (False, "the gates failed")
    assert tag_names(repo) == []
    assert registry.promote(cfg_of(repo), gates_passed=True).promoted


def test_the_same_commit_is_not_registered_twice(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    registry.promote(cfg_of(repo))
    fake_train(repo, {"f1": 0.99})
    result = registry.promote(cfg_of(repo))
    assert not result.promoted
    assert f"already registered as {NAME}@v0.0.1" in result.reason


def test_stage_tags_count_like_gto(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = []
    for i, stage in enumerate(["prod", None, "prod", "staging"]):
        at(monkeypatch, i)
        new_commit(repo, f"v{i}")
        fake_train(repo, {"f1": 0.5 + i / 10})
        result = registry.promote(cfg_of(repo), stage=stage)
        made.append(result.stage_tag)
    # GTO's counter runs over all of a model's tags, not per stage.
    assert made == [f"{NAME}#prod#1", None, f"{NAME}#prod#2", f"{NAME}#staging#3"]
    model = registry.find_model(NAME)
    assert model is not None
    assert model.stages == {"prod": "v0.0.3", "staging": "v0.0.4"}
    assert git(repo, "cat-file", "-t", f"{NAME}#prod#2") == "tag"


def test_a_rerun_assigns_a_stage_the_first_run_could_not(repo: Path) -> None:
    """The version tag was published but its stage tag was refused: the rerun finishes it."""
    fake_train(repo, {"f1": 0.9})
    assert registry.promote(cfg_of(repo)).tag == f"{NAME}@v0.0.1"
    again = registry.promote(cfg_of(repo), stage="prod")
    assert (again.promoted, again.version, again.stage_tag) == (True, "v0.0.1", f"{NAME}#prod#1")
    assert "assigned it now" in again.reason
    model = registry.find_model(NAME)
    assert model is not None and model.stages == {"prod": "v0.0.1"}
    # Nothing left to do the third time.
    assert registry.promote(cfg_of(repo), stage="prod").promoted is False


def test_stage_from_params(repo: Path) -> None:
    write_params(repo, {**PARAMS, "promote": {"stage": "prod"}})
    fake_train(repo, {"f1": 0.9})
    assert registry.promote(cfg_of(repo)).stage_tag == f"{NAME}#prod#1"


@pytest.mark.parametrize(
    ("promote", "message"),
    [
        ({"bump": "huge"}, "promote.bump: 'huge' is not one of patch, minor, major"),
        ({"stgae": "prod"}, "promote.stgae: unknown key (did you mean 'stage'?)"),
        ({"stage": "prod env"}, "promote.stage: 'prod env' is not a valid stage name"),
    ],
)
def test_promote_settings_are_checked(repo: Path, promote: dict[str, Any], message: str) -> None:
    write_params(repo, {**PARAMS, "promote": promote})
    fake_train(repo, {"f1": 0.9})
    with pytest.raises(MlopsError, match=re.escape(message)):
        registry.promote(cfg_of(repo))


def test_promote_explains_a_missing_primary_metric(repo: Path) -> None:
    fake_train(repo, {"accuracy": 0.9})
    with pytest.raises(
        MlopsError, match=r"no numeric 'f1' \(mlops.metrics.primary\); it has: accuracy"
    ):
        registry.promote(cfg_of(repo))


def test_promote_refuses_a_model_file_changed_after_training(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    (repo / "model" / "model.skops").write_bytes(b"edited by hand")
    with pytest.raises(MlopsError, match="does not match its model card"):
        registry.promote(cfg_of(repo))
    assert tag_names(repo) == []


def test_the_tags_record_the_run_url_with_its_attempt(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run's tags link to the attempt that made them (the Context's run URL)."""
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/demo")
    monkeypatch.setenv("GITHUB_RUN_ID", "8812345678")
    monkeypatch.setenv("GITHUB_RUN_ATTEMPT", "3")
    ctx = context.load()
    url = "https://github.com/octo-org/demo/actions/runs/8812345678/attempts/3"
    assert ctx.run_url == url
    fake_train(repo, {"f1": 0.9})
    result = registry.promote(cfg_of(repo), stage="prod", run_url=ctx.run_url)
    for name in (result.tag, result.stage_tag):
        assert name is not None
        info = tags.parse_message(git(repo, "tag", "-l", "--format=%(contents)", name))
        assert info is not None and info.run_url == url
    model = registry.find_model(NAME)
    assert model is not None and model.versions[0].to_json()["run_url"] == url


# -- the command -----------------------------------------------------------------------------


def read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines()
    found, i = {}, 0
    while i < len(lines):
        key, delimiter = lines[i].split("<<")
        found[key] = lines[i + 1]
        assert lines[i + 2] == delimiter
        i += 3
    return found


def test_promote_command(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    fake_train(repo, {"f1": 0.93})
    assert cli.main(["promote", "--stage", "prod"]) == 0
    out = capsys.readouterr().out
    assert f"promoted {NAME}@v0.0.1 (first version; f1 0.93)" in out
    assert f"assigned stage prod ({NAME}#prod#1)" in out
    assert read_outputs(outputs) == {
        "promoted": "true",
        "version": "v0.0.1",
        "tag": f"{NAME}@v0.0.1",
    }
    outputs.unlink()
    new_commit(repo, "worse")
    fake_train(repo, {"f1": 0.91})
    assert cli.main(["promote"]) == 0
    assert "not promoted: f1 0.91 does not beat v0.0.1's 0.93" in capsys.readouterr().out
    assert read_outputs(outputs) == {"promoted": "false", "version": "", "tag": ""}


def test_promote_command_before_training(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["promote"]) == 2
    assert "metrics.json: not found; run `mlops-actions train` first" in capsys.readouterr().err
