"""Hand-built ledger 1: Berlin (Europe/Berlin, the autumn DST change), EUR and USD subtrees, Sep–Nov 2026.

Every figure below was worked out independently of vosbench (Decimal arithmetic over these rows,
from the README's definitions) and is written out with the reasoning for the edge cases.

Tree: R1 (EUR) → A1 → {C1, C2}, R1 → A2 → C3, R1 → C4;  R2 (USD) → A3 → C5, R2 → C6.
Month ends in Berlin: Sep 30 22:00Z (CEST, +02:00), Oct 31 23:00Z (CET, +01:00), Nov 30 23:00Z.

Edges, with the month each falls in:
- p08 C1 −0.0050 at Sep 30 23:59:59+02:00 → September; p09 C2 +10 at Sep 30 22:00Z (Oct 1 00:00 local) →
  October, and NOT in C2's September snapshot taken at that same instant (C2 agrees at 250.1234).
- p10 A1 commission at Sep 30 21:30Z (23:30 local) → September.
- p17 and p18: 02:30 on Oct 25 twice (CEST 00:30Z, then CET 01:30Z, the hour the clocks go back) → both Oct 25.
- p19 C4 at Oct 31 22:59:59Z (23:59:59 CET) → October; p20 at Oct 31 23:00Z → November (and not in
  C4's October snapshot of that instant: C4 agrees at 53.3334).
- A day's charges are deducted at the end of the local day: C1's Sep 30 fees (0.5001) are in September
  and in the Sep 30 22:00Z snapshot; its Nov 1 fee is November's.
- p14 reverses p13 (C3 deposit −60): C3's October deposits net to 0.
- 4-place amounts, a 0.0001 deposit (C6), a −0.0001 withdrawal (C2), a bonus of 0.0099 reversed (C5).
- C6's November balance is reported mid-month (Nov 5 12:00+01:00): 50.0001 then (the Nov 5 fee is
  deducted at the end of that day, the −50.0001 adjustment comes Nov 6), so it agrees although the
  month's expected closing is −1.0000.
"""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pandas as pd
import pytest
from handbuilt import as_expected, build, currency_totals, query_totals, reconciled, run

from vosbench.analysis import trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.core import money
from vosbench.ledger import setup
from vosbench.outputs import audit, finance
from vosbench.ui.explore_panel import PaymentExplorer

TIMEZONE = "Europe/Berlin"

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,Reseller Euro,reseller,,,EUR,
    A1,Agent Berlin,agent,R1,,EUR,
    A2,Agent Hamburg,agent,R1,,EUR,
    C1,Kunde Eins,customer,A1,,EUR,
    C2,Kunde Zwei,customer,A1,,EUR,
    C3,Kunde Drei,customer,A2,,EUR,
    C4,Kunde Vier,customer,R1,,EUR,
    R2,Reseller Dollar,reseller,,,USD,
    A3,Agent Dollar,agent,R2,,USD,
    C5,Customer Five,customer,A3,,USD,
    C6,Customer Six,customer,R2,,USD,
