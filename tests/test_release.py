"""The release: one version source, the release workflow's shape, the changelog, and the README's
install commands run for real (from a clone of this checkout instead of GitHub)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

import mlops_actions
from tests.helpers import GIT_ENV

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _release() -> dict[str, Any]:
    workflow: dict[str, Any] = yaml.safe_load(RELEASE.read_text(encoding="utf-8"))
    return workflow


def _uses(job: dict[str, Any]) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def test_the_release_workflow_runs_on_a_published_release_with_least_permissions() -> None:
    workflow = _release()
    assert workflow[True] == {"release": {"types": ["published"]}}  # YAML 1.1 reads `on` as True
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert list(jobs) == ["build", "publish", "major-tag"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"id-token": "write"}
    assert jobs["major-tag"]["permissions"] == {"contents": "write"}
    assert jobs["publish"]["needs"] == "build" and jobs["major-tag"]["needs"] == "publish"
    for job in jobs.values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
    publish = _uses(jobs["publish"])[-1]
    assert publish.startswith("pypa/gh-action-pypi-publish@")
    text = RELEASE.read_text(encoding="utf-8")
    for uses in (u for job in jobs.values() for u in _uses(job)):
        assert SHA_PIN.match(uses), uses
        assert re.search(rf"uses: {re.escape(uses)} # v\d+\.\d+\.\d+$", text, re.MULTILINE), uses


def test_the_release_refuses_a_tag_that_is_not_the_package_version() -> None:
    [check] = [s for s in _release()["jobs"]["build"]["steps"] if "tag" in s.get("name", "")]
    assert check["env"]["TAG"] == "${{ github.event.release.tag_name }}"
    assert "version=$(bash scripts/install.sh version)" in check["run"]
    assert '[ "$TAG" != "v$version" ]' in check["run"]

    def run(tag: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-e", "-c", check["run"]],
            cwd=ROOT,
            env={**os.environ, "TAG": tag, "MLOPS_ACTION_SRC": str(ROOT)},
            capture_output=True,
            text=True,
        )

    version = mlops_actions.__version__
    assert run(f"v{version}").returncode == 0
    refused = run("v99.0.0")
    assert refused.returncode == 1
    assert f"release tag 'v99.0.0' is not v{version}" in refused.stdout


def test_the_changelog_has_an_unreleased_section_and_one_for_this_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, re.MULTILINE)
    assert headings[0] == "Unreleased"
    assert mlops_actions.__version__ in headings
    for name in headings:
        assert re.search(rf"^\[{re.escape(name)}\]: https://", text, re.MULTILINE), name


def _readme_commands() -> list[str]:
    """The shell block of the README's Install section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.slow
def test_the_readme_install_commands_install_a_working_cli(tmp_path: Path) -> None:
    """The README's commands with GitHub swapped for a clone of this checkout, then the wheel and
    sdist of that commit as the release workflow builds them (build, twine check).

    The clone is named git+file://localhost/...: the pip a venv of Python 3.11 starts with reads
    a git+file URL without a host as a file name.
    """
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # The clone holds the last commit; the working tree as git sees it goes in as one more.
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, files):
        target = clone / name
        if (ROOT / name).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target)
        elif target.is_file():
            target.unlink()  # deleted in the working tree
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "--allow-empty", "-m", "working tree"],
        cwd=clone,
        check=True,
        env=env,
    )
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=clone, check=True, capture_output=True, text=True
    ).stdout.strip()

    work = tmp_path / "user"
    work.mkdir()
    base_python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    for line in _readme_commands():
        line = line.replace(
            "https://raw.githubusercontent.com/OWNER/mlops-actions/<40-hex-sha>/constraints.txt",
            str(clone / "constraints.txt"),
        )
        line = line.replace(
            "git+https://github.com/OWNER/mlops-actions@<40-hex-sha>",
            f"git+file://localhost{clone}@{sha}",
        )
        assert "OWNER" not in line and "<40-hex-sha>" not in line, line
        args = shlex.split(line)
        if args[0] == "python":
            args[0] = base_python
        if args[0].endswith("/pip") and args[1] == "install":
            # Byte-compiling a hundred packages is half of pip's time here; what the test
            # needs is a CLI the commands install and that runs, not its .pyc files.
            args.insert(2, "--no-compile")
        proc = subprocess.run(args, cwd=work, capture_output=True, text=True, env=env)
        assert proc.returncode == 0, f"{line}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    assert proc.stdout.strip() == f"mlops-actions {mlops_actions.__version__}"

    # The release build of the same commit: both files, checked, and the wheel installs.
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-I", "-m", "build", "--outdir", str(dist), str(clone)],
        capture_output=True,
        text=True,
        env={**env, "PIP_CONSTRAINT": str(clone / "constraints.txt")},
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    version = mlops_actions.__version__
    wheel = dist / f"mlops_actions-{version}-py3-none-any.whl"
    sdist = dist / f"mlops_actions-{version}.tar.gz"
    assert sorted(dist.iterdir()) == [wheel, sdist]
    check = subprocess.run(
        [str(BIN / "twine"), "check", "--strict", str(wheel), str(sdist)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlops_actions/__init__.py" in names and "mlops_actions/cli.py" in names
    assert "mlops_actions/flow/results-1.schema.json" in names  # what publish validates against
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    venv = work / ".venv"
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--no-deps", "--force-reinstall", str(wheel)],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    cli = subprocess.run(
        [str(venv / "bin" / "mlops-actions"), "--version"], capture_output=True, text=True
    )
    assert cli.stdout.strip() == f"mlops-actions {version}"
