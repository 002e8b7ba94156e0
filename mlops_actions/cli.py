"""argv in, exit code out. Each subcommand's parser names the function that runs it; command
modules are imported only when they run, so --help stays fast."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence

from mlops_actions import __version__, output
from mlops_actions.commands import args, model_args, runs_args, step_args, sweep_args
from mlops_actions.errors import EXIT_BUG, MlopsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlops-actions",
        description="CI/CD for machine learning: pull DVC data, train, compare, gate, promote.",
    )
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    # -C before the subcommand, as `git -C DIR` takes it; a second -C after it is relative to it.
    parser.add_argument("-C", dest="top_directory", metavar="DIR", help="run as if started in DIR")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    parents = args.parents()
    step_args.add_parsers(sub, parents)
    model_args.add_parsers(sub, parents)
    sweep_args.add_parser(sub, parents.common, parents.github)
    runs_args.add_parser(sub)
    step_args.add_run(sub, parents)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (argv None: sys.argv[1:]); its exit code. Returns, so a script, a
    wrapper or runpy can call it in-process."""
    return _main(argv)


def entry() -> int:
    """The console script and `python -m mlops_actions`: the process's own command line,
    then the end of the process (see _end_process)."""
    return _end_process(main())


def _end_process(code: int) -> int:
    """End the process without tearing the interpreter down: once scikit-learn, scipy and
    pandas are loaded, freeing their modules one by one costs about 0.3 s of CPU that nobody
    waits for. atexit handlers run first, then Python's and the C library's buffered output
    is flushed; under a profiler or tracer, or with threads still running, Python ends as
    usual (the code is returned for SystemExit)."""
    import atexit
    import threading

    if sys.getprofile() or sys.gettrace() or threading.active_count() > 1:
        return code
    atexit._run_exitfuncs()
    code = _flush(code)
    os._exit(code)


def _flush(code: int) -> int:
    """Flush what Python's exit would: sys.stdout, sys.stderr, the C library's stdio (a
    compiled library's printf). Output that cannot be written changes the code as Python's
    exit does (120), except a reader that stopped reading: 141, as _main says."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = 128 + 13  # SIGPIPE
    except OSError as exc:
        code = 120
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"error: the output could not be written ({exc.strerror})\n")
    except ValueError:  # closed: nothing to flush, as at Python's exit
        pass
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (ImportError, OSError, TypeError, AttributeError):  # no C library to ask
        pass
    return code


def _main(argv: Sequence[str] | None) -> int:
    parsed = build_parser().parse_args(argv)
    for name in output.TOKEN_VARIABLES:
        output.add_secret(os.environ.get(name))
    output.add_secret(getattr(parsed, "token", None))
    try:
        for directory in (parsed.top_directory, getattr(parsed, "directory", None)):
            if directory:
                try:
                    os.chdir(directory)
                except OSError as exc:
                    raise MlopsError(f"-C {directory}: {exc.strerror}") from None
        handler: Callable[[argparse.Namespace], int] = parsed.handler
        code = handler(parsed)
        sys.stdout.flush()  # a reader that went away shows here, not as Python exits
        return code
    except MlopsError as exc:
        output.error(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        return 130
    except Exception as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_closed():
            # The reader stopped reading (`| head`): stop quietly, as a process SIGPIPE ends
            # does, with nothing left for Python to flush into the closed pipe (Python's docs).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + 13  # SIGPIPE
        if os.environ.get("MLOPS_DEBUG"):
            output.error(f"unexpected failure in '{parsed.command}'; the traceback follows")
            sys.stderr.write(output.printable(traceback.format_exc()))
        else:
            what = output.redact(f"{type(exc).__name__}: {exc}")
            output.error(
                f"unexpected failure in '{parsed.command}' ({what}); this is a bug: please "
                "report it with the output of the same command run with MLOPS_DEBUG=1"
            )
        return EXIT_BUG


def _stdout_closed() -> bool:
    """Whether stdout is a pipe nobody reads any more (not some other pipe, e.g. a child's)."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & select.POLLERR for _, event in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll(), no file descriptor
        return False


if __name__ == "__main__":
    raise SystemExit(entry())
