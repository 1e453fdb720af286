"""YAML loading that remembers where every value came from.

`load_yaml` returns the plain data plus a `Source` that maps a path of keys and
indexes (as pydantic reports them) back to `file:line:col`, so every validation
error can point at the exact spot in the author's file.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError, Problem, rel, suggest

Loc = tuple[int, int]  # 1-based line, column
MAX_VALUES = 100_000   # a storyboard has hundreds; aliases can multiply a tiny file into billions
MAX_DEPTH = 64


@dataclass
class Source:
    file: str
    marks: dict[tuple, Loc] = field(default_factory=dict)
    key_marks: dict[tuple, Loc] = field(default_factory=dict)
    text: str = ""                       # the file as read, to point inside a value (a template's expression)

    def locate(self, path: tuple) -> Loc | tuple[None, None]:
        """Location of the value at `path`, or of its nearest enclosing value."""
        path = tuple(path)
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (None, None))

    def locate_key(self, path: tuple) -> Loc | tuple[None, None]:
        """Location of the mapping key that ends `path` (for 'unknown field' errors)."""
        return self.key_marks.get(tuple(path)) or self.locate(path)

    def locate_text(self, path: tuple, needle: str, occurrence: int = 0, line_hint: int | None = None) -> Loc | tuple[None, None]:
        """Where `needle` (text inside the value at `path`, e.g. one expression of a template) is in
        the file: its `occurrence`-th appearance at or after the value's start, within the lines the
        value can span. The value's own location when it cannot be found (an escaped string, say)."""
        line, col = self.locate(path)
        if line is None or not needle or not self.text:
            return line, col
        lines = self.text.split("\n")
        start = sum(len(ln) + 1 for ln in lines[:line - 1]) + (col - 1)
        # the template's line k is on the value's line k (a quoted or plain scalar) or k + 1 (a block
        # scalar starts after its | or > indicator): search no further than that
        last = min(len(lines), line + (line_hint or 1))
        limit = sum(len(ln) + 1 for ln in lines[:last])
        at = start - 1
        for _ in range(occurrence + 1):
            at = self.text.find(needle, at + 1, limit)
            if at < 0:
                return line, col
        found_line = self.text.count("\n", 0, at) + 1
        return found_line, at - (self.text.rfind("\n", 0, at) + 1) + 1

    def problem(self, path: tuple, message: str, *, at_key: bool = False) -> Problem:
        line, col = self.locate_key(path) if at_key else self.locate(path)
        return Problem(self.file, line, col, message)


class _Builder(yaml.constructor.SafeConstructor):
    pass


def _mark(node: yaml.Node) -> Loc:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _TooLarge(Exception):
    pass


def _build(node: yaml.Node, path: tuple, src: Source, problems: list[Problem], ctor: _Builder) -> Any:
    if len(src.marks) >= MAX_VALUES or len(path) > MAX_DEPTH:
        raise _TooLarge(path)
    src.marks[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        ctor.flatten_mapping(node)
        out: dict = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                lines = src.text.splitlines()
                row = key_node.start_mark.line
                hint = _quote_hint(lines[row]) if row < len(lines) else None
                problems.append(Problem(src.file, row + 1, hint[0], hint[1]) if hint else
                                Problem(src.file, *_mark(key_node), "a key must be a plain word"))
                continue
            if key in out:
                first = src.key_marks.get(path + (key,), ("?", "?"))
                problems.append(Problem(src.file, *_mark(key_node),
                                        f"duplicate key '{key}' (first given on line {first[0]}); remove one"))
                continue
            src.key_marks[path + (key,)] = _mark(key_node)
            out[key] = _build(value_node, path + (key,), src, problems, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(child, path + (i,), src, problems, ctor) for i, child in enumerate(node.value)]
    return ctor.construct_object(node, deep=True)


_TEXT_VALUE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][\w-]*):\s+(.*?)\s*$")


def _quote_hint(line: str) -> tuple[int, str] | None:
    """The fix for an unquoted text that YAML reads as structure: a value holding ': ' (read as
    another key) or starting with '{' (read as a mapping, as a template's {{ would be)."""
    m = _TEXT_VALUE.match(line)
    if not m:
        return None
    key, value = m.group(2), m.group(3)
    if value[:1] in "\"'|>" or not (": " in value or value.endswith(":") or value.startswith("{")):
        return None
    why = "holds ': '" if not value.startswith("{") else "starts with '{'"
    return m.start(3) + 1, f"a text that {why} must be quoted: {key}: {json.dumps(value, ensure_ascii=False)}"


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree, by libyaml when PyYAML has it (its pure-Python scanner is most of the
    time of loading a storyboard); a file libyaml rejects is parsed again by the Python scanner,
    whose messages the errors quote."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