"""

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses
    p01,C1,deposit,100.0000,2026-09-02T08:00:00+02:00,ops1,admin,bank_wire,W-1,,,,
    p02,C1,bonus,5.5555,2026-09-02T08:05:00+02:00,ops1,admin,other,,welcome,,,
    p03,C2,deposit,250.1234,2026-09-10T12:00:00Z,ops2,web,gateway,GW-3,,,,
    p04,C3,deposit,40,2026-09-15T10:00:00+02:00,ops1,ivr,recharge_card,RC-4,,,40.0000,
    p05,C4,auto_recharge,20.0001,2026-09-20T10:00:00+02:00,auto,automatic,card,,,,,
    p06,C5,deposit,1000.00,2026-09-05T09:00:00-04:00,ops2,admin,bank_wire,W-6,,,,
    p07,C6,deposit,0.0001,2026-09-06T09:00:00Z,ops2,web,crypto,0xabc,,,,
    p08,C1,adjustment,-0.0050,2026-09-30T23:59:59+02:00,ops1,admin,other,,rounding,rounding fix,,
    p09,C2,deposit,10.00,2026-09-30T22:00:00Z,ops2,web,gateway,GW-9,,,,
    p10,A1,commission,12.3456,2026-09-30T21:30:00Z,ops1,admin,other,,,,,
    p11,C1,deposit,200,2026-10-05T09:00:00+02:00,ops1,admin,bank_wire,W-11,,,,
    p12,C1,withdrawal,-50.25,2026-10-06T15:00:00+02:00,ops1,admin,bank_wire,W-12,,,,
    p13,C3,deposit,60,2026-10-06T10:00:00+02:00,ops2,admin,cash,,,,100.0000,
    p14,C3,deposit,-60,2026-10-07T10:00:00+02:00,ops1,admin,cash,,reversal,,40.0000,p13
    p15,C4,adjustment,3.3333,2026-10-08T10:00:00+02:00,ops1,admin,other,T-15,,ticket 15,,
    p16,C2,bonus,1.0000,2026-10-09T10:00:00+02:00,ops2,admin,other,,,,,
    p17,C1,deposit,7.77,2026-10-25T02:30:00+02:00,ops3,web,gateway,GW-17,,,,
    p18,C1,deposit,8.88,2026-10-25T02:30:00+01:00,ops3,web,gateway,GW-18,,,,
    p19,C4,deposit,30,2026-10-31T22:59:59Z,ops3,admin,cash,,,,,
    p20,C4,deposit,31,2026-10-31T23:00:00Z,ops3,admin,cash,,,,,
    p21,A1,commission,15.0000,2026-10-31T12:00:00+01:00,ops1,admin,other,,,,,
    p22,R1,commission,2.5000,2026-10-31T12:00:00+01:00,ops1,admin,other,,,,,
    p23,C5,withdrawal,-100.0001,2026-10-12T12:00:00Z,ops2,admin,bank_wire,W-23,,,,
    p24,C5,bonus,0.0099,2026-10-13T12:00:00Z,ops2,admin,other,,,,,
    p25,C6,auto_recharge,50,2026-10-14T12:00:00Z,auto,automatic,card,,,,,
    p26,A3,commission,4.4444,2026-10-31T20:00:00Z,ops2,admin,other,,,,,
    p27,C1,deposit,10,2026-11-03T09:00:00+01:00,ops1,admin,bank_wire,W-27,,,,
    p28,C2,withdrawal,-0.0001,2026-11-04T09:00:00+01:00,ops2,admin,bank_wire,W-28,,,,
    p29,C5,deposit,25.5,2026-11-05T09:00:00+01:00,ops2,admin,bank_wire,W-29,,,,
    p30,C6,adjustment,-50.0001,2026-11-06T09:00:00+01:00,ops2,admin,other,T-30,,chargeback,,
    p31,C5,bonus,-0.0099,2026-11-07T09:00:00+01:00,ops2,admin,other,,,,,p24
    p32,C3,deposit,12.3400,2026-11-08T09:00:00+01:00,ops1,admin,cash,,,,40.0000,
"""

CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-15,1.2345,0,0,3
    C1,2026-09-30,0.0001,0,0.5000,1
    C1,2026-10-01,2.0000,0,0,2
    C1,2026-10-25,3.1111,0,0,4
    C1,2026-10-31,1.0000,0,0,1
    C1,2026-11-01,0.5000,0,0,1
    C2,2026-10-15,5.0000,0,0,5
    A1,2026-10-15,0,1.5000,0,0
    C5,2026-10-10,10.0000,0,0.2500,8
    C5,2026-11-30,3.0000,0,0,2
    C6,2026-11-05,0,0,1.0000,0
    C4,2026-11-01,0.4444,0,0,1
"""

BALANCES = """
    account,as_of,balance
    C1,2026-10-01T00:00:00+02:00,103.8159
    C2,2026-10-01T00:00:00+02:00,250.1234
    C3,2026-10-01T00:00:00+02:00,40.0000
    C5,2026-10-01T00:00:00+02:00,990.0000
    C1,2026-11-01T00:00:00+01:00,264.1048
    C2,2026-11-01T00:00:00+01:00,256.0000
    C3,2026-11-01T00:00:00+01:00,40.0000
    C4,2026-11-01T00:00:00+01:00,53.3334
    C5,2026-11-01T00:00:00+01:00,879.7598
    A1,2026-11-01T00:00:00+01:00,25.8456
    C1,2026-12-01T00:00:00+01:00,273.6048
    C3,2026-12-01T00:00:00+01:00,40.0000
    C5,2026-12-01T00:00:00+01:00,912.2499
    C6,2026-11-05T12:00:00+01:00,50.0001
