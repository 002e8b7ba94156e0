"""Running a real workflow with act, against the fake GitHub, offline, no Docker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.fakegithub import FakeGitHub

BIN = Path(sys.executable).parent


def run_act(
    repo: Path,
    event_name: str,
    workflow: str,
    event_path: Path,
    server: FakeGitHub,
    *,
    cache: Path,
    stubs: dict[str, Path],
    args: Sequence[str] = (),
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`act EVENT` on `workflow` in host mode; `stubs` replace remote actions (uses -> dir),
    `args` are more act arguments, `env` more variables for act (host mode passes its
    environment on to the steps)."""
    cmd = [
        str(BIN / "act"),
        event_name,
        "--workflows",
        workflow,
        "--eventpath",
        str(event_path),
        "--platform",
        "ubuntu-latest=-self-hosted",
        "--action-cache-path",
        str(cache),
        "--no-cache-server",
        "--env",
        f"GITHUB_SERVER_URL={server.host_url}",
        "--env",
        f"GITHUB_API_URL={server.url}",
        "--env",
        f"GITHUB_REPOSITORY={server.repository}",
        "--secret",
        f"GITHUB_TOKEN={server.token}",
        *args,
    ]
    for uses, path in stubs.items():
        cmd += ["--local-repository", f"{uses}={path}"]
    return subprocess.run(
        cmd,
        cwd=repo,
        env={
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "ACT_DISABLE_VERSION_CHECK": "1",
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            **(env or {}),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )
