"""The explorer in a real browser: Voilà serves the notebook, headless Chromium drives it.

The tests set a kind and press Query, click a grid header and a row of the canvas grid,
and wait on the widgets themselves (the grid's caption attributes, the chart's traces,
the statement's heading), then check them against the ledger file read directly. A laptop without Chromium, Voilà or Playwright
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
            pytest.fail(f"{server.args[2]} exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means the server is up
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{server.args[2]} did not answer on {url} within {STARTUP_SECONDS} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "ledger.sqlite"
    build_demo(f"sqlite:///{path}", DemoScale(resellers=1, agents=2, customers=40, months=4), progress=False)
    return path


@contextlib.contextmanager
def local_server(argv: list[str], env: dict, cwd: Path, log: Path, port: int):
    """Run ``argv`` (a Jupyter server on ``port``) until it answers; yield its URL; stop it afterwards."""
    with open(log, "w") as stream:
        server = subprocess.Popen(argv, env=env, stdout=stream, stderr=subprocess.STDOUT, cwd=cwd)
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


@contextlib.contextmanager
def voila_server(notebook: Path, db_url: str, tmp_path: Path):
    """Voilà serving ``notebook`` on a free local port with ``db_url`` as the ledger; yields its URL."""
    _require_browser_tools()
    port = _free_port()
    env = {**os.environ, "VOSBENCH_DB": db_url, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "XDG_STATE_HOME": str(tmp_path / "state")}  # each test's panel opens without another's memory
    argv = [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}"]
    with local_server(argv, env, tmp_path, tmp_path / "voila.log", port) as url:
        yield url


@pytest.fixture
def voila_url(ledger, tmp_path):
    with voila_server(NOTEBOOK, f"sqlite:///{ledger}", tmp_path) as url:
        yield url


_GRID_STATE = """() => {
    const caption = document.querySelector('#grid_caption');
    return caption ? {sort: caption.dataset.sort, descending: caption.dataset.descending === 'true',
                      count: Number(caption.dataset.count)} : null;
}"""
_CHART_TRACES = """() => {
    const plot = document.querySelector('.js-plotly-plot');
    return plot && plot.data ? plot.data.map(t => ({name: t.name, axis: t.yaxis, y: t.y})) : null;
}"""


def _october(ledger: Path, sql: str, *values):
    """Rows of ``sql`` over the demo's latest month, October 2026 in Asia/Dubai (bound as UTC)."""
    with sqlite3.connect(ledger) as connection:
        return connection.execute(sql, (*values, "2026-09-30 20:00:00", "2026-10-31 20:00:00")).fetchall()


def _open(playwright, voila_url):
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(voila_url, timeout=RENDER_MS)
    page.wait_for_function(f"({_GRID_STATE})() !== null", timeout=RENDER_MS)
    page.wait_for_function(f"({_CHART_TRACES})() !== null", timeout=RENDER_MS)
    return browser, page


def _screenshot(page, path: Path) -> None:
    # the panel has finished: Query is enabled again once every section is redrawn
    page.wait_for_function("() => { const b = Array.from(document.querySelectorAll('button'))"
                           ".find(b => b.textContent.trim() === 'Query'); return b && !b.disabled; }",
                           timeout=RENDER_MS)
    # Voilà scrolls inside its own container, so a tall window is what captures the whole panel
    page.set_viewport_size({"width": 1400, "height": SCREENSHOT_HEIGHT})
    page.wait_for_timeout(500)  # plotly redraws to the new width
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000


