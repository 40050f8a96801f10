"""The board page served at ``GET /admin/board``: one self-contained HTML file (inline CSS and JS, no
build step) for support leads. Its script calls the admin API with URLs relative to the page
(``clocks?state=at_risk``, ``compliance/today``, ``tickets/{id}/timeline``), so it works under any stage
or path prefix, and sets every text from the API as text, never as HTML (ticket fields are hostile)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def board_html() -> str:
    """The page's HTML (UTF-8 text), read once from ``slaclock/board.html``."""
    return files("slaclock").joinpath("board.html").read_text(encoding="utf-8")
