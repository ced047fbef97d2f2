"""Built-in reference diagrams (``image: diagram <name>``): the transformer, drawn in full.

:func:`diagram_layout` builds the pure model of a diagram (boxes, ⊕ nodes,
arrows, texts, repeated-layer regions and small icons, in px with the origin
at the bottom left; tests check it directly); :func:`render_diagram` draws it.

``transformer`` is the encoder-decoder transformer in the **Pre-LN** arrangement
(LayerNorm before each sublayer, the residual adding the sublayer's output to
its un-normalised input, a final LayerNorm after each stack): the reference
for "draw the transformer from memory" challenges. Data flows upwards, as in
the original paper's figure; Q, K and V arrows have the colours they have in
every shape diagram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

from bot.core.imagespec import DIAGRAMS
from bot.core.rendering import RenderError
from bot.render.canvas import Png, measure_text, new_canvas, pt, to_png
from bot.render.heatmap import wrap_text
from bot.render.layout import Measure, estimate_width
from bot.render.style import DEFAULT_STYLE, Style, shade, tint

__all__ = [
    "DArrow",
    "DBox",
    "DIcon",
    "DNode",
    "DRegion",
    "DText",
    "Diagram",
    "diagram_layout",
    "render_diagram",
    "transformer_layout",
]

BoxRole = Literal["attention", "ffn", "norm", "embed", "head"]
#: What feeds a sublayer: Q, K and V from its LayerNorm; only Q (K and V come
#: from the encoder); or one input (the feed-forward).
_Inputs = Literal["qkv", "q", "one"]

#: Hue of each kind of box (fills are tints of it).
BOX_HUES: Final[dict[str, str]] = {
    "attention": "#762a83",  # purple, like attention scores in the shape diagrams
    "ffn": "#2a7f8a",  # teal
    "norm": "#b8860b",  # goldenrod
    "embed": "#5b6570",  # slate, like inputs
    "head": "#6f6258",  # taupe, like weights
}

_INK: Final = "#22252a"
_RESIDUAL: Final = "#7a808a"

_BOX_W: Final = 340.0
_LN_H: Final = 54.0
_ATT_H: Final = 104.0
_FF_H: Final = 62.0
_EMB_H: Final = 62.0
_HEAD_H: Final = 58.0
_R_ADD: Final = 19.0
_GAP: Final = 34.0
_QKV_GAP: Final = 72.0
_CROSS_GAP: Final = 118.0
_LANE: Final = _BOX_W / 2 + 42.0
_PAD: Final = 22.0
_QKV_DX: Final = 108.0

_BOX_PX: Final = 30.0
_SMALL_PX: Final = 26.0
_LETTER_PX: Final = 27.0
_NOTE_PX: Final = 28.0
_SIDE_PX: Final = 28.0
_TITLE_PX: Final = 44.0
_NX_PX: Final = 44.0


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class DBox:
    """A labelled box: (x, y) is its bottom left."""

    key: str
    lines: tuple[str, ...]
    role: BoxRole
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class DNode:
    """A ⊕ (add) circle or a small dot where a line branches."""

    key: str
    kind: Literal["add", "dot"]
    x: float
    y: float
    r: float


@dataclass(frozen=True, slots=True)
class DArrow:
    """A polyline, with an arrow head at its last point when ``head``.

    ``role`` is ``q``/``k``/``v`` for query, key and value inputs, ``residual``
    for skip connections, ``flow`` for the main data flow.
    """

    points: tuple[tuple[float, float], ...]
    role: str = "flow"
    head: bool = True
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class DText:
    """A piece of text anchored at (x, y) with matplotlib's ``ha``/``va``."""

    text: str
    x: float
    y: float
    font_px: float
    ha: str = "center"
    va: str = "center"
    colour: str = ""
    bold: bool = False


@dataclass(frozen=True, slots=True)
class DRegion:
    """A repeated layer (drawn behind its boxes), repeated ``repeat`` times."""

    key: str
    label: str
    x: float
    y: float
    width: float
    height: float
    repeat: str = "N×"


@dataclass(frozen=True, slots=True)
class DIcon:
    """A small picture: ``wave`` (positional encoding) or ``mask`` (causal mask)."""

    kind: Literal["wave", "mask"]
    x: float
    y: float
    size: float


