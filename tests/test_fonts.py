"""Chinese names are drawn in a shipped CJK font, not as boxes, and without glyph warnings."""

from __future__ import annotations

import logging
import warnings

import matplotlib
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from sim.fonts import CJK_FAMILY, LATIN_FAMILY, cjk_font_path, figure_fonts, font_families

NAME = "岱山县公安局高亭派出所"


def _font_drawing(char: str, weight: str = "normal"):
    """The font matplotlib's fallback draws ``char`` with: the first family of the list that has it."""
    for family in font_families():
        path = font_manager.findfont(FontProperties(family=family, weight=weight), fallback_to_default=False)
        font = font_manager.get_font(path)
        if font.get_char_index(ord(char)):
            return path, font
    raise AssertionError(f"no font of {font_families()} has {char!r}")


def test_chinese_characters_come_from_the_shipped_cjk_font_and_latin_from_dejavu():
    assert font_families() == [LATIN_FAMILY, CJK_FAMILY]
    # a machine with its own Noto Sans CJK (Debian's fonts-noto-cjk) may be given that copy: same font
    shipped_only = {f.fname for f in font_manager.fontManager.ttflist if f.name == CJK_FAMILY} == {
        cjk_font_path()
    }
    for char in NAME:
        for weight in ("normal", "bold"):  # station labels are bold; the shipped font has Regular only
            path, font = _font_drawing(char, weight)
            assert font.family_name == CJK_FAMILY, (char, weight)
            if shipped_only:
                assert path == cjk_font_path() and path.face_index != 0  # face 0 of the .ttc is Japanese
    for char in "S1 Island A police":
        assert _font_drawing(char)[1].family_name == "DejaVu Sans"


def test_a_figure_with_chinese_text_draws_without_glyph_warnings_or_font_log_lines(tmp_path, caplog):
    before = list(matplotlib.rcParams["font.family"])
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, "matplotlib"):
        warnings.simplefilter("always")
        with figure_fonts():
            fig, ax = plt.subplots(figsize=(4, 1.5), dpi=100)
            ax.set_title(f"S1 {NAME}")
            ax.text(0.1, 0.4, f"F1 {NAME}", weight="bold")
            fig.savefig(tmp_path / "chinese.png")
            plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    assert (tmp_path / "chinese.png").stat().st_size > 0
    assert list(matplotlib.rcParams["font.family"]) == before  # the context leaves global settings alone
