"""`novapress new page NAME`: a storyboard to start from, written so it renders as is.

The page gets the next free page number and two panels: the cast's first two members
(someone asks the book's main question, someone answers), then the main demo's tokens as the
model reads them. It names its schema on the first line, so an editor completes it at once.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import yaml

from .cast import poses
from .config import load_config
from .errors import InputError, rel
from .progress import Reporter
from .storyboard import load_cast

NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NUMBERED = re.compile(r"page-(\d+)-(.+)")
SCHEMA_LINE = "# yaml-language-server: $schema={schema}"


def slug(text: str) -> str:
    """The nearest usable page name: lowercase words joined by hyphens."""
    return "-".join(re.findall(r"[a-z0-9]+", text.lower()))


def check_name(name: str) -> str:
    """The page name, or an InputError naming the fix. A name given with its number
    (page-14-mine) is refused: the number is chosen here, the next free one."""
    where = f"novapress new page '{name}'"
    if NUMBERED.fullmatch(name):
        raise InputError(f"{where}: give the name without 'page-NN-' (the next free page number is chosen "
                         f"for you); try 'novapress new page {NUMBERED.fullmatch(name)[2]}'")
    if not NAME.fullmatch(name):
        fix = slug(name)
        hint = f"; try '{fix}'" if fix else ""
        raise InputError(f"{where}: a page name is lowercase letters, digits and hyphens, like 'my-page' "
                         f"(it becomes the file name){hint}")
    return name


def page_numbers(folder: Path) -> list[int]:
    """Page numbers in use: from the storyboards' file names and their `page:` lines (a file
    broken elsewhere still counts by its name)."""
    numbers = []
    for path in folder.glob("page-*.yaml"):
        match = NUMBERED.fullmatch(path.stem)
        if match:
            numbers.append(int(match[1]))
        try:
            page = yaml.safe_load(path.read_text(encoding="utf-8")).get("page")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if isinstance(page, int):
            numbers.append(page)
    return numbers


def _pose(art: str, wanted: tuple[str, ...]) -> str:
    have = poses(art)
    return next((p for p in wanted if p in have), have[0])


def _demo_ref(name: str) -> str:
    """How a template names the demo: demos.question, or demos['my-demo'] for a name that is not
    an identifier."""
    return f"demos.{name}" if name.isidentifier() else f"demos[{name!r}]"


def page_text(number: int, name: str, title: str, schema: str, cast: dict, demo: str | None) -> str:
    members = list(cast.items())
    # the asker is the second member when there is one (the book's cast: Kai asks, Dr. Nova answers)
    explainer = members[0] if members else None
    asker = members[1] if len(members) > 1 else None
    d = _demo_ref(demo) if demo else None
    lines = [
        SCHEMA_LINE.format(schema=schema),
        f"# Page {number}, {json.dumps(title, ensure_ascii=False)}: made by `novapress new page {name}` to start from.",
        f"# Look at it while you write:  novapress render storyboards/page-{number:02d}-{name}.yaml",
        f"# or see it redrawn on every save:  novapress present page-{number:02d}",
        "# Every key: README \"Storyboard format\"; every prop and its parameters: docs/props.md;",
        "# what a demo's trace holds (for {{ demos.<name>... }} in any text): docs/trace.md.",
        f"page: {number}",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        f"demos: [{demo}]                 # model runs this page shows (defined in novapress.yaml)" if demo
        else "demos: []                       # model runs this page shows (defined in novapress.yaml)",
        "",
        "layout:                         # rows top to bottom; panels left to right",
        "  - height: 1",
        "    panels: [p1]",
        "  - height: 0.8",
        "    panels: [p2]",
        "",
        "panels:",
        "  - id: p1",
        "    shot: medium",
        "    description: >-             # the transcript's (and a screen reader's) account of the panel",
    ]
    ask = f"{{{{ {d}.prompt }}}}" if d else "How does it work?"
    if asker and explainer:
        lines.append(f"      {asker[1].name} asks {explainer[1].name} a question: \"{ask}\"")
    else:
        lines.append(f"      A question: \"{ask}\"")
    lines += [
        "    scene:",
        "      background: lab           # lab | void | city | datacenter | fab | screen",
        "      horizon: 0.75",
        "      props:",
        "        - type: hologram_projector",
        "          at: [0.4, 0.62, 0.2, 0.3]   # x, y, width, height as fractions of the panel",
    ]
    if members:
        lines.append("    cast:                        # x of the figure's centre, y of its feet")
    if asker:
        art = asker[1].art
        lines.append(f"      - {{who: {asker[0]}, at: [0.2, 0.98], height: 0.78, pose: {_pose(art, ('asking', 'talking', 'pointing'))}, "
                     "expression: thinking, facing: right}")
    if explainer:
        art = explainer[1].art
        x = 0.8 if asker else 0.75
        lines.append(f"      - {{who: {explainer[0]}, at: [{x}, 0.98], height: 0.8, "
                     f"pose: {_pose(art, ('talking', 'presenting', 'pointing'))}, expression: happy, facing: left}}")
    lines.append("    text:                        # in reading order")
    if asker:
        lines += [f"      - speech: \"{ask}\"", f"        who: {asker[0]}"]
    if explainer:
        lines += ["      - speech: \"Let's look at what the model reads.\"", f"        who: {explainer[0]}"]
    else:
        lines += [f"      - narration: \"{ask}\"", "        place: top-left"]
    lines += [
        "",
        "  - id: p2",
        "    shot: closeup",
        "    description: >-",
    ]
    if d:
        count = f"{{{{ {d}.tokens | length }}}}"
        lines += [
            f"      The question's {count} tokens, as the tokenizer cut them:",
            f"      {{{{ {d}.tokens | map(attribute='display') | join(', ') }}}}.",
            "    scene:",
            "      background: screen",
            "      props:",
            "        - type: token_cubes",
            "          at: [0.04, 0.3, 0.92, 0.42]",
            f"          demo: {demo}                # shows this demo's real tokens and ids",
            "    text:",
            # true with a chat template or without one: say which the model read
            f"      - narration: >-",
            f"          The question is {count} token{{{{ '' if {d}.tokens | length == 1 else 's' }}}}.",
            f"          {{% if {d}.chat %}}With the chat template around it, the model reads",
            f"          {{{{ {d}.chat.tokens | length }}}}.{{% else %}}The model reads just these.{{% endif %}}",
            "        place: top-left",
        ]
    else:
        lines += [
            "      A station of the pipeline.",
            "    scene:",
            "      background: lab",
            "      props:",
            "        - type: station",
            "          at: [0.3, 0.2, 0.4, 0.5]",
            "          number: 1",
            "    text:",
            "      - narration: \"Add a demo to novapress.yaml and show its data here.\"",
            "        place: top-left",
        ]
    return "\n".join(lines) + "\n"


def new_page(name: str, title: str | None = None) -> Path:
    """Write storyboards/page-NN-NAME.yaml (NN: the next free page number) and return its path."""
    check_name(name)
    config, _ = load_config(Path.cwd())
    folder = Path(config.comic.storyboards)
    taken = sorted(folder.glob(f"page-*-{name}.yaml"))
    taken = [p for p in taken if NUMBERED.fullmatch(p.stem) and NUMBERED.fullmatch(p.stem)[2] == name]
    if taken:
        raise InputError(f"{rel(taken[0])}: a page named '{name}' already exists; edit it, or choose another name "
                         "(nothing was written)")
    cast_path = folder / "cast.yaml"
    cast, _ = load_cast(cast_path) if cast_path.exists() else ({}, None)
    number = max(page_numbers(folder), default=0) + 1
    path = folder / f"page-{number:02d}-{name}.yaml"
    schema_file = Path(__file__).resolve().parent.parent / "schemas" / "storyboard.schema.json"
    schema = Path(os.path.relpath(schema_file, folder.resolve())).as_posix()
    demo = config.main_demo if config.main_demo in config.demos else None
    text = page_text(number, name, title or name.replace("-", " ").capitalize(), schema, cast, demo)
    folder.mkdir(parents=True, exist_ok=True)
    # written whole beside the target, then linked in: a link never replaces an existing file,
    # even one that appeared since the check above, and a reader never sees half a page
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.link(tmp, path)
    except FileExistsError:
        raise InputError(f"{rel(path)}: already exists; nothing was written") from None
    finally:
        os.unlink(tmp)
    return path


def new_command(args) -> int:
    path = new_page(args.name, args.title)
    reporter = Reporter(quiet=args.quiet)
    reporter.info(f"wrote {rel(path)}; look at it with: novapress render {rel(path)}")
    return 0
