"""What the subcommands' parsers share: parent parsers and argument types (argparse only, so
--help imports nothing heavy).

The action passes its inputs as MLOPS_* variables: they are the flags' defaults.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, NamedTuple

from mlops_actions.tag import BOT

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]


class Parents(NamedTuple):
    common: argparse.ArgumentParser  # --params and -C: every command that reads params.yaml
    remote: argparse.ArgumentParser  # the DVC remote to pull from
    base: argparse.ArgumentParser  # the git ref to compare against
    github: argparse.ArgumentParser  # --token
    comment: argparse.ArgumentParser  # the sticky comment's marker id and author


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def add_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-C", dest="directory", metavar="DIR", help="run as if started in DIR")


def add_params(parser: argparse.ArgumentParser, dest: str = "params", help: str = "") -> None:
    parser.add_argument(
        f"--{dest.replace('_', '-')}",
        dest=dest,
        default=os.environ.get("MLOPS_PARAMS", "params.yaml"),
        help=help or "the params file (default: params.yaml, or $MLOPS_PARAMS)",
    )


def parents() -> Parents:
    common = argparse.ArgumentParser(add_help=False)
    add_params(common)
    add_directory(common)

    remote = argparse.ArgumentParser(add_help=False)
    remote.add_argument(
        "-r", "--remote", help="DVC remote to pull from (default: the repo's default)"
    )
    remote.add_argument("-j", "--jobs", type=positive_int, help="parallel transfers for dvc pull")

    base = argparse.ArgumentParser(add_help=False)
    base.add_argument(
        "--base", metavar="REF", help="git ref to compare against (default: the PR's base branch)"
    )

    github = argparse.ArgumentParser(add_help=False)
    add_token(github)

    comment = argparse.ArgumentParser(add_help=False)
    comment.add_argument(
        "--comment-id",
        default=os.environ.get("MLOPS_COMMENT_ID") or "default",
        help="marker id that tells this report's comment apart (default: $MLOPS_COMMENT_ID)",
    )
    add_comment_author(comment, "(an App's or a PAT's)")
    return Parents(common, remote, base, github, comment)


def add_token(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token", help="GitHub token (default: $GITHUB_TOKEN)")


def add_comment_author(parser: argparse.ArgumentParser, whose: str = "") -> None:
    parser.add_argument(
        "--comment-author",
        default=os.environ.get("MLOPS_COMMENT_AUTHOR") or BOT.name,
        help=f"the login the token comments as{' ' + whose if whose else ''}; only its comments "
        "are updated",
    )
