"""The interactive lesson site: build/site/ and `novapress serve`.

build.build_site writes the static pages; server.serve runs them with a live Ask box.
Importing this package imports neither torch nor transformers.
"""
from __future__ import annotations

from .build import SiteFiles, build_site, site_demos

__all__ = ["SiteFiles", "build_site", "site_demos"]
