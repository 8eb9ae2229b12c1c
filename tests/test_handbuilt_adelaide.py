"""Hand-built ledger 2: Adelaide (Australia/Adelaide: +09:30, then +10:30 from the spring DST change of
2026-10-04), an AUD tree three levels deep beside an unparented GBP account, a month close, Sep–Nov 2026.

Every figure below was worked out independently of vosbench (Decimal arithmetic over these rows, from
the README's definitions) and is written out with the reasoning for the edge cases.

Tree: R9 → G1 → G2 → {K1, K2}, G1 → K3;  K4 (AUD) and L1 (GBP) have no parent.
Month ends in Adelaide: Sep 30 14:30Z (+09:30), Oct 31 13:30Z (+10:30), Nov 30 13:30Z.

Edges, with the month each falls in:
- q04 K3 at Sep 30 14:29:59Z (23:59:59 local) → September; q05 at 14:30Z (Oct 1 00:00) → October.
- q10 at 01:59:59 +09:30 and q11 at 03:00 +10:30 on Oct 4 are one second apart across the skipped hour:
  both Oct 4; Oct 4's fee (1.2345) is deducted at that day's end, after both.
- q16 K1 +0.0099 at Oct 31 13:29:59Z → October; q17 +0.0001 at 13:30Z → November. Likewise q24 / q25 for
  November's end (q25 is December's, after every month here).
- L1's balances are reported at midnight in London: Sep 30 23:00Z is after Adelaide's September ended, so
  it is October's latest report (42.4242 then; the withdrawal comes Oct 20) and agrees; the Nov 1 00:00Z
  report (0.0000) is November's and agrees although November's closing is −0.0001 (the Nov 30 fee).
- K1 is reported 100 short at the end of September (a new account: only the snapshot is off) and again
  at the end of October (carried over). K4 goes −7 → 0 → 10, reported 3 at November's end.
- q13 reverses q12 (auto-recharge), q23 reverses q14 (bonus) a month later; K2 moves +1000, −999.9999.
"""

from __future__ import annotations

import json

import pytest
from handbuilt import as_expected, build, currency_totals, query_totals, reconciled, run

from vosbench.commands import main

TIMEZONE = "Australia/Adelaide"

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R9,Reseller Adelaide,reseller,,,AUD,
    G1,Agent Glenelg,agent,R9,,AUD,
    G2,Agent Norwood,agent,G1,,AUD,
    K1,Kunde Eins AU,customer,G2,,AUD,
    K2,Customer Two AU,customer,G2,,AUD,
    K3,Customer Three AU,customer,G1,,AUD,
    K4,Customer Four AU,customer,,,AUD,
    L1,London Customer,customer,,,GBP,
