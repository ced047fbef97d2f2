"""The browser workspace (`[web]`): an aiohttp server and the page it serves (docs/web.md)."""
