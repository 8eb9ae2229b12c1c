"""One absurd amount must not blind a month: figures exact at any size the ledger holds, the other accounts unchanged.

A hand-built ledger (UTC) with ordinary accounts beside three absurd ones, every answer worked out here by hand:

- BIG: 10.0000 deposited in September, then an imported adjustment of −500,000,000,000,000.0000 in October
  (−5·10^18 minor units, which a 64-bit column holds); VOS3000 still reports 10.0000 at the month's end.
- FAR: an adjustment of −500,000,000,000,000.0000 in October that VOS3000 reports as +500,000,000,000,000.0000:
  the difference, 1,000,000,000,000,000.0000 (10^19 minor units), is past 2**63 − 1 (9,223,372,036,854,775,807).
- WIDE: +500 trillion on Oct 31 21:00Z (October in UTC, November in Dubai), −500 trillion on Nov 2 and +500
  trillion on Nov 3: every month the ledger keeps fits, but November cut in Dubai deposits 1,000 trillion —
  a sum just past 2**63 across several payments.

Ordinary accounts: C1 deposits 100 (Sep) and 200 (Oct), then 1 on Nov 4; C2 deposits 250.1234 (Sep) and withdraws
50.2500 (Oct). Balances are reported at Nov 1 00:00Z (October's end in UTC, inside November in Dubai).
Before the fix `reconcile` refused the whole month for everyone ("too large to reconcile exactly"), the controls
with it, and the accounting journal's totals wrapped around to −844,674,407,370,704.9116.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from handbuilt import imported, run

from vosbench.analysis import reconcile
from vosbench.controls import runner
from vosbench.core import money
from vosbench.ledger import setup
from vosbench.outputs import audit, views

T = 500_000_000_000_000 * money.UNIT
"""500 trillion units in minor units."""

FILES = {
    "accounts.csv": """\
account,name,kind,parent,credit_limit,currency,timezone
R1,Reseller,reseller,,,USD,
C1,Ordinary One,customer,R1,,USD,
C2,Ordinary Two,customer,R1,,USD,
BIG,Huge Adjustment,customer,R1,,USD,
FAR,Far Apart,customer,R1,,USD,
WIDE,Wide Sums,customer,R1,,USD,
""",
    "payments.csv": """\
source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason
p01,C1,deposit,100.0000,2026-09-02T08:00:00Z,ops1,admin,bank_wire,W-1,,
p02,C2,deposit,250.1234,2026-09-10T12:00:00Z,ops2,web,gateway,GW-2,,
p03,BIG,deposit,10.0000,2026-09-11T12:00:00Z,ops2,web,gateway,GW-3,,
p04,C1,deposit,200.0000,2026-10-05T09:00:00Z,ops1,admin,bank_wire,W-4,,
p05,C2,withdrawal,-50.2500,2026-10-06T15:00:00Z,ops1,admin,bank_wire,W-5,,
p06,BIG,adjustment,-500000000000000.0000,2026-10-07T10:00:00Z,ops1,admin,other,T-6,,import error
p07,FAR,adjustment,-500000000000000.0000,2026-10-08T10:00:00Z,ops1,web,other,T-7,,import error
p08,WIDE,deposit,500000000000000.0000,2026-10-31T21:00:00Z,ops1,admin,bank_wire,W-8,,
p09,WIDE,withdrawal,-500000000000000.0000,2026-11-02T10:00:00Z,ops1,admin,bank_wire,W-9,,
p10,WIDE,deposit,500000000000000.0000,2026-11-03T10:00:00Z,ops1,admin,bank_wire,W-10,,
p11,C1,deposit,1.0000,2026-11-04T10:00:00Z,ops1,admin,bank_wire,W-11,,
""",
    "balances.csv": """\
