"""Can the back row read it? Every text on every slide measured in the rendered HTML deck.

The rule: at the slide's own size (1280x720 for 16:9), no text is smaller than the deck's
minimum, 18 px by default (a deck may set `novapress: {min_text_px: N}`). Why 18 px: it is
2.5% of the slide height, 13.5 pt on PowerPoint's 13.33 x 7.5 in slide. A letter of that size
(capital height about 0.7 em = 12.6 px) subtends about 15 arc minutes for a viewer four screen
heights away, the usual distance of the back row in a room laid out for reading text (the
"4/6/8" rule), and about 16 arc minutes is where human-factors standards for displays put the
smallest legible character. Body text (28 px in the novapress theme) stays legible at six
screen heights; 18 px is the floor for labels, tables, code and footers.

How it is measured, in a real browser (the Chromium marp-cli uses, headless, its DOM dumped
after a script has measured) on the HTML deck as marp renders it, with its files at absolute
paths and every slide laid out, none animated:
- text: for each element holding text, its computed font size times every scale between it and
  its slide (marp's auto-scaling of wide code and headings, the theme's transforms), in slide
  pixels;
- images: an image that says how small its text is (PNG text chunk `novapress:min-text-px`,
  written by the charts and the comic's panels) is measured at the size the slide shows it:
  that size in its own pixels times the scale it is drawn at. Images that do not say (photos,
  textures) are not judged.
Text the audience cannot see at all counts too: text past the slide's edge (marp clips it) or
under the slide's footer, as a long model answer can push it. Every problem is located (deck
file, line, slide) and worded as a fix.
"""
from __future__ import annotations

import html as htmllib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from PIL import Image

from ..errors import Problem, rel
from ..lettering import MIN_TEXT_KEY
from .markdown import slide_starts
from .source import Deck

DEFAULT_MIN_PX = 18.0
SLIDE_HEIGHT = 720          # the rule is stated for 1280x720; other slide sizes scale by height
TOLERANCE_PX = 0.25         # the browser's layout rounds: 17.9 px set as 18 px is 18 px
_MARKER = "np-legibility"

# Runs in the page once everything (images included) has loaded: for each slide, the text
# elements with their size in slide pixels, and the images with their shown size.
_SCRIPT = r"""
(() => {
  const run = () => {
    const out = [];
    const slides = Array.from(document.querySelectorAll('svg[data-marpit-svg]'));
    slides.forEach((svg, index) => {
      const sections = Array.from(svg.querySelectorAll(':scope > foreignObject > section'));
      const items = [];
      const images = [];
      const cut = [];
      for (const section of sections) {
        const sr = section.getBoundingClientRect();
        if (!section.offsetHeight || !sr.height) continue;
        const slideScale = sr.height / section.offsetHeight;          // page px per slide px
        const toSlide = 720 / section.offsetHeight;                    // slide px -> 1280x720 px
        const seen = new Set();
        const footer = section.querySelector(':scope > footer');
        const fr = footer && footer.textContent.trim() ? footer.getBoundingClientRect() : null;
        const W = section.offsetWidth, H = section.offsetHeight;
        const walker = document.createTreeWalker(section, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (!node.nodeValue.trim()) continue;
          const el = node.parentElement;
          if (!el || seen.has(el) || el.closest('svg:not([data-marpit-svg])')) continue;
          seen.add(el);
          const cs = getComputedStyle(el);
          if (cs.display === 'none' || !el.getClientRects().length) continue;
          // every scale above it (marp's auto-scaling, transforms): shown width over laid-out width,
          // taken on a wide block (offsetWidth is a whole number: a narrow element would round)
          let ref = el;
          while (ref && ref !== section && ((ref.offsetWidth || 0) < 200 || getComputedStyle(ref).display === 'inline')) {
            ref = ref.parentElement;
          }
          const rr = ref ? ref.getBoundingClientRect() : null;
          const own = (ref && ref.offsetWidth && rr.width) ? (rr.width / ref.offsetWidth) : slideScale;
          const px = parseFloat(cs.fontSize) * own / slideScale * toSlide;
          let text = '';
          for (const c of el.childNodes) if (c.nodeType === 3) text += c.nodeValue;
          items.push({px: Math.round(px * 100) / 100, text: text.replace(/\s+/g, ' ').trim().slice(0, 80),
                      tag: el.tagName.toLowerCase(), cls: (el.getAttribute('class') || '').trim()});
          // cut off by the slide's edge, or under its footer: the audience cannot read it either
          if (!el.closest('footer, header')) {
            for (const box of el.getClientRects()) {
              const x0 = (box.left - sr.left) / slideScale, x1 = (box.right - sr.left) / slideScale;
              const y0 = (box.top - sr.top) / slideScale, y1 = (box.bottom - sr.top) / slideScale;
              let where = '';
              if (y1 > H + 2 || x1 > W + 2 || y0 < -2 || x0 < -2) where = 'edge';
              else if (fr && box.bottom > fr.top + 2 && box.top < fr.bottom - 2 && box.right > fr.left && box.left < fr.right) where = 'footer';
              if (where) { cut.push({text: text.replace(/\s+/g, ' ').trim().slice(0, 80), where}); break; }
            }
          }
        }
        const boxes = [];
        for (const img of section.querySelectorAll('img')) {
          boxes.push({url: img.currentSrc || img.src, el: img, nw: img.naturalWidth, nh: img.naturalHeight,
                      fit: getComputedStyle(img).objectFit});
        }
        for (const el of section.querySelectorAll('*')) {
          const bg = getComputedStyle(el).backgroundImage;
          const m = bg && bg.match(/url\("?([^")]+)"?\)/);
          if (m && el.getClientRects().length) boxes.push({url: m[1], el, nw: 0, nh: 0,
                                                             fit: getComputedStyle(el).backgroundSize});
        }
        for (const b of boxes) {
          const r = b.el.getBoundingClientRect();
          if (!r.width || !r.height) continue;
          images.push({url: b.url, w: r.width / slideScale * toSlide, h: r.height / slideScale * toSlide,
                       nw: b.nw, nh: b.nh, fit: b.fit || ''});
        }
      }
      out.push({slide: index + 1, items, images, cut});
    });
    const el = document.createElement('script');
    el.type = 'application/json';
    el.id = 'MARKER';
    el.textContent = JSON.stringify(out);
    document.body.appendChild(el);
  };
  const ready = () => (document.fonts ? document.fonts.ready : Promise.resolve()).then(run);
  if (document.readyState === 'complete') ready(); else window.addEventListener('load', ready);
})();
""".replace("MARKER", _MARKER)

