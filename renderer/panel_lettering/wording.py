"""How lettering's warnings and errors word what happened: each names the page, the panel and
the element (its words quoted short), says what had to give, and how to make room.
"""
from __future__ import annotations

from live_demo.formatting import elide_line

QUOTE_CHARS = 40     # an element's words are quoted this long at most

COVER_NAMES = {"face": "a face", "data": "the model's data", "lettering": "a prop's lettering", "label": "a label",
               "balloon": "another balloon", "tag": "the model tag"}


def quoted(text: str) -> str:
    return elide_line(text, QUOTE_CHARS)


def covers_phrase(kinds) -> str:
    """What an element had to cover, in words: "a face and the model tag"."""
    names = [COVER_NAMES.get(k, k) for k in kinds]
    if not names:
        return "only scenery"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def too_long(where: str, kind: str, text: str) -> str:
    return (f"{where}: {kind} '{quoted(text)}' is too long to fit the panel even at the smallest text size; "
            f"shorten it or split it")


def shortened(where: str, kind: str, text: str) -> str:
    return (f"{where}: the {kind} '{quoted(text)}' is too long for the panel with this data, so it is shortened "
            f"with '…' (the transcript has it whole); shorten the words around the data or give the panel more room")


def out_of_order(where: str, kind: str, text: str) -> str:
    return (f"{where}: the {kind} '{quoted(text)}' has room only where it is read before the one above it; make "
            f"room after it (move the cast or props), or give it place:/at:")


def as_strip(where: str, kind: str, text: str) -> str:
    return (f"{where}: no room for the {kind} '{quoted(text)}' in the scene, so it is set as a caption strip along "
            f"the panel's edge; make room (move the cast or props), shorten it, or give it place:/at:")


def covering(where: str, kind: str, text: str, covers) -> str:
    return (f"{where}: no clear spot for the {kind} '{quoted(text)}'; placed where it hides least, over "
            f"{covers_phrase(covers)}; make room (move the cast or props), shorten it, or give it place:/at:")


def label_covering(where: str, text: str, covers) -> str:
    return (f"{where}: no clear spot for the label '{quoted(text)}'; placed where it hides least, over "
            f"{covers_phrase(covers)}; move its anchor, the props or the cast, or give it at:")


def tag_covering(where: str, covers) -> str:
    return (f"{where}: no clear spot for the model tag; placed where it hides least, over {covers_phrase(covers)}; "
            f"make room in a corner of the panel")
