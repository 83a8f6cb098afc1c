"""Write a benchmark's measured block into README.md between its markers.

Why: figures typed into the README by hand drift from what ``make bench`` measures (a prose sentence said
"below 50x" while the benchmark measured 69x). Each benchmark renders its whole block, table and every
sentence that quotes a number, from the values it has just measured, and replaces the text between
``<!-- <name>:start -->`` and ``<!-- <name>:end -->``; the prose outside the markers quotes no measured
figure.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

WIDTH = 110  # README's prose is wrapped at the code's line length


def replace_block(text: str, name: str, block: str) -> str:
    """``text`` with what is between the ``name`` markers replaced by ``block``; both markers must exist."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"README has no '{start}' ... '{end}' markers (in that order)")
    return text[: i + len(start)] + "\n" + block.strip("\n") + "\n" + text[j:]


def write_block(readme: Path, name: str, block: str) -> None:
    readme = Path(readme)
    readme.write_text(replace_block(readme.read_text(encoding="utf-8"), name, block), encoding="utf-8")


def paragraph(text: str) -> str:
    """``text`` wrapped as README's prose is, never starting a line with what Markdown reads as a list,
    a table row or a heading."""
    lines: list[str] = []
    for line in textwrap.wrap(text, WIDTH, break_long_words=False, break_on_hyphens=False):
        if lines and line[:1] in "-+|#*" and not line.startswith("\\*"):
            lines[-1] += " " + line
        else:
            lines.append(line)
    return "\n".join(lines)


def sig(x: float, digits: int = 3) -> str:
    """``x`` to ``digits`` significant figures, with thousands separators: 598, 3.14, 0.0190, 31,409."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    return f"{x:,.{decimals}f}"
