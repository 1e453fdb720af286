"""A place in a storyboard as its author reads it: "panel 'p2', text 1 (speech), place" rather
than pydantic's zero-based "panels.1.text.0.place". Panels are named by their id, everything
else is counted from 1."""
from __future__ import annotations

from typing import Any

TEXT_KINDS = ("speech", "thought", "narration", "label", "caption")

# what an item of each list is called in messages, and which of its fields names it
_ITEM_NAMES = {"panels": ("panel", "id"), "text": ("text", None), "cast": ("cast", "who"), "props": ("prop", "type"),
               "layout": ("row", None), "stack": ("stack", None), "demos": ("demo", None)}


def describe(loc: tuple, data: Any) -> str:
    """A storyboard path as its author reads it: "panel 'p2', text 1 (speech), place" rather than
    pydantic's zero-based "panels.1.text.0.place". Panels are named by id, the rest counted from 1."""
    words: list[str] = []
    node = data
    i = 0
    while i < len(loc):
        key = loc[i]
        child = node.get(key) if isinstance(node, dict) and isinstance(key, str) else None
        if isinstance(key, str) and i + 1 < len(loc) and isinstance(loc[i + 1], int) and isinstance(child, list):
            index = loc[i + 1]
            item = child[index] if index < len(child) else None
            noun, naming = _ITEM_NAMES.get(key, (key, None))
            if key == "panels" and isinstance(node, dict) and "height" in node:
                noun = "panel"          # a layout row's panels: refs, counted
                naming = None
            name = item.get(naming) if isinstance(item, dict) and naming else None
            if key == "panels" and isinstance(name, str):
                words.append(f"panel '{name}'")
            else:
                words.append(f"{noun} {index + 1}" + (f" ({name})" if isinstance(name, str) else ""))
            if key == "text" and isinstance(item, dict):
                kind = next((k for k in TEXT_KINDS if k in item), None)
                if kind:
                    words[-1] += f" ({kind})"
            node, i = item, i + 2
            continue
        if key == "scene" and i + 1 < len(loc) and loc[i + 1] == "props":
            node, i = child, i + 1   # "prop 2" says enough
            continue
        if isinstance(key, int):
            words.append(f"item {key + 1}")
            node = node[key] if isinstance(node, list) and key < len(node) else None
        elif key in ("str", "PanelRef", "StackRef") or (isinstance(key, str) and "[" in key):
            pass                      # pydantic's name of a union member, not a key in the file
        else:
            words.append(str(key))
            node = child
        i += 1
    return ", ".join(words) or "(top level)"
