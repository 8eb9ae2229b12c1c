"""Hand-built ledger 4: New York's autumn DST change on the first day of November, one reseller's subtree in
three currencies (USD, EUR, JPY), months closed before a reversal of a reversal, Aug–Nov 2026.

Every figure below was worked out independently of vosbench (Decimal arithmetic over these rows, from
the README's definitions) and is written out with the reasoning for the edge cases.

Tree: RX (USD) → AX (EUR) → E1 (EUR);  RX → U1, Q1, M1 (USD), J1 (JPY).
Month ends in New York: Sep 1 04:00Z, Oct 1 04:00Z, Nov 1 04:00Z (EDT, −04:00) and Dec 1 05:00Z (EST, −05:00).
November 1 is 25 hours long (04:00Z to Nov 2 05:00Z): the clocks go back from 02:00 EDT to 01:00 EST.

Edges, with the month each falls in:
- August is the ledger's first month: x02 U1 at Aug 31 23:30 EDT (Sep 1 03:30Z) is August's, x03 at Sep 1 04:00Z is
  September's and not in U1's report of that instant (99.0000 = 100 − the Aug 31 fee of 1).
- x06 AX at Oct 31 23:59:59 EDT → October; x07 RX at Nov 1 04:00Z (00:00 EDT) → November.
- x09 (01:30 EDT, 05:30Z) and x10 (01:30 EST, 06:30Z) are one wall-clock time an hour apart, both Nov 1; so is
  x11 at 01:59:59 EST (06:59:59Z). J1 is reported at 01:45 EDT (6000) and 01:45 EST (7000: the later, November's
  latest report), each after the recharges before it; the Nov 1 fees come at the end of the 25-hour day.
- x12 U1 at Nov 30 23:59:59 EST → November; x13 at Dec 1 05:00Z → December, and not in U1's report of that instant.
- August, September and October are closed before November is imported; x14 reverses October's deposit x04 in
  November and x15 reverses x14 (the reversal was wrong): E1's November deposits net to 0.
- Q1 is quiet from August to November: its November opening is August's closing, 40. Its November deposit x16
  reported an unchanged balance_after (40) and so does its month-end report: balance not updated, −60.
- M1 is opened in the middle of November (a second accounts file), its first record that month.
- Money in and money out are never added: a subtree's three currencies are totalled apart, and the summary's
  records without money on a statement (x19 in, x11 out) are 60, not 0.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import textwrap
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from handbuilt import as_expected, build, currency_totals, query_totals, reconciled, run

from vosbench.analysis import saved_views, trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.analysis.saved_views import SavedView
from vosbench.core import money
from vosbench.ledger import setup
from vosbench.outputs import audit, finance

TIMEZONE = "America/New_York"

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    RX,Reseller Multi,reseller,,,USD,
    AX,Agent Euro,agent,RX,,EUR,Europe/Berlin
    E1,Kunde Euro,customer,AX,,EUR,Europe/Berlin
    U1,Customer Dollar,customer,RX,,USD,
    J1,Kyaku Yen,customer,RX,,JPY,Asia/Tokyo
    Q1,Quiet Customer,customer,RX,,USD,
"""

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses
    x01,Q1,deposit,40.0000,2026-08-10T10:00:00-04:00,ann,admin,cash,,,,40.0000,
    x02,U1,deposit,100.0000,2026-08-31T23:30:00-04:00,ann,admin,bank_wire,BW-02,,,100.0000,
    x03,U1,deposit,25.0000,2026-09-01T04:00:00Z,ann,admin,bank_wire,BW-03,,,124.0000,
    x04,E1,deposit,200.0000,2026-10-05T12:00:00-04:00,bob,admin,bank_wire,BW-E1,,,200.0000,
    x05,E1,bonus,10.0000,2026-10-06T12:00:00-04:00,bob,web,other,,promo,,210.0000,
    x06,AX,commission,3.5000,2026-10-31T23:59:59-04:00,sys,automatic,other,,,,,
    x08,J1,deposit,5000,2026-10-15T09:00:00-04:00,kei,admin,cash,,,,5000,
"""

CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    U1,2026-08-31,1.0000,0,0,3
    E1,2026-10-31,4.0000,0,0,7
"""

BALANCES = """
    account,as_of,balance
    U1,2026-09-01T00:00:00-04:00,99.0000
    Q1,2026-09-01T00:00:00-04:00,40.0000
    E1,2026-11-01T00:00:00-04:00,206.0000
    J1,2026-11-01T00:00:00-04:00,5000
"""

