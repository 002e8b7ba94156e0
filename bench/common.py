"""What every benchmark shares: the environment, timing a fresh subprocess (wall time and peak
RSS), medians after a warm-up, the machine description and the result records."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "DVC_NO_ANALYTICS": "1",
}
# Nothing from a surrounding Actions run may leak into the commands under test.
for _name in list(ENV):
    if _name.startswith(("GITHUB_", "INPUT_", "RUNNER_", "MLOPS_")):
        del ENV[_name]
# As with the virtualenv activated: stages and hooks that name a console script find it.
ENV["PATH"] = os.pathsep.join([str(BIN), ENV.get("PATH", "")])
# Bytecode caches as in any pip-installed package. An editable install has none of its own, and
# with PYTHONDONTWRITEBYTECODE every run would compile mlops_actions from source (20-30 ms) while
# dvc and gto load theirs from pip's; the warm-up runs fill this cache for every side alike.
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
ENV["PYTHONPYCACHEPREFIX"] = str(Path(__file__).resolve().parent / "out" / "pycache")


def command(name: str) -> list[str]:
    """The console script as a user runs it, or `python -m` when it is not installed."""
    script = BIN / name
    if script.exists():
        return [str(script)]
    module = "mlops_actions" if name == "mlops-actions" else name
    return [sys.executable, "-m", module]


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=repo, check=True, env=ENV, capture_output=True, text=True
    )
    return proc.stdout


# Linux's free page reporting: on a VM with a balloon device that supports it, the kernel hands
# free memory back to the host in batches every 2 s or so. A page the host took back costs a
# host fault when a process touches it again, which the guest counts as system time, so how much
# of a run's fresh memory is still warm depends on how long ago the run before it freed its own:
# here a million-row fit spent 0.3–2.2 s of system time, the same script each time. Mainline
# Linux does not say how much it has reported; this machine's kernel counts it in REPORTED_KIB.
REPORTED_KIB = Path("/sys/module/page_reporting/parameters/reported_kib")


@dataclass(frozen=True)
class Settled:
    seconds: float  # waited
    quiet: bool  # the count rested for the quiet spell (else the limit ended the wait)


def settle_memory(quiet: float = 3.0, limit: float = 30.0, poll: float = 0.25) -> Settled:
    """Wait until the kernel has stopped handing freed memory to the host (REPORTED_KIB unchanged
    for `quiet` seconds, at most `limit` seconds in all), so that the next run's fresh memory is
    as cold as any other run's. Where the kernel has no such count it returns at once."""
    if not REPORTED_KIB.exists():
        return Settled(0.0, True)
    started = still_since = time.monotonic()
    last = REPORTED_KIB.read_text()
    while True:
        time.sleep(poll)
        now, reported = time.monotonic(), REPORTED_KIB.read_text()
        if reported != last:
            last, still_since = reported, now
        if now - still_since >= quiet or now - started >= limit:
            return Settled(now - started, now - still_since >= quiet)


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float  # peak RSS of the process (or any child it waited for); or of its tree
    stdout: str
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for


