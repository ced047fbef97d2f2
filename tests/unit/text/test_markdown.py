"""bot.text.markdown: fenced code, tables, and whether a text needs an image."""

from __future__ import annotations

from bot.text.markdown import (
    MarkdownTable,
    fence_flags,
    needs_image,
    parse_table,
    table_blocks,
    table_to_monospace,
)

TABLE = """Shapes:

| operand | shape |
|---------|------:|
| $Q$ | $n \\times d_k$ |
| **$K^T$** | $d_k \\times n$ |

After the table."""


def test_needs_image_for_tables_and_wide_code_only() -> None:
    assert needs_image(TABLE)
    assert not needs_image("a | b is not a table\nno separator")
    assert not needs_image("```\nshort = 1\n```")
    assert needs_image("```\n" + "x = " + "1 + " * 20 + "1\n```")
    # A table inside a code block is code, and narrow code is fine.
    assert not needs_image("```\n| a | b |\n|---|---|\n```")


def test_table_to_monospace_aligns_columns() -> None:
    out = table_to_monospace(TABLE)
    lines = out.splitlines()
    start = lines.index("```")
    body = lines[start + 1 : lines.index("```", start + 1)]
    assert body == [
        "operand |   shape",
        "--------+--------",
        "Q       | n × d_k",
        "Kᵀ      | d_k × n",
    ]
    assert lines[0] == "Shapes:" and lines[-1] == "After the table."


def test_table_to_monospace_leaves_other_text_alone() -> None:
    text = "No table here.\n\n```\n| a | b |\n|---|---|\n```"
    assert table_to_monospace(text) == text


def test_fence_flags_mark_code_lines_and_their_fences() -> None:
    lines = ["a", "```python", "x = 1", "", "```", "b", "~~~", "```", "~~~", "c"]
    assert fence_flags(lines) == [False, True, True, True, True, False, True, True, True, False]
    # A fence line with text after the marker does not close the block.
    assert fence_flags(["```", "``` not a close", "```", "after"]) == [True, True, True, False]
    # An unclosed block runs to the end.
    assert fence_flags(["```", "x"]) == [True, True]


def test_fence_flags_close_on_any_run_of_three() -> None:
    # Unlike CommonMark (and bot.core.decks.lines_outside_fences), a shorter
    # closing run than the opening one closes the block here.
    assert fence_flags(["````", "```", "x"]) == [True, True, False]


def test_parse_table_reads_cells_alignment_and_rows() -> None:
    table = parse_table(["| a | b | c |", "|:--|:-:|--:|", r"| 1 | x \| y |", "| 2 | 3 | 4 | 5 |"])
    assert table == MarkdownTable(
        header=("a", "b", "c"),
        align=("l", "c", "r"),
        rows=(("1", "x | y", ""), ("2", "3", "4")),
    )


def test_table_blocks_skip_tables_in_code() -> None:
    text = "\n".join(
        ["intro", "| a | b |", "|---|---|", "| 1 | 2 |", "", "```", "| c | d |", "|---|---|", "```"]
    )
    assert table_blocks(text) == [(1, 4)]
    assert table_blocks("no | table\nhere") == []
