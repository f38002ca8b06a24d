"""Render an executed notebook as code-free, self-contained HTML.

nbconvert's templates load require.js and MathJax from CDNs; a committee member may open the
report with no network, so the package renders it itself: markdown cells (mistune), and the
outputs of code cells (HTML tables, embedded PNG/SVG figures, plain text), with no code, no
scripts and no external resources.
"""

from __future__ import annotations

import html
from pathlib import Path

import mistune
import nbformat

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:62rem;
margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.5}
h1,h2,h3{line-height:1.25}h1{border-bottom:2px solid #333;padding-bottom:.3rem}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #bbb;padding:.25rem .5rem;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
img{max-width:100%;height:auto}pre{background:#f7f7f7;padding:.6rem;overflow-x:auto;
font-size:.85rem}.banner{background:#b00020;color:#fff;padding:.6rem 1rem;font-weight:700;
text-align:center;margin:1rem 0}.meta{color:#555;font-size:.85rem}
"""

#: Alt text of an image shown without a description (:func:`analysis.report.figures.figure`
#: gives one); the page tests fail on it.
MISSING_ALT = "Figure without a description"

_MARKDOWN = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])


def _output_html(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        if output.get("name") == "stderr":
            return ""
        return f"<pre>{html.escape(''.join(output.get('text', '')))}</pre>"
    if kind in ("execute_result", "display_data"):
        data = output.get("data", {})
        if "text/html" in data:
            return "".join(data["text/html"])
        if "image/png" in data:
            png = "".join(data["image/png"]).replace("\n", "")
            alt = output.get("metadata", {}).get("image/png", {}).get("alt") or MISSING_ALT
            return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{png}">'
        if "image/svg+xml" in data:
            return "".join(data["image/svg+xml"])
        if "text/markdown" in data:
            return str(_MARKDOWN("".join(data["text/markdown"])))
        if "text/plain" in data:
            return f"<pre>{html.escape(''.join(data['text/plain']))}</pre>"
    if kind == "error":
        name = html.escape(output.get("ename", "Error"))
        return f'<pre class="error">{name}: {html.escape(output.get("evalue", ""))}</pre>'
    return ""


def notebook_to_html(
    path: str | Path, *, title: str | None = None, banner: str | None = None, footer: str = ""
) -> str:
    """Return a notebook's narrative and outputs as one self-contained HTML page.

    Parameters
    ----------
    path : str or Path
        Executed notebook.
    title : str, optional
        Page title (default: the notebook's file name).
    banner : str, optional
        Text of a red banner at the top and bottom (for example the test-mode warning).
    footer : str
        HTML appended at the end (for example the run's provenance).

    Returns
    -------
    str
        The page. It contains no ``<script>`` element and no external reference.
    """
    nb = nbformat.read(str(path), as_version=4)
    parts: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(str(_MARKDOWN(cell.source)))
        elif cell.cell_type == "code":
            parts.extend(_output_html(o) for o in cell.get("outputs", []))
    title = title or Path(path).stem
    top = f'<div class="banner">{html.escape(banner)}</div>' if banner else ""
    body = "\n".join(p for p in parts if p)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f'{top}{body}{top}<footer class="meta">{footer}</footer></body></html>\n'
    )
