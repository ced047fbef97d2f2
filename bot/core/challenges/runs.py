"""One challenge run in a group: start, join, answer, status, cancel, and the reveal."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.core import srs
from bot.core.actions import Action
from bot.core.challenges.assessment import assessment_reply, own_photo
from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import (
    ChallengeCatalog,
    group_settings,
    local_time,
    may_run,
    refused,
)
from bot.core.challenges.photos import PhotoLimits, StoredPhoto, group_full
from bot.core.learners import Posts
from bot.core.messages import Announcement, CardView, Reply, challenge_workspace
from bot.core.model import CardImage, ChallengeRun, Learner, Submission
from bot.core.outcomes import EXPIRED, AnswerForm, Outcome, notice, send
from bot.core.ports import Tx
from bot.core.views import button

#: The longest answer kept (a few of Telegram's 4,096-character messages).
MAX_ANSWER = 12_000
#: A text that follows a long one this soon is its next part (Telegram clients split
#: a long text into several messages), appended rather than replacing it.
PART_WITHIN = timedelta(seconds=10)
#: A text this long may have been split by the client: the next part is appended.
PART_AFTER = 3000
ANSWER_PRIVATELY = (
    "{name}, answers go to me privately, so that nobody sees them before the reveal: "
    "please send yours in our private chat."
)


def in_group(reply: Reply) -> Outcome:
    """A group command's answer: for the group, or only for the member when it is a refusal."""
    return send(reply, to="ephemeral" if reply.kind == "error" else "chat")


def start(
    tx: Tx,
    starter: Learner,
    chat_id: str,
    challenge: ChallengeDef,
    minutes: int | None,
    is_admin: bool,
    now: datetime,
    token: str,
    default_tz: str,
) -> Outcome:
    """Post a challenge's prompt with a deadline, or explain why not."""
    group = group_settings(tx, starter.platform, chat_id, default_tz)
    if not may_run(group, is_admin, starter.id, None):
        return in_group(refused("start"))
    running = tx.challenges.open_run(starter.platform, chat_id)
    if running is not None:
        return in_group(
            Reply(
                "error",
                f"A challenge is already running here; it is revealed at "
                f"{local_time(running.deadline, group.timezone)}.",
            )
        )
    length = minutes if minutes is not None else challenge.minutes
    if not 1 <= length <= 180:
        return in_group(Reply("error", "A challenge lasts from 1 to 180 minutes."))
    run = tx.challenges.add_run(
        ChallengeRun(
            id=0,
            token=token,
            platform=starter.platform,
            chat_id=chat_id,
            challenge_id=challenge.id,
            started_at=now,
            deadline=now + timedelta(minutes=length),
            started_by=starter.id,
        )
    )
    return in_group(announce_start(run, challenge, group.timezone))


def announce_start(run: ChallengeRun, challenge: ChallengeDef, tz: str) -> Reply:
    """The challenge's post in the group: the prompt, the deadline, the button to take part."""
    minutes = round((run.deadline - run.started_at).total_seconds() / 60)
    text = (
        f"Challenge: {challenge.title}. {minutes} minutes, from memory: no notes, no peeking.\n\n"
        f"{challenge.prompt}\n\n"
        f"Answer privately before {local_time(run.deadline, tz)} ({tz}): tap the button, then "
        "write your answer (or send a photo of your page). Answers stay hidden until the reveal."
    )
    take_part = button("Submit my answer", Action("join", run.token), "primary")
    return Reply("challenge", text, buttons=((take_part,),))


ALREADY_IN = "You're in already: send me your answer in our private chat."
#: How the request for an answer given in the group opens (:attr:`AnswerForm.here`): a
#: platform tells a reply to it from a reply to another message shown to the member.
ASK_HERE = "You're in. Only you can see this message."


def join(
    tx: Tx,
    member: Learner,
    run_token: str,
    now: datetime,
    token: str,
    name: str,
    *,
    asked: bool = False,
) -> Outcome:
    """A member takes part: they are asked privately for their answer.

    A member who joined already and was ``asked`` (the bot could write to them) gets
    only a notice: a repeated tap sends no second message. The form, where the
    platform has one, opens all the same.
    """
    run = tx.challenges.run_by_token(run_token)
    if run is None:
        return EXPIRED
    if run.cancelled_at is not None:
        return notice("This challenge was cancelled.")
    if not run.open or now >= run.deadline:
        return notice("This challenge is closed: its reference is in the group.")
    mine = tx.challenges.submission(run.id, member.id)
    joined = mine is None and tx.challenges.add_submission(
        Submission(run.id, member.id, token, name, now)
    )
    tz = member.settings.timezone
    here = Reply(
        "info",
        f"{ASK_HERE} Write your answer from memory and send "
        f"it as a reply to this message (or a photo of your page) before "
        f"{local_time(run.deadline, tz)}. Replying again replaces it. Nobody sees it until "
        "the reveal.",
    )
    form = AnswerForm(run.token, here=here)
    if not joined and asked:
        return Outcome(notice=ALREADY_IN, to="private", form=form)
    ask = Reply(
        "info",
        f"You're in. Write your answer from memory and send it to me here as one message "
        f"(or a photo of your page) before {local_time(run.deadline, tz)}. "
        "Sending again replaces it. Nobody sees it until the reveal.",
        workspace=challenge_workspace(run.token),
    )
    return Outcome(replies=(ask,), to="private", form=form)


