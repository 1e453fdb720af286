"""Real code for the lesson's "where it lives in real code".

Two kinds: this project's own functions that tokenize, run the model forward, pick a token and
turn tokens back into text, cut from their source files (live_demo/) each time the site is built,
so the page always shows the code that computed its numbers; and where each stage of the model
that ran lives in transformers, from the trace's `model.classes` (recorded from the loaded
model's modules, never written for one architecture).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup
from pygments import highlight as pyg
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from ..errors import BuildError

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Cut:
    """Which lines of which function to show: the whole function, or from the first line that
    matches `start` to the first one after it that matches `end`."""

    step: str                # tokenize | forward | pick | detokenize
    owner: str               # tokenizer | graph | policy (the lesson's owners)
    file: str                # relative to the project root
    function: str
    why: str                 # one sentence: what to notice
    start: str | None = None
    end: str | None = None


CUTS = [
    Cut("tokenize", "tokenizer", "live_demo/encoding.py", "encode_prompt",
        "The tokenizer object turns the prompt into ids (and the characters each covers). It runs once, "
        "before the model."),
    Cut("forward", "graph", "live_demo/trace.py", "forward_with_shapes",
        "One call of the model runs every stage: embeddings, each block, the final norm, the output layer. "
        "Hooks on the stages record the shapes this page shows."),
    Cut("pick", "policy", "live_demo/trace.py", "strategy_settings",
        "The decoding policy is a handful of settings handed to generate: no sampling is greedy (argmax), "
        "sampling with top_k or top_p draws from a truncated distribution."),
    Cut("pick", "policy", "live_demo/trace.py", "traced_generate",
        "generate runs the loop: forward pass, pick one token with the policy, append it, repeat until an "
        "end token or max_new_tokens.",
        start=r"config = generation_config\(", end=r"output_logits="),
    Cut("detokenize", "tokenizer", "live_demo/encoding.py", "token_pieces",
        "The tokenizer turns the chosen ids back into text; a character split over several byte tokens "
        "appears with the token that completes it."),
]


@dataclass
class Snippet:
    step: str
    owner: str
    file: str
    function: str
    first_line: int
    last_line: int
    whole: bool              # False: a cut of the function (the caption says so)
    function_lines: tuple[int, int]
    code: str
    html: Markup             # highlighted, classes only (the site's CSS colours them)
    why: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.first_line}\u2013{self.last_line}"


def _function_node(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    return None


def cut(spec: Cut, root: Path = ROOT) -> Snippet:
    """The lines `spec` names, read from the source file now."""
    path = root / spec.file
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as err:
        raise BuildError(f"the lesson shows code from {spec.file}, which cannot be read ({err.strerror})") from None
    node = _function_node(ast.parse(source), spec.function)
    if node is None:
        raise BuildError(f"the lesson shows the function {spec.function} of {spec.file}, which no longer exists; "
                         f"update renderer/site/code.py")
    lines = source.splitlines()
    first = node.lineno if not node.decorator_list else node.decorator_list[0].lineno
    last = node.end_lineno or node.lineno
    start, end = first, last
    if spec.start:
        start = next((i for i in range(first, last + 1) if re.search(spec.start, lines[i - 1])), None)
        if start is None:
            raise BuildError(f"the lesson cuts {spec.function} of {spec.file} at /{spec.start}/, which no longer "
                             f"matches; update renderer/site/code.py")
        end = next((i for i in range(start, last + 1) if spec.end and re.search(spec.end, lines[i - 1])), last)
    chunk = lines[start - 1:end]
    indent = min((len(line) - len(line.lstrip()) for line in chunk if line.strip()), default=0)
    code = "\n".join(line[indent:] for line in chunk)
    return Snippet(spec.step, spec.owner, spec.file, spec.function, start, end, (start, end) == (first, last),
                   (first, last), code, highlight(code), spec.why)


def highlight(code: str) -> Markup:
    """Python source as HTML spans with Pygments' short class names (no inline styles: the site's
    Content-Security-Policy allows only its own style sheet)."""
    return Markup(pyg(code, PythonLexer(), HtmlFormatter(nowrap=True)))


def snippets(root: Path = ROOT) -> list[Snippet]:
    return [cut(spec, root) for spec in CUTS]


# ---------------------------------------------------------------- the model's own classes

CLASS_ROLES = [
    ("model", "the whole model", "graph"),
    ("embeddings", "embedding table", "graph"),
    ("block", "one transformer block", "graph"),
    ("attention", "attention", "graph"),
    ("mlp", "feed-forward network", "graph"),
    ("norm", "final norm", "graph"),
    ("lm_head", "output projection (logits)", "graph"),
]


def model_classes(trace: dict) -> list[dict]:
    """The rows of the "in transformers" table: stage, class, module, file:line, and where the
    module sits in the loaded model. Empty when the trace does not record them."""
    classes = (trace.get("model") or {}).get("classes") or {}
    rows = []
    for key, label, owner in CLASS_ROLES:
        entry = classes.get(key)
        if not entry:
            continue
        rows.append({"key": key, "label": label, "owner": owner, "name": entry["name"], "module": entry["module"],
                     "file": entry.get("file"), "line": entry.get("line"),
                     "path": python_path(entry.get("path") or "")})
    return rows


def python_path(dotted: str) -> str:
    """A module path as Python reaches it: "transformer.h.0.attn" -> "model.transformer.h[0].attn"."""
    if not dotted:
        return "model"
    return "model" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in dotted.split("."))
