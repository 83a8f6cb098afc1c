"""Fonts for every figure: DejaVu Sans (matplotlib's own) for Latin text, Noto Sans CJK SC for Chinese names.

Facility names in Zhoushan are Chinese (岱山县公安局高亭派出所); DejaVu Sans has no Chinese glyphs, so
without a fallback they are drawn as boxes. The CJK font comes from the PyPI package ``noto-cjk-sans-otc``
(Noto Sans CJK Regular, SIL Open Font License 1.1), pinned in requirements.lock: nothing is downloaded
at run time and nothing needs installing by hand. Matplotlib (>= 3.6) draws each character with the
first family in ``font.family`` that has it, so Latin text looks as before and Chinese falls back.

Registration with matplotlib's font manager happens once, at the first figure, not at import.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Callable, Iterator

import matplotlib
from matplotlib import font_manager

LATIN_FAMILY = "DejaVu Sans"
CJK_FAMILY = "Noto Sans CJK SC"  # one face of the collection; its glyphs follow Simplified Chinese forms


@functools.cache
def cjk_font_path() -> str:
    """Register the shipped Noto Sans CJK collection with matplotlib (once) and return its file path."""
    import noto_cjk_sans_otc

    path = os.fspath(noto_cjk_sans_otc.FONT_PATH)
    manager = font_manager.fontManager
    manager.addfont(path)  # every face of the .ttc: JP, KR, SC, TC, HK and the Mono ones
    # The package has the Regular weight only. Bold text (station labels, the SYNTHETIC stamp) asks every
    # family of the list for bold and matplotlib would log "Failed to find font weight bold" once per run;
    # listing the Regular face as the family's bold says what happens anyway: Chinese bold is drawn regular.
    regular = next(f for f in manager.ttflist if f.fname == path and f.name == CJK_FAMILY)
    manager.ttflist.append(dataclasses.replace(regular, weight=700))
    return path


def font_families() -> list[str]:
    """The family list every figure uses: Latin first, then the CJK fallback."""
    cjk_font_path()
    return [LATIN_FAMILY, CJK_FAMILY]


@contextlib.contextmanager
def figure_fonts() -> Iterator[None]:
    """Draw one figure with these fonts: create and save it inside (a text takes the family list when it
    is made). rcParams are restored on leaving, so nothing changes for code that draws its own figures."""
    with matplotlib.rc_context({"font.family": font_families()}):
        yield


def with_figure_fonts[**P, R](draw: Callable[P, R]) -> Callable[P, R]:
    """Decorator for a function that makes and saves a figure: it runs inside ``figure_fonts()``."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with figure_fonts():
            return draw(*args, **kwargs)

    return wrapper
