"""scripts/install.sh, the action's install step, against fake uv, python and mlops-actions.

The fakes record every call (argv, cwd, a few variables) and install nothing, so these tests need
no network; bench/install_bench.py and tests/test_release.py install for real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import mlops_actions

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install.sh"
CONSTRAINTS = str(ROOT / "constraints.txt")

FAKE = """#!{python}
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
if name.startswith("python") and args[:2] == ["-I", "-c"]:
    os.execv({python!r}, [{python!r}, *args])  # the plan's hash: the real thing
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps({{"tool": name, "path": sys.argv[0], "argv": args, "cwd": os.getcwd(),
        "PIP_CONSTRAINT": os.environ.get("PIP_CONSTRAINT"),
        "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR")}}) + "\\n")
if name == "uv" and args == ["--version"]:
    print("uv 0.13.9")
elif name == "uv" and "venv" in args:
    os.makedirs(os.path.join(args[-1], "bin"))
    for tool in ("python", "pip", "activate"):  # what a venv's bin/ holds
        open(os.path.join(args[-1], "bin", tool), "w").close()
elif name == "uv" and "--offline" in args and os.environ.get("FAKE_OFFLINE_FAILS"):
    sys.exit(2)
elif name == "uv" and "install" in args:  # the package's console scripts land beside python
    where = os.path.dirname(args[args.index("--python") + 1])
    for script in ("mlops-actions", "dvc", "gto") if where.startswith(os.environ["RUNNER_TEMP"]) else ():
        path = os.path.join(where, script)
        with open(path, "w") as f:
            f.write("#!/bin/sh\\necho " + script + " from the venv\\n")
        os.chmod(path, 0o755)
elif name.startswith("python") and "--target" in args:
    sys.exit(os.environ.get("FAKE_NO_UV") and 1 or 0)
elif name.startswith("python") and args[:3] == ["-I", "-m", "venv"]:
    os.makedirs(os.path.join(args[3], "bin"))
    with open(__file__) as src, open(os.path.join(args[3], "bin", "python"), "w") as dst:
        dst.write(src.read())
    os.chmod(os.path.join(args[3], "bin", "python"), 0o755)
elif name.startswith("python") and args[:4] == ["-I", "-m", "pip", "install"]:
    for script in ("mlops-actions", "dvc", "pip"):
        path = os.path.join(os.path.dirname(sys.argv[0]), script)
        with open(path, "w") as f:
            f.write("#!/bin/sh\\necho " + script + " from the venv\\n")
        os.chmod(path, 0o755)
elif name == "mlops-actions":
    print("mlops-actions " + os.environ["FAKE_INSTALLED"])