def takes_answers(run: ChallengeRun, now: datetime) -> bool:
    """Whether an answer to the run is stored now: it is open and its deadline is ahead."""
    return run.open and now < run.deadline


def submit(
    tx: Tx,
    member: Learner,
    run: ChallengeRun | None,
    text: str | None,
    photo_ref: str | None,
    now: datetime,
    token: str,
    name: str,
    *,
    stored: StoredPhoto | None,
    limits: PhotoLimits,
) -> Outcome:
    """Store (or replace) a member's answer while the run is open; the member is told.

    A photo answer (``photo_ref``, the platform's name for it) is kept as ``stored``,
    its downloaded bytes, within the group's share of ``limits``.
    """
    reply = _submit(tx, member, run, text, photo_ref, now, token, name, stored, limits)
    return send(reply, to="private")


def _submit(
    tx: Tx,
    member: Learner,
    run: ChallengeRun | None,
    text: str | None,
    photo_ref: str | None,
    now: datetime,
    token: str,
    name: str,
    stored: StoredPhoto | None,
    limits: PhotoLimits,
) -> Reply:
    if run is None:
        return Reply("error", "There is no open challenge you have joined.")
    tz = member.settings.timezone
    if not takes_answers(run, now):
        return Reply(
            "error",
            f"Sorry, time is up: the challenge closed at {local_time(run.deadline, tz)}, so "
            "this answer was not saved. The reference is posted in the group.",
        )
    body = (text or "").strip() or None
    if body is None and photo_ref is None:
        return Reply("error", "Send your answer as text or as a photo of your page.")
    if photo_ref is not None and stored is None:  # the run opened between two looks
        return Reply("error", "I couldn't keep that photo: please send it again.")
    if stored is not None:
        full = _room_for(tx, run, member, stored, limits)
        if full is not None:
            return full
    mine = tx.challenges.submission(run.id, member.id)
    replaced = mine is not None and mine.submitted
    part = (
        mine is not None
        and replaced
        and photo_ref is None
        and mine.photo_ref is None
        and body is not None
        and len(mine.text or "") >= PART_AFTER
        and mine.submitted_at is not None
        and now - mine.submitted_at <= PART_WITHIN
    )
    if part and mine is not None and body is not None:
        body = f"{mine.text}\n{body}"
    cut = body is not None and len(body) > MAX_ANSWER
    if body is not None:
        body = body[:MAX_ANSWER]
    base = mine or Submission(run.id, member.id, token, name, now)
    tx.challenges.save_submission(replace(base, text=body, photo_ref=photo_ref, submitted_at=now))
    if stored is not None:
        tx.challenges.save_photo(run.id, member.id, stored, now)
    elif mine is not None and mine.photo_ref is not None:
        tx.challenges.drop_photo(run.id, member.id)  # a typed answer replaces the photo
    if part:
        verb = "Added this to your answer (your app sent it in parts)"
    else:
        verb = "Replaced your earlier answer" if replaced else "Got your answer"
    said = f"{verb}. It stays hidden until the reveal at {local_time(run.deadline, tz)}."
    if cut:
        said += f" It was longer than {MAX_ANSWER:,} characters: I kept the first {MAX_ANSWER:,}."
    # The page offered again: where the answer came in a form (Discord), the request
    # for it was not shown.
    return Reply("info", said, workspace=challenge_workspace(run.token))


def _room_for(
    tx: Tx, run: ChallengeRun, member: Learner, photo: StoredPhoto, limits: PhotoLimits
) -> Reply | None:
    """Make room for a photo in the group's share: the photos of its finished runs go,
    the oldest first; None when it fits, else what the member is told (nothing dropped)."""
    tx.challenges.hold_photos(run.id)  # two members at once: one after the other
    sizes = tx.challenges.photo_sizes(run.id)
    running = sum(sizes.values()) - sizes.get(member.id, 0)  # theirs is replaced
    total = tx.challenges.group_photo_bytes(run.platform, run.chat_id) - sizes.get(member.id, 0)
    over = total + photo.size - limits.group_bytes
    if over <= 0:
        return None
    if running + photo.size > limits.group_bytes:  # the finished runs' photos cannot make room
        return Reply("error", group_full(limits))
    tx.challenges.free_photos(run.platform, run.chat_id, over)
    return None


