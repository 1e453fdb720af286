"""YAML loading that remembers where every value came from.

`load_yaml` returns the plain data plus a `Source` that maps a path of keys and
indexes (as pydantic reports them) back to `file:line:col`, so every validation
error can point at the exact spot in the author's file.
"""
from __future__ import annotations

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
                problems.append(Problem(src.file, *_mark(key_node), "a key must be a plain word"))
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


def load_yaml_text(text: str, file: str) -> tuple[Any, Source]:
    src = Source(file)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        # point at what was opened and not closed (the context) when there is one: that is
        # where the author's mistake is, not at the end of the file where the parser noticed
        mark = err.context_mark or err.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = (err.problem or "not valid YAML").replace("<stream end>", "the end of the file")
        if err.context:
            where = f" (line {err.problem_mark.line + 1})" if err.problem_mark else ""
            what = f"{err.context} here, {what}{where}"
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


def validation_problems(err, src: Source, model=None) -> list[Problem]:
    """Turn a pydantic ValidationError into located, human problems (all of them)."""
    problems = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        kind = e["type"]
        where = ".".join(str(p) for p in loc) or "(top level)"
        if kind == "extra_forbidden":
            key = loc[-1]
            allowed = _allowed_fields(model, loc[:-1], src) if model is not None else []
            msg = f"unknown field '{key}'{suggest(str(key), allowed)}"
            problems.append(src.problem(loc, msg, at_key=True))
            continue
        if kind == "missing":
            msg = f"missing required field '{loc[-1]}' in {'.'.join(map(str, loc[:-1])) or 'the file'}"
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
