"""Photo answers that keep (bot/core/challenges/photos.py and their use in runs and the
service): checked before the download, stored, within a group's share, pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.challenges.photos import (
    NOT_AN_IMAGE,
    PHOTO_GONE,
    PhotoLimits,
    StoredPhoto,
    group_full,
    image_mime,
    megabytes,
    too_large,
)
from bot.core.housekeeping import Housekeeping
from bot.core.inputs import PHOTO_HINT
from bot.core.learners import Who
from tests.fakes.photos import JPEG, PNG, Downloads
from tests.services import only
from tests.unit.core.challenges.support import ADA, BEN, CAT, Env, private_for

DAN = Who("telegram", "4", "Dan")
LIMITS = PhotoLimits(max_bytes=1000, group_bytes=3000, keep_days=30)


def png(size: int) -> bytes:
    """PNG bytes of exactly ``size`` bytes (only the first bytes are read)."""
    return (PNG + b"\0" * size)[:size]


@pytest.fixture
def env() -> Env:
    return Env(LIMITS)


def stored(env: Env, who: Who, run_id: int) -> StoredPhoto | None:
    lid = env.db.learner(who.platform, who.user_id)
    assert lid is not None
    return env.db.run_sync(lambda tx: tx.challenges.photo(run_id, lid.id))


# --------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"GIF87a\x01\x00", "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),  # a sound, in the same wrapper
        (b"%PDF-1.7", None),
        (b"", None),
        (b"\x89PNG", None),  # cut short
    ],
)
def test_an_image_is_known_by_its_first_bytes(data: bytes, mime: str | None) -> None:
    assert image_mime(data) == mime


def test_what_a_member_is_told_names_the_sizes() -> None:
    limits = PhotoLimits()
    assert megabytes(8 * 2**20) == "8 MB" and megabytes(2**19) == "0.5 MB"
    assert "12 MB" in too_large(12 * 2**20, limits) and "up to 8 MB" in too_large(1, limits)
    assert "100 MB" in group_full(limits)
    assert StoredPhoto(JPEG, "image/jpeg").filename == "answer.jpg"
    assert StoredPhoto(b"RIFF", "image/webp").filename == "answer.webp"


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (8 * 2**20 + 1, "8.1 MB"),  # just over 8 MB: never "8.0 MB, up to 8 MB"
        (8_400_000, "8.1 MB"),
        (int(9.97 * 2**20), "10 MB"),  # not "10.0 MB"
        (10 * 2**20 + 5, "11 MB"),
        (1000, "0.1 MB"),  # never "0.0 MB"
    ],
)
def test_a_refused_size_is_never_shown_as_within_the_limit(size: int, shown: str) -> None:
    assert megabytes(size) == shown
    if size > 8 * 2**20:
        assert too_large(size, PhotoLimits()).startswith(f"That photo is {shown}; ")


# --------------------------------------------------------------------------- answering


async def test_a_photo_answer_is_downloaded_once_and_kept(env: Env) -> None:
    post = await env.post()
    got = Downloads()
    reply = await env.answer(BEN, post, photo=got.photo(png(1000), "file-1"))
    assert reply.text.startswith("Got your answer") and got.count == 1
    run = env.run()
    assert stored(env, BEN, run.id) == StoredPhoto(png(1000), "image/png")
    sub = await env.sub(BEN, run.id)
    assert sub is not None and sub.photo_ref == "file-1" and sub.text is None


async def test_a_photo_over_the_limit_is_refused_before_any_download(env: Env) -> None:
    post = await env.post()
    got = Downloads()
    reply = await env.answer(BEN, post, photo=got.photo(png(500), declared=1001))
    assert reply.kind == "error" and reply.text == too_large(1001, LIMITS)
    assert got.count == 0
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and not sub.submitted
    # A platform that said less than it sent: refused once the bytes are in.
    reply = await env.submit(BEN, photo=got.photo(png(1001), declared=900))
    assert reply.text == too_large(1001, LIMITS) and got.count == 1
    assert stored(env, BEN, env.run().id) is None


async def test_what_is_not_an_image_is_refused_and_the_earlier_answer_kept(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "my derivation")
    reply = await env.submit(BEN, photo=Downloads().photo(b"%PDF-1.7 not a photo"))
    assert reply.kind == "error" and reply.text == NOT_AN_IMAGE
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.text == "my derivation" and sub.photo_ref is None


async def test_a_typed_answer_replaces_the_photo(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, photo=Downloads().photo(png(100)))
    reply = await env.submit(BEN, "typed after all")
    assert reply.text.startswith("Replaced your earlier answer")
    run = env.run()
    assert stored(env, BEN, run.id) is None
    sub = await env.sub(BEN, run.id)
    assert sub is not None and sub.photo_ref is None and sub.text == "typed after all"


async def test_a_photo_is_not_downloaded_when_it_answers_nothing_open(env: Env) -> None:
    got = Downloads()
    # No challenge joined: the photo hint, nothing downloaded.
    assert only(await env.services.inputs.text(BEN, None, got.photo())).text == PHOTO_HINT
    post = await env.post()
    await env.answer(BEN, post, "in time")
    await env.reveal_at_deadline()
    # After the reveal: told time is up, nothing downloaded, the answer kept.
    late = await env.challenges.answer(BEN, None, got.photo())
    assert late is not None and "time is up" in only(late).text
    assert got.count == 0
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.text == "in time"


async def test_a_group_share_is_kept_by_dropping_its_finished_runs_photos_first(
    env: Env,
) -> None:
    first = await env.post()
    await env.answer(BEN, first, photo=Downloads().photo(png(1000)))
    await env.answer(CAT, first, photo=Downloads().photo(png(1000)))
    await env.reveal_at_deadline()
    old = env.run().id

    env.clock.advance(timedelta(hours=1))
    second = await env.post()
    run = env.run().id
    await env.answer(BEN, second, photo=Downloads().photo(png(1000)))  # 3,000: it fits
    assert stored(env, BEN, old) is not None
    await env.answer(CAT, second, photo=Downloads().photo(png(1000)))  # Ben's old one goes
    assert stored(env, BEN, old) is None and stored(env, CAT, old) is not None
    await env.answer(ADA, second, photo=Downloads().photo(png(1000)))  # then Cat's
    assert stored(env, CAT, old) is None
    old_ben = await env.sub(BEN, old)
    assert old_ben is not None and old_ben.photo_ref is None  # no longer a photo answer

    # The running challenge's photos fill the share: Dan is told, nothing is dropped.
    refused = await env.answer(DAN, second, photo=Downloads().photo(png(10)))
    assert refused.kind == "error" and refused.text == group_full(LIMITS)
    assert all(stored(env, who, run) is not None for who in (ADA, BEN, CAT))
    dan = await env.sub(DAN, run)
    assert dan is not None and not dan.submitted
    # Replacing one's own photo frees its room first.
    again = await env.submit(BEN, photo=Downloads().photo(png(999)))
    assert again.text.startswith("Replaced your earlier answer")
    assert stored(env, BEN, run) == StoredPhoto(png(999), "image/png")
    # A typed answer is never refused for the photos.
    assert (await env.submit(DAN, "typed")).text.startswith("Got your answer")


async def test_housekeeping_drops_photos_some_days_after_the_reveal(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "typed")
    await env.answer(CAT, post, photo=Downloads().photo(png(100)))
    effects = await env.reveal_at_deadline()
    run = env.run()
    housekeeping = Housekeeping(env.db, env.clock, LIMITS.keep)
    env.clock.set(run.deadline + LIMITS.keep - timedelta(minutes=1))
    assert (await housekeeping.prune())[2] == 0
    env.clock.advance(timedelta(minutes=2))
    assert (await housekeeping.prune())[2] == 1
    assert stored(env, CAT, run.id) is None
    # Sharing it later has nothing left to post, and Cat is told why.
    cat = env.db.learner("telegram", "3")
    assert cat is not None
    shared = await env.press(CAT, private_for(effects, cat.id), "Share my answer")
    assert shared.notice == PHOTO_GONE and env.posted.take() == []