# every slide laid out (bespoke skips the layout of slides not on screen), none animated
_STYLE = ("svg[data-marpit-svg]{content-visibility:visible!important}"
          "*,*::before,*::after{animation:none!important;transition:none!important}")


@dataclass(frozen=True)
class Finding:
    slide: int
    px: float           # the size on the slide (1280x720 px)
    what: str           # "text" | "image" | "cut" (outside the slide or under its footer)
    text: str           # the text, or the image's path
    count: int = 1      # elements of the same look on the slide
    detail: str = ""    # for images: how it was worked out


class Unmeasured(Exception):
    """The deck could not be measured (no Chromium, the browser failed): the reason, one line."""


def measure(html_file: Path, base_dir: Path, browser: str, *, timeout: float = 120,
            scratch: Path | None = None) -> list[dict]:
    """Per slide: text sizes and images as shown, measured by `browser` (a Chromium) in a copy of
    `html_file` whose relative URLs resolve against `base_dir` (where the deck is published)."""
    html = Path(html_file).read_text(encoding="utf-8")
    base = Path(base_dir).resolve().as_uri().rstrip("/") + "/"
    inject_head = f'<base href="{htmllib.escape(base)}"><style>{_STYLE}</style>'
    html = re.sub(r"<head[^>]*>", lambda m: m.group(0) + inject_head, html, count=1)
    body_end = html.rfind("</body>")
    script = f"<script>{_SCRIPT}</script>"
    html = html[:body_end] + script + html[body_end:] if body_end >= 0 else html + script

    own_scratch = scratch is None
    work = Path(tempfile.mkdtemp(prefix="np-leg-", dir="/tmp" if os.access("/tmp", os.W_OK) else None)) \
        if own_scratch else Path(scratch)
    try:
        page = work / "measure.html"
        page.write_text(html, encoding="utf-8")
        profile = work / "profile"
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
               "--mute-audio", f"--user-data-dir={profile}", "--window-size=1280,720",
               "--force-prefers-reduced-motion", "--virtual-time-budget=30000", "--dump-dom", page.as_uri()]
        env = dict(os.environ, TMPDIR=str(work))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise Unmeasured(f"the browser took more than {timeout:g} s to lay out the deck") from None
        dom = stdout.decode("utf-8", "replace")
        m = re.search(rf'<script type="application/json" id="{_MARKER}">(.*?)</script>', dom, re.S)
        if not m:
            last = (stderr.decode("utf-8", "replace").strip().splitlines() or ["no output"])[-1]
            raise Unmeasured(f"the browser did not lay out the deck ({last[:200]})")
        return json.loads(htmllib.unescape(m.group(1)))
    finally:
        if own_scratch:
            shutil.rmtree(work, ignore_errors=True)