"""

PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,balance_after,reverses
    q01,K1,deposit,500.0000,2026-09-01T00:00:00+09:30,ana,admin,bank_wire,BW-1,,,500.0000,
    q02,K1,deposit,0.0001,2026-09-01T09:00:00+09:30,ana,web,gateway,GW-2,,,500.0001,
    q03,K2,auto_recharge,25.2525,2026-09-02T09:00:00+09:30,sys,automatic,card,,,,25.2525,
    q04,K3,deposit,99.9999,2026-09-30T14:29:59Z,ben,admin,cash,,,,99.9999,
    q05,K3,deposit,1.0000,2026-09-30T14:30:00Z,ben,admin,cash,,,,100.9999,
    q06,G2,commission,3.3333,2026-09-30T23:00:00+09:30,ana,admin,other,,,,,
    q07,G1,commission,1.1111,2026-09-30T23:00:00+09:30,ana,admin,other,,,,,
    q08,K4,adjustment,-7.0000,2026-09-15T09:00:00+09:30,ben,admin,other,,no reason,,,
    q09,L1,deposit,42.4242,2026-09-15T09:00:00+01:00,cat,web,card,CARD-9,,,42.4242,
    q10,K1,withdrawal,-100.0000,2026-10-04T01:59:59+09:30,ana,admin,bank_wire,BW-10,,,399.9001,
    q11,K1,deposit,33.3300,2026-10-04T03:00:00+10:30,ana,admin,bank_wire,BW-11,,,433.2301,
    q12,K2,auto_recharge,25.2525,2026-10-02T09:00:00+09:30,sys,automatic,card,,,,50.5025,
    q13,K2,auto_recharge,-25.2525,2026-10-03T09:00:00+09:30,sys,automatic,card,,reversed,,25.2500,q12
    q14,K3,bonus,0.5000,2026-10-10T09:00:00+10:30,ben,admin,other,,promo,,,
    q15,K4,deposit,7.0000,2026-10-11T09:00:00+10:30,ben,admin,cash,,,,0.0000,
    q16,K1,adjustment,0.0099,2026-10-31T13:29:59Z,ana,admin,other,T-16,,fx rounding,,
    q17,K1,adjustment,0.0001,2026-10-31T13:30:00Z,ana,admin,other,T-17,,fx rounding,,
    q18,G2,commission,4.4444,2026-10-31T22:00:00+10:30,ana,admin,other,,,,,
    q19,R9,commission,0.0001,2026-10-31T22:00:00+10:30,ana,admin,other,,,,,
    q20,L1,withdrawal,-42.4242,2026-10-20T09:00:00+01:00,cat,web,card,CARD-20,,,0.0000,
    q21,K2,deposit,1000,2026-11-05T09:00:00+10:30,ben,admin,bank_wire,BW-21,,,1025.2500,
    q22,K2,withdrawal,-999.9999,2026-11-06T09:00:00+10:30,ben,admin,bank_wire,BW-22,,,25.2501,
    q23,K3,bonus,-0.5000,2026-11-07T09:00:00+10:30,ben,admin,other,,,,,q14
    q24,K4,deposit,12.0000,2026-11-30T13:29:59Z,cat,ivr,recharge_card,RC-24,,,,
    q25,K4,deposit,13.0000,2026-11-30T13:30:00Z,cat,ivr,recharge_card,RC-25,,,,
    q26,L1,deposit,0.0001,2026-11-30T23:59:59+00:00,cat,web,crypto,0xdead,,,,
"""

CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    K1,2026-09-30,0.1000,0,0,1
    K1,2026-10-04,1.2345,0,0,3
    K1,2026-10-31,0,0,0.0001,0
    K2,2026-09-02,0.0025,0,0,1
    K3,2026-10-01,0.9999,0,0,2
    G2,2026-10-15,0,0.3333,0,0
    G1,2026-10-15,0,0.1111,0,0
    K4,2026-11-30,2.0000,0,0,1
    L1,2026-11-30,0,0,0.0001,0
"""

BALANCES = """
    account,as_of,balance
    K1,2026-10-01T00:00:00+09:30,399.9001
    K2,2026-10-01T00:00:00+09:30,25.2500
    K3,2026-10-01T00:00:00+09:30,99.9999
    K4,2026-10-01T00:00:00+09:30,-7.0000
    L1,2026-10-01T00:00:00+01:00,42.4242
    K1,2026-11-01T00:00:00+10:30,332.0054
    K2,2026-11-01T00:00:00+10:30,25.2500
    K3,2026-11-01T00:00:00+10:30,100.5000
    K4,2026-11-01T00:00:00+10:30,0.0000
    L1,2026-11-01T00:00:00+00:00,0.0000
    K2,2026-12-01T00:00:00+10:30,25.2501
    K4,2026-12-01T00:00:00+10:30,3.0000
