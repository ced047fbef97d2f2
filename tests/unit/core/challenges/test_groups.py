"""Tests for bot.core.challenges.groups: the catalogue, a group's settings, who may run them."""

from __future__ import annotations

import pytest

from tests.services import only
from tests.unit.core.challenges.support import ADA, BEN, GROUP, NY, Env


@pytest.fixture
def env() -> Env:
    return Env()


async def test_only_admins_start_by_default_until_everyone_may(env: Env) -> None:
    refused = await env.start(BEN, is_admin=False)
    assert refused.to == "ephemeral"
    assert only(refused).kind == "error" and "admins" in only(refused).text
    assert env.db.run_sync(lambda tx: tx.challenges.latest_run("telegram", GROUP)) is None
    assert await env.challenges.next_deadline() is None

    not_admin = await env.challenges.configure(BEN, GROUP, "permissions", "everyone", False)
    assert not_admin.to == "ephemeral" and only(not_admin).kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP)) is None
    assert only(await env.start(BEN, is_admin=False)).kind == "error"

    ok = await env.challenges.configure(ADA, GROUP, "permissions", "everyone", is_admin=True)
    assert ok.to == "chat"
    assert only(ok).kind == "info" and "everyone" in only(ok).text
    group = env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP))
    assert group is not None and group.who_runs == "everyone"
    post = await env.post(who=BEN, is_admin=False)
    assert post.kind == "challenge"
    assert env.run().started_by == await env.lid(BEN)


async def test_configure_rejects_bad_values(env: Env) -> None:
    bad_tz = await env.challenges.configure(ADA, GROUP, "timezone", "Mars/Olympus", True)
    assert only(bad_tz).kind == "error"
    bad_key = await env.challenges.configure(ADA, GROUP, "permissions", "nobody", True)
    assert only(bad_key).kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP)) is None


async def test_a_group_time_zone_reads_like_a_learners(env: Env) -> None:
    """A city or a lower-case zone name is its IANA name, as in /settings."""
    paris = only(await env.challenges.configure(ADA, GROUP, "timezone", "Paris", True))
    assert "Europe/Paris" in paris.text
    only(await env.challenges.configure(ADA, GROUP, "timezone", "america/new_york", True))
    group = env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP))
    assert group is not None and group.timezone == NY


async def test_unknown_challenge_lists_the_ids(env: Env) -> None:
    outcome = await env.start(challenge_id="nonsense")
    assert outcome.to == "ephemeral"
    reply = only(outcome)
    assert reply.kind == "error" and "nonsense" in reply.text
    for cid in ("quad", "why", "sketch"):
        assert cid in reply.text
    assert await env.challenges.next_deadline() is None
    listing = env.challenges.list_all()
    assert listing.to == "ephemeral"
    assert all(cid in only(listing).text for cid in ("quad", "why", "sketch"))


async def test_ids_are_matched_case_insensitively(env: Env) -> None:
    assert (await env.post(challenge_id=" QUAD ")).kind == "challenge"