def status(tx: Tx, platform: str, chat_id: str, now: datetime, default_tz: str) -> Outcome:
    """Who has submitted (never what), and how long is left: for the member who asked."""
    run = tx.challenges.open_run(platform, chat_id)
    if run is None:
        reply = Reply("info", "No challenge is running here. /challenge list shows them.")
        return send(reply, to="ephemeral")
    subs = tx.challenges.submissions(run.id)
    done = [s.display_name for s in subs if s.submitted]
    waiting = [s.display_name for s in subs if not s.submitted]
    left = max(timedelta(), run.deadline - now)
    tz = group_settings(tx, platform, chat_id, default_tz).timezone
    lines = [
        f"{len(done)} submitted{': ' + ', '.join(done) if done else ''}.",
        f"{len(waiting)} joined and still writing{': ' + ', '.join(waiting) if waiting else ''}.",
        f"Reveal at {local_time(run.deadline, tz)} (in {srs.format_interval(left)}).",
    ]
    return send(Reply("info", "\n".join(lines)), to="ephemeral")


def cancel(
    tx: Tx, learner: Learner, chat_id: str, is_admin: bool, now: datetime, default_tz: str
) -> Outcome:
    """Stop the running challenge without revealing it."""
    run = tx.challenges.open_run(learner.platform, chat_id)
    if run is None:
        return in_group(Reply("info", "No challenge is running here."))
    group = group_settings(tx, learner.platform, chat_id, default_tz)
    if not may_run(group, is_admin, learner.id, run):
        return in_group(refused("cancel"))
    tx.challenges.set_run(run.id, "cancelled_at", now)
    return in_group(Reply("info", "The challenge is cancelled; nothing was revealed."))


def reveal_early(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    is_admin: bool,
    now: datetime,
    catalog: ChallengeCatalog,
    default_tz: str,
    posts: Posts,
) -> Outcome:
    """Reveal the running challenge now (the reference goes to the group)."""
    run = tx.challenges.open_run(learner.platform, chat_id)
    if run is None:
        return send(Reply("info", "No challenge is running here."), to="ephemeral")
    group = group_settings(tx, learner.platform, chat_id, default_tz)
    if not may_run(group, is_admin, learner.id, run):
        return send(refused("reveal"), to="ephemeral")
    posts.extend(reveal_run(tx, run, now, catalog))
    return send(Reply("info", "Revealed early."), to="ephemeral")


def reference_view(challenge: ChallengeDef) -> CardView:
    """The reference as a card back, with the challenge's image when it has one."""
    parts = [challenge.reference]
    if challenge.checkpoints:
        label = "Checklist" if challenge.kind == "drawing" else "Checkpoints"
        parts.append(f"**{label}**\n" + "\n".join(f"- {c}" for c in challenge.checkpoints))
    if challenge.points:
        parts.append(
            "**A good answer makes these points**\n" + "\n".join(f"- {p}" for p in challenge.points)
        )
    return CardView(
        card_id=challenge.id,
        deck_title="Challenge",
        title=challenge.title,
        front=challenge.prompt,
        back="\n\n".join(parts),
        back_image=CardImage.of(challenge.image),
    )


def reveal_run(
    tx: Tx, run: ChallengeRun, now: datetime, catalog: ChallengeCatalog
) -> tuple[Announcement, ...]:
    """Reveal once: the reference to the group, a self-assessment to each member who answered."""
    if not tx.challenges.set_run(run.id, "revealed_at", now):
        return ()
    challenge = catalog.get(run.challenge_id)
    subs = tx.challenges.submissions(run.id)
    answered = [s for s in subs if s.submitted]
    if challenge is None:
        text = "Time is up. (This challenge is no longer in the challenge files.)"
        reply = Reply("challenge_result", text)
        return (Announcement(run.platform, run.chat_id, reply, starter_id=run.started_by),)
    text = (
        f"Time is up! {len(answered)} answered. Here is the reference: compare it with yours; "
        "each of you who answered gets a private self-assessment from me."
    )
    effects = [
        Announcement(
            run.platform,
            run.chat_id,
            Reply("challenge_result", text, card=reference_view(challenge)),
            starter_id=run.started_by,
        )
    ]
    for sub in answered:
        mine = own_photo(tx, run, sub)
        if mine is not None:
            effects.append(Announcement(run.platform, run.chat_id, mine, sub.learner_id))
        effects.append(
            Announcement(
                run.platform,
                run.chat_id,
                assessment_reply(challenge, sub, run.token, first=True),
                sub.learner_id,
                resend_token=sub.token,
            )
        )
    return tuple(effects)


def reveal_overdue(tx: Tx, now: datetime, catalog: ChallengeCatalog, posts: Posts) -> int:
    """Reveal every open run whose deadline has passed (each once); returns how many."""
    revealed = 0
    for run in tx.challenges.due_reveals(now):
        found = reveal_run(tx, run, now, catalog)
        posts.extend(found)
        revealed += bool(found)
    return revealed
