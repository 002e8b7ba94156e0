"""The project's own environment: the Python and the packages the user's code runs with.

mlops-actions runs from a venv of its own (the action puts only the `mlops-actions` command on
PATH). The user's code — `mlops.train.command`, the stages of `dvc repro` — is started with the
environment mlops-actions was started with, less the tokens (`output.child_env`): the job's
PATH, VIRTUAL_ENV and PYTHONPATH, so `python` is the job's Python with the project's packages.
What that environment holds is part of the run-cache key and of the model card: the versions
this module reads from the user's Python, never from ours.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from mlops_actions import output

# Run by the user's Python: its version, the named distributions' versions and every installed
# distribution (what a `pip install` changes), read from the names of the `.dist-info` and
# `.egg-info` directories on its sys.path (no METADATA file is opened: a few ms, not a second).
# The working directory comes off sys.path first, so a module of the checkout cannot stand in
# for json or os.
_QUERY = """
import sys
sys.path[:] = [p for p in sys.path if p]
import json, os, platform
wanted = set(sys.argv[1:])
found = {"python": platform.python_version()}
everything = []
for entry in sys.path:
    try:
        names = sorted(os.listdir(entry))
    except OSError:
        continue
    for item in names:
        if not item.endswith((".dist-info", ".egg-info")):
            continue
        name, _, version = item.rsplit(".", 1)[0].partition("-")
        name = name.lower().replace("_", "-").replace(".", "-")
        version = version.split("-")[0]
        everything.append(name + "==" + version)
        if name in wanted and name not in found:
            found[name] = version
print(json.dumps({"versions": found, "all": sorted(everything)}))
"""
# Installers, not what the code imports: an upgrade of pip alone retrains nothing.
_TOOLING = ("pip==", "setuptools==", "wheel==")


def python(env: dict[str, str] | None = None) -> str | None:
    """The `python` (else `python3`) the user's PATH gives, as a command there would run it."""
    path = (env if env is not None else os.environ).get("PATH", os.defpath)
    absolute = os.pathsep.join(d for d in path.split(os.pathsep) if os.path.isabs(d))
    return shutil.which("python", path=absolute) or shutil.which("python3", path=absolute)


def package_versions(root: Path, *names: str) -> dict[str, str]:
    """{"python": X.Y.Z, name: version…, "environment": digest} of the user's Python; {} when
    there is none (a command that is not Python) or it cannot tell."""
    env = output.child_env()
    exe = python(env)
    if exe is None:
        return {}
    from mlops_actions import stepfiles

    try:
        # The user's Python runs their packages' .pth files at start: their code, so it gets
        # scratch step files, as the training does.
        with stepfiles.scratch(env, "the job's Python"):
            proc = subprocess.run(
                [exe, "-c", _QUERY, *(n.lower() for n in names)],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        found = json.loads(proc.stdout) if proc.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError):
        found = None
    if not isinstance(found, dict):
        return {}
    versions = {str(k): str(v) for k, v in dict(found.get("versions", {})).items()}
    packages = [str(p) for p in found.get("all", []) if not str(p).startswith(_TOOLING)]
    digest = hashlib.sha256("\n".join(packages).encode()).hexdigest()[:16]
    return {**versions, "environment": digest}
