from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mlops_actions import cli, config, registry
from mlops_actions import tag as tags
from mlops_actions.config import Config
from mlops_actions.errors import MlopsError
from mlops_actions.registry import GitTagWriter, NewTag
from mlops_actions.training.cache import RunCache
from tests.helpers import GIT_ENV, commit_all, git, init_repo, write_params

NAME = "demo-model"
PARAMS: dict[str, Any] = {
    "data": {"path": "data/data.csv", "target": "y"},
    "model": {"name": NAME},
    "metrics": {"primary": "f1"},
}
GTO = [str(Path(sys.executable).parent / "gto")]


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
    return config.load(repo / "params.yaml")


def new_commit(repo: Path, text: str) -> str:
    (repo / "train.py").write_text(f"# {text}\n")
    return commit_all(repo, text)


def tag_names(repo: Path) -> list[str]:
    return git(repo, "tag", "-l").splitlines()


def at(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """Our git tags get this tagger date (GTO orders the registry by it, to the second)."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", f"@{1_700_000_000 + seconds} +0000")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    project = make_project(tmp_path / "repo")
    monkeypatch.chdir(project)
    return project


@pytest.fixture
def origin(tmp_path: Path, repo: Path) -> Path:
    """A bare origin holding the project; `repo` is a clone of it."""
    bare = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(bare))
    git(repo, "remote", "add", "origin", str(bare))
    return bare


def clone(origin: Path, dest: Path) -> Path:
    git(origin.parent, "clone", "-q", str(origin), str(dest))
    git(dest, "config", "user.name", "Test")
    git(dest, "config", "user.email", "test@example.invalid")
    return dest


# -- promote ---------------------------------------------------------------------------------


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
    assert info == registry.current_info(cfg)
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
    with pytest.raises(MlopsError, match=r"no numeric 'f1' \(metrics.primary\); it has: accuracy"):
        registry.promote(cfg_of(repo))


def test_promote_refuses_a_model_file_changed_after_training(repo: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    (repo / "model" / "model.skops").write_bytes(b"edited by hand")
    with pytest.raises(MlopsError, match="does not match its model card"):
        registry.promote(cfg_of(repo))
    assert tag_names(repo) == []


# -- push and concurrent promotions ----------------------------------------------------------


def remote_tags(origin: Path) -> dict[str, str]:
    """tag -> tag object id on the remote."""
    out = git(origin, "for-each-ref", "--format=%(refname:lstrip=2) %(objectname)", "refs/tags")
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_push_publishes_both_tags(repo: Path, origin: Path) -> None:
    fake_train(repo, {"f1": 0.9})
    result = registry.promote(cfg_of(repo), stage="prod", push=True)
    assert result.pushed
    assert set(remote_tags(origin)) == {f"{NAME}@v0.0.1", f"{NAME}#prod#1"}


class RacingWriter:
    """Lets another clone promote between our decision and our push, once."""

    def __init__(self, inner: GitTagWriter, other: Path) -> None:
        self.inner, self.other, self.raced = inner, other, False
        self.results: list[registry.PromoteResult] = []

    def write(self, new: Sequence[NewTag], *, push: bool) -> bool:
        if not self.raced:
            self.raced = True
            self.results.append(registry.promote(cfg_of(self.other), stage="prod", push=True))
        return self.inner.write(new, push=push)

    def refresh(self) -> None:
        self.inner.refresh()

    def published_versions(self) -> set[str]:
        return self.inner.published_versions()


def test_concurrent_promotions_end_as_two_versions(
    repo: Path, origin: Path, tmp_path: Path
) -> None:
    fake_train(repo, {"f1": 0.8})
    registry.promote(cfg_of(repo), push=True)
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    head_a, head_b = new_commit(a, "change in a"), new_commit(b, "change in b")
    fake_train(a, {"f1": 0.9})
    fake_train(b, {"f1": 0.85})
    racing = RacingWriter(GitTagWriter(b), other=a)
    result_b = registry.promote(cfg_of(b), stage="prod", push=True, writer=racing)
    (result_a,) = racing.results
    assert (result_a.version, result_a.stage_tag) == ("v0.0.2", f"{NAME}#prod#1")
    # B had computed v0.0.2 and #prod#1 too; its push was refused and it took the next ones.
    assert (result_b.promoted, result_b.version, result_b.stage_tag) == (
        True,
        "v0.0.3",
        f"{NAME}#prod#2",
    )
    on_origin = remote_tags(origin)
    assert set(on_origin) == {
        f"{NAME}@v0.0.1",
        f"{NAME}@v0.0.2",
        f"{NAME}@v0.0.3",
        f"{NAME}#prod#1",
        f"{NAME}#prod#2",
    }
    # Nothing was moved: A's tags on origin are the very objects A created.
    for name in (f"{NAME}@v0.0.2", f"{NAME}#prod#1"):
        assert on_origin[name] == git(a, "rev-parse", name)
    assert git(origin, "rev-parse", f"{NAME}@v0.0.2^{{commit}}") == head_a
    assert git(origin, "rev-parse", f"{NAME}@v0.0.3^{{commit}}") == head_b
    assert git(b, "rev-parse", f"{NAME}@v0.0.2^{{commit}}") == head_a  # B's view is fixed up


def test_concurrent_promotion_of_the_same_commit(repo: Path, origin: Path, tmp_path: Path) -> None:
    a, b = clone(origin, tmp_path / "a"), clone(origin, tmp_path / "b")
    fake_train(a, {"f1": 0.9})
    fake_train(b, {"f1": 0.91})  # as in two runs: the tag messages differ (here by a metric)
    racing = RacingWriter(GitTagWriter(b), other=a)
    result = registry.promote(cfg_of(b), push=True, writer=racing)
    assert not result.promoted
    assert result.reason.endswith(f"another run registered it as {NAME}@v0.0.1")
    assert set(remote_tags(origin)) == {f"{NAME}@v0.0.1", f"{NAME}#prod#1"}


def test_a_refused_push_leaves_no_local_tags(repo: Path, origin: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'tags are protected here' >&2\nexit 1\n")
    hook.chmod(0o755)
    fake_train(repo, {"f1": 0.9})
    with pytest.raises(MlopsError, match="git push"):
        registry.promote(cfg_of(repo), stage="prod", push=True)
    assert tag_names(repo) == []
    assert remote_tags(origin) == {}


# -- reading the registry, and GTO interop ---------------------------------------------------


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


def annotated(repo: Path, name: str, commit: str, when: int) -> None:
    env = {**os.environ, **GIT_ENV, "GIT_COMMITTER_DATE": f"@{1_700_000_000 + when} +0000"}
    subprocess.run(["git", "tag", "-a", "-m", name, name, commit], cwd=repo, env=env, check=True)


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
    annotated(repo, "old@deprecated", c1, 2)
    assert registry.models()["old"].deprecated


def test_listing_many_tags_is_fast(tmp_path: Path) -> None:
    from bench.models_bench import make_tags

    make_tags(tmp_path / "big", 2000)
    started = time.perf_counter()
    found = registry.models(cwd=tmp_path / "big")
    elapsed = time.perf_counter() - started
    assert len(found) == 10
    assert sum(len(m.versions) for m in found.values()) == 1800
    assert found["model-0"].stages == {"prod": "v0.1.71", "staging": "v0.1.80"}
    assert elapsed < 1.0


# -- get -------------------------------------------------------------------------------------


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


# -- the commands ----------------------------------------------------------------------------


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
