from __future__ import annotations

import pytest

from mlops_actions import tag
from mlops_actions.tag import Action, ParsedTag, SemVer, TagInfo

R, D, A, U = Action.REGISTER, Action.DEREGISTER, Action.ASSIGN, Action.UNASSIGN


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("demo-model@v1.2.3", ParsedTag("demo-model", R, version="v1.2.3")),
        ("demo-model@v1.2.3#4", ParsedTag("demo-model", R, version="v1.2.3", counter=4)),
        ("demo-model@v1.2.3!", ParsedTag("demo-model", D, version="v1.2.3")),
        ("demo-model@v1.2.3!#7", ParsedTag("demo-model", D, version="v1.2.3", counter=7)),
        ("demo-model#prod#3", ParsedTag("demo-model", A, stage="prod", counter=3)),
        ("demo-model#prod", ParsedTag("demo-model", A, stage="prod")),
        ("demo-model#prod!#5", ParsedTag("demo-model", U, stage="prod", counter=5)),
        ("demo-model#prod!", ParsedTag("demo-model", U, stage="prod")),
        ("demo-model@deprecated", ParsedTag("demo-model", Action.DEPRECATE)),
        ("demo-model@deprecated#9", ParsedTag("demo-model", Action.DEPRECATE, counter=9)),
        ("models/churn@v0.0.1", ParsedTag("models/churn", R, version="v0.0.1")),
        ("Churn_Model@v0.0.1", ParsedTag("Churn_Model", R, version="v0.0.1")),
        ("m@v0.0.1", ParsedTag("m", R, version="v0.0.1")),
        ("dir/sub=rf#staging#2", ParsedTag("dir/sub:rf", A, stage="staging", counter=2)),
        ("rf#eu/prod#2", ParsedTag("rf", A, stage="eu/prod", counter=2)),
        ("rf@v1.0.0-rc.1+build.5", ParsedTag("rf", R, version="v1.0.0-rc.1+build.5")),
    ],
)
def test_parse_gto_tags(name: str, expected: ParsedTag) -> None:
    assert tag.parse(name) == expected
    assert tag.format_tag(expected) == name


@pytest.mark.parametrize(
    "name",
    [
        "v1.2.3",  # a release tag, not a model
        "demo-model@1.2.3",  # GTO versions start with 'v'
        "demo-model@v1.2",
        "demo-model@v01.2.3",
        "demo-model@latest",  # a reference, never a tag
        "-model@v1.0.0",
        "model-@v1.0.0",
        "demo model@v1.0.0",
        "a:b@v1.0.0",  # ':' is written '=' inside a tag
        "demo-model#prod#",
        "demo-model#prod#x",
        "demo-model#-prod#1",
        "demo-model@v1.0.0!!",
    ],
)
def test_not_gto_tags(name: str) -> None:
    assert tag.parse(name) is None


GTO_CASES = [
    "a@v1.0.0",
    "dir=a@v1.0.0",
    "d/x=a#prod#3",
    "A_b@v1.0.0",
    "a#prod!#3",
    "a@v1.0.0!#2",
    "a@deprecated",
    "a@v1.0",
    "a#x/y#1",
    "a@v1.0.0-rc.1+b5",
    "a@v01.0.0",
    "a@deprecated#4",
    "a#prod!",
    "a@v1.0.0#2",
    "a-@v1.0.0",
    "a:b@v1.0.0",
    "release-2024",
    "a@b=c@v1.0.0",
]


@pytest.mark.parametrize("name", GTO_CASES)
def test_parse_agrees_with_gto(name: str) -> None:
    from gto.tag import parse_name

    theirs = parse_name(name, raise_on_fail=False)
    ours = tag.parse(name)
    if not theirs:
        assert ours is None
        return
    assert ours is not None
    assert ours.name == theirs["name"]
    assert ours.action.value == theirs["action"].value
    assert ours.version == theirs.get("version")
    assert ours.stage == theirs.get("stage")
    assert ours.counter == theirs.get("counter")


def test_format_rejects_what_gto_would_not_read() -> None:
    with pytest.raises(ValueError, match="not a valid registry name"):
        tag.registration("Bad Name", "v1.0.0")
    with pytest.raises(ValueError, match="not a version"):
        tag.registration("demo", "1.0.0")
    with pytest.raises(ValueError, match="not a valid stage"):
        tag.assignment("demo", "prod!", 1)
    assert tag.registration("dir:rf", "v1.0.0") == "dir=rf@v1.0.0"


@pytest.mark.parametrize(
    "name", ["a//b", "a/b/", "a..b", "dir/.hidden", "x.lock/b", "../up:m", ".dot:m", "d.lock/:m"]
)
def test_names_must_be_valid_in_a_git_ref(name: str) -> None:
    """What `git check-ref-format` refuses is refused before git sees it."""
    assert not tag.is_name(name)
    with pytest.raises(ValueError, match="not a valid registry name"):
        tag.registration(name, "v1.0.0")
    assert not tag.is_model_name(name)