NOVEMBER = {
    "accounts.csv": """
        account,name,kind,parent,credit_limit,currency,timezone
        M1,Mid Month,customer,RX,,USD,Asia/Kolkata
    """,
    "payments.csv": """
        source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses
        x07,RX,commission,1.2500,2026-11-01T04:00:00Z,sys,automatic,other,,,,,
        x09,J1,auto_recharge,1000,2026-11-01T01:30:00-04:00,sys,automatic,card,,,,6000,
        x10,J1,auto_recharge,1000,2026-11-01T01:30:00-05:00,sys,automatic,card,,,,7000,
        x11,U1,withdrawal,-30.0000,2026-11-01T01:59:59-05:00,ann,admin,bank_wire,BW-11,,,94.0000,
        x12,U1,deposit,0.0001,2026-11-30T23:59:59-05:00,ann,web,gateway,GW-12,,,92.0001,
        x13,U1,deposit,5.0000,2026-12-01T05:00:00Z,ann,web,gateway,GW-13,,,97.0001,
        x14,E1,deposit,-200.0000,2026-11-10T12:00:00-05:00,bob,admin,bank_wire,,wrong account,,5.5000,x04
        x15,E1,deposit,200.0000,2026-11-12T12:00:00-05:00,bob,admin,bank_wire,,reversal was wrong,,205.5000,x14
        x16,Q1,deposit,60.0000,2026-11-20T12:00:00-05:00,ann,admin,bank_wire,BW-Q1,,,40.0000,
        x17,M1,deposit,15.0000,2026-11-15T12:00:00-05:00,ann,admin,cash,,,,15.0000,
        x18,E1,adjustment,-0.5000,2026-11-01T00:30:00-04:00,bob,admin,other,T-18,,fee correction,205.5000,
        x19,M1,deposit,30.0000,2026-11-18T12:00:00-05:00,ann,admin,bank_wire,BW-19,,,44.5000,
    """,
    "charges.csv": """
        account,day,call_fee,agent_fee,other_fee,calls
        U1,2026-11-01,2.0000,0,0,2
        E1,2026-11-30,1.0000,0,0,1
        J1,2026-11-01,300,0,0,5
        AX,2026-11-05,0,0.2500,0,0
        M1,2026-11-15,0.5000,0,0,1
    """,
    "balances.csv": """
        account,as_of,balance
        J1,2026-11-01T01:45:00-04:00,6000
        J1,2026-11-01T01:45:00-05:00,7000
        U1,2026-12-01T00:00:00-05:00,92.0001
        E1,2026-12-01T00:00:00-05:00,204.5000
        Q1,2026-12-01T00:00:00-05:00,40.0000
    """,
}

# The bank's USD statement of November: x16 arrived (BW-Q1); 77.00 arrived that no record holds; neither the
# deposit x19 (+30) nor the withdrawal x11 (−30), both bank wires, has a line: 60 of records without money, not 0.
BANK = """
    Date,Value date,Amount,Reference,Counterparty,Description,Transaction ID
    2026-11-20,2026-11-20,60.00,BW-Q1,Quiet Customer,wire,T1
    2026-11-25,2026-11-25,77.00,XYZ-9,Unknown Payer,wire,T2
"""

AGREES, NO_SNAPSHOT, NOT_UPDATED = "agrees", "no snapshot", "balance not updated"

