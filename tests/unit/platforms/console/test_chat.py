"""Tests for bot.platforms.console.chat: the console over the core services and in-memory fakes.

The console renders outcomes and binds keys by what a button does (``Button.action``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from bot.core import importing
from bot.core.actions import Action
from bot.core.ankifile import AnkiCollection
from bot.core.decks import Deck
from bot.core.importing import ImportPlan
from bot.core.learners import Who
from bot.core.messages import Button, CardView, Reply
from bot.core.model import CardImage, Learner
from bot.core.ports import Tx
from bot.deckfiles import load_decks
from bot.platforms.console.chat import HELP, ConsoleChat, format_reply
from bot.text.terminal import Terminal
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.fakes.imports import FakeReader, plan, planned_deck
from tests.services import build_services

T = TypeVar("T")

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[3] / "data"
ME = Who("console", "local", "Me")


def decks() -> list[Deck]:
    return [
        make_deck(
            "attention",
            [
                make_card("a1", mnemonic="Q asks, K answers"),
                make_card("a2", tags=["softmax"], notes="Scaled by sqrt(d)."),
            ],
            title="Attention",
        ),
        make_deck("transformers", ["t1"], title="Transformers"),
    ]


class Harness:
    def __init__(self, db: FakeDatabase | None = None) -> None:
        self.clock = FixedClock(START)
        self.db = db or FakeDatabase(decks(), now=START - timedelta(days=1))
        self.services = build_services(self.db, self.clock)
        self.out: list[str] = []
        # No wrapping: these tests read what is said; wrapping is tested on its own.
        self.chat = ConsoleChat(
            self.services.study,
            self.services.inputs,
            ME,
            write=self.out.append,
            terminal=lambda: Terminal(width=None),
        )

    async def say(self, line: str) -> str:
        """Send one line; returns what the chat wrote for it."""
        start = len(self.out)
        keep_going = await self.chat.handle(line)
        assert keep_going, line
        return "\n".join(self.out[start:])


@pytest.fixture
def h() -> Harness:
    return Harness()


async def test_review_shows_front_with_keys(h: Harness) -> None:
    text = await h.say("/review")
    assert "Attention · Title of a1" in text
    assert "  Front of a1" in text
    assert "Back of a1" not in text
    assert "[Enter] Show answer   [/bury] Bury until tomorrow   [/suspend] Suspend" in text


async def test_enter_reveals_and_shows_rating_keys(h: Harness) -> None:
    await h.say("/review")
    text = await h.say("")
    assert "Answer:\n  Back of a1" in text
    assert "Mnemonic: Q asks, K answers" in text
    assert "Your answer" not in text
    assert "[1] Again 1m   [2] Hard 6m   [3] Good 10m   [4] Easy 8d" in text


async def test_rating_with_a_number_records_it_and_shows_the_next_card(h: Harness) -> None:
    await h.say("/review")
    await h.say("")
    text = await h.say("3")
    assert "Good: see it again in 10m, or sooner if nothing else is due." in text
    assert "Front of a2" in text
    (entry,) = h.db.reviews()
    assert entry.card_id == "a1"
    assert entry.rating == 3
    assert entry.source == "console"


async def test_typed_answer_is_shown_beside_the_back(h: Harness) -> None:
    await h.say("/review")
    text = await h.say("queries times keys")
    assert "Your answer:\n  queries times keys" in text
    assert "Answer:\n  Back of a1" in text
    assert text.index("Your answer:") < text.index("Answer:\n  Back")
    await h.say("4")
    (entry,) = h.db.reviews()
    assert entry.typed_answer == "queries times keys"


async def test_reveal_command(h: Harness) -> None:
    await h.say("/review")
    text = await h.say("/reveal")
    assert "Answer:\n  Back of a1" in text


async def test_reveal_with_no_card(h: Harness) -> None:
    assert await h.say("/reveal") == "There is no card to reveal. Send /review."


async def test_bury_and_suspend_need_a_card(h: Harness) -> None:
    assert await h.say("/bury") == "Show a card first with /review."
    assert await h.say("/suspend") == "Show a card first with /review."


async def test_out_of_range_key_on_a_back_asks_to_rate(h: Harness) -> None:
    await h.say("/review")
    await h.say("")
    assert await h.say("7") == "Rate the card: 1 Again, 2 Hard, 3 Good, 4 Easy."
    assert await h.say("good") == "Rate the card: 1 Again, 2 Hard, 3 Good, 4 Easy."
    assert not h.db.reviews()
    # The back is still current: a valid key still rates it.
    assert "Again: see it again in 1m, or sooner if nothing else is due." in await h.say("1")


async def test_undo(h: Harness) -> None:
    await h.say("/review")
    await h.say("")
    await h.say("3")
    text = await h.say("/undo")
    assert "Undid Good on “Title of a1”." in text
    assert "Front of a1" in text
    assert all(e.undone_at is not None for e in h.db.reviews())
    assert await h.say("/undo") == "There is nothing to undo."


async def test_stats(h: Harness) -> None:
    await h.say("/review")
    await h.say("")
    await h.say("4")
    text = await h.say("/stats")
    assert "Due today: 0" in text
    assert "Reviewed today: 1" in text
    assert "Streak: 1 day" in text
    assert "True retention, last 30 days: no mature reviews yet (target 90%)" in text
    assert "Young cards (interval under 21 days): no reviews of young cards yet" in text
    assert "Predicted vs actual recall: I need at least 50 reviews" in text


async def test_settings_retention_shows_the_table_and_the_suggestion(h: Harness) -> None:
    text = await h.say("/settings retention")
    assert "What each desired retention costs" in text
    assert "retention: reviews a day · minutes a day · minutes per card remembered" in text
    assert "75%: " in text and "97%: " in text and "90%: " in text
    assert "← yours" in text and "lowest cost per card" in text
    assert "Suggestion: " in text and "only a suggestion" in text
    assert "cannot start from what you already know" in text
    # With a value it sets the retention, as before.
    saved = await h.say("/settings retention 0.85")
    assert saved.startswith("Saved.") and "retention: 0.85" in saved
    assert "85%: " in (await h.say("/settings retention")).split("← yours")[0].splitlines()[-1]


async def test_settings_show_and_change(h: Harness) -> None:
    shown = await h.say("/settings")
    assert "timezone: UTC" in shown
    text = await h.say("/settings timezone Europe/Paris")
    assert text.startswith("Saved.")
    assert "timezone: Europe/Paris" in text
    learner = h.db.learner("console", "local")
    assert learner is not None and learner.settings.timezone == "Europe/Paris"


async def test_settings_bad_timezone_is_a_friendly_error(h: Harness) -> None:
    await h.say("/settings timezone Europe/Paris")
    text = await h.say("/settings timezone Nowhere/Bad")
    assert "“Nowhere/Bad” is not a time zone I know." in text
    assert "Europe/Paris or America/New_York" in text
    learner = h.db.learner("console", "local")
    assert learner is not None and learner.settings.timezone == "Europe/Paris"


async def test_easy_days_are_set_from_the_console(h: Harness) -> None:
    text = await h.say("/settings easy days sat 50% sun 0%")
    assert text.startswith("Saved.") and "easy_days: sat 50%, sun 0%" in text
    learner = h.db.learner("console", "local")
    assert learner is not None
    assert learner.settings.easy_days == (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0)
    error = await h.say("/settings easy_days someday 50%")
    assert "“someday” is not a weekday or a share." in error


async def test_settings_usage(h: Harness) -> None:
    text = await h.say("/settings timezone")
    assert text.startswith("Usage: /settings KEY VALUE")


async def test_decks_list_and_topics(h: Harness) -> None:
    text = await h.say("/decks")
    assert "• Attention (attention): 2 cards" in text
    assert "• Transformers (transformers): 1 card" in text
    assert "You study: all decks." in text
    assert await h.say("/decks transformers") == "Studying transformers."
    assert "Front of t1" in await h.say("/review")
    error = await h.say("/decks nowhere")
    assert error.startswith("I don't know nowhere.")


async def test_unknown_command(h: Harness) -> None:
    assert await h.say("/frobnicate now") == (
        "I don't know /frobnicate. Send /help for the commands."
    )


async def test_help(h: Harness) -> None:
    assert await h.say("/help") == HELP


async def test_plain_text_without_a_card(h: Harness) -> None:
    assert await h.say("hello") == "Send /review to study, or /help for the commands."
    assert await h.say("") == ""
    assert await h.say("   ") == ""


@pytest.mark.parametrize("command", ["/quit", "/exit", "/q", "  /quit  "])
async def test_quit_returns_false(h: Harness, command: str) -> None:
    assert await h.chat.handle(command) is False


async def test_bury_suspend_unsuspend(h: Harness) -> None:
    await h.say("/review")
    text = await h.say("/bury")
    assert "Buried until tomorrow." in text
    assert "Front of a2" in text
    text = await h.say("/suspend")
    assert "Suspended. Send /unsuspend" in text
    assert "Front of t1" in text
    assert await h.say("/unsuspend") == "Brought back 1 suspended card."


async def test_unbalanced_quotes_still_parse(h: Harness) -> None:
    text = await h.say("/decks 'attention")
    assert "I don't know 'attention." in text


async def test_done_for_today(h: Harness) -> None:
    await h.say("/decks transformers")
    await h.say("/review")
    await h.say("")
    await h.say("4")
    text = await h.say("/review")
    assert "Done for today: 1 review (1 new)." in text
    assert await h.say("") == ""  # nothing shown, Enter does nothing


async def test_an_error_in_the_core_is_reported_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class BrokenDatabase(FakeDatabase):
        async def run(self, work: Callable[[Tx], T]) -> T:  # type: ignore[override]
            raise RuntimeError("disk on fire")

    h = Harness(BrokenDatabase(decks(), now=START))
    with caplog.at_level(logging.ERROR, logger="bot.platforms.console.chat"):
        text = await h.say("/review")
    assert text == "Sorry, something went wrong there; your progress is safe. Try again."
    assert any("console command failed" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- format_reply


def test_format_reply_rating_buttons() -> None:
    ratings = tuple(
        Button(label, Action("rate", "t0000001", i).encode(), "rate")
        for i, label in enumerate(["Again 1m", "Hard 6m", "Good 10m", "Easy 8d"], start=1)
    )
    card = CardView("c1", "Deck", "Title", "The front", back="The back", notes="A note")
    text = format_reply(Reply("back", card=card, buttons=(ratings,)))
    assert "[1] Again 1m   [2] Hard 6m   [3] Good 10m   [4] Easy 8d" in text
    assert "Deck · Title" in text
    assert "  The front" in text
    assert "Answer:\n  The back" in text
    assert "Notes:\n  A note" in text


def test_format_reply_front_keys_and_image() -> None:
    buttons = (
        (Button("Show answer", "s:t0000001", "reveal"),),
        (
            Button("Bury until tomorrow", "b:t0000001", "bury"),
            Button("Suspend", "x:t0000001", "suspend"),
        ),
    )
    image = CardImage("shape", "X[n,d] @ W[?,?] -> Y[n,d]; n=3, d=2")
    card = CardView("c1", "Deck", "Title", "Front", front_image=image)
    text = format_reply(Reply("front", card=card, buttons=buttons))
    assert "  Shapes: X [n×d] · W [?×?] → Y [n×d]\n  Front" in text
    assert "[Enter] Show answer   [/bury] Bury until tomorrow   [/suspend] Suspend" in text


def test_format_reply_shows_each_sides_image_with_its_side() -> None:
    """The front's image above the question; the back's under "Answer:", and never the
    front's with the back (a back view does not carry it)."""
    front = CardImage("formula", r"\mathrm{Attention}(Q,K,V) = ?")
    back = CardImage("shape", "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]")
    asked = CardView("c1", "Deck", "Title", "Write it.", front_image=front)
    text = format_reply(Reply("front", card=asked))
    assert "  Formula: Attention(Q,K,V) = ?\n  Write it." in text and "Shapes" not in text
    answered = CardView("c1", "Deck", "Title", "Write it.", back="This.", back_image=back)
    text = format_reply(Reply("back", card=answered))
    assert "Answer:\n  Shapes: Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]\n  This." in text
    assert "Formula" not in text


