"""The monthly audit's sections, computed on a small ledger whose numbers are worked out by hand."""

import hashlib
from datetime import datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench import controls
from vosbench.analysis import reconcile
from vosbench.core import periods
from vosbench.outputs import audit, charts

# October 2026 in UTC. Amounts signed from the account's point of view.
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method,reference,reverses,reason
    p1,C1,deposit,6000.00,2026-10-02T10:00:00Z,ann,web,card,W-1,,
    p2,C1,withdrawal,-100.00,2026-10-03T10:00:00Z,ann,admin,cash,,,
    p3,C2,deposit,50.25,2026-10-05T10:00:00Z,ivr,ivr,recharge_card,RC-9,,
    p4,C2,deposit,7000.00,2026-10-06T10:00:00Z,bob,admin,bank_wire,=HYPERLINK("x"),,
    p5,C2,deposit,-7000.00,2026-10-07T10:00:00Z,bob,admin,bank_wire,,p4,entered twice
    p6,A1,commission,12.3456,2026-10-31T23:59:59Z,sys,api,other,,,
    p7,C1,deposit,10.00,2026-11-01T00:00:00Z,ann,web,card,,,
    p8,C1,deposit,200.00,2026-09-15T10:00:00Z,ann,web,card,,,
    p9,C2,adjustment,-5.00,2026-10-10T10:00:00Z,bob,admin,other,,,fee
"""
CHARGES = """
    account,day,call_fee,agent_fee,other_fee,calls
    C1,2026-09-30,2.0000,0,0,4
    C1,2026-10-01,1.5000,0.2500,0,3
    C2,2026-10-31,0.1000,0,0,1
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    return ledger_from_text(tmp_path_factory.mktemp("ledger"), accounts=ACCOUNTS, payments=PAYMENTS,
                            charges=CHARGES)


@pytest.fixture(scope="module")
def october():
    return periods.month("2026-10", "UTC")


def minor(text: str) -> int:
    return int(Decimal(text) * 10_000)


def test_movements_split_money_in_and_out_by_sign(engine, october):
    with engine.connect() as connection:
        moves = audit.query_movements(connection, october)
    # in:  p1 6000 + p3 50.25 + p4 7000 + p6 12.3456 = 13062.5956 (4 records)
    # out: p2 100 + p5 7000 (the reversal) + p9 5 = 7105 (3 records); p7 (November) and p8 (September) excluded
    assert moves["money_in"].sum() == minor("13062.5956") and moves["records_in"].sum() == 4
    assert moves["money_out"].sum() == minor("7105") and moves["records"].sum() == 7
    assert moves["net"].sum() == minor("5957.5956")
    assert (moves["reversals"].sum(), moves["reversed_amount"].sum()) == (1, minor("-7000"))
    assert str(moves["money_in"].dtype) == "int64"


def test_movements_by_kind_list_every_kind_in_vocabulary_order(engine, october):
    with engine.connect() as connection:
        by_kind = audit.movements_by(audit.query_movements(connection, october), "kind").set_index("kind")
    assert list(by_kind.index) == ["deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge"]
    # deposits: p1, p3, p4 in (13050.25) and the reversal p5 out (7000)
    assert by_kind.loc["deposit", ["records", "money_in", "money_out", "net"]].tolist() == [
        4, minor("13050.25"), minor("7000"), minor("6050.25")]
    assert by_kind.loc["bonus"].drop("currency").sum() == 0 and by_kind.loc["bonus", "currency"] == "USD"
    with engine.connect() as connection:
        by_channel = audit.movements_by(audit.query_movements(connection, october), "channel").set_index("channel")
    assert by_channel.loc["admin", "records"] == 4  # p2, p4, p5, p9


