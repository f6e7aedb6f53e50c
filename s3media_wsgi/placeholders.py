"""A tiny placeholder of an image (ThumbHash) and its dominant colour, from a small decoded copy.

ThumbHash (Evan Wallace's format, written here from its published
description) keeps an image's average colour, its aspect ratio, alpha, and a
few low-frequency cosine coefficients of its luminance (L), two colour
differences (P, Q) and alpha (A) in 5 to 25 bytes.  :func:`thumbhash`
encodes an RGBA image of at most :data:`MAX_SIDE` pixels a side; :func:`thumbhash_rgba`
decodes one back to a small picture (for a CSS background, with no I/O).

    >>> from PIL import Image
    >>> code = thumbhash(Image.new("RGBA", (32, 24), (200, 40, 40, 255)))
    >>> len(code) <= 25
    True
    >>> size, pixels = thumbhash_rgba(code)
    >>> size[0] > size[1], pixels[:3]
    (True, (198, 40, 42))
"""

from __future__ import annotations

import base64
import functools
import io
import math
import operator

from PIL import Image

#: The largest side a placeholder is computed from: the format allows 100, and
#: its few low-frequency coefficients come out the same from 32 (for a tenth of the work).
MAX_SIDE = 32


@functools.lru_cache(maxsize=256)
def _cosines(size: int, count: int) -> tuple[tuple[float, ...], ...]:
    """``cos(pi / size * k * (x + 0.5))`` for each k < *count* and x < *size*."""
    return tuple(tuple(math.cos(math.pi / size * k * (x + 0.5)) for x in range(size)) for k in range(count))


