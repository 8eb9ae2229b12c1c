"""Filters whose total passes 64 bits: exact counts and sums in ``vosbench query``, the explore panel and the trend.

A hand-built ledger (UTC, USD) where every amount and every total the ledger keeps is legal, but two of them
add up past 2**63 − 1 (9,223,372,036,854,775,807 minor units). Every answer is worked out here by hand:

- A: adjustment −500,000,000,000,000.0000 on Oct 7 (ops1, admin/other, T-1); deposit +500 trillion on Nov 2
  (ops1, admin/bank_wire, W-5).
- B: adjustment −500,000,000,000,000.0000 on Oct 8 (ops1, web/other, T-2); deposit +500 trillion on Nov 3
  (ops1, web/gateway, GW-6). B's records take another channel than A's, so no kept rollup cell holds both.
- C: deposit 100.0000 on Oct 9 (ops1, W-3) and withdrawal −0.2500 on Oct 9 (ops2, W-4).

October's adjustments add to −1,000,000,000,000,000.0000 (−10**19 minor units) and November's deposits to
+10**19: before the fix SQLite's SUM failed with "integer overflow" for every filter holding both, whichever way
it was answered (the payment, account or amount rollup, the records), and the trend refused in words.
"""

from __future__ import annotations

import csv
import json
import textwrap
from datetime import date
from pathlib import Path

import pytest
from handbuilt import imported, run

from vosbench.analysis import account_statement, explore, trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.matching import review
from vosbench.ledger import setup
from vosbench.outputs import customer_statement, finance, matching_section
from vosbench.sources.bankfiles import importing

T = 500_000_000_000_000 * 10_000
"""500 trillion in minor units."""

FILES = {
    "accounts.csv": """\
account,name,kind,parent,credit_limit,currency,timezone
R1,Reseller,reseller,,,USD,
A,Adjusted A,customer,R1,,USD,
B,Adjusted B,customer,R1,,USD,
C,Ordinary C,customer,R1,,USD,
""",
    "payments.csv": """\
source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason
p1,A,adjustment,-500000000000000.0000,2026-10-07T10:00:00Z,ops1,admin,other,T-1,,import error
p2,B,adjustment,-500000000000000.0000,2026-10-08T10:00:00Z,ops1,web,other,T-2,,import error
p3,C,deposit,100.0000,2026-10-09T10:00:00Z,ops1,admin,bank_wire,W-3,,
p4,C,withdrawal,-0.2500,2026-10-09T11:00:00Z,ops2,admin,bank_wire,W-4,,
p5,A,deposit,500000000000000.0000,2026-11-02T10:00:00Z,ops1,admin,bank_wire,W-5,,
p6,B,deposit,500000000000000.0000,2026-11-03T10:00:00Z,ops1,web,gateway,GW-6,,
""",
}

OCTOBER = {"deposit": (1, "100.0000"), "withdrawal": (1, "-0.2500"), "adjustment": (2, "-1000000000000000.0000")}
ADJUSTMENTS = {"adjustment": (2, "-1000000000000000.0000")}
HUGE = {"deposit": (2, "1000000000000000.0000"), "adjustment": (2, "-1000000000000000.0000")}
FILTERS = {  # the query's options, and its totals by kind (count, amount) worked out from the records above
    "October, the payment rollup's month cells": (("--from", "2026-10-01", "--to", "2026-10-31"), OCTOBER),
    "October 5 to 10, its day cells": (("--from", "2026-10-05", "--to", "2026-10-10"), OCTOBER),
    "every record, every month cell": ((), {"deposit": (3, "1000000000000100.0000"), "withdrawal": (1, "-0.2500"),
                                            "adjustment": (2, "-1000000000000000.0000")}),
    "ops1's October, its operator month cells": (("--operator", "ops1", "--from", "2026-10-01", "--to", "2026-10-31"),
                                                 {"deposit": (1, "100.0000"), **ADJUSTMENTS}),
    "ops1 over part of October, the records": (("--operator", "ops1", "--from", "2026-10-05", "--to", "2026-10-10"),
                                               {"deposit": (1, "100.0000"), **ADJUSTMENTS}),
    "accounts A and B, the account rollup": (("--account", "A", "--account", "B"), HUGE),
    "R1's subtree in October, its cells below": (("--account", "R1", "--sub-accounts", "--from", "2026-10-01",
                                                  "--to", "2026-10-31"), OCTOBER),
    "at least 1,000, the amount rollup": (("--min-amount", "1000"), HUGE),
    "at least 50, amount rollup and records of its edge": (("--min-amount", "50"),
                                                           {"deposit": (3, "1000000000000100.0000"), **ADJUSTMENTS}),
    "text T-, the records": (("--text", "T-"), ADJUSTMENTS),
    "October in Dubai, the records": (("--from", "2026-10-01", "--to", "2026-10-31", "--timezone", "Asia/Dubai"),
                                      OCTOBER),
    "November's deposits": (("--kind", "deposit", "--from", "2026-11-01", "--to", "2026-11-30"),
                            {"deposit": (2, "1000000000000000.0000")}),
}


