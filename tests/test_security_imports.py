"""A package committed in the checkout never stands in for an installed one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import DEMO_PARAMS, write_params

SHADOW = "import pathlib; pathlib.Path({name!r}).write_text('x'); raise SystemExit('shadowed')\n"


def _console_script() -> str:
    """The installed entry point: its sys.path starts at its own directory, not the cwd."""
    script = Path(sys.executable).parent / "mlops-actions"
    assert script.is_file(), script
    return str(script)


@pytest.mark.parametrize(
    "estimator", ["mymodels.Forest", "sklearn.ensemble.RandomForestClassifier"]
)
def test_a_sklearn_or_skops_package_in_the_repo_root_is_not_imported(
    demo_repo: Path, estimator: str
) -> None:
    """builtin mode put the project root first on sys.path for every run: a committed
    `sklearn/__init__.py` or `skops/__init__.py` ran in place of the real package."""
    for name in ("sklearn", "skops"):
        (demo_repo / name).mkdir()
        (demo_repo / name / "__init__.py").write_text(SHADOW.format(name=f"PWNED-{name}"))
    (demo_repo / "mymodels.py").write_text(
        "from sklearn.ensemble import RandomForestClassifier\n\n\n"
        "class Forest(RandomForestClassifier):\n    pass\n"
    )
    params = {**DEMO_PARAMS, "model": {**DEMO_PARAMS["model"], "estimator": estimator}}
    write_params(demo_repo, params)
    proc = subprocess.run(
        [_console_script(), "train"],
        cwd=demo_repo,
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "trained" in proc.stdout
    assert sorted(p.name for p in demo_repo.glob("PWNED-*")) == []
    assert (demo_repo / "model" / "model.skops").is_file()
