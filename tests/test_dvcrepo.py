"""dvcrepo: what `.dvc/config` and `.dvc/config.local` say, checked against dvc's own answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.dvcio import repo as dvcrepo
from tests.helpers import dvc, init_repo


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = init_repo(tmp_path_factory.mktemp("dvcrepo") / "repo")
    dvc(repo, "init", "-q")
    return repo


@pytest.fixture
def repo(template: Path, tmp_path: Path) -> Path:
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(template, copy, symlinks=True)
    return copy


def dvc_cache_dir(repo: Path) -> Path:
    return Path(dvc(repo, "cache", "dir").stdout.strip())


def test_a_fresh_repository(repo: Path) -> None:
    config = dvcrepo.read_config(repo)
    assert config.cache_dir == repo / ".dvc" / "cache"
    assert config.cache_dir.resolve() == dvc_cache_dir(repo).resolve()
    assert config.remote() is None
    assert config.remote("nope") is None


def test_cache_object_is_where_dvc_add_puts_the_file(repo: Path) -> None:
    import hashlib

    content = b"a,b\n1,2\n"
    (repo / "data.csv").write_bytes(content)
    dvc(repo, "add", "-q", "data.csv")
    md5 = hashlib.md5(content).hexdigest()
    config = dvcrepo.read_config(repo)
    assert config.cache_object(md5).read_bytes() == content
    assert config.cache_object(md5) == config.cache_dir / "files" / "md5" / md5[:2] / md5[2:]
    assert config.cache_object(md5, legacy=True) == config.cache_dir / md5[:2] / md5[2:]


def test_cache_dir_from_config_then_config_local(repo: Path, tmp_path: Path) -> None:
    dvc(repo, "cache", "dir", str(tmp_path / "shared-cache"))
    config = dvcrepo.read_config(repo)
    assert config.cache_dir == (tmp_path / "shared-cache").resolve() == dvc_cache_dir(repo)
    dvc(repo, "cache", "dir", "--local", "mine")  # dvc writes it relative to .dvc/: ../mine
    config = dvcrepo.read_config(repo)
    assert config.cache_dir == (repo / "mine").resolve() == dvc_cache_dir(repo)


def test_default_remote_name_and_url(repo: Path, tmp_path: Path) -> None:
    dvc(repo, "remote", "add", "-d", "store", "s3://bucket/path")
    dvc(repo, "remote", "add", "local", str(tmp_path / "remote"))
    config = dvcrepo.read_config(repo)
    assert config.remote() == dvcrepo.Remote("store", "s3://bucket/path", None)
    assert config.remote("local") == dvcrepo.Remote(
        "local", str(tmp_path / "remote"), tmp_path / "remote"
    )
    # config.local names another default, and a remote of its own
    dvc(repo, "remote", "add", "--local", "-d", "mine", "relative")  # written as ../relative
    config = dvcrepo.read_config(repo)
    assert dvc(repo, "remote", "default").stdout.strip() == "mine"
    assert config.remote() == dvcrepo.Remote("mine", "../relative", (repo / "relative").resolve())
    assert config.remote("store") is not None


def test_unreadable_config_counts_as_empty(repo: Path) -> None:
    dvc(repo, "remote", "add", "-d", "store", "/data/100%")
    (repo / ".dvc" / "config.local").write_text("not ini [\n")
    config = dvcrepo.read_config(repo)
    assert config.remote() == dvcrepo.Remote("store", "/data/100%", Path("/data/100%"))
    (repo / ".dvc" / "config").write_bytes(b"\xff\xfe")
    assert dvcrepo.read_config(repo).sections == {}


def test_global_and_system_levels_under_the_repository_files(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_GLOBAL_CONFIG_DIR", str(tmp_path / "global"))
    monkeypatch.setenv("DVC_SYSTEM_CONFIG_DIR", str(tmp_path / "system"))
    dvc(repo, "remote", "add", "--system", "-d", "shared", "s3://system/store")
    dvc(repo, "remote", "add", "--global", "-d", "team", "team-store")  # written as ../repo/..
    dvc(repo, "cache", "dir", "--global", str(tmp_path / "global-cache"))
    config = dvcrepo.read_config(repo)
    assert dvc(repo, "remote", "default").stdout.strip() == "team"
    assert config.remote() == dvcrepo.Remote(
        "team", "../repo/team-store", (repo / "team-store").resolve()
    )
    assert config.remote("shared") == dvcrepo.Remote("shared", "s3://system/store", None)
    assert config.cache_dir == dvc_cache_dir(repo) == (tmp_path / "global-cache").resolve()
    dvc(repo, "remote", "add", "-d", "mine", "s3://repo/store")  # the repository's file wins
    assert dvcrepo.read_config(repo).remote() == dvcrepo.Remote("mine", "s3://repo/store", None)


def test_quoted_values_come_back_without_quotes(repo: Path) -> None:
    (repo / ".dvc" / "config").write_text(
        "[core]\n    remote = 'store'\n"
        '[\'remote "store"\']\n    url = "s3://bucket/with, comma"\n'
    )
    assert dvcrepo.read_config(repo).remote() == dvcrepo.Remote(
        "store", "s3://bucket/with, comma", None
    )
    shown = dvc(repo, "remote", "list").stdout.split()
    assert shown[:2] == ["store", "s3://bucket/with,"]  # dvc prints the url unquoted too
