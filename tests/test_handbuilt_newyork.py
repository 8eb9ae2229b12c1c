"""Hand-built ledger 3: New York (America/New_York: −05:00, then −04:00 from the spring DST change of
2026-03-08), a USD tree and a CAD reseller, negative balances, Feb–Apr 2026 (one record in January).

Every figure below was worked out independently of vosbench (Decimal arithmetic over these rows, from
the README's definitions) and is written out with the reasoning for the edge cases.

Tree: RN (USD) → AN → {N1, N2}, RN → N3;  RC (CAD) → T1.
Month ends in New York: Mar 1 05:00Z (EST), Apr 1 04:00Z and May 1 04:00Z (EDT).

Edges, with the month each falls in:
- n03 N2 at Jan 31 23:59:59 EST → January (February's opening is 300); n04 at Feb 1 05:00Z (00:00 EST) → February.
- n05 N3 at Feb 28 23:59:59 EST → February; n06 at Mar 1 05:00Z → March, after N3's report of that instant.
- n12 at 01:59:59 EST and n13 at 03:00 EDT on Mar 8 are one second apart across the skipped hour; Mar 8's
  fee (0.2222) comes at that day's end, after both.
- n15 N2 at Mar 31 23:59:59 EDT → March; n16 at Apr 1 04:00Z (00:00 EDT) → April, after N2's March report.
- A report at the very instant of a payment does not include it: N3's report at Mar 20 12:00 EDT (30.3030)
  is taken as n24 (+15.1515, same instant) is recorded; so are the March and April month-end reports of N2
  and N3 when the month is cut in UTC (their instants then fall inside the UTC month).
- N1 goes negative (credit limit 50); its −75 write-off n21 reported an unchanged balance_after (75.0000
  instead of −1.3333: gap 76.3333); N2's n16 reported 350.0000 instead of 349.9999 (the Mar 31 fee of
  0.0001 missed: gap 0.0001). Both differences are those gaps: balance not updated.
- T1: a deposit reversed the next day and entered again (n09, n10, n11); its Apr 1 12:00 EDT report
  (1000.0000, before that day's fee) is not April's latest: the May 1 report is.
- n23 reverses RN's February commission n08 in April.
"""

from __future__ import annotations

import pytest
from handbuilt import as_expected, build, currency_totals, query_totals, reconciled

TIMEZONE = "America/New_York"

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    RN,Reseller New York,reseller,,,USD,
    AN,Agent Brooklyn,agent,RN,,USD,
    N1,Customer Queens,customer,AN,50.0000,USD,
    N2,Customer Bronx,customer,AN,,USD,
    N3,Customer Harlem,customer,RN,,USD,
    RC,Reseller Toronto,reseller,,,CAD,
    T1,Customer Toronto,customer,RC,,CAD,
