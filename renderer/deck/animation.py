"""A slide that shows generation happening: the answer appears token by token, each token with
its probability, the current step's runners-up beside it.

In a deck template: `{{ generation(demos.question, "top_p") }}` writes the slide's HTML from the
trace (the real steps of that strategy). In the HTML deck the tokens appear one by one with CSS
animations (no script, so nothing to load and the same on every run); the theme restarts them
each time the slide is shown, and `prefers-reduced-motion` shows the final frame at once. PDF,
PNG and PPTX are rendered with `target` "print" and show the final frame. The same animation is
written beside the deck as an animated WebP (`<deck>.generation-<demo>-<strategy>.webp`) for
places that cannot play the deck.

The theme (slides/themes/novapress.css) styles `.gen` and holds the keyframes; the per-token
timing is a style written here, in the HTML deck only.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import pass_context
from PIL import Image, ImageDraw, ImageFont

from live_demo import formatting

from ..fonts import font
from .source import token_text

FIRST_S = 0.8        # the first token appears this long after the slide is shown
STEP_S = 0.45        # then one token every STEP_S seconds
RUNNERS_UP = 3       # alternatives shown per step
MAX_TOKENS = 32      # longer answers show the first MAX_TOKENS and say how many more


@dataclass
class _Run:
    demo: str
    strategy: str
    trace: dict


@dataclass
class Animations:
    """The generations a deck's template drew, to write as animated images after the build."""

    deck: str = "deck"
    runs: list[_Run] = field(default_factory=list)

    @pass_context
    def generation(self, ctx, trace: dict, strategy: str = "top_p", limit: int = MAX_TOKENS) -> str:
        if strategy not in trace.get("strategies", {}):
            raise ValueError(f"generation(): the trace has no strategy '{strategy}' "
                             f"(it has {', '.join(trace.get('strategies', {})) or 'none'})")
        demo = trace.get("demo") or "demo"
        if not any(r.demo == demo and r.strategy == strategy for r in self.runs):
            self.runs.append(_Run(demo, strategy, trace))
        animate = ctx.get("target", "html") == "html"
        return generation_html(trace, strategy, limit=limit, animate=animate)

    def names(self) -> list[str]:
        return [f"{self.deck}.generation-{r.demo}-{r.strategy}.webp" for r in self.runs]

    def write(self, folder: Path, deck: str) -> dict[str, Path]:
        """The animated WebP of each generation, staged in `folder`: {"animation:<file>": path}."""
        out = {}
        for run, name in zip(self.runs, self.names()):
            path = Path(folder) / name
            path.write_bytes(webp_bytes(run.trace, run.strategy))
            out[f"animation:{name}"] = path
        return out


def _steps(trace: dict, strategy: str) -> tuple[list[dict], dict]:
    result = trace["strategies"][strategy]
    return result["steps"], result


def _tok(entry: dict) -> str:
    """A token's visible text for a slide (␣ for a leading space, ⏎ for a newline)."""
    shown = entry.get("display") if entry.get("display") not in (None, "") else "\u00b7"
    return token_text(shown)


def generation_html(trace: dict, strategy: str, *, limit: int = MAX_TOKENS, animate: bool = True) -> str:
    """The slide's HTML: one HTML block (no blank lines), model text escaped."""
    steps, result = _steps(trace, strategy)
    shown = steps[:limit]
    chips = []
    for s in shown:
        special = " special" if s["token"].get("special") else ""
        chips.append(f'<span class="gt{special}"><span class="t">{_tok(s["token"])}</span>'
                     f'<span class="p">{formatting.pct(s["prob"])}</span></span>')
    if len(steps) > len(shown):
        chips.append(f'<span class="gt more"><span class="t">…</span>'
                     f'<span class="p">+{len(steps) - len(shown)} more</span></span>')
    panels = []
    for i, s in enumerate(shown, 1):
        alts = "".join(f'<span class="alt"><span class="t">{_tok(a)}</span> {formatting.pct(a["prob"])}</span>'
                       for a in s["alternatives"][:RUNNERS_UP])
        ended = ' <span class="why">the end token: the answer stops</span>' if s["token"].get("special") else ""
        panels.append(f'<div class="gs"><span class="n">token {i} of {len(steps)}</span>'
                      f'<span class="pick"><span class="t">{_tok(s["token"])}</span> {formatting.pct(s["prob"])}'
                      f'{ended}</span><span class="runners">runners-up</span>{alts}</div>')
    html = (f'<div class="gen"><div class="gen-answer">{"".join(chips)}</div>'
            f'<div class="gen-steps">{"".join(panels)}</div></div>')
    if animate:
        html += "\n\n" + _timing_style(len(shown))
    return html