@dataclass(slots=True)
class Diagram:
    """Everything a diagram draws, in px (origin at the bottom left)."""

    name: str
    width: int
    height: int
    boxes: list[DBox] = field(default_factory=list)
    nodes: list[DNode] = field(default_factory=list)
    arrows: list[DArrow] = field(default_factory=list)
    texts: list[DText] = field(default_factory=list)
    regions: list[DRegion] = field(default_factory=list)
    icons: list[DIcon] = field(default_factory=list)

    def box(self, key: str) -> DBox:
        """The box with this key.

        Raises:
            KeyError: when there is none.
        """
        for b in self.boxes:
            if b.key == key:
                return b
        raise KeyError(key)

    def node(self, key: str) -> DNode:
        """The node with this key.

        Raises:
            KeyError: when there is none.
        """
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)

    def shifted(self, dx: float, dy: float) -> None:
        """Move everything by (dx, dy)."""
        self.boxes = [_move_box(b, dx, dy) for b in self.boxes]
        self.nodes = [DNode(n.key, n.kind, n.x + dx, n.y + dy, n.r) for n in self.nodes]
        self.arrows = [
            DArrow(tuple((x + dx, y + dy) for x, y in a.points), a.role, a.head, a.dashed)
            for a in self.arrows
        ]
        self.texts = [
            DText(t.text, t.x + dx, t.y + dy, t.font_px, t.ha, t.va, t.colour, t.bold)
            for t in self.texts
        ]
        self.regions = [
            DRegion(r.key, r.label, r.x + dx, r.y + dy, r.width, r.height, r.repeat)
            for r in self.regions
        ]
        self.icons = [DIcon(i.kind, i.x + dx, i.y + dy, i.size) for i in self.icons]

    def extend(self, other: Diagram) -> None:
        """Add every element of ``other``."""
        self.boxes += other.boxes
        self.nodes += other.nodes
        self.arrows += other.arrows
        self.texts += other.texts
        self.regions += other.regions
        self.icons += other.icons


def _move_box(b: DBox, dx: float, dy: float) -> DBox:
    return DBox(b.key, b.lines, b.role, b.x + dx, b.y + dy, b.width, b.height)


# --------------------------------------------------------------------------- the transformer