"""

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses
    n01,N1,deposit,20.0000,2026-02-01T00:00:00-05:00,dee,admin,cash,,,,20.0000,
    n02,N1,withdrawal,-45.5000,2026-02-10T12:00:00-05:00,dee,admin,cash,,,,-25.5000,
    n03,N2,deposit,300.0000,2026-01-31T23:59:59-05:00,dee,admin,bank_wire,BW-03,,,300.0000,
    n04,N2,bonus,30.0000,2026-02-01T05:00:00Z,eve,web,other,,promo feb,,330.0000,
    n05,N3,auto_recharge,15.1515,2026-02-28T23:59:59-05:00,sys,automatic,card,,,,15.1515,
    n06,N3,auto_recharge,15.1515,2026-03-01T05:00:00Z,sys,automatic,card,,,,30.3030,
    n07,AN,commission,9.8765,2026-02-28T12:00:00-05:00,eve,admin,other,,,,,
    n08,RN,commission,0.1235,2026-02-28T12:00:00-05:00,eve,admin,other,,,,,
    n09,T1,deposit,1234.5678,2026-02-15T12:00:00-05:00,fay,web,gateway,GW-09,,,1234.5678,
    n10,T1,deposit,-1234.5678,2026-02-16T12:00:00-05:00,fay,web,gateway,,wrong account,,0.0000,n09
    n11,T1,deposit,1234.5678,2026-02-16T12:05:00-05:00,fay,web,gateway,GW-11,,,1234.5678,
    n12,N1,deposit,100.0000,2026-03-08T01:59:59-05:00,dee,admin,cash,,,,73.3889,
    n13,N1,deposit,0.5000,2026-03-08T03:00:00-04:00,dee,admin,cash,,,,73.8889,
    n14,N2,adjustment,-0.0001,2026-03-15T12:00:00-04:00,eve,admin,other,T-14,,rounding,329.9999,
    n15,N2,withdrawal,-29.9999,2026-03-31T23:59:59-04:00,eve,admin,bank_wire,BW-15,,,300.0000,
    n16,N2,deposit,50.0000,2026-04-01T04:00:00Z,eve,admin,bank_wire,BW-16,,,350.0000,
    n17,AN,commission,12.0000,2026-03-31T12:00:00-04:00,eve,admin,other,,,,,
    n18,T1,withdrawal,-234.5678,2026-03-20T12:00:00-04:00,fay,admin,bank_wire,BW-18,,,1000.0000,
    n19,T1,bonus,0.0001,2026-04-30T23:59:59-04:00,fay,admin,other,,,,1000.0001,
    n20,N3,auto_recharge,15.1515,2026-04-01T12:00:00-04:00,sys,automatic,card,,,,60.6060,
    n21,N1,adjustment,-75.0000,2026-04-02T12:00:00-04:00,dee,admin,other,,write off,,75.0000,
    n22,N2,withdrawal,-350.0000,2026-04-15T12:00:00-04:00,eve,admin,bank_wire,BW-22,,,0.0000,
    n23,RN,commission,-0.1235,2026-04-10T12:00:00-04:00,eve,admin,other,,,,,n08
    n24,N3,auto_recharge,15.1515,2026-03-20T12:00:00-04:00,sys,automatic,card,,,,,
"""

CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    N1,2026-02-28,1.1111,0,0,2
    N1,2026-03-08,0.2222,0,0,1
    N2,2026-03-31,0,0,0.0001,0
    N3,2026-04-30,5.0000,0,1.0000,3
    AN,2026-03-10,0,2.5000,0,0
    T1,2026-04-01,10.0000,0,0,4
"""

BALANCES = """
    account,as_of,balance
    N1,2026-03-01T00:00:00-05:00,-26.6111
    N2,2026-03-01T00:00:00-05:00,330.0000
    N3,2026-03-01T00:00:00-05:00,15.1515
    T1,2026-03-01T00:00:00-05:00,1234.5678
    N1,2026-04-01T00:00:00-04:00,73.6667
    N2,2026-04-01T00:00:00-04:00,299.9999
    T1,2026-04-01T00:00:00-04:00,1000.0000
    AN,2026-04-01T00:00:00-04:00,19.3765
    N1,2026-05-01T00:00:00-04:00,75.0000
    N2,2026-05-01T00:00:00-04:00,0.0000
    N3,2026-05-01T00:00:00-04:00,54.6060
    T1,2026-04-01T12:00:00-04:00,1000.0000
    T1,2026-05-01T00:00:00-04:00,990.0001
    N3,2026-03-20T12:00:00-04:00,30.3030
