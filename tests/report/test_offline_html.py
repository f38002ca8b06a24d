"""Committee reports open in headless Chromium with the network cut off, and look right."""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.report.plan import MonthlyPlan
from analysis.report.runner import monthly_steps

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


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing: `make setup` installs Debian's chromium package")
        pytest.skip("chromium not installed (make setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_reports_load_offline(monthly_run, browser, tmp_path):
    steps = monthly_steps(MonthlyPlan.from_dict(monthly_run.manifest["plan"]))
    pages = ["index.html"] + [f"{s.output}.html" for s in steps]
    for name in pages:
        context = browser.new_context(offline=True)
        page = context.new_page()
        outside: list[str] = []

        def guard(route, outside=outside):
            url = route.request.url
            if url.startswith(("file:", "data:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", guard)
        page.goto((monthly_run.folder / name).as_uri(), wait_until="load")
        assert outside == [], f"{name} requested {outside}"
        images = page.evaluate("Array.from(document.images).map(i => [i.complete, i.naturalWidth])")
        assert all(done and width > 0 for done, width in images), name
        if name.startswith("02_forecast"):
            assert len(images) >= 2, "forecast pages carry their maps"
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5_000
        context.close()
