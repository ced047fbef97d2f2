"""Command-line helpers around the renderer (the CLI calls these; they print and return exit codes).

- :func:`check_images`: every image of a deck set that cannot be drawn, as deck errors
  (``studybot decks check`` adds them to its report).
- :func:`render_card`: ``studybot render ID -o FILE``, a card's or a challenge's images,
  as PNG or JPEG (by the file's extension).
- :func:`prerender`: ``studybot decks render``, fills the disk cache.
- :func:`gallery`: ``studybot decks gallery -o DIR``, every image plus an index.html.

A card has up to two images: the front's (``front-image:``, shown with the
question) and the back's (``image:``, shown with the answer). Each of these
helpers handles both and says which side an image belongs to. A challenge has at
most one, shown with its reference answer; these helpers cover those too.
"""

from __future__ import annotations

import difflib
import html
import io
import logging
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final, Literal, TextIO

from PIL import Image, features

from bot.core.challenges.definitions import ChallengeDef, ChallengeSet
from bot.core.decks import IMAGE_KEYS, CardDef, Deck, DeckError, DeckSet, ImageSide
from bot.core.imagespec import DiagramSpec, FormulaSpec, ImageSpec, ShapeSpec
from bot.core.imagetext import image_text
from bot.core.rendering import RenderedImage, RenderError
from bot.deckfiles import load_decks
from bot.render.cache import DiskCache, cache_key
from bot.render.diagram import diagram_layout
from bot.render.formula import check_formula
from bot.render.shapes import layout_for
from bot.render.style import DEFAULT_STYLE, Style
from bot.render.worker import render_card_image

__all__ = [
    "IMAGE_FORMATS",
    "check_images",
    "gallery",
    "image_format",
    "image_line",
    "prerender",
    "render_card",
    "to_jpeg",
]

log = logging.getLogger(__name__)

#: The key that gives each side's image in a deck file.
_KEY_OF: dict[ImageSide, str] = {side: key for key, side in IMAGE_KEYS.items()}

ImageFormat = Literal["png", "jpeg"]
#: The formats ``studybot render`` writes, by the output file's extension.
IMAGE_FORMATS: Final[dict[str, ImageFormat]] = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}
#: How JPEG files are compressed (0-95): crisp lines and text.
JPEG_QUALITY: Final = 92


def image_format(path: Path) -> ImageFormat:
    """The format to write ``path`` in, by its extension (PNG without one).

    Raises:
        ValueError: when studybot cannot write that extension; the message is one
            line naming the extensions it can write.
    """
    suffix = path.suffix.lower()
    if not suffix:
        return "png"
    found = IMAGE_FORMATS.get(suffix)
    if found is None:
        raise ValueError(
            f"cannot write {path.name}: {suffix} is not a format studybot writes "
            f"(use {', '.join(IMAGE_FORMATS)})"
        )
    if found == "jpeg" and not features.check("jpg"):
        raise ValueError(f"cannot write {path.name}: this Pillow has no JPEG support (use .png)")
    return found


def to_jpeg(png: bytes, quality: int = JPEG_QUALITY) -> bytes:
    """A PNG as JPEG bytes (on the PNG's own background: JPEG has no transparency)."""
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=quality, optimize=True)
    return out.getvalue()


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


def _challenges(deck_set: DeckSet) -> list[tuple[ChallengeSet, ChallengeDef]]:
    return [(cs, c) for cs in deck_set.challenge_sets for c in cs.challenges]


