"""Issue 15: the HTML coverage report fits an A4 page, checked in headless Chromium.

The report is rendered at A4 width (794 CSS pixels at 96 dpi). The test measures the page's
scroll width (a copy of the report with one measuring script appended: the report itself
has no scripts) and keeps a screenshot for people to look at. Anything wider than the page
(a long table, a timeline, an unbroken file name) fails it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bodycam.coverage.render import render
from tests.conftest import require
from tests.test_coverage import build

A4_WIDTH = 794
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    require(path is not None, "Chromium (apt-get install chromium)")
    assert path is not None
    return path


def measure(chromium: str, html: Path, profile: Path) -> int:
    probe = html.with_name(html.stem + "-probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace(
        "</body>", "<script>document.title = 'W' + document.documentElement.scrollWidth</script></body>"),
        encoding="utf-8")
    out = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={A4_WIDTH},1123",
                          "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    found = re.search(r"<title>W(\d+)</title>", out.stdout)
    assert found, out.stderr[-2000:]
    return int(found.group(1))


def test_the_html_report_fits_an_a4_page(chromium: str, tmp_path: Path) -> None:
    from bodycam.app import App
    from bodycam.config import load_settings
    from bodycam.coverage.engine import analyse
    from bodycam.timeutil import parse_time

    env = build(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)  # every kind of finding, long details
    app = App(load_settings(environ={**env, "BODYCAM_TZ": "Asia/Shanghai"}))
    zone = app.settings.zone
    with app.ready_db().read() as s:
        report = analyse(s, app.settings, parse_time("2026-11-20T00:00:00Z", zone),
                         parse_time("2026-11-21T00:00:00Z", zone))
    assert report.findings
    html = tmp_path / "report.html"
    html.write_text(render(report, "html", zone), encoding="utf-8")
    width = measure(chromium, html, tmp_path / "profile")
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={A4_WIDTH},3000",
                    f"--screenshot={shot}", html.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000  # a rendered page, kept in tmp_path for a person to look at
    assert width <= A4_WIDTH, f"the report is {width} px wide; an A4 page is {A4_WIDTH}"


def test_the_measure_catches_an_overflow(chromium: str, tmp_path: Path) -> None:
    """The check itself can fail: a page with a 2,000-pixel-wide table is caught."""
    wide = tmp_path / "wide.html"
    wide.write_text("<!doctype html><html><body><table><tr><td style='white-space:nowrap'>"
                    + "x" * 400 + "</td></tr></table></body></html>")
    assert measure(chromium, wide, tmp_path / "profile") > A4_WIDTH