def _ledger(url: str, folder: Path) -> str:
    return imported(url, folder, FILES)


@pytest.fixture
def sqlite_ledger(tmp_path) -> str:
    return _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path / "files")


def _totals(url: str, *options: str) -> dict[str, tuple[int, str]]:
    got = json.loads(run("query", "--db", url, *options, "--format", "json"))
    assert got["total_count"] == sum(row["count"] for row in got["totals_by_kind"])
    assert {row["currency"] for row in got["totals_by_kind"]} <= {"USD"}
    return {row["kind"]: (row["count"], row["amount"]) for row in got["totals_by_kind"]}


@pytest.mark.parametrize("name", list(FILTERS))
def test_every_way_of_answering_a_filter_sums_exactly_on_sqlite(sqlite_ledger, name):
    """Each filter is answered its own way (see FILTERS); each gives the hand-worked totals, none an overflow."""
    options, expected = FILTERS[name]
    assert _totals(sqlite_ledger, *options) == expected


def test_the_kept_month_totals_sum_exactly(sqlite_ledger):
    """What answers whole months when no rollup covers the ledger (a login that does not see them): the kept
    per-account month totals, summed over A, B and C."""
    engine = setup.open_ledger(sqlite_ledger).engine
    f = PaymentFilter.from_parameters({"start": "2026-10-01", "end": "2026-11-30"})
    with engine.connect() as connection:
        totals = explore._kept_totals_by_kind(connection, f, ("2026-10", "2026-11"))
        monthly = explore._kept_monthly_by_kind(connection, f, ("2026-10", "2026-11"))
    assert {kind: (count, amount) for kind, _, count, amount in totals} == {
        "deposit": (3, 2 * T + 1_000_000), "withdrawal": (1, -2_500), "adjustment": (2, -2 * T)}
    assert {(month, kind): amount for month, kind, _, amount in monthly} == {
        ("2026-10", "deposit"): 1_000_000, ("2026-10", "withdrawal"): -2_500, ("2026-10", "adjustment"): -2 * T,
        ("2026-11", "deposit"): 2 * T}


@pytest.mark.parametrize("name", ["October, the payment rollup's month cells", "text T-, the records",
                                  "accounts A and B, the account rollup", "at least 1,000, the amount rollup"])
def test_the_same_totals_on_every_dialect(any_ledger_url, tmp_path, name):
    """The servers sum a BIGINT into NUMERIC/DECIMAL: the same digits as SQLite's sum in two parts."""
    options, expected = FILTERS[name]
    assert _totals(_ledger(any_ledger_url, tmp_path / "files"), *options) == expected


def test_the_printed_table_totals_october_exactly(sqlite_ledger):
    """The TOTAL line under the per-kind totals: 4 records, −1,000 trillion + 100 − 0.25."""
    printed = run("query", "--db", sqlite_ledger, "--from", "2026-10-01", "--to", "2026-10-31")
    assert printed.splitlines()[-1].split() == ["TOTAL", "USD", "4", "-999999999999900.2500"]


