"""The action's install step: `bash scripts/install.sh` as the action runs it (a fresh venv under
RUNNER_TEMP, constraints.txt, mlops-actions built from this checkout), with uv against plain pip,
warm and cold, in the same run.

- cold: an empty RUNNER_TEMP and an empty pip cache; uv comes from the package index
  (`pip install uv`) and downloads every wheel; pip downloads every wheel.
- warm: what actions/cache restores. uv: its cache and the uv wheel under
  RUNNER_TEMP/mlops-actions-install (the directories the action caches); pip: its own cache
  (as actions/setup-python's `cache: pip` would restore). The venv is made anew every run.

Nothing of this checkout's .venv is on PATH (install.sh would find mlops-actions installed and
skip); the Python the venvs are made from is the one behind .venv.

    .venv/bin/python -m bench.install_bench [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ENV, Result, Row, Sample, faster, fmt_seconds, measure, summarize

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install.sh"
WARM_AIM = 5.0


def _base_python_dir() -> str:
    base = getattr(sys, "_base_executable", sys.executable)
    return str(Path(os.path.realpath(base)).parent)


def _env(runner_temp: Path, pip_cache: Path, installer: str) -> dict[str, str]:
    venv_bin = str(Path(sys.executable).parent)
    path = [p for p in ENV.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    env = {
        k: v
        for k, v in ENV.items()
        if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHONPYCACHEPREFIX"))
    }
    env.update(
        PATH=os.pathsep.join([_base_python_dir(), *path]),
        RUNNER_TEMP=str(runner_temp),
        GITHUB_PATH=str(runner_temp / "github_path"),
        MLOPS_ACTION_SRC=str(ROOT),
        MLOPS_INSTALLER=installer,
        PIP_CACHE_DIR=str(pip_cache),
    )
    return env


def _install(runner_temp: Path, pip_cache: Path, installer: str) -> Sample:
    runner_temp.mkdir(parents=True, exist_ok=True)
    env = _env(runner_temp, pip_cache, installer)
    sample = measure(["bash", str(SCRIPT)], runner_temp, env)
    version = subprocess.run(
        [str(runner_temp / "mlops-actions-venv" / "bin" / "mlops-actions"), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not version.startswith("mlops-actions "):
        raise SystemExit(f"{installer}: the installed mlops-actions says {version!r}")
    if f"with {installer}" not in sample.stdout:
        raise SystemExit(f"install.sh did not install with {installer}: {sample.stdout}")
    return sample


def run(runs: int, log: Any = print) -> Result:
    with tempfile.TemporaryDirectory(prefix="install-bench-") as tmp:
        base = Path(tmp)
        sides = {
            name: (base / name / "runner-temp", base / name / "pip-cache") for name in ("uv", "pip")
        }
        cold = {}
        for name, (runner_temp, pip_cache) in sides.items():
            cold[name] = _install(runner_temp, pip_cache, name)  # also fills the caches
            log(f"  cold {name}: {cold[name].seconds:.1f} s")
        warm: dict[str, list[Sample]] = {"uv": [], "pip": []}
        for _ in range(runs):
            for name, (runner_temp, pip_cache) in sides.items():
                warm[name].append(_install(runner_temp, pip_cache, name))
        cache_mb = {
            name: sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) / 1e6
            for name, d in (
                ("uv", sides["uv"][0] / "mlops-actions-install"),
                ("pip", sides["pip"][1]),
            )
        }
        shutil.rmtree(base, ignore_errors=True)
    u, p = summarize(warm["uv"]), summarize(warm["pip"])
    uc, pc = cold["uv"].seconds, cold["pip"].seconds
    log(
        f"  warm: uv {u.seconds:.2f} s, pip {p.seconds:.1f} s ({p.seconds / u.seconds:.1f}×); "
        f"cold: uv {uc:.1f} s, pip {pc:.1f} s ({pc / uc:.1f}×)"
    )
    rows = [
        Row(
            "install step (`scripts/install.sh`), warm cache",
            fmt_seconds(u.seconds),
            fmt_seconds(p.seconds),
            faster(p.seconds, u.seconds),
            f"≥ {WARM_AIM:.0f}× faster",
            p.seconds / u.seconds >= WARM_AIM,
            f"median of {runs}; peer: the same script with pip (`MLOPS_INSTALLER=pip`) and pip's "
            f"cache; caches: uv {cache_mb['uv']:.0f} MB, pip {cache_mb['pip']:.0f} MB",
        ),
        Row(
            "install step (`scripts/install.sh`), cold (empty caches)",
            fmt_seconds(uc),
            fmt_seconds(pc),
            faster(pc, uc),
            "faster",
            uc < pc,
            "one run each, downloads from the package index; uv itself is `pip install uv`",
        ),
    ]
    return Result(
        rows=rows,
        series={
            "install": {"uv warm": u.seconds, "pip warm": p.seconds, "uv cold": uc, "pip cold": pc}
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    result = run(args.runs)
    for row in result.rows:
        print(f"{row.measure}: {row.ours} against {row.peer} ({row.ratio}); {row.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
