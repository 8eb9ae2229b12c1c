"""The explorer in JupyterLab itself: the notebook opened in Lab, run by its menu, driven by a click.

Voilà is how the panel is served to analysts who only want the panel; analysts who also
write their own cells open the same notebook in JupyterLab, where the widgets are drawn by
Lab's own extensions (ipywidgets, ipydatagrid, plotly). This test starts a real JupyterLab
server on the demo ledger, opens ``explore_payments.ipynb`` in headless Chromium, runs all
cells from the Run menu, waits for the grid, chooses a kind, presses Query and checks the
grid's count against the ledger file read directly.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
from pathlib import Path

from test_browser import (
    _GRID_STATE,
    CHROMIUM,
    CHROMIUM_ARGS,
    KIND,
    NOTEBOOK,
    RENDER_MS,
    _free_port,
    _october,
    _require_browser_tools,
    ledger,  # noqa: F401  (the demo ledger fixture)
    local_server,
)

_KERNEL_IDLE = "() => document.querySelector('.jp-StatusBar-Widget')?.closest('#jp-main-statusbar')" \
               "?.innerText.includes('| Idle') ?? false"


@contextlib.contextmanager
def lab_server(folder: Path, db_url: str, tmp_path: Path):
    """JupyterLab serving ``folder`` on a free local port with ``db_url`` as the ledger; yields (URL, token)."""
    _require_browser_tools()
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "VOSBENCH_DB": db_url, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "ws"),
           "XDG_STATE_HOME": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--LabApp.news_url=",
            *(["--allow-root"] if os.geteuid() == 0 else [])]  # CI containers run as root
    with local_server(argv, env, folder, tmp_path / "lab.log", port) as url:
        yield url, token


def test_the_explorer_runs_in_jupyterlab_and_its_query_reaches_the_grid(ledger, tmp_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(NOTEBOOK, folder / NOTEBOOK.name)
    with lab_server(folder, f"sqlite:///{ledger}", tmp_path) as (url, token), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"{url}lab/tree/{NOTEBOOK.name}?token={token}", timeout=RENDER_MS)
            page.wait_for_selector(".jp-Notebook", timeout=RENDER_MS)
            page.wait_for_function(_KERNEL_IDLE, timeout=RENDER_MS)  # Run All before the kernel is up is lost
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            page.wait_for_function(f"({_GRID_STATE})() !== null", timeout=RENDER_MS)
            page.wait_for_function(_KERNEL_IDLE, timeout=RENDER_MS)
            everything = page.evaluate(_GRID_STATE)
            (latest_month,) = _october(ledger, "SELECT COUNT(*) FROM payments WHERE occurred_at >= ? AND occurred_at < ?")
            assert everything["count"] == latest_month[0] > 0  # the panel opens on the latest month

            page.locator(".widget-select-multiple", has_text="Kinds").locator("select").select_option(label=KIND)
            page.get_by_role("button", name="Query").click()
            page.wait_for_function(f"({_GRID_STATE})().count !== {everything['count']}", timeout=RENDER_MS)
            (bonuses,) = _october(ledger, "SELECT COUNT(*) FROM payments WHERE kind = ? AND occurred_at >= ? "
                                          "AND occurred_at < ?", KIND)
            assert page.evaluate(_GRID_STATE)["count"] == bonuses[0]
            assert page.locator(".p-DataGrid canvas, .lm-DataGrid canvas").count() > 0  # ipydatagrid drew in Lab
            news = page.get_by_role("button", name="No", exact=True)  # Lab's "notified about news?" toast
            if news.count():
                news.click()
            page.locator("#grid_caption").scroll_into_view_if_needed()
            shot = tmp_path / "jupyterlab-explorer.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 10_000
            if os.environ.get("VOSBENCH_SCREENSHOTS"):  # a folder to keep the screenshot in, for a person to look at
                shutil.copy(shot, Path(os.environ["VOSBENCH_SCREENSHOTS"]) / shot.name)
        finally:
            browser.close()
