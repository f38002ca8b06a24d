"""Render an executed notebook as code-free, self-contained, accessible HTML.

nbconvert's templates load require.js and MathJax from CDNs; a committee member may open the
report with no network, so the package renders it itself: markdown cells (mistune), and the
outputs of code cells (HTML tables, embedded PNG/SVG figures, plain text), with no code, no
scripts and no external resources.

Every page has the same frame (:func:`_page`): a viewport for phones, ``<header>``,
``<main>`` and ``<footer>`` landmarks, the test-mode banner (red, top and bottom) and any
notices (dark blue, top; for example that the data are synthetic). The body is then made
readable on any screen and by assistive technology (:func:`accessible_fragment`): each
table sits in its own horizontally scrolling, focusable region named by its caption, header
cells carry their scope, headings never skip a level, images always have a description and
scripts are dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import mistune
import nbformat

# Colours (contrast with their background, WCAG 2.1): text #1d1d1f on white 16.9:1, links
# #0b57d0 on white 6.1:1, muted #4a4a4a on white 8.9:1, white on the banner's #a1001c 8.2:1,
# white on the notice's #0b3d91 10.4:1.
_CSS = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;max-width:64rem;
margin:0 auto;padding:1rem;color:#1d1d1f;background:#fff;line-height:1.5}
main,header,footer{display:block;min-width:0}
h1,h2,h3,h4,h5,h6{line-height:1.25}h1{border-bottom:2px solid #333;padding-bottom:.3rem}
p,li,dd,dt,h1,h2,h3,h4,h5,h6,blockquote,.banner,.notice,.meta{overflow-wrap:break-word}
a{color:#0b57d0;text-decoration:underline}a:visited{color:#5b2d8e}
a:focus,.table-wrap:focus{outline:3px solid #0b57d0;outline-offset:2px}
.table-wrap{overflow-x:auto;max-width:100%;margin:1rem 0}
table{border-collapse:collapse;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.25rem 0;caption-side:top;position:sticky;left:0;
max-width:calc(100vw - 2rem)}
th,td{border:1px solid #8c8c8c;padding:.25rem .5rem;text-align:left;vertical-align:top}
th,thead td{background:#f0f0f0;color:#1d1d1f}
tbody th{font-weight:600}th.text,td.text{text-align:left}
img,svg{max-width:100%;height:auto}
pre{background:#f5f5f5;color:#1d1d1f;padding:.6rem;white-space:pre-wrap;
overflow-wrap:anywhere;font-size:.85rem;max-width:100%}
code{overflow-wrap:anywhere}
pre.error{color:#8a0012}
.banner{background:#a1001c;color:#fff;padding:.6rem 1rem;font-weight:700;text-align:center;
margin:1rem 0}
.notice{background:#0b3d91;color:#fff;padding:.75rem 1rem;font-weight:600;margin:1rem 0;
border-left:.5rem solid #061f4a}
.meta{color:#4a4a4a;font-size:.85rem}
"""

#: Alt text of an image shown without a description (:func:`analysis.report.figures.figure`
#: gives one); the page tests fail on it.
MISSING_ALT = "Figure without a description"

_MARKDOWN = mistune.create_markdown(escape=False, plugins=["table", "strikethrough"])
_HEADING = re.compile(r"h([1-6])")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def _attrs(attrs: list[tuple[str, str | None]]) -> str:
    return "".join(
        f" {k}" if v is None else f' {k}="{html.escape(v, quote=True)}"' for k, v in attrs
    )


@dataclass
class _Table:
    """What the rewriter knows of a table it is inside."""

    caption: str = ""
    in_caption: bool = False
    section: str | None = None
    rows: int = 0
    #: The header cell being read: its start tag as written, its start tag as a data cell,
    #: its text, and whether it holds an element (a link, an image).
    th: tuple[str, str] | None = None
    th_text: str = ""
    th_child: bool = False


