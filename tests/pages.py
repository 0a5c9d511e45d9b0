"""Reading a rendered map page as the browser will."""

from __future__ import annotations

import re


def shown(page: str) -> str:
    """The page with JSON string escapes undone: folium embeds each layer's data as JSON
    (``\\u003c`` for ``<``, ``\\u5c0f`` for 小), so this is the text the browser receives."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
