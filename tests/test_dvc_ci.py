"""DVC mode in CI on a project of the real shape, and models retrievable from any clone.

Every CI run happens in a fresh clone (no DVC cache, no run cache, only the DVC remote), as on
a runner; `models get` in another fresh clone.
"""

from __future__ import annotations

import copy
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions import cli, registry
from mlops_actions.config import settings
from mlops_actions.config.settings import Config
from mlops_actions.errors import MlopsError
from tests import dvc_project as proj
from tests.fakegithub import FakeGitHub
from tests.helpers import actions_env, commit_all, gated_params, git, write_params

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("dvc-project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", proj.python_on_path(dict(os.environ))["PATH"])
        proj.build(base)
    yield base


@pytest.fixture
def project(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the template (its repo and remote); the stages find our python."""
    base = tmp_path / "w"
    shutil.copytree(template, base, symlinks=True)
    monkeypatch.setenv("PATH", proj.python_on_path(dict(os.environ))["PATH"])
    return base / "repo"


def clone(repo: Path, name: str) -> Path:
    """A fresh clone beside `repo` (so the relative DVC remote resolves the same)."""
    target = repo.parent / name
    git(repo.parent, "clone", "-q", str(repo), str(target))
    git(target, "fetch", "-q", "origin", "refs/tags/*:refs/tags/*")
    assert not (target / ".dvc" / "cache").exists() and not (target / proj.MODEL).exists()
    return target


def ci_run(
    monkeypatch: pytest.MonkeyPatch, server: FakeGitHub, repo: Path, event_name: str = "push"
) -> int:
    sha = git(repo, "rev-parse", "HEAD")
    server.add_ref("refs/heads/main", sha)
    repository = {"full_name": server.repository, "default_branch": "main"}
    if event_name == "push":
        event = {"ref": "refs/heads/main", "after": sha, "repository": repository}
        actions_env(
            monkeypatch, server, repo.parent / "runner", "push", event, sha, "refs/heads/main"
        )
    else:
        pull = server.add_pull("feature", "main", head_sha=sha)
        event = {"action": "synchronize", "number": pull["number"], "pull_request": pull}
        event["repository"] = repository
        ref = f"refs/pull/{pull['number']}/merge"
        actions_env(monkeypatch, server, repo.parent / "runner", event_name, event, sha, ref)
        monkeypatch.setenv("GITHUB_BASE_REF", "main")
    monkeypatch.chdir(repo)
    return cli.main(["run"])


def without_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("GITHUB_"):
            monkeypatch.delenv(name)


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_push_registers_the_next_version_and_a_fresh_clone_gets_the_locked_file(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ci = clone(project, "ci")
    assert ci_run(monkeypatch, github_server, ci) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    version = f"{proj.NAME}@v1.0.1"  # after the GTO-made v1.0.0
    assert f"promoted {version}" in out
    assert f"refs/tags/{version}" in github_server.refs
    # The committed dvc.lock was fresh: every stage came from the remote, none ran again.
    assert git(ci, "status", "--porcelain") == ""
    model = registry.find_model(proj.NAME, cwd=ci)
    assert model is not None
    found = model.find("v1.0.1")
    assert found is not None and found.info is not None
    assert (found.info.model_store, found.info.dvc_remote) == ("dvc", "storage")
    locked = proj.lock_md5(ci, version)
    assert found.info.model_md5 == locked
    assert (project.parent / "remote" / "runs").is_dir()  # the run cache was there to pull

    fresh = clone(ci, "fresh")
    without_actions(monkeypatch)
    monkeypatch.chdir(fresh)
    target = tmp_path / "got.pkl"
    assert cli.main(["models", "get", version, "-o", str(target)]) == 0
    assert md5(target) == locked
    assert "from the DVC cache or remote" in capsys.readouterr().out

    # The remote lost the object: one line naming the version and what to do.
    (project.parent / "remote" / "files" / "md5" / locked[:2] / locked[2:]).unlink()
    cfg = proj_cfg(fresh)
    with pytest.raises(MlopsError) as exc:
        registry.get(cfg, version, tmp_path / "again.pkl")
    assert str(exc.value) == (
        f"{version}: the DVC remote 'storage' lacks model.pkl (md5 {locked[:12]}); push it "
        "with `dvc push --run-cache` from a clone that has it"
    )


def proj_cfg(repo: Path) -> Config:
    return settings.load(repo / "params.yaml")


def test_a_stale_dvc_lock_is_reported_on_the_pr_and_never_tagged_on_main(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = copy.deepcopy(proj.USER_PARAMS)
    user["train"]["n_est"] = 60  # changed, and dvc.lock not reproduced
    proj.write_project_params(project, user, proj.MLOPS)
    commit_all(project, "60 trees, forgot dvc repro")
    ci = clone(project, "ci")

    assert ci_run(monkeypatch, github_server, ci, "pull_request") == 0, capsys.readouterr().err
    [comment] = next(iter(github_server.issue_comments.values()))
    line = (
        "the committed dvc.lock was stale: CI re-ran train, evaluate; commit the reproduced "
        "dvc.lock: run dvc repro locally and commit dvc.lock"
    )
    assert line in comment["body"]

    ci2 = clone(project, "ci2")
    capsys.readouterr()
    assert ci_run(monkeypatch, github_server, ci2) == 0  # the gates' code
    assert f"not promoted: {line}" in capsys.readouterr().out.splitlines()
    assert not [r for r in github_server.refs if r.startswith("refs/tags/")]


def test_a_builtin_model_promoted_is_fetched_from_the_dvc_remote_in_a_fresh_clone(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_params(demo_repo, gated_params())
    assert cli.main(["train"]) == 0
    commit_all(demo_repo, "train")
    result = registry.promote(settings.load(demo_repo / "params.yaml"))
    assert result.promoted and result.tag
    model = demo_repo / "model" / "model.skops"
    digest = md5(model)
    assert (demo_repo.parent / "remote" / "files" / "md5" / digest[:2] / digest[2:]).is_file()

    fresh = clone(demo_repo, "fresh")  # neither the run cache nor the model: only the remote
    monkeypatch.chdir(fresh)
    got = registry.get(settings.load(fresh / "params.yaml"), result.tag, tmp_path / "m.skops")
    assert got.source == "DVC remote"
    assert (tmp_path / "m.skops").read_bytes() == model.read_bytes()


def test_act_runs_the_real_workflow_on_the_dvc_project(
    project: Path, github_server: FakeGitHub
) -> None:
    """ml.yml and the action added to the project, nothing else of ours but, until params.yaml's
    `mlops:` section is read, the `params:` input naming today's settings file."""
    import stat
    import subprocess
    import sys

    from tests.test_act import HOOK, ROOT, WORKFLOW, Project

    repo = project
    for name in ("action.yml", WORKFLOW):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, repo / name)
    workflow = (repo / WORKFLOW).read_text(encoding="utf-8")
    (repo / WORKFLOW).write_text(workflow)
    for name in ("scripts", "mlops_actions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    remote = repo.parent / "remote"
    from tests.helpers import dvc

    dvc(repo, "remote", "modify", "storage", "url", str(remote))  # act copies the checkout
    sha = commit_all(repo, "the workflow")
    origin = repo.parent / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    github_server.add_ref("refs/heads/main", sha)
    hook = origin / "hooks" / "post-receive"
    url = f"{github_server.url}/repos/{github_server.repository}/git/refs"
    hook.write_text(HOOK.format(python=sys.executable, url=url, token=github_server.token))
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    act = Project(repo.parent, repo, origin, remote, remote, github_server)
    event = {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": sha,
        "repository": act.repository_json(),
        "head_commit": {"id": sha, "message": "the workflow"},
    }

    printed = act.act("push", event)

    version = f"{proj.NAME}@v1.0.1"
    assert any(line.startswith(f"promoted {version}") for line in printed), printed
    assert f"refs/tags/{version}" in github_server.refs
    assert f"refs/tags/{proj.NAME}#prod#2" in github_server.refs


def test_a_pr_changing_a_user_param_shows_mains_values_and_none_of_our_settings(
    project: Path,
    github_server: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh clone with an empty cache: main's metrics come from the DVC remote by the md5s
    in main's dvc.lock; the params table is the user's own."""
    from tests.helpers import dvc

    git(project, "checkout", "-q", "-b", "more-trees")
    user = copy.deepcopy(proj.USER_PARAMS)
    user["train"]["n_est"] = 120
    mlops = {**proj.MLOPS, "gates": [*proj.MLOPS["gates"], "avg_prec.test >= base - 0.5"]}
    proj.write_project_params(project, user, mlops)
    dvc(project, "repro", "-q")
    commit_all(project, "120 trees")
    ci = clone(project, "ci")
    git(ci, "checkout", "-q", "more-trees")
    assert not (ci / ".dvc" / "cache").exists()

    assert ci_run(monkeypatch, github_server, ci, "pull_request") == 0, capsys.readouterr().err
    [comment] = next(iter(github_server.issue_comments.values()))
    body = comment["body"]
    params = body.split("<summary>Params changed", 1)[1].split("</details>", 1)[0]
    assert "train.n_est" in params and "50" in params and "120" in params
    assert "mlops" not in params
    metrics = body.split("<summary>All ", 1)[1]  # every metric, in its closed section
    assert "roc_auc.test" in metrics
    row = next(line for line in metrics.splitlines() if "`roc_auc.test`" in line)
    assert "—" not in row.split("|")[3]  # main's value was read, not missing
