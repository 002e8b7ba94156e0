"""Printing for people and for the Actions runner, with secrets masked."""

from __future__ import annotations

import os
import sys

from mlops_actions import inert

_secrets: set[str] = set()


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def add_secret(value: str | None) -> None:
    """Register a value that must never be printed: every line we print has it replaced.

    No `::add-mask::` is written: the runner already masks secrets and the action's inputs,
    and a mask command carries the raw value onto whatever stderr is redirected to."""
    if value and len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def printable_json(text: str) -> str:
    """JSON as we print it: secrets masked, and `##[` spelled `#\\u0023[` (the same JSON), so
    no line of it is a workflow command (a JSON line starts with a bracket, a brace or a quote,
    never with `::`)."""
    return redact(text).replace("##[", "#\\u0023[")


def printable(text: str) -> str:
    """`text` as every line we print it: secrets masked, workflow commands neutralised."""
    return inert.log(redact(text))


def info(message: str) -> None:
    print(printable(message), flush=True)


def status(message: str) -> None:
    """A line about what was done (`report written to …`), on stderr: stdout may be the
    command's product, redirected into a file."""
    print(printable(message), file=sys.stderr, flush=True)


def warning(message: str) -> None:
    message = printable(message)
    if in_actions():
        print(f"::warning::{inert.command_data(message)}", flush=True)
    else:
        print(f"warning: {message}", file=sys.stderr, flush=True)


def error(message: str, title: str | None = None) -> None:
    """An error for the log; in Actions also an annotation, titled when `title` is given."""
    message = printable(message)
    if in_actions():
        props = f" title={inert.command_property(printable(title))}" if title else ""
        print(f"::error{props}::{inert.command_data(message)}", flush=True)
    print(f"error: {message}", file=sys.stderr, flush=True)


TOKEN_VARIABLES = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "INPUT_TOKEN",
    "MLOPS_RETRAIN_TOKEN",
    "MLOPS_PR_TOKEN",
    # A job with `id-token: write`: what mints an OIDC token for the job's cloud roles.
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the user's training code and dvc: without our GitHub tokens, which
    they never need and which code changed in a pull request must not be able to read."""
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_VARIABLES}
    return {**env, **(extra or {})}
