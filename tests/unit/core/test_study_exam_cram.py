"""Tests for bot.core.study's /exam and /cram, over the fakes with a fixed clock."""

from __future__ import annotations

from datetime import date, timedelta

from bot.core import exam, srs
from bot.core.actions import Action
from bot.core.model import ReviewSource
from bot.core.study import show_exam
from tests.services import button, only
from tests.unit.core.test_study import (
    ALICE,
    START,
    Env,
    make_env,
    rate_payload,
    reveal,
    review_state,
)


async def exam_reply(env: Env, *args: str) -> tuple[str, str]:
    reply = only(await env.service.exam(ALICE, args))
    return reply.kind, reply.text


# --------------------------------------------------------------------------- /exam


async def test_exam_alone_says_how_to_set_one() -> None:
    env = make_env()
    kind, text = await exam_reply(env)
    assert kind == "info"
    assert text.startswith("No exam set.")
    assert "/exam DATE [TOPIC]" in text and "/exam off" in text


async def test_setting_an_exam_saves_it_and_says_what_it_means() -> None:
    env = make_env()
    kind, text = await exam_reply(env, "2026-04-01", "attention")
    assert kind == "info", text
    assert text.startswith("Exam set: Wed 01 Apr 2026 (in 30 days), covering attention")
    assert "target recall 90%" in text
    assert "Other cards keep their usual schedule" in text
    s = (await env.learner()).settings
    assert (s.exam_date, s.exam_topic, s.exam_target) == (date(2026, 4, 1), "attention", 0.9)

    kind, text = await exam_reply(env, "target", "85%")
    assert kind == "info" and "target recall 85%" in text
    assert (await env.learner()).settings.exam_target == 0.85

    kind, text = await exam_reply(env)
    assert text.startswith("Your exam: Wed 01 Apr 2026 (in 30 days), covering attention")
    assert "No card of it studied yet." in text
    assert "3 cards not started yet." in text

    # "off" clears it, whatever follows (Discord's form sends the topic field too).
    kind, text = await exam_reply(env, "off", "attention")
    assert text == "Exam cleared: every card is back on its usual schedule."
    s = (await env.learner()).settings
    assert s.exam_date is None and s.exam_topic is None
    assert (await exam_reply(env, "off"))[1] == "There is no exam to clear."


async def test_friendly_forms_and_no_topic() -> None:
    env = make_env()
    kind, text = await exam_reply(env, "in", "3", "weeks")
    assert kind == "info", text
    assert "covering every card you study" in text
    assert (await env.learner()).settings.exam_date == date(2026, 3, 23)
    kind, text = await exam_reply(env, "15", "April", "softmax")
    assert kind == "info", text
    s = (await env.learner()).settings
    assert (s.exam_date, s.exam_topic) == (date(2026, 4, 15), "softmax")


async def test_bad_exam_input_is_explained() -> None:
    env = make_env()
    kind, text = await exam_reply(env, "2026-03-01")
    assert kind == "error" and text.startswith("Sun 01 Mar 2026 has passed.")
    kind, text = await exam_reply(env, "someday")
    assert kind == "error"
    assert text.startswith("I couldn't read “someday” as a date. Try 2027-01-15")
    kind, text = await exam_reply(env, "2026-04-01", "cooking")
    assert kind == "error"
    assert (
        text
        == "I don't know the topic “cooking”. Topics: attention, layers, softmax, transformers."
    )
    kind, text = await exam_reply(env, "target", "1.5")
    assert kind == "error" and "from 70% to 99%" in text
    assert (await env.learner()).settings.exam_date is None


async def test_the_exam_shortens_intervals_of_its_cards_only() -> None:
    env = make_env(exam_target=0.97)
    lid = await env.learner_id()
    # Two strong cards due now: one of the exam's topic, one outside it.
    env.seed(review_state(lid, "a1", START - timedelta(hours=1), stability=20.0))
    env.seed(review_state(lid, "t1", START - timedelta(minutes=30), stability=20.0))
    await exam_reply(env, "2026-03-20", "attention")
    last_day = exam.review_days(date(2026, 3, 20), "UTC")[0]

    front = await env.next()
    assert front.card is not None and front.card.card_id == "a1"
    back = await reveal(env, front)
    good = back.all_buttons()[2].label
    outcome = await env.press(ALICE, rate_payload(back, 3))
    due = env.db.state(lid, "a1").due
    # Due at the start of one of the last days before the exam, as its button said.
    assert due is not None and last_day - timedelta(days=exam.SPREAD_DAYS) < due <= last_day
    assert due.time() == last_day.time()
    assert good == f"Good {srs.format_interval(due - START)}"
    assert outcome.close == f"Good: see it again in {srs.format_interval(due - START)}."

    nxt = only(outcome)
    assert nxt.card is not None and nxt.card.card_id == "t1"
    back = await reveal(env, nxt)
    await env.press(ALICE, rate_payload(back, 3))
    due = env.db.state(lid, "t1").due
    assert due is not None and due > last_day + timedelta(days=20)  # its normal interval


