"""Trends at any grain, the comparison periods, the movers and chart clicks that narrow the filter.

A hand-built ledger in Asia/Dubai (UTC+4). Tree R1 → A1 → C1; R2 → C2; C3 has no parent.

    account kind        amount  local time          channel/method
    C1      deposit     100.00  2025-10-06 10:00    admin/cash      (a year before: week 2025-W41, Q4 2025)
    C1      deposit      40.00  2026-09-29 09:00    admin/cash      (the week and month before October)
    C1      deposit      50.50  2026-10-01 00:30    admin/cash      (00:30 Dubai = Sep 30 20:30 UTC: still October)
    C2      deposit     200.00  2026-10-05 12:00    web/gateway     (Monday of 2026-W41)
    C2      withdrawal  −20.00  2026-10-11 23:00    web/gateway     (Sunday: still 2026-W41)
    C3      bonus         5.0001 2026-10-12 10:00   admin/cash      (2026-W42)

Charges: C1 10.00 in September and 35.00 in October; C2 none.
October 2026: deposits 250.50 (C1 50.50, C2 200), withdrawal −20, bonus 5.0001 → 235.5001.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from plotly.callbacks import InputDeviceState, Points

from vosbench.analysis import explore, trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.core.model import Kind
from vosbench.outputs import charts
from vosbench.ui.explore_panel import PaymentExplorer

U = 10_000
ACCOUNTS = """
    account,name,kind,parent
    R1,Gulf Reseller,reseller,
    A1,Acme Trading,agent,R1
    C1,Acme Trading,customer,A1
    R2,Nile Reseller,reseller,
    C2,Blue Sky Tel,customer,R2
    C3,Cedar Voice,customer,
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
    p0,C1,deposit,100.00,2025-10-06T10:00:00+04:00,omar,admin,cash,R-0,,,100.00
    p1,C1,deposit,40.00,2026-09-29T09:00:00+04:00,omar,admin,cash,R-1,,,
    p2,C1,deposit,50.50,2026-10-01T00:30:00+04:00,omar,admin,cash,R-2,,,
    p3,C2,deposit,200.00,2026-10-05T12:00:00+04:00,web,web,gateway,ch_1,,,
    p4,C2,withdrawal,-20.00,2026-10-11T23:00:00+04:00,web,web,gateway,ch_2,refund,,
    p5,C3,bonus,5.0001,2026-10-12T10:00:00+04:00,lina,admin,cash,B-1,,,
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-20,10.00,0,0,3
    C1,2026-10-15,30.00,5.00,0,2
"""
OCTOBER = PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31))


@pytest.fixture
def engine(inline_ledger):
    return inline_ledger(accounts=ACCOUNTS, payments=PAYMENTS, charges=CHARGES)


def test_grains_are_days_weeks_months_and_quarters_the_first_and_last_cut_to_the_period():
    weeks = trends.buckets(date(2026, 10, 1), date(2026, 10, 12), "week")
    assert [(b.label, b.first_day, b.last_day) for b in weeks] == [
        ("2026-W40 (10-01–10-04)", date(2026, 10, 1), date(2026, 10, 4)),
        ("2026-W41", date(2026, 10, 5), date(2026, 10, 11)), ("2026-W42 (10-12)", date(2026, 10, 12), date(2026, 10, 12))]
    assert [b.label for b in trends.buckets(date(2026, 2, 1), date(2026, 12, 31), "quarter")] == [
        "2026-Q1 (02-01–03-31)", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert len(trends.buckets(date(2024, 1, 1), date(2024, 12, 31), "day")) == 366
    months = trends.buckets(date(2026, 1, 15), date(2026, 3, 2), "month")
    # each grain beside the same part of its counterpart: the 15th to the end, a whole month, the 1st and 2nd
    assert [(b.first_day, b.last_day) for b in trends.previous_period(months, "month")] == [
        (date(2025, 10, 15), date(2025, 10, 31)), (date(2025, 11, 1), date(2025, 11, 30)),
        (date(2025, 12, 1), date(2025, 12, 2))]
    assert [b.label for b in trends.same_period_last_year(months, "month")] == [
        "2025-01 (01-15–01-31)", "2025-02", "2025-03 (03-01–03-02)"]
    october = trends.buckets(date(2026, 10, 1), date(2026, 10, 31), "quarter")  # Q4's first month: Q3's is July
    assert [(b.first_day, b.last_day) for b in trends.previous_period(october, "quarter")] == [
        (date(2026, 7, 1), date(2026, 7, 31))]
    leap = trends.buckets(date(2028, 2, 29), date(2028, 3, 1), "day")
    assert [b.label for b in trends.same_period_last_year(leap, "day")] == ["2027-02-28", "2027-03-01"]


@pytest.mark.parametrize("first, last, grain, expected", [
    (date(2020, 1, 1), date(2026, 1, 1), "day", "choose a coarser grain"),
    (date(2026, 1, 1), date(2026, 1, 2), "fortnight", "use one of: day, week, month, quarter"),
    (date(2026, 2, 1), date(2026, 1, 1), "day", "swap the From and To days"),
])
def test_a_trend_that_cannot_be_drawn_says_what_to_change(first, last, grain, expected):
    with pytest.raises(trends.TrendError, match=expected):
        trends.buckets(first, last, grain)


def test_weekly_by_kind_cuts_weeks_in_the_reporting_zone_with_both_comparisons(engine):
    shown = trends.trend(engine, PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 12)),
                         grain="week", by="kind")
    assert shown.timezone == "Asia/Dubai"
    rows = {(row.bucket, row.group): (row.count, row.amount) for row in shown.groups.itertuples()}
    # 2026-W40 cut to Oct 1–4 takes Oct 1 00:30 Dubai (Sep 30 in UTC), not Sep 29's deposit before the period
    assert rows == {("2026-W40 (10-01–10-04)", "deposit"): (1, 5050 * 100), ("2026-W41", "deposit"): (1, 200 * U),
                    ("2026-W41", "withdrawal"): (1, -20 * U), ("2026-W42 (10-12)", "bonus"): (1, 50_001)}
    totals = shown.totals.set_index("bucket")
    assert list(totals["amount"]) == [5050 * 100, 180 * U, 50_001]
    assert [b.label for b in shown.previous] == ["2026-W37 (09-10–09-13)", "2026-W38", "2026-W39 (09-21)"]
    assert list(totals["previous_amount"]) == [0, 0, 0]
    # 52 weeks earlier, the same weekdays: Thursday to Sunday, a whole week (Oct 6's deposit), a Monday
    assert [b.label for b in shown.last_year] == ["2025-W40 (10-02–10-05)", "2025-W41", "2025-W42 (10-13)"]
    assert list(totals["last_year_amount"]) == [0, 100 * U, 0] and list(totals["last_year_count"]) == [0, 1, 0]


def test_a_bar_holds_exactly_the_records_its_click_shows(engine):
    """A quarter cut to the filter's days: Sep 29's deposit, in Q3 but before the period, is in no bar."""
    f = PaymentFilter(start=date(2026, 9, 30), end=date(2026, 10, 31))
    shown = trends.trend(engine, f, grain="quarter", by="kind")
    assert [b.label for b in shown.buckets] == ["2026-Q3 (09-30)", "2026-Q4 (10-01–10-31)"]
    totals = shown.totals.set_index("position")
    assert list(totals["amount"]) == [0, 2_355_001] and list(totals["count"]) == [0, 4]
    for position in (0, 1):
        clicked = explore.totals_by_kind(engine, trends.narrowed(f, shown, position))
        assert int(clicked["amount"].sum()) == totals.loc[position, "amount"]
        assert int(clicked["count"].sum()) == totals.loc[position, "count"]


def test_monthly_by_subtree_groups_records_under_their_top_account(engine):
    shown = trends.trend(engine, OCTOBER, grain="month", by="subtree")
    rows = {row.group: row.amount for row in shown.groups.itertuples()}
    assert rows == {"R2": 180 * U, "R1": 5050 * 100, "C3": 50_001}  # C1 is under A1 under R1
    totals = shown.totals.iloc[0]
    assert (totals.amount, totals.previous_amount, totals.last_year_amount) == (2_355_001, 40 * U, 100 * U)


def test_the_trend_keeps_the_filters_other_fields(engine):
    shown = trends.trend(engine, PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31), kinds=["deposit"],
                                               channels=["admin"]), grain="quarter", by="channel")
    assert [(row.bucket, row.group, row.amount) for row in shown.groups.itertuples()] == [
        ("2026-Q4 (10-01–10-31)", "admin", 5050 * 100)]
    assert shown.totals.iloc[0].previous_amount == 0  # Q3's first month, July (September's deposit is not in it)
    assert shown.totals.iloc[0].last_year_amount == 100 * U  # October 2025


def test_beyond_the_top_groups_the_rest_is_summed_as_others(engine, monkeypatch):
    monkeypatch.setattr(trends, "TOP_GROUPS", 1)
    shown = trends.trend(engine, OCTOBER, grain="month", by="subtree")
    assert {row.group: row.amount for row in shown.groups.itertuples()} == {"R2": 180 * U,
                                                                           "others": 5050 * 100 + 50_001}


def test_movers_rank_accounts_by_the_larger_change_of_deposits_or_charges(engine):
    found = trends.movers(engine, "2026-10")
    assert list(found["account"]) == ["C2", "C1"]  # C3 moved only a bonus
    c1 = found.set_index("account").loc["C1"]
    assert (c1.deposits, c1.previous_deposits, c1.deposits_change) == (5050 * 100, 40 * U, 1050 * 100)
    assert (c1.charges, c1.previous_charges, c1.charges_change) == (35 * U, 10 * U, 25 * U)
    assert list(trends.movers(engine, "2026-10", f=PaymentFilter(accounts=["R1"], include_sub_accounts=True))[
        "account"]) == ["C1"]


def test_movers_rank_accounts_of_one_currency_and_name_it(inline_ledger):
    """10,000 yen (about 65 dollars) never outranks 9,000 dollars: each currency's accounts are ranked apart."""
    engine = inline_ledger(accounts="""
        account,name,kind,parent,credit_limit,currency
        C1,Acme Trading,customer,,0,USD
        J1,Kyaku,customer,,0,JPY
        J2,Nihon Tel,customer,,0,JPY
    """, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
        p1,C1,deposit,9000.00,2026-10-05T12:00:00+04:00,omar,admin,cash,R-1,,,
        p2,J1,deposit,10000,2026-10-05T12:00:00+04:00,omar,admin,cash,R-2,,,
        p3,J2,deposit,3000,2026-10-06T12:00:00+04:00,omar,admin,cash,R-3,,,
    """)
    yen = trends.movers(engine, "2026-10", currency="JPY")
    assert [(row.account, row.currency, row.deposits_change) for row in yen.itertuples()] == [
        ("J1", "JPY", 10_000 * U), ("J2", "JPY", 3_000 * U)]
    assert list(trends.movers(engine, "2026-10", currency="USD")["account"]) == ["C1"]
    with pytest.raises(trends.TrendError, match="the ledger's accounts hold JPY, USD"):
        trends.movers(engine, "2026-10")


def test_a_click_on_a_currencys_bar_narrows_to_that_currency_too(inline_ledger, tmp_path):
    """On a ledger of dollars and yen the trend is drawn in one; its bar's click shows that currency's records
    alone, whose total is the bar's, and the explorer's form says so."""
    engine = inline_ledger(accounts="""
        account,name,kind,parent,credit_limit,currency
        C1,Acme Trading,customer,,0,USD
        J1,Kyaku,customer,,0,JPY
    """, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
        p1,C1,deposit,90.00,2026-10-05T12:00:00+04:00,omar,admin,cash,R-1,,,
        p2,J1,deposit,7000,2026-10-06T12:00:00+04:00,omar,admin,cash,R-2,,,
        p3,C1,deposit,10.00,2026-10-20T12:00:00+04:00,omar,admin,cash,R-3,,,
    """)
    shown = trends.trend(engine, OCTOBER, grain="month", by="kind", currency="USD")
    clicked = trends.narrowed(OCTOBER, shown, 0, "deposit")
    assert clicked.currencies == ("USD",)
    totals = explore.totals_by_kind(engine, clicked)
    assert [(row.currency, row.count, row.amount) for row in totals.itertuples()] == [("USD", 2, 100 * U)]
    assert int(shown.totals.iloc[0].amount) == 100 * U
    explorer = PaymentExplorer(engine, initial=OCTOBER, export_dir=tmp_path)
    assert explorer.currencies.layout.display is None and set(explorer.currencies.options) == {"JPY", "USD"}
    explorer.narrow(clicked)
    assert explorer.currencies.value == ("USD",) and explorer.current_page.total_count == 2
    assert explore.currencies_of(engine, clicked) == ["USD"]  # the charts draw it: one currency's amounts add up


