"""Sandboxed Jinja for author text (storyboard fields, slide Markdown).

Authors' templates may come from anyone (a shared storyboard, a conference deck),
so they run in Jinja's SandboxedEnvironment; an undefined name is an error, never
silently empty text.
"""
from __future__ import annotations

import json
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from live_demo import formatting

from .errors import suggest


MAX_RESULT = 1_000_000   # characters or items one template operation may produce


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox plus limits on * and **: `{{ 'x' * 10**9 }}` must not eat the machine."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise jinja2.exceptions.SecurityError("exponent too large in template")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_RESULT:
                    raise jinja2.exceptions.SecurityError("template repeats text or a list too many times")
        return super().call_binop(context, operator, left, right)


def make_env(**options: Any) -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        **options,
    )
    # how trace values read: the same rules as every panel, chart and slide (live_demo.formatting)
    env.filters["visible"] = formatting.visible
    env.filters["pct"] = formatting.pct
    env.filters["count"] = formatting.count
    env.filters["params"] = formatting.params
    env.filters["megabytes"] = formatting.megabytes
    env.filters["seconds"] = formatting.seconds
    env.filters["elide"] = formatting.elide
    env.filters["words"] = formatting.words
    # a value as JSON text, as an API request shows it (Jinja's tojson escapes for HTML: "\u00bf")
    env.filters["json"] = lambda v: json.dumps(v, ensure_ascii=False)
    return env


_ENV = make_env()


class TemplateProblem(Exception):
    """A template failed; `message` says what and `line` (1-based, in the template) where."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def render(template: str, context: dict[str, Any], env: SandboxedEnvironment | None = None) -> str:
    """Render one author template. Raises TemplateProblem with a readable cause."""
    if "{" not in template:  # the common case: plain text, no Jinja at all
        return template
    env = env or _ENV
    try:
        return env.from_string(template).render(**context)
    except jinja2.TemplateSyntaxError as err:
        raise TemplateProblem(f"template syntax error: {err.message}", err.lineno) from None
    except jinja2.UndefinedError as err:
        raise TemplateProblem(_undefined_message(str(err), context), _template_line(err)) from None
    except jinja2.exceptions.SecurityError as err:
        raise TemplateProblem(f"template not allowed: {err}", _template_line(err)) from None
    except Exception as err:  # a filter on the wrong type, a division by zero, ...
        raise TemplateProblem(f"template error: {type(err).__name__}: {err}", _template_line(err)) from None


def _undefined_message(raw: str, context: dict[str, Any]) -> str:
    # jinja says "'foo' is undefined" or "'dict object' has no attribute 'x'"
    if raw.endswith(" is undefined") and raw.startswith("'"):
        name = raw.split("'")[1]
        return f"undefined name '{name}' in template{suggest(name, context.keys())}"
    return f"undefined value in template: {raw}"


def _template_line(err: BaseException) -> int | None:
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