def _timing_style(n: int) -> str:
    """The style that reveals token i at FIRST_S + i * STEP_S (motion allowed only)."""
    rules = []
    for i in range(1, n + 1):
        start = FIRST_S + (i - 1) * STEP_S
        rules.append(f".gen .gt:nth-child({i}){{animation-delay:{start:.2f}s}}")
        last = i == n
        rules.append(f".gen .gs:nth-child({i}){{animation-delay:{start:.2f}s;"
                     f"animation-duration:{STEP_S:.2f}s;animation-fill-mode:{'forwards' if last else 'none'}}}")
    rules.append(f".gen .gt.more{{animation-delay:{FIRST_S + n * STEP_S:.2f}s}}")
    body = "".join(rules)
    # a global style (rules only .gen matches): marp gives a scoped one a random name, and the
    # same deck must give the same bytes
    return ("<style>\n@media (prefers-reduced-motion: no-preference) {\n"
            ".gen .gt{animation:np-gen-token .3s ease-out both}\n"
            ".gen .gs{visibility:hidden;animation-name:np-gen-step;animation-timing-function:steps(1)}\n"
            f"{body}\n}}\n</style>")


# --- the same as an animated image ------------------------------------------------------------

_W, _H = 1280, 720
_BG, _TEXT, _MUTED, _ACCENT, _CHIP, _EDGE = "#0b1233", "#eaf4ff", "#8ea3cc", "#ff3ea5", "#141d4a", "#2de2e6"


def _fonts():
    import matplotlib   # only for its DejaVu font file; kept off the path of a deck without this slide

    # token text in DejaVu Sans Mono (it ships with matplotlib): it has the marks ␣ and ⏎
    mono = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
    return {"title": font("Exo 2", 34, 700), "body": font("Exo 2", 26), "tok": ImageFont.truetype(str(mono), 26),
            "small": ImageFont.truetype(str(mono), 19), "label": font("Exo 2", 22)}


def _plain(entry: dict) -> str:
    text = entry.get("display") or "\u00b7"
    return text.replace("\u21b5", "\u23ce")


def _frame(trace: dict, steps: list[dict], upto: int, total: int, fonts) -> Image.Image:
    img = Image.new("RGB", (_W, _H), _BG)
    d = ImageDraw.Draw(img)
    d.text((48, 36), "Generation, token by token", font=fonts["title"], fill=_TEXT)
    question = formatting.elide(formatting.one_line(trace.get("prompt", "")), 70)
    d.text((48, 92), f"\u201c{question}\u201d", font=fonts["body"], fill=_MUTED)
    x, y = 48, 150
    for s in steps[:upto]:
        label, prob = _plain(s["token"]), formatting.pct(s["prob"])
        w = max(d.textlength(label, font=fonts["tok"], features=["-liga"]), d.textlength(prob, font=fonts["small"])) + 24
        if x + w > _W - 48:
            x, y = 48, y + 86
        edge = _ACCENT if s["token"].get("special") else _EDGE
        d.rounded_rectangle((x, y, x + w, y + 74), radius=8, fill=_CHIP, outline=edge, width=2)
        d.text((x + 12, y + 8), label, font=fonts["tok"], fill=_TEXT, features=["-liga"])
        d.text((x + 12, y + 44), prob, font=fonts["small"], fill=_MUTED)
        x += w + 10
    if upto:
        s = steps[upto - 1]
        box_y = _H - 150
        d.rounded_rectangle((48, box_y, _W - 48, _H - 40), radius=10, fill="#10183d", outline="#3a4470", width=2)
        head = f"token {upto} of {total}:  {_plain(s['token'])}  {formatting.pct(s['prob'])}"
        d.text((68, box_y + 14), head, font=fonts["tok"], fill=_ACCENT, features=["-liga"])
        alts = "   ".join(f"{_plain(a)} {formatting.pct(a['prob'])}" for a in s["alternatives"][:RUNNERS_UP])
        d.text((68, box_y + 60), f"runners-up: {alts}" if alts else "no runners-up", font=fonts["small"],
               fill=_TEXT, features=["-liga"])
    model = trace.get("model", {}).get("display", "")
    d.text((_W - 48, _H - 12), f"model: {model}", font=fonts["small"], fill=_MUTED, anchor="rd")
    return img


def webp_bytes(trace: dict, strategy: str, *, limit: int = MAX_TOKENS) -> bytes:
    """An animated WebP of the generation: a frame per token, the last one held."""
    steps, _ = _steps(trace, strategy)
    shown = steps[:limit]
    fonts = _fonts()
    frames = [_frame(trace, shown, k, len(steps), fonts) for k in range(0, len(shown) + 1)]
    durations = [int(FIRST_S * 1000)] + [int(STEP_S * 1000)] * (len(frames) - 2) + [4000]
    durations = durations[:len(frames)]
    buf = io.BytesIO()
    frames[0].save(buf, "WEBP", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                   lossless=True, quality=80, method=4)
    return buf.getvalue()

