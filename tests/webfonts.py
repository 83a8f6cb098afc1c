"""What a page's embedded CJK font (sim/webfont.py) holds: for the tests of the Chinese pages."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser

from fontTools.ttLib import TTFont

from sim.webfont import EMBEDDED_FAMILY

DATA = re.compile(r'@font-face\{font-family:"([^"]+)";[^}]*?base64,([A-Za-z0-9+/=]+)\) format\("opentype"\)')


class _Text(HTMLParser):
    """The text a reader sees (and the title), not the CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        self.in_style = tag == "style"
        self.parts += [value for name, value in attrs if name == "alt" and value]

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if not self.in_style:
            self.parts.append(data)


def page_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    parser.close()
    return "".join(parser.parts)


def embedded_fonts(page: str) -> list[tuple[str, TTFont]]:
    """Every base64 font of the page, with the family name its @font-face gives it."""
    return [(family, TTFont(io.BytesIO(base64.b64decode(data)))) for family, data in DATA.findall(page)]


def without_font_data(page: str) -> str:
    """The page with its embedded font's bytes left out (base64 may spell any word)."""
    return re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", page)


def assert_font_covers_the_page(page: str) -> None:
    """The page embeds one font, first in the body's font list, whose cmap has every non-ASCII character
    of its text, and no more than the page's characters."""
    ((family, font),) = embedded_fonts(page)
    assert family == EMBEDDED_FAMILY
    assert f'body{{font-family:"{EMBEDDED_FAMILY}",' in page
    cmap = set(map(chr, font.getBestCmap()))
    needed = {c for c in page_text(page) if ord(c) > 127}
    assert needed and not needed - cmap, f"characters the embedded font lacks: {sorted(needed - cmap)}"
    assert cmap <= {c for c in page if ord(c) > 127}, "the font holds characters the page does not use"