# A tiny launcher between us and the command. A child's peak RSS as wait4 reports it includes the
# address space it was forked from (Linux keeps the pre-exec high-water mark), so forking the
# command straight from this process, which holds generated tables and imported libraries, would
# report our memory as its own. The launcher is a bare `python -S` of a few MB, below any command
# measured; it times the command around fork and wait4 and writes "seconds peak_kb exit_code
# cpu_seconds". The peak is wait4's ru_maxrss: the largest of the process and the children it
# waited for, one at a time. With TREE set it is instead the peak of the whole process tree's
# memory while it runs, sampled every 5 ms: the sum of the proportional set sizes (PSS) of the
# process and all its descendants, so a forked child's pages shared with its parent count once,
# and a child living beside its parent counts with it.
_LAUNCHER = """\
import os, sys, time
out, tree, cmd = sys.argv[1], sys.argv[2] == "tree", sys.argv[3:]

def descendants(pid):
    found, i = [pid], 0
    while i < len(found):
        try:
            for task in os.listdir(f"/proc/{found[i]}/task"):
                with open(f"/proc/{found[i]}/task/{task}/children") as f:
                    found.extend(int(p) for p in f.read().split())
        except OSError:
            pass
        i += 1
    return found

def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0

started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(cmd[0], cmd)
    finally:
        os._exit(127)
peak = 0
while tree:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    peak = max(peak, sum(pss_kb(p) for p in descendants(pid)))
    time.sleep(0.005)
else:
    _, status, usage = os.wait4(pid, 0)
    peak = usage.ru_maxrss
seconds = time.perf_counter() - started
with open(out, "w") as f:
    cpu = usage.ru_utime + usage.ru_stime
    f.write(f"{seconds!r} {peak} {os.waitstatus_to_exitcode(status)} {cpu!r}")
"""


def measure(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None, tree: bool = False
) -> Sample:
    """Run `cmd` in a fresh process; its wall time and its own peak RSS, or with `tree` the
    peak PSS of it and its descendants together (see _LAUNCHER)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".txt") as result,
    ):
        launcher = [sys.executable, "-S", "-I", "-c", _LAUNCHER, result.name]
        launcher += ["tree" if tree else "process", *cmd]
        subprocess.run(launcher, cwd=cwd, env=env or ENV, stdout=out, stderr=err, check=False)
        seconds, maxrss, code, cpu = result.read().split()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        if int(code) != 0:
            stderr = err.read().decode(errors="replace").strip()
            raise SystemExit(f"{' '.join(cmd)} failed ({code}): {(stderr or stdout)[-800:]}")
    return Sample(float(seconds), int(maxrss) / 1024, stdout, float(cpu))


@dataclass(frozen=True)
class Stats:
    seconds: float  # median wall time
    peak_mb: float  # median peak RSS
    runs: int
    stdout: str  # of the last run
    cpu: float = 0.0  # median user + system seconds


def summarize(samples: list[Sample]) -> Stats:
    return Stats(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.peak_mb for s in samples),
        len(samples),
        samples[-1].stdout,
        statistics.median(s.cpu for s in samples),
    )


def median_of(run: Callable[[], Sample], runs: int, warmup: int = 1) -> Stats:
    """Medians of `runs` timed runs after `warmup` untimed ones."""
    for _ in range(warmup):
        run()
    return summarize([run() for _ in range(runs)])


@dataclass
class Row:
    """One line of the results table. `met` is None when the row has no aim to meet."""

    measure: str
    ours: str
    peer: str
    ratio: str
    aim: str
    met: bool | None
    note: str = ""
    why: str = ""  # when the aim is missed for a known reason: the reason, for "Aims missed"


@dataclass
class Result:
    """What one benchmark found: its table rows, and series for the plot."""

    rows: list[Row] = field(default_factory=list)
    series: dict[str, Any] = field(default_factory=dict)


def fmt_seconds(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def faster(peer: float, ours: float) -> str:
    return f"{peer / ours:.1f}× faster" if peer >= ours else f"{ours / peer:.2f}× slower"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return None


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    """The machine and the versions the numbers were measured with."""
    ram = _ram_gb()
    git_version = subprocess.run(
        ["git", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()[-1:]
    try:
        load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "CPU": _cpu_model(),
        "cores": str(os.cpu_count()),
        "RAM": f"{ram:.1f} GiB" if ram else "unknown",
        "OS": platform.platform(terse=True),
        "load average at start (1 / 5 / 15 min)": load,
        "Python": platform.python_version(),
        "git": git_version[0] if git_version else "unknown",
        **{
            name: _version(name)
            for name in (
                "mlops-actions",
                "dvc",
                "gto",
                "scikit-learn",
                "pandas",
                "pyarrow",
                "numpy",
            )
        },
    }