def render_card(
    card_id: str,
    out: Path,
    deck_paths: Sequence[Path],
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Write one card's images, or one challenge's (``studybot render ID -o FILE``).

    A card's back image goes to ``out`` and its front image beside it
    (``FILE.front.png``); a challenge's image (shown with its reference) to ``out``.
    The extension picks the format: ``.png`` (or none), ``.jpg`` or ``.jpeg``.

    Returns:
        0 when written; 1 when there is no such card or challenge, it has no image
        or one of its images cannot be drawn (the reason, with the id, goes to
        stderr); 2 when ``out`` has an extension studybot cannot write.
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    try:
        fmt = image_format(out)
    except ValueError as exc:
        print(f"studybot: {exc}", file=e)
        return 2
    deck_set = load_decks(deck_paths)
    card = deck_set.card(card_id)
    challenge = next((c for _, c in _challenges(deck_set) if c.id == card_id), None)
    if card is None and challenge is None:
        ids = [c.id for c in deck_set.cards()] + [c.id for _, c in _challenges(deck_set)]
        close = difflib.get_close_matches(card_id, ids, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        where = ", ".join(str(p) for p in deck_paths)
        print(f"studybot: no card or challenge '{card_id}' in {where}{hint}", file=e)
        _report_deck_errors(deck_set, e)
        return 1
    if card is None:
        assert challenge is not None
        return _render_challenge(challenge, out, fmt, deck_set, style, o, e)
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
    drawn: list[tuple[str, Path, RenderedImage]] = []
    for side, spec in images:
        try:
            image = _render(spec, style)
        except RenderError as exc:
            where = _which(card_id, side)
            print(f"studybot: {where}: {exc}", file=e)
            return 1
        note = "" if side == "back" else " (front image)"
        drawn.append((note, out if side == "back" else _front_path(out), image))
    return _write_images(drawn, fmt, o, e)


def _render_challenge(
    challenge: ChallengeDef,
    out: Path,
    fmt: ImageFormat,
    deck_set: DeckSet,
    style: Style,
    o: TextIO,
    e: TextIO,
) -> int:
    """``studybot render CHALLENGE_ID``: the image shown with the challenge's reference."""
    if challenge.image is None:
        related = [err for err in deck_set.errors if f"'{challenge.id}'" in err.message]
        for err in related:
            print(f"studybot: {err}", file=e)
        if not related:
            print(
                f"studybot: challenge '{challenge.id}' has no image (add an 'image:' line, "
                "shown with the reference)",
                file=e,
            )
        return 1
    try:
        image = _render(challenge.image, style)
    except RenderError as exc:
        print(f"studybot: challenge '{challenge.id}': {exc}", file=e)
        return 1
    return _write_images([(" (challenge image)", out, image)], fmt, o, e)


def _write_images(
    drawn: Sequence[tuple[str, Path, RenderedImage]], fmt: ImageFormat, o: TextIO, e: TextIO
) -> int:
    """Write each (note, path, image) in ``fmt``, one line each on ``o``."""
    for note, path, image in drawn:
        data = image.data if fmt == "png" else to_jpeg(image.data)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError as exc:
            print(f"studybot: cannot write {path}: {exc.strerror or exc}", file=e)
            return 1
        size = f"{image.width}x{image.height} px, {len(data)} bytes"
        print(f"{path}: {size}{note}", file=o)
    return 0


def prerender(
    deck_paths: Sequence[Path],
    cache_dir: Path,
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Render every card and challenge image of the decks into the disk cache
    (``studybot decks render``).

    Images already cached are skipped. Returns 0 when every image is cached,
    1 when some could not be drawn (each named with its card or challenge id on stderr).
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    deck_set = load_decks(deck_paths)
    _report_deck_errors(deck_set, e)
    disk = DiskCache(cache_dir)
    rendered = cached = failed = 0
    seen: set[str] = set()
    wanted: list[tuple[str, ImageSpec]] = [
        (_which(card.id, side), spec)
        for _, card in _image_cards(deck_set)
        for side, spec in card.images()
    ]
    wanted += [
        (f"challenge '{c.id}'", c.image) for _, c in _challenges(deck_set) if c.image is not None
    ]
    for where, spec in wanted:
        key = cache_key(spec.kind, spec.source, style)
        if key in seen or disk.path(key).exists():
            cached += 1
            seen.add(key)
            continue
        try:
            image = _render(spec, style)
        except RenderError as exc:
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
<h1>Deck images ({count})</h1>
"""

_SIDE_LABELS: dict[str, str] = {
    "front": "Front image, shown with the question",
    "back": "Back image, shown with the answer",
    "reference": "Challenge image, shown with the reference answer",
}


def gallery(
    deck_paths: Sequence[Path],
    out_dir: Path,
    *,
    style: Style = DEFAULT_STYLE,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Write every card and challenge image and an ``index.html`` showing them with their
    card fronts and challenge prompts.

    Each card image is labelled with its side: the front's (``front/<card id>.png``) is
    shown with the question, the back's (``<card id>.png``) with the answer. A
    challenge's image (``challenges/<challenge id>.png``) is shown with its reference.

    Returns 0 when every image was drawn, 1 otherwise (failures are listed in
    the page and on stderr, with their card or challenge ids).
    """
    o, e = stdout or sys.stdout, stderr or sys.stderr
    deck_set = load_decks(deck_paths)
    _report_deck_errors(deck_set, e)
    cards = _image_cards(deck_set)
    challenges = [(cs, c) for cs, c in _challenges(deck_set) if c.image is not None]
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        if any(c.front_image is not None for _, c in cards):
            (out_dir / "front").mkdir(exist_ok=True)
        if challenges:
            (out_dir / "challenges").mkdir(exist_ok=True)
    except OSError as exc:
        print(f"studybot: cannot create {out_dir}: {exc.strerror or exc}", file=e)
        return 1
    count = f"{len(cards)} cards" + (f", {len(challenges)} challenges" if challenges else "")
    page = _Page(out_dir, style, e, [_PAGE_HEAD.format(count=count)])
    current: str | None = None
    esc = html.escape
    for deck, card in cards:
        if deck.id != current:
            current = deck.id
            page.parts.append(f"<h2>{esc(deck.title)} <small>({esc(deck.id)})</small></h2>")
        page.parts.append(f'<figure id="{esc(card.id)}">')
        page.parts.append(f"<h3>{esc(card.title)}</h3>")
        page.parts.append(f'<div class="meta">{esc(card.id)} · {esc(deck.path)}:{card.line}</div>')
        page.parts.append(f'<div class="front">{esc(card.front)}</div>')
        for side, spec in card.images():
            name = f"{card.id}.png" if side == "back" else f"front/{card.id}.png"
            page.image(spec, name, _SIDE_LABELS[side], _KEY_OF[side], _which(card.id, side))
        page.parts.append("</figure>")
    for challenge_set, challenge in challenges:
        assert challenge.image is not None
        if challenge_set.id != current:
            current = challenge_set.id
            title, ident = esc(challenge_set.title), esc(challenge_set.id)
            page.parts.append(f"<h2>Challenges: {title} <small>({ident})</small></h2>")
        page.parts.append(f'<figure id="challenge-{esc(challenge.id)}">')
        page.parts.append(f"<h3>{esc(challenge.title)}</h3>")
        where = f"{esc(challenge_set.path)}:{challenge.line}"
        page.parts.append(f'<div class="meta">{esc(challenge.id)} · {where}</div>')
        page.parts.append(f'<div class="front">{esc(challenge.prompt)}</div>')
        name = f"challenges/{challenge.id}.png"
        label = _SIDE_LABELS["reference"]
        page.image(challenge.image, name, label, "image", f"challenge '{challenge.id}'")
        page.parts.append("</figure>")
    if page.broken:
        return 1
    page.parts.append("</body>\n</html>\n")
    index = out_dir / "index.html"
    try:
        index.write_text("\n".join(page.parts), encoding="utf-8")
    except OSError as exc:
        print(f"studybot: cannot write {index}: {exc.strerror or exc}", file=e)
        return 1
    print(f"{index}: {page.written} images, {page.failed} failed", file=o)
    return 1 if page.failed else 0


class _Page:
    """The gallery page being written, and the images written beside it."""

    def __init__(self, out_dir: Path, style: Style, err: TextIO, parts: list[str]) -> None:
        self.out_dir = out_dir
        self.style = style
        self.err = err
        self.parts = parts
        self.written = self.failed = 0
        #: A file could not be written: the gallery stops.
        self.broken = False

    def image(self, spec: ImageSpec, name: str, label: str, key: str, where: str) -> None:
        """Draw ``spec`` to ``name`` and add it to the page under ``label``, with its
        spec (as the ``key:`` line writes it) and its text."""
        esc = html.escape
        if self.broken:
            return
        self.parts.append(f'<div class="side">{label}</div>')
        alt = image_text(spec.kind, spec.source)
        try:
            image = _render(spec, self.style)
            (self.out_dir / name).write_bytes(image.data)
            self.written += 1
            self.parts.append(
                f'<img src="{esc(name)}" width="{image.width}" height="{image.height}" '
                f'alt="{esc(alt)}" loading="lazy">'
            )
        except RenderError as exc:
            self.failed += 1
            print(f"{where}: {exc}", file=self.err)
            self.parts.append(f'<p class="error">cannot draw it: {esc(str(exc))}</p>')
        except OSError as exc:
            print(f"studybot: cannot write to {self.out_dir}: {exc.strerror or exc}", file=self.err)
            self.broken = True
            return
        self.parts.append(f'<div class="spec">{key}: {esc(spec.kind)} {esc(spec.source)}</div>')
        if isinstance(spec, FormulaSpec | ShapeSpec):
            self.parts.append(f'<div class="alt">text: {esc(alt)}</div>')
