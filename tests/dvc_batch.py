"""Run several dvc commands in one Python process: `python -m tests.dvc_batch` reads
[[cwd, [arg, ...]], ...] as JSON on stdin and prints [[returncode, stdout, stderr], ...].

Each command is dvc's own CLI entry point (`dvc.cli.main`) on a fresh Repo, exactly what
`python -m dvc ARGS` runs, minus the interpreter and import start-up paid once per batch.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile


def main() -> int:
    from dvc.cli import main as dvc_main

    commands = json.load(sys.stdin)
    results = []
    real = os.dup(1), os.dup(2)
    for cwd, args in commands:
        os.chdir(cwd)
        # dvc writes to the process's own stdout (colorama may rewrap sys.stdout): capture
        # file descriptors 1 and 2, not Python's streams.
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            try:
                code = dvc_main(args)
            except SystemExit as exc:  # argparse errors
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(real[0], 1)
                os.dup2(real[1], 2)
            out.seek(0)
            err.seek(0)
            results.append([code, out.read().decode(), err.read().decode()])
    sys.stdout.write(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
