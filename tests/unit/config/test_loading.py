"""Tests for bot.config.loading: parsing, validation messages and environment overrides."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path

import pytest

from bot.app import photo_limits
from bot.config import (
    ConfigError,
    DatabaseSettings,
    LoggingSettings,
    OpsSettings,
    Secret,
    WebSettings,
    default_settings,
    load_settings,
)
from bot.config import loading as loading_module
from bot.core.challenges.photos import PhotoLimits
from bot.core.model import LearnerSettings
from bot.core.settings import SettingsError, parse_settings_change
from bot.deckfiles import SHIPPED_DECKS
from tests.unit.config.support import (
    DISCORD,
    ENV_VARS,
    EXAMPLE,
    PASSWORD,
    REPO_ROOT,
    TOKEN,
    error_for,
    write,
)

# --------------------------------------------------------------------------- defaults


def test_defaults_without_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, env={})
    cwd = tmp_path.resolve()
    assert settings == default_settings()
    assert settings.source is None
    assert settings.data_dir == cwd / "data"
    assert settings.database.url == f"sqlite+aiosqlite:///{cwd / 'data' / 'studybot.sqlite3'}"
    assert settings.database.url.startswith("sqlite+aiosqlite:////")
    assert settings.database.auto_upgrade is False
    assert settings.database.echo is False
    assert settings.telegram.token is None
    assert settings.telegram.base_url == "https://api.telegram.org/bot"
    assert settings.telegram.base_file_url == "https://api.telegram.org/file/bot"
    assert settings.discord.token is None
    study = settings.study
    assert study.desired_retention == 0.9
    assert study.new_cards_per_day == 10
    assert study.max_reviews_per_day == 200
    assert study.learning_steps == (timedelta(minutes=1), timedelta(minutes=10))
    assert study.relearning_steps == (timedelta(minutes=10),)
    assert study.maximum_interval_days == 36500
    assert study.leech_threshold == 8
    assert study.timezone == "UTC"
    assert study.push_time == time(9, 0)
    assert study.enable_fuzzing is True
    assert settings.decks.paths == (SHIPPED_DECKS,)
    assert settings.decks.default == ()
    assert settings.logging.level == "INFO"
    assert settings.logging.format == "%(asctime)s %(levelname)s %(name)s: %(message)s"
    assert settings.ops == OpsSettings(enabled=False, host="127.0.0.1", port=9464)


def test_json_logs_are_a_format(tmp_path: Path) -> None:
    logging_settings = load_settings(write(tmp_path, '[logging]\nformat = "json"'), env={}).logging
    assert logging_settings == LoggingSettings(format="json")
    assert logging_settings.json


def test_default_settings_data_dir_moves_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = default_settings(Path("state"))
    assert settings.data_dir == tmp_path.resolve() / "state"
    assert settings.database.url.endswith("/state/studybot.sqlite3")


def test_default_settings_ignores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYBOT_TELEGRAM_TOKEN", TOKEN)
    assert default_settings().telegram.token is None


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STUDYBOT_TELEGRAM_TOKEN", TOKEN)
    token = load_settings().telegram.token
    assert token is not None and token.reveal() == TOKEN


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, ""), env={})
    defaults = default_settings(tmp_path / "data")
    assert dataclasses.replace(settings, source=None) == dataclasses.replace(
        defaults, decks=settings.decks
    )
    assert settings.decks.paths == (SHIPPED_DECKS,)
    assert settings.source == (tmp_path / "config.toml").resolve()


# --------------------------------------------------------------------------- example file


def test_example_config_matches_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    loaded = load_settings(Path("config.example.toml"), env={})
    assert loaded.source == EXAMPLE
    assert dataclasses.replace(loaded, source=None) == default_settings()


def test_example_config_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    # Uncomment "# key = value" lines (tokens, url) and check every key is present.
    uncommented = re.sub(r"(?m)^#\s*(\w+\s*=)", r"\1", text)
    document = tomllib.loads(uncommented)
    keys = {section: set(table) for section, table in document.items()}
    assert keys == {section: set(names) for section, names in loading_module._SCHEMA.items()}
    # Tokens are commented out in the real file.
    assert tomllib.loads(text)["telegram"].get("token") is None
    assert "token" not in tomllib.loads(text)["discord"]


# --------------------------------------------------------------------------- values


def test_full_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[bot]
data_dir = "{(tmp_path / "srv").as_posix()}"
[database]
url = "postgresql+asyncpg://bot:{PASSWORD}@db:5432/studybot"
auto_upgrade = true
echo = true
[telegram]
token = "{TOKEN}"
base_url = "http://localhost:8081/bot"
base_file_url = "http://localhost:8081/file/bot"
[discord]
token = "{DISCORD}"
[study]
desired_retention = 0.85
new_cards_per_day = 0
max_reviews_per_day = 10000
learning_steps = []
relearning_steps = ["5m", "1h"]
maximum_interval_days = 365
leech_threshold = 1
timezone = "Europe/Berlin"
push_time = "7:30"
enable_fuzzing = false
[decks]
paths = ["cards", "{(tmp_path / "opt").as_posix()}"]
default = ["attention", "transformers"]
[logging]
level = "debug"
format = "%(levelname)s %(message)s"
[ops]
enabled = true
host = "0.0.0.0"
port = 9100
""",
    )
    for folder in ("cards", "opt"):
        (tmp_path / folder).mkdir()
    s = load_settings(path, env={})
    assert s.data_dir == tmp_path.resolve() / "srv"
    assert s.database == DatabaseSettings(
        url=f"postgresql+asyncpg://bot:{PASSWORD}@db:5432/studybot", auto_upgrade=True, echo=True
    )
    assert s.telegram.token == Secret(TOKEN)
    assert s.telegram.base_url == "http://localhost:8081/bot"
    assert s.discord.token == Secret(DISCORD)
    assert s.study.desired_retention == 0.85
    assert s.study.new_cards_per_day == 0
    assert s.study.max_reviews_per_day == 10000
    assert s.study.learning_steps == ()
    assert s.study.relearning_steps == (timedelta(minutes=5), timedelta(hours=1))
    assert s.study.maximum_interval_days == 365
    assert s.study.leech_threshold == 1
    assert s.study.timezone == "Europe/Berlin"
    assert s.study.push_time == time(7, 30)
    assert s.study.enable_fuzzing is False
    assert s.decks.paths == (
        SHIPPED_DECKS,
        tmp_path.resolve() / "cards",
        tmp_path.resolve() / "opt",
    )
    assert s.decks.default == ("attention", "transformers")
    assert s.logging == LoggingSettings(level="DEBUG", format="%(levelname)s %(message)s")
    assert not s.logging.json
    assert s.ops == OpsSettings(enabled=True, host="0.0.0.0", port=9100)
    assert set(s.secret_values()) == {TOKEN, DISCORD, PASSWORD}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("1m", timedelta(minutes=1)),
        ("10m", timedelta(minutes=10)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 2d ", timedelta(days=2)),
    ],
)
def test_durations_parse(tmp_path: Path, text: str, expected: timedelta) -> None:
    path = write(tmp_path, f'[study]\nlearning_steps = ["{text}"]\nrelearning_steps = ["{text}"]')
    study = load_settings(path, env={}).study
    assert study.learning_steps == (expected,)
    assert study.relearning_steps == (expected,)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"09:00"', time(9)),
        ('"23:59"', time(23, 59)),
        ('"0:05"', time(0, 5)),
        ("06:15:00", time(6, 15)),
    ],
)
def test_push_time_parses(tmp_path: Path, value: str, expected: time) -> None:
    path = write(tmp_path, f"[study]\npush_time = {value}")
    assert load_settings(path, env={}).study.push_time == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("desired_retention", "0.7"),
        ("desired_retention", "0.99"),
        ("new_cards_per_day", "0"),
        ("new_cards_per_day", "500"),
        ("max_reviews_per_day", "1"),
        ("max_reviews_per_day", "10000"),
        ("leech_threshold", "1"),
    ],
)
def test_range_bounds_are_inclusive(tmp_path: Path, key: str, value: str) -> None:
    settings = load_settings(write(tmp_path, f"[study]\n{key} = {value}"), env={})
    assert getattr(settings.study, key) == float(value)


