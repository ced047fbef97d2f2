"""Commands and private messages: each becomes one core call, and its outcome is sent.

Personal commands (/review, /stats, /settings, ...) work in the private chat;
in a group they point there. /quiz and /challenge work in groups. /start sets a
new learner up (the core's onboarding) or, as ``/start ch_<token>``, joins a
group challenge. A private message that is not a command (text or a photo)
goes to :meth:`bot.core.inputs.Inputs.text`; a file sent in the private chat (an
Anki package or text export) to :meth:`bot.core.study.StudyService.import_file`
(files sent in groups are none of the bot's business). A command's notice is a
short reply in the chat; its replies go to the chat, or to the private chat when
they are for the person alone.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Final

from telegram import Chat, Message, Update, User
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.ankifile import MAX_IMPORT_BYTES
from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.onboarding import Onboarding
from bot.core.outcomes import Outcome
from bot.core.quiz import QuizService
from bot.core.quizpolls import back_token
from bot.core.settings import names_retention
from bot.core.study import StudyService
from bot.platforms.telegram.challenges import (
    CHALLENGE_PRIVATE,
    CHALLENGE_USAGE,
    NEEDS_ADMIN,
    ChallengeCommand,
    is_admin_status,
    join_start,
    parse_challenge,
)
from bot.platforms.telegram.formatting import to_html
from bot.platforms.telegram.group_answers import GroupAnswers
from bot.platforms.telegram.one_member import OneMember
from bot.platforms.telegram.polls import QuizPolls
from bot.platforms.telegram.sending import Sender, replying
from bot.platforms.telegram.updates import command_name, is_private, who_of
from bot.text.excerpt import excerpt

__all__ = [
    "HELP_GROUP",
    "HELP_PRIVATE",
    "IMPORT_HOW",
    "MENU_GROUP",
    "MENU_PRIVATE",
    "PRIVATE_COMMANDS",
    "Commands",
]

log = logging.getLogger(__name__)

#: Commands about the learner's own studies: answered in the private chat only.
PRIVATE_COMMANDS: Final = (
    ("review", "Study your next card"),
    ("stats", "Your progress and what is due"),
    ("settings", "Time zone, reminder time, daily limits"),
    ("decks", "Decks, and which ones you study"),
    ("exam", "An exam date: its cards come back in time"),
    ("cram", "Practise a topic; your schedule stays as it is"),
    ("undo", "Undo your last rating"),
    ("unsuspend", "Bring suspended cards back"),
    ("pause", "Pause the daily reminders"),
    ("resume", "Resume the daily reminders"),
    ("export", "Your history as CSV; /export anki for Anki"),
    ("import", "Bring in your Anki decks (.apkg, .txt, .csv)"),
    ("forget", "Delete everything I hold about you"),
)
#: The command menu of private chats.
MENU_PRIVATE: Final = (
    ("start", "Set up: time zone, reminder, decks"),
    ("review", "Study your next card"),
    ("stats", "Your progress and what is due"),
    ("settings", "Time zone, reminder time, daily limits"),
    ("decks", "Decks, and which ones you study"),
    ("exam", "An exam date: its cards come back in time"),
    ("cram", "Practise a topic; your schedule stays as it is"),
    ("undo", "Undo your last rating"),
    ("pause", "Pause the daily reminders"),
    ("resume", "Resume the daily reminders"),
    ("export", "Your history as CSV; /export anki for Anki"),
    ("import", "Bring in your Anki decks (.apkg, .txt, .csv)"),
    ("forget", "Delete everything I hold about you"),
    ("help", "What I can do"),
)
#: The command menu of groups.
MENU_GROUP: Final = (
    ("quiz", "Quiz the group on a topic, e.g. /quiz attention"),
    ("challenge", "Derive it from memory together: /challenge list"),
    ("help", "What I can do here"),
)

HELP_PRIVATE: Final = (
    "**Study**\n"
    "/review your next card: tap Show answer, then rate Again, Hard, Good or Easy\n"
    "/undo undo your last rating · /unsuspend bring suspended cards back\n"
    "/stats your progress · /decks what you study (/decks attention); your own decks: "
    "/decks pause ID, /decks resume ID, /decks remove ID\n\n"
    "**Exams**\n"
    "/exam 2027-01-15 attention: until that day, the topic's cards come back in time to be "
    "recalled on it (/exam shows it, /exam target 0.85, /exam off)\n"
    "/cram attention practise a topic, weakest cards first, without changing your schedule "
    "(/review goes back to normal study)\n\n"
    "**Settings**\n"
    "/settings show or change (/settings timezone Europe/Paris, /settings new 15, "
    "/settings easy_days sat 50% sun 0%); /settings retention shows what each retention costs\n"
    "/pause /resume the daily reminder\n\n"
    "**Your data**\n"
    "/export your review history as CSV (/export anki: an Anki package) · "
    "/import bring in your Anki decks: send me the file here · "
    "/forget delete everything\n\n"
    "In a group, /quiz attention quizzes everyone; you rate yourself here, privately. "
    "Group challenges (/challenge) are answered here too."
)
HELP_GROUP: Final = (
    "/quiz <topic> posts a card (try /quiz attention). Tap Reveal: I send you the answer "
    "privately, you rate yourself, and it counts in your own schedule. "
    "The answer and a tally come here when everyone has rated or time is up.\n\n"
    "/challenge list: derive-it-from-memory challenges. Everyone answers me privately, "
    "then the reference comes here and each of you grades yourself."
)
QUIZ_IN_PRIVATE: Final = (
    "Quizzes are for groups: add me to a group and send /quiz attention there. "
    "Here, /review gives you your own cards."
)
SETTINGS_USAGE: Final = "Usage: /settings KEY VALUE, for example /settings timezone Europe/Paris"
#: /import: how to bring Anki decks in (the file itself is the import).
IMPORT_HOW: Final = (
    "Send me an Anki package (.apkg or .colpkg) or an Anki text export (.txt, .csv or "
    f".tsv) in this chat, as a file of up to {MAX_IMPORT_BYTES // (1024 * 1024)} MB. "
    "Its cards become decks only you study, with the review history a package carries; "
    "sending the same deck again updates it instead of copying it.\n\n"
    "In Anki: File → Export, choose Anki Deck Package (.apkg) and tick Include "
    "scheduling information (so your reviews come along) and Include media (for images)."
)


class Commands:
    """Handles commands and private messages.

    Args:
        sender: sends the outcomes.
        study: the study loop and the learner's settings and data.
        quiz: group quizzes.
        challenges: group challenges.
        onboarding: /start's walk-through.
        inputs: private messages, and commands ending an open question.
        polls: posts a /quiz round on a card with choices as a quiz poll.
        answers: challenge answers given in a group to the bot alone.
        members: shows an outcome for the person who asked (``to="ephemeral"``: a
            refusal, a status) to them alone in the group, where the server can.
    """

    def __init__(
        self,
        sender: Sender,
        *,
        study: StudyService,
        quiz: QuizService,
        challenges: ChallengeService,
        onboarding: Onboarding,
        inputs: Inputs,
        polls: QuizPolls | None = None,
        answers: GroupAnswers | None = None,
        members: OneMember | None = None,
    ) -> None:
        self.sender = sender
        #: Posts quiz polls (None: every /quiz round is a Reveal round).
        self.polls = polls
        #: Challenge answers given in a group to the bot alone (None: not taken there).
        self.answers = answers
        #: Shows an outcome meant for the person who asked to them alone in a group.
        self.members = members
        self.study = study
        self.quiz = quiz
        self.challenges = challenges
        self.onboarding = onboarding
        self.inputs = inputs

    async def show(self, chat_id: int, user: User, outcome: Outcome) -> None:
        """Send an outcome: its notice as a short reply, then its replies (the ones for the
        person alone to their private chat). Interactive replies: outside the overall
        budget (:func:`~bot.platforms.telegram.sending.replying`). An outcome for the
        person who asked (``to="ephemeral"``) is shown in a group to them alone where the
        server can (an ephemeral message), else to the group as before."""
        with replying():
            if outcome.to == "ephemeral":
                outcome = await self._to_them_alone(chat_id, user, outcome)
            if outcome.notice:
                await self.sender.send_markdown(chat_id, outcome.notice)
            target = user.id if outcome.to == "private" else chat_id
            await self.sender.send_replies(target, outcome.replies)

    async def _to_them_alone(self, chat_id: int, user: User, outcome: Outcome) -> Outcome:
        """The notice and replies shown in the group to ``user`` alone, as far as the
        server takes them: what is left to send the usual way (the whole outcome when
        not a group, or the server will not; nothing when all were shown)."""
        members = self.members
        if members is None or not members.usable(chat_id):
            return outcome
        notice = (Reply("info", outcome.notice),) if outcome.notice else ()
        shown = await members.show(chat_id, user.id, notice + outcome.replies)
        if shown >= len(notice):  # the notice went; so did the first replies
            outcome = replace(outcome, notice="")
            shown -= len(notice)
        return replace(outcome, replies=outcome.replies[shown:])

    async def _commanded(self, user: User, chat: Chat) -> Who:
        """Who sent a command; in a private chat it ends any question left open."""
        who = who_of(user)
        if is_private(chat):
            await self.inputs.command(who)
        return who

    async def _say(self, chat_id: int, markdown: str) -> None:
        with replying():
            await self.sender.send_markdown(chat_id, markdown)

    # ------------------------------------------------------------------ /start, /help

    async def on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start``: in a group, what I do; privately, the walk-through or a challenge's join."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if not is_private(chat):
            await self.sender.send_text(
                chat.id,
                to_html(HELP_GROUP)
                + f'\n\nFor your own daily reviews, <a href="{self.sender.link("hi")}">'
                "open a private chat with me</a>.",
            )
            return
        # Enrols the learner, makes them reachable again, and keeps their chat for pushes.
        who = who_of(user, dm_channel=chat.id)
        await self.inputs.command(who)
        arg = context.args[0] if context.args else ""
        run_token = join_start(arg)
        poll_round = back_token(arg)
        if run_token is not None:
            # From a challenge's "Submit my answer" when the bot could not write first.
            outcome = await self.challenges.join(who, run_token)
        elif poll_round is not None:  # a quiz poll's explanation: the full back
            outcome = await self.quiz.poll_back(who, poll_round)
        else:
            outcome = await self.onboarding.start(who, after_quiz=arg == "quiz")
        await self.show(chat.id, user, outcome)

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/help``: the commands of a private chat, or of a group."""
        user, chat = update.effective_user, update.effective_chat
        if chat is None:
            return
        if user is not None:
            await self._commanded(user, chat)
        await self._say(chat.id, HELP_PRIVATE if is_private(chat) else HELP_GROUP)

    # ------------------------------------------------------------------ groups

    async def on_quiz(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/quiz <topic>`` in a group (in a private chat: where to use it)."""
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        who = await self._commanded(user, chat)
        if is_private(chat):
            await self._say(chat.id, QUIZ_IN_PRIVATE)
            return
        topic = " ".join(context.args or ())
        outcome = await self.quiz.start(who, str(chat.id), topic, polls=self.polls is not None)
        poll = next((r for r in outcome.replies if r.poll is not None), None)
        if self.polls is not None and poll is not None and outcome.to == "chat":
            with replying():
                await self.polls.post(chat.id, poll)
            return
        await self.show(chat.id, user, outcome)

    async def on_challenge(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/challenge <subcommand>`` in a group (in a private chat: where to use it)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        who = await self._commanded(user, chat)
        if is_private(chat):
            await self._say(chat.id, CHALLENGE_PRIVATE)
            return
        command = parse_challenge(context.args or ())
        if command.action == "usage":
            await self._say(
                chat.id, CHALLENGE_USAGE if command.problem is None else command.problem
            )
            return
        admin = False
        if command.action in NEEDS_ADMIN:
            admin = await self._is_admin(chat.id, user.id, message)
        outcome = await self._challenge(who, str(chat.id), command, admin)
        await self.show(chat.id, user, outcome)

    async def _challenge(
        self, who: Who, chat_id: str, command: ChallengeCommand, admin: bool
    ) -> Outcome:
        """Run one parsed /challenge subcommand against the core."""
        challenges = self.challenges
        action = command.action
        if action == "list":
            return challenges.list_all()
        if action == "start":
            return await challenges.start(
                who, chat_id, command.challenge_id or "", command.minutes, admin
            )
        if action == "status":
            return await challenges.status(who, chat_id)
        if action == "cancel":
            return await challenges.cancel(who, chat_id, admin)
        if action == "reveal":
            return await challenges.reveal(who, chat_id, admin)
        if action == "schedule":
            return await challenges.schedule(
                who, chat_id, command.challenge_id or "", command.weekday, command.at, admin
            )
        if action == "unschedule":
            return await challenges.unschedule(who, chat_id, command.challenge_id, admin)
        return await challenges.configure(who, chat_id, command.key, command.value, admin)

    async def _is_admin(self, chat_id: int, user_id: int, message: Message) -> bool:
        """Whether the sender is the group's owner or an admin (Telegram's getChatMember).

        A message sent anonymously on behalf of the group comes from one of its admins.
        When Telegram cannot tell, the answer is no.
        """
        if message.sender_chat is not None and message.sender_chat.id == chat_id:
            return True
        bot = self.sender.bot
        try:
            member = await self.sender.call(lambda: bot.get_chat_member(chat_id, user_id))
        except TelegramError as exc:
            log.info("could not look up member %s of chat %s: %s", user_id, chat_id, exc)
            return False
        return is_admin_status(member.status)

    # ------------------------------------------------------------------ personal commands

    async def on_private_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """One of :data:`PRIVATE_COMMANDS`: answered privately (a group gets a pointer)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        command = command_name(message)
        who = who_of(user)
        await self.inputs.command(who)  # a personal command ends any question left open
        if not is_private(chat):
            await self.sender.send_text(
                chat.id,
                f'/{command} is personal, so let\'s do it in <a href="{self.sender.link("hi")}">'
                "our private chat</a>. Here, try /quiz attention.",
            )
            return
        args = list(context.args or ())
        if command == "import":  # the file is the import: say how to send one
            await self._say(chat.id, IMPORT_HOW)
            return
        if command == "settings" and len(args) == 1 and not names_retention(args[0]):
            await self._say(chat.id, SETTINGS_USAGE)
            return
        await self.show(chat.id, user, await self._personal(who, command, args))

    async def _personal(self, who: Who, command: str, args: list[str]) -> Outcome:
        """Run a personal command against the core."""
        study = self.study
        if command == "review":
            return await study.next(who, "dm")
        if command == "undo":
            return await study.undo(who, "dm")
        if command == "unsuspend":
            return await study.unsuspend(who, args or None)
        if command == "stats":
            return await study.stats(who)
        if command == "settings":
            if len(args) == 1:  # /settings retention: what each retention costs
                return await study.retention_costs(who)
            if args:
                return await study.change_setting(who, args[0], " ".join(args[1:]))
            return await study.settings(who, menu=True)
        if command == "decks":  # topics to study, or pause|resume|remove ID
            return await study.decks(who, args, menu=True)
        if command in ("pause", "resume"):
            return await study.pause(who, command == "pause")
        if command == "export":
            if args and args[0].lower() in ("anki", "apkg"):
                return await study.export_anki(who)
            return await study.export(who)
        if command == "exam":
            return await study.exam(who, args)
        if command == "cram":
            return await study.cram(who, " ".join(args) or None)
        if command == "forget":
            return await study.request_forget(who)
        raise AssertionError(f"unhandled personal command /{command}")  # pragma: no cover

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command I don't have; in a group, answered only when addressed to me by name."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or chat is None:
            return
        head = (message.text or "").split(maxsplit=1)[0] if (message.text or "").strip() else ""
        if not is_private(chat):
            # In groups, only answer commands addressed to this bot by name.
            username = (self.sender.bot.username or "").lower()
            if not username or not head.lower().endswith(f"@{username}"):
                return
        elif user is not None:
            await self._commanded(user, chat)
        command = excerpt(head.split("@", 1)[0])
        await self._say(chat.id, f"I don't know {command}. Send /help for the commands.")

    # ------------------------------------------------------------------ private messages

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private message: a challenge answer, an answer to an open question, or a hint."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.text:
            return
        who = who_of(user, dm_channel=chat.id)
        await self.show(chat.id, user, await self.inputs.text(who, message.text))

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A message in a group: a member's challenge answer posted there gets a pointer to
        the private chat; anything else is none of the bot's business."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or is_private(chat):
            return
        if self.answers is not None and await self.answers.take(message, user, chat):
            return
        outcome = await self.challenges.posted_in_group(who_of(user), str(chat.id))
        if outcome is None:
            return
        link = f' <a href="{self.sender.link("hi")}">Open our private chat</a>.'
        for reply in outcome.replies:
            await self.sender.send_text(chat.id, to_html(reply.text) + link)

    async def on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A private photo: a page answering a challenge (its caption as text), or a hint."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.photo:
            return
        who = who_of(user, dm_channel=chat.id)
        with replying():
            # Downloaded only when it answers an open challenge and its size fits; a
            # failed download is FileUnavailable, for the error handler.
            photo = await self.sender.photo_answer(message.photo)
            outcome = await self.inputs.text(who, message.caption, photo)
        await self.show(chat.id, user, outcome)

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A file sent in the private chat: imported into the learner's own decks (an Anki
        package or text export; the core says what it makes of anything else).

        The size Telegram declares goes to the core, which refuses a file over its limit
        before anything is downloaded; the download happens only when the core asks for
        the bytes. "Typing…" shows while it runs. A file that cannot be fetched raises
        :class:`~bot.platforms.telegram.sending.FileUnavailable` for the error handler.
        """
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not is_private(chat):
            return
        document = message.document
        if document is None:
            return
        sender = self.sender
        who = who_of(user, dm_channel=chat.id)
        with replying():
            async with sender.showing(chat.id):
                size, info = await self.sender.declared_size(document.file_id, document.file_size)

                async def fetch() -> bytes:
                    return await sender.download(document.file_id, info)

                outcome = await self.study.import_file(
                    who, document.file_name or "file", size, fetch
                )
        await self.show(chat.id, user, outcome)
