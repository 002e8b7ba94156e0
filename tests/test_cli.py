from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions import __version__, cli

HEAVY = ("pandas", "sklearn", "numpy", "dvc", "scipy", "requests", "optuna", "jsonschema")


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["train", "--help"], ["sweep", "plan", "--help"]]
)
def test_start_up_imports_no_heavy_library(argv: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlops_actions", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {m.group(1).split(".")[0] for m in re.finditer(r"\|\s+(\S+)$", proc.stderr, re.M)}
    assert not imported & set(HEAVY), imported & set(HEAVY)
    if argv == ["--version"]:
        assert proc.stdout.strip() == f"mlops-actions {__version__}"


def test_console_script_runs_the_demo_twice_second_time_from_cache(demo_repo: Path) -> None:
    exe = Path(sys.executable).with_name("mlops-actions")
    first = subprocess.run([str(exe), "run"], capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert "trained (builtin)" in first.stdout
    assert re.search(r"accuracy\s+0\.9\d+", first.stdout)
    second = subprocess.run([str(exe), "run"], capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert "cache hit" in second.stdout
    assert second.stdout.splitlines()[-9:] == first.stdout.splitlines()[-9:]


def test_a_command_process_ends_with_its_code_its_output_and_atexit_handlers(
    tmp_path: Path,
) -> None:
    """Run as a process, a command ends without the interpreter teardown: its exit code,
    everything it wrote and what atexit handlers do still come through."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stdout.write('atexit ran\\n'))\n"
        "import ctypes\n"
        "from mlops_actions.cli import entry\n"
        f"sys.argv = ['mlops-actions', 'train', '-C', {str(tmp_path / 'nowhere')!r}]\n"
        "sys.stdout.write('buffered, not flushed\\n')\n"
        "sys.stdout.flush()\n"
        "ctypes.CDLL(None).printf(b'printed by C, in its stdio buffer\\n')\n"
        "raise SystemExit(entry())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "buffered, not flushed",
        "atexit ran",
        "printed by C, in its stdio buffer",
    ]
    assert "-C " in proc.stderr


def test_main_called_without_arguments_returns_to_its_caller(tmp_path: Path) -> None:
    """A script, a wrapper or runpy calls `main()` in-process: it gets the exit code back."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    script = (
        "import sys\n"
        "sys.argv = ['mlops-actions', 'runs', '--local', '--json']\n"
        "from mlops_actions.cli import main\n"
        "rc = main()\n"
        "print('after', rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "after 0"


@pytest.mark.parametrize(
    ("stdout", "code", "said"),
    [("closed pipe", 141, ""), ("/dev/full", 120, "error: the output could not be written")],
)
def test_output_that_cannot_be_written_at_the_end_changes_the_exit_code(
    tmp_path: Path, stdout: str, code: int, said: str
) -> None:
    """Output written last (an atexit handler) into a pipe nobody reads ends as _main's own
    broken pipe does (141); into a full disk, as Python's exit would (120)."""
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.stdout.write('written last\\n'))\n"
        "from mlops_actions.cli import entry\n"
        f"sys.argv = ['mlops-actions', 'train', '-C', {str(tmp_path / 'nowhere')!r}]\n"
        "raise SystemExit(entry())\n"
    )
    if stdout == "closed pipe":
        read, out = os.pipe()
        os.close(read)
    else:
        out = os.open(stdout, os.O_WRONLY)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", script],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"},
        )
    finally:
        os.close(out)
    assert proc.returncode == code, proc.stderr
    assert said in proc.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        cli.main(["pull", "--jobs", "zero"])
    assert info.value.code == 2
    assert "'zero' is not a whole number" in capsys.readouterr().err


def test_directory_option(
    demo_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.chdir(tmp_path)
    assert cli.main(["train", "-C", str(demo_repo)]) == 0
    assert (demo_repo / "metrics.json").is_file()
    assert cli.main(["train", "-C", str(tmp_path / "nowhere")]) == 2
    assert "-C " in capsys.readouterr().err


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    """`mlops-actions runs --json | head -0`: no "bug" line, the exit status of a process that
    SIGPIPE ended (what `set -o pipefail` reports for any well-behaved tool)."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "mlops_actions", "runs", "--local", "--json"],
            cwd=tmp_path,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write)
    assert (proc.returncode, proc.stderr) == (141, "")


def test_a_broken_pipe_to_another_process_is_still_a_bug(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")  # e.g. a child that died mid-conversation

    monkeypatch.setattr("mlops_actions.flow.steps.pull", boom)
    assert cli.main(["run"]) == 3
    assert "BrokenPipeError" in capsys.readouterr().err


def test_unexpected_failure_masks_the_token(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = "ghs_" + "s3cr3t" * 6
    monkeypatch.setenv("GITHUB_TOKEN", token)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError(f"request failed with Authorization: Bearer {token}")

    monkeypatch.setattr("mlops_actions.flow.steps.pull", boom)
    assert cli.main(["run"]) == 3
    captured = capsys.readouterr()
    assert token not in captured.out + captured.err
    assert "Bearer ***" in captured.err
    assert "unexpected failure in 'run'" in captured.err