def test_format_reply_names_the_image_file_under_the_card() -> None:
    image = CardImage("formula", r"a \cdot b = ?")
    card = CardView("c1", "Deck", "Title", "Front", front_image=image)
    text = format_reply(Reply("front", card=card), image_path=Path("out/c1.front.png"))
    assert "  Formula: a · b = ?\n  Image file: out/c1.front.png\n  Front" in text


def test_an_imported_image_is_its_file_name_without_a_label() -> None:
    image = CardImage("media", "4/mitochondrion.jpg")
    card = CardView("c1", "Deck", "Title", "Front", front_image=image)
    text = format_reply(Reply("front", card=card), image_path=Path("out/c1.front.jpg"))
    assert "  [image: mitochondrion.jpg]\n  Image file: out/c1.front.jpg\n  Front" in text


def test_the_card_id_is_a_footer_under_the_card() -> None:
    card = CardView("att-scaled-dot-product", "Deck", "Title", "Front")
    lines = format_reply(Reply("front", card=card)).splitlines()
    assert lines[-2].strip() == "att-scaled-dot-product"
    assert lines[-1].startswith("────") and lines[0] == lines[-1]
    assert lines[-2].endswith("att-scaled-dot-product") and len(lines[-2]) == len(lines[-1])


def test_card_text_is_markdown_for_a_terminal() -> None:
    """Hard-wrapped deck text is joined and wrapped to the width; math becomes Unicode;
    emphasis markers go when there is no colour."""
    card = CardView(
        "c1",
        "Deck",
        "Title",
        "What do $a$ and $b$ agree\non?",
        back=r"The **dot product** $a \cdot b = \sum_i a_i b_i$, *one* `number`.",
    )
    text = format_reply(Reply("back", card=card), Terminal(width=40))
    assert "  What do a and b agree on?" in text
    assert "  The dot product a · b = Σ_i a_i b_i,\n  one number." in text
    assert all(len(line) <= 40 for line in text.splitlines())