def test_a_click_narrows_the_filter_to_the_grain_and_the_group(engine):
    f = PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 12))
    shown = trends.trend(engine, f, grain="week", by="kind")
    narrowed = trends.narrowed(f, shown, 0, "deposit")
    assert (narrowed.start, narrowed.end, narrowed.kinds) == (date(2026, 10, 1), date(2026, 10, 4),
                                                              (Kind.DEPOSIT,))
    by_tree = trends.trend(engine, OCTOBER, grain="month", by="subtree")
    assert trends.narrowed(OCTOBER, by_tree, 0, "R1") == PaymentFilter(
        start=date(2026, 10, 1), end=date(2026, 10, 31), accounts=("R1",), include_sub_accounts=True)


def test_the_trend_chart_draws_groups_and_both_comparisons_with_the_legend_clear_of_the_title(engine):
    shown = trends.trend(engine, OCTOBER, grain="month", by="kind")
    figure = charts.trend_comparison(shown, currency="USD", title="October")
    names = [trace.name for trace in figure.data]
    assert names == ["deposit", "withdrawal", "bonus", "Previous period", "Same period last year"]
    assert figure.layout.legend.orientation == "v" and figure.layout.legend.x >= 1


def test_clicking_a_trend_bar_narrows_the_grid(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=OCTOBER, export_dir=tmp_path)
    explorer.trends.grain.value = "week"
    figure = explorer.trends.figure
    json.dumps(figure.get_state()["_widget_data"])  # what reaches the browser must be JSON: no Decimal
    assert "200.0000" in next(trace for trace in figure.data if trace.name == "deposit").y
    bars = next(trace for trace in figure.data if trace.name == "withdrawal")
    position = list(bars.x).index("2026-W41")
    bars._dispatch_on_click(Points(point_inds=[position], xs=[bars.x[position]], ys=[bars.y[position]],
                                   trace_name="withdrawal", trace_index=0),
                            InputDeviceState(ctrl=False, alt=False, shift=False, meta=False, button=0, buttons=1))
    assert explorer.current_filter.kinds == (Kind.WITHDRAWAL,)
    assert (explorer.current_filter.start, explorer.current_filter.end) == (date(2026, 10, 5), date(2026, 10, 11))
    assert explorer.current_page.total_count == 1 and list(explorer.current_page.rows["account"]) == ["C2"]
    assert explorer.form.kinds.value == ("withdrawal",)  # the form shows the narrowed filter, Reset undoes it


