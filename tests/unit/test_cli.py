"""``studybot decks check PATH... [--json]``."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.cli import ENV_PROFILE, main, profiled
from bot.core.ports import Tx
from bot.deckfiles import SHIPPED_DECKS, load_decks
from tests.memory_sim import simulate_learner, true_parameters

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
GOOD = DATA / "good_decks"
BAD = DATA / "bad_decks"
NATIVE = GOOD / "native-deck.md"
SEED = GOOD / "flashcards-transformers.md"


def test_good_decks_exit_0_and_list_each_deck(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decks", "check", str(GOOD)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert f"{SEED}: flashcards-transformers “Flashcards: Transformers”: 5 cards" in lines
    assert f"{NATIVE}: native-deck “Native format, every feature”: 3 cards" in lines
    assert lines[-1] == "2 decks, 8 cards: ok"


def test_one_good_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decks", "check", str(NATIVE)]) == 0
    out, _ = capsys.readouterr()
    assert out.splitlines()[-1] == "1 decks, 3 cards: ok"


def test_several_paths_are_checked_together(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decks", "check", str(NATIVE), str(SEED)]) == 0
    out, _ = capsys.readouterr()
    assert "native-deck" in out and "flashcards-transformers" in out
    assert out.splitlines()[-1] == "2 decks, 8 cards: ok"


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("missing-back.md", 3, "card 'no-back' has no '### Back' section"),
        ("unknown-card-key.md", 5, "unknown key 'colour' in card"),
        ("image-mismatch.md", 5, "inner dimensions d_k and n differ"),
        ("empty.md", 1, "the file is empty"),
        ("missing-related.md", 3, "is related to 'no-such-card', which does not exist"),
    ],
)
def test_a_bad_deck_exits_1_and_reports_path_and_line(
    capsys: pytest.CaptureFixture[str], name: str, line: int, message: str
) -> None:
    path = BAD / name
    assert main(["decks", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    error_lines = err.splitlines()
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"{path}:{line}: ")
    assert message in error_lines[0]
    assert out.splitlines()[-1].endswith(": 1 problem(s)")


def test_a_bad_deck_is_still_listed_with_its_cards(capsys: pytest.CaptureFixture[str]) -> None:
    path = BAD / "bad-difficulty.md"
    assert main(["decks", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"{path}: bad-difficulty “Bad difficulty”: 1 cards" in out.splitlines()
    assert err.splitlines() == [f"{path}:5: difficulty must be easy, medium or hard, not 'extreme'"]
    assert out.splitlines()[-1] == "1 decks, 1 cards: 1 problem(s)"


def test_good_and_bad_together_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decks", "check", str(GOOD), str(BAD / "duplicate-id.md")]) == 1
    out, err = capsys.readouterr()
    assert f"{BAD / 'duplicate-id.md'}:12: duplicate card id 'dup-card'" in err
    assert "native-deck" in out


def test_the_whole_bad_folder_reports_every_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decks", "check", str(BAD)]) == 1
    _, err = capsys.readouterr()
    reported = {line.split(":", 2)[0] for line in err.splitlines()}
    expected = {str(p) for p in BAD.rglob("*.md")} - {str(BAD / "duplicate-across" / "a.md")}
    assert expected <= reported


def test_a_missing_path_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    assert main(["decks", "check", str(missing)]) == 1
    _, err = capsys.readouterr()
    assert f"{missing}:0: no such file or folder" in err.splitlines()


def test_an_empty_folder_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["decks", "check", str(tmp_path)]) == 1
    out, _ = capsys.readouterr()
    assert "0 decks" in out


def decks_of(doc: dict[str, object]) -> list[dict[str, Any]]:
    """The JSON document's decks (a list of objects)."""
    decks = doc["decks"]
    assert isinstance(decks, list)
    return decks