def test_a_long_mnemonic_wraps_under_its_label() -> None:
    mnemonic = "Dot: do these two agree? " * 4
    card = CardView("c1", "Deck", "Title", "Front", back="Back", mnemonic=mnemonic)
    text = format_reply(Reply("back", card=card), Terminal(width=40))
    start = text.index("Mnemonic:")
    lines = text[start:].splitlines()[:3]
    assert lines == [
        "Mnemonic: Dot: do these two agree? Dot:",
        "  do these two agree? Dot: do these two",
        "  agree? Dot: do these two agree?",
    ]


def test_a_terminal_with_colour_styles_the_card() -> None:
    card = CardView("c1", "Deck", "Title", "Front", back="The **dot product**.")
    text = format_reply(Reply("back", card=card), Terminal(width=80, colour=True))
    assert "\x1b[1mdot product\x1b[0m" in text
    assert "\x1b[1mTitle\x1b[0m" in text and "\x1b[1mAnswer:\x1b[0m" in text
    assert "\x1b[2mc1\x1b[0m" in text  # the footer, dim


def test_keys_wrap_between_keys_never_inside_one() -> None:
    ratings = tuple(
        Button(label, Action("rate", "t0000001", i).encode(), "rate")
        for i, label in enumerate(["Again 1m", "Hard 6m", "Good 10m", "Easy 8d"], start=1)
    )
    text = format_reply(Reply("back", buttons=(ratings,)), Terminal(width=30))
    assert text.splitlines() == ["[1] Again 1m   [2] Hard 6m", "[3] Good 10m   [4] Easy 8d"]