# Per month and account: (opening, payments, charges, expected closing, reported, difference, status,
# {non-zero kinds and fees}); difference = reported − the balance at the report's instant.
RECONCILE = {
    "2026-08": {
        "Q1": ("0.0000", "40.0000", "0.0000", "40.0000", "40.0000", "0.0000", AGREES, {"deposit": "40.0000"}),
        # 100 (x02, Aug 31 local) − the Aug 31 fee 1; x03 is September's
        "U1": ("0.0000", "100.0000", "1.0000", "99.0000", "99.0000", "0.0000", AGREES,
               {"deposit": "100.0000", "call_fee": "1.0000"}),
    },
    "2026-09": {
        "Q1": ("40.0000", "0.0000", "0.0000", "40.0000", None, None, NO_SNAPSHOT, {}),
        "U1": ("99.0000", "25.0000", "0.0000", "124.0000", None, None, NO_SNAPSHOT, {"deposit": "25.0000"}),
    },
    "2026-10": {
        "AX": ("0.0000", "3.5000", "0.0000", "3.5000", None, None, NO_SNAPSHOT, {"commission": "3.5000"}),
        "E1": ("0.0000", "210.0000", "4.0000", "206.0000", "206.0000", "0.0000", AGREES,
               {"deposit": "200.0000", "bonus": "10.0000", "call_fee": "4.0000"}),
        "J1": ("0.0000", "5000.0000", "0.0000", "5000.0000", "5000.0000", "0.0000", AGREES, {"deposit": "5000.0000"}),
        "Q1": ("40.0000", "0.0000", "0.0000", "40.0000", None, None, NO_SNAPSHOT, {}),
        "U1": ("124.0000", "0.0000", "0.0000", "124.0000", None, None, NO_SNAPSHOT, {}),
    },
    "2026-11": {
        "RX": ("0.0000", "1.2500", "0.0000", "1.2500", None, None, NO_SNAPSHOT, {"commission": "1.2500"}),
        "AX": ("3.5000", "0.0000", "0.2500", "3.2500", None, None, NO_SNAPSHOT, {"agent_fee": "0.2500"}),
        # −0.5 (x18) −200 (x14) +200 (x15) − the Nov 30 fee 1
        "E1": ("206.0000", "-0.5000", "1.0000", "204.5000", "204.5000", "0.0000", AGREES,
               {"adjustment": "-0.5000", "call_fee": "1.0000"}),
        # reported 7000 at 01:45 EST, after both recharges and before the day's fee of 300
        "J1": ("5000.0000", "2000.0000", "300.0000", "6700.0000", "7000.0000", "0.0000", AGREES,
               {"auto_recharge": "2000.0000", "call_fee": "300.0000"}),
        "U1": ("124.0000", "-29.9999", "2.0000", "92.0001", "92.0001", "0.0000", AGREES,
               {"deposit": "0.0001", "withdrawal": "-30.0000", "call_fee": "2.0000"}),
        "Q1": ("40.0000", "60.0000", "0.0000", "100.0000", "40.0000", "-60.0000", NOT_UPDATED, {"deposit": "60.0000"}),
        "M1": ("0.0000", "45.0000", "0.5000", "44.5000", None, None, NO_SNAPSHOT, {"deposit": "45.0000", "call_fee": "0.5000"}),
    },
}

QUERIES = [
    # November 1, 25 hours: x07 (00:00 EDT), x18, x09, x10 and x11; x06 (Oct 31 23:59:59 EDT) is October's
    (("--from", "2026-11-01", "--to", "2026-11-01"), 5,
     {("commission", "USD"): (1, "1.2500"), ("adjustment", "EUR"): (1, "-0.5000"),
      ("auto_recharge", "JPY"): (2, "2000.0000"), ("withdrawal", "USD"): (1, "-30.0000")}),
    (("--from", "2026-10-31", "--to", "2026-10-31"), 1, {("commission", "EUR"): (1, "3.5000")}),
    # RX's subtree in November, each currency apart: x13 is December's
    (("--account", "RX", "--sub-accounts", "--from", "2026-11-01", "--to", "2026-11-30"), 11,
     {("commission", "USD"): (1, "1.2500"), ("auto_recharge", "JPY"): (2, "2000.0000"),
      ("withdrawal", "USD"): (1, "-30.0000"), ("deposit", "USD"): (4, "105.0001"), ("deposit", "EUR"): (2, "0.0000"),
      ("adjustment", "EUR"): (1, "-0.5000")}),
    # sizes either way over whole months (the amount buckets): x04, x14, x15 (EUR); x02, x16 (USD); x19 is 30
    (("--min-amount", "50", "--max-amount", "200", "--from", "2026-08-01", "--to", "2026-11-30"), 5,
     {("deposit", "EUR"): (3, "200.0000"), ("deposit", "USD"): (2, "160.0000")}),
    (("--max-amount", "0.5", "--from", "2026-11-01", "--to", "2026-11-30"), 2,
     {("adjustment", "EUR"): (1, "-0.5000"), ("deposit", "USD"): (1, "0.0001")}),
    # an operator over days that cut two months: x05 (Oct 6), x18, x14 (Nov 10)
    (("--operator", "bob", "--from", "2026-10-06", "--to", "2026-11-10"), 3,
     {("bonus", "EUR"): (1, "10.0000"), ("adjustment", "EUR"): (1, "-0.5000"), ("deposit", "EUR"): (1, "-200.0000")}),
]


