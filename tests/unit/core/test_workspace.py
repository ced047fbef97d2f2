"""Tests for bot.core.workspace: sign-ins, sessions, scopes, the pages as data.

Everything runs on the fake database with a fixed clock, over the challenge tests'
group (``tests/unit/core/challenges/support.py``): Ada starts "quad", members join
and answer through :class:`ChallengeService` as a chat does.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.core.learners import Basics, Who
from bot.core.model import ReviewSource, WebSession
from bot.core.webauth import LoginRefused, sign_init_data
from bot.core.workspace import (
    ANY,
    BadRequest,
    Login,
    OutOfScope,
    WebPolicy,
    WorkspaceService,
    allows,
    challenge_purpose,
    review_action,
)
from tests.services import button
from tests.unit.core.challenges.support import ADA, BEN, CAT, CATALOG, Env

TOKEN = "123456:TEST-TOKEN"
KEY = b"k" * 32
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZED = Who("telegram", "77", "Zed")


def workspace(env: Env, *, telegram: str | None = TOKEN) -> WorkspaceService:
    services = env.services
    policy = WebPolicy(
        public_url="https://study.example.org",
        link_key=KEY,
        telegram_token=telegram,
        init_data_max_age=timedelta(minutes=10),
        link_life=timedelta(minutes=15),
        session_life=timedelta(hours=12),
    )
    return WorkspaceService(
        Basics(env.db, env.clock, env.tokens, services.enrolment, services.metrics),
        policy,
        challenges=services.challenges,
        study=services.study,
        inputs=services.inputs,
        catalog=CATALOG,
    )


def init_data(env: Env, who: Who, *, query_id: str = "q1", token: str = TOKEN) -> str:
    user = {"id": int(who.user_id), "first_name": who.display_name}
    fields = {
        "auth_date": str(int(env.clock.now().timestamp())),
        "query_id": query_id,
        "user": json.dumps(user),
    }
    return sign_init_data(token, fields)


async def telegram_session(env: Env, ws: WorkspaceService, who: Who) -> WebSession:
    login = await ws.login_telegram(init_data(env, who, query_id=f"q-{who.user_id}"))
    session = await ws.session(login.cookie)
    assert session is not None
    return session


async def link_session(ws: WorkspaceService, who: Who, purpose: str) -> WebSession:
    url = await ws.link(who, purpose)
    login = await ws.login_link(url.split("#link=", 1)[1])
    session = await ws.session(login.cookie)
    assert session is not None
    return session


async def started(env: Env, *members: Who) -> str:
    """Ada starts "quad" in the group; ``members`` join. Returns the run token."""
    post = await env.post()
    for who in members:
        await env.join(who, post)
    return env.run().token


# --------------------------------------------------------------------------- pure


def test_a_star_scope_opens_everything_a_link_scope_only_its_purpose() -> None:
    assert allows(ANY, "review") and allows(ANY, "challenge:abc")
    assert allows("challenge:abc", "challenge:abc")
    assert not allows("challenge:abc", "challenge:abd")
    assert not allows("review", "stats")
    assert not allows("stats", ANY)


@pytest.mark.parametrize("payload", ["s:t0000001", "r:t0000001:3", "b:t0000001", "x:t0000001"])
def test_review_buttons_are_taken(payload: str) -> None:
    assert review_action(payload).token == "t0000001"


@pytest.mark.parametrize(
    "payload",
    [
        "j:t0000001",
        "g:t0000001:31",
        "f:t0000001",
        "c:t0000001:1",
        "os:go:review",
        "dp:u1-x",
        "",
        "zz",
    ],
)
def test_other_payloads_are_refused(payload: str) -> None:
    with pytest.raises(BadRequest):
        review_action(payload)


# --------------------------------------------------------------------------- sign-in


async def test_a_telegram_login_enrols_the_learner_and_opens_a_star_session() -> None:
    env = Env()
    ws = workspace(env)
    login = await ws.login_telegram(init_data(env, ZED))
    assert isinstance(login, Login)
    assert (login.name, login.scope) == ("Zed", ANY)
    assert login.expires_at == env.clock.now() + timedelta(hours=12)
    learner = env.db.learner("telegram", "77")
    assert learner is not None and learner.display_name == "Zed"
    session = await ws.session(login.cookie)
    assert session is not None
    assert (session.learner_id, session.scope, session.csrf) == (learner.id, ANY, login.csrf)
    assert session.id_hash != login.cookie  # only the digest is stored


async def test_an_init_data_works_once() -> None:
    env = Env()
    ws = workspace(env)
    raw = init_data(env, ZED)
    await ws.login_telegram(raw)
    with pytest.raises(LoginRefused) as refused:
        await ws.login_telegram(raw)
    assert refused.value.reason == "replayed"


async def test_the_same_init_data_again_with_its_own_live_session_keeps_that_session() -> None:
    """Telegram Web's "Reload Page" opens the Mini App's first address again, initData
    and all: the browser that signed in with it (its cookie) keeps its session; no new
    session is opened, and without that cookie, or with another learner's, it is a
    replay."""
    env = Env()
    ws = workspace(env)
    raw = init_data(env, ZED)
    first = await ws.login_telegram(raw)
    again = await ws.login_telegram(raw, cookie=first.cookie)
    assert (again.cookie, again.csrf, again.scope) == (first.cookie, first.csrf, ANY)
    assert again.expires_at == first.expires_at and again.name == "Zed"
    assert len(env.db.store.web_sessions) == 1
    other = await ws.login_telegram(init_data(env, ADA, query_id="qa"))
    for cookie in ("", other.cookie, "no such cookie"):
        with pytest.raises(LoginRefused) as refused:
            await ws.login_telegram(raw, cookie=cookie)
        assert refused.value.reason == "replayed"
    link = await ws.link(ZED, "stats")  # Zed's, but scoped to one page: not this one
    scoped = await ws.login_link(link.split("#link=", 1)[1])
    with pytest.raises(LoginRefused):
        await ws.login_telegram(raw, cookie=scoped.cookie)


async def test_a_forged_or_expired_init_data_is_refused() -> None:
    env = Env()
    ws = workspace(env)
    with pytest.raises(LoginRefused) as forged:
        await ws.login_telegram(init_data(env, ZED, token="999:OTHER"))
    assert forged.value.reason == "forged"
    raw = init_data(env, ZED)
    env.clock.advance(timedelta(minutes=11))
    with pytest.raises(LoginRefused) as expired:
        await ws.login_telegram(raw)
    assert expired.value.reason == "expired"
    assert env.db.learner("telegram", "77") is None  # nobody enrolled by a refusal


async def test_without_a_telegram_token_no_mini_app_login_is_taken() -> None:
    env = Env()
    ws = workspace(env, telegram=None)
    with pytest.raises(LoginRefused):
        await ws.login_telegram(init_data(env, ZED))


async def test_a_link_opens_a_session_for_its_learner_and_purpose_once() -> None:
    env = Env()
    ws = workspace(env)
    who = Who("discord", "555", "Dee")
    url = await ws.link(who, "stats")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "study.example.org", "/app")
    assert parse_qs(parts.query) == {"open": ["stats"]}
    assert parts.fragment.startswith("link=")
    token = parts.fragment.removeprefix("link=")
    login = await ws.login_link(token)
    assert (login.name, login.scope) == ("Dee", "stats")
    learner = env.db.learner("discord", "555")
    session = await ws.session(login.cookie)
    assert learner is not None and session is not None and session.learner_id == learner.id
    with pytest.raises(LoginRefused) as again:
        await ws.login_link(token)
    assert again.value.reason == "replayed"


async def test_a_link_expires() -> None:
    env = Env()
    ws = workspace(env)
    url = await ws.link(ZED, "review")
    env.clock.advance(timedelta(minutes=15))
    with pytest.raises(LoginRefused) as expired:
        await ws.login_link(url.split("#link=")[1])
    assert expired.value.reason == "expired"


async def test_a_link_for_an_unknown_purpose_is_not_made() -> None:
    ws = workspace(Env())
    with pytest.raises(ValueError):
        await ws.link(ZED, "settings")


async def test_a_session_ends_after_its_hours() -> None:
    env = Env()
    ws = workspace(env)
    login = await ws.login_telegram(init_data(env, ZED))
    env.clock.advance(timedelta(hours=12, seconds=1))
    assert await ws.session(login.cookie) is None
    assert await ws.session("") is None
    assert await ws.session("not-a-cookie") is None


# --------------------------------------------------------------------------- challenge


async def test_only_a_member_of_the_run_sees_its_page() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    ben = await telegram_session(env, ws, BEN)
    page = await ws.challenge(ben, run)
    assert page is not None
    assert (page.run.token, page.run.title, page.run.state) == (
        run,
        "Derive the quadratic formula",
        "open",
    )
    assert page.run.prompt.startswith("Solve ax^2")
    assert page.run.deadline == env.run().deadline
    assert page.submission.submitted_at is None and page.grading is None
    cat = await telegram_session(env, ws, CAT)  # in the group, but did not join
    assert await ws.challenge(cat, run) is None
    assert await ws.challenge(ben, "nosuchrun0000") is None


async def test_a_link_session_reaches_only_its_purpose() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    for_run = await link_session(ws, BEN, challenge_purpose(run))
    assert await ws.challenge(for_run, run) is not None
    with pytest.raises(OutOfScope):
        await ws.review(for_run)
    with pytest.raises(OutOfScope):
        await ws.stats(for_run)
    with pytest.raises(OutOfScope):
        await ws.challenge(for_run, "otherrun00000")
    for_review = await link_session(ws, BEN, "review")
    for call in (
        ws.challenge(for_review, run),
        ws.save_draft(for_review, run, "x"),
        ws.answer(for_review, run, "x"),
        ws.photo(for_review, run, PNG),
        ws.assess(for_review, run, [3], []),
        ws.share(for_review, run),
    ):
        with pytest.raises(OutOfScope):
            await call


async def test_a_draft_is_kept_and_read_back_and_bounded() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    ben = await telegram_session(env, ws, BEN)
    saved = await ws.save_draft(ben, run, "$x^2$ so far")
    assert saved == env.clock.now()
    page = await ws.challenge(ben, run)
    assert page is not None and page.draft is not None
    assert (page.draft.text, page.draft.updated_at) == ("$x^2$ so far", saved)
    with pytest.raises(BadRequest):
        await ws.save_draft(ben, run, "x" * 20_001)
    cat = await telegram_session(env, ws, CAT)
    assert await ws.save_draft(cat, run, "mine") is None


async def test_an_answer_goes_down_the_chat_path() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    ben = await telegram_session(env, ws, BEN)
    outcome = await ws.answer(ben, run, "Complete the square: $x = ...$")
    assert outcome is not None and outcome.replies[0].text.startswith("Got your answer")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.text == "Complete the square: $x = ...$"
    page = await ws.challenge(ben, run)
    assert page is not None and page.submission.submitted_at == env.clock.now()
    assert page.draft is None  # nothing was drafted; a draft would be kept
    cat = await telegram_session(env, ws, CAT)
    assert await ws.answer(cat, run, "not a member") is None


async def test_a_photo_answer_is_stored_with_the_submission() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    ben = await telegram_session(env, ws, BEN)
    outcome = await ws.photo(ben, run, PNG)
    assert outcome is not None and outcome.replies[0].text.startswith("Got your answer")
    run_id = env.run().id
    sub = await env.sub(BEN, run_id)
    assert sub is not None and sub.photo_ref is not None
    stored = env.db.run_sync(lambda tx: tx.challenges.photo(run_id, sub.learner_id))
    assert stored is not None and stored.data == PNG
    refused = await ws.photo(ben, run, b"not an image")
    assert refused is not None and "couldn't read that as a picture" in refused.replies[0].text


async def test_after_the_reveal_the_member_grades_and_the_cards_move() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN, CAT)
    ben = await telegram_session(env, ws, BEN)
    cat = await telegram_session(env, ws, CAT)
    await ws.answer(ben, run, "<script>alert(1)</script> Ben's")
    await ws.answer(cat, run, "Cat's")
    await env.reveal_at_deadline()
    page = await ws.challenge(ben, run)
    assert page is not None and page.run.state == "revealed"
    grading = page.grading
    assert grading is not None
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and grading.token == sub.token
    assert grading.reference.startswith("x = (-b")
    assert grading.checkpoints == ("Divide by a", "Complete the square", "Take the square root")
    assert grading.rows == ("Completing the square", "The discriminant")
    assert grading.grades == (None, None) and not grading.assessed
    assert grading.answer == "<script>alert(1)</script> Ben's"
    assert page.others == ()  # Cat has not shared hers
    shared = await ws.share(cat, run)
    assert shared is not None and shared.notice == "Shared with the group."
    page = await ws.challenge(ben, run)
    assert page is not None and [(o.name, o.text) for o in page.others] == [("Cat", "Cat's")]
    outcome = await ws.assess(ben, run, [3, 1], [0, 2])
    assert outcome is not None and outcome.notice == "Applied to your cards."
    ben_id = await env.lid(BEN)
    challenge_reviews = [e for e in env.db.reviews(ben_id) if e.source == ReviewSource.CHALLENGE]
    assert {(e.card_id, e.rating) for e in challenge_reviews} == {
        ("c1", 3),
        ("c2", 1),
        ("c3", 1),
    }
    page = await ws.challenge(ben, run)
    assert page is not None and page.grading is not None
    assert page.grading.assessed and page.grading.grades == (3, 1)
    assert page.grading.checks == (0, 2)


async def test_grading_waits_for_the_reveal() -> None:
    env = Env()
    ws = workspace(env)
    run = await started(env, BEN)
    ben = await telegram_session(env, ws, BEN)
    await ws.answer(ben, run, "mine")
    outcome = await ws.assess(ben, run, [3, 3], [])
    assert outcome is not None and outcome.notice.startswith("This button has expired")
    assert not [e for e in env.db.reviews() if e.source == ReviewSource.CHALLENGE]


# --------------------------------------------------------------------------- review, stats


async def test_review_shows_a_card_and_takes_its_buttons_only() -> None:
    env = Env()
    ws = workspace(env)
    ben = await telegram_session(env, ws, BEN)
    shown = await ws.review(ben)
    front = shown.replies[0]
    assert front.kind == "front" and front.card is not None
    back = await ws.press(ben, button(front, "Show answer").payload)
    assert back.edit is not None and back.edit.card is not None and back.edit.card.back
    rated = await ws.press(ben, button(back.edit, "Good").payload)
    assert rated.close is not None and rated.close.startswith("Good")
    assert len(env.db.reviews(await env.lid(BEN))) == 1
    with pytest.raises(BadRequest):
        await ws.press(ben, "j:t0000001")


async def test_a_session_acts_as_its_own_learner_only() -> None:
    env = Env()
    ws = workspace(env)
    ben = await telegram_session(env, ws, BEN)
    ada = await telegram_session(env, ws, ADA)
    front = (await ws.review(ben)).replies[0]
    # Ada's session presses Ben's button: it names Ben's prompt, not hers.
    stolen = await ws.press(ada, button(front, "Show answer").payload)
    assert stolen.notice.startswith("This button has expired") and stolen.edit is None


async def test_the_stats_page_holds_the_learners_series() -> None:
    env = Env()
    ws = workspace(env)
    ben = await telegram_session(env, ws, BEN)
    front = (await ws.review(ben)).replies[0]
    back = await ws.press(ben, button(front, "Show answer").payload)
    assert back.edit is not None
    env.clock.advance(timedelta(seconds=8))
    await ws.press(ben, button(back.edit, "Good").payload)
    page = await ws.stats(ben)
    assert page.target == 0.9
    assert len(page.forecast) == 30 and page.forecast[0][0] == env.clock.now().date()
    assert sum(n for _day, n in page.forecast) >= 1  # the card rated comes back
    assert len(page.retention) == 12 and len(page.workload) == 30
    assert page.workload[-1].reviews == 1 and page.workload[-1].seconds == 8
    assert page.calibration == ()  # no review a day after another yet


async def test_signed_in_names_the_sessions_learner() -> None:
    env = Env()
    ws = workspace(env)
    login = await ws.login_telegram(init_data(env, ZED))
    found = await ws.signed_in(login.cookie)
    assert found is not None and found[1] == "Zed" and found[0].csrf == login.csrf
    assert await ws.signed_in("") is None
    assert await ws.signed_in("nobody") is None


async def test_a_replay_is_refused_as_long_as_the_data_would_pass_the_age_check() -> None:
    env = Env()
    ws = workspace(env)
    # Signed a little in the future (another clock): valid until 10 minutes after that.
    ahead = env.clock.now() + timedelta(seconds=50)
    user = json.dumps({"id": 77, "first_name": "Zed"})
    raw = sign_init_data(TOKEN, {"auth_date": str(int(ahead.timestamp())), "user": user})
    await ws.login_telegram(raw)
    assert list(env.db.store.web_once.values()) == [ahead + timedelta(minutes=10)]
    env.clock.set(ahead + timedelta(minutes=9, seconds=59))  # still within its age
    with pytest.raises(LoginRefused) as replayed:
        await ws.login_telegram(raw)
    assert replayed.value.reason == "replayed"
