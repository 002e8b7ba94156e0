"""yaml12 reads YAML as DVC's own reader does (dvc.utils.serialize.parse_yaml: YAML 1.2), a text
read again included; and every read gets a document of its own, whatever an earlier reader of the
same text did to its copy."""

from __future__ import annotations

import random
import sys
from datetime import date
from typing import Any

import pytest

from mlops_actions import yaml12

# Scalars YAML 1.1 and 1.2 read differently, numbers in every spelling, and the structures a
# params or metrics file may hold.
CORPUS = [
    "lr: 3e-1\nbig: 1e3\nneg: -2.5E-3\ndot: .5\ntrail: 5.\nexp_no_dot: 1E3",
    "a: on\nb: off\nc: yes\nd: no\ne: y\nf: n\ng: True\nh: TRUE\ni: tRUE\nj: false",
    "octal: 0o17\nold_octal: 017\nleading_zero: 09\nhex: 0x1F\nbinary: 0b101\nsep: 1_000",
    "inf: .inf\nninf: -.Inf\nnan: .NaN\nnull1: ~\nnull2: null\nnull3: Null\nempty:",
    "sexagesimal: 1:20\ntime: 12:30:00\nday: 2001-12-14\nplus: +1\nzero: -0\nfloat0: 0.",
    'quoted: \'1\'\ndouble: "1e3"\nescapes: "tab\\there \\u00e9"\nfolded: >-\n  a\n  b\nlit: |\n  x\n',
    "train:\n  layers: [64, 32]\n  opt: {name: adam, lr: 1e-3}\n  grid:\n  - {depth: 3}\n  - 4\n",
    "anchored: &base {lr: 0.1, seed: 7}\ncopy: *base\nmerged:\n  <<: *base\n  seed: 8\n",
    "- 1\n- two\n- 3.0",
    "42",
    "'just a string'",
    "",
    "# only a comment\n",
    "---\nexplicit: start\n...\n",
    "unicode: été\nkey with spaces: v\n'1': quoted key\n2: int key\n",
]

BROKEN = ["a: [1, 2", "a: b: c", "a: 1\na: 2", "\tb: 1", "a: 'unterminated"]


