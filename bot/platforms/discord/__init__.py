"""Discord: slash commands, persistent buttons, DM reviews, /quiz and challenges in servers.

Modules, each importing only the ones after it:

- ``platform``: the client, start and stop, and the core's channel (announce, push).
- ``commands``: the command tree, its error handler, and the study commands.
- ``challenges``: the ``/challenge`` commands.
- ``taps``: pressed buttons, chosen menu items, submitted forms.
- ``rendering``: a core outcome shown in answer to an interaction.
- ``interactions``: who acted and where, answering an interaction, the one error handler.
- ``layout``: a card as one composed message (Components V2), the embed fallback.
- ``messages``: a core reply as Discord messages.
- ``components``: the persistent buttons, the menus and the modals.
"""

import warnings

with warnings.catch_warnings():
    # discord.py 2.7 imports audioop for voice, deprecated since Python 3.11; no voice here.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from bot.platforms.discord.platform import DiscordPlatform, sync_commands

__all__ = ["DiscordPlatform", "sync_commands"]
