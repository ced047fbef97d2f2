"""Command-line helpers around the renderer (the CLI calls these; they print and return exit codes).

- :func:`check_images`: every image of a deck set that cannot be drawn, as deck errors
  (``studybot decks check`` adds them to its report).
- :func:`render_card`: ``studybot render CARD_ID -o FILE.png``, the card's images.
- :func:`prerender`: ``studybot decks render``, fills the disk cache.
- :func:`gallery`: ``studybot decks gallery -o DIR``, every image plus an index.html.

A card has up to two images: the front's (``front-image:``, shown with the
question) and the back's (``image:``, shown with the answer). Each of these
helpers handles both and says which side an image belongs to.
"""

from __future__ import annotations

import difflib
import html
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.core.decks import IMAGE_KEYS, CardDef, Deck, DeckError, DeckSet, ImageSide
from bot.core.imagespec import DiagramSpec, FormulaSpec, ImageSpec, ShapeSpec
from bot.core.rendering import RenderedImage, RenderError
from bot.deckfiles import load_decks
from bot.render.cache import DiskCache, cache_key
from bot.render.diagram import diagram_layout
from bot.render.formula import check_formula
from bot.render.shapes import layout_for
from bot.render.style import DEFAULT_STYLE, Style
from bot.render.worker import render_card_image
from bot.text.latex import formula_fallback, image_alt_text

__all__ = ["check_images", "gallery", "image_line", "prerender", "render_card"]

log = logging.getLogger(__name__)

#: The key that gives each side's image in a deck file.
_KEY_OF: dict[ImageSide, str] = {side: key for key, side in IMAGE_KEYS.items()}