async def test_stats_and_exam_show_the_outlook() -> None:
    env = make_env(exam_target=0.95)
    lid = await env.learner_id()
    env.seed(review_state(lid, "a1", START + timedelta(days=2), stability=3.0))
    env.seed(review_state(lid, "a2", START + timedelta(days=40), stability=60.0))
    await exam_reply(env, "2026-03-20", "attention")
    reply = (await env.service.stats(ALICE)).replies[0]
    assert "Exam Fri 20 Mar 2026, attention:" in reply.text
    assert "mean recall on the day" in reply.text and "1 of 2 cards below your target of 95%" in (
        reply.text
    )
    assert "Reviews planned before it: 1" in reply.text
    assert "1 card not started yet." in reply.text
    learner = await env.learner()
    after = env.db.run_sync(lambda tx: show_exam(tx, learner, START + timedelta(days=30)))
    assert after.text.startswith("Your exam on Fri 20 Mar 2026 has passed")


# --------------------------------------------------------------------------- /cram


async def test_cram_leaves_the_schedule_alone() -> None:
    env = make_env()
    lid = await env.learner_id()
    weak = review_state(lid, "a3", START + timedelta(days=5), stability=2.0)
    strong = review_state(lid, "a1", START + timedelta(days=5), stability=50.0)
    env.seed(weak)
    env.seed(strong)
    before = env.db.snapshot().states

    front = only(await env.service.cram(ALICE, "attention"))
    assert front.kind == "front"
    assert front.text.startswith("Cram: 3 cards of attention, lowest recall first.")
    assert "Cram · card 1 of 3." in front.text
    assert front.card is not None and front.card.card_id == "a3"  # the lowest recall
    assert [b.label for b in front.all_buttons()] == ["Show answer"]
    back = await reveal(env, front)
    assert [b.label for b in back.all_buttons()] == ["Again", "Hard", "Good", "Easy"]
    outcome = await env.press(ALICE, rate_payload(back, 1))
    assert outcome.close == "Again (practice: the schedule is unchanged)."
    nxt = only(outcome)
    assert nxt.card is not None and nxt.card.card_id == "a1"
    assert nxt.text == "Cram · attention · card 2 of 3."

    assert env.db.snapshot().states == before  # every card_states row as it was
    (entry,) = env.db.reviews(lid)
    assert entry.source == ReviewSource.CRAM and entry.card_id == "a3" and entry.rating == 1
    assert entry.before == weak
    # The log keeps these of the state after (reps is read back as before's + 1).
    kept = ("state", "step", "stability", "difficulty", "due", "last_review", "lapses")
    assert [getattr(entry.after, f) for f in kept] == [getattr(weak, f) for f in kept]
    # Practice counts in no daily limit.
    counts = env.db.run_sync(lambda tx: tx.reviews.counts_since(lid, START - timedelta(days=1)))
    assert counts == (0, 0)

    # Undo of a practice rating does not damage the card.
    env.clock.advance(timedelta(seconds=5))
    undone = only(await env.service.undo(ALICE))
    assert undone.text.startswith("Undid Again on")
    assert undone.text.endswith(
        "it was practice, so your schedule is as it was. Send /cram to go on practising."
    )
    assert undone.card is None and undone.buttons == ()  # nothing to rate as a real review
    assert env.db.snapshot().states == before
    # The practice card on screen can be neither buried nor suspended.
    token = nxt.buttons[0][0].payload.split(":", 1)[1]
    for action in ("bury", "suspend"):
        pressed = await env.press(ALICE, Action(action, token).encode())
        assert pressed.notice.startswith("This button has expired")
    assert env.db.snapshot().states == before


async def test_cram_without_topic_and_bad_topic() -> None:
    env = make_env(topics=("transformers",))
    front = only(await env.service.cram(ALICE))
    assert front.text.startswith("Cram: 2 cards of transformers, lowest recall first.")
    reply = only(await env.service.cram(ALICE, "cooking"))
    assert reply.kind == "error"
    assert reply.text.startswith("I don't know the topic “cooking”.")


async def test_cram_goes_round_again_after_every_card() -> None:
    env = make_env()
    front = only(await env.service.cram(ALICE, "softmax"))
    seen = []
    for _ in range(3):
        assert front.card is not None
        seen.append((front.card.card_id, front.text.splitlines()[-1]))
        back = await reveal(env, front)
        front = only(await env.press(ALICE, rate_payload(back, 3)))
    assert seen == [
        ("a2", "Cram · card 1 of 2."),
        ("t2", "Cram · softmax · card 2 of 2."),
        ("a2", "Cram · softmax · all 2 cards crammed today; going round again."),
    ]
    assert button(front, "Show answer")
