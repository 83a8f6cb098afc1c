"""Chinese web pages that carry their own font: the shipped Noto Sans CJK SC, cut down to the page's
characters and embedded in the page as a base64 ``@font-face``.

Why: a page's CSS can only name fonts, and a machine without a CJK font (a fresh Linux box, a container,
a browser in kiosk mode) draws every Chinese character of aar.html or inject_cards.html as a box. The
project ships Noto Sans CJK Regular for its figures (the PyPI package ``noto-cjk-sans-otc``, see
sim/fonts.py); the pages now ship the part of it they use. The whole face is some 16 MB; a subset of the
few hundred characters of a report is some tens of kB.

The font is OpenType with CFF outlines, embedded as is (``font/otf``): WOFF2 would be smaller but needs
the brotli package, which is not a dependency. Only the page's non-ASCII characters are kept: ASCII text
falls through to the page's Latin fonts, so Latin words look as they do on an English page.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import re

CJK_FACE = "Noto Sans CJK SC"  # the face of the collection picked, by its family name
EMBEDDED_FAMILY = "Echelon Noto Sans CJK SC"  # the page's own name for the subset: never a local font
CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]")


@functools.cache
def _face_number() -> tuple[str, int]:
    """The shipped collection's path and the index of its SC face, found by name (not by position)."""
    import noto_cjk_sans_otc
    from fontTools.ttLib import TTCollection

    path = os.fspath(noto_cjk_sans_otc.FONT_PATH)
    collection = TTCollection(path, lazy=True)
    try:
        names = [font["name"].getDebugName(1) for font in collection.fonts]
    finally:
        collection.close()
    return path, names.index(CJK_FACE)


@functools.lru_cache(maxsize=32)
def subset_font(chars: frozenset[str]) -> bytes:
    """The SC face cut down to ``chars`` (those it has), as OpenType bytes."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    path, number = _face_number()
    options = subset.Options()
    options.hinting = False
    options.notdef_outline = True
    options.layout_features = []  # no ligatures or vertical forms: a page of horizontal running text
    options.drop_tables += ["vhea", "vmtx", "VORG", "BASE", "DSIG"]
    font = TTFont(path, fontNumber=number, lazy=False)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(ord(c) for c in chars))
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
    finally:
        font.close()
    return out.getvalue()


def page_chars(page: str) -> frozenset[str]:
    """The characters of a page that the embedded font is for: all its non-ASCII ones."""
    return frozenset(c for c in page if ord(c) > 127)


def font_face_css(page: str) -> str:
    """An ``@font-face`` rule with the subset for ``page`` embedded, or "" when the page has no CJK."""
    if not CJK.search(page):
        return ""
    data = base64.b64encode(subset_font(page_chars(page))).decode("ascii")
    return (
        f'@font-face{{font-family:"{EMBEDDED_FAMILY}";font-style:normal;font-weight:100 900;'
        f'src:url(data:font/otf;base64,{data}) format("opentype")}}'
    )


def with_cjk_font(page: str, stack: str) -> str:
    """``page`` (a whole HTML document whose body uses the font list ``stack``) with its own CJK font first
    in that list, when it has Chinese text; unchanged otherwise."""
    face = font_face_css(page)
    if not face:
        return page
    style = f'<style>{face}body{{font-family:"{EMBEDDED_FAMILY}",{stack}}}</style>'
    head_end = page.index("</head>")
    return page[:head_end] + style + page[head_end:]
