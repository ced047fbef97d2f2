"""The typed settings form (a modal) is read from its custom id: it is accepted after a
restart and after discord.py's 15 minutes, and one that has truly expired is answered
so, with the button that opens it again. Over the fake Discord, as test_discord.py."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.platforms.discord.components import FORM_EXPIRED, SETTINGS_FORM_TTL
from tests.e2e.discord.test_discord import ALICE, Env, env, only

__all__ = ["env"]  # the fixture, imported

TZ = "Time zone (IANA name)"


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not errors, [r.getMessage() for r in errors]


async def open_form(env: Env) -> dict[str, object]:
    dm = env.fake.dm(ALICE[0])
    panel = only(await env.command("settings", ALICE, dm))
    count = len(env.fake.modals)
    await env.press(panel, "set:type", ALICE, dm)
    assert len(env.fake.modals) == count + 1
    return env.fake.modals[-1]


async def test_a_settings_form_sent_after_a_restart_is_taken(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    modal = await open_form(env)
    await env.restart(new_app=True)  # a new process: new client, new App, same database
    env.clock.advance(timedelta(minutes=20))  # past discord.py's 15 minutes too
    dm = env.fake.dm(ALICE[0])
    saved = only(await env.send(env.fake.modal_submit(modal, {TZ: "Europe/Paris"}, ALICE, dm)))
    assert saved.ephemeral and "timezone: Europe/Paris" in saved.content
    assert env.rows("SELECT timezone FROM learner_settings") == [("Europe/Paris",)]
    no_errors(caplog)


async def test_an_expired_settings_form_says_so_and_opens_again(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    modal = await open_form(env)
    env.clock.advance(SETTINGS_FORM_TTL + timedelta(seconds=1))
    dm = env.fake.dm(ALICE[0])
    expired = only(await env.send(env.fake.modal_submit(modal, {TZ: "Europe/Paris"}, ALICE, dm)))
    assert expired.ephemeral and expired.content == FORM_EXPIRED
    assert expired.custom_ids() == ["set:type"]
    assert env.rows("SELECT timezone FROM learner_settings") == [("UTC",)]

    count = len(env.fake.modals)
    await env.press(expired, "set:type", ALICE, dm)
    assert len(env.fake.modals) == count + 1
    again = env.fake.modals[-1]
    saved = only(await env.send(env.fake.modal_submit(again, {TZ: "Europe/Paris"}, ALICE, dm)))
    assert "timezone: Europe/Paris" in saved.content
    no_errors(caplog)


async def test_a_form_from_before_an_update_is_expired_not_a_failed_interaction(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """discord.py gave the old settings form a random custom id: nothing can read it now."""
    modal = await open_form(env)
    old = {**modal, "custom_id": "9f1c2e7a4b5d6c8e0f1a2b3c4d5e6f70"}
    dm = env.fake.dm(ALICE[0])
    expired = only(await env.send(env.fake.modal_submit(old, {TZ: "Europe/Paris"}, ALICE, dm)))
    assert expired.ephemeral and expired.content == FORM_EXPIRED
    assert env.rows("SELECT timezone FROM learner_settings") == [("UTC",)]
    no_errors(caplog)