account,as_of,balance
C1,2026-11-01T00:00:00Z,300.0000
C2,2026-11-01T00:00:00Z,199.8734
BIG,2026-11-01T00:00:00Z,10.0000
FAR,2026-11-01T00:00:00Z,500000000000000.0000
WIDE,2026-11-01T00:00:00Z,500000000000000.0000
""",
}

OCTOBER = {  # (opening, payments, expected closing, recorded closing, difference, classification)
    "C1": ("100.0000", "200.0000", "300.0000", "300.0000", "0.0000", reconcile.AGREES),
    "C2": ("250.1234", "-50.2500", "199.8734", "199.8734", "0.0000", reconcile.AGREES),
    "BIG": ("10.0000", "-500000000000000.0000", "-499999999999990.0000", "10.0000", "500000000000000.0000",
            reconcile.UNEXPLAINED),
    "FAR": ("0.0000", "-500000000000000.0000", "-500000000000000.0000", "500000000000000.0000",
            "1000000000000000.0000", reconcile.SNAPSHOT_DISAGREES),
    "WIDE": ("0.0000", "500000000000000.0000", "500000000000000.0000", "500000000000000.0000", "0.0000",
             reconcile.AGREES),
}
OCTOBER_TOTALS = {  # the rows above added up by hand
    "opening": "360.1234", "deposit": "500000000000200.0000", "withdrawal": "-50.2500",
    "adjustment": "-1000000000000000.0000", "payments": "-499999999999850.2500", "charges": "0.0000",
    "expected_closing": "-499999999999490.1266", "recorded_closing": "1000000000000509.8734",
    "difference": "1500000000000000.0000",
}


def _ledger(url: str, folder: Path) -> str:
    return imported(url, folder, FILES)


@pytest.fixture
def sqlite_ledger(tmp_path) -> str:
    return _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", tmp_path / "files")


def _shown(row: dict) -> tuple:
    return (row["opening"], row["payments"], row["expected_closing"], row["recorded_closing"], row["difference"],
            row["classification"])


def test_october_reconciles_every_account_exactly_on_every_dialect(any_ledger_url, tmp_path):
    """No refusal: the ordinary accounts as ever, the absurd ones to the last digit, their totals too."""
    url = _ledger(any_ledger_url, tmp_path / "files")
    got = json.loads(run("reconcile", "--db", url, "--month", "2026-10", "--format", "json"))
    assert {row["account"]: _shown(row) for row in got["rows"]} == OCTOBER
    assert {name: got["totals"]["USD"][name] for name in OCTOBER_TOTALS} == OCTOBER_TOTALS


def test_in_process_the_frame_and_totals_hold_figures_past_64_bits(sqlite_ledger):
    """The notebooks' DataFrame: int64 where every figure fits, Python integers where one does not (FAR's difference)."""
    result = reconcile.reconcile(setup.open_ledger(sqlite_ledger), "2026-10")
    frame = result.accounts.set_index("account")
    assert frame.loc["FAR", "difference"] == 10**19 and type(frame.loc["FAR", "difference"]) is int
    assert frame.loc["BIG", "expected_closing"] == -T + 10 * money.UNIT
    assert str(frame["adjustment"].dtype) == "int64" and frame.loc["C2", "withdrawal"] == -502_500
    assert result.totals(result.accounts)["USD"]["difference"] == 15 * 10**18
    assert result.totals(result.differences())["USD"]["difference"] == 15 * 10**18
    assert list(result.differences()["account"]) == ["BIG", "FAR"]


def test_the_csv_says_the_same_digits(sqlite_ledger):
    lines = run("reconcile", "--db", sqlite_ledger, "--month", "2026-10", "--format", "csv").splitlines()
    rows = {line.split(",")[0]: line.split(",") for line in lines[1:]}
    header = lines[0].split(",")
    assert rows["FAR"][header.index("difference")] == "1000000000000000.0000"
    assert rows["BIG"][header.index("expected_closing")] == "-499999999999990.0000"
    assert rows["C2"][header.index("expected_closing")] == "199.8734"


def test_november_cut_in_dubai_sums_past_64_bits_for_one_account_only(any_ledger_url, tmp_path):
    """WIDE's deposits of November in Dubai (Oct 31 20:00Z to Nov 30 20:00Z) are 1,000 trillion: summed from the
    raw records, exact; the other accounts are reconciled as ever. The Nov 1 00:00Z reports fall inside this
    November: C1 then held 300 (its Nov 4 deposit comes after), WIDE 500 trillion (−500 + 500 trillion after)."""
    url = _ledger(any_ledger_url, tmp_path / "files")
    got = json.loads(run("reconcile", "--db", url, "--month", "2026-11", "--timezone", "Asia/Dubai", "--format", "json"))
    rows = {row["account"]: row for row in got["rows"]}
    assert (rows["WIDE"]["deposit"], rows["WIDE"]["withdrawal"], rows["WIDE"]["expected_closing"],
            rows["WIDE"]["difference"], rows["WIDE"]["classification"]) == (
        "1000000000000000.0000", "-500000000000000.0000", "500000000000000.0000", "0.0000", reconcile.AGREES)
    assert _shown(rows["C1"]) == ("300.0000", "1.0000", "301.0000", "300.0000", "0.0000", reconcile.AGREES)
    assert _shown(rows["BIG"])[:5] == ("-499999999999990.0000", "0.0000", "-499999999999990.0000", "10.0000",
                                       "500000000000000.0000")
    assert got["totals"]["USD"]["deposit"] == "1000000000000001.0000"


def test_the_controls_run_the_month_and_flag_the_absurd_accounts(sqlite_ledger):
    """Balance drift needs the reconciliation; the amount controls flag BIG's adjustment as ever."""
    result = runner.run(setup.open_ledger(sqlite_ledger), "2026-10")
    drift = {finding.accounts: finding.amount for finding in result.findings if finding.check == "balance_drift"}
    assert drift == {("BIG",): T, ("FAR",): 2 * T}
    assert any(f.check == "unapproved_above_threshold" and f.accounts == ("BIG",) for f in result.findings)
    frame = result.frame()
    assert sorted(frame.loc[frame["check"] == "balance_drift", "amount"].tolist()) == [T, 2 * T]
    listed = run("controls", "--db", sqlite_ledger, "--month", "2026-10", "--format", "csv")
    assert ",1000000000000000.0000," in listed and ",500000000000000.0000," in listed


