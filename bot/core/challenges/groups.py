"""The catalogue of challenges, a group's challenge settings, and who may run them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.challenges.definitions import ChallengeDef, ChallengeSet
from bot.core.messages import Reply
from bot.core.model import ChallengeRun, GroupSettings, Learner
from bot.core.ports import Tx
from bot.core.settings import is_known_zone, resolve_zone
from bot.text.excerpt import excerpt


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


def local_time(when: datetime, tz: str) -> str:
    """``HH:MM`` of an instant in a time zone."""
    return when.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def group_settings(tx: Tx, platform: str, chat_id: str, default_tz: str) -> GroupSettings:
    """A group's settings, or the defaults for a group that never changed them."""
    return tx.challenges.group(platform, chat_id) or GroupSettings(platform, chat_id, default_tz)


def may_run(
    group: GroupSettings, is_admin: bool, learner_id: int, run: ChallengeRun | None
) -> bool:
    """Whether a member may start (run None), cancel or reveal a run in this group."""
    if group.who_runs == "everyone" or is_admin:
        return True
    return run is not None and run.started_by == learner_id


def refused(action: str) -> Reply:
    """The reply to a member who may not ``action`` a challenge here."""
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
    group = group_settings(tx, learner.platform, chat_id, default_tz)
    if key == "timezone":
        zone = resolve_zone(value)
        if not is_known_zone(zone):
            known = "is not a time zone I know (try Europe/Paris)."
            return Reply("error", f"“{excerpt(value)}” {known}")
        group = replace(group, timezone=zone)
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
