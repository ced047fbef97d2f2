"""Tests for bot.core.actions: button payloads, at most 64 bytes.

``<action>:<token>[:<arg>]`` (:class:`Action`) and ``o<b|s>:<step>:<value>`` (:class:`Setup`).
"""

from __future__ import annotations

import re
import string
from typing import get_args

import pytest

from bot.core.actions import (
    ACTION_PATTERN,
    MAX_PAYLOAD_BYTES,
    Action,
    ActionKind,
    BadPayload,
    Setup,
    SetupStep,
    decode,
    new_token,
)
from tests.services import action_of

TOKEN = "AbC-12_xyzXYZ789"  # 16 URL-safe characters, like new_token()
KINDS: tuple[ActionKind, ...] = get_args(ActionKind)
# The arguments each kind takes; a kind not listed takes none.
ARGS: dict[str, tuple[int, ...]] = {
    "rate": (1, 2, 3, 4),
    "confirm": (0, 1),
    "check": (0, 9),
    "grade": (11, 93),
}
#: Kinds whose argument may be left out: the row a self-assessment form opens at.
OPTIONAL_ARG = ("assessform",)
CASES = [(kind, arg) for kind in KINDS for arg in ARGS.get(kind, (None,))]
NO_ARG = [k for k in KINDS if k not in ARGS and k not in OPTIONAL_ARG]


def test_the_study_actions_exist() -> None:
    assert {"reveal", "rate", "bury", "suspend", "undo", "next"} <= set(KINDS)


@pytest.mark.parametrize(("kind", "arg"), CASES)
def test_round_trip(kind: ActionKind, arg: int | None) -> None:
    action = Action(kind, TOKEN, arg)
    payload = action.encode()
    assert decode(payload) == action
    assert len(payload.encode()) <= MAX_PAYLOAD_BYTES
    expected = re.escape(TOKEN) + ("" if arg is None else f":{arg}")
    assert re.fullmatch(r"[a-z]:" + expected, payload)


@pytest.mark.parametrize(("kind", "arg"), CASES)
def test_round_trip_with_fresh_and_extreme_tokens(kind: ActionKind, arg: int | None) -> None:
    for token in (new_token(), "a" * 8, "Z" * 22, "-" * 22, "_0" * 4):
        action = Action(kind, token, arg)
        payload = action.encode()
        assert decode(payload) == action
        assert len(payload.encode()) <= MAX_PAYLOAD_BYTES


def test_every_kind_has_its_own_letter() -> None:
    prefixes = {Action(k, TOKEN, ARGS.get(k, (None,))[0]).encode()[:2] for k in KINDS}
    assert len(prefixes) == len(KINDS)


