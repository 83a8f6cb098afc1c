"""The animation's GIF: matplotlib's PillowWriter with one palette for every frame.

Why: Pillow would otherwise build a palette for each frame as it saves (most of the time a GIF took, about
0.1 s a frame) and a marker could change shade from one frame to the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

import numpy as np
from matplotlib import animation
from matplotlib.colors import to_rgb
from PIL import Image


class GifWriter(animation.PillowWriter):
    """PillowWriter whose frames are mapped to one given palette as they come (no dithering)."""

    def __init__(self, palette: Image.Image, fps: int) -> None:
        super().__init__(fps=fps)
        self.palette = palette
        self.paletted: list[Image.Image] = []

    def setup(self, fig, outfile, dpi=None) -> None:
        super().setup(fig, outfile, dpi)
        self.paletted = []

    def grab_frame(self, **savefig_kwargs) -> None:
        buf = BytesIO()
        self.fig.savefig(buf, **{**savefig_kwargs, "format": "rgba", "dpi": self.dpi})
        self._add(Image.frombuffer("RGBA", self.frame_size, buf.getbuffer(), "raw", "RGBA", 0, 1))

    def grab_drawn(self) -> None:
        """The frame the figure's canvas has just drawn (for the MP4), without drawing it again."""
        self._add(Image.fromarray(np.asarray(self.fig.canvas.buffer_rgba())))

    def _add(self, rgba: Image.Image) -> None:
        self.paletted.append(rgba.convert("RGB").quantize(palette=self.palette, dither=Image.Dither.NONE))

    def finish(self) -> None:
        first, *rest = self.paletted
        first.save(self.outfile, save_all=True, append_images=rest, duration=int(1000 / self.fps), loop=0)


def gif_palette(background: np.ndarray, colours: Sequence[str]) -> Image.Image:
    """The background's (RGB pixels) most common colours and every marker colour, exactly, in one palette."""
    exact = [*colours, "#000000", "#ffffff", "#888888"]
    rgb = [tuple(int(v * 255) for v in to_rgb(c)) for c in exact]
    land = Image.fromarray(background).quantize(colors=256 - len(rgb) - 16, method=Image.Quantize.MEDIANCUT)
    colours = np.asarray(land.getpalette()[: 3 * (256 - len(rgb) - 16)], dtype=int).reshape(-1, 3).tolist()
    # half-transparent leak circles and antialiased marker edges: blends of each marker on the ground
    ground = np.asarray(background.reshape(-1, 3).mean(axis=0), dtype=float)
    blends = [tuple(int(v) for v in (0.35 * np.array(c) + 0.65 * ground)) for c in rgb[:16]]
    palette = Image.new("P", (1, 1))
    flat = [v for c in [*colours, *rgb, *blends] for v in c][: 3 * 256]
    palette.putpalette(flat + [0] * (3 * 256 - len(flat)))
    return palette
