"""Sandboxed Jinja for author text (storyboard fields, slide Markdown).

Authors' templates may come from anyone (a shared storyboard, a conference deck),
so they run in Jinja's SandboxedEnvironment; an undefined name is an error, never
silently empty text.

A storyboard's text must come out as text: every `{{ expression }}` is checked as it
is printed, and one that gives a list, a generator (an unjoined `map`), a mapping or
nothing (None) is an error naming the expression, where the `repr` of a Python object
would otherwise land on the page. Every error says which expression failed (its text,
line and column in the template) and suggests the usual fix: the nearest filter or
name, `map(attribute=...)`, a number filter applied to a list.
"""
from __future__ import annotations

import functools
import json
from typing import Any, Iterator

import jinja2
from jinja2 import nodes
from jinja2.sandbox import SandboxedEnvironment

from live_demo import formatting

from .template_errors import (HOOK_AT, HOOK_TEXT, Expression, FilterFailed, Missing, TemplateProblem,
                              expression_at, filter_message, located, map_hint, missing_message,
                              not_text_problem, syntax_message, syntax_problem)


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


class _StrictUndefined(jinja2.StrictUndefined):
    """StrictUndefined whose error keeps the object and the name that were missing."""

    __slots__ = ()

    def __init__(self, hint=None, obj=jinja2.utils.missing, name=None, exc=jinja2.exceptions.UndefinedError):
        missing_on = None if obj is jinja2.utils.missing else obj
        super().__init__(hint, obj, name, functools.partial(Missing, obj=missing_on, name=name, hint=hint))


