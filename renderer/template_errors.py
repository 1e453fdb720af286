"""What a failed template says: the problem located at its expression, and the message naming
the usual fix (the nearest filter or name, `map(attribute=...)`, a number filter on a list, a
value that is not text). renderer.templating raises these; nothing here renders."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

import jinja2

from .errors import suggest

# names of the checking hooks the instrumented template calls (never visible to authors)
HOOK_AT, HOOK_TEXT = "np_expression_at__", "np_expression_text__"

# filters that take one number (or one token's text) and give text
NUMBER_FILTERS = ("pct", "count", "params", "megabytes", "seconds")


class FilterFailed(Exception):
    """A filter raised on its input; carries the filter's name and what it was given."""

    def __init__(self, name: str, value: Any, error: BaseException):
        super().__init__(f"{name}: {error}")
        self.name, self.value, self.error = name, value, error


class Missing(jinja2.exceptions.UndefinedError):
    """An undefined name or field, with the object it was looked up on (for suggestions)."""

    def __init__(self, message: str, obj: Any, name: str | None, hint: str | None = None):
        super().__init__(message)
        self.obj, self.name, self.hint = obj, name, hint


@dataclass(frozen=True)
class Expression:
    """One `{{ ... }}` of a template: its text and where it starts (1-based, in the template)."""

    text: str
    line: int
    col: int
    occurrence: int = 0      # how many identical expressions come before it in the template


class TemplateProblem(Exception):
    """A template failed. `message` says what (naming the expression) and how to fix it; `line`
    (1-based, in the template) where; `needle` is the text to point at in the author's file
    (the expression, or the misspelled name), its `occurrence`-th appearance there."""

    def __init__(self, message: str, line: int | None = None, *, needle: str | None = None, occurrence: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.needle = needle
        self.occurrence = occurrence


def expression_at(exprs: list[Expression], index: int | None) -> Expression | None:
    return exprs[index] if index is not None and 0 <= index < len(exprs) else None


def located(message: str, expr: Expression | None, line: int | None) -> TemplateProblem:
    if expr is None:
        return TemplateProblem(message, line)
    return TemplateProblem(f"in {{{{ {expr.text} }}}}: {message}", expr.line, needle=expr.text,
                           occurrence=expr.occurrence)


def kind(value: Any) -> str:
    if value is None:
        return "nothing (None)"
    if isinstance(value, dict):
        return "a mapping of fields"
    if isinstance(value, (list, tuple, set, frozenset)):
        return f"a list of {len(value)} item{'s' if len(value) != 1 else ''}"
    if isinstance(value, Iterator) or hasattr(value, "__next__") or type(value).__name__ == "generator":
        return "a sequence (a generator, as map, select and reject give)"
    return f"a {type(value).__name__} object"


def map_hint(text: str, env: jinja2.Environment) -> str:
    """map('x') applies a filter named x; an author who meant each item's field x wants attribute=."""
    for name in re.findall(r"\bmap\(\s*['\"]([A-Za-z_]\w*)['\"]\s*\)", text):
        if name not in env.filters:
            return (f"; map('{name}') applies a filter named '{name}': for each item's {name} field write "
                    f"map(attribute='{name}')")
    return ""


def not_text_problem(value: Any, expr: Expression | None, env: jinja2.Environment, line: int | None) -> TemplateProblem:
    what = kind(value)
    text = expr.text if expr else ""
    if value is None:
        fix = "branch on it ({% if ... %}...{% endif %}) or give a default with | default('...', true)"
    elif isinstance(value, dict):
        keys = ", ".join(sorted(map(str, value))[:8])
        fix = f"pick one field with .name (it has: {keys})"
    elif what.startswith(("a list", "a sequence")):
        fix = "join it into text with | join(' '), or take one item with | first or [0], or count it with | length"
    else:
        fix = "print one of its fields, or format it with a filter"
    message = f"gives {what}, not text; {fix}{map_hint(text, env)}"
    if expr is None:
        return TemplateProblem(f"a template expression {message}", line)
    return TemplateProblem(f"{{{{ {text} }}}} {message}", expr.line, needle=text, occurrence=expr.occurrence)


def missing_message(err: Missing, context: dict[str, Any]) -> str:
    if err.hint:          # the sandbox refused it (an unsafe attribute), not a misspelling
        return f"template not allowed: {err.hint}"
    name = err.name
    public = [k for k in context if k not in (HOOK_AT, HOOK_TEXT)]
    if err.obj is None and name:
        return f"undefined name '{name}' in template{suggest(name, public)}"
    if isinstance(err.obj, dict) and name is not None:
        fields = [str(k) for k in err.obj]
        return f"undefined field '{name}'" + (suggest(str(name), fields) or
                                              ("; it has no fields" if not fields else ""))
    if isinstance(err.obj, (list, tuple)) and isinstance(name, str):
        return (f"a list has no field '{name}'; take one item first ([0], | first), or each item's "
                f"{name} with | map(attribute='{name}')")
    return f"undefined value in template: {err}"


def filter_message(err: FilterFailed, env: jinja2.Environment) -> str:
    value, name = err.value, err.name
    what = kind(value) if not isinstance(value, (str, int, float)) else f"the {type(value).__name__} {value!r:.40}"
    message = f"filter '{name}' cannot take {what} ({err.error})"
    if name in NUMBER_FILTERS and (isinstance(value, (list, tuple)) or hasattr(value, "__next__")):
        message += (f"; '{name}' formats one number: apply it to one item ([0] | {name}) or to each: "
                    f"| map('{name}') | join(', ')")
    elif name in NUMBER_FILTERS and isinstance(value, dict):
        message += f"; '{name}' formats one number: pick the field that holds it (e.g. .prob | {name})"
    return message


_NO_FILTER = re.compile(r"No (filter|test) named '([^']+)'")


def syntax_message(raw: str, env: jinja2.Environment) -> str:
    m = _NO_FILTER.search(raw)
    if m:
        kind, name = m.groups()
        choices = env.filters if kind == "filter" else env.tests
        return f"no {kind} named '{name}'{suggest(name, choices)}"
    return f"template syntax error: {raw}"


def syntax_problem(err: jinja2.TemplateSyntaxError, template: str, env: jinja2.Environment) -> TemplateProblem:
    raw = err.message or str(err)
    m = _NO_FILTER.search(raw)
    needle = None
    if m:
        # point at the misspelled name on its line
        name = m.group(2)
        lines = template.splitlines()
        if err.lineno and 0 < err.lineno <= len(lines) and re.search(rf"\b{re.escape(name)}\b", lines[err.lineno - 1]):
            needle = name
    problem = TemplateProblem(syntax_message(raw, env), err.lineno, needle=needle)
    return problem
