"""Figures for people: every image a page shows carries a description of what it shows.

A notebook displays :func:`figure` instead of a bare Matplotlib figure or
``IPython.display.Image``. The PNG goes into the notebook's output with its alt text in the
output's metadata (``metadata["image/png"]["alt"]``), where the page renderer
(:mod:`analysis.report.html`) reads it; JupyterLab shows the same image.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from PIL import Image


class DescribedFigure:
    """A PNG image and the text that says what it shows."""

    def __init__(self, png: bytes, alt: str) -> None:
        if not alt.strip():
            raise ValueError("a figure needs a description of what it shows")
        self.png = png
        self.alt = alt.strip()

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """The PNG and its alt text, for Jupyter (and papermill's saved outputs)."""
        data = {"image/png": base64.b64encode(self.png).decode("ascii"), "text/plain": self.alt}
        return data, {"image/png": {"alt": self.alt}}


#: Colours kept in a page's PNG: maps and charts need far fewer, and a palette PNG is about a
#: third of the size of a full-colour one, which matters for pages that embed their images.
PALETTE_COLOURS = 256


def compact_png(png: bytes) -> bytes:
    """The PNG with its colours reduced to a palette (deterministic), on a white ground."""
    with Image.open(io.BytesIO(png)) as im:
        rgba = im.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, "white")
        flat = Image.alpha_composite(ground, rgba).convert("RGB")
        small = flat.quantize(PALETTE_COLOURS, method=Image.Quantize.MEDIANCUT)
        out = io.BytesIO()
        small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def figure(source: Figure | str | Path, alt: str, *, dpi: int = 110) -> DescribedFigure:
    """Return a figure (or a saved PNG) for display with its description.

    Parameters
    ----------
    source : matplotlib.figure.Figure or path
        The figure, or a PNG file written earlier (for example by a backtest).
    alt : str
        What the figure shows, in a sentence or two (its alt text on the page).
    dpi : int
        Resolution of a Matplotlib figure's PNG.
    """
    if isinstance(source, Figure):
        buf = io.BytesIO()
        source.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        plt.close(source)
        return DescribedFigure(compact_png(buf.getvalue()), alt)
    return DescribedFigure(compact_png(Path(source).read_bytes()), alt)