async def test_each_side_of_a_card_shows_its_own_image() -> None:
    """The question's image line comes before the reveal, the answer's after it (and
    the question's is not repeated with the back)."""
    sides = load_decks([DATA / "image_sides"])
    assert sides.ok, sides.errors
    h = Harness(FakeDatabase(list(sides.decks), now=START - timedelta(days=1)))
    asked = "Shapes: Q [n×d_k] · Kᵀ [?×?] → S [?×?]"
    shown = "Shapes: Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]"

    front = await h.say("/review")
    assert f"  {asked}\n  Fill in the shapes" in front and shown not in front
    back = await h.say("")
    assert f"Answer:\n  {shown}\n  Kᵀ is" in back and asked not in back

    front = await h.say("3")
    assert "  Formula: Attention(Q,K,V) = ?" in front
    back = await h.say("")
    assert "Answer:\n  softmax" in back and "Formula" not in back

    front = await h.say("3")
    assert "Shapes" not in front and "key matrix" in front
    back = await h.say("")
    assert "Answer:\n  Shapes: X [n×d_model] · W_K [d_model×d_k] → K [n×d_k]" in back


def test_keys_follow_what_a_button_does_not_its_payload() -> None:
    """A button the console has no key for is not shown, whatever its payload says."""
    buttons = (
        (Button("Show answer", "garbage", "reveal"), Button("Snooze", "s:t0000001", "snooze")),
    )
    text = format_reply(Reply("front", "A push", buttons=buttons))
    assert text == "A push\n[Enter] Show answer"