def test_the_movers_are_of_the_filters_last_month_even_when_its_last_week_runs_into_the_next(engine, tmp_path):
    explorer = PaymentExplorer(engine, initial=OCTOBER, export_dir=tmp_path)
    explorer.trends.grain.value = "week"
    assert explorer.trends.shown.buckets[-1].last_day == date(2026, 10, 31)  # 2026-W44 cut to the filter
    assert "Movers of 2026-10" in explorer.trends.movers.value and "Blue Sky Tel" in explorer.trends.movers.value


@pytest.mark.parametrize("grain, first, last", [("day", date(2026, 9, 25), date(2026, 10, 16)),
                                                ("week", date(2026, 9, 1), date(2026, 10, 31)),
                                                ("month", date(2025, 10, 1), date(2026, 10, 31)),
                                                ("quarter", date(2025, 10, 1), date(2026, 12, 31))])
@pytest.mark.parametrize("by", ["kind", "channel", "method"])
def test_a_trend_summed_from_the_rollup_equals_the_records_counted_one_by_one(engine, grain, first, last, by):
    current = trends.buckets(first, last, grain)
    compared = 0
    with engine.connect() as connection:
        for run in (current, trends.previous_period(current, grain), trends.same_period_last_year(current, grain)):
            from_rollup = trends._grouped_from_rollup(connection, PaymentFilter(), "Asia/Dubai", run, by)
            from_records = trends._grouped(connection, PaymentFilter(), "Asia/Dubai", run, by, indexed=False)
            assert from_rollup is not None
            assert sorted(from_rollup) == sorted(from_records)
            compared += len(from_records)
    assert compared  # records fell in these periods: not two empty lists compared


@pytest.mark.parametrize("grain, first, last", [("month", date(2025, 10, 1), date(2026, 10, 31)),
                                                ("quarter", date(2025, 10, 1), date(2026, 12, 31))])
@pytest.mark.parametrize("f, by", [(PaymentFilter(), "operator"), (PaymentFilter(operators=("omar", "web")), "kind"),
                                   (PaymentFilter(operators=("omar",), channels=("admin",)), "operator")])
def test_a_trend_of_operators_over_whole_months_is_summed_from_their_months_cells(engine, grain, first, last, f, by):
    """No index holds a record's operator (schema 11): a monthly trend by or of operators reads their month cells."""
    current = trends.buckets(first, last, grain)
    compared = 0
    with engine.connect() as connection:
        for run in (current, trends.previous_period(current, grain), trends.same_period_last_year(current, grain)):
            from_rollup = trends._grouped_from_rollup(connection, f, "Asia/Dubai", run, by)
            from_records = trends._grouped(connection, f, "Asia/Dubai", run, by, indexed=False)
            assert from_rollup is not None
            assert sorted(from_rollup) == sorted(from_records)
            compared += len(from_records)
    assert compared


def test_a_trend_the_rollup_cannot_answer_is_counted_from_the_records(engine):
    run = trends.buckets(date(2026, 10, 1), date(2026, 10, 31), "week")
    with engine.connect() as connection:
        for f, by, zone in ((PaymentFilter(accounts=("C1",)), "kind", "Asia/Dubai"), (PaymentFilter(), "operator", "Asia/Dubai"),
                            (PaymentFilter(operators=("omar",)), "kind", "Asia/Dubai"), (PaymentFilter(), "subtree", "Asia/Dubai"),
                            (PaymentFilter(), "kind", "UTC"), (PaymentFilter(min_amount=1), "kind", "Asia/Dubai")):
            assert trends._grouped_from_rollup(connection, f, zone, run, by) is None