def test_study_section_is_the_new_learners_settings(tmp_path: Path) -> None:
    """[study] is the core's LearnerSettings itself: what a new learner starts with."""
    assert default_settings().study == LearnerSettings()
    path = write(tmp_path, '[study]\ntimezone = "Asia/Tokyo"\nnew_cards_per_day = 3')
    study = load_settings(path, env={}).study
    assert study == LearnerSettings(timezone="Asia/Tokyo", new_cards_per_day=3)


# (config key, TOML value, /settings key, typed value, config error, /settings error)
SAME_RULE_CASES = [
    (
        "desired_retention",
        "0.995",
        "retention",
        "0.995",
        "must be between 0.7 and 0.99, got 0.995",
        "Desired retention is a number from 0.70 to 0.99",
    ),
    (
        "desired_retention",
        "0.69",
        "retention",
        "69%",
        "must be between 0.7 and 0.99, got 0.69",
        "Desired retention is a number from 0.70 to 0.99",
    ),
    (
        "new_cards_per_day",
        "501",
        "new",
        "501",
        "must be between 0 and 500, got 501",
        "New cards per day is a whole number from 0 to 500.",
    ),
    (
        "max_reviews_per_day",
        "0",
        "max_reviews",
        "0",
        "must be between 1 and 10000, got 0",
        "Maximum reviews per day is a whole number from 1 to 10000.",
    ),
    (
        "max_reviews_per_day",
        "10001",
        "max_reviews",
        "10001",
        "must be between 1 and 10000, got 10001",
        "Maximum reviews per day is a whole number from 1 to 10000.",
    ),
    (
        "timezone",
        '"Mars/Olympus_Mons"',
        "timezone",
        "Mars/Olympus_Mons",
        '"Mars/Olympus_Mons" is not a valid IANA timezone name',
        "“Mars/Olympus_Mons” is not a time zone I know.",
    ),
    (
        "timezone",
        '"../etc/passwd"',
        "timezone",
        "../etc/passwd",
        '"../etc/passwd" is not a valid IANA timezone name',
        "“../etc/passwd” is not a time zone I know.",
    ),
    (
        "push_time",
        '"24:00"',
        "push",
        "24:00",
        '"24:00" is not a time of day "HH:MM"',
        "The push time is HH:MM in your own time zone",
    ),
]