class _Accessible(HTMLParser):
    """Re-emit an HTML fragment with tables boxed and scoped, headings in order, no scripts.

    Start tags that need no change are written as they came; text and character
    references are passed through untouched.
    """

    def __init__(self, base_level: int) -> None:
        super().__init__(convert_charrefs=False)
        self.out: list[list[str]] = [[]]
        self.headings: list[tuple[int, int]] = []  # (level in the source, level shown)
        self.base = base_level
        self.open_headings: list[int] = []
        self.heading_text: list[str] = []
        self.last_heading = ""
        self.tables: list[_Table] = []
        self.skip = 0  # inside <script>

    # ------------------------------------------------------------------ writing
    def _emit(self, text: str) -> None:
        if not self.skip:
            self.out[-1].append(text)

    def _text(self, text: str) -> None:
        if self.heading_text and self.open_headings:
            self.heading_text[-1] += text
        if self.tables and self.tables[-1].in_caption:
            self.tables[-1].caption += text
        if self.tables and self.tables[-1].th is not None:
            self.tables[-1].th_text += text

    def _close_th(self) -> None:
        """Write the open header cell: as a data cell when it is empty (no header text)."""
        t = self.tables[-1] if self.tables else None
        if t is None or t.th is None:
            return
        inner = "".join(self.out.pop())
        start, as_td = t.th
        if t.th_text.strip() or t.th_child:
            self._emit(f"{start}{inner}</th>")
        else:
            self._emit(f"{as_td}{inner}</td>")
        t.th, t.th_text, t.th_child = None, "", False

    # ------------------------------------------------------------------ tags
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.skip += 1
            return
        raw = self.get_starttag_text() or f"<{tag}{_attrs(attrs)}>"
        names = {k for k, _ in attrs}
        m = _HEADING.fullmatch(tag)
        if m:
            level = int(m.group(1))
            while self.headings and self.headings[-1][0] >= level:
                self.headings.pop()
            shown = min(level, (self.headings[-1][1] if self.headings else self.base) + 1)
            self.headings.append((level, shown))
            self.open_headings.append(shown)
            self.heading_text.append("")
            self._emit(f"<h{shown}{_attrs(attrs)}>")
            return
        if self.tables and tag in ("th", "td", "tr", "table"):
            self._close_th()
        elif self.tables and self.tables[-1].th is not None:
            self.tables[-1].th_child = True
        if tag == "table":
            self.tables.append(_Table())
            self.out.append([])
        elif self.tables and tag == "caption":
            self.tables[-1].in_caption = True
        elif self.tables and tag in ("thead", "tbody", "tfoot"):
            self.tables[-1].section = tag
        elif self.tables and tag == "tr":
            self.tables[-1].rows += 1
        elif self.tables and tag == "th":
            t = self.tables[-1]
            if "scope" not in names:
                head = t.section == "thead" or (t.section is None and t.rows == 1)
                raw = f'<th{_attrs(attrs)} scope="{"col" if head else "row"}">'
            t.th = (raw, f"<td{_attrs([(k, v) for k, v in attrs if k != 'scope'])}>")
            self.out.append([])
            return
        elif tag == "img" and "alt" not in names:
            raw = f'<img{_attrs(attrs)} alt="{html.escape(MISSING_ALT)}">'
        self._emit(raw)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # ``<path .../>`` in an SVG: written as it came, closed by its own ``/>``
        self.handle_starttag(tag, attrs)
        if tag == "table" or tag == "script" or _HEADING.fullmatch(tag):
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.skip = max(0, self.skip - 1)
            return
        m = _HEADING.fullmatch(tag)
        if m and self.open_headings:
            shown = self.open_headings.pop()
            self.last_heading = " ".join(self.heading_text.pop().split())
            self._emit(f"</h{shown}>")
            return
        if self.tables and tag in ("th", "tr", "thead", "tbody", "tfoot", "table"):
            self._close_th()
            if tag == "th":
                return
        if tag == "caption" and self.tables:
            self.tables[-1].in_caption = False
        elif tag == "thead" and self.tables:
            self.tables[-1].section = None
        if tag == "table" and self.tables:
            t = self.tables.pop()
            inner = "".join(self.out.pop())
            label = " ".join(t.caption.split())
            label = label or (f"Table: {self.last_heading}" if self.last_heading else "Table")
            self._emit(
                f'<div class="table-wrap" role="region" tabindex="0" '
                f'aria-label="{html.escape(label, quote=True)}">{inner}</table></div>'
            )
            return
        self._emit(f"</{tag}>")

    # ------------------------------------------------------------------ text
    def handle_data(self, data: str) -> None:
        self._text(data)
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._text(html.unescape(f"&{name};"))
        self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._text(html.unescape(f"&#{name};"))
        self._emit(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        self._emit(f"<!--{data}-->")

    def handle_decl(self, decl: str) -> None:
        self._emit(f"<!{decl}>")

    def handle_pi(self, data: str) -> None:
        self._emit(f"<?{data}>")

    def unknown_decl(self, data: str) -> None:
        self._emit(f"<![{data}]>")

    def result(self) -> str:
        """The rewritten fragment (tables left open at the end are closed as they stand)."""
        self.close()
        while len(self.out) > 1:
            inner = "".join(self.out.pop())
            self.out[-1].append(inner)
        return "".join(self.out[0])


def accessible_fragment(fragment: str, *, base_level: int = 0) -> str:
    """Return an HTML fragment made readable on any screen and by assistive technology.

    Parameters
    ----------
    fragment : str
        HTML of a page's body.
    base_level : int
        Level of the heading the fragment sits under (1 when the page's header holds the
        ``<h1>``): the fragment's first heading is at most one deeper.

    Returns
    -------
    str
        The fragment with every ``<table>`` in a horizontally scrolling, focusable
        ``<div class="table-wrap" role="region">`` named by its caption (else by the
        heading before it), ``scope`` on every header cell (``col`` in ``<thead>``, ``row``
        in ``<tbody>``), headings demoted where they would skip a level, ``alt`` on every
        image (:data:`MISSING_ALT` where none was given) and no ``<script>`` element.
    """
    parser = _Accessible(base_level)
    parser.feed(fragment)
    return parser.result()


def _page(
    title: str,
    body: str,
    *,
    banner: str | None,
    notices: Sequence[str],
    footer: str,
) -> str:
    """The frame every report page shares: head, landmarks, banner, notices, footer."""
    has_h1 = re.search(r"<h1[\s>]", body, flags=re.IGNORECASE) is not None
    body = accessible_fragment(body, base_level=0 if has_h1 else 1)
    top = f'<div class="banner">{html.escape(banner)}</div>' if banner else ""
    boxes = "".join(f'<div class="notice" role="note">{html.escape(n)}</div>' for n in notices)
    heading = "" if has_h1 else f"<h1>{html.escape(title)}</h1>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<header>{top}{boxes}{heading}</header>\n<main>{body}</main>\n"
        f'<footer>{top}<p class="meta">{footer}</p></footer></body></html>\n'
    )


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
    path: str | Path,
    *,
    title: str | None = None,
    banner: str | None = None,
    footer: str = "",
    notices: Sequence[str] = (),
) -> str:
    """Return a notebook's narrative and outputs as one self-contained HTML page.

    Parameters
    ----------
    path : str or Path
        Executed notebook.
    title : str, optional
        Page title (default: the notebook's file name); also the page's heading when the
        notebook has no level-1 heading.
    banner : str, optional
        Text of a red banner at the top and bottom (for example the test-mode warning).
    footer : str
        HTML of the page's footer (for example the run's provenance).
    notices : sequence of str
        Texts each shown in a dark blue box at the top (for example that the data are
        synthetic).

    Returns
    -------
    str
        The page. It contains no ``<script>`` element and no external reference; see
        :func:`accessible_fragment` for what is done to the notebook's HTML.
    """
    nb = nbformat.read(str(path), as_version=4)
    parts: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(str(_MARKDOWN(cell.source)))
        elif cell.cell_type == "code":
            parts.extend(_output_html(o) for o in cell.get("outputs", []))
    body = "\n".join(p for p in parts if p)
    return _page(title or Path(path).stem, body, banner=banner, notices=notices, footer=footer)


