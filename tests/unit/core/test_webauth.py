"""Tests for bot.core.webauth: Telegram's initData check and the signed one-time links."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from bot.core.webauth import (
    MAX_INIT_DATA,
    MAX_LINK_TOKEN,
    LinkClaims,
    LoginRefused,
    TelegramLogin,
    check_init_data,
    check_purpose,
    digest,
    link_key,
    new_nonce,
    read_link,
    sign_init_data,
    sign_link,
)

TOKEN = "123456:AAE-test-token-for-the-unit-tests-xx"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
MAX_AGE = timedelta(minutes=10)
USER = json.dumps({"id": 42, "first_name": "Ann", "last_name": "Lee", "username": "ann"})


def fields(auth_date: datetime = NOW, **more: str) -> dict[str, str]:
    return {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": USER,
        "auth_date": str(int(auth_date.timestamp())),
        **more,
    }


def refused(raw: str, *, token: str = TOKEN, now: datetime = NOW) -> str:
    with pytest.raises(LoginRefused) as caught:
        check_init_data(raw, token, now, MAX_AGE)
    assert TOKEN not in str(caught.value) and (not raw or raw not in str(caught.value))
    return caught.value.reason


# --------------------------------------------------------------------------- initData


def test_valid_init_data_names_the_user() -> None:
    raw = sign_init_data(TOKEN, fields())
    login = check_init_data(raw, TOKEN, NOW, MAX_AGE)
    received = dict(parse_qsl(raw))["hash"]
    assert login == TelegramLogin(
        "42", "Ann Lee", NOW, hashlib.sha256(received.encode()).hexdigest()
    )


def test_a_known_vector_computed_with_hmac_directly() -> None:
    """Telegram's algorithm spelled out here independently of the module."""
    values = {
        "auth_date": str(int(NOW.timestamp())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": '{"id":7,"first_name":"Bo"}',
        "signature": "c2lnbmF0dXJl",
    }
    check = "\n".join(f"{k}={values[k]}" for k in sorted(values))
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    expected = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    raw = "&".join(f"{k}={quote(v, safe='')}" for k, v in values.items()) + f"&hash={expected}"
    login = check_init_data(raw, TOKEN, NOW, MAX_AGE)
    assert (login.user_id, login.display_name) == ("7", "Bo")
    assert dict(parse_qsl(sign_init_data(TOKEN, values)))["hash"] == expected


def test_field_order_does_not_matter() -> None:
    raw = sign_init_data(TOKEN, fields())
    pairs = parse_qsl(raw)
    assert check_init_data(urlencode(pairs[::-1]), TOKEN, NOW, MAX_AGE).user_id == "42"


def test_blank_values_are_signed_too() -> None:
    raw = sign_init_data(TOKEN, fields(start_param=""))
    assert "start_param=&" in raw or raw.endswith("start_param=")
    assert check_init_data(raw, TOKEN, NOW, MAX_AGE).user_id == "42"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: {**d, "user": USER.replace("42", "43")},
        lambda d: {**d, "auth_date": str(int(d["auth_date"]) + 1)},
        lambda d: {**d, "extra": "1"},
        lambda d: {k: v for k, v in d.items() if k != "query_id"},
        lambda d: {**d, "hash": ("0" if d["hash"][0] != "0" else "1") + d["hash"][1:]},
        lambda d: {**d, "hash": d["hash"].upper()},
        lambda d: {**d, "hash": "not hex"},
    ],
    ids=["user", "auth_date", "added", "removed", "hash", "hash-upper", "hash-shape"],
)
def test_a_changed_field_or_hash_is_forged(change: object) -> None:
    signed = dict(parse_qsl(sign_init_data(TOKEN, fields())))
    assert callable(change)
    assert refused(urlencode(change(signed))) == "forged"


def test_another_bots_token_is_forged() -> None:
    raw = sign_init_data("999:other-bot-token", fields())
    assert refused(raw) == "forged"


def test_too_old_is_expired_and_the_limit_itself_is_accepted() -> None:
    assert check_init_data(sign_init_data(TOKEN, fields(NOW - MAX_AGE)), TOKEN, NOW, MAX_AGE)
    assert refused(sign_init_data(TOKEN, fields(NOW - MAX_AGE - timedelta(seconds=1)))) == (
        "expired"
    )


