"""Attacks from the security review, each reproduced: none of them may work."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "argv",
    [["compare", "--json"], ["models", "--json"], ["pull"]],
    ids=["compare-json", "models-json", "pull"],
)
def test_no_stream_carries_the_token(project: Path, argv: list[str]) -> None:
    """`compare --json 2> f`, `models --json > f 2>&1`, `pull | tee log`: the raw token (or its
    base64 `x-access-token:` form) is in none of them, not even as an `::add-mask::` command."""
    token = "ghs_" + "Tok3n" * 8
    env = {
        **os.environ,
        "GITHUB_ACTIONS": "true",
        "GITHUB_TOKEN": token,
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "mlops_actions", *argv],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    both = proc.stdout + proc.stderr
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert token not in both
    assert basic not in both
    assert "::add-mask::" not in both