def load_yaml_text(text: str, file: str) -> tuple[Any, Source]:
    src = Source(file, text=text)
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as err:
        # point at what was opened and not closed (the context) when there is one: that is
        # where the author's mistake is, not at the end of the file where the parser noticed
        mark = err.context_mark or err.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = (err.problem or "not valid YAML").replace("<stream end>", "the end of the file")
        if err.context:
            where = f" (line {err.problem_mark.line + 1})" if err.problem_mark else ""
            what = f"{err.context} here, {what}{where}"
        lines = text.splitlines()
        for mark_ in (err.problem_mark, err.context_mark):
            hint = _quote_hint(lines[mark_.line]) if mark_ and mark_.line < len(lines) else None
            if hint:    # point at the text to quote
                line, col = mark_.line + 1, hint[0]
                what += f"; {hint[1]}"
                break
        raise InputError(Problem(file, line, col, f"invalid YAML: {what}")) from None
    except yaml.YAMLError as err:
        raise InputError(Problem(file, None, None, f"invalid YAML: {err}")) from None
    if node is None:
        return None, src
    problems: list[Problem] = []
    try:
        data = _build(node, (), src, problems, _Builder())
    except _TooLarge as err:
        line, col = src.locate(err.args[0])
        raise InputError(Problem(file, line, col, f"the file expands to more than {MAX_VALUES} values or nests "
                                                  f"deeper than {MAX_DEPTH} levels (aliases?); simplify it")) from None
    if problems:
        raise InputError(problems)
    return data, src


def load_yaml(path: str | Path) -> tuple[Any, Source]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(Problem(rel(path), None, None, "file not found")) from None
    except UnicodeDecodeError as err:
        raise InputError(Problem(rel(path), None, None, f"not UTF-8 text ({err.reason})")) from None
    return load_yaml_text(text, rel(path))


def describe_path(loc: tuple) -> str:
    """A path as an author reads it: keys joined by dots, list positions counted from 1
    ("comic.formats, item 2"), never pydantic's zero-based "comic.formats.1"."""
    words: list[str] = []
    for part in loc:
        if isinstance(part, int):
            words.append(f"item {part + 1}")
        elif words and not words[-1].startswith("item "):
            words[-1] += f".{part}"
        else:
            words.append(str(part))
    return ", ".join(words) or "(top level)"


def validation_problems(err, src: Source, model=None, describe=describe_path) -> list[Problem]:
    """Turn a pydantic ValidationError into located, human problems (all of them). `describe`
    names a path in the message (the location itself is file:line:col)."""
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = e["type"]
        where = describe(loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            allowed = _allowed_fields(model, loc[:-1], src) if model is not None else []
            msg = f"unknown field '{key}'{suggest(str(key), allowed)}"
            problems.append(src.problem(loc, msg, at_key=True))
            continue
        if kind == "missing":
            msg = f"missing required field '{loc[-1]}' in {describe(loc[:-1]) if loc[:-1] else 'the file'}"
            problems.append(src.problem(loc[:-1], msg))
            continue
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.append(src.problem(loc, f"{where}: {msg}"))
    return sorted(set(problems), key=lambda p: (p.line or 0, p.col or 0, p.message))


def _allowed_fields(model, parent_loc: tuple, src: Source) -> list[str]:
    """Field names (and aliases) allowed at `parent_loc` of `model`, for suggestions."""
    import typing

    from pydantic import BaseModel

    def fields_of(m) -> list[str]:
        names = []
        for name, f in m.model_fields.items():
            names.append(f.alias or name)
        return names

    current: Any = model
    for part in parent_loc:
        if isinstance(part, int) or current is None:
            current = _unwrap_list(current)
            continue
        if typing.get_origin(current) is dict:   # a mapping's key is a name (a demo's), not a field
            current = typing.get_args(current)[-1]
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            f = current.model_fields.get(part) or next(
                (f for f in current.model_fields.values() if f.alias == part), None)
            current = f.annotation if f else None
        else:
            current = _unwrap_list(current)
            if isinstance(current, type) and issubclass(current, BaseModel):
                f = current.model_fields.get(part)
                current = f.annotation if f else None
    candidates = [current, _unwrap_list(current)]
    for args in (typing.get_args(current), typing.get_args(_unwrap_list(current))):
        candidates.extend(args)
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return fields_of(c)
    return []


def _unwrap_list(t):
    import typing

    args = typing.get_args(t)
    origin = typing.get_origin(t)
    if origin in (list, tuple, dict) and args:
        return args[-1]
    if origin is typing.Union or str(origin) == "types.UnionType":
        for a in args:
            if a is not type(None):
                return a
    return t
