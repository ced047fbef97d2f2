"""The private self-assessment after a reveal, applying it to the cards, and the summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core import exam, srs
from bot.core.actions import Action, ActionKind
from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import PHOTO_GONE, StoredPhoto
from bot.core.learners import AfterCommit, Posts, due_counter, record_review
from bot.core.messages import (
    Announcement,
    Attachment,
    Button,
    ButtonStyle,
    HeatMap,
    Reply,
    challenge_workspace,
)
from bot.core.model import (
    RATING_NAMES,
    ChallengeRun,
    Learner,
    OutboxMessage,
    ReviewEntry,
    ReviewSource,
    Submission,
)
from bot.core.outcomes import EXPIRED, AssessmentForm, Outcome, notice
from bot.core.ports import Tx
from bot.core.views import button
from bot.text.latex import math_fallback

GRADE_NAMES = {1: "Need to re-study", 2: "Shaky", 3: "Confident"}
GRADE_SHORT = {1: "Re-study", 2: "Shaky", 3: "Confident"}
#: A grade becomes this FSRS rating on every card its row links.
GRADE_RATING = {1: 1, 2: 2, 3: 3}
APPLIED = "Applied to your cards."
ALREADY_APPLIED = "Your self-assessment is already applied to your cards."
#: The button that opens the whole self-assessment as one form (platforms with forms).
FORM_LABEL = "Rate every row"
#: The rubric rows given buttons at once where there is no form (:func:`button_window`: a
#: grade button's argument is ``10 * row + level``); the text lists every row.
BUTTON_ROWS = 9
#: The checkpoints given buttons where there is no form.
BUTTON_CHECKPOINTS = 10
#: A submitted form that names rows, grades or checkpoints this challenge does not have.
#: A self-assessment's line for a photo answer no longer kept (nothing is shown).
PHOTO_NOT_KEPT = "Your answer was a photo of your page, which is no longer kept."
FORM_MISMATCH = (
    "This form does not match the challenge any more, so nothing was changed. "
    f"Tap “{FORM_LABEL}” on your self-assessment to open it again."
)


def one_line(text: str) -> str:
    """Rubric or checkpoint markdown as one line of plain text (maths as Unicode)."""
    return " ".join(math_fallback(text).replace("*", "").replace("`", "").split())


def short(text: str, limit: int = 28) -> str:
    """One line of plain text for a button or a chart label (maths as Unicode)."""
    plain = one_line(text)
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def share_button(sub: Submission) -> Button:
    """ "Share my answer": posts the member's own answer to the group."""
    return button("Share my answer", Action("share", sub.token))


def form_button(sub: Submission) -> Button:
    """ "Rate every row": opens the self-assessment as one form (at the first row not
    rated yet, :func:`open_form`)."""
    return button(FORM_LABEL, Action("assessform", sub.token), "primary")


def _grades(challenge: ChallengeDef, sub: Submission) -> tuple[int | None, ...]:
    """Each rubric row's grade so far (None: not rated yet)."""
    return tuple(_grade(sub, r) for r in range(len(challenge.rubric)))