def _typed(value: Any) -> Any:
    """The value with each scalar's type beside it: 1, 1.0 and True compare equal in Python."""
    if isinstance(value, dict):
        return {(type(k).__name__, k): _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def test_values_are_the_ones_dvc_reads_first_time_and_again() -> None:
    from dvc.utils.serialize import parse_yaml

    for text in CORPUS:
        want = _typed(parse_yaml(text, "params.yaml"))
        for _ in range(2):  # the second read comes from the parsed texts kept
            assert _typed(yaml12.load(text) or {}) == want, text


def test_yaml_1_2_scalars() -> None:
    for _ in range(2):
        numbers = yaml12.load(CORPUS[0])
        assert numbers["lr"] == 0.3 and isinstance(numbers["big"], float)
        words = yaml12.load(CORPUS[1])
        assert [words[k] for k in "abcdef"] == ["on", "off", "yes", "no", "y", "n"]
        ints = yaml12.load(CORPUS[2])
        assert (ints["octal"], ints["old_octal"], ints["hex"]) == (15, 17, 31)
        assert yaml12.load(CORPUS[4])["day"] == date(2001, 12, 14)


def test_broken_text_fails_every_time_as_for_dvc() -> None:
    from dvc.utils.serialize import YAMLFileCorruptedError, parse_yaml

    for text in BROKEN:
        with pytest.raises(YAMLFileCorruptedError):
            parse_yaml(text, "params.yaml")
        for _ in range(2):
            with pytest.raises(yaml12.YamlError):
                yaml12.load(text)


def test_a_text_read_again_is_a_document_of_its_own() -> None:
    text = "train:\n  layers: [64, 32]\n  opt: {lr: 3e-1}\n  tags: !!set {a, b}\n"
    first = yaml12.load(text)
    first["train"]["layers"].append(16)
    first["train"]["opt"]["lr"] = 0
    first["train"]["tags"].add("c")
    del first["train"]["opt"]
    again = yaml12.load(text)
    assert again == {"train": {"layers": [64, 32], "opt": {"lr": 0.3}, "tags": {"a", "b"}}}
    again["train"]["layers"].clear()
    assert yaml12.load(text)["train"]["layers"] == [64, 32]


def test_anchors_stay_shared_within_a_document_not_across_reads() -> None:
    text = "base: &b {lr: 1}\nother: *b\nloop: &l [*l]\n"
    first, second = yaml12.load(text), yaml12.load(text)
    assert second["base"] is second["other"] and second["loop"][0] is second["loop"]
    assert second["base"] is not first["base"]
    first["base"]["lr"] = 2
    assert second["other"] == {"lr": 1}


def _words(text: str) -> list[str]:
    return text.split()


KEYS = _words("lr train n_est a.b key-1 _x on Yes true null NULL e x_")
PLAIN = _words(  # words and numbers as params files hold them
    "3e-1 1e3 -2.5E-3 .5 5. 0o17 017 09 0x1F 0b101 1_000 1__0 +1 -0 -.5 .inf -.Inf .NaN on off "
    "yes no y n True FALSE tRUE null Null abc 1.0.0 2001-12-14 2001-13-45 0x 0o 1e e1 _ . +"
)
OTHER = [*_words("~ 12:30 - .. ... -- --- a#b 1:20 @x !x &x *x 'q' \"q\" [1] |"), "{a: 1}"]


def _random_document(rng: random.Random) -> str:
    """A block mapping as params files are written, with a random flaw now and then: odd
    indentation, a key twice, tabs, trailing spaces, comments, blank lines, sequences."""
    lines, depth, step = [], 0, rng.choice([2, 2, 4, 1, 3])
    for _ in range(rng.randint(1, 9)):
        pad = " " * (depth * step + (rng.random() < 0.02))
        key = rng.choice(KEYS) if rng.random() < 0.2 else f"p{rng.randint(0, 99)}"
        roll = rng.random()
        if roll < 0.25 and depth < 3:
            lines.append(f"{pad}{key}:")
            depth += rng.random() < 0.8  # else a key with no value (null)
            continue
        if roll < 0.27:
            lines.append(f"{pad}- {rng.choice(PLAIN)}")
        else:
            sep = rng.choice([" "] * 12 + ["  ", "\t"])
            value = rng.choice(PLAIN if rng.random() < 0.95 else OTHER)
            lines.append(f"{pad}{key}:{sep}{value}")
        if rng.random() < 0.1:
            lines[-1] += rng.choice([" # note", "  #x", " ", "#c"])
        if rng.random() < 0.1:
            lines.append(rng.choice(["", "   ", "# comment", "  # é"]))
        if depth and rng.random() < 0.3:
            depth -= rng.randint(1, depth)
    return "\n".join(lines) + rng.choice(["\n", ""])


def test_random_params_files_read_as_dvc_reads_them() -> None:
    from dvc.utils.serialize import parse_yaml

    rng = random.Random(25)
    outcomes = {"value": 0, "error": 0}
    for _ in range(2000):
        text = _random_document(rng)
        try:
            want = _typed(parse_yaml(text, "params.yaml"))
        except Exception:  # DVC's reader fails on it (a date with month 13: a ValueError)
            with pytest.raises(yaml12.YamlError):
                yaml12.load(text)
            outcomes["error"] += 1
            continue
        assert _typed(yaml12.load(text) or {}) == want, text
        outcomes["value"] += 1
    assert min(outcomes.values()) > 200, outcomes  # both kinds, many of each


def test_threads_reading_at_once_get_their_own_documents() -> None:
    """A sweep's trials run in threads: each must get the document of its own text, and a
    broken text read meanwhile must not spoil another's."""
    from concurrent.futures import ThreadPoolExecutor

    def outcome(i: int) -> bool:
        want: Any
        if i % 7 == 0:
            text, want = f"a: [1, {i}\n", "error"  # unclosed: ruamel fails on it
        else:  # a flow list: ruamel's parser, not the plain-mapping path
            text, want = (
                f"train:\n  n: {i}\n  tags: [a, {i}e-1]\n",
                {"train": {"n": i, "tags": ["a", i / 10]}},
            )
        try:
            got = yaml12.load(text)
        except yaml12.YamlError:
            got = "error"
        return bool(got == want)

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, as on a busy machine
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            assert all(pool.map(outcome, range(1500)))
    finally:
        sys.setswitchinterval(switch)
