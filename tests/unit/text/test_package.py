"""bot.text stays pure: the standard library and its own modules only."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import bot.text


def test_text_helpers_import_only_the_standard_library() -> None:
    folder = Path(bot.text.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or name.startswith("bot.text")
                assert allowed, f"{path.name} imports {name}"