def button_window(challenge: ChallengeDef, sub: Submission) -> int:
    """The first rubric row given buttons where there is no form. The rows come in pages
    of :data:`BUTTON_ROWS`: the page of the first row not rated yet (the last page once
    every row is rated), so buttons stay put while a page is rated and move on when it is
    done; the last page is moved back to stay full."""
    n = len(challenge.rubric)
    unrated = next((r for r in range(n) if r >= len(sub.grades) or sub.grades[r] is None), None)
    row = unrated if unrated is not None else n - 1
    return max(0, min(row // BUTTON_ROWS * BUTTON_ROWS, n - BUTTON_ROWS))


def assessment_reply(
    challenge: ChallengeDef, sub: Submission, run_token: str, *, first: bool = False
) -> Reply:
    """The private self-assessment: tick checkpoints, rate each rubric row, then apply.

    Where there are no forms each checkpoint and each row gets buttons (the first
    :data:`BUTTON_CHECKPOINTS` and :data:`BUTTON_ROWS`); a platform with forms shows
    one button instead that opens them all as one form (:func:`open_form`). It offers
    the run's workspace (``run_token``), whose page then shows the grading view.
    """
    rows: list[tuple[Button, ...]] = []
    for i, checkpoint in enumerate(challenge.checkpoints[:BUTTON_CHECKPOINTS]):
        ticked = i in sub.checks
        label = f"{'☑' if ticked else '☐'} {short(checkpoint, 40)}"
        style: ButtonStyle = "success" if ticked else "secondary"
        rows.append((button(label, Action("check", sub.token, i), style),))
    lines: list[str] = []
    start = button_window(challenge, sub)
    for r, row in enumerate(challenge.rubric):
        grade = sub.grades[r] if r < len(sub.grades) else None
        lines.append(f"{r + 1}. {row.text}: {GRADE_NAMES[grade] if grade else 'not rated yet'}")
        if not start <= r < start + BUTTON_ROWS:
            continue
        rows.append(
            tuple(
                button(
                    f"{r + 1}. {'▶ ' if grade == level else ''}{GRADE_SHORT[level]}",
                    Action("grade", sub.token, 10 * r + level),
                    "primary" if grade == level else "secondary",
                )
                for level in (3, 2, 1)
            )
        )
    rows.append((button("Apply to my cards", Action("assessed", sub.token), "success"),))
    last = (
        button(
            "Name me in the summary ✓" if sub.show_name else "Name me in the summary",
            Action("showname", sub.token),
        ),
        share_button(sub),
    )
    rows.append(last)
    intro = f"Self-assessment for “{challenge.title}”."
    if first:
        intro += " Be honest: it schedules your own cards."
    intro += "\n"
    if sub.text:
        yours = f"Your answer:\n{sub.text}\n\n"
    elif sub.photo_ref:
        yours = "Your answer: the photo of your page you sent.\n\n"
    elif sub.submitted:  # a photo answer whose photo was dropped since (both clear the ref)
        yours = PHOTO_NOT_KEPT + "\n\n"
    else:
        yours = ""
    body = intro + yours + "Tick the checkpoints you got, and rate each row:\n" + "\n".join(lines)
    return Reply(
        "assess",
        body,
        buttons=tuple(rows),
        form_buttons=((form_button(sub),), last),
        workspace=challenge_workspace(run_token),
    )


def as_attachment(photo: StoredPhoto) -> Attachment:
    """A stored photo answer as the file a reply uploads."""
    return Attachment(photo.filename, photo.data)


def own_photo(tx: Tx, run: ChallengeRun, sub: Submission) -> Reply | None:
    """At the reveal, the member's own photo answer, as they sent it (a message of its
    own before the self-assessment, which is edited as they tick and grade); None when
    they answered in text or the photo is no longer kept."""
    stored = tx.challenges.photo(run.id, sub.learner_id) if sub.photo_ref else None
    if stored is None:
        return None
    return Reply("info", "Your answer, as you sent it:", photo=as_attachment(stored))


def resend(
    tx: Tx, message: OutboxMessage, learner: Learner, catalog: ChallengeCatalog
) -> Reply | tuple[Reply, ...] | None:
    """A self-assessment the outbox sends again, as it stands now, as the reveal sent it:
    the member's own photo answer first when it is still kept (read here, in the unit of
    work that builds the message), then the self-assessment; None when there is nothing
    to send (applied already, or the run or the challenge is gone). A photo dropped since
    (housekeeping, or the group's room) is not claimed as shown: the text says so."""
    if message.prompt_token is None:
        return None
    sub = tx.challenges.submission_by_token(message.prompt_token)
    if sub is None or sub.learner_id != learner.id or sub.assessed_at is not None:
        return None
    run = tx.challenges.run_by_id(sub.run_id)
    challenge = catalog.get(run.challenge_id) if run is not None else None
    if challenge is None or run is None:
        return None
    mine = own_photo(tx, run, sub)
    if mine is None:
        # Not shown: a photo answer whose bytes are gone reads as no longer kept.
        return assessment_reply(challenge, replace(sub, photo_ref=None), run.token, first=True)
    return mine, assessment_reply(challenge, sub, run.token, first=True)


def _mine(
    tx: Tx, member: Learner, token: str, catalog: ChallengeCatalog
) -> tuple[Submission, ChallengeRun, ChallengeDef] | Outcome:
    """The member's own submission a self-assessment names, its revealed run and its
    challenge; or the answer for a token that names none of them (expired) or a
    challenge gone from the files."""
    sub = tx.challenges.submission_by_token(token)
    if sub is None or sub.learner_id != member.id:
        return EXPIRED
    run = tx.challenges.run_by_id(sub.run_id)
    if run is None or run.revealed_at is None:
        return EXPIRED
    challenge = catalog.get(run.challenge_id)
    if challenge is None:
        return notice("This challenge is no longer in the challenge files.")
    return sub, run, challenge


def press(
    tx: Tx,
    member: Learner,
    kind: ActionKind,
    token: str,
    arg: int | None,
    now: datetime,
    catalog: ChallengeCatalog,
    after_commit: AfterCommit,
) -> Outcome:
    """A self-assessment button: tick, grade, name opt-in, share, or apply.

    The form is edited in place as the member ticks and grades; once applied it
    becomes the list of the cards that moved, keeping only "Share my answer".
    A tap that changes nothing is answered with a notice and leaves the message.
    """
    found = _mine(tx, member, token, catalog)
    if isinstance(found, Outcome):
        return found
    sub, run, challenge = found
    if kind == "share":
        return _share(tx, run, sub, now, after_commit.posts)
    if sub.assessed_at is not None and kind in ("check", "grade", "assessed"):
        return notice(ALREADY_APPLIED)
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
        return _apply(tx, member, run, sub, challenge, now, catalog, after_commit)
    else:
        return EXPIRED
    tx.challenges.save_submission(sub)
    return Outcome(edit=assessment_reply(challenge, sub, run.token))


def open_form(
    tx: Tx, member: Learner, token: str, start: int | None, catalog: ChallengeCatalog
) -> Outcome:
    """ "Rate every row": the self-assessment as one form, filled in with what the member
    rated and ticked so far, opening at row ``start`` (None: the first row not rated)."""
    found = _mine(tx, member, token, catalog)
    if isinstance(found, Outcome):
        return found
    sub, _run, challenge = found
    if sub.assessed_at is not None:
        return notice(ALREADY_APPLIED)
    grades = _grades(challenge, sub)
    if start is None or not 0 <= start < len(grades):
        start = next((r for r, g in enumerate(grades) if g is None), 0)
    form = AssessmentForm(
        token=sub.token,
        title=challenge.title,
        checkpoints=challenge.checkpoints,
        rows=tuple(row.text for row in challenge.rubric),
        grades=grades,
        checks=sub.checks,
        start=start,
    )
    return Outcome(assessment=form)


def assess(
    tx: Tx,
    member: Learner,
    token: str,
    grades: Sequence[tuple[int, int]],
    checks: Sequence[int] | None,
    now: datetime,
    catalog: ChallengeCatalog,
    after_commit: AfterCommit,
) -> Outcome:
    """A submitted self-assessment form: ``(row, grade)`` pairs and the ticked
    checkpoints (None: the form did not show them).

    The grades join those given before (a form shown in parts sends one part at a
    time). Once every row is rated they are applied exactly as the buttons' "Apply"
    does (:func:`_apply`); until then what was sent is kept, the self-assessment shows
    it (its button opens the form at the first row left), and the member is told which
    rows are left. A row given two ratings is left unrated and asked again (the other
    rows are kept, so one mis-tick in a long form loses nothing). A row or checkpoint
    this challenge does not have, or a grade other than 1-3, changes nothing and says so.
    """
    found = _mine(tx, member, token, catalog)
    if isinstance(found, Outcome):
        return found
    sub, run, challenge = found
    if sub.assessed_at is not None:
        return notice(ALREADY_APPLIED)
    size = len(challenge.rubric)
    given: dict[int, int] = {}
    doubled: set[int] = set()
    mismatch = False
    for row, grade in grades:
        if not 0 <= row < size or grade not in GRADE_NAMES:
            mismatch = True
        elif given.setdefault(row, grade) != grade:
            doubled.add(row)
    if checks is not None and any(not 0 <= c < len(challenge.checkpoints) for c in checks):
        mismatch = True
    if mismatch:  # no button here: the form opened from the self-assessment edits it
        return Outcome(replies=(Reply("info", FORM_MISMATCH),), to="private")
    merged = list(_grades(challenge, sub))
    for row, grade in given.items():
        merged[row] = None if row in doubled else grade
    sub = replace(sub, grades=tuple(merged))
    if checks is not None:
        sub = replace(sub, checks=tuple(sorted(set(checks))))
    left = [r for r, g in enumerate(merged) if g is None]
    if not left:
        return _apply(tx, member, run, sub, challenge, now, catalog, after_commit)
    tx.challenges.save_submission(sub)
    names = ", ".join(str(r + 1) for r in left[:10]) + (" and more" if len(left) > 10 else "")
    text = (
        f"Saved. {len(left)} row{'s' if len(left) > 1 else ''} still to rate ({names}): "
        f"tap “{FORM_LABEL}” again, it opens there. Nothing is applied to your cards "
        "until every row is rated."
    )
    if doubled:
        first = min(doubled)
        text = (
            f"Row {first + 1} ({short(challenge.rubric[first].text, 40)}) got two ratings, "
            "so it is left unrated: choose one. "
            if len(doubled) == 1
            else "Rows "
            + ", ".join(str(r + 1) for r in sorted(doubled))
            + " got two ratings, so they are left unrated: choose one for each. "
        ) + text
    more = Reply("info", text)
    return Outcome(edit=assessment_reply(challenge, sub, run.token), replies=(more,), to="private")


def _share(tx: Tx, run: ChallengeRun, sub: Submission, now: datetime, posts: Posts) -> Outcome:
    if sub.shared_at is not None:
        return notice("You already shared your answer with the group.")
    if sub.text is None and sub.photo_ref is None:
        # Answered, with a photo housekeeping (or the group's share) has dropped since.
        return notice(PHOTO_GONE if sub.submitted else "You have no answer to share.")
    tx.challenges.save_submission(replace(sub, shared_at=now))
    text = f"{sub.display_name} shares their answer:\n\n{sub.text or '(a photo of their page)'}"
    stored = tx.challenges.photo(run.id, sub.learner_id) if sub.photo_ref else None
    shown = (
        Reply("info", text, photo=as_attachment(stored))
        if stored is not None
        else Reply("info", text, photo_ref=sub.photo_ref)  # an answer from before 0014
    )
    posts.append(Announcement(run.platform, run.chat_id, shown, starter_id=sub.learner_id))
    return notice("Shared with the group.")


def _apply(
    tx: Tx,
    member: Learner,
    run: ChallengeRun,
    sub: Submission,
    challenge: ChallengeDef,
    now: datetime,
    catalog: ChallengeCatalog,
    after_commit: AfterCommit,
) -> Outcome:
    """Turn the grades into reviews of the linked cards (the worst grade wins per card)."""
    worst: dict[str, int] = {}
    for r, row in enumerate(challenge.rubric):
        grade = sub.grades[r] if r < len(sub.grades) else None
        if grade is None:
            continue
        for card_id in row.card_ids:
            worst[card_id] = min(worst.get(card_id, 3), grade)
    if not worst:
        return notice("Rate at least one row first.", alert=True)
    if not tx.challenges.claim_assessment(run.id, member.id, now):
        return notice(ALREADY_APPLIED)  # a tap racing this one applied it
    moved: list[str] = []
    for card_id, grade in worst.items():
        card = tx.catalogue.card(card_id)
        if card is None:
            continue
        before = tx.schedule.get(member.id, card_id)
        rating = GRADE_RATING[grade]
        after = srs.review(
            before,
            rating,
            now,
            member.settings,
            token=sub.token,
            due_counts=due_counter(tx, member.id),  # no preview: the load now
            in_exam=exam.covers(member.settings, member.topics, card),
        )
        tx.schedule.save(after)
        record_review(
            tx,
            ReviewEntry(
                learner_id=member.id,
                card_id=card_id,
                rating=rating,
                reviewed_at=now,
                source=ReviewSource.CHALLENGE,
                before=before,
                after=after,
            ),
            after_commit,
        )
        line = f"• {card.title}: {RATING_NAMES[rating]}, {srs.outlook(before, after, now)}"
        moved.append(line + (" (/unsuspend brings it back)" if after.suspended else ""))
    sub = replace(sub, assessed_at=now)
    tx.challenges.save_submission(sub)
    waiting = [
        s for s in tx.challenges.submissions(run.id) if s.submitted and s.assessed_at is None
    ]
    if all(_unreachable(tx, s.learner_id) for s in waiting):  # they cannot even see theirs
        summary = summarize(tx, run, now, catalog)
        if summary is not None:
            after_commit.posts.append(summary)
    text = "Applied to your schedule. The cards that moved:\n" + "\n".join(moved)
    return Outcome(notice=APPLIED, edit=Reply("info", text, buttons=((share_button(sub),),)))


def _unreachable(tx: Tx, learner_id: int) -> bool:
    learner = tx.learners.get_by_id(learner_id)
    return learner is None or learner.unreachable


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
    rows = tuple(short(r.text, 40) for r in challenge.rubric)
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
    reply = Reply("challenge_result", "\n".join(lines), figure=heat if assessed else None)
    return Announcement(run.platform, run.chat_id, reply, starter_id=run.started_by)


def _grade(sub: Submission, row: int) -> int | None:
    return sub.grades[row] if row < len(sub.grades) else None


def summarize_late(
    tx: Tx, now: datetime, revealed_before: datetime, catalog: ChallengeCatalog
) -> list[Announcement]:
    """Summaries of runs revealed before ``revealed_before`` that never got one."""
    out: list[Announcement] = []
    for run in tx.challenges.due_summaries(revealed_before):
        summary = summarize(tx, run, now, catalog)
        if summary is not None:
            out.append(summary)
    return out
