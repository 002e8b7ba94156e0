"""Untrusted text made inert for the place it is shown: the one module that does it.

Metric and param names and values, gate details, plot names, dataset column names, tag
messages: everything a pull request, a dataset or a results file says is shown through one of
these functions, each for one context.

- `text`: Markdown prose (a paragraph, a heading, a list item, a quote); `cell`: a table cell.
- `code`: an inline code span (`table=True` inside a table cell); `spans`: prose with code
  spans of its own.
- `mermaid`: a quoted label in a Mermaid chart.
- `html`: text inside an HTML block (a `<summary>`), or an attribute value.
- `terminal`: a column of a terminal table; `log`, `command_data`, `command_property`: a line
  of the runner's log and the two parts of a workflow command.

What comes out reads as what went in, and is never live: no HTML, no link (autolinks, bare
URLs, `www.` names and e-mail addresses included), no image, no emphasis, no heading, list or
table structure, no math, no @mention or #123 / GH-123 reference (a word joiner, U+2060, which
shows as nothing, follows the `@`, the `#` or the `-`), no way out of a code span, a table cell
or a Mermaid label, one line, no control or bidirectional-override character. A leaf: it
imports nothing of the package.
"""

from __future__ import annotations

import re

__all__ = [
    "cell",
    "code",
    "command_data",
    "command_property",
    "html",
    "is_mermaid_safe",
    "line",
    "log",
    "mermaid",
    "spans",
    "terminal",
    "text",
]

JOINER = "\u2060"  # WORD JOINER: invisible, no break; after `@` no mention, no e-mail link
MISSING = "—"
# Control characters (C0, DEL, C1), line and paragraph separators, and the bidirectional
# controls that can make a line read other than it is written.
_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]"
)
# The ASCII punctuation that is live anywhere in a line of GFM (CommonMark lets a backslash
# escape any ASCII punctuation; `<`, `>` and `&` become entities): escapes, code, emphasis and
# strikethrough, links and images, HTML and autolinks, entities, table cells, GitHub's math.
# `.`, `-`, `(` and the rest stay as they are, readable, except where they start a construct.
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}  # no `<img` or `&#64;` even in the source
# An URL's `://` and a `www.` name are escaped too; what is live only at the start of a line (a
# heading, a list, a setext underline, a thematic break, an ordered list's `1.`) there only.
_LIVE = re.compile(r"[\\`*_~\[\]|$!<>&]|:(?=//)|(?<=www)\.", re.I)
_START = re.compile(r"^(?:[-+=#]|\d{1,9}[.)](?=\s|$))")
# An issue or pull request reference GitHub links: #123, owner/repo#123, GH-123.
_REFERENCE = re.compile(r"(#|(?<![A-Za-z0-9])GH-)(?=\d)", re.I)
_TICKS = re.compile(r"`+")
_MERMAID_UNSAFE = re.compile(r"[^\w .,\-/+:()\[\]=@!?*'%#]|%(?=%)")


def line(value: object) -> str:
    """`value` as one printable line: controls and separators become spaces."""
    return _UNPRINTABLE.sub(" ", str(value))


def _clip(value: str, limit: int | None) -> str:
    return value if limit is None or len(value) <= limit else value[: limit - 1] + "…"


def text(value: object, *, limit: int | None = None) -> str:
    """Markdown prose that shows `value` literally: each ASCII punctuation character that
    could start a construct backslash-escaped (so `\\|` also keeps a table cell whole), `<`,
    `>` and `&` as entities, whitespace runs as one space, a word joiner after each `@` and
    inside issue references."""
    return _escape(_clip(" ".join(line(value).split()), limit))


def cell(value: object, *, limit: int | None = None) -> str:
    """A table cell's text: as `text`, less the escapes only the start of a line needs (a
    cell holds inline text only, so a lone `-` stays a dash)."""
    return _escape(_clip(" ".join(line(value).split()), limit), start=False)