@pytest.mark.parametrize(
    ("key", "toml_value", "command_key", "typed", "config_error", "command_error"),
    SAME_RULE_CASES,
)
def test_study_bounds_are_the_settings_command_rules(
    tmp_path: Path,
    key: str,
    toml_value: str,
    command_key: str,
    typed: str,
    config_error: str,
    command_error: str,
) -> None:
    """A value the config file's [study] refuses, /settings refuses too, each in its own words."""
    path = write(tmp_path, f"[study]\n{key} = {toml_value}")
    assert error_for(path).startswith(f"{path}: [study] {key}: {config_error}")
    with pytest.raises(SettingsError) as info:
        parse_settings_change(LearnerSettings(), command_key, typed)
    assert str(info.value).startswith(command_error)


@pytest.mark.parametrize(
    ("key", "toml_value", "command_key", "typed"),
    [
        ("desired_retention", "0.7", "retention", "0.7"),
        ("desired_retention", "0.99", "retention", "99%"),
        ("new_cards_per_day", "0", "new", "0"),
        ("new_cards_per_day", "500", "new", "500"),
        ("max_reviews_per_day", "1", "max_reviews", "1"),
        ("max_reviews_per_day", "10000", "max_reviews", "10000"),
        (
            "timezone",
            '"America/Argentina/Buenos_Aires"',
            "timezone",
            "America/Argentina/Buenos_Aires",
        ),
        ("push_time", '"23:59"', "push", "23:59"),
        ("push_time", '"0:05"', "push", "0:05"),
    ],
)
def test_study_edges_are_accepted_by_both(
    tmp_path: Path, key: str, toml_value: str, command_key: str, typed: str
) -> None:
    from_file = load_settings(write(tmp_path, f"[study]\n{key} = {toml_value}"), env={}).study
    from_command = parse_settings_change(LearnerSettings(), command_key, typed)
    assert getattr(from_file, key) == getattr(from_command, key)


def test_empty_token_means_none(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = ""\n[discord]\ntoken = "  "')
    settings = load_settings(path, env={})
    assert settings.telegram.token is None
    assert settings.discord.token is None


# --------------------------------------------------------------------------- paths


def test_data_dir_relative_to_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = write(tmp_path / "etc", '[bot]\ndata_dir = "../state"\n[decks]\npaths = ["my-decks"]')
    (tmp_path / "etc" / "my-decks").mkdir()
    settings = load_settings(path, env={})
    assert settings.data_dir == tmp_path.resolve() / "state"
    assert settings.decks.paths == (SHIPPED_DECKS, tmp_path.resolve() / "etc" / "my-decks")
    expected_db = (tmp_path.resolve() / "state" / "studybot.sqlite3").as_posix()
    assert settings.database.url == f"sqlite+aiosqlite:///{expected_db}"


def test_data_dir_absolute_is_kept(tmp_path: Path) -> None:
    target = tmp_path.resolve() / "abs"
    path = write(tmp_path / "etc", f'[bot]\ndata_dir = "{target.as_posix()}"')
    assert load_settings(path, env={}).data_dir == target


def test_data_dir_without_file_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(None, env={}).data_dir == tmp_path.resolve() / "data"


def test_shipped_false_leaves_the_shipped_decks_out(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    only_mine = write(tmp_path, '[decks]\nshipped = false\npaths = ["mine"]')
    assert load_settings(only_mine, env={}).decks.paths == (tmp_path.resolve() / "mine",)
    nothing = write(tmp_path, "[decks]\nshipped = false", name="none.toml")
    assert load_settings(nothing, env={}).decks.paths == ()


def test_a_missing_deck_path_names_the_key_and_where_it_was_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "srv").mkdir()
    path = write(tmp_path / "srv", '[decks]\npaths = ["decks"]')
    message = error_for(path)
    looked_for = tmp_path.resolve() / "srv" / "decks"
    assert message == f'{path}: [decks] paths: "decks" does not exist (looked for {looked_for})'


# --------------------------------------------------------------------------- environment


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path / "etc",
        '[bot]\ndata_dir = "file-data"\n[database]\nurl = "sqlite+aiosqlite:///file.db"\n'
        '[telegram]\ntoken = "file-token"\n[discord]\ntoken = "file-token"',
    )
    env = {
        "STUDYBOT_DATA_DIR": "env-data",
        "STUDYBOT_DATABASE_URL": f"postgresql+asyncpg://u:{PASSWORD}@h/db",
        "STUDYBOT_TELEGRAM_TOKEN": TOKEN,
        "STUDYBOT_DISCORD_TOKEN": DISCORD,
    }
    settings = load_settings(path, env=env)
    assert settings.data_dir == tmp_path.resolve() / "env-data"  # env paths: from cwd
    assert settings.database.url == env["STUDYBOT_DATABASE_URL"]
    assert settings.telegram.token == Secret(TOKEN)
    assert settings.discord.token == Secret(DISCORD)