def index_page(
    month: str,
    steps: list[dict],
    manifest: dict,
    *,
    banner: str | None,
    notices: Sequence[str],
) -> str:
    """Return the month's index page: a link to every step's page, and the run's record.

    Parameters
    ----------
    month : str
        The run's month (``YYYY-MM``).
    steps : list of dict
        The manifest's step records: ``title``, ``status``, ``seconds`` and, for a step
        that rendered, ``html`` (the page's file name).
    manifest : dict
        The run's manifest (``code``, ``started``, ``finished``, ``status``).
    banner : str, optional
        Text of the red banner (the test-mode warning), top and bottom.
    notices : sequence of str
        Texts each shown in a dark blue box at the top.

    Returns
    -------
    str
        The page, with the same style and landmarks as the step pages.
    """
    rows = []
    for s in steps:
        title = html.escape(str(s.get("title", "")))
        link = f'<a href="{html.escape(str(s["html"]))}">{title}</a>' if s.get("html") else title
        seconds = s.get("seconds")
        step_status = html.escape(str(s.get("status", "")))
        rows.append(
            f'<tr><th scope="row">{link}</th><td class="text">{step_status}</td>'
            f"<td>{'' if seconds is None else f'{float(seconds):.1f}'}</td></tr>"
        )
    code = manifest.get("code") or {}
    commit = html.escape(str(code.get("commit", "unknown")))
    dirty = " with local changes" if code.get("dirty") else ""
    version = html.escape(str(code.get("analysis_version", "")))
    status = manifest.get("status")
    state = f" Run status: <strong>{html.escape(str(status))}</strong>." if status else ""
    body = (
        f"<h1>Monthly report {html.escape(month)}</h1>"
        f"<table><caption>Reports of the {html.escape(month)} run</caption><thead><tr>"
        '<th scope="col">Report</th><th scope="col" class="text">Status</th>'
        '<th scope="col">Time (seconds)</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f"<p>Code commit <code>{commit}</code>{dirty} (analysis {version}). Started "
        f"{html.escape(str(manifest.get('started', '')))}, finished "
        f"{html.escape(str(manifest.get('finished', '')))}.{state}</p>"
        "<p>Parameters, data hashes, the run plan and package versions: "
        '<a href="manifest.json">manifest.json</a>.</p>'
    )
    return _page(
        f"Monthly report {month}",
        body,
        banner=banner,
        notices=notices,
        footer=f"Monthly report {html.escape(month)}.",
    )
