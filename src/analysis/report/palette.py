"""Line styles for report figures that stay distinct without colour vision.

The colours are Okabe and Ito's palette (2008; safe for the common colour-vision
deficiencies), without its yellow, which is too pale on white; every series also gets its own
marker and dash pattern, so that two series never differ by colour alone.
"""

from __future__ import annotations

#: Okabe–Ito colours, in the order series receive them (yellow left out: too pale on white).
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
#: Markers, in the order series receive them.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*", "h", "p")
#: Dash patterns, in the order series receive them.
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (8, 2)), (0, (1, 1)))


def series_style(i: int) -> dict[str, object]:
    """Return the Matplotlib line properties of the ``i``-th series of a figure.

    Colours and markers cycle at different lengths (7 and 12), so no two of the first 84
    series share both; the dash pattern shifts by one every 7 series, so two series of the
    same colour also differ in their dashes.

    Parameters
    ----------
    i : int
        The series' position, from 0.

    Returns
    -------
    dict
        ``color``, ``marker`` and ``linestyle`` for ``Axes.plot``.
    """
    n = len(OKABE_ITO)
    return {
        "color": OKABE_ITO[i % n],
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[(i + i // n) % len(LINESTYLES)],
    }
