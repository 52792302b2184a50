"""The report and each audience's e-mail as people see them: headless Chromium (Debian's `chromium`, installed
by `make browser`) at desktop (1280 px) and phone (400 px) width. Nothing may reach outside the window or be
cut off, every chart must be drawn, and each e-mail's HTML must stay under 100 KB (Gmail clips larger ones).

These checks never skip: without Chromium they fail and name the command that installs it.
"""

from __future__ import annotations

import email
import os
import shutil
from datetime import date
from email.policy import default
from pathlib import Path

import pytest
import yaml

from dsa_report.outputs.report import EMAIL_HTML_LIMIT
from dsa_report.tools.commands import main
from dsa_report.tools.demo import Browser, chromium, render_eml
from dsa_report.tools.synthetic import generate

WIDTHS = (1280, 400)
AUDIENCES = ("board", "compliance", "trust_and_safety")
CHARTS = {"report": 3, "board": 1, "compliance": 2, "trust_and_safety": 2}  # at least, without a previous period


def _need_chromium() -> None:
    if chromium() is None:
        where = " (CI=true: the browser checks must run in CI)" if os.environ.get("CI") == "true" else ""
        pytest.fail(f"chromium is not installed{where}: run `make browser` "
                    "(apt-get update && apt-get install -y chromium)", pytrace=False)


@pytest.fixture(scope="module")
def run_out(tmp_path_factory) -> Path:
    """One CLI run on a small synthetic marketplace, with the three audiences."""
    _need_chromium()
    root = tmp_path_factory.mktemp("browser")
    generate(root / "data", scale=2000, seed=5, period_start=date(2025, 7, 1), period_end=date(2025, 7, 31))
    config = {"platform": "ExampleMarket", "tier": "VLOP", "marketplace": True, "source": str(root / "data"),
              "turnover_eur": 12_000_000_000, "sender": "dsa-reports@example.com",
              "audiences": [{"name": a, "recipients": [f"{a.replace('_', '-')}@example.com"]} for a in AUDIENCES]}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    out = root / "out"
    assert main(["run", "--config", str(root / "config.yaml"), "--period", "2025-07", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pages(run_out) -> dict[str, Path]:
    found = {"report": run_out / "report.html"}
    for audience in AUDIENCES:
        found[audience] = render_eml(run_out / "emails" / f"{audience}.eml", run_out / "pages" / audience)
    return found


@pytest.fixture(scope="module")
def browser():
    _need_chromium()
    with Browser() as open_browser:
        yield open_browser


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["report", *AUDIENCES])
def test_nothing_overflows_or_is_cut_off_and_every_chart_is_drawn(browser, pages, run_out, name, width):
    shot = run_out / "screenshots" / f"{name}-{width}.png"
    shot.parent.mkdir(exist_ok=True)
    facts = browser.screenshot(pages[name], shot, width)
    assert facts["innerWidth"] == width  # the viewport is the phone's, not widened by the content
    assert facts["scrollWidth"] <= width, facts
    assert facts["outside"] == [], facts
    assert facts["charts"] >= CHARTS[name] and facts["chartsShown"] == facts["charts"], facts
    assert shot.read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("audience", AUDIENCES)
def test_each_email_html_is_under_100_kb_with_a_viewport_and_png_charts(run_out, audience):
    message = email.message_from_bytes((run_out / "emails" / f"{audience}.eml").read_bytes(), policy=default)
    html = message.get_body(preferencelist=("html",))
    body = html.get_content()
    assert len(body.encode()) <= EMAIL_HTML_LIMIT
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    related = [p for p in message.walk() if p.get_content_type() == "multipart/related"]
    assert related, "the charts travel as inline images next to the HTML"
    images = [p for p in related[0].iter_parts() if p.get_content_type() == "image/png"]
    assert images and all(f'cid:{p["Content-ID"].strip("<>")}' in body for p in images)
    assert "<svg" not in body and "<script" not in body  # mail clients show neither


def test_the_browser_is_debians_not_a_downloaded_one():
    _need_chromium()
    assert Path(shutil.which("chromium") or shutil.which("chromium-browser")).is_relative_to("/usr")