def test_encoding_a_payload_over_64_bytes_fails() -> None:
    with pytest.raises(BadPayload):
        Action("reveal", "x" * 70).encode()


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("", id="empty"),
        pytest.param("s", id="action-only"),
        pytest.param("s:", id="empty-token"),
        pytest.param(":" + TOKEN, id="empty-action"),
        pytest.param(TOKEN, id="no-separator"),
        pytest.param(f"s:{TOKEN}:", id="empty-argument"),
        pytest.param(f"r:{TOKEN}:1:2", id="too-many-parts"),
        pytest.param("s:" + "a" * 70, id="too-long"),
        pytest.param(f"r:{TOKEN}:" + "1" * 60, id="too-long-argument"),
        pytest.param("é" * 40, id="too-many-bytes"),
        pytest.param(f"y:{TOKEN}", id="unknown-action"),
        pytest.param(f"?:{TOKEN}", id="unknown-action-symbol"),
        pytest.param(f"reveal:{TOKEN}", id="action-spelled-out"),
        pytest.param(f"S:{TOKEN}", id="action-upper-case"),
        pytest.param("s:abc", id="token-too-short"),
        pytest.param("s:" + "a" * 23, id="token-too-long"),
        pytest.param("s:abc$defgh", id="token-dollar"),
        pytest.param("s:abc defgh", id="token-space"),
        pytest.param("s:abc.defgh", id="token-dot"),
        pytest.param("s:abc/defgh", id="token-slash"),
        pytest.param("s:abcdéfgh", id="token-non-ascii"),
        pytest.param(f"s:{TOKEN}\n", id="token-trailing-newline"),
        pytest.param(f"s:\n{TOKEN}", id="token-leading-newline"),
        pytest.param(f"r:{TOKEN}", id="rate-without-rating"),
        pytest.param(f"r:{TOKEN}:0", id="rating-0"),
        pytest.param(f"r:{TOKEN}:5", id="rating-5"),
        pytest.param(f"r:{TOKEN}:-1", id="rating-negative"),
        pytest.param(f"r:{TOKEN}:+1", id="rating-plus"),
        pytest.param(f"r:{TOKEN}: 1", id="rating-space"),
        pytest.param(f"r:{TOKEN}:x", id="rating-letter"),
        pytest.param(f"r:{TOKEN}:1.0", id="rating-float"),
        pytest.param(f"r:{TOKEN}:100", id="rating-three-digits"),
        pytest.param(f"r:{TOKEN}:4\n", id="rating-trailing-newline"),
        pytest.param(f"r:{TOKEN}:\u00b9", id="rating-superscript-digit"),
        pytest.param(f"r:{TOKEN}:\u0661", id="rating-arabic-indic-digit"),
        pytest.param(f"r:{TOKEN}:\uff13", id="rating-fullwidth-digit"),
        pytest.param("\x00\x01\x02", id="control-characters"),
        pytest.param("🙂:🙂🙂🙂🙂🙂🙂🙂🙂", id="emoji"),
        pytest.param("\ud800:abcdefgh", id="lone-surrogate"),
        pytest.param("\uff53:" + TOKEN, id="fullwidth-action"),
    ],
)
def test_malformed_payloads_are_rejected(payload: str) -> None:
    with pytest.raises(BadPayload):
        decode(payload)


@pytest.mark.parametrize("kind", NO_ARG)
@pytest.mark.parametrize("arg", ["0", "1", "4", "12"])
def test_actions_without_arguments_reject_one(kind: ActionKind, arg: str) -> None:
    letter = Action(kind, TOKEN).encode()[0]
    with pytest.raises(BadPayload):
        decode(f"{letter}:{TOKEN}:{arg}")


BAD_ARGS = ["", "5", "9", "99", "-1", "1 ", "a", "\u0661", "\u00b9"]
# A checkpoint index is 0-9, so 5 and 9 are good ones there.
BAD_FOR = {
    "check": ["", "10", "99", "-1", "1 ", "a", "\u0661", "\u00b9"],
    "grade": ["", "4", "10", "94", "-1", "a"],
}


@pytest.mark.parametrize(
    ("kind", "arg"), [(k, a) for k in sorted(ARGS) for a in BAD_FOR.get(k, BAD_ARGS)]
)
def test_actions_with_arguments_reject_bad_ones(kind: str, arg: str) -> None:
    if kind not in KINDS:
        pytest.skip(f"no {kind!r} action")
    letter = Action(kind, TOKEN, ARGS[kind][0]).encode()[0]
    with pytest.raises(BadPayload):
        decode(f"{letter}:{TOKEN}")
    with pytest.raises(BadPayload):
        decode(f"{letter}:{TOKEN}:{arg}")


@pytest.mark.parametrize("arg", [None, 0, 20, 31])
def test_the_assessment_form_takes_a_row_or_none(arg: int | None) -> None:
    action = Action("assessform", TOKEN, arg)
    assert decode(action.encode()) == action


@pytest.mark.parametrize("arg", ["", "32", "100", "-1", "1 ", "a", "\u0661"])
def test_the_assessment_form_rejects_a_bad_row(arg: str) -> None:
    letter = Action("assessform", TOKEN).encode()[0]
    with pytest.raises(BadPayload):
        decode(f"{letter}:{TOKEN}:{arg}")


@pytest.mark.parametrize(
    ("arg", "ok"), [("313", True), ("93", True), ("321", False), ("999", False)]
)
def test_a_grade_names_one_of_32_rows(arg: str, ok: bool) -> None:
    letter = Action("grade", TOKEN, 11).encode()[0]
    payload = f"{letter}:{TOKEN}:{arg}"
    if ok:
        assert decode(payload) == Action("grade", TOKEN, int(arg))
    else:
        with pytest.raises(BadPayload):
            decode(payload)


