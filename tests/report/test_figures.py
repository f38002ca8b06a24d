"""Figures carry their alt text and are embedded compactly."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from PIL import Image

from analysis.report.figures import compact_png, figure


def a_map():
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(np.random.default_rng(0).gamma(2.0, size=(40, 40)), cmap="viridis")
    return fig


def test_a_figure_keeps_its_alt_text_and_size_and_shrinks():
    buf = io.BytesIO()
    fig = a_map()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    full = buf.getvalue()
    shown = figure(fig, "A grid of 1,600 cells coloured by a gamma draw")
    data, meta = shown._repr_mimebundle_()
    assert data["text/plain"] == shown.alt
    assert meta["image/png"]["alt"].startswith("A grid of 1,600 cells")
    assert len(shown.png) < len(full)
    with Image.open(io.BytesIO(shown.png)) as small, Image.open(io.BytesIO(full)) as big:
        assert small.size == big.size and small.mode == "P"


def test_compaction_is_deterministic_and_never_grows_a_file():
    buf = io.BytesIO()
    a_map().savefig(buf, format="png")
    png = buf.getvalue()
    assert compact_png(png) == compact_png(png)
    tiny = io.BytesIO()
    Image.new("P", (4, 4)).save(tiny, format="PNG")
    assert len(compact_png(tiny.getvalue())) <= len(tiny.getvalue())


def test_a_figure_needs_a_description():
    with pytest.raises(ValueError, match="description"):
        figure(a_map(), "  ")