"""


class Runner:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.bin = tmp / "bin"
        self.bin.mkdir()
        self.runner_temp = tmp / "runner-temp"
        self.runner_temp.mkdir()
        self.log = tmp / "calls.jsonl"
        self.cwd = tmp / "checkout"  # where the step runs: a checkout full of files
        self.cwd.mkdir()
        for name in ("pyproject.toml", "uv.toml", "pip.py", "a-file"):
            (self.cwd / name).write_text("")

    def tool(self, name: str) -> Path:
        path = self.bin / name
        path.write_text(FAKE.format(python=sys.executable))
        path.chmod(0o755)
        return path

    def run(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["/bin/bash", str(SCRIPT), *args],
            cwd=self.cwd,
            capture_output=True,
            text=True,
            env={
                "PATH": f"{self.bin}{os.pathsep}/usr/bin{os.pathsep}/bin",
                "HOME": str(self.tmp),
                "RUNNER_TEMP": str(self.runner_temp),
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "GITHUB_PATH": str(self.tmp / "github_path"),
                "GITHUB_OUTPUT": str(self.tmp / "github_output"),
                "MLOPS_ACTION_SRC": str(ROOT),
                "FAKE_LOG": str(self.log),
                **env,
            },
        )

    def calls(self, tool: str | None = None) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [c for c in calls if tool is None or c["tool"] == tool]

    def installs(self) -> list[list[str]]:
        return [c["argv"] for c in self.calls() if "install" in c["argv"] and "pip" in c["argv"]]

    def outputs(self) -> dict[str, str]:
        text = (self.tmp / "github_output").read_text()
        out: dict[str, str] = {}
        lines = iter(text.splitlines())
        for line in lines:
            if "<<" in line:
                name, end = line.split("<<", 1)
                out[name] = "\n".join(iter(lambda: next(lines), end))
            else:
                name, value = line.split("=", 1)
                out[name] = value
        return out


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    r = Runner(tmp_path)
    r.tool("python3")
    return r


def test_the_version_it_checks_is_the_package_version() -> None:
    proc = subprocess.run(
        ["bash", str(SCRIPT), "version"],
        env={**os.environ, "MLOPS_ACTION_SRC": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.strip() == mlops_actions.__version__
    cli = subprocess.run(
        [str(Path(sys.executable).parent / "mlops-actions"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert cli.stdout.strip() == f"mlops-actions {mlops_actions.__version__}"
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'version = {attr = "mlops_actions.__version__"}' in pyproject


def test_uv_installs_the_extra_packages_as_a_list_with_every_constraint(runner: Runner) -> None:
    runner.tool("uv")
    extra = "dvc-gs  xgboost>=2,<3\n*\n\t'quoted'"

    proc = runner.run(MLOPS_EXTRA_PACKAGES=extra)

    assert proc.returncode == 0, proc.stderr
    assert "into" in proc.stdout and "with uv 0.13.9" in proc.stdout
    [install] = runner.installs()  # the cache is empty: no offline attempt
    assert "--offline" not in install
    assert install[-5:] == [str(ROOT), "dvc-gs", "xgboost>=2,<3", "*", "'quoted'"]  # no glob
    assert install[install.index("--constraint") + 1] == CONSTRAINTS
    assert install[install.index("--build-constraint") + 1] == CONSTRAINTS
    venv = runner.runner_temp / "mlops-actions-venv"
    assert install[install.index("--python") + 1] == str(venv / "bin" / "python")
    for call in runner.calls("uv"):
        if call["argv"] != ["--version"]:
            assert call["argv"][0] in ("--no-config", "--offline") and "--no-config" in call["argv"]
            assert call["UV_CACHE_DIR"] == str(
                runner.runner_temp / "mlops-actions-install/uv-cache"
            )
        # An empty directory of its own, never the checkout with its uv.toml and pyproject.toml.
        assert Path(call["cwd"]).parent == runner.runner_temp / "mlops-actions-install"
    assert ["--no-config", "cache", "clean", "--quiet", "mlops-actions"] in [
        c["argv"] for c in runner.calls("uv")
    ]  # the action's own source is built afresh
    _only_the_command_is_on_path(runner, venv)


def _only_the_command_is_on_path(runner: Runner, venv: Path) -> None:
    """GITHUB_PATH gets one directory, holding the venv's mlops-actions and nothing else: the
    venv's python, pip, dvc and other scripts stay off PATH."""
    [entry] = (runner.tmp / "github_path").read_text().splitlines()
    exposed = Path(entry)
    assert exposed != venv / "bin" and venv not in exposed.parents
    assert [p.name for p in exposed.iterdir()] == ["mlops-actions"]
    assert (exposed / "mlops-actions").resolve() == (venv / "bin" / "mlops-actions").resolve()
    assert {p.name for p in (venv / "bin").iterdir()} > {"mlops-actions", "python"}
    found = subprocess.run(
        ["bash", "-c", "command -v mlops-actions python pip dvc gto; mlops-actions"],
        env={"PATH": f"{exposed}{os.pathsep}/usr/bin{os.pathsep}/bin"},
        capture_output=True,
        text=True,
    )
    lines = found.stdout.splitlines()
    assert lines[0] == str(exposed / "mlops-actions")
    assert lines[-1] == "mlops-actions from the venv"  # the symlink runs the venv's script
    assert not any(line.startswith((str(exposed), str(venv))) for line in lines[1:-1])


def test_a_warm_cache_is_tried_offline_first(runner: Runner) -> None:
    runner.tool("uv")
    (runner.runner_temp / "mlops-actions-install" / "uv-cache").mkdir(parents=True)

    assert runner.run().returncode == 0
    [install] = runner.installs()
    assert install[0] == "--offline"

    runner.log.unlink()
    assert runner.run(FAKE_OFFLINE_FAILS="1").returncode == 0  # something is missing: online
    offline, online = runner.installs()
    assert offline[0] == "--offline"
    assert "--offline" not in online and online == offline[1:]


@pytest.mark.parametrize("item", ["-r", "--index-url=https://example.invalid/simple", "-e."])
def test_an_option_in_extra_packages_is_refused_in_one_line(runner: Runner, item: str) -> None:
    runner.tool("uv")
    proc = runner.run(MLOPS_EXTRA_PACKAGES=f"dvc-gs {item} requirements.txt")
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("::error::install.sh: extra-packages: ")
    assert f"'{item}' starts with '-'" in proc.stderr
    assert runner.calls() == []  # nothing ran


def test_uv_from_the_package_index_when_not_on_path(runner: Runner) -> None:
    proc = runner.run()
    # The fake pip "installed" nothing into the target, so there is no uv: pip installs.
    assert proc.returncode == 0, proc.stderr
    [target] = [c["argv"] for c in runner.calls("python3") if "--target" in c["argv"]]
    assert target[:5] == ["-I", "-m", "pip", "install", "--disable-pip-version-check"]
    assert target[target.index("--target") + 1] == str(
        runner.runner_temp / "mlops-actions-install" / "uv"
    )
    assert target[target.index("-c") + 1] == CONSTRAINTS
    assert target[-1] == "uv"