def test_stages_must_be_valid_in_a_git_ref() -> None:
    assert tag.is_stage("prod") and tag.is_stage("eu/prod")
    for stage in ("eu//prod", "eu/prod.lock/x"):
        assert not tag.is_stage(stage)
        with pytest.raises(ValueError, match="not a valid stage"):
            tag.assignment("demo", stage, 1)


def test_model_names_in_params_are_the_narrower_rule() -> None:
    assert tag.is_model_name("churn-model") and tag.is_model_name("team/churn-2")
    for name in ("Churn", "churn_model", "dir:churn", "-churn", "churn-"):
        assert not tag.is_model_name(name)
    assert tag.is_name("Churn_model") and tag.is_name("dir:churn")


def test_the_tags_of_a_model() -> None:
    assert tag.tag_glob("demo") == "demo[@#]*"
    assert tag.tag_glob("dir:demo") == "dir=demo[@#]*"
    assert tag.next_counter("demo#prod#4") == "demo#prod#5"
    assert tag.next_counter("demo#prod!#9") == "demo#prod!#10"
    assert tag.next_counter("demo@v1.0.0") == "demo@v1.0.0"


@pytest.mark.parametrize(
    ("version", "part", "expected"),
    [
        ("v1.2.3", "patch", "v1.2.4"),
        ("v1.2.3", "minor", "v1.3.0"),
        ("v1.2.3", "major", "v2.0.0"),
        ("v1.2.3-rc.1", "patch", "v1.2.4"),
        ("v0.0.0", "patch", "v0.0.1"),
    ],
)
def test_bump(version: str, part: str, expected: str) -> None:
    assert str(SemVer.parse(version).bump(part)) == expected


def test_semver_precedence() -> None:
    ordered = [
        "v0.0.9",
        "v0.1.0",
        "v1.0.0-alpha",
        "v1.0.0-alpha.1",
        "v1.0.0-alpha.beta",
        "v1.0.0-beta.2",
        "v1.0.0-beta.11",
        "v1.0.0-rc.1",
        "v1.0.0",
        "v1.10.0",
    ]
    shuffled = sorted(ordered, key=lambda v: v[::-1])
    assert sorted(shuffled, key=lambda v: SemVer.parse(v).key()) == ordered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("demo@v1.2.3", tag.Ref("demo", version="v1.2.3")),
        ("demo#prod", tag.Ref("demo", stage="prod")),
        ("demo@latest", tag.Ref("demo")),
        ("demo", tag.Ref("demo")),
        ("dir:demo@v1.0.0", tag.Ref("dir:demo", version="v1.0.0")),
    ],
)
def test_parse_ref(text: str, expected: tag.Ref) -> None:
    assert tag.parse_ref(text) == expected


def test_parse_ref_explains_the_forms() -> None:
    with pytest.raises(ValueError, match=r"NAME@vX.Y.Z, NAME#STAGE"):
        tag.parse_ref("demo@1.2")


def test_message_keeps_gto_subject_and_round_trips() -> None:
    info = TagInfo(
        metrics={
            "f1": 0.93,
            "test.accuracy": 0.97,
            "n": 120,
            "label": "x",
            "ok": True,
            "none": None,
        },
        primary="f1",
        model_sha256="ab" * 32,
        model_path="model/model.skops",
        data={"data": "0123456789abcdef0123456789abcdef.dir"},
        params_sha256="cd" * 32,
        fingerprint="ef" * 32,
        run_url="https://github.com/o/r/actions/runs/42",
        model_md5="12" * 16,
        model_store="dvc-remote",
        dvc_remote="storage",
    )
    message = tag.format_message(tag.registration_subject("demo", "v1.0.0"), info)
    assert message.splitlines()[0] == "Registering artifact demo version v1.0.0"
    assert tag.parse_message(message) == info
    # GTO strips the message; a signature or trailing text after the block does not matter.
    assert tag.parse_message(message.strip() + "\n-----BEGIN PGP SIGNATURE-----\n") == info


@pytest.mark.parametrize(
    "message",
    [
        "Registering artifact demo version v1.0.0",  # written by `gto register`
        "x\n\n```json mlops-actions\n{not json\n```\n",
        "x\n\n```json mlops-actions\n[1, 2]\n```\n",
        'x\n\n```json mlops-actions\n{"metrics": 1}\n',  # unterminated
    ],
)
def test_message_without_a_readable_block(message: str) -> None:
    assert tag.parse_message(message) is None


def test_message_ignores_unknown_keys() -> None:
    message = 'x\n\n```json mlops-actions\n{"metrics": {"f1": 1}, "future": 2}\n```\n'
    assert tag.parse_message(message) == TagInfo(metrics={"f1": 1})