def test_dated_in_the_future_beyond_the_skew_is_expired() -> None:
    assert check_init_data(
        sign_init_data(TOKEN, fields(NOW + timedelta(seconds=60))), TOKEN, NOW, MAX_AGE
    )
    assert refused(sign_init_data(TOKEN, fields(NOW + timedelta(seconds=61)))) == "expired"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-equals-sign",
        "a=1&a=2&hash=" + "0" * 64,
        "auth_date=1&user=%7B%7D",
        "x" * (MAX_INIT_DATA + 1),
    ],
    ids=["empty", "not-a-query", "twice", "no-hash", "too-long"],
)
def test_unreadable_init_data_is_malformed(raw: str) -> None:
    assert refused(raw) == "malformed"


@pytest.mark.parametrize(
    "values",
    [
        {"user": USER},
        {"user": USER, "auth_date": "yesterday"},
        {"user": USER, "auth_date": "99999999999999999999"},
        {"auth_date": str(int(NOW.timestamp()))},
        {"user": "{not json", "auth_date": str(int(NOW.timestamp()))},
        {"user": "[1]", "auth_date": str(int(NOW.timestamp()))},
        {"user": '{"id": "42"}', "auth_date": str(int(NOW.timestamp()))},
        {"user": '{"id": true}', "auth_date": str(int(NOW.timestamp()))},
    ],
    ids=["no-auth-date", "bad-auth-date", "huge-auth-date", "no-user", "bad-json", "not-object",
         "id-text", "id-bool"],
)  # fmt: skip
def test_signed_but_unreadable_fields_are_malformed(values: dict[str, str]) -> None:
    assert refused(sign_init_data(TOKEN, values)) == "malformed"


@pytest.mark.parametrize(
    ("user", "name"),
    [
        ({"id": 1, "first_name": "Ann"}, "Ann"),
        ({"id": 1, "first_name": " ", "username": "ann_l"}, "ann_l"),
        ({"id": 1}, "1"),
        ({"id": 1, "first_name": "A" * 200}, "A" * 128),
    ],
)
def test_display_name(user: dict[str, object], name: str) -> None:
    raw = sign_init_data(TOKEN, {"user": json.dumps(user), "auth_date": str(int(NOW.timestamp()))})
    assert check_init_data(raw, TOKEN, NOW, MAX_AGE).display_name == name


def test_each_init_data_has_its_own_once_key() -> None:
    a = check_init_data(sign_init_data(TOKEN, fields()), TOKEN, NOW, MAX_AGE)
    b = check_init_data(sign_init_data(TOKEN, fields(query_id="other")), TOKEN, NOW, MAX_AGE)
    assert a.once_key != b.once_key and len(a.once_key) == 64


def test_refusals_are_friendly_sentences() -> None:
    for reason in ("forged", "expired", "replayed", "malformed"):
        error = LoginRefused(reason)
        assert error.reason == reason and str(error) == error.message
        assert error.message.endswith(".") and "Open the workspace again" in error.message
    assert "already used" in LoginRefused("replayed").message
    assert repr(LoginRefused("forged")) == "LoginRefused('forged')"


# --------------------------------------------------------------------------- links

KEY = link_key("a-long-web-secret", None)
CLAIMS = LinkClaims(
    7, "challenge:r0000001", NOW + timedelta(minutes=15, microseconds=5), "n0nce", "discord:555"
)


def link_refused(token: str, *, key: bytes = KEY, now: datetime = NOW) -> str:
    with pytest.raises(LoginRefused) as caught:
        read_link(key, token, now)
    return caught.value.reason


def test_a_link_round_trips_and_is_url_safe() -> None:
    token = sign_link(KEY, CLAIMS)
    assert read_link(KEY, token, NOW) == CLAIMS
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert len(token) < MAX_LINK_TOKEN // 2


@pytest.mark.parametrize("purpose", ["review", "stats", "challenge:" + "x" * 64])
def test_every_purpose_round_trips(purpose: str) -> None:
    claims = LinkClaims(1, purpose, NOW + timedelta(minutes=1), new_nonce(), "discord:1")
    assert read_link(KEY, sign_link(KEY, claims), NOW) == claims