def image_line(deck: Deck, card: CardDef, side: ImageSide = "back") -> int:
    """The line of a card's ``image:`` key (``front-image:`` for the front) in its deck
    file (the card's line if not found)."""
    try:
        lines = Path(deck.path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return card.line
    key = re.compile(rf"^\s*{re.escape(_KEY_OF[side])}\s*:", re.IGNORECASE)
    for no in range(max(card.line, 1), len(lines) + 1):
        text = lines[no - 1]
        if no > card.line and (text.startswith("## ") or text.startswith("### ")):
            break
        if key.match(text):
            return no
    return card.line


def _spec_problem(spec: object, style: Style) -> str | None:
    """Why an image spec cannot be drawn, or None."""
    if isinstance(spec, FormulaSpec):
        problem = check_formula(spec.source)
        return None if problem is None else f"mathtext cannot draw the formula: {problem}"
    if isinstance(spec, ShapeSpec):
        try:
            layout = layout_for(spec, style)
        except Exception as exc:
            return f"the shape cannot be laid out: {type(exc).__name__}: {exc}"
        for text in layout.labels():
            if text.startswith("$") and text.endswith("$") and text.count("$") == 2:
                problem = check_formula(text[1:-1])
                if problem is not None:
                    return f"a label cannot be drawn ({text}): {problem}"
    if isinstance(spec, DiagramSpec):
        try:
            diagram_layout(spec.name, style)
        except Exception as exc:
            return f"the diagram cannot be laid out: {type(exc).__name__}: {exc}"
    return None


def check_images(deck_set: DeckSet, style: Style = DEFAULT_STYLE) -> list[DeckError]:
    """A deck error for every card image that cannot be drawn.

    Formulas are parsed by mathtext; shapes and built-in diagrams are laid
    out (and shape labels parsed), which is where a spec that parses can
    still fail. Each error names the card id (and the side, for a front
    image) and points at the card's ``image:`` or ``front-image:`` line.
    """
    errors: list[DeckError] = []
    for deck in deck_set.decks:
        for card in deck.cards:
            for side, spec in card.images():
                problem = _spec_problem(spec, style)
                if problem is None:
                    continue
                where = _which(card.id, side)
                errors.append(
                    DeckError(deck.path, image_line(deck, card, side), f"{where}: {problem}")
                )
    for challenge_set in deck_set.challenge_sets:
        for challenge in challenge_set.challenges:
            if challenge.image is None:
                continue
            problem = _spec_problem(challenge.image, style)
            if problem is not None:
                message = f"challenge '{challenge.id}': {problem}"
                errors.append(DeckError(challenge_set.path, challenge.line, message))
    return errors


def _which(card_id: str, side: ImageSide) -> str:
    """How messages name a card's image: ``card 'x'`` for the back's (the usual one),
    ``card 'x' (front)`` for the front's."""
    return f"card '{card_id}'" if side == "back" else f"card '{card_id}' (front)"


def _image_cards(deck_set: DeckSet) -> list[tuple[Deck, CardDef]]:
    return [(d, c) for d in deck_set.decks for c in d.cards if c.images()]


def _render(spec: ImageSpec, style: Style) -> RenderedImage:
    data, width, height = render_card_image(spec.kind, spec.source, style)
    return RenderedImage(data, width, height, cache_key(spec.kind, spec.source, style))


def _front_path(out: Path) -> Path:
    """Where ``render`` writes a card's front image: ``qkt.png`` -> ``qkt.front.png``."""
    return out.with_name(f"{out.stem}.front{out.suffix or '.png'}")


def _report_deck_errors(deck_set: DeckSet, err: TextIO) -> None:
    for error in deck_set.errors:
        print(f"deck problem: {error}", file=err)


def render_card(
    card_id: str,
    out: Path,
    deck_paths: Sequence[Path],
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Write one card's images (``studybot render CARD_ID -o FILE.png``): the back's to
    ``out``, the front's beside it (``FILE.front.png``).

    Returns:
        0 when written; 1 when the card does not exist, has no image or one of its
        images cannot be drawn (the reason, with the card id, goes to stderr).
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    deck_set = load_decks(deck_paths)
    card = deck_set.card(card_id)
    if card is None:
        ids = [c.id for c in deck_set.cards()]
        close = difflib.get_close_matches(card_id, ids, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        where = ", ".join(str(p) for p in deck_paths)
        print(f"studybot: no card '{card_id}' in {where}{hint}", file=e)
        _report_deck_errors(deck_set, e)
        return 1
    images = card.images()
    if not images:
        related = [err for err in deck_set.errors if f"'{card_id}'" in err.message]
        if related:
            for err in related:
                print(f"studybot: {err}", file=e)
        else:
            print(
                f"studybot: card '{card_id}' has no image (add an 'image:' line, shown with "
                "the answer, or a 'front-image:' line, shown with the question)",
                file=e,
            )
        return 1
    drawn: list[tuple[ImageSide, Path, RenderedImage]] = []
    for side, spec in images:
        try:
            image = _render(spec, style)
        except RenderError as exc:
            where = _which(card_id, side)
            print(f"studybot: {where}: {exc}", file=e)
            return 1
        drawn.append((side, out if side == "back" else _front_path(out), image))
    for side, path, image in drawn:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(image.data)
        except OSError as exc:
            print(f"studybot: cannot write {path}: {exc.strerror or exc}", file=e)
            return 1
        size = f"{image.width}x{image.height} px, {len(image.data)} bytes"
        print(f"{path}: {size}" + ("" if side == "back" else " (front image)"), file=o)
    return 0


def prerender(
    deck_paths: Sequence[Path],
    cache_dir: Path,
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Render every card image of the decks into the disk cache (``studybot decks render``).

    Images already cached are skipped. Returns 0 when every image is cached,
    1 when some could not be drawn (each named with its card id on stderr).
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    deck_set = load_decks(deck_paths)
    _report_deck_errors(deck_set, e)
    disk = DiskCache(cache_dir)
    rendered = cached = failed = 0
    seen: set[str] = set()
    for _deck, card in _image_cards(deck_set):
        for side, spec in card.images():
            key = cache_key(spec.kind, spec.source, style)
            if key in seen or disk.path(key).exists():
                cached += 1
                seen.add(key)
                continue
            try:
                image = _render(spec, style)
            except RenderError as exc:
                where = _which(card.id, side)
                print(f"{where}: {exc}", file=e)
                failed += 1
                continue
            if disk.put(image) is None:
                print(f"cannot write to {cache_dir}", file=e)
                return 1
            seen.add(key)
            rendered += 1
    print(f"{cache_dir}: {rendered} rendered, {cached} already cached, {failed} failed", file=o)
    return 1 if failed else 0


_PAGE_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Deck images</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f5f1; color: #22252a;
       max-width: 1000px; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ font-size: 1.6rem; }}
h2 {{ font-size: 1.3rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }}
figure {{ margin: 1.5rem 0 2.5rem; background: #fff; border: 1px solid #ddd;
         border-radius: 8px; padding: 1rem; }}
figure img {{ max-width: 100%; height: auto; border: 1px solid #eee; }}
.front {{ white-space: pre-wrap; margin: .5rem 0 1rem; }}
.meta, .spec, .alt {{ color: #5f6670; font-size: .9rem; }}
.side {{ font-weight: 600; margin: 1rem 0 .4rem; }}
.spec {{ font-family: ui-monospace, monospace; overflow-wrap: anywhere; }}
.error {{ color: #b00020; }}
</style>
</head>
<body>
<h1>Deck images ({count} cards)</h1>
"""

_SIDE_LABELS: dict[str, str] = {
    "front": "Front image, shown with the question",
    "back": "Back image, shown with the answer",
}


def gallery(
    deck_paths: Sequence[Path],
    out_dir: Path,
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Write every card image and an ``index.html`` showing them with their card fronts.

    Each image is labelled with its side: the front's (``front/<card id>.png``) is
    shown with the question, the back's (``<card id>.png``) with the answer.

    Returns 0 when every image was drawn, 1 otherwise (failures are listed in
    the page and on stderr, with their card ids).
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    deck_set = load_decks(deck_paths)
    _report_deck_errors(deck_set, e)
    cards = _image_cards(deck_set)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if any(c.front_image is not None for _, c in cards):
            (out_dir / "front").mkdir(exist_ok=True)
    except OSError as exc:
        print(f"studybot: cannot create {out_dir}: {exc.strerror or exc}", file=e)
        return 1
    parts = [_PAGE_HEAD.format(count=len(cards))]
    written = failed = 0
    current_deck: str | None = None
    esc = html.escape
    for deck, card in cards:
        if deck.id != current_deck:
            current_deck = deck.id
            parts.append(f"<h2>{esc(deck.title)} <small>({esc(deck.id)})</small></h2>")
        parts.append(f'<figure id="{esc(card.id)}">')
        parts.append(f"<h3>{esc(card.title)}</h3>")
        parts.append(f'<div class="meta">{esc(card.id)} · {esc(deck.path)}:{card.line}</div>')
        parts.append(f'<div class="front">{esc(card.front)}</div>')
        for side, spec in card.images():
            parts.append(f'<div class="side">{_SIDE_LABELS[side]}</div>')
            name = f"{card.id}.png" if side == "back" else f"front/{card.id}.png"
            where = _which(card.id, side)
            try:
                image = _render(spec, style)
                (out_dir / name).write_bytes(image.data)
                written += 1
                alt = image_alt_text(spec.kind, spec.source)
                parts.append(
                    f'<img src="{esc(name)}" width="{image.width}" height="{image.height}" '
                    f'alt="{esc(alt)}" loading="lazy">'
                )
            except RenderError as exc:
                failed += 1
                print(f"{where}: {exc}", file=e)
                parts.append(f'<p class="error">cannot draw it: {esc(str(exc))}</p>')
            except OSError as exc:
                print(f"studybot: cannot write to {out_dir}: {exc.strerror or exc}", file=e)
                return 1
            key = _KEY_OF[side]
            parts.append(f'<div class="spec">{key}: {esc(spec.kind)} {esc(spec.source)}</div>')
            if isinstance(spec, FormulaSpec):
                parts.append(f'<div class="alt">text: {esc(formula_fallback(spec.source))}</div>')
        parts.append("</figure>")
    parts.append("</body>\n</html>\n")
    index = out_dir / "index.html"
    try:
        index.write_text("\n".join(parts), encoding="utf-8")
    except OSError as exc:
        print(f"studybot: cannot write {index}: {exc.strerror or exc}", file=e)
        return 1
    print(f"{index}: {written} images, {failed} failed", file=o)
    return 1 if failed else 0