def test_bad_payload_is_a_value_error() -> None:
    assert issubclass(BadPayload, ValueError)


def test_new_token_is_16_url_safe_characters() -> None:
    allowed = set(string.ascii_letters + string.digits + "-_")
    tokens = [new_token() for _ in range(50)]
    for token in tokens:
        assert len(token) == 16
        assert set(token) <= allowed
        assert action_of(f"s:{token}").token == token
    assert len(set(tokens)) == len(tokens)
    assert new_token() != new_token()


def test_new_tokens_stay_whole_and_unique_across_pool_refills() -> None:
    allowed = set(string.ascii_letters + string.digits + "-_")
    tokens = [new_token() for _ in range(1300)]  # more than two pools of 512
    assert all(len(t) == 16 and set(t) <= allowed for t in tokens)
    assert len(set(tokens)) == len(tokens)


@pytest.mark.parametrize(("kind", "arg"), CASES)
def test_every_action_payload_matches_the_pattern(kind: ActionKind, arg: int | None) -> None:
    """Discord routes its persistent buttons by ACTION_PATTERN: every Action must match it."""
    for token in (TOKEN, new_token(), "a" * 8, "Z" * 22):
        assert re.fullmatch(ACTION_PATTERN, Action(kind, token, arg).encode())


@pytest.mark.parametrize(
    "payload",
    ["ob:tz:Europe/Paris", "os:go:tz", f"s:{TOKEN}:3:4", f"s:{TOKEN[:7]}", f"S:{TOKEN}", ""],
)
def test_the_pattern_matches_no_other_payload(payload: str) -> None:
    assert re.fullmatch(ACTION_PATTERN, payload) is None


# --------------------------------------------------------------------------- setup choices

STEPS: tuple[SetupStep, ...] = get_args(SetupStep)


@pytest.mark.parametrize(
    ("choice", "payload"),
    [
        (Setup(True, "tz", "Europe/Paris"), "ob:tz:Europe/Paris"),
        (
            Setup(False, "tz", "America/Argentina/Buenos_Aires"),
            "os:tz:America/Argentina/Buenos_Aires",
        ),
        (Setup(True, "push", "0800"), "ob:push:0800"),
        (Setup(False, "push", "off"), "os:push:off"),
        (Setup(True, "deck", "*"), "ob:deck:*"),
        (Setup(False, "deck", "attention"), "os:deck:attention"),
        (Setup(True, "go", "review"), "ob:go:review"),
        (Setup(False, "go", "push"), "os:go:push"),
    ],
)
def test_setup_round_trip(choice: Setup, payload: str) -> None:
    assert choice.encode() == payload
    assert decode(payload) == choice


def test_every_setup_step_round_trips() -> None:
    for step in STEPS:
        for chain in (True, False):
            choice = Setup(chain, step, "x")
            assert decode(choice.encode()) == choice


def test_a_setup_value_fills_the_payload_up_to_64_bytes() -> None:
    value = "d" * (MAX_PAYLOAD_BYTES - len("os:deck:"))
    assert decode(Setup(False, "deck", value).encode()) == Setup(False, "deck", value)
    with pytest.raises(BadPayload):
        Setup(False, "deck", value + "d").encode()
    with pytest.raises(BadPayload):
        Setup(True, "tz", "é" * 30).encode()  # 30 characters, 60 bytes


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("ox:tz:UTC", id="neither-chain-nor-settings"),
        pytest.param("ob:colour:blue", id="unknown-step"),
        pytest.param("ob:tz", id="no-value"),
        pytest.param("oB:tz:UTC", id="upper-case-chain"),
        pytest.param("ob:TZ:UTC", id="upper-case-step"),
        pytest.param("o:tz:UTC", id="no-chain"),
        pytest.param("ob:tz:" + "x" * 60, id="too-long"),
        pytest.param("ob:tz:Europe/Paris\n", id="trailing-newline"),
    ],
)
def test_malformed_setup_payloads_are_rejected(payload: str) -> None:
    with pytest.raises(BadPayload):
        decode(payload)


def test_a_setup_payload_is_not_an_action() -> None:
    """The letter "o" is also the Share action: a share payload still decodes as an Action."""
    assert decode(f"o:{TOKEN}") == Action("share", TOKEN)
    assert isinstance(decode("ob:go:review"), Setup)
