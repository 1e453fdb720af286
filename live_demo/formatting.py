"""How trace values read wherever they are shown: panels, charts, decks, transcripts, the site.

One rule per kind of value, so a panel and a chart never disagree on the same number, and a
number that is not zero never reads as zero. Pure Python (no torch): the renderer, the charts
and the site all import it.
"""
from __future__ import annotations

import math

SPACE_MARK = "\u2423"      # ␣  a token's leading space
NEWLINE_MARK = "\u21b5"    # ↵  a newline inside a token
TAB_MARK = "\u21e5"        # ⇥  a tab inside a token
ELLIPSIS = "\u2026"        # …

_CONTROL_MARKS = str.maketrans({"\n": NEWLINE_MARK, "\r": NEWLINE_MARK, "\t": TAB_MARK})


# ---------------------------------------------------------------- probabilities and numbers

def pct(p: float, digits: int | None = None) -> str:
    """A probability as a percentage, with two significant digits: "45%", "3.4%", "0.42%",
    "0.0021%". So a small probability never reads "0%" (below 0.0001%: "<0.0001%"), exactly 0 is
    "0%", exactly 1 is "100%", and just under 1 never rounds up to 100% (">99%").

    `digits` fixes the decimals from 1% up instead (an axis, a table column); below 1% the
    two-significant-digit rule still holds.
    """
    v = 100.0 * float(p)
    if not math.isfinite(v) or v <= 0:
        return "0%"
    if v >= 100:
        return "100%"
    if v < 1e-4:
        return "<0.0001%"
    if digits is None:
        decimals = max(0, 1 - math.floor(math.log10(v)))      # two significant digits
    else:
        decimals = max(0, int(digits)) if v >= 1 else max(int(digits), 1 - math.floor(math.log10(v)))
    text = f"{v:.{decimals}f}"
    if float(text) >= 100:                                       # 99.7 must not read 100%
        return f">{100 - 10 ** -decimals:.{decimals}f}%" if decimals else ">99%"
    if digits is None and float(text) >= 10 ** (2 - decimals) and decimals > 0:
        text = f"{v:.{decimals - 1}f}"                           # 9.96 -> "10", not "10.0"
    return f"{text}%"


def count(n: int) -> str:
    """A whole number with thousands separators: 49152 -> "49,152"."""
    return f"{int(n):,}"


def params(n: int) -> str:
    """A parameter count as people say it: 134515008 -> "135M", 3403264 -> "3.4M", 1.5e9 -> "1.5B"."""
    n = float(n)
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            v = n / scale
            return f"{v:.1f}{unit}" if v < 10 and round(v, 1) != round(v) else f"{v:.0f}{unit}"
    return f"{n:.0f}"


def megabytes(n_bytes: float) -> str:
    """A size in MB (or GB from 10 GB), rounded: 538053632 -> "538 MB"."""
    mb = float(n_bytes) / 1e6
    if mb >= 10_000:
        return f"{mb / 1e3:.0f} GB"
    if mb >= 10:
        return f"{mb:.0f} MB"
    return f"{mb:.1f} MB"


def data_size(n_bytes: float) -> str:
    """A size from bytes up, each in the unit that reads best: "512 bytes", "46 KB", "1.6 MB",
    "538 MB", "13 GB" (megabytes' rule from 1 MB up)."""
    n = float(n_bytes)
    if n < 1000:
        return f"{n:.0f} bytes"
    if n < 1e6:
        kb = n / 1e3
        return f"{kb:.1f} KB" if kb < 10 else f"{kb:.0f} KB"
    return megabytes(n)


def seconds(s: float) -> str:
    """A duration: "12 ms" under a second, "1.23 s" above."""
    s = float(s)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s" if s < 10 else f"{s:.1f} s"


def value(x: float, digits: int = 3) -> str:
    """A number inside a tensor (an embedding, an activation), with `digits` significant digits
    and a true minus sign: 0.012345 -> "0.0123", -1.2345 -> "\u22121.23", 123.456 -> "123",
    4321.5 -> "4322" (never an exponent); a value that rounds to zero reads "0"."""
    v = float(x)
    if not math.isfinite(v):
        return str(v)
    if v == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(v)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{abs(v):.{decimals}f}"
    if float(text) >= 10 ** (magnitude + 1) and decimals > 0:   # 9.996 -> "10.0", not "10.00"
        text = f"{abs(v):.{decimals - 1}f}"
    if float(text) == 0:
        return "0"
    return ("\u2212" if v < 0 else "") + text


def shape_text(dims, brackets: str = "()") -> str:
    """A tensor's shape: (1, 7, 576) as the comic writes it, [1, 7, 576] with brackets="[]"; "" when
    there is none."""
    return f"{brackets[0]}{', '.join(str(n) for n in dims)}{brackets[1]}" if dims else ""


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 token", "7 tokens" ("1 child", "3 children" with many=)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


# ---------------------------------------------------------------- tokens and text

def visible(text: str) -> str:
    """Token text as a reader sees it on a cube, a bar or a slide: the leading space as ␣,
    newlines as ↵ and tabs as ⇥ (never as real line breaks)."""
    if text.startswith(" "):
        text = SPACE_MARK + text[1:]
    return text.translate(_CONTROL_MARKS)


def printable(display: str) -> str:
    """A display string (already with ␣) with newlines and tabs as marks."""
    return display.translate(_CONTROL_MARKS)


def token_display(token: dict) -> str:
    """The display text of a trace token record ({id, text, display})."""
    return printable(token.get("display") or visible(token.get("text", "")))


def one_line(text: str) -> str:
    """Text on one line: runs of whitespace (newlines included) become one space."""
    return " ".join(str(text).split())


def elide(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else cut to fit with a visible "…" at the end,
    at a word boundary when one is near (no word cut in half unless it is longer than a third of
    the room)."""
    text = str(text)
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    if limit == 1:
        return ELLIPSIS
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= (limit - 1) * 2 // 3:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + ELLIPSIS


def elide_line(text: str, limit: int) -> str:
    """`text` on one line (see one_line), cut to `limit` characters with "…" (see elide): a
    quotation in a title or a message."""
    return elide(one_line(text), limit)


def words(text: str, n: int) -> str:
    """The first `n` words of `text`, with "…" when there were more."""
    parts = str(text).split()
    return " ".join(parts[:n]) + (ELLIPSIS if len(parts) > n else "")
