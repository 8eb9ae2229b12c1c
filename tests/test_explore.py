"""Finding payment records: pages, totals of the whole filter, chart aggregates — all in SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest
import sqlalchemy as sa

from vosbench.analysis import explore, saved_views
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.core.money import UNIT
from vosbench.ledger import setup, tables
from vosbench.sources import csv_import

U = 10_000  # minor units per currency unit
OCTOBER = dict(start=date(2026, 10, 1), end=date(2026, 10, 31))

# R1 ─ A1 ─ C1, C2 ; R1 ─ C3 ; C4 on its own.  Names are not unique (C1, C2).
ACCOUNTS = """
    account,name,kind,parent
    R1,North Reseller,reseller,
    A1,Agent Alpha,agent,R1
    C1,Acme Trading,customer,A1
    C2,Acme Trading,customer,A1
    C3,Beta Calls,customer,R1
    C4,Gamma Ltd,customer,
"""
# Times in Dubai (UTC+4). p1 is Sep 30 local; p2 is Oct 1 local but Sep 30 in UTC; p8 is Nov 1
# local but Oct 31 in UTC. p3 and p4 share an instant. p1's memo holds "100" and p4's "9A%", so
# an unescaped % or _ in a search would wrongly find them.
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
    p1,C1,deposit,100.00,2026-09-30T23:30:00+04:00,ops,admin,cash,,top-up 1000 units,,100.00
    p2,C1,deposit,50.00,2026-10-01T00:30:00+04:00,alice,admin,bank_wire,WIRE-100%,first wire,,150.00
    p3,C2,withdrawal,-20.00,2026-10-01T12:00:00+04:00,bob,admin,cash,PAYOUT_1,,,
    p4,C3,bonus,5.00,2026-10-01T12:00:00+04:00,ops,automatic,other,,bonus 9A%off,,5.00
    p5,A1,commission,30.00,2026-10-02T09:00:00+04:00,system,automatic,other,COMM-09,,,30.00
    p6,C4,adjustment,-7.50,2026-10-15T10:00:00+04:00,alice,admin,other,,=SUM(A1:A9),fee correction,
    p7,C1,auto_recharge,25.00,2026-10-31T23:59:00+04:00,system,automatic,card,,,,175.00
    p8,C2,deposit,200.00,2026-11-01T00:00:00+04:00,ops,web,gateway,ch_1,,,
    p9,R1,deposit,1000.00,2026-10-20T08:00:00+04:00,alice,admin,bank_wire,FT-9_%,,,1000.00
"""


@pytest.fixture
def ledger(inline_ledger):
    """The ledger and a map from each record's id to its source_key, for readable assertions."""
    engine = inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS)
    with engine.connect() as connection:
        keys = dict(connection.execute(sa.select(tables.payments.c.id, tables.payments.c.source_key)).all())
    return engine, keys


def found(ledger, **filters) -> list[str]:
    """The source keys the filter selects, in the default order (newest first)."""
    engine, keys = ledger
    return [keys[i] for i in explore.query_all(engine, PaymentFilter(**filters))["id"]]


def test_days_are_cut_in_the_ledger_zone_or_the_filters(ledger):
    assert sorted(found(ledger, **OCTOBER)) == ["p2", "p3", "p4", "p5", "p6", "p7", "p9"]
    # in UTC, p2 (Sep 30 20:30 UTC) falls out and p8 (Oct 31 20:00 UTC) comes in
    assert sorted(found(ledger, **OCTOBER, timezone="UTC")) == ["p3", "p4", "p5", "p6", "p7", "p8", "p9"]
    assert sorted(found(ledger, start=date(2026, 10, 1), end=date(2026, 10, 1))) == ["p2", "p3", "p4"]
    assert found(ledger, end=date(2026, 9, 30)) == ["p1"]


def test_times_are_shown_in_the_reporting_zone(ledger):
    engine, _ = ledger
    dubai = explore.query_page(engine, PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 1)), sort="id",
                               descending=False)
    assert dubai.timezone == "Asia/Dubai"
    assert dubai.rows["occurred_at"].iloc[0] == pd.Timestamp("2026-10-01 00:30:00")
    utc = explore.query_page(engine, PaymentFilter(end=date(2026, 9, 30), timezone="UTC"), sort="id",
                             descending=False)
    assert utc.timezone == "UTC" and utc.rows["occurred_at"].tolist() == [
        pd.Timestamp("2026-09-30 19:30:00"), pd.Timestamp("2026-09-30 20:30:00")]


