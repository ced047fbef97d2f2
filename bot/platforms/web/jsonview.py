"""The core's values as the JSON of ``docs/web.md``: outcomes, replies, pages.

Card and challenge images are drawn through the app's renderer (``App.pictures``, as
the chat adapters draw them) and sent inline as ``data:`` URLs: the page loads
nothing from anywhere else, and nothing it shows needs another request.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from bot.core.challenges.photos import StoredPhoto
from bot.core.drawing import draw_card
from bot.core.messages import CardView, Reply
from bot.core.model import CardImage, Draft
from bot.core.outcomes import Outcome
from bot.core.rendering import Renderer
from bot.core.workspace import ChallengePage, Grading, StatsPage

JSON = dict[str, Any]


def iso(when: datetime) -> str:
    """An instant as ISO 8601 UTC (``2026-12-07T09:00:00Z``)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def data_url(data: bytes, mime: str) -> str:
    """Bytes as a ``data:`` URL."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


async def card_image(pictures: Renderer | None, card: CardView | None) -> str | None:
    """The image of the side a card shows, drawn, as a data URL (None: none, or it could
    not be drawn: the card's text stands alone, as in the chat)."""
    drawn = await draw_card(pictures, card)
    return data_url(drawn.data, drawn.media_type) if drawn is not None else None


async def challenge_image(pictures: Renderer | None, image: CardImage | None) -> str | None:
    """A challenge's reference image, drawn, as a data URL (None: none, or not drawn)."""
    if image is None:
        return None
    view = CardView("reference", "", "", "", back="", back_image=image)
    return await card_image(pictures, view)


async def reply_json(reply: Reply, pictures: Renderer | None) -> JSON:
    """One reply: its kind, markdown, card (with its image drawn) and buttons."""
    card: JSON | None = None
    if reply.card is not None:
        c = reply.card
        card = {
            "id": c.card_id,
            "title": c.title,
            "deck": c.deck_title,
            "front": c.front,
            "back": c.back,
            "mnemonic": c.mnemonic,
            "notes": c.notes,
            "typed_answer": c.typed_answer,
            "image": await card_image(pictures, c),
        }
    return {
        "kind": reply.kind,
        "text": reply.text,
        "card": card,
        "buttons": [
            [{"label": b.label, "payload": b.payload, "style": b.style} for b in row]
            for row in reply.buttons
        ],
    }


async def outcome_json(outcome: Outcome, pictures: Renderer | None) -> JSON:
    """An outcome: the notice, the edit of what was shown, the new replies, the close note."""
    return {
        "notice": outcome.notice,
        "alert": outcome.alert,
        "replies": [await reply_json(r, pictures) for r in outcome.replies],
        "edit": await reply_json(outcome.edit, pictures) if outcome.edit is not None else None,
        "close": outcome.close,
    }


def _draft(draft: Draft | None) -> JSON | None:
    return None if draft is None else {"text": draft.text, "updated_at": iso(draft.updated_at)}


def _photo(photo: StoredPhoto | None) -> str | None:
    return None if photo is None else data_url(photo.data, photo.mime)


async def _grading(grading: Grading | None, pictures: Renderer | None) -> JSON | None:
    if grading is None:
        return None
    return {
        "token": grading.token,
        "reference": grading.reference,
        "reference_image": await challenge_image(pictures, grading.reference_image),
        "answer": grading.answer,
        "answer_photo": _photo(grading.answer_photo),
        "checkpoints": list(grading.checkpoints),
        "rows": list(grading.rows),
        "grades": list(grading.grades),
        "checks": list(grading.checks),
        "assessed": grading.assessed,
    }


async def challenge_json(page: ChallengePage, pictures: Renderer | None) -> JSON:
    """``GET /api/challenge/{run}``."""
    run, sub = page.run, page.submission
    return {
        "run": {
            "token": run.token,
            "title": run.title,
            "kind": run.kind,
            "prompt": run.prompt,
            "state": run.state,
            "deadline": iso(run.deadline),
            "now": iso(run.now),
        },
        "draft": _draft(page.draft),
        "submission": {
            "text": sub.text,
            "photo": sub.photo,
            "submitted_at": iso(sub.submitted_at) if sub.submitted_at else None,
            "shared": sub.shared,
        },
        "grading": await _grading(page.grading, pictures),
        "others": [{"name": o.name, "text": o.text, "photo": o.photo} for o in page.others],
    }


def stats_json(page: StatsPage) -> JSON:
    """``GET /api/stats``."""
    return {
        "target": page.target,
        "forecast": [{"day": day.isoformat(), "due": n} for day, n in page.forecast],
        "retention": [
            {"week": w.week.isoformat(), "reviews": w.reviews, "recalled": w.recalled}
            for w in page.retention
        ],
        "calibration": [
            {
                "predicted": round(b.predicted, 4),
                "actual": round(b.observed, 4),
                "reviews": b.reviews,
            }
            for b in page.calibration
        ],
        "workload": [
            {"day": d.day.isoformat(), "reviews": d.reviews, "seconds": d.seconds}
            for d in page.workload
        ],
    }