def test_format_reply_has_no_keys_for_other_platforms_buttons() -> None:
    snooze = Button("Snooze 1 hour", "z:t0000001", "snooze")
    text = format_reply(Reply("info", "Hi", buttons=((snooze,),)))
    assert "[" not in text


def test_a_question_is_answered_with_yes_and_no() -> None:
    yes, no = Button("Yes", "c:t0000001:1", "confirm"), Button("No", "c:t0000001:0", "confirm")
    text = format_reply(Reply("info", "Sure?", buttons=((yes, no),)))
    assert text == "Sure?\n[/yes] Yes   [/no] No"


async def test_a_rating_shows_its_note_then_the_next_card(h: Harness) -> None:
    """The rated card is closed with the note; the next card follows as its own message."""
    await h.say("/review")
    await h.say("")
    start = len(h.out)
    await h.chat.handle("3")
    note, card = h.out[start:]
    assert note == "Good: see it again in 10m, or sooner if nothing else is due."
    assert "Front of a2" in card and "[Enter] Show answer" in card


async def test_a_stale_key_says_the_notice(h: Harness) -> None:
    await h.say("/review")
    await h.say("")
    await h.say("3")
    h.chat.current = Reply(
        "back", buttons=((Button("Again", Action("rate", "t0000001", 1).encode(), "rate"),),)
    )
    text = await h.say("1")
    assert text == "This button has expired. Send /review to get your current card."


async def test_export_saves_the_csv_and_the_anki_package(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.interop import AnkiExport, AnkiPackage

    h.chat.export_dir = tmp_path
    await h.say("/review")
    await h.say("")
    await h.say("3")
    text = await h.say("/export")
    csv_file = tmp_path / "studybot-reviews.csv"
    assert text == (
        "Your review history (CSV, times in UTC).\n"
        f"Saved to {csv_file} ({csv_file.stat().st_size:,} bytes)."
    )
    assert len(csv_file.read_text(encoding="utf-8").splitlines()) == 2

    built: list[AnkiExport] = []

    def packager(export: AnkiExport) -> AnkiPackage:
        built.append(export)
        return AnkiPackage("studybot.apkg", b"PK-notes", with_scheduling=False)

    h.services.study.anki = packager
    text = await h.say("/export anki")
    assert (tmp_path / "studybot.apkg").read_bytes() == b"PK-notes"
    assert text.startswith("Your Anki package: ") and "notes only" in text
    assert text.endswith(f"Saved to {tmp_path / 'studybot.apkg'} (8 bytes).")
    assert len(built[0].reviews) == 1
    assert (await h.say("/export pdf")).startswith("Usage: /export")


async def test_import_a_file_then_pause_and_remove_its_deck(
    h: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.services.study.reader = reader = FakeReader()

    def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
        # Monkeypatched: a hand-made plan.
        return plan(planned_deck("Spanish", ["s1", "s2"], source_ref="9"))

    monkeypatch.setattr(importing, "plan_import", plan_import)
    assert (await h.say(f"/import {tmp_path / 'nope.apkg'}")) == (
        f"There is no file at {tmp_path / 'nope.apkg'}."
    )
    assert (await h.say(f"/import {tmp_path}")) == f"{tmp_path} is a folder, not a file."
    assert (await h.say("/import")).startswith("Usage: /import PATH")
    package = tmp_path / "my deck.apkg"
    package.write_bytes(b"PK\x03\x04")
    text = await h.say(f'/import "{package}"')
    assert text.startswith("Imported 'Spanish' (u1-spanish): 2 cards (2 new, 0 with history)")
    assert reader.calls[0][:2] == (b"PK\x03\x04", "my deck.apkg")
    assert "• Spanish (u1-spanish): 2 cards" in await h.say("/decks")
    assert (await h.say("/decks pause u1-spanish")).startswith("Paused 'Spanish' (u1-spanish)")
    question = await h.say("/decks remove u1-spanish")
    assert question == (
        "This removes 'Spanish' with its 2 cards and your 0 reviews of them. It cannot be "
        "undone. Remove it?\n[/yes] Yes, remove it   [/no] No, keep it"
    )
    assert (await h.say("/yes")) == (
        "Removed 'Spanish': its 2 cards and your 0 reviews of them are deleted."
    )
    assert (await h.say("/no")) == "There is no question to answer."
    assert "Spanish" not in await h.say("/decks")
