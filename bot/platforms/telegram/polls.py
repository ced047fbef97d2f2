"""Quiz polls on Telegram: a /quiz round on a card with choices, as a native quiz poll.

The poll is non-anonymous (each member's answer reaches the bot as a ``poll_answer``
update and feeds their own schedule), has one right option (``correct_option_ids``,
Bot API 10.0) and no revoting. python-telegram-bot 22.8 speaks Bot API 10.0, so
``sendPoll`` goes through :meth:`telegram.Bot.send_poll` with its own arguments.

Its explanation (at most 200 characters, shown to a member once they have answered)
ends with a link to the private chat, ``t.me/<bot>?start=qa_<round>``, that shows the
full back. A link rather than a Reveal button: it opens the private chat even for a
member who never started one (a bot cannot write first, so a Reveal button's private
reply would not reach them), and the explanation appears only after answering, so it
never gives the answer away.

When Telegram refuses the poll (polls not allowed in the group), the round goes on as
a Reveal round: today's card with its button is posted instead. When a round closes,
its poll is stopped (``stopPoll``) before the answer and tally are posted; a poll that
cannot be stopped (deleted, already closed) is logged, and the answer still goes out.
"""

from __future__ import annotations

import html
import logging
from dataclasses import replace
from typing import Any, Final

from telegram import Message, Poll, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.core.choices import EXPLANATION_LIMIT, QuizPoll, clip
from bot.core.messages import Reply
from bot.core.quiz import QuizService
from bot.platforms.telegram.sending import Sender
from bot.platforms.telegram.updates import who_of
from bot.text.split import utf16_len

__all__ = ["BACK_LINK_TEXT", "POLL_REFUSED", "QuizPolls", "explanation_html"]

log = logging.getLogger(__name__)

#: The text of the explanation's link to the full back.
BACK_LINK_TEXT: Final = "Full answer (private)"
#: Begins the Reveal card posted when Telegram refused the poll its intro announced.
POLL_REFUSED: Final = (
    "I couldn't post the poll here (this group may not allow polls), so no poll this time."
)


def explanation_html(poll: QuizPoll, link: str) -> str:
    """The poll's explanation as Telegram HTML: the core's text and the link to the full
    back, within 200 characters as Telegram counts them (the link's URL does not count)."""
    room = EXPLANATION_LIMIT - utf16_len(BACK_LINK_TEXT) - 1
    text = clip(poll.explanation, room)
    return f'{html.escape(text)} <a href="{html.escape(link)}">{BACK_LINK_TEXT}</a>'


class QuizPolls:
    """Posts a round's quiz poll, stops it, and hands poll answers to the core.

    Args:
        sender: sends through the paced bot.
        quiz: the core's group quizzes.
    """

    def __init__(self, sender: Sender, quiz: QuizService) -> None:
        self.sender = sender
        self.quiz = quiz

    async def post(self, chat_id: int, reply: Reply) -> None:
        """Post a round: its intro (with the front when the question does not fit a poll),
        then the poll; the Reveal card instead when Telegram refuses the poll.

        Raises:
            TelegramError: the bot may not post in the group at all (the error handler
                tells the member who asked).
        """
        poll = reply.poll
        assert poll is not None
        if poll.front_above:
            above = replace(reply, text=poll.intro, buttons=(), poll=None)
            await self.sender.send_reply(chat_id, above)
        else:
            await self.sender.send_markdown(chat_id, poll.intro)
        try:
            message = await self._send_poll(chat_id, poll)
        except (BadRequest, Forbidden) as exc:
            if "poll" not in str(exc).lower():  # not about polls: the group refuses the bot
                raise
            log.warning(
                "telegram refused a quiz poll in %s (%s): a Reveal card instead", chat_id, exc
            )
            fallback = replace(reply, poll=None, text=f"{POLL_REFUSED} {reply.text}")
            if poll.front_above:  # the front is above already: only the button
                text = f"{POLL_REFUSED} Tap Reveal to see the answer."
                fallback = replace(fallback, card=None, text=text)
            await self.sender.send_reply(chat_id, fallback)
            return
        sent = message.poll
        if sent is None:  # pragma: no cover - Telegram always answers with the poll
            return
        kept = await self.quiz.poll_posted(
            poll.round_token, sent.id, str(message.message_id), poll.correct
        )
        if not kept:  # the round closed meanwhile: nobody's answer would count
            await self.stop(chat_id, str(message.message_id))

    async def _send_poll(self, chat_id: int, poll: QuizPoll) -> Message:
        bot = self.sender.bot
        explanation = explanation_html(poll, self.sender.link(poll.back_start))
        # PTB types the ids as literals 0-11; ours is checked to be below 10 by the core.
        correct: Any = [poll.correct]

        async def send() -> Message:
            return await bot.send_poll(
                chat_id,
                poll.question,
                list(poll.options),
                is_anonymous=False,
                type=Poll.QUIZ,
                correct_option_ids=correct,
                allows_revoting=False,
                explanation=explanation,
                explanation_parse_mode=ParseMode.HTML,
            )

        return await self.sender.call(send)

    async def stop(self, chat_id: int, message_id: str) -> None:
        """Stop a round's poll; one that cannot be stopped is logged and left."""
        bot = self.sender.bot

        async def stop() -> Poll:
            return await bot.stop_poll(chat_id, int(message_id))

        try:
            await self.sender.call(stop)
        except TelegramError as exc:
            log.info("telegram: could not stop quiz poll %s in %s: %s", message_id, chat_id, exc)

    async def on_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A member answered (or changed or retracted) a quiz poll: one core call."""
        answer = update.poll_answer
        if answer is None or answer.user is None:  # an anonymous vote names no member
            return
        await self.quiz.poll_answer(who_of(answer.user), answer.poll_id, answer.option_ids)