def test_env_data_dir_moves_default_database(tmp_path: Path) -> None:
    settings = load_settings(None, env={"STUDYBOT_DATA_DIR": str(tmp_path / "x")})
    assert settings.data_dir == tmp_path.resolve() / "x"
    assert settings.database.url.endswith("/x/studybot.sqlite3")


def test_empty_env_vars_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, f'[telegram]\ntoken = "{TOKEN}"')
    settings = load_settings(path, env=dict.fromkeys(ENV_VARS, ""))
    assert settings.telegram.token == Secret(TOKEN)
    assert settings.data_dir == tmp_path.resolve() / "data"


def test_bad_env_database_url(tmp_path: Path) -> None:
    bad = f"user:{PASSWORD}@host/db"
    with pytest.raises(ConfigError) as info:
        load_settings(None, env={"STUDYBOT_DATABASE_URL": bad})
    message = str(info.value)
    assert message.startswith("environment: STUDYBOT_DATABASE_URL: ")
    assert "not a database URL" in message
    assert PASSWORD not in message
    assert info.value.key == "STUDYBOT_DATABASE_URL"


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_settings(Path("config.toml"), env={})
    assert str(info.value) == "config.toml: file not found"


def test_invalid_toml_names_file_and_position(tmp_path: Path) -> None:
    message = error_for(write(tmp_path, "[study]\ndesired_retention 0.9\n"))
    assert message.startswith(f"{tmp_path / 'config.toml'}: invalid TOML: ")
    assert "line 2" in message and "column" in message


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[bot]\ndata_dir = '\xff'\n")
    assert "not valid UTF-8" in error_for(path)


def test_file_name_is_given_as_passed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "[study]\nleech_threshold = 0")
    with pytest.raises(ConfigError) as info:
        load_settings(Path("config.toml"), env={})
    assert str(info.value) == "config.toml: [study] leech_threshold: must be at least 1, got 0"
    assert info.value.file == "config.toml"
    assert info.value.key == "leech_threshold"


