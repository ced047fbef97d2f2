"""The fake Discord's rules for Components V2 messages: it refuses what Discord refuses."""

from __future__ import annotations

import pytest

from tests.e2e.discord.discord_fakes import IS_COMPONENTS_V2, V2_TEXT_MAX, composed_problems


def _text(content: str) -> dict[str, object]:
    return {"type": 10, "content": content}


def _row(*ids: str) -> dict[str, object]:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": i, "custom_id": i} for i in ids],
    }


V2 = IS_COMPONENTS_V2


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"flags": V2, "components": [_text("a")], "content": "x"}, "content alongside"),
        ({"flags": V2, "components": [_text("a")], "embeds": [{"title": "t"}]}, "embeds alongside"),
        ({"flags": V2, "components": []}, "empty message"),
        ({"flags": 0, "components": [_text("a")]}, "without the IS_COMPONENTS_V2 flag"),
        (
            {
                "flags": V2,
                "components": [
                    {"type": 17, "components": [{"type": 17, "components": [_text("a")]}]}
                ],
            },
            "type 17 in a container",
        ),
        (
            {"flags": V2, "components": [{"type": 2, "custom_id": "b", "label": "b"}]},
            "type 2 at the top level",
        ),
        ({"flags": V2, "components": [_text("a")] * 41}, "41 components"),
        ({"flags": V2, "components": [_text("a" * 2001), _text("b" * 2000)]}, "4001 characters"),
        ({"flags": V2, "components": [{"type": 12, "items": []}]}, "media gallery of 0 items"),
        (
            {
                "flags": V2,
                "components": [{"type": 12, "items": [{"media": {"url": "attachment://x.png"}}]}],
            },
            "names no attachment",
        ),
        (
            {
                "flags": V2,
                "components": [{"type": 9, "components": [_text("a")], "accessory": _text("b")}],
            },
            "accessory",
        ),
        (
            {"flags": V2, "components": [_row("1", "2", "3", "4", "5", "6")]},
            "6 components in a row",
        ),
    ],
)
def test_the_fake_refuses_what_discord_refuses(body: dict[str, object], problem: str) -> None:
    problems = composed_problems(body)
    assert any(problem in p for p in problems), problems


def test_the_fake_takes_a_card_as_the_bot_composes_it() -> None:
    body = {
        "flags": V2,
        "components": [
            _text("Good: see it again in 10m."),
            {
                "type": 17,
                "components": [
                    _text("### Deck · Title\nFront"),
                    {"type": 12, "items": [{"media": {"url": "attachment://p.png"}}]},
                    {"type": 14, "divider": True, "spacing": 1},
                    {
                        "type": 9,
                        "components": [_text("a")],
                        "accessory": {"type": 11, "media": {"url": "https://x.example/a.png"}},
                    },
                    _row("a", "b", "c", "d", "e"),
                ],
            },
        ],
    }
    assert composed_problems(body, ["p.png"]) == []
    assert composed_problems({**body, "components": [_text("x" * V2_TEXT_MAX)]}) == []


async def test_the_fake_fails_as_discord_does_past_the_processed_size() -> None:
    """4,000 characters of CJK pass the documented limit but not Discord's processing."""
    import discord

    from tests.e2e.discord.discord_fakes import FakeDiscord

    fake = FakeDiscord()
    body = {"flags": IS_COMPONENTS_V2, "components": [{"type": 10, "content": "漢" * 4000}]}
    assert composed_problems(body) == []
    with pytest.raises(discord.HTTPException) as refused:
        fake._check_composed(body, [], [])
    assert refused.value.status == 500
    fake._check_composed({**body, "components": [{"type": 10, "content": "é" * 4000}]}, [], [])
