"""What a failed dvc command means, in one line: DVC's own message kept whole, and for
`dvc pull` the usual causes (no remote, credentials, the network, data never pushed) said with
what to do."""

from __future__ import annotations

import re
from collections.abc import Callable

from mlops_actions.dvcio.repo import DvcConfig


def listed(paths: tuple[str, ...], limit: int = 3) -> str:
    """'a, b, c and 4 more'."""
    more = len(paths) - limit
    return ", ".join(paths[:limit]) + (f" and {more} more" if more > 0 else "")


def pull_failure(
    text: str,
    targets: list[str],
    lacks: Callable[[], tuple[str, ...]] = tuple,
    remote: str | None = None,
) -> str:
    """dvc pull's failure, said with what to do; `lacks` asks the remote what it lacks, only
    once the failure is not about credentials or the network."""
    where = ", ".join(targets)
    lowered = text.lower()
    if "no remote specified" in lowered or "no default remote" in lowered:
        return (
            f"{where}: no DVC remote is configured; add one with "
            "`dvc remote add -d NAME URL` or pass --remote"
        )
    if re.search(r"remote '?[\w-]+'? (does not exist|doesn't exist)", lowered) or (
        "does not exist" in lowered and "remote" in lowered and "config" in lowered
    ):
        return f"{where}: the DVC remote named is not configured; check `dvc remote list`"
    if any(
        s in lowered
        for s in (
            "unable to locate credentials",
            "nocredentialserror",
            "invalidaccesskeyid",
            "signaturedoesnotmatch",
            "access denied",
            "accessdenied",
            "forbidden",
            "could not load credentials",
            "credentials",
        )
    ):
        return (
            f"{where}: the DVC remote refused the credentials or has none; set them in the "
            "environment (e.g. AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY as workflow secrets)"
        )
    if any(
        s in lowered
        for s in (
            "could not connect",
            "connection refused",
            "connect timeout",
            "name or service not known",
            "endpoint url",
            "connectionerror",
            "timed out",
            "max retries",
        )
    ):
        return (
            f"{where}: the DVC remote is unreachable ({dvc_message(text)}); check its URL and "
            "the network"
        )
    if "missing" in lowered or "failed to pull" in lowered or "not in cache" in lowered:
        what = listed(lacks()) or "some of the data"
        name = f" '{remote}'" if remote else ""
        return (
            f"{where}: the DVC remote{name} lacks {what} (added but never pushed?); run "
            f"`dvc push` from the machine that has it (dvc: {dvc_message(text)})"
        )
    return f"{where}: dvc pull failed: {dvc_message(text)}"


def dvc_message(text: str) -> str:
    """DVC's error, whole, on one line: from its first ERROR line to the end (a message
    continues over the lines after it: the targets, the question, the link), else its last
    line."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    first = next((i for i, ln in enumerate(lines) if ln.startswith("ERROR:")), None)
    if first is None:
        return (lines or ["no output"])[-1]
    message = ""
    for line in lines[first:]:
        line = line.removeprefix("ERROR:").strip()
        if not message:
            message = line
        elif message.endswith((":", "-")) or line.startswith("<"):
            message += f" {line}"
        else:
            message += f"; {line}"
        if line.startswith("<http"):  # DVC ends a message with its link
            break
    return message


def missing_local_remote(config: DvcConfig, remote: str | None) -> str | None:
    """Why the pull failed when the remote is a local directory that is not there."""
    found = config.remote(remote)
    if found is None or found.path is None or found.path.is_dir():
        return None
    return f"remote '{found.name}' points at {found.path}, which does not exist"
