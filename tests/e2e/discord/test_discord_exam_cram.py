"""/exam and /cram through the real discord.py client, against the fake Discord."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e.discord.test_discord import ALICE, CHANNEL, GUILD, only, rate, running


async def test_exam_in_dms_and_in_a_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        none = only(await env.command("exam", ALICE, dm))
        assert none.content.startswith("No exam set. Set one and, until that day,")

        # Bad input gets a friendly reply, and nothing is saved.
        past = only(await env.command("exam", ALICE, dm, date="2026-01-10"))
        assert past.content == "Sat 10 Jan 2026 has passed. Give a date after today (Mon 02 Mar)."
        bad = only(await env.command("exam", ALICE, dm, date="next-ish"))
        assert bad.content.startswith("I couldn't read “next-ish” as a date. Try 2027-01-15,")
        unknown = only(await env.command("exam", ALICE, dm, date="2026-04-01", topic="cooking"))
        assert unknown.content.startswith("I don't know the topic “cooking”. Topics: ")
        assert "similarity" in unknown.content
        target = only(await env.command("exam", ALICE, dm, target="2"))
        assert target.content.startswith("A target is the recall you want on the day, from 70%")
        assert env.rows("SELECT exam_date, exam_topic, exam_target FROM learner_settings") == [
            (None, None, 0.9)
        ]

        # A bad target with a date: neither is saved.
        both = only(await env.command("exam", ALICE, dm, date="1 April", target="2"))
        assert both.content.startswith("A target is the recall you want on the day, from 70%")
        assert env.rows("SELECT exam_date, exam_topic, exam_target FROM learner_settings") == [
            (None, None, 0.9)
        ]

        # Date, topic and target in one command.
        ok = only(
            await env.command("exam", ALICE, dm, date="1 April", topic="similarity", target="85%")
        )
        assert not ok.ephemeral
        assert ok.content.startswith(
            "Exam set: Wed 01 Apr 2026 (in 30 days), covering similarity, target recall 85%."
        )
        assert "• 6 cards not started yet." in ok.content
        assert env.rows("SELECT exam_date, exam_topic, exam_target FROM learner_settings") == [
            ("2026-04-01", "similarity", 0.85)
        ]

        # The topic autocompletes; in a server the answer is only for the person.
        room = env.fake.server(GUILD, CHANNEL)
        await env.send(env.fake.autocomplete("exam", "topic", "simil", ALICE, room))
        assert env.fake.callbacks[-1]["data"]["choices"] == [
            {"name": "similarity", "value": "similarity"}
        ]
        shown = only(await env.command("exam", ALICE, room))
        assert shown.ephemeral and shown.content.startswith("Your exam: Wed 01 Apr 2026")

        off = only(await env.command("exam", ALICE, dm, date="off"))
        assert off.content == "Exam cleared: every card is back on its usual schedule."


async def test_cram_in_dms_leaves_the_schedule_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        # One card studied the normal way first.
        card = only(await env.command("review", ALICE, dm))
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        await rate(env, env.fake.messages[card.id], "Good", ALICE, dm)
        states = env.rows("SELECT * FROM card_states")
        env.clock.advance(timedelta(hours=2))

        card = only(await env.command("cram", ALICE, dm, topic="similarity"))
        assert card.content == (
            "Cram: 6 cards of similarity, lowest recall first. Practice only: your ratings "
            "are logged but your schedule stays as it is. /review goes back to normal study.\n"
            "Cram · card 1 of 6."
        )
        assert [b["label"] for b in card.buttons()] == ["Show answer"]
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert [b["label"] for b in back.buttons()] == ["Again", "Hard", "Good", "Easy"]
        nxt = await rate(env, back, "Again", ALICE, dm)
        assert nxt.content.startswith("Again (practice: the schedule is unchanged).\n")
        assert nxt.content.endswith("Cram · similarity · card 2 of 6.")
        assert env.rows("SELECT * FROM card_states") == states
        assert env.rows("SELECT source FROM review_logs ORDER BY id") == [("dm",), ("cram",)]

        # /review goes back to normal study; /cram is for the DMs.
        again = only(await env.command("review", ALICE, dm))
        labels = [b["label"] for b in again.buttons()]
        assert labels == ["Show answer", "Bury until tomorrow", "Suspend"]  # a normal card
        room = env.fake.server(GUILD, CHANNEL)
        pointer = only(await env.command("cram", ALICE, room))
        assert pointer.ephemeral and pointer.content.startswith("/cram is private")