def test_choosing_a_kind_and_pressing_query_changes_the_grid_and_the_chart(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    (kind_count,), = _october(ledger, "SELECT count(*) FROM payments WHERE kind = ? AND occurred_at >= ? "
                                      "AND occurred_at < ?", KIND)
    kinds_in_ledger = {row[0] for row in _october(
        ledger, "SELECT DISTINCT kind FROM payments WHERE occurred_at >= ? AND occurred_at < ?")}
    (all_count,), = _october(ledger, "SELECT count(*) FROM payments WHERE occurred_at >= ? AND occurred_at < ?")
    assert 0 < kind_count < all_count and len(kinds_in_ledger) > 1

    with sync_playwright() as playwright:
        browser, page = _open(playwright, voila_url)
        try:
            assert page.evaluate(_GRID_STATE)["count"] == all_count
            assert {trace["name"] for trace in page.evaluate(_CHART_TRACES)} == kinds_in_ledger

            kinds = page.locator(".widget-select-multiple", has_text="Kinds").locator("select")
            kinds.select_option(label=KIND)
            page.get_by_role("button", name="Query").click()

            page.wait_for_function(f"""() => {{
                const grid = ({_GRID_STATE})(), chart = ({_CHART_TRACES})();
                return grid && grid.count === {kind_count} && chart && chart.every(t => t.name === '{KIND}');
            }}""", timeout=RENDER_MS)
            records = [trace for trace in page.evaluate(_CHART_TRACES) if trace["axis"] == "y2"]
            assert sum(sum(trace["y"]) for trace in records) == kind_count  # the count panel of the chart
            _screenshot(page, tmp_path / "explorer.png")
        finally:
            browser.close()


def test_a_header_click_sorts_by_the_ledger_and_a_row_click_opens_the_statement(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    from vosbench.ui.panel import grid

    # The largest amount of the month, ties to the newest record: what amount-descending puts first.
    (largest_account,), = _october(
        ledger, "SELECT a.account FROM payments p JOIN accounts a ON a.id = p.account_id "
                "WHERE occurred_at >= ? AND occurred_at < ? ORDER BY p.amount DESC, p.id DESC LIMIT 1")
    shown = [name for name in grid.WIDTHS if name not in grid.DEFAULT_HIDDEN]
    amount_left = grid.INDEX_WIDTH + sum(grid.WIDTHS[name] for name in shown[:shown.index("amount")])
    with sync_playwright() as playwright:
        browser, page = _open(playwright, voila_url)
        try:
            canvas = page.locator(".lm-DataGrid, .p-DataGrid").first
            canvas.scroll_into_view_if_needed()
            assert page.evaluate(_GRID_STATE)["sort"] == "occurred_at"
            # the header's left part: its right end holds the grid's own menu button
            canvas.click(position={"x": amount_left + 20, "y": grid.HEADER_HEIGHT // 2})
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                return g && g.sort === 'amount' && g.descending; }}""", timeout=RENDER_MS)
            canvas.click(position={"x": amount_left + 20, "y": grid.HEADER_HEIGHT // 2})
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                return g && g.sort === 'amount' && !g.descending; }}""", timeout=RENDER_MS)
            canvas.click(position={"x": amount_left + 20, "y": grid.HEADER_HEIGHT // 2})
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                return g && g.sort === 'amount' && g.descending; }}""", timeout=RENDER_MS)

            canvas.click(position={"x": grid.INDEX_WIDTH + 40, "y": grid.HEADER_HEIGHT + grid.ROW_HEIGHT // 2})
            heading = page.locator("h4", has_text="Statement of")
            heading.wait_for(timeout=RENDER_MS)
            assert heading.inner_text().startswith(f"Statement of {largest_account} ")
            page.screenshot(path=str(tmp_path / "grid-sorted.png"))
            _screenshot(page, tmp_path / "grid-statement.png")
        finally:
            browser.close()


_TREND_BAR = """(name) => {
    const plot = Array.from(document.querySelectorAll('.js-plotly-plot'))
        .find(p => p.data && p.data.some(t => t.name === 'Previous period'));
    if (!plot) return null;
    const bars = plot.data.filter(t => t.type === 'bar');
    const index = bars.findIndex(t => t.name === name);
    const path = index < 0 ? null : plot.querySelectorAll('.barlayer .trace.bars')[index].querySelector('.point path');
    if (!path) return null;
    path.scrollIntoView({block: 'center'});
    const box = path.getBoundingClientRect();
    return {x: box.x + box.width / 2, y: box.y + box.height / 2};
}"""


def test_clicking_a_trend_bar_narrows_the_grid(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    (deposits,), = _october(ledger, "SELECT count(*) FROM payments WHERE kind = 'deposit' "
                                    "AND occurred_at >= ? AND occurred_at < ?")
    (all_count,), = _october(ledger, "SELECT count(*) FROM payments WHERE occurred_at >= ? AND occurred_at < ?")
    assert 0 < deposits < all_count
    with sync_playwright() as playwright:
        browser, page = _open(playwright, voila_url)
        try:
            page.wait_for_function(f"({_TREND_BAR})('deposit') !== null", timeout=RENDER_MS)
            page.wait_for_timeout(300)  # the scroll settles before the bar's place is read
            spot = page.evaluate(_TREND_BAR, "deposit")
            page.mouse.click(spot["x"], spot["y"])
            # the grid, and the trend itself, redrawn for the narrowed filter: deposits alone
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                const plot = Array.from(document.querySelectorAll('.js-plotly-plot'))
                    .find(p => p.data && p.data.some(t => t.name === 'Previous period'));
                return g && g.count === {deposits} && plot
                    && plot.data.filter(t => t.type === 'bar').every(t => t.name === 'deposit'); }}""",
                                   timeout=RENDER_MS)
            chosen = page.locator(".widget-select-multiple", has_text="Kinds").locator("select")
            assert chosen.evaluate("s => Array.from(s.selectedOptions).map(o => o.label)") == ["deposit"]
            _screenshot(page, tmp_path / "trend-click.png")
        finally:
            browser.close()


