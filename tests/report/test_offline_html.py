"""Committee reports open in headless Chromium with the network cut off, and are accessible.

Every page of a test-mode month (the index and each step's page) is opened at a desktop
(1,280 px) and a phone (390 px) width with the network off. The tests check that nothing
is fetched from outside and every image loads, that axe-core finds no serious or critical
accessibility violation, that no page scrolls sideways, that every image has a description,
and that the synthetic-data notice is on every page of a synthetic run. Full-page
screenshots of every page at both widths are written to ``$REPORT_SCREENSHOTS`` (else a
pytest temporary folder) for review.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from analysis.report.html import MISSING_ALT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Viewport widths checked: a desktop and a phone.
WIDTHS = (1280, 390)
#: axe-core impacts that fail the test.
FAILING = ("serious", "critical")


@dataclass
class Visit:
    """What one page showed at one width."""

    page: str
    width: int
    outside: list[str] = field(default_factory=list)
    images: list[list] = field(default_factory=list)
    alts: list[str | None] = field(default_factory=list)
    scroll_width: int = 0
    inner_width: int = 0
    notices: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    screenshot: Path | None = None


def _pages(run) -> list[str]:
    steps = run.manifest.get("steps") or []
    return ["index.html"] + [str(s["html"]) for s in steps if s.get("html")]


@pytest.fixture(scope="module")
def visits(monthly_run, tmp_path_factory) -> list[Visit]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make setup` installs Debian's chromium package")
        pytest.skip("chromium not installed (make setup installs it)")
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    shots = Path(os.environ.get("REPORT_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    out: list[Visit] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for name in _pages(monthly_run):
            for width in WIDTHS:
                visit = Visit(name, width)
                context = browser.new_context(
                    offline=True, viewport={"width": width, "height": 900}
                )
                page = context.new_page()

                def guard(route, visit=visit):
                    url = route.request.url
                    if url.startswith(("file:", "data:")):
                        route.continue_()
                    else:
                        visit.outside.append(url)
                        route.abort()

                page.route("**/*", guard)
                page.goto((monthly_run.folder / name).as_uri(), wait_until="load")
                visit.images = page.evaluate(
                    "Array.from(document.images).map(i => [i.complete, i.naturalWidth])"
                )
                visit.alts = page.evaluate(
                    "Array.from(document.images).map(i => i.getAttribute('alt'))"
                )
                visit.scroll_width, visit.inner_width = page.evaluate(
                    "[document.documentElement.scrollWidth, window.innerWidth]"
                )
                visit.notices = page.locator(".notice").all_inner_texts()
                visit.violations = axe.run(page).response["violations"]
                visit.screenshot = shots / f"{Path(name).stem}-{width}px.png"
                page.screenshot(path=str(visit.screenshot), full_page=True)
                context.close()
                out.append(visit)
        browser.close()
    print(f"\nscreenshots of {len(out)} page views: {shots}")
    return out


def test_every_step_has_a_page(monthly_run):
    steps = monthly_run.manifest.get("steps") or []
    assert steps, "the run recorded no steps"
    missing = [f"{s['title']}: {s['status']}" for s in steps if not s.get("html")]
    assert missing == [], f"steps without a page: {missing}"


def test_reports_load_offline(visits):
    for v in visits:
        assert v.outside == [], f"{v.page} at {v.width}px requested {v.outside}"
        assert all(done and width > 0 for done, width in v.images), f"{v.page}: image not loaded"
        if v.page.startswith("02_forecast"):
            assert len(v.images) >= 2, "forecast pages carry their maps"
        assert v.screenshot is not None and v.screenshot.stat().st_size > 5_000


def test_no_serious_accessibility_violations(visits):
    found = []
    for v in visits:
        for rule in v.violations:
            if rule.get("impact") in FAILING:
                targets = [str(n.get("target")) for n in rule.get("nodes", [])[:3]]
                found.append(
                    f"{v.page} at {v.width}px: {rule['id']} ({rule['impact']}, "
                    f"{len(rule.get('nodes', []))} elements) {', '.join(targets)}"
                )
    assert found == [], "axe-core violations:\n" + "\n".join(found)


def test_no_page_scrolls_sideways(visits):
    wide = [
        f"{v.page} at {v.width}px: {v.scroll_width}px wide"
        for v in visits
        if v.scroll_width > v.inner_width
    ]
    assert wide == [], "pages wider than the window: " + "; ".join(wide)


def test_every_image_is_described(visits):
    bad = [
        f"{v.page}: image {i + 1} alt={alt!r}"
        for v in visits
        if v.width == WIDTHS[0]
        for i, alt in enumerate(v.alts)
        if alt is None or alt.strip().lower() in ("", "figure", MISSING_ALT.lower())
    ]
    assert bad == [], "images without a description: " + "; ".join(bad)


def test_synthetic_data_notice_on_every_page(monthly_run, visits):
    data = (monthly_run.manifest.get("plan") or {}).get("data") or {}
    if "synthetic" not in data:
        pytest.skip(
            "the run's manifest does not say whether its data are synthetic "
            "(plan.data.synthetic is not recorded yet), so the notice is not checked"
        )
    for v in visits:
        noted = any("synthetic" in n.lower() for n in v.notices)
        if data["synthetic"]:
            assert noted, f"{v.page} at {v.width}px has no synthetic-data notice"
        else:
            assert not noted, f"{v.page} says its real data are synthetic"
