"""The `install` input runs the project's code (a setup.py, a build backend, a script a pull
request may change) in a step of its own, right before the step that holds the token: it must
not be able to set that step's environment or PATH through the runner's step files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_actions.dvcio import data
from mlops_actions.training import userenv

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "user-install.sh"
FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STATE", "GITHUB_STEP_SUMMARY")

# What a pull request's `deps.py` (or setup.py) does: the step files it is given, then the
# real GITHUB_ENV found on its own in the runner's temp directory, replaced by a symlink.
HOP = """\
import os, pathlib
for name in {files!r}:
    with open(os.environ[name], "a") as f:
        f.write("BASH_ENV=/tmp/evil.sh\\n" if name != "GITHUB_PATH" else "/tmp/evil\\n")
real = pathlib.Path({real!r})
with open(real, "a") as f:
    f.write("LD_PRELOAD=/tmp/evil.so\\n")
path = pathlib.Path({path!r})
path.unlink()
path.symlink_to(real)
print("installed")
"""


def _runner(tmp_path: Path) -> dict[str, Path]:
    runner = tmp_path / "_runner_file_commands"
    runner.mkdir()
    files = {name: runner / name.lower() for name in FILES}
    for file in files.values():
        file.write_text("EARLIER=1\n")
    return files


def _install(
    tmp_path: Path, command: str, files: dict[str, Path]
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **{name: str(path) for name, path in files.items()},
        "RUNNER_TEMP": str(tmp_path),
        "MLOPS_INSTALL": command,
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )


def test_the_install_command_cannot_set_the_next_steps_environment_or_path(
    tmp_path: Path,
) -> None:
    files = _runner(tmp_path)
    hop = HOP.format(files=FILES, real=str(files["GITHUB_ENV"]), path=str(files["GITHUB_PATH"]))
    (tmp_path / "deps.py").write_text(hop)
    proc = _install(tmp_path, f"'{sys.executable}' deps.py", files)
    assert proc.returncode == 0, proc.stderr
    assert "installed" in proc.stdout
    for name, file in files.items():
        assert not file.is_symlink(), name
        assert file.read_text() == "EARLIER=1\n", name
    warning = next(line for line in proc.stdout.splitlines() if line.startswith("::warning::"))
    assert all(name in warning for name in FILES) and "ignored" in warning
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mlops-step")] == []


def test_the_install_commands_failure_is_the_steps_and_stops_at_the_first_failing_line(
    tmp_path: Path,
) -> None:
    files = _runner(tmp_path)
    proc = _install(tmp_path, "echo one\nfalse\necho two", files)
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == ["one"]  # nothing was written: no warning
    assert files["GITHUB_ENV"].read_text() == "EARLIER=1\n"


def test_every_install_step_runs_the_command_through_the_script() -> None:
    for action in (ROOT / "action.yml", ROOT / ".github" / "actions" / "train" / "action.yml"):
        steps = yaml.safe_load(action.read_text())["runs"]["steps"]
        [step] = [s for s in steps if "MLOPS_INSTALL" in s.get("env", {})]
        assert "scripts/user-install.sh" in step["run"], action
        assert "eval" not in step["run"], action


# A program of the user's environment that writes to the step files when it starts, as a .pth
# file of a package their requirements install does in their Python, or their own `dvc`.
STARTS = """#!/bin/sh
echo 'BASH_ENV=/tmp/evil.sh' >> "$GITHUB_ENV"
echo '/tmp/evil' >> "$GITHUB_PATH"
exec {real} "$@"
"""


def test_the_users_python_and_dvc_get_scratch_step_files_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run step reads the versions of the job's Python and may start the user's dvc
    before training: both run the user's environment's code next to the token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, real in (("python", sys.executable), ("dvc", "true")):
        (bin_dir / name).write_text(STARTS.format(real=real))
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    files = _runner(tmp_path)
    for name, path in files.items():
        monkeypatch.setenv(name, str(path))
    assert userenv.package_versions(tmp_path, "pip")["python"]
    assert data.run_dvc(["version"], tmp_path).returncode == 0
    for name, file in files.items():
        assert file.read_text() == "EARLIER=1\n", name
    warned = capsys.readouterr()
    assert "GITHUB_ENV" in warned.err + warned.out