def test_count_and_totals_cover_the_whole_filter_not_the_page(ledger):
    engine, keys = ledger
    page = explore.query_page(engine, PaymentFilter(**OCTOBER), page=2, page_size=2)
    assert (page.total_count, page.pages, page.page, len(page.rows)) == (7, 4, 2, 2)
    # deposits p2 50.00 + p9 1000.00; one of each other kind; kinds in the vocabulary's order
    assert page.totals_by_kind.values.tolist() == [
        ["deposit", "USD", 2, 1050 * U], ["withdrawal", "USD", 1, -20 * U], ["adjustment", "USD", 1, -75_000],
        ["bonus", "USD", 1, 5 * U], ["commission", "USD", 1, 30 * U], ["auto_recharge", "USD", 1, 25 * U]]
    assert page.totals_by_kind["count"].sum() == page.total_count
    assert list(page.rows.columns) == list(explore.ROW_COLUMNS)
    assert str(page.rows["amount"].dtype) == "Int64" and str(page.rows["balance_after"].dtype) == "Int64"


def test_pages_follow_the_sort_with_ties_broken_on_id(ledger):
    engine, keys = ledger

    def pages(sort, descending, size=3):
        f = PaymentFilter(**OCTOBER)
        return [[keys[i] for i in explore.query_page(engine, f, page=n, page_size=size, sort=sort,
                                                     descending=descending).rows["id"]] for n in (1, 2, 3)]

    # amounts −20, −7.50, 5, 25, 30, 50, 1000
    assert pages("amount", False) == [["p3", "p6", "p4"], ["p7", "p5", "p2"], ["p9"]]
    # p3 and p4 share an instant: the higher id comes first when descending, last when ascending
    assert pages("occurred_at", True) == [["p7", "p9", "p6"], ["p5", "p4", "p3"], ["p2"]]
    assert pages("occurred_at", False)[0] == ["p2", "p3", "p4"]
    # kinds in text order; the two deposits by id
    assert pages("kind", False, size=7)[0] == ["p6", "p7", "p4", "p5", "p2", "p9", "p3"]


@pytest.mark.parametrize("sort", explore.SORTABLE)
@pytest.mark.parametrize("descending", [True, False])
def test_every_sort_pages_through_every_record_once(ledger, sort, descending):
    engine, _ = ledger
    f = PaymentFilter()
    whole = explore.query_all(engine, f, sort=sort, descending=descending)["id"].tolist()
    paged = [i for n in range(1, 6) for i in explore.query_page(
        engine, f, page=n, page_size=2, sort=sort, descending=descending).rows["id"]]
    assert paged == whole and sorted(whole) == list(range(1, 10))


def test_unknown_balances_sort_last_both_ways(ledger):
    engine, keys = ledger
    for descending in (True, False):
        rows = explore.query_all(engine, PaymentFilter(), sort="balance_after", descending=descending)
        assert rows["balance_after"].isna().tolist()[-3:] == [True, True, True]  # p3, p6, p8
        assert rows["balance_after"].notna().sum() == 6


def test_a_page_past_the_end_shows_the_last_and_bad_paging_is_refused(ledger):
    engine, _ = ledger
    page = explore.query_page(engine, PaymentFilter(**OCTOBER), page=99, page_size=5)
    assert (page.page, len(page.rows)) == (2, 2)
    empty = explore.query_page(engine, PaymentFilter(start=date(2030, 1, 1)))
    assert (empty.total_count, empty.pages, empty.page, len(empty.rows)) == (0, 1, 1, 0)
    assert list(empty.totals_by_kind.columns) == ["kind", "currency", "count", "amount"]
    for bad, message in (({"sort": "hash"}, "sort: 'hash' is not a sortable column"),
                         ({"page_size": 0}, "page_size: 0 is out of range"),
                         ({"page": 0}, "page: 0 is before the first page")):
        with pytest.raises(FilterError, match=message):
            explore.query_page(engine, PaymentFilter(), **bad)


def test_sub_accounts_at_any_depth(ledger):
    assert sorted(found(ledger, accounts=("R1",))) == ["p9"]
    # R1 → A1 → C1, C2 and R1 → C3: everything but C4's p6
    assert sorted(found(ledger, accounts=("R1",), include_sub_accounts=True)) == [
        "p1", "p2", "p3", "p4", "p5", "p7", "p8", "p9"]
    assert sorted(found(ledger, accounts=("A1",), include_sub_accounts=True)) == ["p1", "p2", "p3", "p5", "p7", "p8"]
    assert sorted(found(ledger, accounts=("C1", "C4"), include_sub_accounts=True)) == ["p1", "p2", "p6", "p7"]


def test_kind_channel_method_and_operator(ledger):
    assert sorted(found(ledger, kinds=("deposit",), channels=("admin",))) == ["p1", "p2", "p9"]
    assert sorted(found(ledger, operators=("alice",))) == ["p2", "p6", "p9"]
    assert sorted(found(ledger, methods=("other",))) == ["p4", "p5", "p6"]
    assert sorted(found(ledger, kinds=("withdrawal", "adjustment"))) == ["p3", "p6"]