"""

AGREES, NO_SNAPSHOT, DISAGREES = "agrees", "no snapshot", "snapshot disagrees"
CARRIED, NOT_UPDATED = "carried over", "balance not updated"

# Per month and account: (opening, payments, charges, expected closing, reported, difference, status,
# {non-zero kinds and fees}). opening = Σ payments before the local month + … − Σ charges of earlier days;
# expected = opening + payments − charges; difference = reported − the balance at the report's instant.
RECONCILE = {
    "2026-09": {
        "A1": ("0.0000", "12.3456", "0.0000", "12.3456", None, None, NO_SNAPSHOT, {"commission": "12.3456"}),
        # 100 + 5.5555 − 0.0050 = 105.5505; fees 1.2345 + 0.0001 (call) + 0.5000 (other) = 1.7346
        "C1": ("0.0000", "105.5505", "1.7346", "103.8159", "103.8159", "0.0000", AGREES,
               {"deposit": "100.0000", "adjustment": "-0.0050", "bonus": "5.5555", "call_fee": "1.2346", "other_fee": "0.5000"}),
        "C2": ("0.0000", "250.1234", "0.0000", "250.1234", "250.1234", "0.0000", AGREES, {"deposit": "250.1234"}),
        "C3": ("0.0000", "40.0000", "0.0000", "40.0000", "40.0000", "0.0000", AGREES, {"deposit": "40.0000"}),
        "C4": ("0.0000", "20.0001", "0.0000", "20.0001", None, None, NO_SNAPSHOT, {"auto_recharge": "20.0001"}),
        # a new account whose first month-end report is 10 short, no balance_after to break: only the snapshot is off
        "C5": ("0.0000", "1000.0000", "0.0000", "1000.0000", "990.0000", "-10.0000", DISAGREES, {"deposit": "1000.0000"}),
        "C6": ("0.0000", "0.0001", "0.0000", "0.0001", None, None, NO_SNAPSHOT, {"deposit": "0.0001"}),
    },
    "2026-10": {
        "R1": ("0.0000", "2.5000", "0.0000", "2.5000", None, None, NO_SNAPSHOT, {"commission": "2.5000"}),
        "A1": ("12.3456", "15.0000", "1.5000", "25.8456", "25.8456", "0.0000", AGREES, {"commission": "15.0000", "agent_fee": "1.5000"}),
        # 200 + 7.77 + 8.88 = 216.65 deposits, −50.25; fees 2 (Oct 1) + 3.1111 (Oct 25) + 1 (Oct 31) = 6.1111
        "C1": ("103.8159", "166.4000", "6.1111", "264.1048", "264.1048", "0.0000", AGREES,
               {"deposit": "216.6500", "withdrawal": "-50.2500", "call_fee": "6.1111"}),
        # 250.1234 + 10 + 1 − 5 = 256.1234, reported 256.0000; September agreed
        "C2": ("250.1234", "11.0000", "5.0000", "256.1234", "256.0000", "-0.1234", DISAGREES,
               {"deposit": "10.0000", "bonus": "1.0000", "call_fee": "5.0000"}),
        "C3": ("40.0000", "0.0000", "0.0000", "40.0000", "40.0000", "0.0000", AGREES, {}),  # +60 and its reversal −60
        "C4": ("20.0001", "33.3333", "0.0000", "53.3334", "53.3334", "0.0000", AGREES, {"deposit": "30.0000", "adjustment": "3.3333"}),
        "A3": ("0.0000", "4.4444", "0.0000", "4.4444", None, None, NO_SNAPSHOT, {"commission": "4.4444"}),
        # −100.0001 + 0.0099 = −99.9902; fees 10 + 0.25; reported 879.7598: −10 again, as in September
        "C5": ("1000.0000", "-99.9902", "10.2500", "889.7598", "879.7598", "-10.0000", CARRIED,
               {"withdrawal": "-100.0001", "bonus": "0.0099", "call_fee": "10.0000", "other_fee": "0.2500"}),
        "C6": ("0.0001", "50.0000", "0.0000", "50.0001", None, None, NO_SNAPSHOT, {"auto_recharge": "50.0000"}),
    },
    "2026-11": {
        "R1": ("2.5000", "0.0000", "0.0000", "2.5000", None, None, NO_SNAPSHOT, {}),
        "A1": ("25.8456", "0.0000", "0.0000", "25.8456", None, None, NO_SNAPSHOT, {}),
        "C1": ("264.1048", "10.0000", "0.5000", "273.6048", "273.6048", "0.0000", AGREES, {"deposit": "10.0000", "call_fee": "0.5000"}),
        "C2": ("256.1234", "-0.0001", "0.0000", "256.1233", None, None, NO_SNAPSHOT, {"withdrawal": "-0.0001"}),
        # p32 (+12.34) reported a balance_after of 40.0000, unchanged: the break's gap −12.34 is the difference
        "C3": ("40.0000", "12.3400", "0.0000", "52.3400", "40.0000", "-12.3400", NOT_UPDATED, {"deposit": "12.3400"}),
        "C4": ("53.3334", "31.0000", "0.4444", "83.8890", None, None, NO_SNAPSHOT, {"deposit": "31.0000", "call_fee": "0.4444"}),
        "A3": ("4.4444", "0.0000", "0.0000", "4.4444", None, None, NO_SNAPSHOT, {}),
        # 25.5 − 0.0099 (p24 reversed) = 25.4901; fee 3; 889.7598 + 25.4901 − 3 = 912.2499 = reported
        "C5": ("889.7598", "25.4901", "3.0000", "912.2499", "912.2499", "0.0000", AGREES,
               {"deposit": "25.5000", "bonus": "-0.0099", "call_fee": "3.0000"}),
        # 50.0001 − 50.0001 − 1 = −1.0000 at the month's end; reported mid-month (see the module docstring)
        "C6": ("50.0001", "-50.0001", "1.0000", "-1.0000", "50.0001", "0.0000", AGREES, {"adjustment": "-50.0001", "other_fee": "1.0000"}),
    },
}

# vosbench query options → (count, {(kind, currency): (count, Σ amount)}), local days inclusive, |amount| bounds inclusive.
QUERIES = [
    # p08 (23:59:59 local) and p10 (23:30 local); p09 at local midnight is Oct 1's
    (["--from", "2026-09-30", "--to", "2026-09-30"], 2, {("adjustment", "EUR"): (1, "-0.0050"), ("commission", "EUR"): (1, "12.3456")}),
    (["--from", "2026-10-01", "--to", "2026-10-01"], 1, {("deposit", "EUR"): (1, "10.0000")}),
    (["--from", "2026-10-25", "--to", "2026-10-25"], 2, {("deposit", "EUR"): (2, "16.6500")}),  # 7.77 + 8.88, the DST day
    # p19 (23:59:59 CET), p21, p22 (EUR), p26 (21:00 CET, USD); p20 at 00:00 CET is Nov 1's
    (["--from", "2026-10-31", "--to", "2026-10-31"], 4,
     {("commission", "EUR"): (2, "17.5000"), ("commission", "USD"): (1, "4.4444"), ("deposit", "EUR"): (1, "30.0000")}),
    # A1, C1, C2 in October: 10 + 200 + 7.77 + 8.88 deposits, −50.25, bonus 1, commission 15
    (["--account", "A1", "--sub-accounts", "--from", "2026-10-01", "--to", "2026-10-31"], 7,
     {("bonus", "EUR"): (1, "1.0000"), ("commission", "EUR"): (1, "15.0000"), ("deposit", "EUR"): (4, "226.6500"),
      ("withdrawal", "EUR"): (1, "-50.2500")}),
    (["--account", "R2", "--sub-accounts", "--kind", "bonus"], 2, {("bonus", "USD"): (2, "0.0000")}),  # 0.0099 and its reversal
    (["--min-amount", "0.0001", "--max-amount", "0.0099"], 5,
     {("adjustment", "EUR"): (1, "-0.0050"), ("bonus", "USD"): (2, "0.0000"), ("deposit", "USD"): (1, "0.0001"),
      ("withdrawal", "EUR"): (1, "-0.0001")}),
    # EUR: 100 + 40 + 10 + 60 − 60 + 30 + 31 + 10 + 12.34 (100 is inside, the bound is inclusive); USD 25.5
    (["--kind", "deposit", "--min-amount", "10", "--max-amount", "100"], 10,
     {("deposit", "EUR"): (9, "233.3400"), ("deposit", "USD"): (1, "25.5000")}),
    (["--operator", "ops2", "--channel", "admin"], 10,
     {("adjustment", "USD"): (1, "-50.0001"), ("bonus", "EUR"): (1, "1.0000"), ("bonus", "USD"): (2, "0.0000"),
      ("commission", "USD"): (1, "4.4444"), ("deposit", "EUR"): (1, "60.0000"), ("deposit", "USD"): (2, "1025.5000"),
      ("withdrawal", "EUR"): (1, "-0.0001"), ("withdrawal", "USD"): (1, "-100.0001")}),
    (["--text", "gw-1"], 2, {("deposit", "EUR"): (2, "16.6500")}),  # GW-17, GW-18 (any case); not GW-3, GW-9
]


@pytest.fixture(scope="module")
def berlin(tmp_path_factory) -> str:
    return build(tmp_path_factory.mktemp("handbuilt") / "berlin", TIMEZONE,
                 {"accounts.csv": ACCOUNTS, "payments.csv": PAYMENTS, "charges.csv": CHARGES, "balances.csv": BALANCES})


@pytest.mark.parametrize("month", sorted(RECONCILE))
def test_reconcile_matches_the_hand_worked_months(berlin, month):
    got = reconciled(berlin, month)
    assert {account: as_expected(row) for account, row in got["rows"].items()} == RECONCILE[month]
    assert got["totals"] == currency_totals(got["rows"], RECONCILE[month])


def test_reconcile_subtree_sums_its_accounts(berlin):
    got = reconciled(berlin, "2026-10", "--subtree", "A1")
    assert sorted(got["rows"]) == ["A1", "C1", "C2"]
    # expected closings 25.8456 + 264.1048 + 256.1234; reported 25.8456 + 264.1048 + 256.0000
    totals = got["totals"]["EUR"]
    assert (totals["expected_closing"], totals["recorded_closing"], totals["difference"]) == ("546.0738", "545.9504", "-0.1234")
    assert list(got["totals"]) == ["EUR"]


@pytest.mark.parametrize(("options", "count", "totals"), QUERIES, ids=[" ".join(q[0]) for q in QUERIES])
def test_query_totals_match_the_hand_worked_filters(berlin, options, count, totals):
    assert query_totals(berlin, *options) == (count, totals)


def test_october_journal_balances_per_currency(berlin, tmp_path):
    run("export", "accounting", "--db", berlin, "--month", "2026-10", "--to", "journal", "--out", str(tmp_path))
    net: dict[tuple[str, str], Decimal] = {}
    debits: dict[str, Decimal] = {}
    with open(tmp_path / "journal-2026-10.csv", newline="", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            key = (line["currency"], line["account_code"])
            net[key] = net.get(key, Decimal(0)) + Decimal(line["debit"]) - Decimal(line["credit"])
            debits[line["currency"]] = debits.get(line["currency"], Decimal(0)) + Decimal(line["debit"])
    # every entry's debit is |amount| or the day's fee: EUR 448.7333 moved + 12.6111 fees; USD 154.4544 + 10.25
    assert debits == {"EUR": Decimal("461.3444"), "USD": Decimal("164.7044")}
    assert {key: f"{value:.4f}" for key, value in net.items() if key[1] in ("1010", "1020", "1030", "1040", "2100", "2110", "2120")} == {
        ("EUR", "1010"): "149.7500",   # bank wires: 200 − 50.25
        ("EUR", "1030"): "26.6500",    # gateway: 10 + 7.77 + 8.88
        ("EUR", "1040"): "30.0000",    # cash: 60 − 60 (reversal) + 30
        ("EUR", "2100"): "-199.6222",  # customers owed: 166.40 + 11 + 0 + 33.3333 paid in − 11.1111 fees
        ("EUR", "2110"): "-13.5000",   # A1: 15 commission − 1.5 agent fee
        ("EUR", "2120"): "-2.5000",    # R1: commission
        ("USD", "1010"): "-100.0001",  # C5's withdrawal
        ("USD", "1020"): "50.0000",    # C6's auto-recharge by card
        ("USD", "2100"): "60.2402",    # customers: −99.9902 + 50 paid in, 10.25 fees → 49.9902 + 10.25 debited
        ("USD", "2110"): "-4.4444",    # A3: commission
    }


def _trend_by_month(url: str, currency: str | None, f: PaymentFilter) -> tuple[dict, dict]:
    """The trend by month and kind: (month, kind) → (count, amount) and month → (count, amount), amounts at 4 places."""
    shown = trends.trend(setup.open_ledger(url), f, grain="month", by="kind", currency=currency)

    def exact(minor: int) -> str:
        return money.format_money(minor, money.SCALE, grouping=False)

    groups = {(row.bucket, row.group): (row.count, exact(row.amount)) for row in shown.groups.itertuples()}
    totals = {row.bucket: (row.count, exact(row.amount)) for row in shown.totals.itertuples()}
    return groups, totals


AUTUMN = PaymentFilter(start=date(2026, 9, 1), end=date(2026, 11, 30))


def test_trend_is_drawn_one_currency_at_a_time(berlin):
    # EUR per month and kind (the reconcile rows' payments above, summed over R1's subtree):
    # Sep: deposits 100 + 250.1234 + 40; Oct: 10 + 200 + 7.77 + 8.88 + 60 − 60 + 30; Nov: 10 + 31 + 12.34
    groups, totals = _trend_by_month(berlin, "EUR", AUTUMN)
    assert groups == {
        ("2026-09", "deposit"): (3, "390.1234"), ("2026-09", "commission"): (1, "12.3456"),
        ("2026-09", "auto_recharge"): (1, "20.0001"), ("2026-09", "bonus"): (1, "5.5555"), ("2026-09", "adjustment"): (1, "-0.0050"),
        ("2026-10", "deposit"): (7, "256.6500"), ("2026-10", "withdrawal"): (1, "-50.2500"), ("2026-10", "commission"): (2, "17.5000"),
        ("2026-10", "bonus"): (1, "1.0000"), ("2026-10", "adjustment"): (1, "3.3333"),
        ("2026-11", "deposit"): (3, "53.3400"), ("2026-11", "withdrawal"): (1, "-0.0001"),
    }
    assert totals == {"2026-09": (7, "428.0196"), "2026-10": (12, "228.2333"), "2026-11": (4, "53.3399")}
    # USD: Sep 1000 + 0.0001; Oct −100.0001 + 50 + 4.4444 + 0.0099; Nov 25.5 − 50.0001 − 0.0099
    _, totals = _trend_by_month(berlin, "USD", AUTUMN)
    assert totals == {"2026-09": (2, "1000.0001"), "2026-10": (4, "-45.5458"), "2026-11": (3, "-24.5100")}
    # read from the records rather than the rollup (an operator filter): ops2's USD records only
    _, totals = _trend_by_month(berlin, "USD", replace(AUTUMN, operators=["ops2"]))
    assert totals == {"2026-09": (2, "1000.0001"), "2026-10": (3, "-95.5458"), "2026-11": (3, "-24.5100")}


def test_a_trend_over_two_currencies_names_them_instead_of_adding_them(berlin):
    # vosbench used to add EUR and USD: September's deposits showed as 1390.1235.
    with pytest.raises(trends.TrendError, match="EUR, USD, which never add up"):
        trends.trend(setup.open_ledger(berlin), AUTUMN)
    with pytest.raises(trends.TrendError, match="no account holds 'GBP'"):
        trends.trend(setup.open_ledger(berlin), AUTUMN, currency="GBP")


def test_the_explorer_draws_the_trend_of_the_chosen_currency(berlin, tmp_path):
    explorer = PaymentExplorer(setup.open_ledger(berlin), initial=AUTUMN, export_dir=tmp_path)
    assert (explorer.trends.currency.options, explorer.trends.currency.value) == (("EUR", "USD"), "EUR")
    assert explorer.trends.currency.layout.display != "none"  # two currencies: the choice is shown
    deposits = next(trace for trace in explorer.trends.figure.data if trace.name == "deposit")
    assert list(deposits.y) == ["390.1234", "256.6500", "53.3400"]  # EUR only (see the trend test above)
    explorer.trends.currency.value = "USD"
    deposits = next(trace for trace in explorer.trends.figure.data if trace.name == "deposit")
    assert list(deposits.y) == ["1000.0001", "0.0000", "25.5000"]  # no USD deposit in October
    assert "USD" in explorer.trends.figure.layout.yaxis.title.text


def test_october_audit_headline_matches_the_hand_worked_figures(berlin):
    monthly = audit.MonthlyAudit.compute(setup.open_ledger(berlin), "2026-10", large_payment_threshold="5000.00", top_n=5,
                                         ledger_url=berlin)
    got = {(row.figure.split(" (")[0].split(",")[0], row.currency): (money.format_money(int(row.amount), money.SCALE, grouping=False)
                                                                   if not pd.isna(row.amount) else None,
                                                                   None if pd.isna(row.count) else int(row.count))
           for row in monthly.headline().itertuples()}
    assert {key: value for key, value in got.items() if key[1]} == {
        # EUR in: 10 + 200 + 60 + 3.3333 + 1 + 7.77 + 8.88 + 30 + 15 + 2.5; out: 50.25 + 60 (p14 reverses p13)
        ("Money in", "EUR"): ("338.4833", 10), ("Money out", "EUR"): ("110.2500", 2),
        ("Net payments", "EUR"): ("228.2333", 12), ("Charges", "EUR"): ("12.6111", None),
        ("Net change of balances", "EUR"): ("215.6222", None), ("Reversals", "EUR"): ("-60.0000", 1),
        ("Large payments", "EUR"): ("0.0000", 0),
        # the reconcile rows of October above: 6 EUR accounts, 5 with a report, 2 not agreeing (R1, C2)
        ("Opening balances", "EUR"): ("426.2850", 6), ("Expected closing balances", "EUR"): ("641.9072", None),
        ("Recorded closing balances", "EUR"): ("639.2838", 5), ("Differences", "EUR"): ("-0.1234", 2),
        # USD in: 0.0099 + 50 + 4.4444; out: 100.0001
        ("Money in", "USD"): ("54.4543", 3), ("Money out", "USD"): ("100.0001", 1),
        ("Net payments", "USD"): ("-45.5458", 4), ("Charges", "USD"): ("10.2500", None),
        ("Net change of balances", "USD"): ("-55.7958", None), ("Reversals", "USD"): ("0.0000", 0),
        ("Large payments", "USD"): ("0.0000", 0),
        ("Opening balances", "USD"): ("1000.0001", 3), ("Expected closing balances", "USD"): ("944.2043", None),
        ("Recorded closing balances", "USD"): ("879.7598", 1), ("Differences", "USD"): ("-10.0000", 3),
    }
    # R1, A1, C1, C2, C3, C4 and A3, C5, C6 moved money or were charged in October
    assert got[("Accounts active", "")] == (None, 9)
    assert got[("Balance-chain breaks", "")] == (None, 0)


def test_the_finance_packs_top_resellers_pass_through_an_agent_without_money_of_its_own(berlin):
    """C3 sits under A2, which neither moved money nor was charged in October: its money is R1's."""
    pack = finance.FinanceSummary.compute(setup.open_ledger(berlin), "2026-10")
    rows = {(row.currency, row.reseller): (money.format_money(int(row.balances_held), money.SCALE, grouping=False),
                                           int(row.accounts)) for row in pack.top_resellers().itertuples()}
    # October's expected closings: R1, A1, C1, C2, C3, C4 (EUR, 641.9072 with the headline); A3, C5, C6 (USD)
    assert rows == {("EUR", "R1"): ("641.9072", 6), ("USD", "R2"): ("944.2043", 3)}


def test_the_explorers_charts_never_add_two_currencies(berlin, tmp_path):
    explorer = PaymentExplorer(setup.open_ledger(berlin), initial=AUTUMN, export_dir=tmp_path)
    explorer.query_button.click()  # every account: EUR and USD
    assert explorer.charts.figures == {} and explorer.charts.data == {}
    [note] = explorer.charts.outputs["monthly"].outputs
    assert "keep EUR, USD: pick an account or a subtree of one currency" in note["data"]["text/plain"]
    explorer.charts.update(explorer.engine, replace(AUTUMN, accounts=("R1",), include_sub_accounts=True), "Europe/Berlin")
    monthly = explorer.charts.figures["monthly"]
    deposits = next(trace for trace in monthly.data if trace.name == "deposit" and trace.yaxis == "y")
    assert [str(value) for value in deposits.y] == ["390.1234", "256.6500", "53.3400"]  # EUR alone, as the trend
    assert "EUR" in monthly.layout.yaxis.title.text
