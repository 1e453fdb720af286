"""The picture caches (resvg's PNG of an SVG, a cast member's figure) in novapress' user cache:
a stored picture must be exactly what drawing it afresh gives, and turning the cache off must
change nothing but the time."""
from __future__ import annotations

import pytest

from renderer import cast, raster

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
       '<circle cx="20" cy="15" r="12" fill="#3a7"/></svg>')


@pytest.fixture
def cache_home(tmp_path, monkeypatch):
    monkeypatch.setenv("NOVAPRESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("NOVAPRESS_RASTER_CACHE", raising=False)
    raster._cache_dir.cache_clear()
    cast._render.cache_clear()
    yield tmp_path / "cache"
    raster._cache_dir.cache_clear()
    cast._render.cache_clear()


def test_a_stored_raster_is_the_same_pixels_as_a_fresh_one(cache_home, monkeypatch):
    first = raster.rasterize(SVG, zoom=2.0)
    stored = list((cache_home / "raster").rglob("*.png"))
    assert len(stored) == 1
    again = raster.rasterize(SVG, zoom=2.0)            # read back from the file
    assert again.tobytes() == first.tobytes() and again.size == (80, 60)
    raster.rasterize(SVG, zoom=1.0)                    # another zoom is another picture
    assert len(list((cache_home / "raster").rglob("*.png"))) == 2

    monkeypatch.setenv("NOVAPRESS_RASTER_CACHE", "0")
    raster._cache_dir.cache_clear()
    fresh = raster.rasterize(SVG, zoom=2.0)
    assert fresh.tobytes() == first.tobytes()


def test_the_raster_cache_keeps_only_the_newest_pictures(cache_home):
    for r in range(1, 6):
        raster.rasterize(SVG.replace('r="12"', f'r="{r}"'))
    folder = next((cache_home / "raster").iterdir())
    raster.trim_cache(folder, keep=2)
    assert len(list(folder.rglob("*.png"))) == 2


def test_a_stored_figure_is_the_drawn_figure(cache_home, monkeypatch):
    drawn = cast.render_figure("kai", "pointing", "happy", "left", 120)
    assert list((cache_home / "figures").rglob("*.png")), "the figure was stored"
    cast._render.cache_clear()
    stored = cast.render_figure("kai", "pointing", "happy", "left", 120)
    monkeypatch.setenv("NOVAPRESS_RASTER_CACHE", "0")
    cast._render.cache_clear()
    fresh = cast.render_figure("kai", "pointing", "happy", "left", 120)
    for fig in (stored, fresh):
        assert fig.image.tobytes() == drawn.image.tobytes()
        assert (fig.face, fig.head, fig.mouth, fig.anchors, fig.hover) == \
               (drawn.face, drawn.head, drawn.mouth, drawn.anchors, drawn.hover)
