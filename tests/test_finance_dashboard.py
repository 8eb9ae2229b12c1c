"""The finance dashboard: widgets that follow month, subtree and currency; the same page in a real browser."""

from pathlib import Path

import pytest
from test_browser import CHROMIUM, CHROMIUM_ARGS, RENDER_MS, voila_server

from vosbench.outputs.finance import FIGURES
from vosbench.sources import demo
from vosbench.ui.finance_dashboard import FinanceDashboard

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "finance_dashboard.ipynb"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'ledger.sqlite'}"
    demo.build_demo(url, demo.DemoScale(customers=40, months=3, currencies=("USD", "EUR", "AED")), progress=False)
    return url


def _axis_titles(output) -> set[str]:
    layout = output.outputs[0]["data"]["application/vnd.plotly.v1+json"]["layout"]
    return {value["title"]["text"] for key, value in layout.items()
            if key.startswith(("xaxis", "yaxis")) and value.get("title", {}).get("text", "").startswith("Amount")}


def test_the_charts_follow_the_currency_and_the_subtree(url, tmp_path):
    dashboard = FinanceDashboard.open(db_url=url, export_dir=str(tmp_path))
    assert dashboard.month.value == "2026-10" and list(dashboard.currency.options) == ["AED", "EUR", "USD"]
    assert _axis_titles(dashboard.charts["cash-by-kind"]) == {"Amount (AED)"}
    dashboard.currency.value = "EUR"
    assert all(_axis_titles(output) == {"Amount (EUR)"} for output in dashboard.charts.values())
    assert "EUR" in dashboard.headline.value and "USD" not in dashboard.headline.value
    dashboard.subtrees.value = "R0001"
    dashboard.show_button.click()
    assert list(dashboard.currency.options) == ["USD"] and dashboard.currency.value == "USD"
    dashboard.subtrees.value = "NOPE"
    dashboard.show_button.click()
    assert "&#x27;NOPE&#x27; is not in the ledger" in dashboard.status.value  # escaped in the page


def test_the_buttons_write_the_pack_and_the_export(url, tmp_path):
    dashboard = FinanceDashboard.open(db_url=url, export_dir=str(tmp_path))
    written = dashboard.write_pack()
    assert {path.suffix for path in written} >= {".pdf", ".xlsx", ".png", ".svg"}
    assert ".pdf" in dashboard.links.value and "download" in dashboard.links.value
    dashboard.target.value = "xero"
    files = dashboard.write_export()
    assert any(path.name.startswith("xero-journal-2026-10-EUR") for path in files)


def test_in_a_browser_choosing_a_currency_redraws_the_charts(url, tmp_path):
    from playwright.sync_api import sync_playwright

    axis_title = """() => {
        const plot = document.querySelector('.js-plotly-plot');
        return plot && plot.layout ? plot.layout.yaxis.title.text : null;
    }"""
    with voila_server(NOTEBOOK, url, tmp_path) as page_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(page_url, timeout=RENDER_MS)
            page.wait_for_function(f"({axis_title})() === 'Amount (AED)'", timeout=RENDER_MS)
            page.locator(".widget-dropdown", has_text="Currency").locator("select").select_option(label="EUR")
            every_chart_in_euros = f"""() => {{
                const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
                return plots.length === {len(FIGURES)} && plots.every(plot => plot.layout &&
                    JSON.stringify([plot.layout.xaxis.title, plot.layout.yaxis.title]).includes('(EUR)'));
            }}"""
            page.wait_for_function(every_chart_in_euros, timeout=RENDER_MS)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=False)
        finally:
            browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 20_000


@pytest.mark.parametrize("port", ["-1", "99999999", "http", "８０８０"])
def test_a_port_that_is_none_is_refused_before_any_url_is_announced(capsys, port):
    from vosbench.commands import main

    with pytest.raises(SystemExit) as refused:  # argparse's own refusal: usage and one line, exit 2
        main.main(["dashboard", "--port", port])
    out, err = capsys.readouterr()
    assert refused.value.code == 2 and "is no port; give a number from 1 to 65535" in err and "http://" not in out


def test_the_dashboard_server_comes_with_the_runtime_install():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert any(needed.startswith("voila") for needed in project["dependencies"])  # README command 1 installs it
