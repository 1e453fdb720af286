"""JSON Schemas of a storyboard and of novapress.yaml, generated from the pydantic models that
check them, so an editor (VS Code's YAML extension, any yaml-language-server client) completes
and validates what the build will accept.

    python -m renderer.schema            # writes schemas/storyboard.schema.json, schemas/novapress.schema.json
    python -m renderer.schema --check    # exit 1 when the shipped files are not what the code says

A prop's parameters are in the schema too: `type` is one of the registered props, and each type
allows exactly its own parameters (with their descriptions and defaults). What only the build
can know (a demo's name, a cast member, text that fits) is still checked by the build.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .atomic import write_text
from .config import ProjectConfig
from .props import REGISTRY
from .storyboard import Storyboard

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
FILES = {"storyboard.schema.json": "storyboard", "novapress.schema.json": "config"}


def storyboard_schema() -> dict:
    schema = Storyboard.model_json_schema()
    defs = schema["$defs"]
    prop = defs["PropSpec"]
    common = prop["properties"]
    prop["properties"]["type"] = {"title": "Type", "description": "Which prop to draw.", "enum": sorted(REGISTRY)}
    rules = []
    for name in sorted(REGISTRY):
        params = REGISTRY[name].params.model_json_schema()
        for key, value in params.pop("$defs", {}).items():
            if key in defs and defs[key] != value:
                raise ValueError(f"prop '{name}': its schema's '{key}' differs from another of the same name")
            defs[key] = value
        then = {"properties": {**{k: True for k in common}, **params.get("properties", {})},
                "additionalProperties": False}
        if params.get("required"):
            then["required"] = params["required"]
        rules.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]}, "then": then})
    prop["allOf"] = rules
    prop.pop("additionalProperties", None)
    return {"$schema": DIALECT, "title": "novapress storyboard page", **schema}


def config_schema() -> dict:
    return {"$schema": DIALECT, "title": "novapress.yaml", **ProjectConfig.model_json_schema()}


def schema_text(kind: str) -> str:
    schema = storyboard_schema() if kind == "storyboard" else config_schema()
    return json.dumps(schema, indent=1, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    check = "--check" in (argv if argv is not None else sys.argv[1:])
    stale = []
    for name, kind in FILES.items():
        path, text = SCHEMA_DIR / name, schema_text(kind)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            if check:
                stale.append(name)
            else:
                write_text(path, text)
                print(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")
    if stale:
        print(f"stale: {', '.join(stale)}; run python -m renderer.schema", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
