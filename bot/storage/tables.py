"""The database schema (SQLAlchemy Core tables); the migrations in ``migrations/`` follow it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out (``tzinfo is timezone.utc``), on every backend.

    SQLite has no time zones: values are stored as naive UTC and given their
    zone back on the way out. PostgreSQL stores ``timestamptz``; whatever zone
    the driver returns is converted to ``timezone.utc``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if type(value) is datetime and value.tzinfo is UTC:  # the common case, kept cheap
            return value.replace(tzinfo=None) if dialect.name == "sqlite" else value
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant must be aware UTC")
        aware: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return aware.replace(tzinfo=None)
        return aware

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        if value.tzinfo is UTC:
            return value
        return value.astimezone(UTC)

    # SQLite: one step each way instead of two. The text is exactly what SQLAlchemy's
    # SQLite DATETIME writes ("2026-03-02 09:00:00.000000"), so stored values, and
    # comparisons between them, stay the same; reading it back is one C call.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        to_naive = self.process_bind_param

        def process(value: Any) -> str | None:
            naive = to_naive(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process

    def result_processor(
        self, dialect: Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            return None if value is None else parse(value).replace(tzinfo=UTC)

        return process


# Review-log ids outgrow 32 bits on a large bot; SQLite needs INTEGER for autoincrement.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

learners = Table(
    "learners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("platform_user_id", String(64), nullable=False),
    Column("display_name", String(128), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime),
    # Room for linking several platform accounts to one person later.
    Column("account_id", Integer),
    Column("unreachable", Boolean, nullable=False, default=False),
    Column("dm_channel_id", String(64)),
    # The next daily push, in UTC; NULL while pushes are stopped (long silence).
    Column("next_push_at", UTCDateTime),
    # Whether next_push_at is a snoozed push (the learner asked for it again later).
    Column("push_snoozed", Boolean, nullable=False, default=False, server_default=false()),
    Column("last_reminder_at", UTCDateTime),
    # When the learner's memory model is next looked at (fitted if the log has grown
    # enough); NULL: never yet, so at once. Claimed like next_push_at.
    Column("next_fit_at", UTCDateTime),
    UniqueConstraint("platform", "platform_user_id"),
    Index(None, "next_push_at"),
    Index(None, "next_fit_at"),
)

learner_settings = Table(
    "learner_settings",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("push_time", String(5), nullable=False),
    Column("desired_retention", Float, nullable=False),
    Column("new_cards_per_day", Integer, nullable=False),
    Column("max_reviews_per_day", Integer, nullable=False),
    Column("learning_steps", String(128), nullable=False),
    Column("relearning_steps", String(128), nullable=False),
    Column("maximum_interval_days", Integer, nullable=False),
    Column("leech_threshold", Integer, nullable=False),
    Column("enable_fuzzing", Boolean, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("fsrs_parameters", Text),
    # Comma-separated deck ids or tags; empty means every deck.
    Column("topics", Text, nullable=False, default=""),
    Column("quiet_start", String(5)),
    Column("quiet_end", String(5)),
    # Local weekdays without a push, as digits (0 = Monday): "56" is the weekend.
    Column("days_off", String(7), nullable=False, default="", server_default=""),
    Column("max_cards_per_push", Integer, nullable=False, default=20, server_default="20"),
    # Each weekday's share of a normal day's load, Monday first, comma-separated
    # ("1,1,1,1,1,0.5,0.5"); empty: every day is a normal day.
    Column("easy_days", String(64), nullable=False, default="", server_default=""),
    # An exam: its local date (ISO), the topic it covers (NULL: every card studied),
    # and the recall each card of it should have on that date.
    Column("exam_date", String(10)),
    Column("exam_topic", String(64)),
    Column("exam_target", Float, nullable=False, default=0.9, server_default="0.9"),
)

model_fits = Table(
    "model_fits",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("fitted_at", UTCDateTime, nullable=False),
    # Reviews the parameters were fitted on, and the held-out recent ones they were judged on.
    Column("reviews", Integer, nullable=False),
    Column("held_out", Integer, nullable=False),
    # Log loss on the held-out reviews: the parameters in use before, the new ones, the defaults.
    Column("logloss_current", Float, nullable=False),
    Column("logloss_fitted", Float, nullable=False),
    Column("logloss_default", Float, nullable=False),
    # Whether the new parameters replaced the ones in use (they beat them).
    Column("kept", Boolean, nullable=False),
    # The fitted parameters, a JSON array.
    Column("parameters", Text, nullable=False),
    Index(None, "learner_id", "fitted_at"),
)

decks = Table(
    "decks",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(256), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("path", Text, nullable=False),
    Column("tags", Text, nullable=False, default=""),
    Column("position", Integer, nullable=False, default=0),
    Column("synced_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
    # A personal deck (imported from Anki or a text file): its owner, the only learner
    # who sees it; NULL for the shipped decks, which every learner sees. A deck sync
    # never touches owned decks. No foreign key (migration 0012 says why): deleting a
    # learner deletes their decks first.
    Column("owner_id", Integer),
    # Where an owned deck came from ("anki", "text") and its identity there (Anki's deck
    # id, or a text file's deck name), so importing it again updates it.
    Column("source", String(16)),
    Column("source_ref", String(256)),
    # The owner paused it: its cards are not offered until resumed.
    Column("paused", Boolean, nullable=False, default=False, server_default=false()),
    Index(None, "owner_id"),
)

cards = Table(
    "cards",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("deck_id", String(64), ForeignKey("decks.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", String(256), nullable=False),
    Column("front", Text, nullable=False),
    Column("back", Text, nullable=False),
    Column("mnemonic", Text),
    Column("notes", Text),
    Column("difficulty", String(8), nullable=False),
    Column("related", Text, nullable=False, default=""),
    # The back's image (``image:``), shown with the answer.
    Column("image_kind", String(8)),
    Column("image_spec", Text),
    # The front's image (``front-image:``), shown with the question.
    Column("front_image_kind", String(8)),
    Column("front_image_spec", Text),
    # Its multiple-choice form as JSON ({"options": [...], "correct": i}), NULL for none (0013).
    Column("choices", Text),
    Column("content_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("retired_at", UTCDateTime),
    Index(None, "deck_id", "position"),
)

card_tags = Table(
    "card_tags",
    metadata,
    Column("card_id", String(64), ForeignKey("cards.id"), primary_key=True),
    Column("tag", String(64), primary_key=True),
    Index(None, "tag"),
)

_state_columns = (
    ("state", SmallInteger),
    ("step", Integer),
    ("stability", Float),
    ("difficulty", Float),
    ("due", UTCDateTime),
    ("last_review", UTCDateTime),
)

card_states = Table(
    "card_states",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("card_id", String(64), ForeignKey("cards.id"), primary_key=True),
    Column("state", SmallInteger, nullable=False),
    Column("step", Integer),
    Column("stability", Float),
    Column("difficulty", Float),
    Column("due", UTCDateTime, nullable=False),
    Column("last_review", UTCDateTime),
    Column("reps", Integer, nullable=False, default=0),
    Column("lapses", Integer, nullable=False, default=0),
    Column("suspended", Boolean, nullable=False, default=False),
    Column("leech", Boolean, nullable=False, default=False),
    Column("buried_until", UTCDateTime),
    Index(None, "learner_id", "due"),
    # Removing a deck's cards checks the rows naming them (0012).
    Index(None, "card_id"),
)

review_logs = Table(
    "review_logs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("card_id", String(64), ForeignKey("cards.id"), nullable=False),
    Column("rating", SmallInteger, nullable=False),
    Column("reviewed_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer),
    Column("source", String(16), nullable=False),
    Column("typed_answer", Text),
    *(Column(f"before_{name}", typ) for name, typ in _state_columns),
    Column("before_reps", Integer, nullable=False),
    Column("before_lapses", Integer, nullable=False),
    Column("before_suspended", Boolean, nullable=False),
    Column("before_leech", Boolean, nullable=False),
    Column("before_buried_until", UTCDateTime),
    *(Column(f"after_{name}", typ) for name, typ in _state_columns),
    Column("after_lapses", Integer, nullable=False),
    Column("undone_at", UTCDateTime),
    Index(None, "learner_id", "reviewed_at"),
    Index(None, "card_id"),
)

prompts = Table(
    "prompts",
    metadata,
    Column("token", String(22), primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("card_id", String(64), ForeignKey("cards.id"), nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revealed_at", UTCDateTime),
    Column("answered_at", UTCDateTime),
    Column("typed_answer", Text),
    # The interval each rating gives, in seconds, as the reveal showed them ("600,86400,...").
    Column("intervals", String(64)),
    Index(None, "learner_id", "created_at"),
    Index(None, "card_id"),
)

quiz_rounds = Table(
    "quiz_rounds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token", String(22), nullable=False, unique=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("card_id", String(64), ForeignKey("cards.id"), nullable=False),
    Column("topic", String(64), nullable=False),
    Column("started_by", Integer, ForeignKey("learners.id", ondelete="SET NULL")),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    # Comma-separated learner ids expected to take part (recent participants in this chat).
    Column("expected", Text, nullable=False, default=""),
    # A round posted as a quiz poll (0013): the poll's id, its message, the right option.
    Column("poll_id", String(64)),
    Column("poll_message_id", String(32)),
    Column("poll_correct", SmallInteger),
    Index(None, "platform", "chat_id", "started_at"),
    Index(None, "closed_at", "ends_at"),
    Index(None, "poll_id", unique=True),
)

quiz_participants = Table(
    "quiz_participants",
    metadata,
    Column("round_id", Integer, ForeignKey("quiz_rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("prompt_token", String(22), nullable=False),
    Column("display_name", String(128), nullable=False),
    Column("revealed_at", UTCDateTime, nullable=False),
    Column("rating", SmallInteger),
    Column("answered_at", UTCDateTime),
    Index(None, "prompt_token"),
)

confirmations = Table(
    "confirmations",
    metadata,
    Column("token", String(22), primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    # What the confirmation is about (the deck a "rmdeck" removes), when the kind needs it.
    Column("subject", String(64)),
)

#: Images of imported cards (Anki media a card shows), one row per owner and file name;
#: a card names one in ``image_spec`` with ``image_kind`` "media".
media = Table(
    "media",
    metadata,
    Column("owner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(256), primary_key=True),
    # "image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"
    Column("mime", String(32), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: The question a learner's next typed message answers (a time zone, a reminder time),
#: one per learner, until it expires: kept here so a restart or another process
#: understands the answer.
open_questions = Table(
    "open_questions",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("step", String(16), nullable=False),
    Column("chain", Boolean, nullable=False, default=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    # No foreign key: the outbox is a short-lived queue written 5,000 rows at a
    # time, and a key check per row cost PostgreSQL a third of the insert. A row
    # whose learner is gone is dropped at delivery; deleting a learner deletes
    # their rows too (SqlLearners.delete).
    Column("learner_id", Integer, nullable=False),
    # "push" (daily, with the first card) or "reminder" (after days without study).
    Column("kind", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("card_id", String(64)),
    Column("prompt_token", String(22)),
    Column("due_count", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime, nullable=False),
    # Not to be sent before this instant (retries back off by moving it).
    Column("not_before", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Messages of this push already accepted by the platform; a retry skips them.
    Column("parts_sent", Integer, nullable=False, default=0, server_default="0"),
    # A sender holds a row until this instant; after a crash the lease runs out.
    Column("lease_until", UTCDateTime),
    Column("sent_at", UTCDateTime),
    Column("failed_at", UTCDateTime),
    Column("last_error", String(200)),
    Index(None, "platform", "sent_at", "failed_at", "not_before"),
)

challenge_runs = Table(
    "challenge_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token", String(22), nullable=False, unique=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("challenge_id", String(64), nullable=False),
    Column("started_by", Integer, ForeignKey("learners.id", ondelete="SET NULL")),
    Column("started_at", UTCDateTime, nullable=False),
    Column("deadline", UTCDateTime, nullable=False),
    Column("revealed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    Column("summary_at", UTCDateTime),
    Index(None, "platform", "chat_id", "started_at"),
    Index(None, "revealed_at", "deadline"),
)

challenge_submissions = Table(
    "challenge_submissions",
    metadata,
    Column(
        "run_id", Integer, ForeignKey("challenge_runs.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    # Names this member's self-assessment buttons.
    Column("token", String(22), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("text", Text),
    # A photo of their page: a platform file id, or an attachment URL (which can be long).
    Column("photo_ref", Text),
    Column("submitted_at", UTCDateTime),
    # Per rubric row: 1 need to re-study, 2 shaky, 3 confident, empty not rated ("3,,1").
    Column("grades", String(64), nullable=False, default=""),
    # Ticked checkpoint indexes ("0,2,3").
    Column("checks", String(64), nullable=False, default=""),
    Column("assessed_at", UTCDateTime),
    Column("shared_at", UTCDateTime),
    # The member agreed to be named in this run's summary.
    Column("show_name", Boolean, nullable=False, default=False),
)

#: The photo of a member's challenge answer, downloaded when it was sent (a Discord
#: attachment URL expires after about a day); a table of its own so that listing
#: submissions never reads the bytes. Housekeeping drops it some days after the reveal.
challenge_photos = Table(
    "challenge_photos",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("learner_id", Integer, primary_key=True),
    Column("mime", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("stored_at", UTCDateTime, nullable=False),
    ForeignKeyConstraint(
        ["run_id", "learner_id"],
        ["challenge_submissions.run_id", "challenge_submissions.learner_id"],
        ondelete="CASCADE",
    ),
)

group_settings = Table(
    "group_settings",
    metadata,
    Column("platform", String(16), primary_key=True),
    Column("chat_id", String(64), primary_key=True),
    Column("timezone", String(64), nullable=False),
    Column("who_runs", String(16), nullable=False),
)

challenge_schedules = Table(
    "challenge_schedules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("challenge_id", String(64), nullable=False),
    Column("weekday", SmallInteger, nullable=False),
    Column("at", String(5), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("minutes", Integer),
    Column("next_run_at", UTCDateTime),
    Index(None, "next_run_at"),
    Index(None, "platform", "chat_id"),
)

#: Browser workspace sessions (``[web]``), by the SHA-256 of the cookie (never the
#: cookie itself); expired ones are pruned by housekeeping.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    # "*" or one purpose ("challenge:<run token>", "review", "stats").
    Column("scope", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
    Index(None, "learner_id"),
)

#: Keys used once (digests of Mini App logins and one-time links), kept until they
#: would have expired anyway; the primary key makes a replay lose in any process.
web_once = Table(
    "web_once",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index(None, "expires_at"),
)

#: What a learner has typed so far in the workspace, one per key
#: ("challenge:<run token>").
web_drafts = Table(
    "web_drafts",
    metadata,
    Column("learner_id", Integer, ForeignKey("learners.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