def test_the_panel_frames_hold_python_integers_past_int64(sqlite_ledger):
    """The explore panel's totals and month chart: int64 where every figure fits, exact Python integers where not."""
    engine = setup.open_ledger(sqlite_ledger).engine
    october = PaymentFilter.from_parameters({"start": "2026-10-01", "end": "2026-10-31"})
    totals = explore.totals_by_kind(engine, october).set_index("kind")
    assert totals.loc["adjustment", "amount"] == -2 * T and type(totals.loc["adjustment", "amount"]) is int
    assert totals.loc["deposit", "amount"] == 1_000_000 and totals.loc["withdrawal", "amount"] == -2_500
    assert explore.totals_per_currency(totals.reset_index()[list(explore.TOTALS_COLUMNS)]) == {
        "USD": {"count": 4, "amount": -2 * T + 1_000_000 - 2_500}}
    for f in (PaymentFilter(), PaymentFilter.from_parameters({"text": "-"})):  # the month cells, then the records
        monthly = explore.monthly_by_kind(engine, f).set_index(["month", "kind"])["amount"]
        assert (monthly[("2026-10", "adjustment")], monthly[("2026-11", "deposit")]) == (-2 * T, 2 * T)
    by_channel = explore.by_channel_method(engine, PaymentFilter.from_parameters({"text": "-"}))
    assert dict(zip(zip(by_channel["channel"], by_channel["method"]), by_channel["amount"])) == {
        ("admin", "bank_wire"): T + 1_000_000 - 2_500, ("admin", "other"): -T, ("web", "gateway"): T, ("web", "other"): -T}
    assert str(by_channel["amount"].dtype) == "Int64"


@pytest.mark.parametrize("by", ["kind", "operator"])  # the rollup's month cells; the records
def test_the_trend_draws_the_months_exactly(sqlite_ledger, by):
    """October and November by month: the grains' totals and ops1's or the adjustments' group, to the last digit."""
    engine = setup.open_ledger(sqlite_ledger).engine
    shown = trends.trend(engine, PaymentFilter.from_parameters({"start": "2026-10-01", "end": "2026-11-30"}),
                         grain="month", by=by)
    totals = shown.totals.set_index("bucket")
    assert (totals.loc["2026-10", "amount"], totals.loc["2026-11", "amount"]) == (-2 * T + 1_000_000 - 2_500, 2 * T)
    assert (totals.loc["2026-10", "count"], totals.loc["2026-11", "count"]) == (4, 2)
    groups = {(row.bucket, row.group): row.amount for row in shown.groups.itertuples()}
    if by == "kind":
        assert (groups[("2026-10", "adjustment")], groups[("2026-11", "deposit")]) == (-2 * T, 2 * T)
    else:
        assert (groups[("2026-10", "ops1")], groups[("2026-10", "ops2")]) == (-2 * T + 1_000_000, -2_500)


STATEMENT_FILES = {  # a ledger of its own: S's and F's October, in UTC
    "accounts.csv": """\
account,name,kind,parent,credit_limit,currency,timezone
S,Swings Past,customer,,,USD,
F,Far Reported,customer,,,USD,
""",
    "payments.csv": """\
source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after
s1,S,deposit,500000000000000.0000,2026-10-02T10:00:00Z,ops1,admin,bank_wire,W-1,,,500000000000000.0000
s2,S,adjustment,500000000000000.0000,2026-10-03T10:00:00Z,ops1,admin,other,T-2,,import error,500000000000000.0000
s3,S,withdrawal,-500000000000000.0000,2026-10-04T10:00:00Z,ops1,admin,bank_wire,W-3,,,0.0000
s4,S,deposit,1.0000,2026-10-05T10:00:00Z,ops1,admin,bank_wire,W-4,,,1.0000
f1,F,adjustment,-500000000000000.0000,2026-10-06T10:00:00Z,ops1,admin,other,T-5,,import error,500000000000000.0000
""",
}
"""S's running balance: 500 trillion, 1,000 trillion (past int64, though each month total the ledger keeps fits),
500 trillion, 500,000,000,000,001; VOS3000 reported 500 trillion, 500 trillion, 0 and 1 after them: S's statement
differs by 0, −500 trillion (where it began), −500 trillion and −500 trillion. F's adjustment of −500 trillion was
reported as +500 trillion: its statement differs by 1,000 trillion (past int64) from the start."""


