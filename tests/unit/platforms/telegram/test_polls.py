"""Tests for bot.platforms.telegram.polls: the explanation Telegram gets."""

from __future__ import annotations

from bot.core.choices import EXPLANATION_LIMIT, QuizPoll
from bot.platforms.telegram.polls import BACK_LINK_TEXT, explanation_html
from bot.text.split import utf16_len
from tests.e2e.telegram.fake import parse_html

LINK = "https://t.me/studybot_test_bot?start=qa_abcdefghijklmnop"


def poll(explanation: str) -> QuizPoll:
    return QuizPoll("t", "Q?", ("a", "b"), 0, explanation, "intro", False, "qa_t")


def test_the_explanation_ends_with_the_link_to_the_full_back() -> None:
    text, entities = parse_html(explanation_html(poll("Answer: a < b & c."), LINK))
    assert text == f"Answer: a < b & c. {BACK_LINK_TEXT}"
    assert entities == [
        {"type": "text_link", "offset": 19, "length": len(BACK_LINK_TEXT), "url": LINK}
    ]


def test_a_long_explanation_is_cut_to_fit_telegrams_limit_with_its_link() -> None:
    text, entities = parse_html(explanation_html(poll("Answer: " + "√d_k " * 80), LINK))
    assert utf16_len(text) <= EXPLANATION_LIMIT
    assert text.endswith("… " + BACK_LINK_TEXT) and entities[-1]["url"] == LINK
