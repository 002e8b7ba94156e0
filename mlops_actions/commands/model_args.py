"""The model registry's subcommands: promote, models, the lifecycle verbs and monitor
(argparse only; each command's module is imported when it runs)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from mlops_actions.commands.args import Parents, add_directory, add_token

if TYPE_CHECKING:
    from mlops_actions.commands.args import Subparsers

VERBS = (
    ("assign", "NAME@vX.Y.Z", "assign a stage to a version (GTO NAME#STAGE#N tag)"),
    ("unassign", "NAME", "take a stage from the version holding it (NAME#STAGE!#N)"),
    ("deregister", "NAME@vX.Y.Z", "deregister a version (GTO NAME@vX.Y.Z! tag)"),
    ("deprecate", "NAME", "deprecate a model (GTO NAME@deprecated tag)"),
)


def add_parsers(sub: Subparsers, parents: Parents) -> None:
    common, github = parents.common, parents.github
    p = sub.add_parser(
        "promote", parents=[common, github], help="tag a passing, better model NAME@vX.Y.Z"
    )
    p.add_argument(
        "--bump", choices=("patch", "minor", "major"), default=None, help="version part to bump"
    )
    p.add_argument("--stage", metavar="NAME", help="also assign this stage (GTO NAME#STAGE#N tag)")
    p.add_argument("--push", action="store_true", help="push the tags to origin")
    p.add_argument(
        "--release", action="store_true", help="create a GitHub release with the model file"
    )
    p.set_defaults(handler=_promote)

    p = sub.add_parser(
        "models", parents=[common, github], help="list the model registry; `models get REF`"
    )
    p.add_argument(
        "args", nargs="*", metavar="NAME | get REF", help="a model name, or `get NAME@vX.Y.Z`"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--history",
        action="store_true",
        help="the registry's events (as `gto history`), with who made each tag and which run",
    )
    p.add_argument("-o", "--output", metavar="PATH", help="with `get`: where to write the model")
    p.set_defaults(handler=_models)

    _add_verbs(sub)

    p = sub.add_parser(
        "monitor",
        parents=[common, github],
        help="drift and decay of monitor.data against a version's training data",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--stage",
        metavar="STAGE",
        help="the version in this stage (default: monitor.stage, latest)",
    )
    p.set_defaults(handler=_monitor)


def _add_verbs(sub: Subparsers) -> None:
    """The lifecycle verbs read only the repository's tags: no params file."""
    verb = argparse.ArgumentParser(add_help=False)
    add_directory(verb)
    add_token(verb)
    verb.add_argument(
        "--push", action="store_true", help="push the tag to origin (implied inside Actions)"
    )
    verb.add_argument("--json", action="store_true", help="machine-readable output")
    for command, target, helptext in VERBS:
        p = sub.add_parser(command, parents=[verb], help=helptext)
        p.add_argument("target", metavar=target)
        if command in ("assign", "unassign"):
            p.add_argument("stage", metavar="STAGE")
        p.set_defaults(handler=_lifecycle)


def _promote(args: argparse.Namespace) -> int:
    from mlops_actions.commands import promote

    return promote.main(
        args.params,
        token=args.token,
        bump=args.bump,
        stage=args.stage,
        push=args.push,
        release=args.release,
    )


def _models(args: argparse.Namespace) -> int:
    from mlops_actions.commands import models

    return models.main(
        args.params,
        args.args,
        as_json=args.json,
        out=args.output,
        token=args.token,
        history=args.history,
    )


def _lifecycle(args: argparse.Namespace) -> int:
    from mlops_actions.commands import lifecycle

    return lifecycle.main(
        args.command,
        args.target,
        getattr(args, "stage", None),
        push=args.push,
        as_json=args.json,
        token=args.token,
    )


def _monitor(args: argparse.Namespace) -> int:
    from mlops_actions.commands import monitor

    return monitor.main(args.params, stage=args.stage, as_json=args.json, token=args.token)