def min_text_px(image: Path) -> float | None:
    """How small the text in an image is, in its own pixels, when the image says so."""
    try:
        with Image.open(image) as img:
            value = (getattr(img, "text", None) or img.info).get(MIN_TEXT_KEY)
    except (OSError, ValueError):
        return None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _file_of(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def _shown_scale(img: dict, natural: tuple[int, int]) -> float:
    """How much of its own size the image is drawn at (the smaller of the two axes)."""
    nw, nh = natural
    w, h = img["w"], img["h"]
    fit = (img.get("fit") or "").strip()
    if fit in ("cover",):
        return max(w / nw, h / nh)
    if fit in ("contain", "scale-down"):
        return min(w / nw, h / nh, 1.0 if fit == "scale-down" else float("inf"))
    return min(w / nw, h / nh)


def findings(measured: list[dict], min_px: float) -> list[Finding]:
    """What is below `min_px`: one finding per slide and look (same size, same kind of element)."""
    found: list[Finding] = []
    for slide in measured:
        groups: dict[tuple, list[dict]] = {}
        for item in slide["items"]:
            if item["px"] < min_px - TOLERANCE_PX:
                groups.setdefault((round(item["px"] * 2) / 2, item["tag"], item["cls"]), []).append(item)
        for (px, _tag, _cls), items in sorted(groups.items(), key=lambda kv: kv[0][0]):
            sample = next((i["text"] for i in items if i["text"]), "")
            found.append(Finding(slide["slide"], px, "text", sample, len(items)))
        for where, items in _by_where(slide.get("cut", [])).items():
            sample = next((i["text"] for i in items if i["text"]), "")
            found.append(Finding(slide["slide"], 0.0, "cut", sample, len(items), where))
        seen = set()
        for img in slide["images"]:
            file = _file_of(img["url"])
            if file is None or file in seen or not file.is_file():
                continue
            seen.add(file)
            smallest = min_text_px(file)
            if smallest is None:
                continue
            try:
                with Image.open(file) as im:
                    natural = im.size
            except OSError:
                continue
            scale = _shown_scale(img, natural)
            px = smallest * scale
            if px < min_px - TOLERANCE_PX:
                found.append(Finding(slide["slide"], round(px, 1), "image", rel(file), 1,
                                     f"its smallest text is {smallest:g} px in the image, which the slide shows "
                                     f"at {scale:.0%} of its size"))
    return found


def _by_where(cut: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for item in cut:
        out.setdefault(item["where"], []).append(item)
    return out


def problems(deck: Deck, found: list[Finding], min_px: float) -> list[Problem]:
    """Each finding as a located problem: deck file, the line of the text or image, the slide."""
    starts = slide_starts(deck.text)
    lines = deck.text.splitlines()
    out = []
    for f in found:
        line, col = _locate(f, starts, lines)
        if f.what == "cut":
            many = f" (and {f.count - 1} more)" if f.count > 1 else ""
            text = f.text if len(f.text) <= 50 else f.text[:49] + "…"
            place = "runs past the slide's edge" if f.detail == "edge" else "runs under the slide's footer"
            message = (f"text '{text}'{many} {place}, where the audience cannot read it; "
                       "say less on this slide, or split it")
        elif f.what == "text":
            many = f" ({f.count} elements like it)" if f.count > 1 else ""
            text = f.text if len(f.text) <= 50 else f.text[:49] + "…"
            message = (f"text '{text}'{many} is {f.px:g} px high on the 1280x720 slide, below the "
                       f"{min_px:g} px the back row can read; make it larger, or say less so it fits larger")
        else:
            message = (f"image {f.text}: {f.detail}, so its text is {f.px:g} px high on the 1280x720 slide, "
                       f"below the {min_px:g} px the back row can read; show it larger, or draw it for the "
                       "slide with fewer, larger labels")
        where = f"slide {f.slide}: "
        out.append(Problem(rel(deck.path), deck.source_line(line) if line else None, col if line else None,
                           where + message))
    return out


def _locate(f: Finding, starts: list[int], lines: list[str]) -> tuple[int | None, int | None]:
    """The line (1-based, in the deck's text) and column of a finding's text inside its slide."""
    if f.slide > len(starts):
        return None, None
    first = starts[f.slide - 1]
    last = starts[f.slide] - 1 if f.slide < len(starts) else len(lines)
    needles = []
    if f.what == "image":
        name = Path(f.text).stem
        needles = [name, name.replace("-", "_"), "![", "<img"]
    elif f.text:
        words = f.text.split()
        needles = [f.text[:30], " ".join(words[:3]), words[0] if words else ""]
    for needle in needles:
        if not needle or len(needle) < 2:
            continue
        for n in range(first, last + 1):
            col = lines[n - 1].find(needle)
            if col >= 0:
                return n, col + 1
    # the first content line of the slide (its heading, usually)
    for n in range(first, last + 1):
        text = lines[n - 1].strip()
        if text and not text.startswith(("<!--", "{#", "{%")):
            return n, 1
    return first, 1