def _check_json(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, dict[str, object]]:
    code = main(["decks", "check", *map(str, paths), "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    doc = json.loads(out)
    assert isinstance(doc, dict)
    _assert_documented_shape(doc)
    return code, doc


def _assert_documented_shape(doc: dict[str, object]) -> None:
    assert set(doc) == {"decks", "challenge_sets", "errors"}
    decks, errors = doc["decks"], doc["errors"]
    assert isinstance(decks, list) and isinstance(errors, list)
    for deck in decks:
        assert set(deck) == {"id", "title", "path", "cards"}
        assert isinstance(deck["id"], str)
        assert isinstance(deck["title"], str)
        assert isinstance(deck["path"], str)
        assert isinstance(deck["cards"], list)
        for card in deck["cards"]:
            assert set(card) == {
                "id",
                "tags",
                "difficulty",
                "image",
                "front",
                "back",
                "images",
                "choices",
            }
            choices = card["choices"]
            assert choices is None or (
                isinstance(choices, dict)
                and set(choices) == {"options", "correct"}
                and 0 <= choices["correct"] < len(choices["options"])
            )
            assert isinstance(card["id"], str)
            assert isinstance(card["tags"], list)
            assert all(isinstance(t, str) for t in card["tags"])
            assert card["difficulty"] in ("easy", "medium", "hard")
            assert card["image"] in (None, "shape", "formula", "diagram")
            assert isinstance(card["front"], str) and isinstance(card["back"], str)
            assert isinstance(card["images"], list)
            for image in card["images"]:
                assert set(image) == {"side", "kind", "spec"}
                assert image["side"] in ("front", "back")
                assert image["kind"] in ("shape", "formula", "diagram")
                assert isinstance(image["spec"], str)
            back = [i["kind"] for i in card["images"] if i["side"] == "back"]
            assert card["image"] == (back[0] if back else None), "image: the back's kind"
    for error in errors:
        assert set(error) == {"path", "line", "message"}
        assert isinstance(error["path"], str)
        assert isinstance(error["line"], int)
        assert isinstance(error["message"], str)


def test_json_for_good_decks(capsys: pytest.CaptureFixture[str]) -> None:
    cards = load_decks([NATIVE]).decks[0].cards
    code, doc = _check_json(capsys, NATIVE)
    assert code == 0
    assert doc.pop("challenge_sets") == []
    assert doc == {
        "decks": [
            {
                "id": "native-deck",
                "title": "Native format, every feature",
                "path": str(NATIVE),
                "cards": [
                    {
                        "id": "native-deck.dot-product-as-a-similarity",
                        "tags": ["attention", "sample", "linear-algebra"],
                        "difficulty": "easy",
                        "image": None,
                        "front": cards[0].front,
                        "back": cards[0].back,
                        "choices": {
                            "options": [
                                r"the dot product $a \cdot b$",
                                r"the cross product $a \times b$",
                                "*neither*: both grow with the lengths only",
                            ],
                            "correct": 0,
                        },
                        "images": [],
                    },
                    {
                        "id": "native-qkt",
                        "tags": ["attention", "sample", "shapes"],
                        "difficulty": "hard",
                        "image": "shape",
                        "front": "What is the shape of $QK^T$ for $n$ tokens?",
                        "back": cards[1].back,
                        "choices": None,
                        "images": [
                            {
                                "side": "back",
                                "kind": "shape",
                                "spec": "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, "
                                "highlight=row:2",
                            }
                        ],
                    },
                    {
                        "id": "native-deck.softmax-of-one-row",
                        "tags": ["attention", "sample"],
                        "difficulty": "medium",
                        "image": "formula",
                        "front": "What does softmax do to a row of scores $s$?",
                        "back": cards[2].back,
                        "choices": None,
                        "images": [
                            {
                                "side": "back",
                                "kind": "formula",
                                "spec": r"\mathrm{softmax}(s)_j = \frac{e^{s_j}}{\sum_k e^{s_k}}",
                            }
                        ],
                    },
                ],
            }
        ],
        "errors": [],
    }


def test_json_gives_each_card_its_sides_and_their_images(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    deck = tmp_path / "sides.md"
    deck.write_text(
        "# Sides\n\n## Both\nid: both\n"
        "front-image: shape Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4\n"
        "image: formula QK^T\n\n### Front\nFill in the shapes.\n\n### Back\nThere.\n\n"
        "## Front only\nid: front-only\nfront-image: formula \\mathrm{Attention}(Q,K,V) = ?\n"
        "\n### Front\nWrite it.\n\n### Back\nsoftmax.\n",
        encoding="utf-8",
    )
    code, doc = _check_json(capsys, deck)
    assert code == 0
    both, front_only = decks_of(doc)[0]["cards"]
    assert (both["front"], both["back"], both["image"]) == (
        "Fill in the shapes.",
        "There.",
        "formula",
    )
    assert both["images"] == [
        {"side": "front", "kind": "shape", "spec": "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4"},
        {"side": "back", "kind": "formula", "spec": "QK^T"},
    ]
    assert front_only["image"] is None
    assert front_only["images"] == [
        {"side": "front", "kind": "formula", "spec": r"\mathrm{Attention}(Q,K,V) = ?"}
    ]


def test_json_for_the_seed_deck(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check_json(capsys, SEED)
    assert code == 0
    (deck,) = decks_of(doc)
    assert deck["id"] == "flashcards-transformers"
    assert [c["difficulty"] for c in deck["cards"]] == ["easy", "easy", "medium", "medium", "hard"]
    assert all(c["tags"] == ["transformers"] and c["image"] is None for c in deck["cards"])


def test_json_for_bad_decks(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check_json(capsys, BAD / "duplicate-across")
    assert code == 1
    assert doc["errors"] == [
        {
            "path": str(BAD / "duplicate-across" / "b.md"),
            "line": 4,
            "message": (
                f"duplicate card id 'shared-card' (first at {BAD / 'duplicate-across' / 'a.md'}:3)"
            ),
        }
    ]
    decks = doc["decks"]
    assert isinstance(decks, list)
    assert [(d["id"], len(d["cards"])) for d in decks] == [("a", 1), ("b", 0)]


def test_json_for_the_whole_bad_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check_json(capsys, BAD)
    assert code == 1
    errors = doc["errors"]
    assert isinstance(errors, list) and len(errors) >= 19


def test_json_for_the_shipped_decks(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc = _check_json(capsys, SHIPPED_DECKS)
    assert code == 0
    assert doc["errors"] == []
    decks = doc["decks"]
    assert isinstance(decks, list)
    kinds = {c["image"] for d in decks for c in d["cards"]}
    assert kinds == {None, "shape", "formula"}


def test_python_dash_m_bot_checks_the_shipped_decks() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "decks", "check", str(SHIPPED_DECKS)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.splitlines()[-1].endswith(": ok")
    assert "attention" in proc.stdout and "transformers" in proc.stdout


# --------------------------------------------------------------------------- studybot render


def test_render_draws_a_challenge_image_as_jpeg(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDYBOT_CONFIG", raising=False)
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))
    out = tmp_path / "mask.jpg"
    assert main(["render", "refl-causal-mask", "-o", str(out)]) == 0
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"
    assert "(challenge image)" in capsys.readouterr().out


def test_render_refuses_an_unknown_extension_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STUDYBOT_CONFIG", raising=False)
    monkeypatch.setenv("STUDYBOT_DATA_DIR", str(tmp_path / "data"))
    assert main(["render", "att-qkt-shape", "-o", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".png, .jpg, .jpeg" in err
    assert not (tmp_path / "x.gif").exists()


def _busy() -> int:
    return sum(range(1000)) and 7


def test_profiled_writes_the_statistics_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pstats

    out = tmp_path / "run.prof"
    monkeypatch.setenv(ENV_PROFILE, str(out))
    assert profiled(_busy) == 7
    functions = {name for _, _, name in pstats.Stats(str(out)).stats}  # type: ignore[attr-defined]
    assert "_busy" in functions


def test_profiled_runs_plainly_without_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_PROFILE, raising=False)
    monkeypatch.chdir(tmp_path)
    assert profiled(_busy) == 7
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- optimize


def seed_logs(url: str, logs: list[list[tuple[str, datetime, int]]]) -> None:
    """A database at the newest schema with one learner per log (and its cards)."""
    from bot.core.model import CardState, LearnerSettings, ReviewEntry
    from bot.storage.database import SqlDatabase
    from tests.fakes.decks import make_deck

    cards = sorted({card for log in logs for card, _, _ in log})
    start = datetime(2026, 1, 1, tzinfo=UTC)

    def work(tx: Tx) -> None:
        tx.catalogue.sync([make_deck("d", cards)], start)
        for n, log in enumerate(logs, start=1):
            lid = tx.learners.create("tg", str(n), "Ann", LearnerSettings(), (), start).id
            for card, at, rating in log:
                state = CardState(lid, card)
                tx.reviews.add(ReviewEntry(lid, card, rating, at, "dm", state, state))

    async def seed() -> None:
        db = SqlDatabase(url)
        await db.upgrade()
        await db.run(work)
        await db.dispose()

    asyncio.run(seed())


def test_optimize_fits_by_hand_and_says_what_it_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(2)
    big = simulate_learner(true_parameters(rng, 0.8), 4000, rng, new_per_day=20)
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    seed_logs(url, [big, big[:30]])
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")

    assert main(["optimize", "--config", str(config)]) == 0
    first, second = capsys.readouterr().out.splitlines()
    assert re.fullmatch(
        r"learner 1: 3200 reviews, 800 held out; log loss current 0\.\d{4}, "
        r"fitted 0\.\d{4}, default 0\.\d{4}: kept",
        first,
    ), first
    assert second == "learner 2: not enough reviews yet: 30 of 1000"

    assert main(["optimize", "--config", str(config), "--learner", "1"]) == 0
    assert capsys.readouterr().out.endswith(": not kept (no better than the parameters in use)\n")
    assert main(["optimize", "--config", str(config), "--learner", "9"]) == 1
    assert capsys.readouterr().out == "learner 9: no such learner\n"