def test_a_tampered_payload_is_forged() -> None:
    payload, _, signature = sign_link(KEY, CLAIMS).partition(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["l"] = 8
    changed = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    assert link_refused(f"{changed}.{signature}") == "forged"


def test_a_tampered_signature_is_forged() -> None:
    payload, _, signature = sign_link(KEY, CLAIMS).partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert link_refused(f"{payload}.{flipped}") == "forged"


def test_another_key_is_forged() -> None:
    token = sign_link(link_key(None, "discord-token"), CLAIMS)
    assert link_refused(token) == "forged"


def test_expired_at_the_instant_itself() -> None:
    token = sign_link(KEY, CLAIMS)
    assert read_link(KEY, token, CLAIMS.expires_at - timedelta(microseconds=1)) == CLAIMS
    assert link_refused(token, now=CLAIMS.expires_at) == "expired"


def signed_payload(body: object) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    mac = hmac.new(KEY, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nodot",
        "a.b.c",
        ".sig",
        "payload.",
        "payload.@@@",
        "é.x",
        "a" * (MAX_LINK_TOKEN + 1),
        signed_payload([1]),
        signed_payload({"l": 1, "p": "review", "e": 1}),
        signed_payload({"l": "1", "p": "review", "e": 1, "n": "x", "a": "discord:1"}),
        signed_payload({"l": 0, "p": "review", "e": 1, "n": "x", "a": "discord:1"}),
        signed_payload({"l": True, "p": "review", "e": 1, "n": "x", "a": "discord:1"}),
        signed_payload({"l": 1, "p": "admin", "e": 1, "n": "x", "a": "discord:1"}),
        signed_payload({"l": 1, "p": "review", "e": 10**30, "n": "x", "a": "discord:1"}),
        signed_payload({"l": 1, "p": "review", "e": 1.5, "n": "x", "a": "discord:1"}),
        signed_payload({"l": 1, "p": "review", "e": 1, "n": "bad nonce", "a": "discord:1"}),
        signed_payload({"l": 1, "p": "review", "e": 1, "n": "x"}),
        signed_payload({"l": 1, "p": "review", "e": 1, "n": "x", "a": ""}),
        signed_payload({"l": 1, "p": "review", "e": 1, "n": "x", "a": 1}),
        signed_payload({"l": 1, "p": "review", "e": 1, "n": "x", "a": "x" * 97}),
    ],
)
def test_unreadable_links_are_malformed(token: str) -> None:
    assert link_refused(token) == "malformed"


def test_sign_link_refuses_claims_read_link_would_refuse() -> None:
    for claims in (
        LinkClaims(1, "review", datetime(2026, 12, 7, 9, 15), "n", "discord:1"),
        LinkClaims(1, "nothing", NOW, "n", "discord:1"),
        LinkClaims(1, "review", NOW, "a nonce", "discord:1"),
        LinkClaims(0, "review", NOW, "n", "discord:1"),
        LinkClaims(1, "review", NOW, "n", ""),
        LinkClaims(1, "review", NOW, "n", "x" * 97),
    ):
        with pytest.raises(ValueError):
            sign_link(KEY, claims)


def test_link_key_prefers_the_secret_and_needs_one() -> None:
    assert link_key("s", "d") == link_key("s", None) != link_key(None, "d")
    assert link_key("", "d") == link_key(None, "d")
    assert len(KEY) == 32
    with pytest.raises(ValueError):
        link_key(None, None)
    with pytest.raises(ValueError):
        link_key("", "")


def test_nonces_digests_and_purposes() -> None:
    assert new_nonce() != new_nonce() and len(new_nonce()) == 22
    assert digest("abc") == hashlib.sha256(b"abc").hexdigest()
    assert (
        check_purpose("review") == "review"
        and check_purpose("challenge:a_B-9") == "challenge:a_B-9"
    )
    for bad in ("", "Review", "challenge:", "challenge:a b", "challenge:" + "x" * 65, "stats\n"):
        with pytest.raises(ValueError):
            check_purpose(bad)
