"""The reaction-attainment chart of a report: met and breached tickets per ISO week (PNG).

Stacked bars (met at the bottom, breached on top) with the week's attainment above each bar,
week labels below, a count axis on the left and a legend. Blue and orange rather than green
and red, so colour-blind readers tell them apart. Drawn with Pillow's built-in font only, so
the output depends on nothing installed and the same input gives the same bytes. That font has
ASCII glyphs only: every text is spelt in ASCII before it is drawn ("–" as "-", "ä" as "ae"),
never shown as a box.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 320
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 58, 40
MET_COLOUR, BREACHED_COLOUR = (33, 102, 172), (230, 120, 20)
INK, GRID, BACKGROUND = (40, 40, 40), (222, 222, 222), (255, 255, 255)
MAX_BAR_WIDTH = 56
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
# What the built-in font cannot draw, spelt in ASCII; the rest loses its accents.
_ASCII = str.maketrans(
    {"–": "-", "—": "-", "…": "...", "·": "-", "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae",
     "Ö": "Oe", "Ü": "Ue", "ß": "ss", "€": "EUR"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Fonts:
    title: Font
    text: Font
    small: Font


@dataclass(frozen=True, slots=True)
class _Plot:
    """The plot area in pixels and the count at its top."""

    left: int
    top: int
    right: int
    bottom: int
    top_count: int
    step: int

    def y(self, count: float) -> int:
        """The pixel row of a count."""
        return round(self.bottom - (self.bottom - self.top) * count / self.top_count)


def attainment_chart(weekly: Sequence[tuple[str, int, int]], *, title: str) -> bytes:
    """A ~640x320 PNG of (week, met, breached) as stacked bars with the attainment per week."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    fonts = _fonts()
    legend_left = _legend(draw, fonts.text)
    draw.text((LEFT, 10), _fit(draw, drawable(title), fonts.title, legend_left - LEFT - 16),
              font=fonts.title, fill=INK)  # fmt: skip
    plot = _plot(max((met + breached for _, met, breached in weekly), default=0))
    _axes(draw, plot, fonts.small)
    if weekly:
        _bars(draw, plot, weekly, fonts)
    else:
        _centred(draw, "No tickets in this period", (plot.left + plot.right) // 2, HEIGHT // 2,
                 fonts.text)  # fmt: skip
    return _png(image)


def drawable(text: str) -> str:
    """`text` in the characters the built-in font has (ASCII): no glyph drawn as a box."""
    spelt = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return spelt.encode("ascii", "ignore").decode("ascii")


def _fonts() -> _Fonts:
    return _Fonts(
        title=ImageFont.load_default(size=16),
        text=ImageFont.load_default(size=13),
        small=ImageFont.load_default(size=11),
    )


def _plot(highest: int) -> _Plot:
    step = _step(highest)
    top_count = max(-(-highest // step) * step, step)
    return _Plot(LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM, top_count, step)


def _step(highest: int) -> int:
    """A 1-2-5 tick step that gives at most five gridlines."""
    scale = 1
    while True:
        for factor in (1, 2, 5):
            if highest <= 5 * factor * scale:
                return factor * scale
        scale *= 10


def _axes(draw: ImageDraw.ImageDraw, plot: _Plot, font: Font) -> None:
    for count in range(0, plot.top_count + 1, plot.step):
        y = plot.y(count)
        draw.line((plot.left, y, plot.right, y), fill=GRID if count else INK)
        label = str(count)
        draw.text((plot.left - 6 - draw.textlength(label, font=font), y - 7), label, font=font,
                  fill=INK)  # fmt: skip
    draw.line((plot.left, plot.top - 6, plot.left, plot.bottom), fill=INK)
    draw.text((6, plot.top - 20), "tickets", font=font, fill=INK)


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: int) -> str:
    """`text`, cut short with "..." if it is wider than `width` pixels."""
    fitted = text
    while (
        fitted and draw.textlength(fitted if fitted == text else f"{fitted}...", font=font) > width
    ):
        fitted = fitted[:-1]
    return fitted if fitted == text else f"{fitted.rstrip()}..."


def _legend(draw: ImageDraw.ImageDraw, font: Font) -> int:
    """Draw the legend at the top right; its left edge."""
    x = WIDTH - RIGHT
    for label, colour in (("breached", BREACHED_COLOUR), ("met", MET_COLOUR)):
        x -= round(draw.textlength(label, font=font))
        draw.text((x, 12), label, font=font, fill=INK)
        x -= 18
        draw.rectangle((x, 13, x + 12, 25), fill=colour)
        x -= 16
    return x


def _bars(
    draw: ImageDraw.ImageDraw, plot: _Plot, weekly: Sequence[tuple[str, int, int]], fonts: _Fonts
) -> None:
    slot = (plot.right - plot.left) / len(weekly)
    width = min(MAX_BAR_WIDTH, round(slot * 0.6))
    short = slot < 64  # "W02" instead of "2026-W02" when the labels would touch
    every = max(1, -(-28 // round(slot)) if short else 1)  # thin out labels of many weeks
    for index, (week, met, breached) in enumerate(weekly):
        centre = round(plot.left + slot * (index + 0.5))
        left, right = centre - width // 2, centre + width // 2
        if met:
            draw.rectangle((left, plot.y(met), right, plot.y(0) - 1), fill=MET_COLOUR)
        if breached:
            draw.rectangle((left, plot.y(met + breached), right, plot.y(met) - 1),
                           fill=BREACHED_COLOUR)  # fmt: skip
        if slot >= 32:
            _centred(draw, _attainment(met, breached), centre, plot.y(met + breached) - 17,
                     fonts.text)  # fmt: skip
        if index % every == 0:
            label = week.split("-")[-1] if short else week
            _centred(draw, label, centre, plot.bottom + 8, fonts.small)


def _attainment(met: int, breached: int) -> str:
    known = met + breached
    return f"{round(100 * met / known)}%" if known else "n/a"


def _centred(draw: ImageDraw.ImageDraw, text: str, centre: int, top: int, font: Font) -> None:
    draw.text((centre - draw.textlength(text, font=font) / 2, top), text, font=font, fill=INK)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