def test_month_boundaries_follow_the_time_zone(engine):
    # p6 at 2026-10-31 23:59:59 UTC is 1 November 03:59:59 in Dubai: in October only when cut in UTC.
    # p7 at 2026-11-01 00:00 UTC is 04:00 on 1 November in Dubai: November either way.
    with engine.connect() as connection:
        in_utc = audit.query_movements(connection, periods.month("2026-10", "UTC"))
        in_dubai = audit.query_movements(connection, periods.month("2026-10", "Asia/Dubai"))
    assert in_utc["records"].sum() - in_dubai["records"].sum() == 1
    assert in_utc["money_in"].sum() - in_dubai["money_in"].sum() == minor("12.3456")


def test_large_payments_either_way_largest_first_with_their_reversal(engine, october):
    with engine.connect() as connection:
        large = audit.query_large_payments(connection, october, minor("5000"))
    # p4 7000 and its reversal p5 -7000 (same size: by id), then p1 6000
    assert large["payment_id"].tolist() == [4, 5, 1]
    assert large["amount"].tolist() == [minor("7000"), minor("-7000"), minor("6000")]
    assert large["reversed_by"].tolist()[0] == 5 and large["reverses"].tolist()[1] == 4
    assert large["occurred_at"].tolist()[2] == pd.Timestamp("2026-10-02 10:00:00")
    with engine.connect() as connection:
        dubai = audit.query_large_payments(connection, periods.month("2026-10", "Asia/Dubai"), minor("5000"))
    assert dubai["occurred_at"].tolist()[2] == pd.Timestamp("2026-10-02 14:00:00")  # local wall clock


def test_top_accounts_by_money_in(engine, october):
    with engine.connect() as connection:
        top = audit.query_top_accounts(connection, october, 2)
    # C2: 50.25 + 7000 = 7050.25 in; C1: 6000 in; A1 (12.3456) is third and cut by top_n=2
    assert top["account"].tolist() == ["C2", "C1"]
    assert top["money_in"].tolist() == [minor("7050.25"), minor("6000")]
    assert top["net"].tolist() == [minor("45.25"), minor("5900")]  # 7050.25 - 7000 - 5; 6000 - 100


def test_active_accounts_had_a_payment_or_a_charge(engine, october):
    with engine.connect() as connection:
        assert audit.count_active_accounts(connection, october, "UTC") == 3  # C1, C2, A1; R1 idle


def test_trend_from_month_totals_with_running_balances(engine):
    with engine.connect() as connection:
        trend = audit.query_trend(connection, "2026-10").set_index("month")
    assert list(trend.index) == periods.labels_ending("2026-10", audit.TREND_MONTHS) and len(trend) == 12
    assert trend.index[0] == "2025-11"
    # September: p8 200 in, C1 charged 2.00 -> balances 198
    assert trend.loc["2026-09", ["payments", "charges", "balances"]].tolist() == [
        minor("200"), minor("2"), minor("198")]
    # October: payments 5957.5956; charges 1.75 (C1) + 0.10 (C2) = 1.85; balances 198 + 5955.7456
    assert trend.loc["2026-10", ["payments", "charges", "net_change", "balances"]].tolist() == [
        minor("5957.5956"), minor("1.85"), minor("5955.7456"), minor("6153.7456")]
    assert trend.loc["2026-10", "withdrawal"] == minor("-100") and trend.loc["2026-10", "records"] == 7
    assert trend.loc["2026-08"].drop("currency").sum() == 0 and set(trend["currency"]) == {"USD"}


def test_trend_balances_start_from_every_earlier_month(engine):
    with engine.connect() as connection:
        trend = audit.query_trend(connection, "2027-09").set_index("month")
    # window 2026-10 .. 2027-09: September's 198 comes from before the window
    assert trend.loc["2026-10", "balances"] == minor("6153.7456")
    assert trend.loc["2026-11", "balances"] == minor("6163.7456")  # + p7 10.00
    assert trend.loc["2027-09", "balances"] == minor("6163.7456")