@pytest.fixture
def statement_ledger(any_ledger_url, tmp_path):
    """S's and F's ledger on each dialect in turn (the opening's SQL sums in two parts on every one)."""
    folder = tmp_path / "statement"
    folder.mkdir()
    for name, text in STATEMENT_FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    run("import", "--db", any_ledger_url, "--timezone", "UTC", *(str(folder / name) for name in STATEMENT_FILES))
    return setup.open_ledger(any_ledger_url).engine


def test_the_running_balance_and_its_differences_past_int64_are_exact(statement_ledger, tmp_path):
    """pandas' cumsum wrapped S's 1,000 trillion around to −844,674,407,370,955.1616; F's difference likewise."""
    found = account_statement.account_statement(statement_ledger, "S", date(2026, 10, 1), date(2026, 10, 31))
    assert found.lines["running_balance"].tolist() == [T, 2 * T, T, T + 10_000]
    assert found.lines["discrepancy"].tolist() == [0, -T, -T, -T]
    assert (found.opening, found.closing) == (0, T + 10_000)
    assert found.discrepancies[["discrepancy", "change"]].values.tolist() == [[-T, -T], [-T, 0], [-T, 0]]
    far = account_statement.account_statement(statement_ledger, "F", date(2026, 10, 1), date(2026, 10, 31))
    assert (far.lines["running_balance"].tolist(), far.lines["discrepancy"].tolist()) == ([-T], [2 * T])
    assert far.discrepancies["change"].tolist() == [2 * T]
    rows = list(csv.DictReader(customer_statement.write(customer_statement.build(
        statement_ledger, "S", date(2026, 10, 1), date(2026, 10, 31)), tmp_path / "s.csv", "csv").open(encoding="utf-8")))
    assert [row["balance"] for row in rows] == ["0.0000", "500000000000000.0000", "1000000000000000.0000",
                                                "500000000000000.0000", "500000000000001.0000", "500000000000001.0000"]


def test_a_statement_opening_after_the_swing_is_exact_and_keeps_int64_columns(statement_ledger):
    """From Oct 5 the opening is October's part before it, 500 + 500 − 500 trillion, whose SUM in SQL passed 64 bits
    on the way (SQLite failed); the lines are within the bound, so their columns stay nullable Int64 (the fast path)."""
    found = account_statement.account_statement(statement_ledger, "S", date(2026, 10, 5), date(2026, 10, 31))
    assert (found.opening, found.closing) == (T, T + 10_000)
    assert found.lines["running_balance"].tolist() == [T + 10_000]
    assert {str(found.lines[name].dtype) for name in ("amount", "running_balance", "discrepancy")} == {"Int64"}


MATCHED_ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    G1,Agent Gee,agent,,0,USD,UTC
    M1,Customer Em,customer,G1,0,USD,UTC
"""
MATCHED_PAYMENTS = """
    source_key,account,kind,amount,occurred_at,channel,method,reference
    m0,M1,deposit,100.00,2026-10-04T10:00:00Z,admin,bank_wire,FT1
    m1,M1,deposit,500000000000000.00,2026-10-05T10:00:00Z,admin,bank_wire,FT8
    g1,G1,deposit,500000000000000.00,2026-10-06T10:00:00Z,web,bank_wire,FT9
    m2,M1,withdrawal,-500000000000000.00,2026-11-05T10:00:00Z,admin,bank_wire,FT10
    g2,G1,withdrawal,-500000000000000.00,2026-11-06T10:00:00Z,web,bank_wire,FT11
"""
MATCHED_BANK = """\
    Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID
    2026-10-04,,100.00,FT1,Customer Em,,T1
    2026-11-05,,-500000000000000.00,FT10,Customer Em,,T2
"""
"""In UTC: in October M1 (a customer) deposits 100 and 500 trillion, G1 (an agent) 500 trillion, and the bank's
statement shows the 100 only (the statement lines' amounts are bounded in all, the records' are not). In November
each withdraws its 500 trillion; the bank shows M1's."""


