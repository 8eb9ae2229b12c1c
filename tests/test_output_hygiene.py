"""Output hygiene: no pandas text for an empty result, one time-display rule, a month with no data says so."""

import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from ledger_text import ACCOUNTS, TEAM, ledger_from_text

from vosbench.core import timeshow
from vosbench.outputs import audit, views


def test_an_empty_table_says_no_records_match_and_csv_keeps_its_header():
    empty = pd.DataFrame({"account": pd.Series([], dtype=object), "amount": pd.Series([], dtype="int64")})
    out = io.StringIO()
    views.print_frame(empty, ["amount"], stream=out)
    assert out.getvalue() == "no records match\n"
    out = io.StringIO()
    views.print_frame(empty, ["amount"], "csv", stream=out)
    assert out.getvalue() == "account,amount\n"


@pytest.mark.parametrize("instant, zone, shown", [
    (datetime(2026, 10, 5, 8, 0, 0, 999_999), "Asia/Dubai", "2026-10-05 12:00:00 +04:00"),  # to the second
    (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Berlin", "2026-03-29 03:30:00 +02:00"),
    (datetime(2026, 1, 10, 12, 0), "America/New_York", "2026-01-10 07:00:00 -05:00"),
    # the hour New York's clocks go back: one wall-clock time, two instants, two offsets
    (datetime(2026, 11, 1, 5, 30), "America/New_York", "2026-11-01 01:30:00 -04:00"),
    (datetime(2026, 11, 1, 6, 30), "America/New_York", "2026-11-01 01:30:00 -05:00"),
    (None, "UTC", ""),
])
def test_one_time_display_rule(instant, zone, shown):
    assert timeshow.shown(instant, zone) == shown
    assert timeshow.heading("time", zone) == f"time ({zone})"


def test_an_audit_of_a_month_without_records_says_so(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments="""
        source_key,account,kind,amount,occurred_at,operator,channel,method
        k1,C1,deposit,10.00,2026-10-02T10:00:00Z,a,admin,cash
    """)
    empty = audit.MonthlyAudit.compute(engine, "2099-01")
    assert empty.empty
    assert "no payment records and no charges" in empty.introduction().data
    assert not audit.MonthlyAudit.compute(engine, "2026-10").empty
    assert audit.month_is_empty(engine, "2099-01") and not audit.month_is_empty(engine, "2026-10")


def test_approvals_list_shows_times_in_the_reporting_zone_to_the_second(tmp_path):
    from vosbench.ledger import approvals, policy

    engine = ledger_from_text(tmp_path, timezone="Asia/Dubai", accounts=ACCOUNTS, operators=TEAM)
    approvals.submit(engine, policy.load(), account="C1", kind="deposit", amount="20000", operator="ann",
                     occurred_at=datetime(2026, 10, 5, 8, 0, 0, 123_456, tzinfo=UTC), method="bank_wire")
    out = io.StringIO()
    views.print_frame(approvals.requests(engine), ("amount", "threshold"), stream=out)
    assert "2026-10-05 12:00:00 +04:00" in out.getvalue()  # occurred_at: Dubai, no microseconds
    assert ".123456" not in out.getvalue()