def test_the_accounting_journal_totals_do_not_wrap_around(sqlite_ledger, tmp_path):
    """October's journal: BIG's and FAR's adjustments (1,000 trillion), WIDE's deposit (500 trillion), C1's 200 and
    C2's 50.25 are each posted once as debit and once as credit: 1,500,000,000,000,250.25 each side."""
    said = run("export", "accounting", "--db", sqlite_ledger, "--month", "2026-10", "--to", "journal",
               "--out", str(tmp_path / "out"))
    assert "debits 1,500,000,000,000,250.2500 = credits 1,500,000,000,000,250.2500" in said


def test_the_audit_figures_of_the_month_are_exact(sqlite_ledger):
    """The audit's headline, results and trend (sums over every account, past 64 bits) — SQLite's SUM failed on the
    trend's adjustments (BIG's and FAR's, −1,000 trillion) and the large payments' total size wrapped around.
    September nets 360.1234 (100 + 250.1234 + 10); October's payments net −499,999,999,999,850.2500."""
    built = audit.MonthlyAudit.open(month="2026-10", db_url=sqlite_ledger)
    headline = {row.figure: row.amount for row in built.headline().itertuples()}
    assert headline["Large payments, at least 5,000.00 either way (total size)"] == 3 * T
    assert headline["Money out (records with a negative amount)"] == 2 * T + 502_500
    assert headline["Differences, recorded − expected (accounts not agreeing)"] == 3 * T
    results = built.results().set_index("classification")["difference"]
    assert (results[reconcile.UNEXPLAINED], results[reconcile.SNAPSHOT_DISAGREES], results[reconcile.AGREES]) == (
        T, 2 * T, 0)
    october = built.trend.set_index("month").loc["2026-10"]
    assert (october["adjustment"], october["payments"], october["balances"]) == (
        -2 * T, -4_999_999_999_998_502_500, -4_999_999_999_994_901_266)
    assert built.trend.set_index("month").loc["2026-09", "balances"] == 3_601_234


def test_movements_and_balances_grouped_over_accounts_do_not_wrap_around():
    """Two deposits of 500 trillion (in two channels, so each kept rollup cell of the ledger holds its own):
    the movements by kind add to 1,000 trillion, where pandas' int64 sum gave −844,674,407,370,955.1616."""
    movements = pd.DataFrame({"currency": ["USD", "USD", "USD"], "kind": ["deposit", "deposit", "withdrawal"],
                              "records": [1, 1, 1], "records_in": [1, 1, 0], "money_in": [T, T, 0],
                              "money_out": [0, 0, 502_500], "net": [T, T, -502_500], "reversals": [0, 0, 0],
                              "reversed_amount": [0, 0, 0]})
    by_kind = audit.movements_by(movements, "kind").set_index("kind")
    assert by_kind.loc["deposit", "money_in"] == 2 * T and by_kind.loc["deposit", "net"] == 2 * T
    assert by_kind.loc["withdrawal", "net"] == -502_500 and str(by_kind["money_out"].dtype) == "int64"
    closings = pd.DataFrame({"currency": ["USD"] * 3, "kind": ["customer"] * 3, "closing": [T, T, 1]})
    assert views.group_sums(closings, ["currency", "kind"], ["closing"]).loc[("USD", "customer"), "closing"] == 2 * T + 1