"""

AGREES, NO_SNAPSHOT, NOT_UPDATED = "agrees", "no snapshot", "balance not updated"

# Per month and account: (opening, payments, charges, expected closing, reported, difference, status,
# {non-zero kinds and fees}); difference = reported − the balance at the report's instant.
RECONCILE = {
    "2026-02": {
        "RN": ("0.0000", "0.1235", "0.0000", "0.1235", None, None, NO_SNAPSHOT, {"commission": "0.1235"}),
        "AN": ("0.0000", "9.8765", "0.0000", "9.8765", None, None, NO_SNAPSHOT, {"commission": "9.8765"}),
        # 20 − 45.5 − 1.1111 (Feb 28 fee, deducted at the month's last instant)
        "N1": ("0.0000", "-25.5000", "1.1111", "-26.6111", "-26.6111", "0.0000", AGREES,
               {"deposit": "20.0000", "withdrawal": "-45.5000", "call_fee": "1.1111"}),
        "N2": ("300.0000", "30.0000", "0.0000", "330.0000", "330.0000", "0.0000", AGREES, {"bonus": "30.0000"}),
        "N3": ("0.0000", "15.1515", "0.0000", "15.1515", "15.1515", "0.0000", AGREES, {"auto_recharge": "15.1515"}),
        # +1234.5678, −1234.5678 (reversal), +1234.5678
        "T1": ("0.0000", "1234.5678", "0.0000", "1234.5678", "1234.5678", "0.0000", AGREES, {"deposit": "1234.5678"}),
    },
    "2026-03": {
        "RN": ("0.1235", "0.0000", "0.0000", "0.1235", None, None, NO_SNAPSHOT, {}),
        "AN": ("9.8765", "12.0000", "2.5000", "19.3765", "19.3765", "0.0000", AGREES, {"commission": "12.0000", "agent_fee": "2.5000"}),
        "N1": ("-26.6111", "100.5000", "0.2222", "73.6667", "73.6667", "0.0000", AGREES, {"deposit": "100.5000", "call_fee": "0.2222"}),
        "N2": ("330.0000", "-30.0000", "0.0001", "299.9999", "299.9999", "0.0000", AGREES,
               {"withdrawal": "-29.9999", "adjustment": "-0.0001", "other_fee": "0.0001"}),
        # n06 + n24 = 30.3030; reported 30.3030 at Mar 20 12:00 EDT = 15.1515 + 15.1515 (n06), before n24
        "N3": ("15.1515", "30.3030", "0.0000", "45.4545", "30.3030", "0.0000", AGREES, {"auto_recharge": "30.3030"}),
        "T1": ("1234.5678", "-234.5678", "0.0000", "1000.0000", "1000.0000", "0.0000", AGREES, {"withdrawal": "-234.5678"}),
    },
    "2026-04": {
        "RN": ("0.1235", "-0.1235", "0.0000", "0.0000", None, None, NO_SNAPSHOT, {"commission": "-0.1235"}),
        "AN": ("19.3765", "0.0000", "0.0000", "19.3765", None, None, NO_SNAPSHOT, {}),
        "N1": ("73.6667", "-75.0000", "0.0000", "-1.3333", "75.0000", "76.3333", NOT_UPDATED, {"adjustment": "-75.0000"}),
        "N2": ("299.9999", "-300.0000", "0.0000", "-0.0001", "0.0000", "0.0001", NOT_UPDATED,
               {"deposit": "50.0000", "withdrawal": "-350.0000"}),
        # +15.1515 − 5 − 1 (Apr 30 fees)
        "N3": ("45.4545", "15.1515", "6.0000", "54.6060", "54.6060", "0.0000", AGREES,
               {"auto_recharge": "15.1515", "call_fee": "5.0000", "other_fee": "1.0000"}),
        "T1": ("1000.0000", "0.0001", "10.0000", "990.0001", "990.0001", "0.0000", AGREES, {"bonus": "0.0001", "call_fee": "10.0000"}),
    },
}


@pytest.fixture(scope="module")
def new_york(tmp_path_factory) -> str:
    return build(tmp_path_factory.mktemp("handbuilt") / "new-york", TIMEZONE,
                 {"accounts.csv": ACCOUNTS, "payments.csv": PAYMENTS, "charges.csv": CHARGES, "balances.csv": BALANCES})


@pytest.mark.parametrize("month", sorted(RECONCILE))
def test_reconcile_matches_the_hand_worked_months(new_york, month):
    got = reconciled(new_york, month)
    assert {account: as_expected(row) for account, row in got["rows"].items()} == RECONCILE[month]
    assert got["totals"] == currency_totals(got["rows"], RECONCILE[month])


def test_a_report_does_not_include_a_payment_of_its_own_instant(new_york):
    # N3 reported 30.3030 at Mar 20 12:00 EDT, the instant n24 (+15.1515) was recorded: the balance then is
    # 15.1515 (February) + 15.1515 (n06), so the difference is 0. vosbench used to count n24 in (−15.1515).
    n3 = reconciled(new_york, "2026-03", "--account", "N3")["rows"]["N3"]
    assert (n3["recorded_closing"], n3["difference"], n3["classification"]) == ("30.3030", "0.0000", AGREES)


def test_months_cut_in_utc_take_the_new_york_reports_before_their_instants_payments(new_york):
    march, april = reconciled(new_york, "2026-03", "--timezone", "UTC"), reconciled(new_york, "2026-04", "--timezone", "UTC")
    # UTC March: n05 (Mar 1 04:59:59Z), n06 (05:00Z), n24 → 45.4545, opening 0; the latest report is Mar 20's
    # (30.3030, before n24): difference 0.
    n3 = march["rows"]["N3"]
    assert (n3["opening"], n3["payments"], n3["expected_closing"]) == ("0.0000", "45.4545", "45.4545")
    assert (n3["recorded_closing"], n3["difference"], n3["classification"]) == ("30.3030", "0.0000", AGREES)
    # UTC March for N2: n04 (Feb 1 05:00Z) is February's in UTC too; n14 −0.0001; n15 (Apr 1 03:59:59Z) is
    # March's; the report is New York's February-end one (Mar 1 05:00Z): 330 then = reported.
    n2 = march["rows"]["N2"]
    assert (n2["opening"], n2["payments"], n2["expected_closing"]) == ("330.0000", "-0.0001", "329.9999")
    assert (n2["recorded_closing"], n2["difference"], n2["classification"]) == ("330.0000", "0.0000", AGREES)
    # UTC April for N2: n15 −29.9999, n16 +50 at Apr 1 04:00Z, n22 −350; the Mar 31 fee (0.0001) is deducted at
    # New York's day end, Apr 1 04:00Z, inside UTC April. The report at Apr 1 04:00Z (299.9999) is taken as n16
    # is recorded: 329.9999 − 29.9999 − 0.0001 = 299.9999 then; difference 0 (vosbench used to say −50).
    n2 = april["rows"]["N2"]
    assert (n2["opening"], n2["payments"], n2["charges"], n2["expected_closing"]) == (
        "329.9999", "-329.9999", "0.0001", "-0.0001")
    assert (n2["recorded_closing"], n2["difference"], n2["classification"]) == ("299.9999", "0.0000", AGREES)
    # N3's April-end report (May 1 04:00Z) is after UTC April: none in the month.
    assert april["rows"]["N3"]["recorded_closing"] is None


def test_query_across_the_spring_gap_and_the_negative_balances(new_york):
    # Mar 8 local: n12 (01:59:59 EST) and n13 (03:00 EDT)
    assert query_totals(new_york, "--from", "2026-03-08", "--to", "2026-03-08") == (2, {("deposit", "USD"): (2, "100.5000")})
    # Jan 31 local holds n03 only; Feb 1 local holds n01 (00:00 EST) and n04 (05:00Z)
    assert query_totals(new_york, "--from", "2026-01-31", "--to", "2026-01-31") == (1, {("deposit", "USD"): (1, "300.0000")})
    assert query_totals(new_york, "--from", "2026-02-01", "--to", "2026-02-01") == (
        2, {("deposit", "USD"): (1, "20.0000"), ("bonus", "USD"): (1, "30.0000")})
    # CAD subtree: +1234.5678 × 2 − 1234.5678 deposits, −234.5678, +0.0001
    assert query_totals(new_york, "--account", "RC", "--sub-accounts") == (
        5, {("deposit", "CAD"): (3, "1234.5678"), ("withdrawal", "CAD"): (1, "-234.5678"), ("bonus", "CAD"): (1, "0.0001")})
    # |amount| ≥ 75: n21 −75, n12 100, n03 300, n22 −350, T1's 1234.5678 × 3 and 234.5678
    assert query_totals(new_york, "--min-amount", "75") == (
        8, {("deposit", "USD"): (2, "400.0000"), ("adjustment", "USD"): (1, "-75.0000"), ("withdrawal", "USD"): (1, "-350.0000"),
            ("deposit", "CAD"): (3, "1234.5678"), ("withdrawal", "CAD"): (1, "-234.5678")})
