"""Crowded pages warn instead of failing; --strict makes the warnings errors.

A small project in a temp folder (no model run): one panel holds more balloons than it has room
for, so one of them is set as a caption strip with a located warning. The warning is printed even
with -q, kept in build/manifest.json with its page, printed again when the page is up to date,
and with --strict (build or render) it is an error: exit 2, nothing written.
"""
from __future__ import annotations

import json

import pytest

from test_build import make_project, run, tree

CROWDED = """\
page: 1
title: Crowded
layout:
  - height: 1
    panels: [a, c]
  - height: 1
    panels: [b]
panels:
  - id: a
    scene:
      props:
        - {type: station, at: [0.05, 0.05, 0.9, 0.9], number: 2}
    cast:
      - {who: nova, at: [0.3, 0.98], height: 0.9, pose: talking, expression: happy}
      - {who: kai, at: [0.7, 0.98], height: 0.9, pose: talking, expression: happy, facing: left}
    text:
      - speech: "The first balloon says quite a lot of things about tokens."
        who: nova
      - speech: "The second balloon answers with even more words about the tokens and ids."
        who: kai
      - speech: "And a third balloon, which has no room left at all in this panel."
        who: nova
      - speech: "A fourth one, too: nobody reads this much in one panel, do they?"
        who: kai
  - id: c
  - id: b
    text:
      - narration: "Station two."
"""

WARNING = ("warning: storyboards/page-01-crowd.yaml:23:9: page 1, panel 'a': no room for the speech "
           "'A fourth one, too: nobody reads this…' in the scene, so it is set as a caption strip")


@pytest.fixture
def crowded(tmp_path):
    return make_project(tmp_path / "proj", {"page-01-crowd.yaml": CROWDED})


def test_a_crowded_page_builds_with_a_located_warning_that_survives_rebuilds(crowded, capsys):
    code, err = run(crowded, "build", "comic", "-q", capsys=capsys)
    assert code == 0, err
    assert WARNING in err and err.count("warning:") == 1
    assert (crowded / "build" / "comic" / "pages" / "page-01.png").exists()
    md = (crowded / "build" / "comic" / "pages" / "page-01.md").read_text()
    assert "**Kai:** A fourth one, too" in md                      # the words are all there, by their speaker
    step = json.loads((crowded / "build" / "manifest.json").read_text())["steps"]["page:page-01-crowd"]
    assert step["warnings"][0]["line"] == 23 and "caption strip" in step["warnings"][0]["message"]

    # nothing changed: the page is not redrawn, but its warning is reported again
    before = tree(crowded / "build")
    code, err = run(crowded, "build", "comic", capsys=capsys)
    assert code == 0 and "nothing to rebuild" in err and WARNING in err
    assert tree(crowded / "build") == before

    # --strict: the same warning is an error, exit 2, and build/ is untouched
    code, err = run(crowded, "build", "comic", "-q", "--strict", capsys=capsys)
    assert code == 2
    assert WARNING.replace("warning:", "error:", 1) in err and "--strict" in err
    assert tree(crowded / "build") == before


def test_strict_writes_nothing_for_a_changed_page_and_passes_once_the_layout_has_room(crowded, capsys):
    code, _ = run(crowded, "build", "comic", "-q", capsys=capsys)
    assert code == 0
    before = tree(crowded / "build")
    sb = crowded / "storyboards" / "page-01-crowd.yaml"
    sb.write_text(sb.read_text().replace("about tokens.", "about the tokens."))
    code, err = run(crowded, "build", "comic", "-q", "--strict", capsys=capsys)
    assert code == 2 and "error: storyboards/page-01-crowd.yaml:23:9:" in err
    assert tree(crowded / "build") == before
    # room for every balloon: a smaller cast and two balloons less
    text = sb.read_text().replace("height: 0.9", "height: 0.5")
    for gone in ('      - speech: "And a third balloon, which has no room left at all in this panel."\n        who: nova\n',
                 '      - speech: "A fourth one, too: nobody reads this much in one panel, do they?"\n        who: kai\n'):
        assert gone in text
        text = text.replace(gone, "")
    sb.write_text(text)
    code, err = run(crowded, "build", "comic", "-q", "--strict", capsys=capsys)
    assert code == 0 and "warning" not in err, err


def test_render_reports_warnings_and_strict_makes_them_errors(crowded, capsys):
    code, err = run(crowded, "render", "storyboards/page-01-crowd.yaml", "-q", capsys=capsys)
    assert code == 0 and WARNING in err
    out = crowded / "build" / "comic" / "pages" / "page-01.png"
    assert out.exists()
    out.unlink()
    code, err = run(crowded, "render", "storyboards/page-01-crowd.yaml", "--strict", capsys=capsys)
    assert code == 2 and "error: storyboards/page-01-crowd.yaml:23:9:" in err
    assert not out.exists()


def test_text_too_long_for_an_empty_panel_is_still_an_error(crowded, capsys):
    sb = crowded / "storyboards" / "page-01-crowd.yaml"
    sb.write_text(sb.read_text().replace('"Station two."', '"' + " ".join(["tokens"] * 500) + '"'))
    code, err = run(crowded, "build", "comic", "-q", capsys=capsys)
    assert code == 2
    assert "error: storyboards/page-01-crowd.yaml:28:9: page 1, panel 'b': narration 'tokens tokens" in err
    assert "too long to fit the panel" in err


def test_words_quoting_data_too_long_for_the_panel_are_shortened_with_a_warning(crowded, capsys):
    sb = crowded / "storyboards" / "page-01-crowd.yaml"
    sb.write_text(sb.read_text().replace('"Station two."', '"Station {{ \'two \' * 3000 }}"'))
    code, err = run(crowded, "build", "comic", "-q", capsys=capsys)
    assert code == 0, err
    assert ("warning: storyboards/page-01-crowd.yaml:28:9: page 1, panel 'b': the narration 'Station two two two "
            "two two two two…' is too long for the panel with this data, so it is shortened") in err
    md = (crowded / "build" / "comic" / "pages" / "page-01.md").read_text()
    assert "*Narration:* Station " + "two " * 2999 + "two" in md       # the transcript has every word
