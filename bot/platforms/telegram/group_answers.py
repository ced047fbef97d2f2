"""A challenge answer given inside the group, to the bot alone.

A member asked for their answer by an ephemeral message (:attr:`AnswerForm.here
<bot.core.outcomes.AnswerForm.here>`) answers by replying to it. Their reply either is
ephemeral itself (the bot and they alone see it) or is an ordinary group message that
quotes the request (:func:`~.ephemeral.addressed_to_bot`); a reply to another message
shown to them alone (the bot's confirmation, a quiz card's back) is none of the
challenge's business, and is left alone. Either way an answer goes to the
core's submission path (:meth:`~bot.core.challenges.service.ChallengeService.posted_in_group`
with ``to_bot``), which stores it (or says that time is up). An ordinary message is then
deleted from the group so that nobody reads it before the reveal; without the right to
delete messages it stays, and the member is told that others may have seen it. The
confirmation goes to the member alone: ephemeral in the group, else their private chat.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Final

from telegram import Chat, Message, User
from telegram.error import TelegramError

from bot.core.challenges.runs import ASK_HERE
from bot.core.challenges.service import ChallengeService
from bot.platforms.telegram.ephemeral import addressed_to_bot, ephemeral_id
from bot.platforms.telegram.one_member import OneMember
from bot.platforms.telegram.sending import Sender, replying, unreachable
from bot.platforms.telegram.updates import who_of

__all__ = ["NOT_REMOVED", "GroupAnswers"]

log = logging.getLogger(__name__)

#: Added to the confirmation when the member's answer stays visible in the group.
NOT_REMOVED: Final = (
    "I could not remove your message from the group (an admin can give me the right to "
    "delete messages), so others may have read it. Next time, reply to my message only "
    "you can see."
)


class GroupAnswers:
    """Takes challenge answers given in a group to the bot alone.

    Args:
        sender: the platform's sender.
        members: shows the confirmation to the member alone, and deletes their message.
        challenges: where answers go.
    """

    def __init__(self, sender: Sender, members: OneMember, challenges: ChallengeService) -> None:
        self.sender = sender
        self.members = members
        self.challenges = challenges

    async def take(self, message: Message, user: User, chat: Chat) -> bool:
        """A group message: when it is a member's answer to the bot alone, stored and
        confirmed to them; False, having done nothing, for any other message."""
        if not addressed_to_bot(message, self.sender.bot.id) or not _to_the_request(message):
            return False
        photo = await self.sender.photo_answer(message.photo) if message.photo else None
        text = message.text if message.text is not None else message.caption
        outcome = await self.challenges.posted_in_group(
            who_of(user), str(chat.id), text, photo, to_bot=True
        )
        if outcome is None:
            return False
        replies = outcome.replies
        if not await self.members.remove(message):
            replies = tuple(
                replace(r, text=f"{r.text}\n\n{NOT_REMOVED}") if i == len(replies) - 1 else r
                for i, r in enumerate(replies)
            )
        with replying():
            shown = await self.members.show(chat.id, user.id, replies)
            if shown == len(replies):
                return True
            try:  # what the group did not show them, privately (none of it twice)
                await self.sender.send_replies(user.id, replies[shown:])
            except TelegramError as exc:
                if not unreachable(exc):
                    raise
                log.info("telegram user %s kept their answer but cannot be told: %s", user.id, exc)
        return True


def _to_the_request(message: Message) -> bool:
    """Not a reply to another message shown to the member alone (the bot's confirmation,
    a quiz card's back): a quoted ephemeral message must be the request for the answer
    (its text opens as the core words it; a quote without text cannot tell, and counts)."""
    quoted = message.reply_to_message
    if quoted is None or ephemeral_id(quoted) is None:
        return True
    said = quoted.text if quoted.text is not None else quoted.caption
    return said is None or said.startswith(ASK_HERE)
