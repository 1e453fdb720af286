"""The build's stages, peers in the order a build runs them (renderer.build):

- live.py    build/live/: a trace per demo (live_demo) and charts of the ones shown
- comic.py   build/comic/: pages, panels, transcripts, then the PDF and CBZ; `novapress render`
- slides.py  build/slides/: each deck through marp-cli (renderer.deck); `novapress present`
- site.py    build/site/: the lesson site (renderer.site)

Each stage turns the project (renderer.project) into steps (renderer.steps): a step is skipped
when its inputs hash as they did when it last ran and its outputs are untouched.
"""