@dataclass(slots=True)
class _Column:
    """One stack (encoder or decoder) being laid out upwards from ``y``."""

    d: Diagram
    prefix: str
    cx: float
    side: float  # -1: lanes, labels and N× on the left (encoder); +1: on the right
    y: float
    anchors: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def lane(self) -> float:
        return self.cx + self.side * _LANE

    def add_box(self, key: str, lines: Sequence[str], role: BoxRole, y: float, h: float) -> DBox:
        box = DBox(f"{self.prefix}.{key}", tuple(lines), role, self.cx - _BOX_W / 2, y, _BOX_W, h)
        self.d.boxes.append(box)
        return box

    def flow(self, y0: float, y1: float, x: float | None = None) -> None:
        cx = self.cx if x is None else x
        self.d.arrows.append(DArrow(((cx, y0), (cx, y1))))

    def text(
        self,
        text: str,
        x: float,
        y: float,
        px: float,
        *,
        ha: str = "center",
        colour: str = "",
        bold: bool = False,
    ) -> None:
        self.d.texts.append(DText(text, x, y, px, ha=ha, colour=colour, bold=bold))

    def sublayer(
        self,
        key: str,
        lines: Sequence[str],
        role: BoxRole,
        inputs: _Inputs,
    ) -> None:
        """A Pre-LN sublayer: branch, LayerNorm, the sublayer, then ⊕ with the residual."""
        d, cx = self.d, self.cx
        dot_y = self.y + 32
        ln = self.add_box(f"{key}.norm", ["LayerNorm"], "norm", dot_y + 40, _LN_H)
        self.flow(self.y, ln.y)
        d.nodes.append(DNode(f"{self.prefix}.{key}.branch", "dot", cx, dot_y, 7))
        if inputs == "one":
            box = self.add_box(key, lines, role, ln.top + _GAP, _FF_H)
            self.flow(ln.top, box.y)
        else:
            gap = _QKV_GAP if inputs == "qkv" else _CROSS_GAP
            box = self.add_box(key, lines, role, ln.top + gap, _ATT_H)
            entries = (
                [("q", -_QKV_DX), ("k", 0.0), ("v", _QKV_DX)]
                if inputs == "qkv"
                else [("q", self.side * _QKV_DX)]
            )
            for letter, dx in entries:
                x = cx + dx
                d.arrows.append(DArrow(((x, ln.top), (x, box.y)), role=letter))
                self.text(
                    letter.upper(),
                    x + 10,
                    (ln.top + box.y) / 2 - 4,
                    _LETTER_PX,
                    ha="left",
                    colour=letter,
                    bold=True,
                )
            if inputs == "q":
                # K and V come from the encoder: their entry points, for the router.
                self.anchors["k"] = (cx - self.side * _QKV_DX, box.y)
                self.anchors["v"] = (cx, box.y)
                self.anchors["kv_floor"] = (cx, ln.top)
        add_y = box.top + _GAP + _R_ADD
        d.nodes.append(DNode(f"{self.prefix}.{key}.add", "add", cx, add_y, _R_ADD))
        self.flow(box.top, add_y - _R_ADD)
        lane = self.lane
        d.arrows.append(
            DArrow(
                ((cx, dot_y), (lane, dot_y), (lane, add_y), (cx + self.side * _R_ADD, add_y)),
                role="residual",
            )
        )
        self.y = add_y + _R_ADD

    def inputs(self, words: tuple[str, str], embed: str) -> None:
        """Token label, embedding, ⊕ positional encoding."""
        cx, side = self.cx, self.side
        self.text(words[0], cx, self.y + 46, _SIDE_PX, bold=True)
        self.text(words[1], cx, self.y + 14, _SMALL_PX, colour="muted")
        emb = self.add_box("embed", [embed], "embed", self.y + 66 + _GAP, _EMB_H)
        self.flow(self.y + 66, emb.y)
        add_y = emb.top + _GAP + _R_ADD
        self.d.nodes.append(DNode(f"{self.prefix}.pe", "add", cx, add_y, _R_ADD))
        self.flow(emb.top, add_y - _R_ADD)
        icon_x = cx + side * 96
        self.d.icons.append(DIcon("wave", icon_x, add_y, 44))
        self.d.arrows.append(DArrow(((icon_x - side * 22, add_y), (cx + side * _R_ADD, add_y))))
        label_x = icon_x + side * 34
        ha = "left" if side > 0 else "right"
        self.text("Positional", label_x, add_y + 16, _SMALL_PX, ha=ha)
        self.text("encoding", label_x, add_y - 16, _SMALL_PX, ha=ha)
        self.y = add_y + _R_ADD

    def layer(
        self, label: str, build: Sequence[tuple[str, Sequence[str], BoxRole, _Inputs]]
    ) -> None:
        """A repeated layer of sublayers inside a region, then the stack's final LayerNorm."""
        start = self.y
        self.y += 10
        for key, lines, role, inputs in build:
            self.sublayer(key, lines, role, inputs)
        top = self.y + _PAD + 12
        left = min(self.cx - _BOX_W / 2, self.lane) - _PAD
        right = max(self.cx + _BOX_W / 2, self.lane) + _PAD
        bottom = start + 16
        self.d.regions.append(
            DRegion(f"{self.prefix}.layer", label, left, bottom, right - left, top - bottom)
        )
        ln = self.add_box("final_norm", ["LayerNorm (final)"], "norm", top + _GAP, _LN_H)
        self.flow(self.y, ln.y)
        self.y = ln.top


def _encoder(cx: float, base: float) -> _Column:
    col = _Column(Diagram("transformer", 0, 0), "encoder", cx, -1.0, base)
    col.inputs(("Inputs", "(source tokens)"), "Input embedding")
    col.layer(
        "Encoder layer",
        [
            ("attention", ["Multi-head", "self-attention"], "attention", "qkv"),
            ("ffn", ["Feed-forward"], "ffn", "one"),
        ],
    )
    return col