def test_a_view_in_the_url_opens_the_panel_on_it_and_enter_runs_the_query(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    from vosbench.analysis import saved_views
    from vosbench.analysis.filters import PaymentFilter

    view = saved_views.SavedView("october-deposits", PaymentFilter.from_parameters(
        {"start": "2026-10-01", "end": "2026-10-31", "kinds": "deposit"}),
        saved_views.Layout(sort="amount", descending=False, grain="week", by="channel"))
    (deposits,), = _october(ledger, "SELECT count(*) FROM payments WHERE kind = 'deposit' "
                                    "AND occurred_at >= ? AND occurred_at < ?")
    (reference, matching), = _october(
        ledger, "SELECT reference, (SELECT count(*) FROM payments q WHERE q.kind = 'deposit' AND q.occurred_at >= ?1 "
                "AND q.occurred_at < ?2 AND (q.reference LIKE '%' || p.reference || '%' OR q.memo LIKE '%' || "
                "p.reference || '%')) FROM payments p WHERE kind = 'deposit' AND occurred_at >= ?1 "
                "AND occurred_at < ?2 ORDER BY id LIMIT 1")
    assert 0 < matching < deposits
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{voila_url}?{saved_views.query_string(view)}", timeout=RENDER_MS)
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                return g && g.count === {deposits} && g.sort === 'amount' && !g.descending; }}""",
                                   timeout=RENDER_MS)
            search = page.locator(".widget-text", has_text="Reference or memo contains").locator("input")
            search.fill(reference)
            search.press("Enter")
            page.wait_for_function(f"""() => {{ const g = ({_GRID_STATE})();
                return g && g.count === {matching}; }}""", timeout=RENDER_MS)
            _screenshot(page, tmp_path / "view-from-url.png")
        finally:
            browser.close()


def test_a_link_one_character_wrong_still_opens_the_panel_and_says_what_to_fix(voila_url, ledger, tmp_path):
    from playwright.sync_api import sync_playwright

    (october,), = _october(ledger, "SELECT count(*) FROM payments WHERE occurred_at >= ? AND occurred_at < ?")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{voila_url}?start=2026-02-30&end=2026-03-31&kinds=deposit,teleport", timeout=RENDER_MS)
            # the panel opens on its usual filter (the latest month), and says why above the results
            page.wait_for_function(f"() => {{ const g = ({_GRID_STATE})(); return g && g.count === {october}; }}",
                                   timeout=RENDER_MS)
            notice = page.locator(".vosbench-error")
            assert "could not be opened" in notice.inner_text() and "'2026-02-30' is not a day" in notice.inner_text()
            assert "Traceback" not in page.content() and "There was an error" not in page.content()
            _screenshot(page, tmp_path / "wrong-link.png")
        finally:
            browser.close()


def test_a_ledger_that_cannot_be_opened_is_said_in_the_page_not_as_a_failed_cell(tmp_path):
    """Voilà shows a cell that raised as "There was an error when executing cell" and nothing more."""
    from playwright.sync_api import sync_playwright

    not_a_ledger = tmp_path / "notes.sqlite"
    not_a_ledger.write_bytes(b"minutes of the meeting, not a ledger\n" * 200)
    with voila_server(NOTEBOOK, f"sqlite:///{not_a_ledger}", tmp_path) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 800})
            page.goto(url, timeout=RENDER_MS)
            said = page.locator(".vosbench-error")
            said.wait_for(timeout=RENDER_MS)
            assert said.inner_text().startswith("The payment explorer cannot be opened: the ledger's database refused: "
                                                "file is not a database; check the ledger URL")
            assert page.get_by_text("There was an error when executing cell").count() == 0
            page.screenshot(path=str(tmp_path / "unopened.png"))
        finally:
            browser.close()
