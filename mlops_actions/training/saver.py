"""Saving the fitted model with skops, off the critical path.

Importing `skops.io` costs about 0.5 s beyond scikit-learn (it walks scikit-learn's
estimators). Once the trainer has imported scikit-learn, a forked child imports skops in
parallel with reading the table and fitting; the fitted model reaches it through a pipe
(pickle, parent to its own child) and the child writes the skops file. Where fork is not
available the model is saved in-process.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from types import TracebackType

from mlops_actions.errors import TrainingError


def _child(model_in: int, error_out: int, target: Path) -> None:  # pragma: no cover - forked
    code = 1
    try:
        from skops import io as skio

        with os.fdopen(model_in, "rb") as f:
            model = pickle.load(f)
        skio.dump(model, target)
        code = 0
    except BaseException as exc:  # every failure must reach the parent as one line
        os.write(error_out, f"{type(exc).__name__}: {exc}".encode(errors="replace")[:2000])
    finally:
        os._exit(code)


class ModelSaver:
    """`with ModelSaver() as saver: saver.prepare(path); ...fit...; saver.save(model)`."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.target: Path | None = None
        self.model_out = self.error_in = -1

    def __enter__(self) -> ModelSaver:
        return self

    def prepare(self, target: Path) -> None:
        """Fork the child that will write `target`; its import of skops runs meanwhile."""
        self.target = target
        if not hasattr(os, "fork"):
            return
        model_in, self.model_out = os.pipe()
        self.error_in, error_out = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            os.close(self.model_out)
            os.close(self.error_in)
            _child(model_in, error_out, target)
        os.close(model_in)
        os.close(error_out)
        self.pid = pid

    def save(self, model: object) -> None:
        """Hand the model to the child and wait until the file is written."""
        assert self.target is not None, "prepare() first"
        if self.pid is None:
            from skops import io as skio

            skio.dump(model, self.target)
            return
        pipe, self.model_out = os.fdopen(self.model_out, "wb"), -1  # the file owns the fd now
        failed = ""
        try:
            with pipe:
                pickle.dump(model, pipe, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:
            pass  # the child died: its status and message say why
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            failed = f"{type(exc).__name__}: {exc}"  # the child reads a cut pickle and fails
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        with os.fdopen(self.error_in, "rb") as f:
            said = f.read().decode(errors="replace").strip()
        self.error_in = -1
        if failed or os.waitstatus_to_exitcode(status) != 0:
            why = failed or said or "the saver process died"
            raise TrainingError(f"the model could not be saved with skops ({why})")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for fd in (self.model_out, self.error_in):
            if fd >= 0:
                os.close(fd)
        if self.pid is not None:  # training failed before the model was handed over
            os.waitpid(self.pid, 0)  # the child sees the closed pipe and exits
            self.pid = None