def test_amounts_are_compared_by_absolute_value_bounds_included(ledger):
    assert sorted(found(ledger, min_amount=20 * U)) == ["p1", "p2", "p3", "p5", "p7", "p8", "p9"]
    assert sorted(found(ledger, min_amount=20 * U, max_amount=50 * U)) == ["p2", "p3", "p5", "p7"]
    assert sorted(found(ledger, max_amount=75_000)) == ["p4", "p6"]  # |−7.50| <= 7.50
    assert sorted(found(ledger, min_amount=0, max_amount=5 * U)) == ["p4"]


def test_a_lower_bound_of_zero_alone_keeps_every_record(ledger):
    engine, _ = ledger
    everything = sorted(found(ledger))
    assert sorted(found(ledger, min_amount=0)) == everything
    page = explore.query_page(engine, PaymentFilter(min_amount=0), page=1, page_size=2)
    assert page.total_count == len(everything) == page.totals_by_kind["count"].sum()


def test_text_search_ignores_case_and_takes_wildcards_literally(ledger):
    assert found(ledger, text="wire") == ["p2"]  # reference WIRE-100%, memo "first wire"
    assert found(ledger, text="payout") == ["p3"]
    assert found(ledger, text="100%") == ["p2"]  # not p1's "1000"
    assert found(ledger, text="9_%") == ["p9"]  # not p4's "9A%"
    assert sorted(found(ledger, text="_")) == ["p3", "p8", "p9"]  # PAYOUT_1, ch_1, FT-9_%
    assert found(ledger, text="'; DROP TABLE payments; --") == []
    assert len(found(ledger)) == 9


def test_values_are_bound_never_pasted(ledger):
    f = PaymentFilter(text="WIRE", operators=("alice",), accounts=("C1",), **OCTOBER)
    sql = str(sa.select(tables.payments.c.id).where(*explore.conditions(f, "Asia/Dubai")))
    assert "WIRE" not in sql and "alice" not in sql and "C1" not in sql and "2026" not in sql


def test_monthly_by_kind_cuts_months_in_the_reporting_zone(ledger):
    engine, _ = ledger
    dubai = explore.monthly_by_kind(engine, PaymentFilter(kinds=("deposit",)))
    assert dubai.values.tolist() == [["2026-09", "deposit", 1, 100 * U], ["2026-10", "deposit", 2, 1050 * U],
                                     ["2026-11", "deposit", 1, 200 * U]]
    utc = explore.monthly_by_kind(engine, PaymentFilter(kinds=("deposit",), timezone="UTC"))
    # p2 moves to September, p8 to October
    assert utc.values.tolist() == [["2026-09", "deposit", 2, 150 * U], ["2026-10", "deposit", 2, 1200 * U]]
    october = explore.monthly_by_kind(engine, PaymentFilter(**OCTOBER))
    assert set(october["month"]) == {"2026-10"} and october["count"].sum() == 7
    # one month read from the records (an operator is not in the kept totals)
    alone = explore.monthly_by_kind(engine, PaymentFilter(operators=("alice",), **OCTOBER))
    assert set(alone["month"]) <= {"2026-10"} and not alone.empty
    assert explore.monthly_by_kind(engine, PaymentFilter(start=date(2030, 1, 1))).empty


def test_by_channel_method_and_top_accounts(ledger):
    engine, _ = ledger
    channels = explore.by_channel_method(engine, PaymentFilter(**OCTOBER))
    assert channels.values.tolist() == [
        ["admin", "bank_wire", 2, 1050 * U], ["admin", "cash", 1, -20 * U], ["admin", "other", 1, -75_000],
        ["automatic", "card", 1, 25 * U], ["automatic", "other", 2, 35 * U]]
    # money moved in October: R1 1000, C1 50 + 25, A1 30, C2 20, C4 7.50, C3 5
    top = explore.top_accounts(engine, PaymentFilter(**OCTOBER), n=3)
    assert top.values.tolist() == [["R1", "North Reseller", 1, 1000 * U], ["C1", "Acme Trading", 2, 75 * U],
                                   ["A1", "Agent Alpha", 1, 30 * U]]
    assert explore.top_accounts(engine, PaymentFilter(kinds=("withdrawal",)), n=5)["amount"].tolist() == [-20 * U]


def test_choices_for_the_form(ledger):
    engine, _ = ledger
    choices = explore.account_choices(engine)
    assert choices[:3] == [("A1 — Agent Alpha (agent)", "A1"), ("C1 — Acme Trading (customer)", "C1"),
                           ("C2 — Acme Trading (customer)", "C2")]
    assert explore.operators(engine) == ["alice", "bob", "ops", "system"]