def _decoder(cx: float, base: float) -> _Column:
    col = _Column(Diagram("transformer", 0, 0), "decoder", cx, 1.0, base)
    col.inputs(("Outputs", "(shifted right)"), "Output embedding")
    col.layer(
        "Decoder layer",
        [
            ("masked", ["Masked multi-head", "self-attention"], "attention", "qkv"),
            ("cross", ["Multi-head", "cross-attention"], "attention", "q"),
            ("ffn", ["Feed-forward"], "ffn", "one"),
        ],
    )
    lin = col.add_box("linear", ["Linear"], "head", col.y + _GAP, _HEAD_H)
    col.flow(col.y, lin.y)
    soft = col.add_box("softmax", ["Softmax"], "head", lin.top + _GAP + 10, _HEAD_H)
    col.flow(lin.top, soft.y)
    col.text(
        "logits", col.cx + 22, (lin.top + soft.y) / 2, _SMALL_PX - 3, ha="left", colour="muted"
    )
    col.flow(soft.top, soft.top + _GAP + 6)
    col.text("Output probabilities", col.cx, soft.top + _GAP + 30, _SIDE_PX, bold=True)
    col.y = soft.top + _GAP + 48
    return col


_KEY_LINES: Final = (
    ("q", "Q  queries"),
    ("k", "K  keys"),
    ("v", "V  values"),
    ("residual", "residual (skip) connection"),
)

_NOTES: Final = (
    "Pre-LN: every sublayer computes x + Sublayer(LayerNorm(x)), so the residual path "
    "skips the norm, and each stack ends with a final LayerNorm.",
    "Post-LN (the 2017 paper) normalises after the add instead: LayerNorm(x + Sublayer(x)).",
    "N×: the layer is repeated N times (N = 6 in the base model).",
    "Causal mask: position i attends only to positions ≤ i.",
)


def transformer_layout(style: Style = DEFAULT_STYLE, measure: Measure | None = None) -> Diagram:
    """The encoder-decoder transformer (Pre-LN), laid out for a phone-readable 1280 px page."""
    m = measure or estimate_width
    margin = float(style.margin)
    width = max(style.width, 1280)
    enc_x, dec_x = 360.0, width - 360.0
    bottom = margin + 8

    # The encoder sits lower than the decoder, so its output rises to the
    # cross-attention's K and V without turning back down.
    dec = _decoder(dec_x, 0.0)
    enc = _encoder(enc_x, 0.0)
    kv_floor = dec.anchors["kv_floor"][1]
    v_y, k_y = kv_floor + 36, kv_floor + 76
    trunk_top = enc.y + 56
    enc_shift = v_y - trunk_top
    lift = bottom - min(0.0, enc_shift)
    dec.d.shifted(0, lift)
    enc.d.shifted(0, lift + enc_shift)
    v_y, k_y = v_y + lift, k_y + lift
    enc_top = enc.y + lift + enc_shift
    k_entry = (dec.anchors["k"][0], dec.anchors["k"][1] + lift)
    v_entry = (dec.anchors["v"][0], dec.anchors["v"][1] + lift)

    d = Diagram("transformer", width, 0)
    d.extend(dec.d)
    d.extend(enc.d)

    # Encoder output -> K and V of every decoder layer's cross-attention.
    d.arrows.append(DArrow(((enc_x, enc_top), (enc_x, v_y)), head=False))
    d.nodes.append(DNode("encoder.output", "dot", enc_x, v_y, 7))
    d.arrows.append(DArrow(((enc_x, v_y), (v_entry[0], v_y), v_entry), role="v"))
    d.arrows.append(DArrow(((enc_x, v_y), (enc_x, k_y), (k_entry[0], k_y), k_entry), role="k"))
    mid = (enc_x + _BOX_W / 2 + 30 + dec_x - _LANE - 30) / 2 + 40
    d.texts.append(DText("K", mid, k_y + 20, _LETTER_PX, colour="k", bold=True))
    d.texts.append(DText("V", mid, v_y + 20, _LETTER_PX, colour="v", bold=True))
    d.texts.append(
        DText(
            "encoder output",
            enc_x - 14,
            (enc_top + v_y) / 2,
            _SMALL_PX,
            ha="right",
            colour="muted",
        )
    )

    # The causal mask, next to the masked self-attention.
    masked = d.box("decoder.masked")
    enc_region = next(r for r in d.regions if r.key == "encoder.layer")
    dec_region = next(r for r in d.regions if r.key == "decoder.layer")
    gap_x = (enc_region.x + enc_region.width + dec_region.x) / 2
    icon_y = masked.y + masked.height / 2 + 14
    d.icons.append(DIcon("mask", gap_x, icon_y, 60))
    d.texts.append(DText("causal", gap_x, icon_y - 52, _SMALL_PX - 2, colour="muted"))
    d.texts.append(DText("mask", gap_x, icon_y - 76, _SMALL_PX - 2, colour="muted"))
    d.arrows.append(
        DArrow(((gap_x + 36, icon_y), (masked.x, icon_y)), role="residual", head=False, dashed=True)
    )

    # The key and the notes, in the space above the encoder.
    top_content = max(
        max(b.top for b in d.boxes),
        max(t.y + t.font_px for t in d.texts),
    )
    key_left = margin
    key_right = dec_region.x - 40
    notes: list[tuple[str, float, str]] = []
    for note in _NOTES:
        for line in wrap_text(note, key_right - key_left, _NOTE_PX, m, 6):
            notes.append((line, _NOTE_PX, ""))
        notes.append(("", 12, ""))
    key_h = len(_KEY_LINES) * 42 + 24 + sum(px * 1.3 if text else px for text, px, _ in notes)
    key_bottom = k_y + 60
    title_h = _TITLE_PX * 1.4 + 20
    height = int(max(top_content + margin + title_h, key_bottom + key_h + margin + title_h))
    d.height = height
    title_y = height - margin - _TITLE_PX * 0.6
    d.texts.append(
        DText(
            "The transformer: encoder-decoder, Pre-LN",
            margin,
            title_y,
            _TITLE_PX,
            ha="left",
            bold=True,
        )
    )
    y = title_y - _TITLE_PX - 24
    for role, text in _KEY_LINES:
        d.arrows.append(DArrow(((key_left, y), (key_left + 70, y)), role=role))
        d.texts.append(DText(text, key_left + 88, y, _NOTE_PX, ha="left"))
        y -= 42
    y -= 8
    for text, px, _ in notes:
        if text:
            d.texts.append(DText(text, key_left, y, px, ha="left", va="center", colour="muted"))
            y -= px * 1.3
        else:
            y -= px
    return d