@pytest.fixture(scope="module")
def fallback(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fallback")
    url = build(folder / "history", TIMEZONE,
                {"accounts.csv": ACCOUNTS, "payments.csv": PAYMENTS, "charges.csv": CHARGES, "balances.csv": BALANCES})
    for month in ("2026-08", "2026-09", "2026-10"):
        run("close", "--db", url, "--month", month, "--by", "sup1", "--receipt", str(folder / f"close-{month}.json"))
    (folder / "november").mkdir()
    for name, text in NOVEMBER.items():
        path = folder / "november" / name
        path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        run("import", "--db", url, str(path))
    bank = folder / "bank.csv"
    bank.write_text(textwrap.dedent(BANK).strip() + "\n", encoding="utf-8")
    run("statements", "import", "--db", url, "--profile", "generic-bank-csv", str(bank))
    return url


@pytest.mark.parametrize("month", sorted(RECONCILE))
def test_reconcile_matches_the_hand_worked_months(fallback, month):
    got = reconciled(fallback, month)
    assert {account: as_expected(row) for account, row in got["rows"].items()} == RECONCILE[month]
    assert got["totals"] == currency_totals(got["rows"], RECONCILE[month])


def test_a_subtree_in_three_currencies_is_totalled_per_currency(fallback):
    got = reconciled(fallback, "2026-11", "--subtree", "RX")
    assert sorted(got["rows"]) == ["AX", "E1", "J1", "M1", "Q1", "RX", "U1"]
    # USD: RX 1.25 + U1 92.0001 + Q1 100 + M1 44.5; EUR: AX 3.25 + E1 204.5; JPY: J1 6700
    assert {currency: (totals["opening"], totals["expected_closing"], totals["difference"])
            for currency, totals in got["totals"].items()} == {
        "USD": ("164.0000", "237.7501", "-60.0000"), "EUR": ("209.5000", "207.7500", "0.0000"),
        "JPY": ("5000.0000", "6700.0000", "0.0000")}


@pytest.mark.parametrize(("options", "count", "totals"), QUERIES, ids=[" ".join(q[0]) for q in QUERIES])
def test_query_totals_match_the_hand_worked_filters(fallback, options, count, totals):
    assert query_totals(fallback, *options) == (count, totals)


def _csv(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_statements_show_each_instant_of_the_repeated_hour_with_its_own_offset(fallback, tmp_path):
    for account in ("J1", "U1", "E1"):
        run("statement", "--db", fallback, "--account", account, "--from", "2026-11-01", "--to", "2026-11-30",
            "--format", "csv", "--out", str(tmp_path))
    rows = {account: [row[:7] for row in _csv(tmp_path / f"statement-{account}-2026-11-01-2026-11-30.csv")[1:]]
            for account in ("J1", "U1", "E1")}
    assert rows["J1"] == [
        ["2026-11-01", "Opening balance", "", "", "", "", "5000.0000"],
        ["2026-11-01 01:30:00 -04:00", "Automatic recharge", "", "9", "1000.0000", "", "6000.0000"],
        ["2026-11-01 01:30:00 -05:00", "Automatic recharge", "", "10", "1000.0000", "", "7000.0000"],
        ["2026-11-02 00:00:00 -05:00", "Call charges of 2026-11-01 (5 calls)", "", "", "", "300.0000", "6700.0000"],
        ["2026-11-30", "Closing balance", "", "", "", "", "6700.0000"]]
    assert rows["U1"] == [
        ["2026-11-01", "Opening balance", "", "", "", "", "124.0000"],
        ["2026-11-01 01:59:59 -05:00", "Withdrawal", "BW-11", "11", "", "30.0000", "94.0000"],
        ["2026-11-02 00:00:00 -05:00", "Call charges of 2026-11-01 (2 calls)", "", "", "", "2.0000", "92.0000"],
        ["2026-11-30 23:59:59 -05:00", "Payment received", "GW-12", "12", "0.0001", "", "92.0001"],
        ["2026-11-30", "Closing balance", "", "", "", "", "92.0001"]]
    assert rows["E1"] == [
        ["2026-11-01", "Opening balance", "", "", "", "", "206.0000"],
        ["2026-11-01 00:30:00 -04:00", "Balance adjustment", "T-18", "18", "", "0.5000", "205.5000"],
        ["2026-11-10 12:00:00 -05:00", "Reversal of payment 4", "", "14", "", "200.0000", "5.5000"],
        ["2026-11-12 12:00:00 -05:00", "Reversal of payment 14", "", "15", "200.0000", "", "205.5000"],
        ["2026-12-01 00:00:00 -05:00", "Call charges of 2026-11-30 (1 calls)", "", "", "", "1.0000", "204.5000"],
        ["2026-11-30", "Closing balance", "", "", "", "", "204.5000"]]


def test_a_quiet_accounts_statement_opens_with_the_balance_it_kept_for_months(fallback, tmp_path):
    run("statement", "--db", fallback, "--account", "Q1", "--from", "2026-09-01", "--to", "2026-11-30",
        "--format", "csv", "--out", str(tmp_path))
    rows = _csv(tmp_path / "statement-Q1-2026-09-01-2026-11-30.csv")[1:]
    assert [row[:8] for row in rows] == [
        ["2026-09-01", "Opening balance", "", "", "", "", "40.0000", ""],
        ["2026-11-20 12:00:00 -05:00", "Payment received", "BW-Q1", "16", "60.0000", "", "100.0000", "40.0000"],
        ["2026-11-30", "Closing balance", "", "", "", "", "100.0000", ""]]


def test_a_query_exported_to_csv_shows_each_instant_of_the_repeated_hour_with_its_own_offset(fallback, tmp_path):
    run("query", "--db", fallback, "--from", "2026-11-01", "--to", "2026-11-01", "--sort", "id", "--asc",
        "--format", "csv", "--out", str(tmp_path / "day.csv"))
    assert [(row["id"], row["occurred_at"]) for row in csv.DictReader(open(tmp_path / "day.csv", encoding="utf-8"))] == [
        ("8", "2026-11-01 00:00:00 -04:00"), ("9", "2026-11-01 01:30:00 -04:00"), ("10", "2026-11-01 01:30:00 -05:00"),
        ("11", "2026-11-01 01:59:59 -05:00"), ("18", "2026-11-01 00:30:00 -04:00")]


def _figures(frame: pd.DataFrame) -> dict:
    """A headline as {(figure's first words, currency): (amount text, count)}."""
    return {(row.figure.split(" (")[0].split(",")[0], row.currency):
            (None if pd.isna(row.amount) else money.format_money(int(row.amount), money.SCALE, grouping=False),
             None if pd.isna(row.count) else int(row.count)) for row in frame.itertuples()}


def test_the_finance_summary_of_the_subtree_keeps_its_three_currencies_apart(fallback):
    pack = finance.FinanceSummary.compute(setup.open_ledger(fallback), "2026-11", subtrees=("RX",))
    got = {key: value for key, value in _figures(pack.headline()).items() if key[1]}
    assert got == {
        # EUR: x15 in, x14 out (the reversal and its reversal); fees E1 1 + AX 0.25; x18 −0.5
        ("Cash in", "EUR"): ("200.0000", 1), ("Cash out", "EUR"): ("200.0000", 1), ("Charges", "EUR"): ("1.2500", None),
        ("Agent and reseller commissions", "EUR"): ("0.0000", None),
        ("Bonuses and adjustments", "EUR"): ("-0.5000", None),
        ("Balances held at the start of the month", "EUR"): ("209.5000", 2),
        ("Balances held at the end of the month", "EUR"): ("207.7500", None),
        ("Money on statements with no payment record", "EUR"): ("0.0000", 0),
        ("Payment records with no money on a statement", "EUR"): ("0.0000", 0),
        ("Cash in", "JPY"): ("2000.0000", 2), ("Cash out", "JPY"): ("0.0000", 0), ("Charges", "JPY"): ("300.0000", None),
        ("Agent and reseller commissions", "JPY"): ("0.0000", None),
        ("Bonuses and adjustments", "JPY"): ("0.0000", None),
        ("Balances held at the start of the month", "JPY"): ("5000.0000", 1),
        ("Balances held at the end of the month", "JPY"): ("6700.0000", None),
        ("Money on statements with no payment record", "JPY"): ("0.0000", 0),
        ("Payment records with no money on a statement", "JPY"): ("0.0000", 0),
        # USD in: 0.0001 + 60 + 15 + 30; out: 30; fees U1 2 + M1 0.5; the bank's 77.00 unrecorded; x19 (+30) and
        # x11 (−30) without money: 60, in and out never netted
        ("Cash in", "USD"): ("105.0001", 4), ("Cash out", "USD"): ("30.0000", 1), ("Charges", "USD"): ("2.5000", None),
        ("Agent and reseller commissions", "USD"): ("1.2500", None),
        ("Bonuses and adjustments", "USD"): ("0.0000", None),
        ("Balances held at the start of the month", "USD"): ("164.0000", 4),
        ("Balances held at the end of the month", "USD"): ("237.7501", None),
        ("Money on statements with no payment record", "USD"): ("77.0000", 1),
        ("Payment records with no money on a statement", "USD"): ("60.0000", 2),
    }
    resellers = {(row.currency, row.reseller): (money.format_money(int(row.balances_held), money.SCALE, grouping=False),
                                                int(row.accounts)) for row in pack.top_resellers().itertuples()}
    assert resellers == {("EUR", "RX"): ("207.7500", 2), ("JPY", "RX"): ("6700.0000", 1), ("USD", "RX"): ("237.7501", 4)}


@pytest.mark.parametrize(("kinds", "unmatched"), [
    ("withdrawal", {("USD", "no_money", "out"): (1, "0.0000", "-30.0000")}),
    ("deposit", {("USD", "no_payment_record", "in"): (1, "77.0000", "0.0000"),
                 ("USD", "no_money", "in"): (1, "0.0000", "30.0000")}),
    ("bonus", {}),
])
def test_the_summarys_unmatched_money_follows_a_views_kinds(fallback, tmp_path, kinds, unmatched):
    """A view of withdrawals has no deposit's money missing, and a view of bonuses no statement money at all."""
    path = saved_views.save_view(SavedView(f"only-{kinds}", PaymentFilter.from_parameters({"kinds": kinds})),
                                 tmp_path / "views")
    pack = finance.FinanceSummary.compute(setup.open_ledger(fallback), "2026-11", view=str(path))
    assert {(row.currency, row.status, row.direction): (row.items, money.format_money(int(row.statement_amount), money.SCALE),
                                                        money.format_money(int(row.recorded_amount), money.SCALE))
            for row in pack.unmatched.itertuples()} == unmatched


def test_november_audit_headline_matches_the_hand_worked_figures(fallback):
    monthly = audit.MonthlyAudit.compute(setup.open_ledger(fallback), "2026-11", large_payment_threshold="50.00",
                                         top_n=5, ledger_url=fallback)
    got = _figures(monthly.headline())
    assert {key: value for key, value in got.items() if key[1]} == {
        # EUR in: x15 200; out: x14 200 + x18 0.5; the two reversals net to 0; x14 and x15 are at least 50
        ("Money in", "EUR"): ("200.0000", 1), ("Money out", "EUR"): ("200.5000", 2),
        ("Net payments", "EUR"): ("-0.5000", 3), ("Charges", "EUR"): ("1.2500", None),
        ("Net change of balances", "EUR"): ("-1.7500", None), ("Reversals", "EUR"): ("0.0000", 2),
        ("Large payments", "EUR"): ("400.0000", 2),
        ("Opening balances", "EUR"): ("209.5000", 2), ("Expected closing balances", "EUR"): ("207.7500", None),
        ("Recorded closing balances", "EUR"): ("204.5000", 1), ("Differences", "EUR"): ("0.0000", 1),
        ("Money in", "JPY"): ("2000.0000", 2), ("Money out", "JPY"): ("0.0000", 0),
        ("Net payments", "JPY"): ("2000.0000", 2), ("Charges", "JPY"): ("300.0000", None),
        ("Net change of balances", "JPY"): ("1700.0000", None), ("Reversals", "JPY"): ("0.0000", 0),
        ("Large payments", "JPY"): ("2000.0000", 2),
        ("Opening balances", "JPY"): ("5000.0000", 1), ("Expected closing balances", "JPY"): ("6700.0000", None),
        ("Recorded closing balances", "JPY"): ("7000.0000", 1), ("Differences", "JPY"): ("0.0000", 0),
        # USD in: 1.25 + 0.0001 + 60 + 15 + 30; out: 30; reported U1 92.0001 + Q1 40; RX and M1 have no report
        ("Money in", "USD"): ("106.2501", 5), ("Money out", "USD"): ("30.0000", 1),
        ("Net payments", "USD"): ("76.2501", 6), ("Charges", "USD"): ("2.5000", None),
        ("Net change of balances", "USD"): ("73.7501", None), ("Reversals", "USD"): ("0.0000", 0),
        ("Large payments", "USD"): ("60.0000", 1),
        ("Opening balances", "USD"): ("164.0000", 4), ("Expected closing balances", "USD"): ("237.7501", None),
        ("Recorded closing balances", "USD"): ("132.0001", 2), ("Differences", "USD"): ("-60.0000", 3),
    }
    assert got[("Accounts active", "")] == (None, 7)  # every account moved money or was charged
    assert got[("Balance-chain breaks", "")] == (None, 1)  # Q1's x16: balance_after 40 where 100 was due
    # the Findings sheet (and the HTML's table) says when E1's adjustment was made with its offset: EDT, before 01:00
    (sheet,) = [table for table in monthly.control_tables() if table.name == "Findings"]
    assert ("adjustment of -0.50 on E1 by bob at 2026-11-01 00:30:00 -04:00 has no link (a reason and a ticket id "
            "or CDR flow number are required)") in sheet.frame["explanation"].tolist()


def test_the_november_journal_balances_each_currency_by_hand(fallback, tmp_path):
    run("export", "accounting", "--db", fallback, "--month", "2026-11", "--to", "journal", "--out", str(tmp_path))
    sums: dict[str, list[Decimal]] = {}
    for row in csv.DictReader(open(tmp_path / "journal-2026-11.csv", encoding="utf-8")):
        debit_credit = sums.setdefault(row["currency"], [Decimal(0), Decimal(0)])
        debit_credit[0] += Decimal(row["debit"])
        debit_credit[1] += Decimal(row["credit"])
    # EUR: x18 0.5 + AX 0.25 + x14 200 + x15 200 + E1 1; JPY: 1000 + 1000 + 300;
    # USD: x07 1.25 + x11 30 + U1 2 + x17 15 + M1 0.5 + x19 30 + x16 60 + x12 0.0001
    assert {currency: tuple(str(value) for value in pair) for currency, pair in sums.items()} == {
        "EUR": ("401.7500", "401.7500"), "JPY": ("2300.0000", "2300.0000"), "USD": ("138.7501", "138.7501")}


def test_the_daily_trend_keeps_the_25_hour_day_whole_and_each_currency_apart(fallback):
    engine = setup.open_ledger(fallback)
    period = PaymentFilter(start=date(2026, 10, 26), end=date(2026, 11, 8))
    got = {}
    for currency in ("USD", "EUR", "JPY"):
        shown = trends.trend(engine, period, grain="day", by="kind", currency=currency).totals
        got[currency] = {(row.bucket, money.format_money(int(row.amount), money.SCALE, grouping=False), int(row.count))
                         for row in shown.itertuples() if row.count}
        got[currency + " before"] = {(int(row.position), int(row.previous_count)) for row in shown.itertuples()
                                     if row.previous_count}
    assert got == {
        "USD": {("2026-11-01", "-28.7500", 2)},  # x11 −30 and x07 +1.25; x12 (Nov 30) is outside the days
        "USD before": set(),
        "EUR": {("2026-10-31", "3.5000", 1), ("2026-11-01", "-0.5000", 1)},  # x06 at 23:59:59 EDT, x18
        "EUR before": set(),
        "JPY": {("2026-11-01", "2000.0000", 2)},  # x09 and x10, the two 01:30s
        "JPY before": {(3, 1)},  # Oct 12–25: x08 on Oct 15, the fourth day
    }


def test_reconcile_names_the_second_0145_by_its_offset(fallback):
    """J1's November report is the 01:45 after the clocks went back: the explanation says which 01:45."""
    rows = reconciled(fallback, "2026-11")["rows"]
    assert rows["J1"]["snapshot_as_of"] == "2026-11-01 01:45:00 -05:00"
    assert rows["J1"]["explanation"] == ("the balance reported at 2026-11-01 01:45:00 -05:00 America/New_York equals "
                                         "opening + payments − charges")
    assert "payment 16 (deposit of 60.00 at 2026-11-20 12:00:00 -05:00 America/New_York)" in rows["Q1"]["explanation"]


DST_CONTROLS = """
    manual_channels: [admin, automatic]
    duplicate_window_minutes: 60
"""


def _explanations(url: str, month: str, *options: str) -> dict[tuple[str, str], str]:
    """``vosbench controls --format json``: (check, payment ids) → explanation."""
    rows = json.loads(run("controls", "--db", url, "--month", month, "--format", "json", *options))["rows"]
    return {(row["check"], row["payment_ids"]): row["explanation"] for row in rows}


def test_findings_name_each_instant_of_the_repeated_hour_by_its_offset_and_yen_without_cents(fallback, tmp_path):
    """J1's two recharges at 01:30 of November 1, one EDT, one EST, are read as people's entries (the automatic
    channel counted as manual) an hour apart: each is named by its own offset, and 1000 yen reads '1,000'."""
    settings = tmp_path / "controls.yaml"
    settings.write_text(textwrap.dedent(DST_CONTROLS).strip() + "\n", encoding="utf-8")
    got = _explanations(fallback, "2026-11", "--controls", str(settings))
    assert got[("duplicate", "9, 10")] == (
        "2 records credit J1 with 1,000 within 60 minutes under different references: "
        "#9 at 2026-11-01 01:30:00 -04:00 by sys; #10 at 2026-11-01 01:30:00 -05:00 by sys")
    assert got[("unapproved_above_threshold", "10")] == (
        "auto_recharge of 1,000 on J1 entered by sys at 2026-11-01 01:30:00 -05:00 without approval; "
        "no JPY auto_recharge threshold is set, so every one needs a second operator")
    # E1's adjustment of −0.50 EUR at 00:30 EDT, before the clocks went back
    assert got[("adjustment_without_reason_or_link", "18")] == (
        "adjustment of -0.50 on E1 by bob at 2026-11-01 00:30:00 -04:00 has no link "
        "(a reason and a ticket id or CDR flow number are required)")
    assert _explanations(fallback, "2026-10")[("unapproved_above_threshold", "7")] == (
        "deposit of 5,000 on J1 entered by kei at 2026-10-15 09:00:00 -04:00 without approval; "
        "no JPY deposit threshold is set, so every one needs a second operator")


def test_only_a_finding_the_months_controls_find_is_annotated(fallback, tmp_path, capsys):
    """Findings are computed, not stored: an id is taken when the month's controls, run with the settings named,
    find it now; an id of the right form that they do not find (mistyped, of another month, found only with other
    settings) is refused in one line naming it and how to list the real ones, and nothing is written."""
    from vosbench.commands import main

    url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    shared, mine = sqlite3.connect(fallback.removeprefix("sqlite:///")), sqlite3.connect(tmp_path / "ledger.sqlite")
    shared.backup(mine)  # a copy to annotate: the module's ledger stays as the other tests read it
    shared.close(), mine.close()
    run("operators", "--db", url, "add", "aud", "--role", "auditor")
    settings = tmp_path / "controls.yaml"
    settings.write_text(textwrap.dedent(DST_CONTROLS).strip() + "\n", encoding="utf-8")
    october = json.loads(run("controls", "--db", url, "--month", "2026-10", "--format", "json"))["rows"]
    yen = next(row["finding_id"] for row in october if row["check"] == "unapproved_above_threshold")
    twins = next(row["finding_id"] for row in json.loads(run(
        "controls", "--db", url, "--month", "2026-11", "--controls", str(settings), "--format", "json"))["rows"]
        if row["check"] == "duplicate")
    november = len(json.loads(run("controls", "--db", url, "--month", "2026-11", "--format", "json"))["rows"])

    def annotate(finding_id: str, month: str, *options: str) -> tuple[int, str]:
        code = main.main(["findings", "--db", url, "annotate", finding_id, "--month", month, "--status", "escalated",
                          "--note", "asked kei", "--by", "aud", *options])
        return code, capsys.readouterr().err

    assert annotate("F-0123456789ab", "2026-10") == (2, (
        f"vosbench findings: finding F-0123456789ab is not among the {len(october)} findings the controls find in "
        "2026-10; list them with `vosbench controls --month 2026-10` and copy an id from there\n"))
    assert annotate(yen, "2026-11") == (2, (
        f"vosbench findings: finding {yen} is not among the {november} findings the controls find in 2026-11; "
        "list them with `vosbench controls --month 2026-11` and copy an id from there\n"))
    code, err = annotate(twins, "2026-11")  # found only when the automatic channel counts as manual
    assert code == 2 and f"finding {twins} is not among" in err
    assert run("findings", "--db", url, "history", yen, "--format", "json").count('"finding_id"') == 0
    assert annotate(yen, "2026-10") == (0, "")
    assert annotate(twins, "2026-11", "--controls", str(settings)) == (0, "")
    history = json.loads(run("findings", "--db", url, "history", yen, "--format", "json"))["rows"]
    assert [(row["status"], row["note"], row["author"]) for row in history] == [("escalated", "asked kei", "aud")]
