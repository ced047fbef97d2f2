"""bot.text.split: messages under a platform's limit, code blocks kept renderable."""

from __future__ import annotations

import pytest

from bot.text.split import split_message, utf16_len


def test_short_text_is_one_message() -> None:
    assert split_message("hello", 10) == ["hello"]
    assert split_message("   ", 10) == []


def test_split_at_paragraphs_and_pack_greedily() -> None:
    paras = [f"paragraph {i} " + "x" * 30 for i in range(10)]
    text = "\n\n".join(paras)
    parts = split_message(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert "\n\n".join(parts) == text
    assert len(parts) == 5  # two paragraphs of 43 characters fit in each


def test_long_paragraph_splits_between_lines_then_at_spaces() -> None:
    lines = [f"line {i} " + "y" * 20 for i in range(8)]
    parts = split_message("\n".join(lines), 60)
    assert all(len(p) <= 60 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    words = " ".join(["word"] * 100)
    parts = split_message(words, 50)
    assert all(len(p) <= 50 for p in parts)
    assert " ".join(parts).split() == words.split()
    hard = "z" * 125
    assert split_message(hard, 50) == ["z" * 50, "z" * 50, "z" * 25]


def test_code_block_is_kept_whole_when_it_fits() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(6)) + "\n```"
    text = "Intro " + "a" * 40 + "\n\n" + code + "\n\nOutro."
    parts = split_message(text, len(code) + 5)
    assert code in parts
    # The blank line inside a code block is not a paragraph boundary.
    gap = "```\nfirst\n\nsecond\n```"
    assert split_message("p " * 10 + "\n\n" + gap, len(gap) + 2)[-1] == gap


def test_long_code_block_is_split_into_closed_fences() -> None:
    code = "```python\n" + "\n".join(f"value_{i} = {i} * {i}" for i in range(40)) + "\n```"
    parts = split_message(code, 200)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= 200
        assert part.startswith("```python\n") and part.endswith("\n```")
    body = [line for p in parts for line in p.splitlines()[1:-1]]
    assert body == code.splitlines()[1:-1]


def test_split_counts_utf16_for_telegram() -> None:
    text = "😀" * 30  # 2 UTF-16 units each
    assert utf16_len(text) == 60
    parts = split_message(text, 20, length=utf16_len)
    assert all(utf16_len(p) <= 20 for p in parts)
    assert "".join(parts) == text


def test_split_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        split_message("x", 0)
