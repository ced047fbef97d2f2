"""Tests for bot/platforms/web/static/: the page obeys its CSP and ships what it names.

The Content-Security-Policy (docs/web.md) allows no inline script or style and no other
origin, so the files themselves are checked: no inline ``<script>``/``<style>`` or ``on*=``
attribute, no URL to another origin, every vendored file present with the SHA-256 that
``vendor/VENDOR.json`` records (written by ``web/build.py``), and every ``url()`` in a
stylesheet and every ``src``/``href`` in the page pointing at a shipped file. Fast: file
reads only, no npm and no browser.
"""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

import bot.platforms.web

STATIC = Path(bot.platforms.web.__file__).parent / "static"
VENDOR = STATIC / "vendor"
ROOT = Path(__file__).resolve().parents[4]

# XML namespace names: identifiers that are never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1998/Math/MathML"}


class _Page(HTMLParser):
    """Collects what the CSP cares about in index.html."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.styles = 0
        self.handlers: list[str] = []
        self.style_attrs: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self._in_script = False
        self.inline_script_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        self.handlers += [f"<{tag} {k}>" for k, _ in attrs if k.lower().startswith("on")]
        if "style" in named:
            self.style_attrs.append(tag)
        if named.get("id"):
            self.ids.add(str(named["id"]))
        if tag == "script":
            self.scripts.append(named)
            self._in_script = True
        elif tag == "style":
            self.styles += 1
        for key in ("src", "href"):
            value = named.get(key)
            if value:
                self.links.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_script_text += data


def _page() -> _Page:
    parser = _Page()
    parser.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return parser


def _shipped(url: str, base: Path) -> Path:
    """The static file a same-origin URL names (``static/...`` from the page at ``/app``,
    or relative to ``base``)."""
    path = url.split("#", 1)[0].split("?", 1)[0]
    if base == STATIC and path.startswith("static/"):
        return STATIC / path.removeprefix("static/")
    return base / path


def test_the_page_has_no_inline_script_style_or_handler() -> None:
    page = _page()
    assert page.scripts, "index.html loads no script"
    assert all(s.get("src") for s in page.scripts), "a <script> without src"
    assert page.inline_script_text.strip() == ""
    assert page.styles == 0, "a <style> element"
    assert page.handlers == []
    assert page.style_attrs == []


def test_the_page_has_the_meta_tags_and_ids_the_contract_names() -> None:
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert '<meta name="csrf" content="">' in html  # the server fills it (docs/web.md)
    assert '<meta name="learner" content="">' in html  # likewise, with the learner's name
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    ids = _page().ids
    for name in [
        "status",
        "prompt",
        "timer",
        "editor",
        "preview",
        "draft-state",
        "submit",
        "photo",
        "submitted",
        "reference",
        "answer",
        "rubric",
        "assess",
        "assessed",
        "others",
        "card",
        "card-buttons",
        "stats",
    ]:
        assert name in ids, name


def test_every_src_and_href_in_the_page_is_a_shipped_file() -> None:
    for link in _page().links:
        if link.startswith("data:"):
            continue
        assert "//" not in link, link
        assert _shipped(link, STATIC).is_file(), link


def test_the_page_names_its_files_and_the_api_relative_to_its_address() -> None:
    """``[web] public_url`` may carry a path prefix (``https://example.org/study``, a proxy
    taking it off): the page at ``{public_url}/app`` must load ``static/...`` and call
    ``api/...`` under that prefix, so no address the page uses starts with ``/``."""
    rooted = [link for link in _page().links if link.startswith("/")]
    assert rooted == []
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    assert re.findall(r"[\"'`]/(?:api|static)/", script) == []
    assert "api/session/telegram" in script and "api/stats" in script


_URL = re.compile(r"https?://[^\s\"'`)<>]+")
_LICENCE_COMMENT = re.compile(r"/\*!.*?\*/", re.DOTALL)


def _web_files() -> list[Path]:
    return sorted(
        p for p in STATIC.rglob("*") if p.is_file() and p.suffix in {".html", ".js", ".css"}
    )


def test_no_file_names_another_origin() -> None:
    files = _web_files()
    assert len(files) >= 5
    for path in files:
        text = _LICENCE_COMMENT.sub("", path.read_text(encoding="utf-8"))
        for url in _URL.findall(text):
            if url in NAMESPACES or url.startswith(("http://${", "https://${")):
                continue  # a namespace name, or a template linkify fills (off on our page)
            pytest.fail(f"{path.relative_to(STATIC)} names {url}")


def _vendor_listing() -> list[dict[str, object]]:
    document = json.loads((VENDOR / "VENDOR.json").read_text(encoding="utf-8"))
    packages = document["packages"]
    assert isinstance(packages, list)
    return packages


def test_every_vendored_file_is_listed_with_its_sha256() -> None:
    listed: dict[str, str] = {}
    for package in _vendor_listing():
        for key in ("package", "version", "license", "tarball", "integrity"):
            assert isinstance(package.get(key), str) and package[key], (package, key)
        assert str(package["integrity"]).startswith("sha512-")
        files = package["files"]
        assert isinstance(files, dict)
        assert f"{package['package']}/LICENSE" in files, f"{package['package']} ships no licence"
        listed.update(files)
    for name, digest in listed.items():
        path = VENDOR / name
        assert path.is_file(), f"VENDOR.json lists {name}, which is missing"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{name} changed"
    on_disk = {str(p.relative_to(VENDOR)) for p in VENDOR.rglob("*") if p.is_file()} - {
        "VENDOR.json"
    }
    assert on_disk == set(listed), "files in vendor/ that VENDOR.json does not list"


def test_the_vendored_versions_are_the_pinned_ones() -> None:
    pinned = json.loads((ROOT / "web" / "package.json").read_text(encoding="utf-8"))
    deps = pinned["dependencies"]
    assert deps, "web/package.json pins nothing"
    for name, version in deps.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} {version} is not an exact pin"
    versions = {str(p["package"]): str(p["version"]) for p in _vendor_listing()}
    for name, version in deps.items():
        assert versions.get(name) == version, name


_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


def test_every_url_in_a_stylesheet_resolves_to_a_shipped_file() -> None:
    sheets = sorted(STATIC.rglob("*.css"))
    assert any(p.name == "katex.min.css" for p in sheets)
    checked = 0
    for sheet in sheets:
        for url in _CSS_URL.findall(sheet.read_text(encoding="utf-8")):
            if url.startswith("data:"):
                continue
            assert "//" not in url, f"{sheet.name} names {url}"
            assert _shipped(url, sheet.parent).is_file(), f"{sheet.name}: {url} is not shipped"
            checked += 1
    assert checked >= 20  # KaTeX's fonts
