"""Group "derive it from memory" challenges.

A run posts a challenge's prompt to a group with a deadline. Members join and
submit privately (text or a photo of their page); answers stay hidden until
the reveal. At the deadline (a persistent timer, with a sweep as a safety net)
or early, the reference is posted and every member who submitted gets a
private self-assessment: tick the checkpoints they got and rate each rubric
row Confident, Shaky or Need to re-study. Applying it reviews the linked
cards in their own schedule (Good, Hard, Again; source ``challenge``). When
everyone has assessed (or half an hour after the reveal) a summary with a heat
map of rows by participants goes to the group.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core import srs
from bot.core.actions import Action
from bot.core.challengedefs import ChallengeDef, ChallengeSet
from bot.core.learners import ServiceBase, Who
from bot.core.localtime import local_instant
from bot.core.messages import Announcement, Button, CardView, HeatMap, Reply
from bot.core.model import (
    RATING_NAMES,
    ChallengeRun,
    ChallengeSchedule,
    GroupSettings,
    Learner,
    ReviewEntry,
    ReviewSource,
    Submission,
)
from bot.core.ports import Timers, TokenSource, Tx
from bot.text.latex import math_fallback

log = logging.getLogger(__name__)

GRADE_NAMES = {1: "Need to re-study", 2: "Shaky", 3: "Confident"}
GRADE_SHORT = {1: "Re-study", 2: "Shaky", 3: "Confident"}
#: A grade becomes this FSRS rating on every card its row links.
GRADE_RATING = {1: 1, 2: 2, 3: 3}
SUMMARY_AFTER = timedelta(minutes=30)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAX_ANSWER = 4000


@dataclass(frozen=True, slots=True)
class ChallengeCatalog:
    """The challenges the bot knows, from the challenge-set files."""

    challenges: Mapping[str, ChallengeDef]

    @classmethod
    def from_sets(cls, sets: Sequence[ChallengeSet]) -> ChallengeCatalog:
        return cls({c.id: c for s in sets for c in s.challenges})

    def get(self, challenge_id: str) -> ChallengeDef | None:
        return self.challenges.get(challenge_id.strip().lower()) or self.challenges.get(
            challenge_id.strip()
        )


def _local(when: datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _group(tx: Tx, platform: str, chat_id: str, default_tz: str) -> GroupSettings:
    return tx.challenges.group(platform, chat_id) or GroupSettings(platform, chat_id, default_tz)


def may_run(
    group: GroupSettings, is_admin: bool, learner_id: int, run: ChallengeRun | None
) -> bool:
    """Whether a member may start (run None), cancel or reveal a run in this group."""
    if group.who_runs == "everyone" or is_admin:
        return True
    return run is not None and run.started_by == learner_id


def _refused(action: str) -> Reply:
    return Reply(
        "error",
        f"Only the group's admins{'' if action == 'start' else ' or whoever started it'} can "
        f"{action} a challenge here. (An admin can let everyone: /challenge permissions everyone.)",
    )


def list_challenges(catalog: ChallengeCatalog) -> Reply:
    """Every challenge, with its kind and default duration."""
    if not catalog.challenges:
        return Reply("info", "No challenges are loaded.")
    lines = [
        f"• {c.id}: {c.title} ({c.kind}, {c.minutes} min)" for c in catalog.challenges.values()
    ]
    lines.append("Start one with /challenge start <id> [minutes].")
    return Reply("info", "\n".join(lines))


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
) -> tuple[Reply, ChallengeRun | None]:
    """Post a challenge's prompt with a deadline, or explain why not."""
    group = _group(tx, starter.platform, chat_id, default_tz)
    if not may_run(group, is_admin, starter.id, None):
        return _refused("start"), None
    running = tx.challenges.open_run(starter.platform, chat_id)
    if running is not None:
        return (
            Reply(
                "error",
                f"A challenge is already running here; it is revealed at "
                f"{_local(running.deadline, group.timezone)}.",
            ),
            None,
        )
    length = minutes if minutes is not None else challenge.minutes
    if not 1 <= length <= 180:
        return Reply("error", "A challenge lasts from 1 to 180 minutes."), None
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
    return _announce_start(run, challenge, group.timezone), run