@pytest.fixture
def matched_ledger(inline_ledger, tmp_path):
    engine = inline_ledger(accounts=MATCHED_ACCOUNTS, payments=MATCHED_PAYMENTS, timezone="UTC")
    bank = tmp_path / "bank.csv"
    bank.write_text(textwrap.dedent(MATCHED_BANK), encoding="utf-8")
    importing.import_file(engine, bank, profile="generic-bank-csv")
    return engine


def test_statement_matching_and_the_finance_summary_total_past_int64_exactly(matched_ledger):
    """Matched: T1 with M1's 100; no money on a statement: M1's and G1's 500 trillion, 1,000 trillion together.
    The finance summary's balances by account kind (customer 500 trillion + 100, agent 500 trillion) total 1,000
    trillion + 100 held at the month's end, and its headline names the 1,000 trillion recorded with no money."""
    run = review.run_month(matched_ledger, "2026-10", timezone="UTC")
    summary = run.summary().set_index("status")
    assert summary.loc["matched", ["items", "statement_amount", "recorded_amount"]].tolist() == [1, 1_000_000, 1_000_000]
    assert summary.loc["no_money", ["items", "statement_amount", "recorded_amount"]].tolist() == [2, 0, 2 * T]
    shown = matching_section.view(run, "Statement matching", "October 2026").to_html()
    assert "1,000,000,000,000,100.00" in shown  # the totals row of the records: 100 + 2 × 500 trillion
    pack = finance.FinanceSummary.compute(matched_ledger, "2026-10")
    held = pack.tables()["Balances by account kind"].totals
    assert held == {"USD": {"opening": 0, "payments": 2 * T + 1_000_000, "charges": 0, "closing": 2 * T + 1_000_000}}
    headline = pack.headline().set_index("figure")["amount"]
    assert headline["Payment records with no money on a statement"] == 2 * T
    assert pack.unmatched[["status", "items", "recorded_amount"]].values.tolist() == [["no_money", 2, 2 * T]]


def test_the_matching_totals_row_adds_statuses_that_each_fit_exactly(matched_ledger):
    """November: matched −500 trillion (T2 with M1's withdrawal), no money for G1's −500 trillion: each status's
    sum fits int64, the totals row of the records (−1,000 trillion) does not; int64 wrapped it around."""
    run = review.run_month(matched_ledger, "2026-11", timezone="UTC")
    summary = run.summary().set_index("status")
    assert (summary.loc["matched", "recorded_amount"], summary.loc["no_money", "recorded_amount"]) == (-T, -T)
    shown = matching_section.view(run, "Statement matching", "November 2026").to_html()
    assert "-1,000,000,000,000,000.00" in shown and "-500,000,000,000,000.00" in shown


def test_the_explore_panel_opens_on_november_and_shows_its_totals(sqlite_ledger, tmp_path):
    """The panel opens on the latest month: A's and B's deposits, 1,000 trillion, in its totals and its trend."""
    from vosbench.ui.explore_panel import PaymentExplorer

    panel = PaymentExplorer(setup.open_ledger(sqlite_ledger).engine, export_dir=tmp_path / "out")
    panel.query()
    assert panel.current_page.total_count == 2
    assert panel.totals.value.count(">1,000,000,000,000,000.00<") == 2  # the deposits' row and the currency's total


@pytest.mark.parametrize("text", ["", "-"])  # each account's own rollup cells; the records
def test_top_accounts_rank_by_money_moved_past_int64(sqlite_ledger, text):
    """A and B each moved 1,000 trillion (−500 then +500 trillion: net 0), C 100.25: ranked A, B (a tie, by
    account number), C; SQLite's SUM of A's moves failed before."""
    engine = setup.open_ledger(sqlite_ledger).engine
    f = PaymentFilter.from_parameters({"text": text} if text else {})
    top = explore.top_accounts(engine, f)
    assert top.values.tolist() == [["A", "Adjusted A", 2, 0], ["B", "Adjusted B", 2, 0], ["C", "Ordinary C", 2, 997_500]]
    assert explore.top_accounts(engine, f, n=1)["account"].tolist() == ["A"]