def _escape(flat: str, *, start: bool = True) -> str:
    if "#" in flat or "-" in flat:
        flat = _REFERENCE.sub(lambda m: m.group(1) + JOINER, flat)
    flat = _LIVE.sub(lambda m: _ENTITIES.get(m.group(0)) or "\\" + m.group(0), flat)
    if start and (found := _START.match(flat)):  # untouched by the escapes above
        flat = f"{found.group(0)[:-1]}\\{flat[found.end() - 1 :]}"
    return flat.replace("@", "@" + JOINER)


_SPAN = re.compile(r"`([^`]+)`")


def spans(value: object) -> str:
    """Prose whose single-backtick `spans` stay code spans (a label such as "`main` (3f2c1aa)"),
    everything else as `text` shows it."""
    flat = " ".join(line(value).split())
    out, pos = [], 0
    for found in _SPAN.finditer(flat):
        out += [_escape(flat[pos : found.start()]), code(found.group(1))]
        pos = found.end()
    return "".join([*out, _escape(flat[pos:])])


def code(value: object, *, table: bool = False, limit: int | None = None) -> str:
    """`value` as one inline code span, whatever it holds: one line, fenced by more backticks
    than any run in it; `table=True` escapes `|` (GFM splits a row into cells before it reads
    code spans). Blank text is shown as a dash."""
    flat = _clip(line(value), limit)
    if not flat.strip():
        return MISSING
    if table:
        flat = flat.replace("|", "\\|")
    ticks = "`" * (max((len(m) for m in _TICKS.findall(flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def mermaid(value: object, *, limit: int = 60, default: str = "_") -> str:
    """`value` as a quoted Mermaid label: letters, digits, spaces and `.,-_/+:()[]=@!?*'%#`;
    anything else (a double quote, a backtick, a `%%` directive, the `;` of a `#…;` entity,
    HTML, braces) becomes `_`."""
    cleaned = _clip(_MERMAID_UNSAFE.sub("_", " ".join(line(value).split())), limit)
    return f'"{cleaned.strip() or default}"'


def is_mermaid_safe(value: str, *, limit: int = 60) -> bool:
    """Whether `mermaid` shows `value` exactly as it is (nothing replaced or cut)."""
    return bool(value) and mermaid(value, limit=limit) == f'"{value}"'


_HTML = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;", "$": "&#36;"}
)


def html(value: object) -> str:
    """Text inside an HTML block or attribute (where Markdown is not read): `&<>"'$` as
    entities, one line, a word joiner after each `@` and inside issue references."""
    escaped = " ".join(line(value).split()).translate(_HTML).replace("@", "@" + JOINER)
    return re.sub(r"((?<!&)#|(?<![A-Za-z0-9])GH-)(?=\d)", lambda m: m.group(1) + JOINER, escaped)


def terminal(value: object) -> str:
    """`value` for a terminal column: every character Python deems unprintable (controls,
    format characters, separators) becomes a space."""
    return "".join(c if c.isprintable() else " " for c in str(value))


# --- the runner's log -------------------------------------------------------------------------

_ZWSP = "\u200b"
# A line the runner would read as a workflow command: `::name::` after blanks, and the old
# `##[name]` form anywhere in a line.
_COMMAND_LINE = re.compile(r"(^|\n)([ \t]*):(?=:)")


# Control characters but tab and newline: an escape sequence (a colour, a cursor move, an OSC 8
# link) or a carriage return would draw over what the log or the terminal shows.
_TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def log(value: str) -> str:
    """Text for the runner's log, where untrusted parts (a metric name, a git message, a DVC
    error) could be read as a workflow command: a zero-width space goes between the colons of
    a line starting with `::` (`::stop-commands::`, `::set-output`, `::error`) and inside `##[`,
    so it reads the same and is never a command; other control characters than tab and
    newline become spaces."""
    value = _TERMINAL_CONTROL.sub(" ", value)
    if "::" in value:  # the scan costs ~10 ms on a big JSON document that holds none
        value = _COMMAND_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}:{_ZWSP}", value)
    return value.replace("##[", f"#{_ZWSP}#[")


def command_data(value: str) -> str:
    """The message of a workflow command (`::warning::MESSAGE`): one line, as the runner
    decodes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: str) -> str:
    """A property of a workflow command (`::error title=VALUE::`)."""
    return command_data(value).replace(":", "%3A").replace(",", "%2C")
