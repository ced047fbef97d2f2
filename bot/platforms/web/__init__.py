"""The browser workspace's adapter (``[web]``): an aiohttp server inside ``studybot run``
serving one page (``/app``), its static files and a JSON API over
:class:`~bot.core.workspace.WorkspaceService`. See ``docs/web.md``."""