def _encode_channel(values: list[float], w: int, h: int, nx: int, ny: int) -> tuple[float, list[float], float]:
    # Sums of products through map(): the same products added in the same
    # order as a generator would, in about half the time (the upload pass of a
    # small GIF is mostly this).
    cos_x, cos_ys = _cosines(w, nx), _cosines(h, ny)
    # Separable: each row's sums for every cx first, then the column sums.
    rows = [values[y * w : (y + 1) * w] for y in range(h)]
    row_sums = [[sum(map(operator.mul, row, cx_cos)) for row in rows] for cx_cos in cos_x]
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        cos_y = cos_ys[cy]
        cx = 0
        while cx * ny < nx * (ny - cy):
            f = sum(map(operator.mul, row_sums[cx], cos_y)) / (w * h)
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def thumbhash(image: Image.Image) -> bytes:
    """The ThumbHash of *image* (RGBA, at most :data:`MAX_SIDE` a side)."""
    w, h = image.size
    if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE) or image.mode != "RGBA":
        raise ValueError(f"thumbhash takes an RGBA image of at most {MAX_SIDE}x{MAX_SIDE} pixels")
    raw = image.tobytes()
    pixels = list(zip(raw[0::4], raw[1::4], raw[2::4], raw[3::4]))
    n = w * h
    avg_r = avg_g = avg_b = avg_a = 0.0
    opaque = raw[3::4].count(255) == n  # the average colour is only for compositing: not needed
    for r, g, b, a in () if opaque else pixels:
        alpha = a / 255
        avg_r += alpha / 255 * r
        avg_g += alpha / 255 * g
        avg_b += alpha / 255 * b
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a
    has_alpha = not opaque and avg_a < n
    l_limit = 5 if has_alpha else 7
    lx = max(1, round(l_limit * w / max(w, h)))
    ly = max(1, round(l_limit * h / max(w, h)))
    ls, ps, qs, as_ = [], [], [], []
    if not has_alpha:
        # Opaque: the composite below is exactly r / 255 (alpha 1), without its float work.
        k = 1 / 255
        for r, g, b, _ in pixels:
            rr, gg, bb = k * r, k * g, k * b
            ls.append((rr + gg + bb) / 3)
            ps.append((rr + gg) / 2 - bb)
            qs.append(rr - gg)
    for r, g, b, a in pixels if has_alpha else ():
        alpha = a / 255
        # Composited over the average colour, so transparent pixels do not pull colours to black.
        rr = avg_r * (1 - alpha) + alpha / 255 * r
        gg = avg_g * (1 - alpha) + alpha / 255 * g
        bb = avg_b * (1 - alpha) + alpha / 255 * b
        ls.append((rr + gg + bb) / 3)
        ps.append((rr + gg) / 2 - bb)
        qs.append(rr - gg)
        as_.append(alpha)
    l_dc, l_ac, l_scale = _encode_channel(ls, w, h, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(ps, w, h, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(qs, w, h, 3, 3)
    landscape = w > h
    header24 = (
        round(63 * l_dc)
        | round(31.5 + 31.5 * p_dc) << 6
        | round(31.5 + 31.5 * q_dc) << 12
        | round(31 * l_scale) << 18
        | int(has_alpha) << 23
    )
    header16 = (ly if landscape else lx) | round(63 * p_scale) << 3 | round(63 * q_scale) << 9 | int(landscape) << 15
    out = bytearray([header24 & 255, header24 >> 8 & 255, header24 >> 16, header16 & 255, header16 >> 8])
    acs = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(as_, w, h, 5, 5)
        out.append(round(15 * a_dc) | round(15 * a_scale) << 4)
        acs.append(a_ac)
    start = len(out)
    nibbles = [round(15 * f) for ac in acs for f in ac]
    out.extend(bytes((len(nibbles) + 1) // 2))
    for i, nibble in enumerate(nibbles):
        out[start + (i >> 1)] |= nibble << ((i & 1) * 4)
    return bytes(out)


def aspect_ratio(code: bytes) -> float:
    """Width over height, as far as the hash keeps it."""
    header24 = code[0] | code[1] << 8 | code[2] << 16
    header16 = code[3] | code[4] << 8
    has_alpha = bool(header24 >> 23)
    landscape = bool(header16 >> 15)
    l_max = 5 if has_alpha else 7
    lx = l_max if landscape else header16 & 7
    ly = header16 & 7 if landscape else l_max
    return lx / ly if ly else 1.0


def thumbhash_rgba(code: bytes, side: int = 32) -> tuple[tuple[int, int], tuple[int, ...]]:
    """Decode *code* to ``((width, height), RGBA bytes as ints)``, at most *side* pixels a side."""
    if len(code) < 5:
        raise ValueError("a ThumbHash has at least 5 bytes")
    header24 = code[0] | code[1] << 8 | code[2] << 16
    header16 = code[3] | code[4] << 8
    l_dc = (header24 & 63) / 63
    p_dc = (header24 >> 6 & 63) / 31.5 - 1
    q_dc = (header24 >> 12 & 63) / 31.5 - 1
    l_scale = (header24 >> 18 & 31) / 31
    has_alpha = bool(header24 >> 23)
    p_scale = (header16 >> 3 & 63) / 63
    q_scale = (header16 >> 9 & 63) / 63
    landscape = bool(header16 >> 15)
    l_max = 5 if has_alpha else 7
    lx = max(3, l_max if landscape else header16 & 7)
    ly = max(3, header16 & 7 if landscape else l_max)
    a_dc, a_scale = 1.0, 0.0
    start = 5
    if has_alpha:
        a_dc, a_scale = (code[5] & 15) / 15, (code[5] >> 4) / 15
        start = 6
    index = 0

    def channel(nx: int, ny: int, scale: float) -> list[tuple[int, int, float]]:
        nonlocal index
        coefficients = []
        for cy in range(ny):
            cx = 1 if cy == 0 else 0
            while cx * ny < nx * (ny - cy):
                byte = code[start + (index >> 1)] if start + (index >> 1) < len(code) else 0
                nibble = byte >> ((index & 1) * 4) & 15
                coefficients.append((cx, cy, (nibble / 7.5 - 1) * scale))
                index += 1
                cx += 1
        return coefficients

    l_ac = channel(lx, ly, l_scale)
    p_ac = channel(3, 3, p_scale * 1.25)
    q_ac = channel(3, 3, q_scale * 1.25)
    a_ac = channel(5, 5, a_scale) if has_alpha else []
    ratio = aspect_ratio(code)
    w = side if ratio >= 1 else max(1, round(side * ratio))
    h = max(1, round(side / ratio)) if ratio >= 1 else side
    # Twice each coefficient, as the format's own decoder does (the encoder's
    # projection is halved; for a term in both directions four times would be
    # exact, but sums the rounding of every "zero" nibble, 8/15, into a visible bias).
    cos_x = [[2 * math.cos(math.pi / w * (x + 0.5) * cx) for cx in range(8)] for x in range(w)]
    cos_y = [[math.cos(math.pi / h * (y + 0.5) * cy) for cy in range(8)] for y in range(h)]
    out: list[int] = []
    for y in range(h):
        fy = cos_y[y]
        for x in range(w):
            fx = cos_x[x]
            lum, p, q, alpha = (
                dc + sum(f * fx[cx] * fy[cy] for cx, cy, f in ac)
                for dc, ac in ((l_dc, l_ac), (p_dc, p_ac), (q_dc, q_ac), (a_dc, a_ac))
            )
            b = lum - 2 / 3 * p
            r = (3 * lum - b + q) / 2
            g = r - q
            out.extend(max(0, min(255, round(255 * c))) for c in (r, g, b, alpha))
    return (w, h), tuple(out)


@functools.lru_cache(maxsize=4096)
def data_url(placeholder: str, side: int = 16) -> str:
    """A ``data:image/png`` URL of the base64 ThumbHash *placeholder*, at most *side* pixels a side (no I/O).

    Cached: a page shows the same few hundred ids again and again.
    """
    (w, h), rgba = thumbhash_rgba(base64.b64decode(placeholder), side)
    image = Image.frombytes("RGBA", (w, h), bytes(rgba))
    if all(a == 255 for a in rgba[3::4]):
        image = image.convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def dominant_colour(image: Image.Image) -> str:
    """The most common of a few representative colours of *image* (small, RGBA), as ``#rrggbb``."""
    rgb = image.convert("RGB")
    quantized = rgb.quantize(colors=5, method=Image.Quantize.MEDIANCUT)
    colours = quantized.getcolors() or [(1, 0)]
    palette = quantized.getpalette() or [0, 0, 0]
    _, most = max(colours, key=lambda counted: counted[0])
    index = most if isinstance(most, int) else 0
    r, g, b = palette[3 * index : 3 * index + 3]
    return f"#{r:02x}{g:02x}{b:02x}"


__all__ = ["MAX_SIDE", "aspect_ratio", "data_url", "dominant_colour", "thumbhash", "thumbhash_rgba"]
