"""A user's Python environment unlike ours, made on the fly without the network.

`wheel` builds a pure-Python wheel of one module; `make_env` makes a venv from the Python behind
ours and installs wheels into it. The stand-ins: `six` at 1.0.0 (we ship 1.17.0) and `userpkg`
9.9, a package we do not ship at all. `action_path` is PATH as the action leaves it: a directory
holding only our `mlops-actions` (as scripts/install.sh links it), then the user's Python.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

BIN = Path(sys.executable).parent
OURS = {"six": "1.17.0"}  # constraints.txt
THEIRS = {"six": "1.0.0", "userpkg": "9.9"}

# What a stage of the user's pipeline reports about the Python it runs with.
STAGE = """\
import importlib.util, json, os, sys
import six, userpkg
seen = {
    "executable": sys.executable,
    "prefix": sys.prefix,
    "six": six.__version__,
    "userpkg": userpkg.__version__,
    "sklearn": importlib.util.find_spec("sklearn") is not None,
}
json.dump(seen, open(os.environ.get("MLOPS_TEST_SEEN", "seen.json"), "w"))
json.dump({"auc": 0.8}, open("metrics.json", "w"))
"""


def wheel(dest: Path, name: str, version: str) -> Path:
    """dest/NAME-VERSION-py3-none-any.whl: the module NAME whose __version__ is VERSION."""
    dest.mkdir(parents=True, exist_ok=True)
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f'__version__ = "{version}"\n',
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for entry, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{entry},sha256={digest.decode()},{len(text.encode())}")
    files[f"{info}/RECORD"] = "\n".join([*record, f"{info}/RECORD,,"]) + "\n"
    path = dest / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_in_zip, text in files.items():
            archive.writestr(name_in_zip, text)
    return path


def site_packages(env: Path) -> Path:
    [found] = env.glob("lib/python*/site-packages")
    return found


def install(env: Path, *wheels: Path) -> None:
    """What pip does with a pure-Python wheel: unpack it into site-packages, replacing an
    installed version of the same package."""
    site = site_packages(env)
    for path in wheels:
        name = path.name.split("-")[0]
        for old in site.glob(f"{name}-*.dist-info"):
            for item in old.iterdir():
                item.unlink()
            old.rmdir()
        with zipfile.ZipFile(path) as archive:
            archive.extractall(site)


def make_env(path: Path, *wheels: Path, pip: bool = False) -> Path:
    """A venv at `path` from the Python behind ours, with `wheels` installed (and pip)."""
    base = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    args = [] if pip else ["--without-pip"]
    subprocess.run([base, "-m", "venv", *args, str(path)], check=True)
    install(path, *wheels)
    return path


def action_path(base: Path, env: Path) -> str:
    """PATH as the action leaves it: only our command in front of the user's Python."""
    exposed = base / "mlops-actions-bin"
    exposed.mkdir(exist_ok=True)
    link = exposed / "mlops-actions"
    if not link.exists():
        link.symlink_to(BIN / "mlops-actions")
    return os.pathsep.join([str(exposed), str(env / "bin"), "/usr/local/bin", "/usr/bin", "/bin"])
