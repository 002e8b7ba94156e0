from __future__ import annotations

import argparse
import os
import sys

from mlops_actions import compare, output


def main(args: argparse.Namespace) -> int:
    result = compare.compare(
        args.params, base=args.base, pr_base_ref=os.environ.get("GITHUB_BASE_REF") or None
    )
    if args.format is None:
        for err in result.errors:
            output.warning(f"{err}; its values count as missing")
        output.info(compare.render_text(result, all=args.all))
        return 0
    # stdout carries only the JSON or Markdown; anything else goes to stderr.
    messages = [*result.notes, *(f"{e}; its values count as missing" for e in result.errors)]
    if args.format == "json" and result.baseline.kind == "none":
        messages.insert(0, compare.headline(result))
    for message in messages:
        sys.stderr.write(f"warning: {output.redact(message)}\n")
    if args.format == "json":
        indent = 2 if sys.stdout.isatty() else None
        print(compare.render_json(result, all=args.all, indent=indent))
    else:
        print(output.redact(compare.render_markdown(result, all=args.all)), end="")
    return 0