"""

AGREES, NO_SNAPSHOT, DISAGREES, CARRIED = "agrees", "no snapshot", "snapshot disagrees", "carried over"

# Per month and account: (opening, payments, charges, expected closing, reported, difference, status,
# {non-zero kinds and fees}); difference = reported − the balance at the report's instant.
RECONCILE = {
    "2026-09": {
        "G1": ("0.0000", "1.1111", "0.0000", "1.1111", None, None, NO_SNAPSHOT, {"commission": "1.1111"}),
        "G2": ("0.0000", "3.3333", "0.0000", "3.3333", None, None, NO_SNAPSHOT, {"commission": "3.3333"}),
        # 500 + 0.0001 − 0.1 (Sep 30 fee, deducted at the month's last instant) = 499.9001; reported 399.9001
        "K1": ("0.0000", "500.0001", "0.1000", "499.9001", "399.9001", "-100.0000", DISAGREES,
               {"deposit": "500.0001", "call_fee": "0.1000"}),
        "K2": ("0.0000", "25.2525", "0.0025", "25.2500", "25.2500", "0.0000", AGREES, {"auto_recharge": "25.2525", "call_fee": "0.0025"}),
        "K3": ("0.0000", "99.9999", "0.0000", "99.9999", "99.9999", "0.0000", AGREES, {"deposit": "99.9999"}),  # q05 is October's
        "K4": ("0.0000", "-7.0000", "0.0000", "-7.0000", "-7.0000", "0.0000", AGREES, {"adjustment": "-7.0000"}),
        "L1": ("0.0000", "42.4242", "0.0000", "42.4242", None, None, NO_SNAPSHOT, {"deposit": "42.4242"}),
    },
    "2026-10": {
        "R9": ("0.0000", "0.0001", "0.0000", "0.0001", None, None, NO_SNAPSHOT, {"commission": "0.0001"}),
        "G1": ("1.1111", "0.0000", "0.1111", "1.0000", None, None, NO_SNAPSHOT, {"agent_fee": "0.1111"}),
        "G2": ("3.3333", "4.4444", "0.3333", "7.4444", None, None, NO_SNAPSHOT, {"commission": "4.4444", "agent_fee": "0.3333"}),
        # −100 + 33.33 + 0.0099 = −66.6601; fees 1.2345 + 0.0001; 499.9001 − 66.6601 − 1.2346 = 432.0054
        "K1": ("499.9001", "-66.6601", "1.2346", "432.0054", "332.0054", "-100.0000", CARRIED,
               {"deposit": "33.3300", "withdrawal": "-100.0000", "adjustment": "0.0099", "call_fee": "1.2345", "other_fee": "0.0001"}),
        "K2": ("25.2500", "0.0000", "0.0000", "25.2500", "25.2500", "0.0000", AGREES, {}),  # +25.2525 and its reversal
        "K3": ("99.9999", "1.5000", "0.9999", "100.5000", "100.5000", "0.0000", AGREES,
               {"deposit": "1.0000", "bonus": "0.5000", "call_fee": "0.9999"}),
        "K4": ("-7.0000", "7.0000", "0.0000", "0.0000", "0.0000", "0.0000", AGREES, {"deposit": "7.0000"}),
        "L1": ("42.4242", "-42.4242", "0.0000", "0.0000", "42.4242", "0.0000", AGREES, {"withdrawal": "-42.4242"}),
    },
    "2026-11": {
        "R9": ("0.0001", "0.0000", "0.0000", "0.0001", None, None, NO_SNAPSHOT, {}),
        "G1": ("1.0000", "0.0000", "0.0000", "1.0000", None, None, NO_SNAPSHOT, {}),
        "G2": ("7.4444", "0.0000", "0.0000", "7.4444", None, None, NO_SNAPSHOT, {}),
        "K1": ("432.0054", "0.0001", "0.0000", "432.0055", None, None, NO_SNAPSHOT, {"adjustment": "0.0001"}),
        "K2": ("25.2500", "0.0001", "0.0000", "25.2501", "25.2501", "0.0000", AGREES, {"deposit": "1000.0000", "withdrawal": "-999.9999"}),
        "K3": ("100.5000", "-0.5000", "0.0000", "100.0000", None, None, NO_SNAPSHOT, {"bonus": "-0.5000"}),
        # 0 + 12 − 2 = 10 expected, 3 reported; October agreed
        "K4": ("0.0000", "12.0000", "2.0000", "10.0000", "3.0000", "-7.0000", DISAGREES, {"deposit": "12.0000", "call_fee": "2.0000"}),
        "L1": ("0.0000", "0.0000", "0.0001", "-0.0001", "0.0000", "0.0000", AGREES, {"other_fee": "0.0001"}),
    },
}

QUERIES = [
    (["--from", "2026-09-30", "--to", "2026-09-30"], 3, {("commission", "AUD"): (2, "4.4444"), ("deposit", "AUD"): (1, "99.9999")}),
    (["--from", "2026-10-04", "--to", "2026-10-04"], 2, {("deposit", "AUD"): (1, "33.3300"), ("withdrawal", "AUD"): (1, "-100.0000")}),
    (["--from", "2026-11-30", "--to", "2026-11-30"], 1, {("deposit", "AUD"): (1, "12.0000")}),  # q24 only
    # G1's subtree at every depth (G1, G2, K1, K2, K3): everything but R9, K4 and L1
    (["--account", "G1", "--sub-accounts"], 18,
     {("adjustment", "AUD"): (2, "0.0100"), ("auto_recharge", "AUD"): (3, "25.2525"), ("bonus", "AUD"): (2, "0.0000"),
      ("commission", "AUD"): (3, "8.8888"), ("deposit", "AUD"): (6, "1634.3300"), ("withdrawal", "AUD"): (2, "-1099.9999")}),
    (["--account", "G2", "--from", "2026-10-01", "--to", "2026-10-31"], 1, {("commission", "AUD"): (1, "4.4444")}),
    # bounds inclusive at 4 places: 25.2525 ×3 (one negative), 33.33, 500, 100, 999.9999, 42.4242 ×2; not 1000
    (["--min-amount", "25.2525", "--max-amount", "999.9999"], 10,
     {("auto_recharge", "AUD"): (3, "25.2525"), ("deposit", "AUD"): (3, "633.3299"), ("deposit", "GBP"): (1, "42.4242"),
      ("withdrawal", "AUD"): (2, "-1099.9999"), ("withdrawal", "GBP"): (1, "-42.4242")}),
    (["--channel", "automatic"], 3, {("auto_recharge", "AUD"): (3, "25.2525")}),
    (["--method", "card", "--from", "2026-09-01", "--to", "2026-10-31"], 5,
     {("auto_recharge", "AUD"): (3, "25.2525"), ("deposit", "GBP"): (1, "42.4242"), ("withdrawal", "GBP"): (1, "-42.4242")}),
]


@pytest.fixture(scope="module")
def adelaide(tmp_path_factory) -> str:
    return build(tmp_path_factory.mktemp("handbuilt") / "adelaide", TIMEZONE,
                 {"accounts.csv": ACCOUNTS, "payments.csv": PAYMENTS, "charges.csv": CHARGES, "balances.csv": BALANCES})


@pytest.mark.parametrize("month", sorted(RECONCILE))
def test_reconcile_matches_the_hand_worked_months(adelaide, month):
    got = reconciled(adelaide, month)
    assert {account: as_expected(row) for account, row in got["rows"].items()} == RECONCILE[month]
    assert got["totals"] == currency_totals(got["rows"], RECONCILE[month])


def test_subtree_reconcile_takes_every_depth(adelaide):
    got = reconciled(adelaide, "2026-10", "--subtree", "G1")
    assert sorted(got["rows"]) == ["G1", "G2", "K1", "K2", "K3"]
    # expected closings 1 + 7.4444 + 432.0054 + 25.25 + 100.5; differences −100 (K1)
    totals = got["totals"]["AUD"]
    assert (totals["expected_closing"], totals["difference"]) == ("566.1998", "-100.0000")


@pytest.mark.parametrize(("options", "count", "totals"), QUERIES, ids=[" ".join(q[0]) for q in QUERIES])
def test_query_totals_match_the_hand_worked_filters(adelaide, options, count, totals):
    assert query_totals(adelaide, *options) == (count, totals)


def test_closed_september_keeps_its_closings_and_refuses_a_late_record(tmp_path, capsys):
    url = build(tmp_path / "ledger", TIMEZONE,
                {"accounts.csv": ACCOUNTS, "payments.csv": PAYMENTS, "charges.csv": CHARGES, "balances.csv": BALANCES})
    before = reconciled(url, "2026-10")
    run("close", "--db", url, "--month", "2026-09", "--by", "sup1", "--receipt", str(tmp_path / "close.json"))
    receipt = json.loads((tmp_path / "close.json").read_text(encoding="utf-8"))
    # September's expected closings (above), in minor units of 0.0001
    assert receipt["closings"] == {"G1": 11111, "G2": 33333, "K1": 4999001, "K2": 252500, "K3": 999999, "K4": -70000, "L1": 424242}
    assert reconciled(url, "2026-10") == before  # October's opening now comes from the close
    late = tmp_path / "late" / "payments.csv"
    late.parent.mkdir()
    # Oct 1 00:00 local is open; Sep 30 23:59:59 local is the closed month's: the file is refused whole
    late.write_text("source_key,account,kind,amount,occurred_at,operator,channel,method\n"
                    "late1,K3,deposit,5.0000,2026-10-01T00:00:00+09:30,ben,admin,cash\n"
                    "late2,K3,deposit,6.0000,2026-09-30T23:59:59+09:30,ben,admin,cash\n", encoding="utf-8")
    assert main.main(["import", "--db", url, str(late)]) == 2
    assert "payments.csv:3: 2026-09 is closed" in capsys.readouterr().err
    assert reconciled(url, "2026-10") == before