def test_trend_months_cross_the_year():
    assert periods.labels_ending("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert periods.shift_label("2026-12", 1) == "2027-01" and periods.shift_label("2026-01", -13) == "2024-12"


# --- the whole audit object ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def monthly(engine):
    return audit.MonthlyAudit.compute(engine, "2026-10", large_payment_threshold="5000.00", top_n=2,
                                      ledger_url="sqlite:///ledger.sqlite")


def test_headline_figures(monthly):
    headline = monthly.headline().set_index("figure")[["amount", "count"]]
    assert monthly.headline()["currency"].tolist().count("USD") == len(monthly.headline()) - 3  # counts: none
    assert headline.loc["Money in (records with a positive amount)"].tolist() == [minor("13062.5956"), 4]
    assert headline.loc["Money out (records with a negative amount)"].tolist() == [minor("7105"), 3]
    assert headline.loc["Net payments (in − out)"].tolist() == [minor("5957.5956"), 7]
    assert headline.loc["Charges (call, agent and other fees)", "amount"] == minor("1.85")
    assert headline.loc["Accounts active (a payment or a charge)", "count"] == 3
    assert headline.loc["Reversals (offsetting records)"].tolist() == [minor("-7000"), 1]
    large = headline.loc["Large payments, at least 5,000.00 either way (total size)"]
    assert large.tolist() == [minor("20000"), 3]  # 7000 + 7000 + 6000
    assert headline.loc["Ledger verification problems (hash chains, month totals)", "count"] == 0


def test_headline_agrees_with_the_reconciliation(monthly, engine):
    totals = reconcile.reconcile(engine, "2026-10").totals()["USD"]
    headline = monthly.headline().set_index("figure")["amount"]
    assert headline["Net payments (in − out)"] == totals["payments"]
    assert headline["Charges (call, agent and other fees)"] == totals["charges"]
    assert headline["Expected closing balances"] == totals["expected_closing"]


def test_tables_and_charts_carry_the_same_numbers(monthly):
    tables = monthly.tables()
    assert list(tables) == ["Summary", "Movements", "Large payments", "Top accounts", "Trend", "Reconciliation",
                            "Results", "Differences", "Breaks", "Verification", "Fingerprint", "Thresholds",
                            "Controls", "Findings", "Provenance"]
    movements = tables["Movements"].frame
    figure = monthly.figure("movements-by-kind")
    assert sum(figure.data[0].y) == Decimal(int(movements.query("by == 'kind'")["money_in"].sum())) / 10_000
    assert set(audit.FIGURE_NAMES) == {f"movements-by-{d}" for d in audit.DIMENSIONS} | {
        "trend", "reconciliation-results", "findings-by-operator"}
    results = tables["Results"].frame.set_index("classification")
    assert results["accounts"].sum() == len(monthly.reconciliation.accounts)


def test_provenance_masks_the_password_and_names_the_fingerprint(engine):
    audited = audit.MonthlyAudit.compute(engine, "2026-10", ledger_url="postgresql://ann:s3cret@db/ledger",
                                         parameters={"db_url": "postgresql://ann:s3cret@db/ledger"})
    rows = dict(audited.provenance.rows())
    assert rows["ledger URL"] == "postgresql://ann:***@db/ledger"
    assert rows["parameter db_url"] == "postgresql://ann:***@db/ledger"
    assert "s3cret" not in " ".join(rows.values())
    assert rows["fingerprint payments rows"] == "9"
    assert len(rows["fingerprint payments head"]) == 64


def test_write_outputs_writes_the_workbook_and_the_charts(monthly, tmp_path):
    written = monthly.write_outputs(tmp_path, png=False)
    assert [path.name for path in written] == ["monthly-audit-2026-10.xlsx"]
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames == list(monthly.tables())
    summary = book["Summary"]
    assert summary["A2"].value == "Money in (records with a positive amount)"
    assert summary["B2"].value == "USD" and Decimal(str(summary["C2"].value)) == Decimal("13062.5956")
    reference = [c.value for c in book["Large payments"]["L"]]  # the reference column
    assert reference[0] == "reference" and book["Large payments"]["L2"].data_type == "s"
    zone = monthly.period.timezone  # a cell holds a time without its offset: the heading names the zone
    assert book["Large payments"]["B1"].value == f"occurred_at ({zone})"
    assert f"snapshot_as_of ({zone})" in [cell.value for cell in book["Reconciliation"][1]]
    assert reference[1] == '=HYPERLINK("x")'
    assert monthly.write_outputs("") == []  # no folder, no files


def test_bad_audit_inputs_name_the_fix(engine):
    with pytest.raises(ValueError, match="large_payment_threshold: '0' must be above zero"):
        audit.MonthlyAudit.compute(engine, "2026-10", large_payment_threshold="0")
    with pytest.raises(ValueError, match="month '2026-13' is not a month"):
        audit.MonthlyAudit.compute(engine, "2026-13")


def test_local_times_convert_naive_utc_to_wall_clock():
    shown = periods.local_times(pd.Series([datetime(2026, 10, 31, 20, 0)]), "Asia/Dubai")
    assert shown.tolist() == [pd.Timestamp("2026-11-01 00:00:00")]


def test_the_controls_file_parameter_sets_the_rules_the_controls_section_applies(engine, monthly, tmp_path):
    def unapproved(result) -> list[tuple]:
        return [f.payment_ids for f in result.findings if f.check == "unapproved_above_threshold"]

    assert unapproved(monthly.controls) == []  # parameters/controls.yaml: deposits wait from 10,000.00
    strict = tmp_path / "strict.yaml"
    strict.write_text('approval_thresholds: {USD: {deposit: "5000.00"}}\n', encoding="utf-8")
    audited = audit.MonthlyAudit.compute(engine, "2026-10", controls_file=str(strict))
    assert unapproved(audited.controls) == [(4,)]  # p4: 7,000.00 by bob at the admin desk, nobody approved
    rows = dict(audited.provenance.rows())
    assert rows["parameter controls_file"] == str(strict)
    # the file's content is named too: a rerun with the same name but other rules shows
    assert rows["controls settings"] == f"{strict} (sha256 {hashlib.sha256(strict.read_bytes()).hexdigest()})"
    default = dict(monthly.provenance.rows())["controls settings"]
    assert default.startswith(str(controls.DEFAULT_SETTINGS)) and default != rows["controls settings"]


def test_the_findings_by_operator_chart_is_written_even_when_the_controls_could_not_run(engine):
    dubai = audit.MonthlyAudit.compute(engine, "2026-10", timezone="Asia/Dubai")
    assert dubai.controls is None  # the controls cut months in the ledger's zone (UTC)
    figure = dubai.figure("findings-by-operator")
    assert "not run for a month cut in Asia/Dubai" in figure.layout.title.text and not figure.data


@pytest.mark.slow
def test_the_notebook_audits_a_month_cut_in_another_zone_to_the_end(engine, tmp_path):
    from vosbench.outputs import report

    done = report.run_audit("2026-10", out_dir=tmp_path, db_url=str(engine.url), overrides={"timezone": "Asia/Dubai"},
                            progress=False)  # the controls cells used to end it with KeyError: 'Controls'
    html = done.html.read_text(encoding="utf-8")
    assert "Not run for a month cut in Asia/Dubai" in html and done.xlsx.is_file()


def test_findings_per_operator_are_counted_in_whole_ticks():
    few = pd.DataFrame({"operator": ["amira", "omar"], "low": [1, 2], "high": [2, 1]})
    many = pd.DataFrame({"operator": ["amira"], "low": [30], "high": [12]})

    assert charts.findings_by_operator(few, title="t").layout.yaxis.dtick == 1
    assert charts.findings_by_operator(many, title="t").layout.yaxis.dtick is None
    assert charts.findings_by_operator(many, title="t").layout.yaxis.tickformat == ",d"