def _guarded(name: str, fn):
    """fn as a filter whose failure names it (jinja's own attributes, such as pass_context, kept)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, ZeroDivisionError) as err:
            # the filtered value is the first argument after jinja's own (context, environment)
            value = args[1] if getattr(fn, "jinja_pass_arg", None) is not None and len(args) > 1 else \
                (args[0] if args else None)
            raise FilterFailed(name, value, err) from None
    return run


def make_env(**options: Any) -> SandboxedEnvironment:
    env = _Sandbox(
        undefined=_StrictUndefined,
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
    guard_filters(env)
    return env


def guard_filters(env: jinja2.Environment) -> None:
    """Make every filter of env name itself when it fails (call again after adding filters)."""
    for name, fn in list(env.filters.items()):
        if not getattr(fn, "__np_guarded__", False):
            guarded = _guarded(name, fn)
            guarded.__np_guarded__ = True     # type: ignore[attr-defined]
            env.filters[name] = guarded


_ENV = make_env()


def expressions(template: str, env: SandboxedEnvironment | None = None) -> list[Expression]:
    """Every `{{ ... }}` of the template, in order, with its position (raw blocks skipped)."""
    env = env or _ENV
    found: list[Expression] = []
    cursor, seen = 0, {}
    current: list[str] | None = None
    for _line, token, value in env.lexer.tokeniter(template, None):
        if token == "variable_begin":
            current = []
        elif token == "variable_end" and current is not None:
            text = "".join(current).strip()
            at = template.find(text, cursor) if text else -1
            if at < 0:
                at = cursor
            cursor = at + len(text)
            line = template.count("\n", 0, at) + 1
            col = at - (template.rfind("\n", 0, at) + 1) + 1
            found.append(Expression(text, line, col, seen.get(text, 0)))
            seen[text] = seen.get(text, 0) + 1
            current = None
        elif current is not None:
            current.append(value)
    return found


def _outputs(node: nodes.Node) -> Iterator[nodes.Output]:
    """Output nodes in document order (child fields of statements are in source order)."""
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.Output):
            yield child
        yield from _outputs(child)


def _instrument(ast: nodes.Template) -> int:
    """Wrap each printed expression as text__(at__(i), expression): at__ records which expression
    is being evaluated (for errors raised inside it), text__ checks that its value is text."""
    i = 0
    for out in _outputs(ast):
        wrapped = []
        for child in out.nodes:
            if isinstance(child, nodes.TemplateData):
                wrapped.append(child)
                continue
            line = child.lineno
            at = nodes.Call(nodes.Name(HOOK_AT, "load", lineno=line), [nodes.Const(i, lineno=line)], [], None, None,
                            lineno=line)
            wrapped.append(nodes.Call(nodes.Name(HOOK_TEXT, "load", lineno=line), [at, child], [], None, None,
                                      lineno=line))
            i += 1
        out.nodes = wrapped
    return i


class _Tracker:
    """Which expression is being evaluated, and the check of what it printed."""

    def __init__(self, exprs: list[Expression], check_text: bool):
        self.exprs = exprs
        self.current: int | None = None
        self.check_text = check_text

    def at(self, i: int) -> int:
        self.current = i
        return i

    def text(self, i: int, value: Any) -> Any:
        if isinstance(value, jinja2.Undefined):
            # an undefined value fails here, while we know which expression it is; what passes is
            # the empty text of an inline if without else ({{ "s" if n != 1 }})
            value = str(value)
        if self.check_text and not isinstance(value, (str, int, float)):
            raise _NotText(i, value)
        self.current = None
        return value


class _NotText(Exception):
    def __init__(self, index: int, value: Any):
        super().__init__(index)
        self.index, self.value = index, value


_COMPILED: dict[tuple[int, str, bool], tuple[jinja2.Template, list[Expression]]] = {}


def _compile(template: str, env: SandboxedEnvironment) -> tuple[jinja2.Template, list[Expression]]:
    key = (id(env), template, True)
    hit = _COMPILED.get(key)
    if hit is not None:
        return hit
    ast = env.parse(template)
    exprs = expressions(template, env)
    if _instrument(ast) != len(exprs):
        exprs = []          # cannot tell expressions apart: errors name the line only
    ast.set_environment(env)
    compiled = env.from_string(ast)
    if len(_COMPILED) > 4096:
        _COMPILED.clear()
    _COMPILED[key] = (compiled, exprs)
    return compiled, exprs


# --- rendering ---------------------------------------------------------------------------------

def render(template: str, context: dict[str, Any], env: SandboxedEnvironment | None = None,
           *, check_text: bool | None = None) -> str:
    """Render one author template. Raises TemplateProblem with a readable cause and the fix.

    check_text: every printed expression must be text (a string or a number); default: on for
    storyboard text (the default environment), off for other environments (decks print lists
    through their own filters)."""
    if "{" not in template:  # the common case: plain text, no Jinja at all
        return template
    env = env or _ENV
    if check_text is None:
        check_text = env is _ENV
    try:
        compiled, exprs = _compile(template, env)
    except jinja2.TemplateSyntaxError as err:
        raise syntax_problem(err, template, env) from None
    tracker = _Tracker(exprs, check_text)
    try:
        return compiled.render(**context, **{HOOK_AT: tracker.at, HOOK_TEXT: tracker.text})
    except _NotText as err:
        raise not_text_problem(err.value, expression_at(exprs, err.index), env, _template_line(err)) from None
    except Missing as err:
        raise located(missing_message(err, context), expression_at(exprs, tracker.current), _template_line(err)) from None
    except jinja2.UndefinedError as err:
        raise located(f"undefined value in template: {err}", expression_at(exprs, tracker.current),
                       _template_line(err)) from None
    except jinja2.exceptions.SecurityError as err:
        raise located(f"template not allowed: {err}", expression_at(exprs, tracker.current), _template_line(err)) from None
    except FilterFailed as err:
        raise located(filter_message(err, env), expression_at(exprs, tracker.current), _template_line(err)) from None
    except (jinja2.TemplateSyntaxError, jinja2.TemplateRuntimeError) as err:   # e.g. map('nofilter')
        expr = expression_at(exprs, tracker.current)
        raise located(syntax_message(getattr(err, "message", None) or str(err), env)
                       + map_hint(expr.text if expr else "", env), expr, _template_line(err)) from None
    except Exception as err:  # a division by zero, a comparison of a number with text, ...
        raise located(f"template error: {type(err).__name__}: {err}", expression_at(exprs, tracker.current),
                       _template_line(err)) from None



def _template_line(err: BaseException) -> int | None:
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