ERROR_CASES = [
    # unknown sections / keys
    ("[studdy]\nx = 1", "[studdy]: unknown section (did you mean [study]?)"),
    ("[whatever]", "[whatever]: unknown section"),
    (
        "[study]\ndesired_retension = 0.9",
        '[study] desired_retension: unknown key (did you mean "desired_retention"?)',
    ),
    ("[bot]\ntimezone = 'UTC'", "[bot] timezone: unknown key (it belongs in [study])"),
    ("[logging]\ncolour = true", "[logging] colour: unknown key"),
    ('[study]\n"odd\\nkey" = 1', '[study] "odd\\nkey": unknown key'),
    # sections that are not tables
    ("study = 3", "[study]: expected a table, got integer"),
    ('telegram = "abc"', "[telegram]: expected a table, got string"),
    # wrong types
    (
        '[study]\ndesired_retention = "high"',
        "[study] desired_retention: expected a number, got string",
    ),
    (
        "[study]\nnew_cards_per_day = true",
        "[study] new_cards_per_day: expected an integer, got boolean",
    ),
    (
        "[study]\nnew_cards_per_day = 1.5",
        "[study] new_cards_per_day: expected an integer, got float",
    ),
    (
        "[study]\ndesired_retention = true",
        "[study] desired_retention: expected a number, got boolean",
    ),
    (
        '[database]\nauto_upgrade = "yes"',
        "[database] auto_upgrade: expected a boolean (true or false), got string",
    ),
    ("[database]\necho = 1", "[database] echo: expected a boolean (true or false), got integer"),
    ("[database]\nurl = 5", "[database] url: expected a string, got integer"),
    (
        '[study]\nlearning_steps = "1m"',
        "[study] learning_steps: expected an array of strings, got string",
    ),
    (
        '[study]\nlearning_steps = ["1m", 5]',
        "[study] learning_steps: expected an array of strings, got integer at item 2",
    ),
    ("[study]\ntimezone = 5", "[study] timezone: expected a string, got integer"),
    ("[study]\npush_time = 900", "[study] push_time: expected a string, got integer"),
    ('[decks]\npaths = "decks"', "[decks] paths: expected an array of strings, got string"),
    (
        '[decks]\nshipped = "no"',
        "[decks] shipped: expected a boolean (true or false), got string",
    ),
    ('[decks]\npaths = ["no-such-folder"]', '[decks] paths: "no-such-folder" does not exist'),
    (
        "[decks]\ndefault = [1]",
        "[decks] default: expected an array of strings, got integer at item 1",
    ),
    ("[bot]\ndata_dir = 1", "[bot] data_dir: expected a string, got integer"),
    ("[logging]\nlevel = 10", "[logging] level: expected a string, got integer"),
    ("[telegram]\nbase_url = {}", "[telegram] base_url: expected a string, got table"),
    # out of range
    (
        "[study]\ndesired_retention = 0.5",
        "[study] desired_retention: must be between 0.7 and 0.99, got 0.5",
    ),
    (
        "[study]\ndesired_retention = 1",
        "[study] desired_retention: must be between 0.7 and 0.99, got 1",
    ),
    (
        "[study]\ndesired_retention = nan",
        "[study] desired_retention: must be between 0.7 and 0.99, got nan",
    ),
    (
        "[study]\nnew_cards_per_day = 501",
        "[study] new_cards_per_day: must be between 0 and 500, got 501",
    ),
    (
        "[study]\nnew_cards_per_day = -1",
        "[study] new_cards_per_day: must be between 0 and 500, got -1",
    ),
    (
        "[study]\nmax_reviews_per_day = 0",
        "[study] max_reviews_per_day: must be between 1 and 10000, got 0",
    ),
    (
        "[study]\nmax_reviews_per_day = 10001",
        "[study] max_reviews_per_day: must be between 1 and 10000, got 10001",
    ),
    ("[study]\nleech_threshold = 0", "[study] leech_threshold: must be at least 1, got 0"),
    (
        "[study]\nmaximum_interval_days = 0",
        "[study] maximum_interval_days: must be at least 1, got 0",
    ),
    # bad formats
    ('[study]\nlearning_steps = ["5x"]', '[study] learning_steps: item 1 "5x" is not a duration'),
    (
        '[study]\nrelearning_steps = ["10m", "10"]',
        '[study] relearning_steps: item 2 "10" is not a duration',
    ),
    (
        '[study]\nlearning_steps = ["0m"]',
        '[study] learning_steps: item 1 "0m" must be longer than zero',
    ),
    ('[study]\npush_time = "9am"', '[study] push_time: "9am" is not a time of day "HH:MM"'),
    ('[study]\npush_time = "24:00"', '[study] push_time: "24:00" is not a time of day'),
    ('[study]\npush_time = "12:60"', '[study] push_time: "12:60" is not a time of day'),
    (
        '[study]\ntimezone = "Mars/Olympus_Mons"',
        '[study] timezone: "Mars/Olympus_Mons" is not a valid IANA timezone name',
    ),
    ('[study]\ntimezone = "../etc/passwd"', "[study] timezone: "),
    (
        '[logging]\nlevel = "verbose"',
        '[logging] level: "VERBOSE" is not a log level (expected one of DEBUG, INFO',
    ),
    (
        '[logging]\nformat = "plain text"',
        '[logging] format: is neither "json" nor a %-style logging format',
    ),
    ('[logging]\nformat = ""', "[logging] format: must not be empty"),
    ('[database]\nurl = "not a url"', "[database] url: is not a database URL"),
    ('[telegram]\nbase_url = "ftp://x"', "[telegram] base_url: must be an http:// or https:// URL"),
    ('[bot]\ndata_dir = ""', "[bot] data_dir: must not be empty"),
    ('[decks]\ndefault = ["a", "a"]', '[decks] default: deck "a" is listed twice'),
    ('[decks]\npaths = [""]', "[decks] paths: item 1 is an empty string"),
    ('[ops]\nenabled = "yes"', "[ops] enabled: expected a boolean (true or false), got string"),
    ("[ops]\nport = 0", "[ops] port: must be between 1 and 65535, got 0"),
    ("[ops]\nport = 65536", "[ops] port: must be between 1 and 65535, got 65536"),
    ('[ops]\nport = "9464"', "[ops] port: expected an integer, got string"),
    ('[ops]\nhost = " "', "[ops] host: must not be empty"),
    ("[ops]\nlisten = 1", "[ops] listen: unknown key"),
]


@pytest.mark.parametrize(("toml_text", "expected"), ERROR_CASES)
def test_errors_name_file_section_and_key(tmp_path: Path, toml_text: str, expected: str) -> None:
    path = write(tmp_path, toml_text)
    message = error_for(path)
    assert message.startswith(f"{path}: {expected}"), message


# --------------------------------------------------------------------------- secrets in errors


@pytest.mark.parametrize(
    "toml_text",
    [
        f"[telegram]\ntoken = [{TOKEN!r}]",
        f"[telegram]\ntoken = {{ value = {TOKEN!r} }}",
        f"[discord]\ntoken = [{TOKEN!r}]",
        f"[telegram]\ntoken = {TOKEN!r}\ntokn = {TOKEN!r}",
        f"[telegram]\ntoken = {TOKEN!r}\n[study]\nleech_threshold = 0",
        f'[database]\nurl = "postgres://u:{TOKEN}@"\n[telegram]\nbase_url = 3',
        f'[database]\nurl = "u:{TOKEN}@host"',
        f'[database]\nurl = "postgres://u:{TOKEN}@[bad"',
    ],
)
def test_token_never_in_error(tmp_path: Path, toml_text: str) -> None:
    message = error_for(write(tmp_path, toml_text))
    assert TOKEN not in message
    assert "SECRET" not in message


