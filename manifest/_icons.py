"""Draw the Teams app icons: ``python -m manifest._icons`` rewrites color.png and outline.png.

A development tool, not imported at run time: the PNGs are committed so a build never depends
on this drawing code. Kept so the icons can be regenerated (say, for a new accent colour)
instead of being opaque binaries nobody can change.

The glyph is a clock (SLA deadlines) with a tick badge (ticket resolved). Shapes are signed
distance functions sampled on a sub-pixel grid, which gives smooth edges without any imaging
library; the PNG encoder is zlib + struct only.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path

# The accent colour in manifest.template.json must match this background colour.
ACCENT = (0x1F, 0x5F, 0xAD)
BADGE = (0x2E, 0xA0, 0x43)
WHITE = (0xFF, 0xFF, 0xFF)

RGB = tuple[int, int, int]
Shape = Callable[[float, float], float]  # signed distance in units of the icon's side


def circle(cx: float, cy: float, r: float) -> Shape:
    """A filled disc."""
    return lambda x, y: math.hypot(x - cx, y - cy) - r


def ring(cx: float, cy: float, r: float, width: float) -> Shape:
    """An annulus of the given stroke width centred on radius ``r``."""
    return lambda x, y: abs(math.hypot(x - cx, y - cy) - r) - width / 2


def stroke(x0: float, y0: float, x1: float, y1: float, width: float) -> Shape:
    """A line segment with round caps."""
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy

    def distance(x: float, y: float) -> float:
        t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length2))
        return math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) - width / 2

    return distance


def union(*shapes: Shape) -> Shape:
    """Everything inside any of the shapes."""
    return lambda x, y: min(shape(x, y) for shape in shapes)


def clock(cx: float, cy: float, r: float, width: float) -> Shape:
    """A clock face at ten past ten-ish: rim, two hands and a hub."""
    return union(
        ring(cx, cy, r, width),
        stroke(cx, cy, cx, cy - r * 0.55, width),  # minute hand towards 12
        stroke(cx, cy, cx + r * 0.42, cy + r * 0.18, width),  # hour hand towards 4
        circle(cx, cy, width * 0.9),
    )


def tick(cx: float, cy: float, size: float, width: float) -> Shape:
    """A check mark centred on (cx, cy)."""
    return union(
        stroke(cx - size * 0.45, cy, cx - size * 0.12, cy + size * 0.32, width),
        stroke(cx - size * 0.12, cy + size * 0.32, cx + size * 0.5, cy - size * 0.3, width),
    )


def coverage(shape: Shape, px: int, py: int, side: int, samples: int = 4) -> float:
    """The fraction of pixel (px, py) inside ``shape``, by supersampling (antialiasing)."""
    inside = 0
    for sy in range(samples):
        for sx in range(samples):
            x = (px + (sx + 0.5) / samples) / side
            y = (py + (sy + 0.5) / samples) / side
            inside += shape(x, y) <= 0
    return inside / (samples * samples)


def blend(under: RGB, over: RGB, alpha: float) -> RGB:
    """``over`` painted at ``alpha`` opacity on top of ``under``."""
    r, g, b = (round(u + (o - u) * alpha) for u, o in zip(under, over, strict=True))
    return (r, g, b)


def color_icon(side: int = 192) -> list[list[RGB]]:
    """The opaque full-colour icon: a white clock on the accent colour, with a green tick.

    The clock stays inside Teams' central safe area so nothing is cropped by rounded corners.
    """
    face = clock(0.47, 0.47, 0.27, 0.055)
    badge_rim = circle(0.68, 0.68, 0.165)
    badge = circle(0.68, 0.68, 0.135)
    mark = tick(0.68, 0.69, 0.15, 0.04)
    layers: list[tuple[Shape, RGB]] = [
        (face, WHITE),
        (badge_rim, ACCENT),  # a moat in the background colour separates badge from clock
        (badge, BADGE),
        (mark, WHITE),
    ]
    image: list[list[RGB]] = []
    for py in range(side):
        row: list[RGB] = []
        for px in range(side):
            pixel = ACCENT
            for shape, colour in layers:
                pixel = blend(pixel, colour, coverage(shape, px, py, side))
            row.append(pixel)
        image.append(row)
    return image


def outline_icon(side: int = 32) -> list[list[float]]:
    """The outline icon's alpha channel: Teams wants white only, on transparency."""
    face = clock(0.5, 0.5, 0.38, 0.1)
    return [[coverage(face, px, py, side) for px in range(side)] for py in range(side)]


def png(width: int, height: int, colour_type: int, rows: Iterable[bytes]) -> bytes:
    """Encode 8-bit rows (colour type 2 = RGB, 6 = RGBA) as PNG, filter 0, no ancillary chunks.

    No timestamps or text chunks, so the bytes only depend on the pixels (and zlib).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def encode_color(image: list[list[RGB]]) -> bytes:
    """The colour icon as an opaque RGB PNG."""
    rows = (bytes(channel for pixel in row for channel in pixel) for row in image)
    return png(len(image[0]), len(image), 2, rows)


def encode_outline(alpha: list[list[float]]) -> bytes:
    """The outline icon as RGBA PNG: every pixel white, only the alpha varies."""
    rows = (b"".join(bytes((*WHITE, round(a * 255))) for a in row) for row in alpha)
    return png(len(alpha[0]), len(alpha), 6, rows)


def main() -> None:
    """Rewrite both icons next to this module."""
    here = Path(__file__).resolve().parent
    (here / "color.png").write_bytes(encode_color(color_icon()))
    (here / "outline.png").write_bytes(encode_outline(outline_icon()))


if __name__ == "__main__":
    main()