def _announce_start(run: ChallengeRun, challenge: ChallengeDef, tz: str) -> Reply:
    minutes = round((run.deadline - run.started_at).total_seconds() / 60)
    text = (
        f"Challenge: {challenge.title}. {minutes} minutes, from memory: no notes, no peeking.\n\n"
        f"{challenge.prompt}\n\n"
        f"Answer privately before {_local(run.deadline, tz)} ({tz}): tap the button, then write "
        "your answer (or send a photo of your page). Answers stay hidden until the reveal."
    )
    button = Button("Submit my answer", Action("join", run.token).encode())
    return Reply("challenge", text, buttons=((button,),))


def join(tx: Tx, member: Learner, run_token: str, now: datetime, token: str, name: str) -> Reply:
    """A member takes part: their answers in a private chat now go to this run."""
    run = tx.challenges.run_by_token(run_token)
    if run is None:
        return Reply("expired", "This button has expired.")
    if run.cancelled_at is not None:
        return Reply("expired", "This challenge was cancelled.")
    if not run.open or now >= run.deadline:
        return Reply("expired", "This challenge is closed: its reference is in the group.")
    mine = tx.challenges.submission(run.id, member.id)
    if mine is None:
        tx.challenges.save_submission(Submission(run.id, member.id, token, name, now))
    tz = member.settings.timezone
    return Reply(
        "info",
        f"You're in. Write your answer from memory and send it to me here as one message "
        f"(or a photo of your page) before {_local(run.deadline, tz)}. "
        "Sending again replaces it. Nobody sees it until the reveal.",
    )


def submit(
    tx: Tx,
    member: Learner,
    run: ChallengeRun | None,
    text: str | None,
    photo_ref: str | None,
    now: datetime,
    token: str,
    name: str,
) -> Reply:
    """Store (or replace) a member's answer while the run is open."""
    if run is None:
        return Reply("error", "There is no open challenge you have joined.")
    tz = member.settings.timezone
    if not run.open or now >= run.deadline:
        return Reply(
            "error",
            f"Sorry, time is up: the challenge closed at {_local(run.deadline, tz)}, so this "
            "answer was not saved. The reference is posted in the group.",
        )
    body = (text or "").strip()[:MAX_ANSWER] or None
    if body is None and photo_ref is None:
        return Reply("error", "Send your answer as text or as a photo of your page.")
    mine = tx.challenges.submission(run.id, member.id)
    replaced = mine is not None and mine.submitted
    base = mine or Submission(run.id, member.id, token, name, now)
    tx.challenges.save_submission(replace(base, text=body, photo_ref=photo_ref, submitted_at=now))
    verb = "Replaced your earlier answer" if replaced else "Got your answer"
    return Reply("info", f"{verb}. It stays hidden until the reveal at {_local(run.deadline, tz)}.")


def status(tx: Tx, platform: str, chat_id: str, now: datetime, default_tz: str) -> Reply:
    """Who has submitted (never what), and how long is left."""
    run = tx.challenges.open_run(platform, chat_id)
    if run is None:
        return Reply("info", "No challenge is running here. /challenge list shows them.")
    subs = tx.challenges.submissions(run.id)
    done = [s.display_name for s in subs if s.submitted]
    waiting = [s.display_name for s in subs if not s.submitted]
    left = max(timedelta(), run.deadline - now)
    tz = _group(tx, platform, chat_id, default_tz).timezone
    lines = [
        f"{len(done)} submitted{': ' + ', '.join(done) if done else ''}.",
        f"{len(waiting)} joined and still writing{': ' + ', '.join(waiting) if waiting else ''}.",
        f"Reveal at {_local(run.deadline, tz)} (in {srs.format_interval(left)}).",
    ]
    return Reply("info", "\n".join(lines))


def cancel(
    tx: Tx, learner: Learner, chat_id: str, is_admin: bool, now: datetime, default_tz: str
) -> Reply:
    run = tx.challenges.open_run(learner.platform, chat_id)
    if run is None:
        return Reply("info", "No challenge is running here.")
    if not may_run(_group(tx, learner.platform, chat_id, default_tz), is_admin, learner.id, run):
        return _refused("cancel")
    tx.challenges.set_run(run.id, "cancelled_at", now)
    return Reply("info", "The challenge is cancelled; nothing was revealed.")


