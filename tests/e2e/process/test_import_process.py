"""A file sent to the real ``studybot run`` process is downloaded through its own HTTP layer.

The process speaks to the Bot API stand-in on 127.0.0.1 with aiohttp (``AiohttpRequest``,
as in production): getFile, then a GET of the file server's URL, which holds the token.
Logging at DEBUG, as an operator chasing a problem would run it, the token never shows.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.process.harness import AUTO_UPGRADE, SECRET, Chat, Studybot, new_bot, shown
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import DOWNLOAD, TgUser

ANA = TgUser(101, "Ana", "ana")
TEXT_EXPORT = (
    b"#separator:tab\n"
    b"#html:false\n"
    b"What is the capital of Portugal?\tLisbon\n"
    b"What is the capital of Peru?\tLima\n"
)


async def test_a_file_is_downloaded_through_aiohttp_and_the_token_never_logged(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    bot = new_bot(server, bots, tmp_path, extra=AUTO_UPGRADE + '[logging]\nlevel = "DEBUG"\n')
    await bot.start()
    ana = Chat(server, ANA)
    file_id = server.api.add_file(TEXT_EXPORT)
    update = server.updates.document(ANA, file_id, "capitals.txt", len(TEXT_EXPORT))
    await server.send(update)
    await bot.until(lambda: ana.sent() and server.confirmed(update), "the import's reply")
    assert [c.endpoint for c in server.api.downloads()] == ["getFile", DOWNLOAD]
    assert "Imported" in shown(ana.last()), shown(ana.last())

    assert await bot.stop() == 0
    output = bot.output()
    assert "getFile" in output  # PTB's DEBUG lines were written
    assert SECRET not in output
    assert "Traceback" not in output and " ERROR " not in output, output[-3000:]
