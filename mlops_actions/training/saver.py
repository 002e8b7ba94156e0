"""Saving the fitted model with skops, off the critical path.

Once the trainer has imported scikit-learn, a forked child imports skops' writer (`skopsdump`:
0.04-0.09 s, where all of `skops.io` takes 0.45 s) in parallel with reading the table and
fitting; the fitted model reaches it through a pipe (pickle, parent to its own child) as soon
as the fit ends, and the child writes the skops file while the parent evaluates. After the
model the parent may hand the child more work (`submit`: the plot files), which then runs
beside the parent's own evaluation; its results come back through a second pipe. A writer
thread feeds the pipe, so the parent never stalls on a child still importing. Where fork is not
available, or the process runs other threads (a sweep's trials: a fork while another thread
holds an import lock can leave the child stuck), everything runs in-process. The child keeps no
file descriptor but its two pipe ends and 0-2, so another saver's pipes see their end of file,
and the parent waits for it WAIT_SECONDS at most.

The child never imports pytest: should it import all of `skops.io` after all, scikit-learn's
estimator listing tries to (for its test helpers), about 0.07 s when pytest is installed.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from mlops_actions.errors import TrainingError

_FAILED = b"\0"  # a reply that starts with it says what failed and why, not pickled results
_SAVING = "the model could not be saved with skops"
WAIT_SECONDS = 900.0  # for the child to write the model and the plots once it has them all


def _child(jobs_in: int, reply_out: int, target: Path) -> None:  # pragma: no cover - forked
    code, doing = 1, _SAVING
    try:
        sys.modules.setdefault("pytest", None)  # type: ignore[arg-type]  # import -> ImportError
        from mlops_actions.training import skopsdump

        skopsdump.writer()  # imported while the parent still reads and fits
        results = []
        with os.fdopen(jobs_in, "rb") as f:
            skopsdump.dump(pickle.load(f), target)
            while True:
                try:
                    function, args = pickle.load(f)
                except EOFError:
                    break
                doing = f"{function.__name__} failed in the model saver process"
                results.append(function(*args))
        reply = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
        code = 0
    except BaseException as exc:  # every failure must reach the parent as one line
        why = f"{doing}\0{type(exc).__name__}: {exc}"
        reply = _FAILED + why.encode(errors="replace")[:2000]
    try:
        with os.fdopen(reply_out, "wb") as out:
            out.write(reply)
    finally:
        os._exit(code)


class ModelSaver:
    """`with ModelSaver() as saver: saver.prepare(path); ...fit...; saver.send(model);
    saver.submit(f, *args); ...evaluate...; results = saver.wait()` (`saver.save(model)`:
    send and wait)."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.target: Path | None = None
        self.jobs_out = self.reply_in = -1
        self.failed = ""  # why something could not be handed to the child
        self.results: list[Any] = []  # of the jobs run in-process
        self.sent = False
        self._writer: threading.Thread | None = None
        self._queue: list[bytes | None] = []
        self._ready = threading.Condition()
        self._frozen = False  # gc.freeze() at the fork, until the child is reaped

    def __enter__(self) -> ModelSaver:
        return self

    def prepare(self, target: Path) -> None:
        """Fork the child that will write `target`; its import of skops runs meanwhile."""
        self.target = target
        if not hasattr(os, "fork") or threading.active_count() > 1:
            return
        jobs_in, self.jobs_out = os.pipe()
        self.reply_in, reply_out = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        # Objects older than the fork stay out of both processes' garbage collection until the
        # child is done: a collection writes to every object it visits, and each page written
        # stops being shared (about 25 MB more for the two processes together otherwise).
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _close_all_but(jobs_in, reply_out)
            _child(jobs_in, reply_out, target)
        os.close(jobs_in)
        os.close(reply_out)
        self.pid = pid
        self._frozen = True

    def save(self, model: object) -> None:
        """Hand the model to the child and wait until the file is written."""
        self.send(model)
        self.wait()

    def send(self, model: object) -> None:
        """Hand the model to the child, which writes it while the caller goes on."""
        assert self.target is not None, "prepare() first"
        self.sent = True
        if self.pid is None:  # a process that goes on, and may load models: skops as it is
            from skops import io as skio

            skio.dump(model, self.target)
            return
        self._put(model)

    def submit(self, function: Callable[..., Any], *args: Any) -> None:
        """Run `function(*args)` in the child after the model is written (in-process when
        there is no child); `wait` returns the results in order. Both must pickle: a
        module-level function, arguments such as arrays and paths."""
        assert self.sent, "send() first"
        if self.pid is None:
            self.results.append(function(*args))
            return
        self._put((function, args))

    def _put(self, item: object) -> None:
        if self.failed:
            return
        try:
            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            self.failed = f"{type(exc).__name__}: {exc}"
            data = None  # the child reads an end of file where the model should be, and fails
        with self._ready:
            self._queue.append(data)
            self._ready.notify()
        if self._writer is None:
            self._writer = threading.Thread(target=self._write, daemon=True)
            self._writer.start()

    def _write(self) -> None:
        """Feed the pipe; a write to a child still importing blocks here, not the caller."""
        fd = self.jobs_out
        try:
            while True:
                with self._ready:
                    while not self._queue:
                        self._ready.wait()
                    data = self._queue.pop(0)
                if data is None:
                    return
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
        except BrokenPipeError:
            return  # the child died: its status and reply say why
        finally:
            os.close(fd)

    def _close_jobs(self) -> None:
        """No more jobs: the writer closes the pipe once it has written everything."""
        if self._writer is not None:
            with self._ready:
                self._queue.append(None)
                self._ready.notify()
            self._writer.join()
            self._writer = None
        elif self.jobs_out >= 0:
            os.close(self.jobs_out)
        self.jobs_out = -1

    def wait(self) -> list[Any]:
        """Wait until the child has written the file and run the jobs; their results. A
        failure is one TrainingError line."""
        if self.pid is None:
            return self.results
        assert self.sent, "send() first"
        self._close_jobs()
        deadline = time.monotonic() + WAIT_SECONDS
        reply = _read_until(self.reply_in, deadline)
        os.close(self.reply_in)
        self.reply_in = -1
        status = self._reap(deadline)
        if status is None:
            raise TrainingError(
                f"{_SAVING} (its process did not finish within {WAIT_SECONDS:g} s and was "
                "stopped; run again, and report it if it happens again)"
            )
        if self.failed or os.waitstatus_to_exitcode(status) != 0 or reply[:1] == _FAILED:
            doing, said = _SAVING, ""
            if reply[:1] == _FAILED:
                doing, _, said = reply[1:].decode(errors="replace").partition("\0")
            why = self.failed or said.strip() or "the saver process died"
            raise TrainingError(f"{doing} ({why})")
        results: list[Any] = pickle.loads(reply)
        return results

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close_jobs()
        if self.reply_in >= 0:
            os.close(self.reply_in)
            self.reply_in = -1
        if self.pid is not None:  # training failed before the child was waited for
            self._reap(time.monotonic() + WAIT_SECONDS)  # it sees the closed pipe and exits

    def _reap(self, deadline: float) -> int | None:
        """The child's wait status; None when it was still running at `deadline` (then it is
        killed and reaped)."""
        assert self.pid is not None
        pid, self.pid = self.pid, None
        if self._frozen:
            gc.unfreeze()
            self._frozen = False
        pause = 0.001
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() >= deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)


def _read_until(fd: int, deadline: float) -> bytes:
    """Everything from `fd` up to its end of file, or what came by `deadline`."""
    import select

    poll = select.poll()
    poll.register(fd, select.POLLIN)
    chunks = []
    while (left := deadline - time.monotonic()) > 0:
        if not poll.poll(min(left, 3600.0) * 1000):
            break
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _close_all_but(*keep: int) -> None:  # pragma: no cover - in the forked child
    """Close every descriptor the fork copied except 0-2 and `keep`: another saver's pipe
    ends held here would keep its child from seeing the end of its jobs."""
    try:
        top = os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        top = 1 << 16
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(top, low))
