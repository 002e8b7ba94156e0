"""The user's environment stays theirs: the training command and `dvc repro`'s stages run with
the job's Python and its packages, never with the interpreter and pins mlops-actions runs on.

The user's environment is a venv made here (tests/userenv.py) whose `six` is another version
than ours and whose `userpkg` we do not ship; PATH is what the action leaves: a directory with
only our `mlops-actions` command, then the user's Python. The real command runs the real
training; the stages report what they see.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from mlops_actions.dvcio import repo as dvcrepo
from tests import userenv
from tests.helpers import GIT_ENV, commit_all, dvc, init_repo, write_params


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("wheels")
    for name, version in {**userenv.THEIRS, "userpkg-next": "9.10"}.items():
        userenv.wheel(where, name.removesuffix("-next"), version)
    return where


def _theirs(wheels: Path) -> list[Path]:
    return [wheels / f"{n}-{v}-py3-none-any.whl" for n, v in userenv.THEIRS.items()]


def _train(repo: Path, path: str, *args: str) -> str:
    proc = subprocess.run(
        ["mlops-actions", "train", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        env={
            **os.environ,
            **GIT_ENV,
            "PATH": path,
            "XDG_CACHE_HOME": str(repo.parent / "cache"),
        },
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _seen(repo: Path) -> dict[str, object]:
    seen: dict[str, object] = json.loads((repo / "seen.json").read_text())
    return seen


def test_the_training_command_runs_with_the_users_python_and_their_versions_key_the_cache(
    tmp_path: Path, wheels: Path
) -> None:
    env = userenv.make_env(tmp_path / "user-env", *_theirs(wheels))
    path = userenv.action_path(tmp_path, env)
    repo = init_repo(tmp_path / "repo")
    (repo / "stage.py").write_text(userenv.STAGE)
    write_params(
        repo,
        {"model": {"name": "m"}, "train": {"mode": "command", "command": "python stage.py"}},
    )
    commit_all(repo, "a project")
    assert metadata.version("six") == userenv.OURS["six"]  # ours differs from theirs

    out = _train(repo, path)

    assert "trained (command)" in out
    seen = _seen(repo)
    assert Path(str(seen["executable"])).parent == env / "bin"
    assert seen["prefix"] == str(env)
    assert (seen["six"], seen["userpkg"]) == ("1.0.0", "9.9")
    assert seen["sklearn"] is False  # our scikit-learn is not theirs
    versions = json.loads((repo / "model" / "card.json").read_text())["versions"]
    assert "scikit-learn" not in versions and versions["python"]  # theirs, not ours

    assert "cache hit" in _train(repo, path)  # the same environment: restored
    userenv.install(env, wheels / "userpkg-9.10-py3-none-any.whl")
    assert "trained (command)" in _train(repo, path)  # another version installed: retrained
    assert _seen(repo)["userpkg"] == "9.10"


DVC_YAML = """\
stages:
  train:
    cmd: python stage.py
    deps: [stage.py]
    outs: [seen.json]
    metrics:
      - metrics.json:
          cache: false
"""


@pytest.mark.slow
def test_dvc_repro_runs_the_stages_with_the_users_python_and_prefers_their_dvc(
    tmp_path: Path, wheels: Path
) -> None:
    env = userenv.make_env(tmp_path / "user-env", *_theirs(wheels))
    path = userenv.action_path(tmp_path, env)
    repo = init_repo(tmp_path / "repo")
    dvc(repo, "init", "-q")
    (repo / "stage.py").write_text(userenv.STAGE)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text(yaml.safe_dump({"mlops": {"model": {"name": "m"}}}))
    commit_all(repo, "a pipeline")

    # No dvc in their environment: ours runs the pipeline, its stages get their Python.
    assert "trained (dvc)" in _train(repo, path)
    seen = _seen(repo)
    assert Path(str(seen["executable"])).parent == env / "bin"
    assert (seen["six"], seen["userpkg"], seen["sklearn"]) == ("1.0.0", "9.9", False)

    # Their environment has a dvc: that one runs.
    log = tmp_path / "their-dvc.log"
    theirs = env / "bin" / "dvc"
    theirs.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {userenv.BIN / "python"} -m dvc "$@"\n')
    theirs.chmod(0o755)
    (repo / "seen.json").unlink()
    _train(repo, path, "--no-cache")
    assert log.read_text().split()[0] == "repro"
    assert Path(str(_seen(repo)["executable"])).parent == env / "bin"


def test_ours_is_started_by_absolute_path_and_never_from_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "dvc"
    fake.write_text("#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    # A relative PATH entry names the checkout: its dvc is never taken for the user's.
    for path in (".", f".{os.pathsep}/nonexistent", ""):
        command = dvcrepo.dvc_command({"PATH": path})
        assert dvcrepo.ours(command)
        assert command[1:] == ["-I", "-m", "dvc"] and os.path.isabs(command[0])
    assert dvcrepo.dvc_command({"PATH": str(tmp_path)}) == [shutil.which("dvc", path=str(tmp_path))]


def test_a_package_only_we_have_is_missing_for_the_users_code_and_the_error_says_so(
    tmp_path: Path,
) -> None:
    """Our scikit-learn is not theirs: a command importing it without installing it fails with
    Python's own message and our one line (docs/troubleshooting.md)."""
    env = userenv.make_env(tmp_path / "user-env")
    repo = init_repo(tmp_path / "repo")
    (repo / "train.py").write_text("import sklearn\n")
    write_params(
        repo,
        {"model": {"name": "m"}, "train": {"mode": "command", "command": "python train.py"}},
    )
    proc = subprocess.run(
        ["mlops-actions", "train"],
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV, "PATH": userenv.action_path(tmp_path, env)},
    )
    assert proc.returncode == 2
    assert "ModuleNotFoundError: No module named 'sklearn'" in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "error: mlops.train.command exited with code 1; see its output above"
    )