# --------------------------------------------------------------------------- platform keys


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ('[telegram]\nmode = "push"', "[telegram] mode"),
        ('[telegram]\nmode = "webhook"', "[telegram] webhook_url"),
        ("[telegram]\nwebhook_port = 0", "[telegram] webhook_port"),
        ('[telegram]\nwebhook_secret = "has spaces"', "[telegram] webhook_secret"),
        ("[discord]\nshard_ids = [0]", "[discord] shard_ids"),
        ("[discord]\nshard_count = 2\nshard_ids = [2]", "[discord] shard_ids"),
        ('[discord]\nshard_ids = ["a"]', "[discord] shard_ids"),
        ("[quiz]\nwindow_minutes = 0", "[quiz] window_minutes"),
    ],
)
def test_platform_key_errors(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(body + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert fragment in str(info.value)
    assert "c.toml" in str(info.value)


def test_platform_keys_parse(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.org/tg"\n'
        "webhook_port = 9000\n"
        "[discord]\nshard_count = 4\nshard_ids = [0, 1]\n[quiz]\nwindow_minutes = 3\n"
    )
    s = load_settings(path, env={"STUDYBOT_TELEGRAM_WEBHOOK_SECRET": "s3cret-Value"})
    assert s.telegram.mode == "webhook" and s.telegram.webhook_port == 9000
    assert s.telegram.webhook_secret is not None
    assert s.telegram.webhook_secret.reveal() == "s3cret-Value"
    assert "s3cret-Value" in s.secret_values()
    assert "s3cret-Value" not in repr(s)
    assert s.discord.shard_count == 4 and s.discord.shard_ids == (0, 1)
    assert s.quiz.window_minutes == 3


def test_send_only_modes_parse(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\nmode = "send_only"\n[discord]\nmode = "send_only"\n')
    settings = load_settings(path, env={})
    assert settings.telegram.mode == "send_only" and settings.discord.mode == "send_only"
    assert load_settings(None, env={}).discord.mode == "gateway"
    message = error_for(write(tmp_path, '[discord]\nmode = "http"\n'))
    assert message.endswith('[discord] mode: must be "gateway" or "send_only"')


# --------------------------------------------------------------------------- tokens and URLs


@pytest.mark.parametrize(
    ("toml_text", "env", "expected"),
    [
        (
            '[telegram]\ntoken = "bot123456:SUPER-SECRET"',
            {},
            "{path}: [telegram] token: is not a Telegram bot token",
        ),
        (
            "",
            {"STUDYBOT_TELEGRAM_TOKEN": "123456-SUPER-SECRET"},
            "environment: STUDYBOT_TELEGRAM_TOKEN: is not a Telegram bot token",
        ),
        (
            '[discord]\ntoken = "Bot SUPER-SECRET"',
            {},
            "{path}: [discord] token: is not a Discord bot token",
        ),
        (
            '[discord]\ntoken = "a.b.c"',
            {"STUDYBOT_DISCORD_TOKEN": "SUPER-SECRET"},
            "environment: STUDYBOT_DISCORD_TOKEN: is not a Discord bot token",
        ),
        (
            '[database]\nurl = "mysql://u:SUPER-SECRET@db/x"',
            {},
            '{path}: [database] url: "mysql" is not a database studybot runs on',
        ),
        (
            "",
            {"STUDYBOT_DATABASE_URL": "postgresql://u:SUPER-SECRET@db/x"},
            "environment: STUDYBOT_DATABASE_URL: PostgreSQL is used through the asyncpg driver",
        ),
    ],
)
def test_tokens_and_urls_that_cannot_work_name_their_key(
    tmp_path: Path, toml_text: str, env: dict[str, str], expected: str
) -> None:
    path = write(tmp_path, toml_text)
    message = error_for(path, env)
    assert message.startswith(expected.format(path=path)), message
    assert "SECRET" not in message


def test_the_environment_decides_which_token_and_url_are_checked(tmp_path: Path) -> None:
    """A value the environment overrides is not used, so it is not checked either."""
    path = write(
        tmp_path,
        '[telegram]\ntoken = "old"\n[discord]\ntoken = "old"\n[database]\nurl = "mysql://x/y"',
    )
    env = {
        "STUDYBOT_TELEGRAM_TOKEN": TOKEN,
        "STUDYBOT_DISCORD_TOKEN": DISCORD,
        "STUDYBOT_DATABASE_URL": "sqlite+aiosqlite:///x.db",
    }
    settings = load_settings(path, env=env)
    assert settings.telegram.token == Secret(TOKEN)
    assert settings.database.url == "sqlite+aiosqlite:///x.db"


# --------------------------------------------------------------------------- render


def test_the_render_worker_idles_five_minutes_by_default_and_takes_seconds(
    tmp_path: Path,
) -> None:
    assert load_settings(None, env={}).render.worker_idle_seconds == 300.0
    path = write(tmp_path, "[render]\nworker_idle_seconds = 2.5\n")
    assert load_settings(path, env={}).render.worker_idle_seconds == 2.5


@pytest.mark.parametrize("value", ["0", "-1", '"soon"', "100000"])
def test_a_render_idle_time_out_of_bounds_names_the_key(tmp_path: Path, value: str) -> None:
    path = write(tmp_path, f"[render]\nworker_idle_seconds = {value}\n")
    with pytest.raises(ConfigError, match=r"\[render\] worker_idle_seconds"):
        load_settings(path, env={})


# --------------------------------------------------------------------------- fitting


def test_fitting_is_on_by_default_and_can_be_tuned(tmp_path: Path) -> None:
    fitting = load_settings(None, env={}).fitting
    assert (fitting.enabled, fitting.tick_seconds, fitting.recheck_hours) == (True, 60, 24)
    assert fitting.learners_per_tick == 100
    path = write(
        tmp_path,
        "[fitting]\nenabled = false\ntick_seconds = 60\nlearners_per_tick = 2\nrecheck_hours = 6\n",
    )
    fitting = load_settings(path, env={}).fitting
    assert (fitting.enabled, fitting.tick_seconds, fitting.learners_per_tick) == (False, 60, 2)
    assert fitting.recheck_hours == 6


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("tick_seconds = 0", "tick_seconds"),
        ("learners_per_tick = 0", "learners_per_tick"),
        ("recheck_hours = 100000", "recheck_hours"),
        ('enabled = "yes"', "enabled"),
        ("every = 5", "every"),
    ],
)
def test_a_wrong_fitting_value_names_the_key(tmp_path: Path, text: str, key: str) -> None:
    path = write(tmp_path, f"[fitting]\n{text}\n")
    with pytest.raises(ConfigError, match=rf"\[fitting\] {key}"):
        load_settings(path, env={})


# --------------------------------------------------------------------------- challenge photos


def test_challenge_photo_keys_parse_into_the_limits(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        "[quiz]\nchallenge_photo_mb = 5\nchallenge_photos_per_group_mb = 40\n"
        "challenge_photo_days = 7\n"
    )
    quiz = load_settings(path, env={}).quiz
    assert (quiz.challenge_photo_mb, quiz.challenge_photos_per_group_mb) == (5, 40)
    assert photo_limits(quiz) == PhotoLimits(5 * 2**20, 40 * 2**20, 7)
    defaults = photo_limits(load_settings(write(tmp_path, ""), env={}).quiz)
    assert defaults == PhotoLimits()  # 8 MB, 100 MB a group, 30 days


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("challenge_photo_mb = 0", "[quiz] challenge_photo_mb: must be between 1 and 10, got 0"),
        ("challenge_photo_mb = 11", "[quiz] challenge_photo_mb: must be between 1 and 10"),
        ('challenge_photo_days = "30"', "[quiz] challenge_photo_days: expected an integer"),
        ("challenge_photos_per_group_mb = 0", "[quiz] challenge_photos_per_group_mb: must be"),
        ("challenge_photos_mb = 9", "[quiz] challenge_photos_mb: unknown key (did you mean"),
    ],
)
def test_challenge_photo_key_errors_name_the_key(tmp_path: Path, body: str, fragment: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[quiz]\n{body}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={})
    assert fragment in str(info.value) and "c.toml" in str(info.value)