_LAYOUTS: Final = {"transformer": transformer_layout}


def diagram_layout(
    name: str, style: Style = DEFAULT_STYLE, measure: Measure | None = None
) -> Diagram:
    """The model of a built-in diagram.

    Raises:
        RenderError: when there is no diagram of that name.
    """
    build = _LAYOUTS.get(name)
    if build is None:
        raise RenderError(f"unknown diagram {name!r} (known: {', '.join(DIAGRAMS)})")
    return build(style, measure)


# --------------------------------------------------------------------------- drawing


def _colour(role: str, style: Style) -> str:
    if role in ("q", "k", "v"):
        return style.colour(role)
    if role == "residual":
        return _RESIDUAL
    if role == "muted":
        return style.muted
    if role == "flow" or not role:
        return style.ink
    return role


def _draw_arrow(ax: Axes, a: DArrow, style: Style) -> None:
    colour = _colour(a.role, style)
    lw = 2.0 if a.dashed else 3.2
    if not a.head:
        xs = [p[0] for p in a.points]
        ys = [p[1] for p in a.points]
        ax.plot(
            xs,
            ys,
            color=colour,
            lw=lw,
            linestyle=(0, (4, 4)) if a.dashed else "-",
            solid_capstyle="butt",
            solid_joinstyle="miter",
            zorder=2,
        )
        return
    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(a.points) - 1)
    patch = FancyArrowPatch(
        path=MplPath(list(a.points), codes),
        arrowstyle="-|>,head_length=0.55,head_width=0.3",
        mutation_scale=24,
        color=colour,
        lw=lw,
        shrinkA=0,
        shrinkB=0,
        joinstyle="miter",
        capstyle="butt",
        zorder=2,
    )
    ax.add_patch(patch)


