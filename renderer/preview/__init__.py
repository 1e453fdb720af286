"""The author's loop: what a writer runs between saving a storyboard and looking at the page.

- render.py    `novapress render PAGE`: one page (or panel) from the stored traces, fast;
- session.py   an AuthorSession keeps the project loaded and redraws only what a change touches
               (a storyboard: its page; a deck: its HTML; the cast, theme or novapress.yaml: all);
- server.py    `novapress present [NAME]`: the comic pages and the decks served on loopback, redrawn
               on save (watchfiles) and reloaded in the browser.

Previews read traces as they are stored (no hub probe, no torch when every demo has one) and
write into the build folder; `novapress build` stays the one that decides the model and makes
the PDF, CBZ, PPTX and the site.
"""
