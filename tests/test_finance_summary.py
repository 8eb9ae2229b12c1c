"""The finance summary pack: per-currency sections, the figures behind every chart, PDF/HTML/xlsx/PNG/SVG."""

import os
import re
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest

from vosbench.commands import main, options
from vosbench.ledger import setup
from vosbench.outputs import finance
from vosbench.sources import demo

CURRENCIES = ("AED", "EUR", "USD")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('pack') / 'ledger.sqlite'}"
    demo.build_demo(url, demo.DemoScale(customers=60, months=4, currencies=("USD", "EUR", "AED")), progress=False)
    return url


@pytest.fixture(scope="module")
def summary(url):
    engine = setup.open_ledger(url)
    yield finance.FinanceSummary.compute(engine, "2026-10")
    engine.dispose()


def _tool(name):
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (bash .ci/setup --test installs it)")
        pytest.skip(f"{name} is not installed")
    return found


def test_headline_is_per_currency_and_agrees_with_the_sections(summary):
    headline = summary.headline()
    cash_in = headline[headline["figure"] == "Cash in (deposits, auto-recharges)"].set_index("currency")["amount"]
    assert sorted(cash_in.index) == list(CURRENCIES)
    for currency in CURRENCIES:
        by_kind = summary.tables()["Cash by kind"].frame
        mine = by_kind[(by_kind["currency"] == currency) & by_kind["kind"].isin(finance.CASH_KINDS)]
        assert cash_in[currency] == int(mine["money_in"].sum())
        closing = headline[(headline["figure"] == "Balances held at the end of the month")
                           & (headline["currency"] == currency)]["amount"].item()
        kinds = summary.balances_by_kind()
        assert closing == int(kinds.loc[kinds["currency"] == currency, "closing"].sum())
    assert headline.iloc[-1]["figure"] == "Open control findings" and headline.iloc[-1]["count"] >= 0


def test_thirteen_months_of_deposits_and_charges_per_currency(summary):
    trend = summary.tables()["Deposits and charges"].frame
    assert trend.groupby("currency").size().to_dict() == {currency: 13 for currency in CURRENCIES}
    assert trend["month"].iloc[12] == "2026-10" and trend["month"].iloc[0] == "2025-10"


def test_a_subtree_keeps_to_its_accounts(url):
    engine = setup.open_ledger(url)
    scoped = finance.FinanceSummary.compute(engine, "2026-10", subtrees=("R0002",))
    engine.dispose()
    assert scoped.currencies == ("EUR",)  # the second reseller's subtree holds the second currency
    assert set(scoped.accounts["currency"]) == {"EUR"} and scoped.scope == "subtrees R0002"


def test_the_pack_has_every_file_and_the_figures_behind_every_chart(url, tmp_path, capsys):
    code = main.main(["summary", "--db", url, "--month", "2026-10", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr().out
    assert code == options.EXIT_OK and "finance-summary-2026-10.pdf" in out
    for name in [*finance.output_names("2026-10"), "finance_summary.html", "finance_summary.ipynb"]:
        assert (tmp_path / name).stat().st_size > 0, name
    assert (tmp_path / "cash-by-kind.svg").read_text().lstrip().startswith("<svg")
    html = (tmp_path / "finance_summary.html").read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]*\ssrc="https?://', html) and "plotly" in html  # self-contained
    book = openpyxl.load_workbook(tmp_path / "finance-summary-2026-10.xlsx")
    assert {table for table, _ in finance.FIGURES.values()} <= set(book.sheetnames)
    rows = list(book["Cash by kind"].iter_rows(values_only=True))
    header = rows[0]
    usd_in = sum(Decimal(str(row[header.index("money_in")])) for row in rows[1:]
                 if row[0] == "USD")
    engine = setup.open_ledger(url)
    figure = finance.FinanceSummary.compute(engine, "2026-10").figure("cash-by-kind")
    engine.dispose()
    usd_axis = sorted({trace.yaxis for trace in figure.data})[CURRENCIES.index("USD")]
    plotted = sum(Decimal(str(y)) for trace in figure.data if trace.yaxis == usd_axis and trace.name == "Money in"
                  for y in trace.y)
    assert plotted == usd_in


def test_the_pdf_is_a4_with_page_numbers_month_and_fingerprint(summary, tmp_path):
    pdftotext, pdfinfo = _tool("pdftotext"), _tool("pdfinfo")
    summary.write_outputs(tmp_path)
    path = tmp_path / "finance-summary-2026-10.pdf"
    info = subprocess.run([pdfinfo, str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert "(A4)" in info and pages >= 8
    text = " ".join(subprocess.run([pdftotext, str(path), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert text.count(f"Finance summary 2026-10 · every account · ledger {summary.fingerprint}") == pages
    for expected in ("Deposits and charges (revenue), 13 months", "Agent and reseller commissions", "Total EUR"):
        assert expected in text


def test_a_month_without_records_says_so_and_exits_no_data(url, tmp_path, capsys):
    code = main.main(["summary", "--db", url, "--month", "2099-01", "--out", str(tmp_path), "--quiet"])
    assert code == options.EXIT_NO_DATA
    assert "nothing to report" in capsys.readouterr().out
    assert "nothing to report" in (tmp_path / "finance_summary.html").read_text(encoding="utf-8")