def _draw_icon(ax: Axes, icon: DIcon, style: Style) -> None:
    s = icon.size
    if icon.kind == "wave":
        ax.add_patch(
            Circle(
                (icon.x, icon.y), s / 2, facecolor="#ffffff", edgecolor=style.ink, lw=2.4, zorder=3
            )
        )
        xs = [icon.x - s * 0.34 + s * 0.68 * i / 40 for i in range(41)]
        ys = [icon.y + s * 0.2 * math.sin(2 * math.pi * i / 40) for i in range(41)]
        ax.plot(xs, ys, color=style.ink, lw=2.4, zorder=4)
        return
    n = 4
    cell = s / n
    x0, y0 = icon.x - s / 2, icon.y - s / 2
    for r in range(n):
        for c in range(n):
            visible = c <= r
            ax.add_patch(
                Rectangle(
                    (x0 + c * cell, y0 + (n - 1 - r) * cell),
                    cell,
                    cell,
                    facecolor=tint(BOX_HUES["attention"], 0.45) if visible else style.masked,
                    edgecolor="#ffffff",
                    lw=1.5,
                    zorder=3,
                )
            )


def draw_diagram(d: Diagram, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a diagram model as a PNG."""
    fig, ax = new_canvas(d.width, d.height, style)
    for region in d.regions:
        ax.add_patch(
            FancyBboxPatch(
                (region.x, region.y),
                region.width,
                region.height,
                boxstyle="round,pad=0,rounding_size=22",
                facecolor="#ebe9e3",
                edgecolor="#c9c5bb",
                lw=2.0,
                zorder=0,
            )
        )
        encoder = region.key.startswith("encoder")
        ax.text(
            region.x - 16 if encoder else region.x + region.width + 16,
            region.y + region.height / 2,
            region.repeat,
            ha="right" if encoder else "left",
            va="center",
            fontsize=pt(_NX_PX, style),
            fontweight="bold",
            color=style.ink,
            parse_math=False,
        )
        # The label goes in the top corner away from the residual lanes, beside the ⊕.
        ax.text(
            region.x + region.width - 16 if encoder else region.x + 16,
            region.y + region.height - 12,
            region.label.replace(" ", "\n"),
            ha="right" if encoder else "left",
            multialignment="right" if encoder else "left",
            linespacing=1.1,
            va="top",
            fontsize=pt(_SMALL_PX - 1, style),
            color=style.muted,
            fontstyle="italic",
            parse_math=False,
        )
    for a in d.arrows:
        _draw_arrow(ax, a, style)
    for b in d.boxes:
        hue = BOX_HUES[b.role]
        ax.add_patch(
            FancyBboxPatch(
                (b.x, b.y),
                b.width,
                b.height,
                boxstyle="round,pad=0,rounding_size=12",
                facecolor=tint(hue, 0.8),
                edgecolor=shade(hue, 0.15),
                lw=2.4,
                zorder=5,
            )
        )
        n = len(b.lines)
        for i, line in enumerate(b.lines):
            ax.text(
                b.cx,
                b.y + b.height / 2 + ((n - 1) / 2 - i) * _BOX_PX * 1.2,
                line,
                ha="center",
                va="center",
                fontsize=pt(_BOX_PX, style),
                color=style.ink,
                parse_math=False,
                zorder=6,
            )
    for node in d.nodes:
        if node.kind == "dot":
            ax.add_patch(Circle((node.x, node.y), node.r, facecolor=style.ink, lw=0, zorder=6))
            continue
        ax.add_patch(
            Circle(
                (node.x, node.y), node.r, facecolor="#ffffff", edgecolor=style.ink, lw=2.6, zorder=6
            )
        )
        k = node.r * 0.62
        ax.plot([node.x - k, node.x + k], [node.y, node.y], color=style.ink, lw=2.6, zorder=7)
        ax.plot([node.x, node.x], [node.y - k, node.y + k], color=style.ink, lw=2.6, zorder=7)
    for icon in d.icons:
        _draw_icon(ax, icon, style)
    for t in d.texts:
        ax.text(
            t.x,
            t.y,
            t.text,
            ha=t.ha,
            va=t.va,
            fontsize=pt(t.font_px, style),
            color=_colour(t.colour, style),
            fontweight="bold" if t.bold else "normal",
            parse_math=False,
            zorder=8,
        )
    return to_png(fig, style)


def render_diagram(name: str, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a built-in diagram by name; returns (PNG bytes, width, height).

    Raises:
        RenderError: when there is no diagram of that name.
    """
    d = diagram_layout(name, style, lambda text, px: measure_text(text, px, style, math=False)[0])
    return draw_diagram(d, style)