def test_without_uv_it_installs_with_pip_and_constrains_the_build(runner: Runner) -> None:
    proc = runner.run(FAKE_NO_UV="1", MLOPS_EXTRA_PACKAGES="dvc-gs *")
    assert proc.returncode == 0, proc.stderr
    assert "installing with pip" in proc.stdout and "with pip in" in proc.stdout
    venv = runner.runner_temp / "mlops-actions-venv"
    assert ["-I", "-m", "venv", str(venv)] in [c["argv"] for c in runner.calls("python3")]
    [pip] = [c for c in runner.calls("python") if c["path"] == str(venv / "bin" / "python")]
    assert pip["argv"][:4] == ["-I", "-m", "pip", "install"]
    assert pip["argv"][pip["argv"].index("-c") + 1] == CONSTRAINTS
    assert pip["argv"][-3:] == [str(ROOT), "dvc-gs", "*"]
    assert pip["PIP_CONSTRAINT"] == CONSTRAINTS  # build isolation's setuptools too
    assert Path(pip["cwd"]).parent == runner.runner_temp / "mlops-actions-install"
    _only_the_command_is_on_path(runner, venv)

    runner.log.unlink()
    assert runner.run(MLOPS_INSTALLER="uv", FAKE_NO_UV="1").returncode == 1  # forced: no fallback


def test_the_right_version_on_path_skips_the_install_and_the_cache(runner: Runner) -> None:
    runner.tool("uv")
    cli = runner.tool("mlops-actions")
    version = mlops_actions.__version__

    assert runner.run("plan", FAKE_INSTALLED=version).returncode == 0
    assert runner.outputs() == {"install": "false"}
    proc = runner.run(FAKE_INSTALLED=version)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"mlops-actions {version} is already installed: {cli}")
    assert runner.installs() == []

    proc = runner.run(FAKE_INSTALLED=version, MLOPS_EXTRA_PACKAGES="dvc-gs\nxgboost")
    assert proc.returncode == 0, proc.stderr
    [install] = runner.installs()  # into the interpreter of the installed mlops-actions
    assert install[install.index("--python") + 1] == sys.executable  # its shebang
    assert install[-2:] == ["dvc-gs", "xgboost"]
    assert install[install.index("--build-constraint") + 1] == CONSTRAINTS

    runner.log.unlink()
    proc = runner.run(FAKE_INSTALLED="0.0.0-other")  # another version: a fresh install
    assert proc.returncode == 0, proc.stderr
    assert "already installed" not in proc.stdout and len(runner.installs()) == 1


def test_the_plan_keys_the_cache_on_constraints_extra_packages_and_python(
    runner: Runner,
) -> None:
    def plan(**env: str) -> dict[str, str]:
        (runner.tmp / "github_output").unlink(missing_ok=True)
        proc = runner.run("plan", **env)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == ""  # the step prints nothing
        return runner.outputs()

    first = plan()
    assert first["install"] == "true"
    base = runner.runner_temp / "mlops-actions-install"
    assert first["cache-dir"].splitlines() == [str(base / "uv-cache"), str(base / "uv")]
    python = ".".join(map(str, sys.version_info[:3]))
    assert first["cache-key"].startswith(f"mlops-actions-install-v1-Linux-X64-py{python}-")
    assert first["cache-restore-key"] == f"mlops-actions-install-v1-Linux-X64-py{python}-"
    assert plan() == first
    assert plan(MLOPS_EXTRA_PACKAGES="xgboost")["cache-key"] != first["cache-key"]
    assert runner.calls() == []  # planning installs nothing


def _install_steps(path: Path) -> list[dict[str, Any]]:
    steps = yaml.safe_load(path.read_text())["runs"]["steps"]
    start = next(i for i, s in enumerate(steps) if s.get("id") == "install-plan")
    return [json.loads(json.dumps(s).replace("/../../..", "")) for s in steps[start : start + 3]]


def test_the_action_and_the_setup_step_action_install_alike() -> None:
    root = _install_steps(ROOT / "action.yml")
    setup = _install_steps(ROOT / ".github" / "actions" / "setup" / "action.yml")
    assert root == setup
    assert [s["name"] for s in root] == [
        "Plan the install of mlops-actions",
        "Restore the package cache",
        "Install mlops-actions",
    ]
    assert root[1]["uses"].startswith("actions/cache@")
    assert root[1]["with"]["key"] == "${{ steps.install-plan.outputs.cache-key }}"
