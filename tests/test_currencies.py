"""Per currency everywhere: on a three-currency demo no total, chart or export adds two currencies."""

import io
from decimal import Decimal

import pandas as pd
import pytest

from vosbench.analysis import reconcile
from vosbench.ledger import setup
from vosbench.outputs import audit, customer_statement, views
from vosbench.outputs.accounting import writer
from vosbench.sources import demo
from vosbench.sources.demo.scale import parse_currencies

CURRENCIES = ("USD", "EUR", "AED")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('three') / 'ledger.sqlite'}"
    demo.build_demo(url, demo.DemoScale(customers=60, months=4, currencies=parse_currencies("usd, EUR,AED")),
                    progress=False)
    engine = setup.open_ledger(url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def monthly(engine):
    return audit.MonthlyAudit.compute(engine, "2026-10")


def test_each_reseller_subtree_holds_one_currency(engine):
    accounts = pd.read_sql("SELECT a.account, a.currency, p.currency AS parent_currency FROM accounts a "
                           "LEFT JOIN accounts p ON p.id = a.parent_id", engine)
    assert set(accounts["currency"]) == set(CURRENCIES)
    children = accounts[accounts["parent_currency"].notna()]
    assert (children["currency"] == children["parent_currency"]).all()


def test_demo_refuses_currencies_it_cannot_build():
    with pytest.raises(ValueError, match="start with USD"):
        demo.DemoScale(currencies=("EUR", "USD")).validate()
    with pytest.raises(ValueError, match="distinct ISO 4217 codes"):
        demo.DemoScale(currencies=("USD", "EURO")).validate()


def test_reconcile_totals_one_row_per_currency(engine):
    result = reconcile.reconcile(engine, "2026-10")
    totals = result.totals()
    assert sorted(totals) == sorted(CURRENCIES)
    for currency, row in totals.items():
        mine = result.accounts[result.accounts["currency"] == currency]
        assert row["expected_closing"] == int(mine["expected_closing"].sum())
    out = io.StringIO()
    shown = result.accounts[["account", "currency", "opening", "expected_closing"]]
    views.print_frame(shown, reconcile.MONEY_COLUMNS, totals=result.totals(), stream=out)
    last = out.getvalue().splitlines()[-3:]
    assert [line.split()[:2] for line in last] == [["TOTAL", "AED"], ["TOTAL", "EUR"], ["TOTAL", "USD"]]
    assert "TOTAL " not in out.getvalue().replace("TOTAL AED", "").replace("TOTAL EUR", "").replace("TOTAL USD", "")


def test_differences_only_totals_what_it_lists(engine):
    result = reconcile.reconcile(engine, "2026-10")
    listed = result.differences()
    totals = result.totals(listed)
    assert sum(len(listed[listed["currency"] == c]) for c in totals) == len(listed)
    for currency, row in totals.items():
        assert row["opening"] == int(listed.loc[listed["currency"] == currency, "opening"].sum())


def test_audit_headline_money_is_per_currency(monthly, engine):
    headline = monthly.headline()
    money_in = headline[headline["figure"] == "Money in (records with a positive amount)"].set_index("currency")
    assert sorted(money_in.index) == sorted(CURRENCIES)
    moved = pd.read_sql("SELECT a.currency, SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS money_in "
                        "FROM payments p JOIN accounts a ON a.id = p.account_id "
                        "WHERE p.occurred_at >= :start AND p.occurred_at < :end GROUP BY a.currency", engine,
                        params={"start": monthly.period.start, "end": monthly.period.end}).set_index("currency")
    for currency in CURRENCIES:
        assert money_in.loc[currency, "amount"] == int(moved.loc[currency, "money_in"])
    assert headline.loc[headline["amount"].notna(), "currency"].isin(CURRENCIES).all()
    assert list(monthly.tables()["Reconciliation"].totals) == sorted(CURRENCIES)


def test_audit_charts_give_each_currency_its_own_axis(monthly):
    figure = monthly.figure("movements-by-kind")
    titles = [annotation.text for annotation in figure.layout.annotations]
    assert titles == sorted(CURRENCIES)
    axes = {trace.yaxis for trace in figure.data}
    assert len(axes) == 3
    for axis, currency in zip(sorted(axes), sorted(CURRENCIES)):
        assert figure.layout["yaxis" + axis[1:]].title.text == f"Amount ({currency})"
        totals = sum(Decimal(str(y)) for trace in figure.data if trace.yaxis == axis and trace.name == "Money in"
                     for y in trace.y)
        by_kind = audit.movements_by(monthly.movements, "kind", currency)
        assert totals == Decimal(int(by_kind["money_in"].sum())) / 10_000
    assert sum(1 for trace in figure.data if trace.showlegend) == 2  # money in, money out: once each
    trend = monthly.figure("trend")
    assert len({trace.yaxis for trace in trend.data}) == 6  # flows and balances, per currency


def test_accounting_journal_balances_in_each_currency_of_the_demo(engine, tmp_path):
    result = writer.export_accounting(engine, "2026-10", "xero", out_dir=tmp_path)
    assert sorted(result.totals) == sorted(CURRENCIES)
    assert all(debits == credits for _, debits, credits in result.totals.values())
    names = [path.name for path in result.files]
    for currency in CURRENCIES:
        assert any(name.startswith(f"xero-journal-2026-10-{currency}") for name in names)
        assert any(name.startswith(f"xero-bank-2026-10-{currency}-") for name in names)
    lines = pd.read_csv(tmp_path / "journal-2026-10.csv", dtype=str)
    assert lines.groupby("entry")["currency"].nunique().max() == 1


def test_a_statement_is_in_its_accounts_currency(engine):
    account = pd.read_sql("SELECT account FROM accounts WHERE currency = 'AED' AND kind = 'customer' "
                          "ORDER BY account LIMIT 1", engine)["account"].iloc[0]
    from datetime import date

    document = customer_statement.build(engine, account, date(2026, 10, 1), date(2026, 10, 31))
    assert document.currency == "AED"
    assert "AED" in customer_statement.html(document)


@pytest.mark.parametrize("narrowing", [{}, {"min_amount": 1}, {"text": "a"}], ids=["kept months", "amount range", "text"])
def test_query_totals_are_per_kind_and_currency(engine, narrowing):
    from datetime import date

    from vosbench.analysis import explore
    from vosbench.analysis.filters import PaymentFilter

    f = PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31), **narrowing)
    totals = explore.totals_by_kind(engine, f)
    rows = explore.query_all(engine, f)
    expected = rows.groupby(["kind", "currency"])["amount"].agg(["count", "sum"])
    got = totals.set_index(["kind", "currency"])
    assert set(got.index) == set(expected.index) and set(totals["currency"]) <= set(CURRENCIES)
    for key, row in expected.iterrows():
        assert (int(got.loc[key, "count"]), int(got.loc[key, "amount"])) == (int(row["count"]), int(row["sum"]))
    per_currency = explore.totals_per_currency(totals)
    for currency, row in per_currency.items():
        assert row["amount"] == int(rows.loc[rows["currency"] == currency, "amount"].sum())


def test_query_export_totals_one_row_per_currency(engine, tmp_path):
    from datetime import date

    import openpyxl

    from vosbench.analysis.filters import PaymentFilter
    from vosbench.outputs import query_export

    path = query_export.export_result(engine, PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31)),
                                      tmp_path / "october.xlsx")
    sheet = openpyxl.load_workbook(path)["Totals by kind"]
    labels = [row[0] for row in sheet.iter_rows(values_only=True) if row[0] and str(row[0]).startswith("Total ")]
    assert sorted(labels) == sorted(f"Total {currency}" for currency in CURRENCIES)