def test_utc_bounds_and_like_pattern():
    f = PaymentFilter(**OCTOBER)
    assert explore.utc_bounds(f, "Asia/Dubai") == (datetime(2026, 9, 30, 20), datetime(2026, 10, 31, 20))
    assert explore.utc_bounds(PaymentFilter(), "UTC") == (None, None)
    assert explore.like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


@pytest.mark.parametrize("filters", [
    {}, OCTOBER, dict(start=date(2026, 9, 1), end=date(2026, 10, 31), kinds=("deposit", "bonus")),
    dict(start=date(2026, 10, 1)), dict(end=date(2026, 9, 30)),
    dict(accounts=("A1",), include_sub_accounts=True, **OCTOBER), dict(accounts=("C1", "C4")),
])
def test_whole_month_filters_counted_from_kept_totals_agree_with_the_records(ledger, filters):
    engine, _ = ledger
    f = PaymentFilter(**filters)
    with engine.connect() as connection:
        assert explore._kept_months(connection, f, "Asia/Dubai") is not None  # the kept-totals path
    rows = explore.query_all(engine, f)
    expected = rows.groupby("kind")["amount"].agg(["count", "sum"])
    page = explore.query_page(engine, f)
    assert page.total_count == len(rows)
    assert {row.kind: (row.count, row.amount) for row in page.totals_by_kind.itertuples()} == {
        kind: (figures["count"], figures["sum"]) for kind, figures in expected.iterrows()}
    monthly = explore.monthly_by_kind(engine, f)
    by_month = rows.assign(month=rows["occurred_at"].dt.strftime("%Y-%m")).groupby(["month", "kind"])["amount"]
    assert [tuple(r) for r in monthly.itertuples(index=False)] == [
        (month, kind, figures["count"], figures["sum"])
        for (month, kind), figures in by_month.agg(["count", "sum"]).iterrows()]


def test_part_months_other_zones_and_record_filters_are_counted_from_the_records(ledger):
    engine, _ = ledger
    with engine.connect() as connection:
        for f in (PaymentFilter(start=date(2026, 10, 2)), PaymentFilter(end=date(2026, 10, 30)),
                  PaymentFilter(timezone="UTC"), PaymentFilter(min_amount=U), PaymentFilter(operators=("ops",)),
                  PaymentFilter(channels=("web",)), PaymentFilter(methods=("cash",)), PaymentFilter(text="wire")):
            assert explore._kept_months(connection, f, explore.reporting_timezone(connection, f)) is None


def test_a_currency_keeps_the_records_of_the_accounts_held_in_it(tmp_path, capsys):
    """Filtered by currency on the records, the rollups, the CLI and a saved view alike; one no account holds is
    refused naming those that are."""
    from vosbench.commands import main

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    engine = setup.open_ledger(url, create=True, timezone="UTC")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account,name,kind,parent,credit_limit,currency\n"
                                         "C1,Acme,customer,,0,USD\nJ1,Kyaku,customer,,0,JPY\nE1,Euro Tel,customer,,0,EUR\n")
    (folder / "payments.csv").write_text(
        "source_key,account,kind,amount,occurred_at,operator,channel,method\n"
        "p1,C1,deposit,90.00,2026-10-05T12:00:00Z,omar,admin,cash\np2,J1,deposit,7000,2026-10-06T12:00:00Z,omar,admin,cash\n"
        "p3,E1,deposit,5.00,2026-10-07T12:00:00Z,omar,admin,cash\n")
    csv_import.import_paths(engine, [folder], default_tz="UTC")
    october = PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31))
    for f in (replace(october, currencies=("jpy", "EUR")), PaymentFilter(currencies=("JPY", "EUR"))):  # rollup, records
        assert f.currencies[0] == "JPY"
        totals = explore.totals_by_kind(engine, f)
        assert sorted(zip(totals["currency"], totals["amount"])) == [("EUR", 5 * UNIT), ("JPY", 7000 * UNIT)]
        assert sorted(explore.query_page(engine, f).rows["account"]) == ["E1", "J1"]
    assert main.main(["query", "--db", url, "--currency", "USD", "--format", "csv"]) == 0
    assert [line.split(",")[2] for line in capsys.readouterr().out.splitlines()[1:]] == ["C1"]
    assert main.main(["query", "--db", url, "--currency", "GBP"]) == 2
    assert "currency 'GBP': no account holds it; the ledger's accounts hold EUR, JPY, USD" in capsys.readouterr().err
    view = saved_views.SavedView("yen", PaymentFilter(currencies=("JPY",)))
    assert saved_views.from_query_string(saved_views.query_string(view)).filter.currencies == ("JPY",)