# --------------------------------------------------------------------------- [web]

WEB_SECRET = "web-SECRET-0123456789abcdef"


def test_web_defaults_are_off() -> None:
    web = load_settings(None, env={}).web
    assert web == WebSettings()
    assert (web.enabled, web.host, web.port, web.public_url, web.secret) == (
        False,
        "127.0.0.1",
        8080,
        "",
        None,
    )


def test_web_full_section(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[web]
enabled = true
host = "0.0.0.0"
port = 8443
public_url = "https://example.org/study/"
secret = "{WEB_SECRET}"
init_data_max_age_seconds = 30
link_minutes = 1440
session_hours = 720
requests_per_minute = 10
""",
    )
    s = load_settings(path, env={})
    assert s.web == WebSettings(
        enabled=True,
        host="0.0.0.0",
        port=8443,
        public_url="https://example.org/study",
        secret=Secret(WEB_SECRET),
        init_data_max_age_seconds=30,
        link_minutes=1440,
        session_hours=720,
        requests_per_minute=10,
    )
    assert WEB_SECRET in s.secret_values()
    assert WEB_SECRET not in repr(s) and WEB_SECRET not in repr(s.web)
    assert "secret=***" in repr(s.web)


def test_the_web_secret_from_the_environment_is_preferred(tmp_path: Path) -> None:
    path = write(tmp_path, f'[web]\nsecret = "{WEB_SECRET}"\n')
    other = "from-the-ENVIRONMENT-42"
    s = load_settings(path, env={"STUDYBOT_WEB_SECRET": f" {other} "})
    assert s.web.secret == Secret(other) and other in s.secret_values()
    assert load_settings(path, env={"STUDYBOT_WEB_SECRET": " "}).web.secret == Secret(WEB_SECRET)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={"STUDYBOT_WEB_SECRET": "short-SECRET"})
    message = str(info.value)
    assert message.startswith("environment: STUDYBOT_WEB_SECRET: must be at least 16")
    assert "short-SECRET" not in message


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://study.example.org", "https://study.example.org"),
        ("https://study.example.org/", "https://study.example.org"),
        ("https://example.org:8443/a/b//", "https://example.org:8443/a/b"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://localhost:8080/", "http://localhost:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        (" https://study.example.org ", "https://study.example.org"),
    ],
)
def test_web_public_urls_accepted(tmp_path: Path, url: str, kept: str) -> None:
    path = write(tmp_path, f'[web]\nenabled = true\npublic_url = "{url}"\n')
    assert load_settings(path, env={}).web.public_url == kept


WEB_ERRORS = [
    (
        "[web]\nenabled = true",
        "[web] public_url: is needed when the workspace is enabled",
    ),
    ('[web]\nenabled = "yes"', "[web] enabled: expected a boolean (true or false), got string"),
    ('[web]\nhost = ""', "[web] host: must not be empty"),
    ("[web]\nport = 0", "[web] port: must be between 1 and 65535, got 0"),
    ("[web]\nport = 65536", "[web] port: must be between 1 and 65535, got 65536"),
    ('[web]\nport = "8080"', "[web] port: expected an integer, got string"),
    ("[web]\npublic_url = 1", "[web] public_url: expected a string, got integer"),
    ('[web]\npublic_url = "study.example.org"', "[web] public_url: must be an https:// URL"),
    ('[web]\npublic_url = "ftp://example.org"', "[web] public_url: must be an https:// URL"),
    ('[web]\npublic_url = "https://"', "[web] public_url: must be an https:// URL"),
    ('[web]\npublic_url = "http://example.org"', "[web] public_url: must be https:// (plain"),
    ('[web]\npublic_url = "http://10.0.0.1"', "[web] public_url: must be https:// (plain"),
    ('[web]\npublic_url = "https://e.org/?a=1"', "[web] public_url: must not have a query"),
    ('[web]\npublic_url = "https://e.org/#x"', "[web] public_url: must not have a query"),
    ('[web]\npublic_url = "https://e.org/?"', "[web] public_url: must not have a query"),
    ('[web]\npublic_url = "https://u:p@e.org"', "[web] public_url: must not hold a user name"),
    ('[web]\npublic_url = "https://e.org:99999"', "[web] public_url: is not a URL"),
    ('[web]\npublic_url = "https://[::1"', "[web] public_url: is not a URL"),
    ('[web]\npublic_url = "https://e.org/a b"', "[web] public_url: must not contain spaces"),
    ('[web]\nsecret = "too-short"', "[web] secret: must be at least 16 characters"),
    ("[web]\nsecret = 16", "[web] secret: expected a string, got integer"),
    (
        "[web]\ninit_data_max_age_seconds = 29",
        "[web] init_data_max_age_seconds: must be between 30 and 86400, got 29",
    ),
    (
        "[web]\ninit_data_max_age_seconds = 86401",
        "[web] init_data_max_age_seconds: must be between 30 and 86400, got 86401",
    ),
    ("[web]\nlink_minutes = 0", "[web] link_minutes: must be between 1 and 1440, got 0"),
    ("[web]\nlink_minutes = 1441", "[web] link_minutes: must be between 1 and 1440, got 1441"),
    ("[web]\nsession_hours = 0", "[web] session_hours: must be between 1 and 720, got 0"),
    ("[web]\nsession_hours = 721", "[web] session_hours: must be between 1 and 720, got 721"),
    (
        "[web]\nrequests_per_minute = 9",
        "[web] requests_per_minute: must be between 10 and 10000, got 9",
    ),
    (
        "[web]\nrequests_per_minute = 10001",
        "[web] requests_per_minute: must be between 10 and 10000, got 10001",
    ),
    ("[web]\nsession_minutes = 1", '[web] session_minutes: unknown key (did you mean "'),
    ("[web]\nmode = 1", "[web] mode: unknown key (it belongs in [telegram])"),
]


@pytest.mark.parametrize(("toml_text", "expected"), WEB_ERRORS)
def test_web_errors_name_the_key(tmp_path: Path, toml_text: str, expected: str) -> None:
    path = write(tmp_path, toml_text)
    message = error_for(path)
    assert message.startswith(f"{path}: {expected}"), message


@pytest.mark.parametrize(
    "toml_text",
    [
        '[web]\nsecret = "SECRET"',
        '[web]\nsecret = ["web-SECRET-0123456789abcdef"]',
        '[web]\nsecret = "web-SECRET-0123456789abcdef"\nport = 0',
        '[web]\nsecret = "web-SECRET-0123456789abcdef"\nsecrett = 1',
    ],
)
def test_the_web_secret_is_never_in_an_error(tmp_path: Path, toml_text: str) -> None:
    assert "SECRET" not in error_for(write(tmp_path, toml_text))
