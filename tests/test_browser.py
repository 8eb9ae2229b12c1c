"""The explorer in a real browser: Voilà serves the notebook, headless Chromium drives it.

The test sets a kind, presses Query and waits until the grid table and the monthly
chart themselves show only that kind (never on a status text), then checks them
against the ledger file read directly. A laptop without Chromium, Voilà or Playwright
skips with the reason; CI (``CI=true``) fails instead, since `.ci/setup --test`
installs all three.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from vosbench.sources.demo import DemoScale, build_demo

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "explore_payments.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
STARTUP_SECONDS = 60
RENDER_MS = 120_000  # the kernel starts, runs the notebook and draws three charts
KIND = "bonus"
SCREENSHOT_HEIGHT = 3000


def _require_browser_tools() -> None:
    missing = [name for name in ("voila", "playwright") if importlib.util.find_spec(name) is None]
    if not CHROMIUM.exists():
        missing.append(f"chromium at {CHROMIUM}")
    if missing:
        reason = f"browser test needs {', '.join(missing)} (bash .ci/setup --test installs them)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_answering(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"voila exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"voila did not answer on {url} within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "ledger.sqlite"
    build_demo(f"sqlite:///{path}", DemoScale(resellers=1, agents=2, customers=40, months=4), progress=False)
    return path


@contextlib.contextmanager
def voila_server(notebook: Path, db_url: str, tmp_path: Path):
    """Voilà serving ``notebook`` on a free local port with ``db_url`` as the ledger; yields its URL."""
    _require_browser_tools()
    port = _free_port()
    log = tmp_path / "voila.log"
    env = {**os.environ, "VOSBENCH_DB": db_url, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with open(log, "w") as stream:
        server = subprocess.Popen(
            [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
             f"--port={port}"], env=env, stdout=stream, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_until_answering(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def voila_url(ledger, tmp_path):
    with voila_server(NOTEBOOK, f"sqlite:///{ledger}", tmp_path) as url:
        yield url


_GRID_KINDS = """() => {
    const table = document.querySelector('#T_payments');
    if (!table) return null;
    const heads = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
    const column = heads.indexOf('kind');
    return Array.from(table.querySelectorAll('tbody tr')).map(tr => tr.children[column].textContent.trim());
}"""
_CHART_TRACES = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    return plot && plot.data ? plot.data.map(t => ({name: t.name, axis: t.yaxis, y: t.y})) : null;
}"""


def test_choosing_a_kind_and_pressing_query_changes_the_grid_and_the_chart(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    # The panel opens on the demo's latest month: October 2026 in Asia/Dubai, as UTC bounds.
    october = ("2026-09-30 20:00:00", "2026-10-31 20:00:00")
    with sqlite3.connect(ledger) as connection:
        (kind_count,), = connection.execute("SELECT count(*) FROM payments WHERE kind = ? AND occurred_at >= ? "
                                            "AND occurred_at < ?", (KIND, *october)).fetchall()
        kinds_in_ledger = {row[0] for row in connection.execute(
            "SELECT DISTINCT kind FROM payments WHERE occurred_at >= ? AND occurred_at < ?", october)}
    assert 0 < kind_count < 50 and len(kinds_in_ledger) > 1  # the change is visible on one page

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(voila_url, timeout=RENDER_MS)
            page.wait_for_selector("#T_payments tbody tr", timeout=RENDER_MS)
            page.wait_for_function(f"({_CHART_TRACES})() !== null", timeout=RENDER_MS)
            before_grid = set(page.evaluate(_GRID_KINDS))
            before_chart = {trace["name"] for trace in page.evaluate(_CHART_TRACES)}
            assert len(before_grid) > 1 and before_chart == kinds_in_ledger

            kinds = page.locator(".widget-select-multiple", has_text="Kinds").locator("select")
            kinds.select_option(label=KIND)
            page.get_by_role("button", name="Query").click()

            page.wait_for_function(f"""() => {{
                const grid = ({_GRID_KINDS})(), chart = ({_CHART_TRACES})();
                return grid && grid.length > 0 && grid.every(k => k === '{KIND}')
                    && chart && chart.every(t => t.name === '{KIND}');
            }}""", timeout=RENDER_MS)
            assert len(page.evaluate(_GRID_KINDS)) == kind_count
            records = [trace for trace in page.evaluate(_CHART_TRACES) if trace["axis"] == "y2"]
            assert sum(sum(trace["y"]) for trace in records) == kind_count  # the count panel of the chart
            screenshot = tmp_path / "explorer.png"
            # Voilà scrolls inside its own container, so a tall window is what captures the whole panel
            page.set_viewport_size({"width": 1400, "height": SCREENSHOT_HEIGHT})
            page.wait_for_timeout(500)  # plotly redraws to the new width
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert screenshot.stat().st_size > 10_000