def reveal_early(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    is_admin: bool,
    now: datetime,
    catalog: ChallengeCatalog,
    default_tz: str,
) -> Reply:
    run = tx.challenges.open_run(learner.platform, chat_id)
    if run is None:
        return Reply("info", "No challenge is running here.")
    if not may_run(_group(tx, learner.platform, chat_id, default_tz), is_admin, learner.id, run):
        return _refused("reveal")
    effects = reveal_run(tx, run, now, catalog)
    return Reply("info", "Revealed early.", announcements=effects)


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
        image_kind=challenge.image.kind if challenge.image else None,
        image_spec=challenge.image.source if challenge.image else None,
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
        return (Announcement(run.platform, run.chat_id, Reply("challenge_result", text)),)
    text = (
        f"Time is up! {len(answered)} answered. Here is the reference: compare it with yours; "
        "I have sent each of you a private self-assessment."
    )
    effects = [
        Announcement(
            run.platform,
            run.chat_id,
            Reply("challenge_result", text, card=reference_view(challenge)),
        )
    ]
    for sub in answered:
        effects.append(
            Announcement(
                run.platform, "", assessment_reply(challenge, sub, first=True), sub.learner_id
            )
        )
    return tuple(effects)


def _short(text: str, limit: int = 28) -> str:
    """One line of plain text for a button or a chart label (maths as Unicode)."""
    plain = " ".join(math_fallback(text).replace("*", "").replace("`", "").split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def assessment_reply(challenge: ChallengeDef, sub: Submission, *, first: bool = False) -> Reply:
    """The private self-assessment: tick checkpoints, rate each rubric row, then apply."""
    rows: list[tuple[Button, ...]] = []
    for i, checkpoint in enumerate(challenge.checkpoints[:10]):
        mark = "☑" if i in sub.checks else "☐"
        rows.append(
            (Button(f"{mark} {_short(checkpoint, 40)}", Action("check", sub.token, i).encode()),)
        )
    lines: list[str] = []
    for r, row in enumerate(challenge.rubric[:9]):
        grade = sub.grades[r] if r < len(sub.grades) else None
        lines.append(f"{r + 1}. {row.text}: {GRADE_NAMES[grade] if grade else 'not rated yet'}")
        rows.append(
            tuple(
                Button(
                    f"{r + 1}. {'▶ ' if grade == level else ''}{GRADE_SHORT[level]}",
                    Action("grade", sub.token, 10 * r + level).encode(),
                )
                for level in (3, 2, 1)
            )
        )
    rows.append((Button("Apply to my cards", Action("assessed", sub.token).encode()),))
    rows.append(
        (
            Button(
                "Name me in the summary ✓" if sub.show_name else "Name me in the summary",
                Action("showname", sub.token).encode(),
            ),
            Button("Share my answer", Action("share", sub.token).encode()),
        )
    )
    intro = f"Self-assessment for “{challenge.title}”."
    if first:
        intro += " Be honest: it schedules your own cards."
    intro += "\n"
    if sub.text:
        yours = f"Your answer:\n{sub.text}\n\n"
    elif sub.photo_ref:
        yours = "Your answer: the photo of your page you sent.\n\n"
    else:
        yours = ""
    body = intro + yours + "Tick the checkpoints you got, and rate each row:\n" + "\n".join(lines)
    return Reply("assess", body, buttons=tuple(rows))


def _mine(tx: Tx, member: Learner, token: str) -> tuple[Submission, ChallengeRun] | None:
    sub = tx.challenges.submission_by_token(token)
    if sub is None or sub.learner_id != member.id:
        return None
    run = tx.challenges.run_by_id(sub.run_id)
    if run is None or run.revealed_at is None:
        return None
    return sub, run


def press(
    tx: Tx,
    member: Learner,
    kind: str,
    token: str,
    arg: int | None,
    now: datetime,
    catalog: ChallengeCatalog,
) -> Reply:
    """A self-assessment button: tick, grade, name opt-in, share, or apply."""
    found = _mine(tx, member, token)
    if found is None:
        return Reply("expired", "This button has expired.")
    sub, run = found
    challenge = catalog.get(run.challenge_id)
    if challenge is None:
        return Reply("expired", "This challenge is no longer in the challenge files.")
    if kind == "share":
        return _share(tx, run, sub, now)
    if sub.assessed_at is not None and kind in ("check", "grade", "assessed"):
        return Reply("info", "Your self-assessment is already applied to your cards.")
    if kind == "check" and arg is not None and arg < len(challenge.checkpoints):
        checks = set(sub.checks) ^ {arg}
        sub = replace(sub, checks=tuple(sorted(checks)))
    elif kind == "grade" and arg is not None and arg // 10 < len(challenge.rubric):
        row, level = divmod(arg, 10)
        grades = list(sub.grades) + [None] * (len(challenge.rubric) - len(sub.grades))
        grades[row] = level
        sub = replace(sub, grades=tuple(grades))
    elif kind == "showname":
        sub = replace(sub, show_name=not sub.show_name)
    elif kind == "assessed":
        return _apply(tx, member, run, sub, challenge, now, catalog)
    else:
        return Reply("expired", "This button has expired.")
    tx.challenges.save_submission(sub)
    return assessment_reply(challenge, sub)


def _share(tx: Tx, run: ChallengeRun, sub: Submission, now: datetime) -> Reply:
    if sub.shared_at is not None:
        return Reply("info", "You already shared your answer with the group.")
    if sub.text is None and sub.photo_ref is None:
        return Reply("info", "You have no answer to share.")
    tx.challenges.save_submission(replace(sub, shared_at=now))
    text = f"{sub.display_name} shares their answer:\n\n{sub.text or '(a photo of their page)'}"
    post = Announcement(
        run.platform,
        run.chat_id,
        Reply("info", text, photo_ref=sub.photo_ref),
    )
    return Reply("info", "Shared with the group.", announcements=(post,))


def _apply(
    tx: Tx,
    member: Learner,
    run: ChallengeRun,
    sub: Submission,
    challenge: ChallengeDef,
    now: datetime,
    catalog: ChallengeCatalog,
) -> Reply:
    """Turn the grades into reviews of the linked cards (the worst grade wins per card)."""
    worst: dict[str, int] = {}
    for r, row in enumerate(challenge.rubric):
        grade = sub.grades[r] if r < len(sub.grades) else None
        if grade is None:
            continue
        for card_id in row.card_ids:
            worst[card_id] = min(worst.get(card_id, 3), grade)
    if not worst:
        return Reply("error", "Rate at least one row first.")
    moved: list[str] = []
    for card_id, grade in worst.items():
        card = tx.catalogue.card(card_id)
        if card is None:
            continue
        before = tx.schedule.get(member.id, card_id)
        rating = GRADE_RATING[grade]
        after = srs.review(before, rating, now, member.settings)
        tx.schedule.save(after)
        tx.reviews.add(
            ReviewEntry(
                learner_id=member.id,
                card_id=card_id,
                rating=rating,
                reviewed_at=now,
                source=ReviewSource.CHALLENGE,
                before=before,
                after=after,
            )
        )
        assert after.due is not None
        moved.append(
            f"• {card.title}: {RATING_NAMES[rating]}, next in "
            f"{srs.format_interval(after.due - now)}"
        )
    sub = replace(sub, assessed_at=now)
    tx.challenges.save_submission(sub)
    effects: tuple[Announcement, ...] = ()
    others = [s for s in tx.challenges.submissions(run.id) if s.submitted]
    if all(s.assessed_at is not None for s in others):
        summary = summarize(tx, run, now, catalog)
        effects = (summary,) if summary else ()
    text = "Applied to your schedule. The cards that moved:\n" + "\n".join(moved)
    return Reply("info", text, announcements=effects)


def summarize(
    tx: Tx, run: ChallengeRun, now: datetime, catalog: ChallengeCatalog
) -> Announcement | None:
    """The group summary, once: who took part, a heat map, and who could help whom."""
    if not tx.challenges.set_run(run.id, "summary_at", now):
        return None
    challenge = catalog.get(run.challenge_id)
    subs = [s for s in tx.challenges.submissions(run.id) if s.submitted]
    if challenge is None or not challenge.rubric or not subs:
        return None  # nothing to summarize (marked done all the same)
    assessed = [s for s in subs if s.assessed_at is not None]
    names: list[str] = []
    anonymous = 0
    for s in assessed:
        if s.show_name:
            names.append(s.display_name)
        else:
            anonymous += 1
            names.append(f"Member {anonymous}")
    rows = tuple(_short(r.text, 40) for r in challenge.rubric)
    values = tuple(
        tuple(s.grades[r] if r < len(s.grades) else None for s in assessed)
        for r in range(len(challenge.rubric))
    )
    lines = [f"Summary of “{challenge.title}”: {len(subs)} answered, {len(assessed)} assessed."]
    for r, label in enumerate(rows):
        counts = {g: sum(1 for v in values[r] if v == g) for g in (3, 2, 1)}
        lines.append(
            f"• {label}: {counts[3]} confident, {counts[2]} shaky, {counts[1]} to re-study"
        )
        helpers = [s.display_name for s in assessed if s.show_name and _grade(s, r) == 3]
        needing = sum(1 for s in assessed if _grade(s, r) == 1)
        if needing and (helpers or counts[3]):
            who = ", ".join(helpers) if helpers else f"{counts[3]} member(s)"
            lines.append(f"  {who} could help the {needing} who want to re-study this.")
    heat = HeatMap(f"{challenge.title}: self-assessment", rows, tuple(names), values)
    reply = Reply("challenge_result", "\n".join(lines), heatmap=heat if assessed else None)
    return Announcement(run.platform, run.chat_id, reply)


def _grade(sub: Submission, row: int) -> int | None:
    return sub.grades[row] if row < len(sub.grades) else None


# --------------------------------------------------------------------------- schedules


def next_weekly(weekday: int, at: time, tz: str, after: datetime) -> datetime:
    """The first local ``weekday`` at ``at`` strictly after ``after`` (DST-safe)."""
    zone = ZoneInfo(tz)
    day = after.astimezone(zone).date()
    for offset in range(15):
        d = day + timedelta(days=offset)
        if d.weekday() != weekday:
            continue
        instant = local_instant(d, at, zone)
        if instant > after:
            return instant
    raise AssertionError("unreachable: a weekday comes every 7 days")  # pragma: no cover


def parse_weekday(text: str) -> int | None:
    t = text.strip().lower()
    for i, name in enumerate(WEEKDAYS):
        if len(t) >= 3 and name.startswith(t):
            return i
    return None


def set_schedule(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    challenge: ChallengeDef,
    weekday_text: str,
    at_text: str,
    is_admin: bool,
    now: datetime,
    default_tz: str,
) -> Reply:
    group = _group(tx, learner.platform, chat_id, default_tz)
    if not may_run(group, is_admin, learner.id, None):
        return _refused("schedule")
    weekday = parse_weekday(weekday_text)
    if weekday is None:
        return Reply("error", "Give a weekday, for example: /challenge schedule <id> monday 19:00")
    try:
        hh, mm = at_text.split(":")
        at = time(int(hh), int(mm))
    except ValueError:
        return Reply("error", "Give the time as HH:MM, for example 19:00.")
    nxt = next_weekly(weekday, at, group.timezone, now)
    tx.challenges.add_schedule(
        ChallengeSchedule(
            0, learner.platform, chat_id, challenge.id, weekday, at, group.timezone, nxt
        )
    )
    local = nxt.astimezone(ZoneInfo(group.timezone))
    return Reply(
        "info",
        f"Every {WEEKDAYS[weekday].title()} at {at.strftime('%H:%M')} ({group.timezone}): "
        f"{challenge.title}. First on {local.strftime('%a %d %b %H:%M')}. "
        "/challenge unschedule stops it.",
    )


def unschedule(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    challenge_id: str | None,
    is_admin: bool,
    default_tz: str,
) -> Reply:
    if not may_run(_group(tx, learner.platform, chat_id, default_tz), is_admin, learner.id, None):
        return _refused("unschedule")
    wanted = challenge_id.strip().lower() if challenge_id else None
    count = tx.challenges.delete_schedules(learner.platform, chat_id, wanted)
    if count == 0:
        return Reply("info", "Nothing was scheduled here.")
    return Reply("info", f"Removed {count} weekly challenge{'s' if count != 1 else ''}.")


def set_group(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    key: str,
    value: str,
    is_admin: bool,
    default_tz: str,
) -> Reply:
    """Change a group setting (admins only): ``timezone`` or ``permissions``."""
    if not is_admin:
        return Reply("error", "Only the group's admins can change its challenge settings.")
    group = _group(tx, learner.platform, chat_id, default_tz)
    if key == "timezone":
        try:
            ZoneInfo(value)
        except Exception:
            return Reply("error", f"“{value}” is not a time zone I know (try Europe/Paris).")
        group = replace(group, timezone=value)
    elif key == "permissions" and value in ("admins", "everyone"):
        group = replace(group, who_runs=value)
    else:
        return Reply(
            "error",
            "Use /challenge timezone <IANA name> or /challenge permissions admins|everyone.",
        )
    tx.challenges.save_group(group)
    return Reply(
        "info",
        f"Saved: challenges here use {group.timezone}, and {group.who_runs} can run them.",
    )


def fire_schedules(
    tx: Tx, now: datetime, catalog: ChallengeCatalog, tokens: TokenSource
) -> list[tuple[Announcement, ChallengeRun]]:
    """Start every weekly challenge that is due (each once), and move it to next week."""
    started: list[tuple[Announcement, ChallengeRun]] = []
    for s in tx.challenges.claim_schedules(now, 100):
        tx.challenges.set_schedule_next(s.id, next_weekly(s.weekday, s.at, s.timezone, now))
        challenge = catalog.get(s.challenge_id)
        if challenge is None:
            log.warning("schedule %s names an unknown challenge %s", s.id, s.challenge_id)
            continue
        if tx.challenges.open_run(s.platform, s.chat_id) is not None:
            continue  # one at a time; this week's is skipped
        length = s.minutes or challenge.minutes
        run = tx.challenges.add_run(
            ChallengeRun(
                0,
                tokens(),
                s.platform,
                s.chat_id,
                challenge.id,
                now,
                now + timedelta(minutes=length),
            )
        )
        reply = _announce_start(run, challenge, s.timezone)
        started.append((Announcement(s.platform, s.chat_id, reply), run))
    return started


# --------------------------------------------------------------------------- service


class ChallengeService(ServiceBase):
    """Challenges for adapters. ``is_admin`` is the platform's word on the member."""

    catalog: ChallengeCatalog = ChallengeCatalog({})
    timers: Timers | None = None

    @property
    def default_tz(self) -> str:
        return self.defaults.timezone

    async def _arm(self, run: ChallengeRun | None) -> None:
        if run is not None and self.timers is not None:
            await self.timers.reveal_at(run.id, run.deadline)

    def list_all(self) -> Reply:
        return list_challenges(self.catalog)

    async def start(
        self, who: Who, chat_id: str, challenge_id: str, minutes: int | None, is_admin: bool
    ) -> Reply:
        challenge = self.catalog.get(challenge_id)
        if challenge is None:
            ids = ", ".join(self.catalog.challenges) or "none"
            return Reply(
                "error", f"I don't know the challenge “{challenge_id}”. Challenges: {ids}."
            )
        token = self.tokens()
        reply, run = await self._run(
            who,
            lambda tx, lr, now: start(
                tx, lr, chat_id, challenge, minutes, is_admin, now, token, self.default_tz
            ),
        )
        await self._arm(run)
        return reply

    async def join(self, who: Who, run_token: str) -> Reply:
        token = self.tokens()
        name = who.display_name or who.user_id
        return await self._run(who, lambda tx, lr, now: join(tx, lr, run_token, now, token, name))

    async def submit(
        self,
        who: Who,
        text: str | None = None,
        photo_ref: str | None = None,
        run_token: str | None = None,
        chat_id: str | None = None,
    ) -> Reply:
        """An answer: to the run named by ``run_token``, or open in ``chat_id`` (joining it),
        else to the newest run the member joined."""
        token = self.tokens()
        name = who.display_name or who.user_id

        def work(tx: Tx, lr: Learner, now: datetime) -> Reply:
            if run_token:
                run = tx.challenges.run_by_token(run_token)
            elif chat_id is not None:
                run = tx.challenges.open_run(who.platform, chat_id)
            else:
                run = tx.challenges.joined_open_run(lr.id)
            return submit(tx, lr, run, text, photo_ref, now, token, name)

        return await self._run(who, work)

    async def has_open_run(self, who: Who) -> bool:
        """Whether a private message from this member is an answer to a challenge."""

        def work(tx: Tx) -> bool:
            learner = tx.learners.get(who.platform, who.user_id)
            return learner is not None and tx.challenges.joined_open_run(learner.id) is not None

        return await self.db.run(work)

    async def status(self, who: Who, chat_id: str) -> Reply:
        return await self._run(
            who, lambda tx, lr, now: status(tx, who.platform, chat_id, now, self.default_tz)
        )

    async def cancel(self, who: Who, chat_id: str, is_admin: bool) -> Reply:
        return await self._run(
            who, lambda tx, lr, now: cancel(tx, lr, chat_id, is_admin, now, self.default_tz)
        )

    async def reveal(self, who: Who, chat_id: str, is_admin: bool) -> Reply:
        return await self._run(
            who,
            lambda tx, lr, now: reveal_early(
                tx, lr, chat_id, is_admin, now, self.catalog, self.default_tz
            ),
        )

    async def press(self, who: Who, kind: str, token: str, arg: int | None) -> Reply:
        return await self._run(
            who, lambda tx, lr, now: press(tx, lr, kind, token, arg, now, self.catalog)
        )

    async def schedule(
        self, who: Who, chat_id: str, challenge_id: str, weekday: str, at: str, is_admin: bool
    ) -> Reply:
        challenge = self.catalog.get(challenge_id)
        if challenge is None:
            return Reply("error", f"I don't know the challenge “{challenge_id}”.")
        return await self._run(
            who,
            lambda tx, lr, now: set_schedule(
                tx, lr, chat_id, challenge, weekday, at, is_admin, now, self.default_tz
            ),
        )

    async def unschedule(
        self, who: Who, chat_id: str, challenge_id: str | None, is_admin: bool
    ) -> Reply:
        return await self._run(
            who,
            lambda tx, lr, now: unschedule(
                tx, lr, chat_id, challenge_id, is_admin, self.default_tz
            ),
        )

    async def configure(
        self, who: Who, chat_id: str, key: str, value: str, is_admin: bool
    ) -> Reply:
        return await self._run(
            who,
            lambda tx, lr, now: set_group(tx, lr, chat_id, key, value, is_admin, self.default_tz),
        )

    async def reveal_due(self, run_id: int | None = None) -> list[Announcement]:
        """Reveal one run at its deadline (a timer), or every overdue one (the sweep)."""
        now = self.clock.now()

        def work(tx: Tx) -> list[Announcement]:
            if run_id is not None:
                run = tx.challenges.run_by_id(run_id)
                runs = [run] if run is not None and run.open and run.deadline <= now else []
            else:
                runs = tx.challenges.due_reveals(now)
            out: list[Announcement] = []
            for run in runs:
                out.extend(reveal_run(tx, run, now, self.catalog))
            return out

        return await self.db.run(work)

    async def sweep(self) -> list[Announcement]:
        """Start due weekly challenges, reveal overdue runs, post late summaries."""
        now = self.clock.now()

        def work(tx: Tx) -> tuple[list[Announcement], list[ChallengeRun]]:
            out: list[Announcement] = []
            # Overdue runs first, so last week's unrevealed run does not block this week's.
            for run in tx.challenges.due_reveals(now):
                out.extend(reveal_run(tx, run, now, self.catalog))
            started = fire_schedules(tx, now, self.catalog, self.tokens)
            out.extend(a for a, _ in started)
            for run in tx.challenges.due_summaries(now - SUMMARY_AFTER):
                summary = summarize(tx, run, now, self.catalog)
                if summary is not None:
                    out.append(summary)
            return out, [r for _, r in started]

        announcements, runs = await self.db.run(work)
        for run in runs:
            await self._arm(run)
        return announcements
