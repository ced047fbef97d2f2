"""The repositories of one transaction (the :class:`~bot.core.ports.Tx` port over SQL)."""

from __future__ import annotations

from sqlalchemy import Connection

from bot.core.model import CardInfo
from bot.storage.catalogue import SqlCatalogue
from bot.storage.challenges import SqlChallenges
from bot.storage.confirmations import SqlConfirmations
from bot.storage.fanout import Fanout
from bot.storage.learners import SqlLearners
from bot.storage.media import SqlMedia
from bot.storage.models import SqlModels
from bot.storage.personal import SqlPersonalDecks
from bot.storage.prompts import SqlPrompts
from bot.storage.pushes import SqlPushes
from bot.storage.questions import SqlQuestions
from bot.storage.quizzes import SqlQuizzes
from bot.storage.reviews import SqlReviews
from bot.storage.schedule import SqlSchedule
from bot.storage.web import SqlWebRepo


class SqlTx:
    """The repositories of one transaction, over one connection.

    Args:
        conn: the connection, inside the transaction.
        card_cache: card content shared by the transactions of one database object.
        fanout: the database's own statements for the push fan-out.
    """

    def __init__(
        self, conn: Connection, card_cache: dict[str, CardInfo | None], fanout: Fanout
    ) -> None:
        self.conn = conn
        self.learners = SqlLearners(conn)
        self.catalogue = SqlCatalogue(conn, card_cache)
        self.schedule = SqlSchedule(conn)
        self.reviews = SqlReviews(conn)
        self.prompts = SqlPrompts(conn)
        self.quizzes = SqlQuizzes(conn)
        self.confirmations = SqlConfirmations(conn)
        self.pushes = SqlPushes(conn, fanout)
        self.challenges = SqlChallenges(conn, fanout)
        self.questions = SqlQuestions(conn)
        self.models = SqlModels(conn, fanout)
        self.media = SqlMedia(conn)
        self.personal = SqlPersonalDecks(conn, card_cache)
        self.web = SqlWebRepo(conn)
