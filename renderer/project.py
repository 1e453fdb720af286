"""The project a build reads: novapress.yaml, the comic theme, the cast, every storyboard and the
decks, loaded and checked before anything runs or is written. Every problem of every file is
reported at once (InputError), so bad input leaves build/ as it was.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .config import ProjectConfig, load_config, with_prompt
from .deck.source import Deck, read_deck
from .errors import InputError, Problem, suggest
from .storyboard import CastMember, LoadedStoryboard, load_cast, load_storyboard
from .theme import Theme, load_theme, theme_file

STAGES = ("live", "comic", "slides", "site")


@dataclass
class Project:
    root: Path
    config: ProjectConfig
    theme: Theme
    cast: dict[str, CastMember]
    storyboards: list[LoadedStoryboard]          # in page order
    decks: list[Path] = field(default_factory=list)
    theme_file: Path | None = None               # the files read, which the build hashes as inputs
    cast_file: Path | None = None

    @property
    def names(self) -> dict[str, str]:
        """Cast id -> the name readers see."""
        return {k: m.name for k, m in self.cast.items()}

    def comic_demos(self) -> set[str]:
        """The demos the storyboards show."""
        return {d for sb in self.storyboards for d in sb.board.demos}


def project_config(*, prompt: str | None = None, no_fallback: bool = False, pptx: str | None = None,
                   demo: str | None = None) -> ProjectConfig:
    """novapress.yaml of the working directory, with the command line's --prompt (--demo),
    --no-fallback and --pptx."""
    config, _ = load_config(Path.cwd(), {"slides.pptx": pptx})
    if prompt is not None:
        config = with_prompt(config, prompt, demo)
    if no_fallback:
        config = config.model_copy(update={"model": config.model.model_copy(update={"fallback": False})})
    return config


def load_project(config: ProjectConfig) -> Project:
    """Read and check the cast, theme and every storyboard; raise one InputError with all problems."""
    root = Path.cwd()
    problems: list[Problem] = []
    theme = load_theme(config.comic.theme)
    sb_dir = root / config.comic.storyboards
    cast_path = sb_dir / "cast.yaml"
    cast: dict[str, CastMember] = {}
    if cast_path.exists():
        try:
            cast, _ = load_cast(cast_path)
        except InputError as err:
            problems += err.problems
    paths = sorted(p for p in sb_dir.glob("*.yaml") if p.name != "cast.yaml") if sb_dir.is_dir() else []
    storyboards = []
    for path in paths:
        try:
            storyboards.append(load_storyboard(path, cast=cast, demos=config.demos))
        except InputError as err:
            problems += err.problems
    pages: dict[int, LoadedStoryboard] = {}
    for sb in storyboards:
        other = pages.get(sb.board.page)
        if other is not None:
            line, col = sb.where("page")
            problems.append(Problem(sb.file, line, col, f"page {sb.board.page} is also {other.file}; page numbers must be unique"))
        pages[sb.board.page] = sb
    if problems:
        raise InputError(problems)
    storyboards.sort(key=lambda sb: sb.board.page)
    decks = sorted((root / config.slides.sources).glob("*.md")) if (root / config.slides.sources).is_dir() else []
    return Project(root, config, theme, cast, storyboards, decks, theme_file=theme_file(config.comic.theme),
                   cast_file=cast_path if cast_path.exists() else None)


@dataclass
class Targets:
    """What `novapress build TARGET ...` asked for, by name (renderer.build works out what each
    needs: a deck the pages whose panels it shows, the site the pages and the decks)."""

    stages: set[str]              # whole stages: live, comic, slides, site
    pages: set[str]               # storyboard names (stems) asked for one by one
    decks: set[str]               # deck stems asked for one by one

    @property
    def everything(self) -> bool:
        return self.stages == set(STAGES)


def select_targets(targets: list[str], project: Project) -> Targets:
    """The targets named on the command line; no target is every stage. Names are stages,
    storyboard stems, page names (page-05) or deck stems."""
    if not targets:
        return Targets(set(STAGES), set(), set())
    chosen = Targets(set(), set(), set())
    known = {sb.name: sb for sb in project.storyboards} | {sb.page_name: sb for sb in project.storyboards}
    decks = {d.stem for d in project.decks}
    for t in targets:
        if t in STAGES:
            chosen.stages.add(t)
        elif t in known:
            chosen.pages.add(known[t].name)
        elif t in decks:
            chosen.decks.add(t)
        else:
            raise InputError(f"unknown build target '{t}'{suggest(t, list(STAGES) + list(known) + list(decks))}")
    return chosen


@dataclass
class DeckSource:
    path: Path
    deck: Deck
    demos: list[str]         # the demos its front matter asks for (novapress: demos:)


def load_decks(paths: list[Path], config: ProjectConfig) -> list[DeckSource]:
    """Read every deck's front matter; unknown demos are input errors (all reported together)."""
    problems, out = [], []
    for path in paths:
        try:
            deck = read_deck(path)
        except InputError as err:
            problems += err.problems
            continue
        demos = list(deck.options.demos) if deck.options else []
        for d in demos:
            if d not in config.demos:
                problems.append(deck.problem(None, f"unknown demo '{d}' in novapress: demos"
                                                   f"{suggest(d, config.demos)}; define it in novapress.yaml"))
        out.append(DeckSource(path, deck, demos))
    if problems:
        raise InputError(problems)
    return out
