"""Events downstream workflows start on: a `repository_dispatch` after a registration or an
assignment written through the GitHub API.

Tags created with GITHUB_TOKEN start no workflow (GitHub's rule against loops), so a deploy
workflow `on: push: tags` never runs after a promotion made in Actions; a repository_dispatch
sent with the same token does. A deploy workflow listens with

    on:
      repository_dispatch:
        types: [mlops-assigned]

and reads `github.event.client_payload` (`Payload`). Sending is best effort: the tag is written
already, so a failure to send is a warning, not a failed run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from mlops_actions import output
from mlops_actions.errors import MlopsError

if TYPE_CHECKING:
    from mlops_actions.github.client import GitHub

REGISTERED = "mlops-registered"
ASSIGNED = "mlops-assigned"
EVENT_TYPES = (REGISTERED, ASSIGNED)


class Payload(TypedDict):
    """`client_payload` of both events (GitHub allows at most 10 top-level keys)."""

    name: str
    version: str
    stage: str | None  # None for mlops-registered
    tag: str
    commit: str
    sha256: str | None  # the model file's
    run_url: str | None  # the workflow run that wrote the tag


def payload(
    name: str,
    version: str,
    tag: str,
    commit: str,
    *,
    stage: str | None = None,
    sha256: str | None = None,
    run_url: str | None = None,
) -> Payload:
    return {
        "name": name,
        "version": version,
        "stage": stage,
        "tag": tag,
        "commit": commit,
        "sha256": sha256,
        "run_url": run_url,
    }


def send(gh: GitHub, event_type: str, data: Payload) -> bool:
    """Send one event; False (after a warning that names the tag) when GitHub refused it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    try:
        gh.create_dispatch_event(event_type, data)
    except MlopsError as exc:
        output.warning(
            f"{data['tag']} is written, but the {event_type} event was not sent ({exc}); "
            "workflows `on: repository_dispatch` will not start for it"
        )
        return False
    output.info(f"sent the {event_type} event for {data['tag']}")
    return True
