"""A payment's date cannot be chosen freely: the door refuses a record dated ahead of the moment it is recorded
(a person's entry and an import alike), the audit names entries dated long before they were entered and any
record written behind the door dated after it was recorded.

The ledgers are real SQLite files written through the real door; an entry's recorded time is set through
the door's own ``recorded_at`` (as the demo sets it), and an approval request's time through the approvals'
clock, so each case is dated where the test needs it whatever day the suite runs.
"""

from __future__ import annotations

import sqlite3
import textwrap
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, TEAM, ledger_from_text, write_ledger_files
from raw_rows import carry_head
from team_ledger import login_engine

from vosbench.commands import main
from vosbench.controls import runner
from vosbench.core.model import Channel, Kind, Method
from vosbench.ledger import approvals, database, manual_entry, tables
from vosbench.ledger.guards import MANUAL_SOURCE
from vosbench.ledger.policy import from_mapping
from vosbench.ledger.write_door import CLOCK_SKEW, ImportRejected, NewPayment, append_batch
from vosbench.sources import csv_import

HEADER = ("source_key,account,kind,amount,occurred_at,operator,channel,method,reference,memo,reason,"
          "balance_after,reverses,approved_by")
RULES = from_mapping({"back_dated_days": 3})


def team_ledger(tmp_path, payments: str = ""):
    files = {"accounts": ACCOUNTS, "operators": TEAM}
    if payments:
        files["payments"] = HEADER + "\n" + textwrap.dedent(payments).strip()
    return ledger_from_text(tmp_path, **files)


def entered(engine, key: str, occurred: datetime, recorded: datetime, amount: int = 5_0000, operator: str = "ann") -> None:
    """A person's bonus through the door's manual rules, dated ``occurred`` and recorded at ``recorded``."""
    append_batch(engine, "payments", [NewPayment(key, "C1", Kind.BONUS, amount, occurred, operator, Channel.ADMIN,
                                                 Method.OTHER, reason="goodwill")],
                 source=MANUAL_SOURCE, file="record", strict=True, recorded_at=recorded)


def findings(engine, check: str, month: str):
    return {f.payment_ids[0]: f for f in runner.run(engine, month, RULES, [check]).findings}


def test_a_person_cannot_date_an_entry_ahead_of_the_clock(tmp_path, capsys):
    engine = team_ledger(tmp_path)
    now = datetime.now(UTC)
    ahead = now + CLOCK_SKEW + timedelta(minutes=1)
    with pytest.raises(manual_entry.LedgerError, match="is in the future"):
        manual_entry.record(engine, account="C1", kind="bonus", amount="5.00", occurred_at=ahead, operator="ann",
                            reason="goodwill")
    # a desk machine's clock a little ahead is no future date
    assert manual_entry.record(engine, account="C1", kind="bonus", amount="5.00", reason="goodwill",
                               occurred_at=now + CLOCK_SKEW - timedelta(seconds=30), operator="ann")
    # an entry waiting for approval is refused at once, not left to fail when a supervisor approves it
    with pytest.raises(approvals.ApprovalError, match="is in the future"):
        approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000.00", operator="ann",
                         occurred_at=ahead, method="bank_wire")
    assert approvals.requests(engine).empty
    code = main.main(["--db", str(engine.url), "record", "--account", "C1", "--kind", "bonus", "--amount", "5",
                      "--operator", "ann", "--reason", "goodwill", "--at", (now + timedelta(days=300)).isoformat()])
    err = capsys.readouterr().err
    assert code == 2 and "is in the future" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_entries_dated_long_before_they_were_entered_are_named(tmp_path):
    engine = team_ledger(tmp_path, """
        old,C1,bonus,9.00,2026-10-01T08:00:00Z,ann,admin,other,,,imported history,,,
    """)
    entered(engine, "same-month", datetime(2026, 10, 2, 9), datetime(2026, 10, 20, 9))  # 18 days, same month
    entered(engine, "next-month", datetime(2026, 10, 30, 9), datetime(2026, 11, 2, 12))  # 3 days 3 h, into October
    entered(engine, "on-time", datetime(2026, 10, 25, 9), datetime(2026, 10, 28, 8))  # under 3 days
    entered(engine, "month-end", datetime(2026, 10, 31, 19, 30), datetime(2026, 11, 1, 9))  # hours, into October
    found = findings(engine, "back_dated_entry", "2026-10")
    ids = {payment_id: key for payment_id, key in enumerate(["old", "same-month", "next-month", "on-time", "month-end"], 1)}
    assert {ids[i] for i in found} == {"same-month", "next-month", "month-end"}  # imported history is not a person's
    same, later, month_end = found[2], found[3], found[5]
    assert same.severity == "medium" and "18 day(s) earlier" in same.explanation
    assert later.severity == "high" and "into 2026-10 after it ended" in later.explanation
    assert later.operator == "ann" and later.amount == 5_0000
    # within the days allowed, but into a month that had ended: named, at low severity
    assert month_end.severity == "low" and "dated 2026-10-31 19:30:00 +00:00, 0 day(s) earlier, into 2026-10 after it ended" \
        in month_end.explanation
    # the setting decides: a desk that allows a week names the 18-day one and the ones into an ended month, at low
    week = runner.run(engine, "2026-10", from_mapping({"back_dated_days": 7}), ["back_dated_entry"]).findings
    assert [(f.payment_ids, f.severity) for f in week] == [((2,), "medium"), ((3,), "low"), ((5,), "low")]


def test_working_hours_are_read_from_when_a_person_entered_not_the_date_they_chose(tmp_path):
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, operators=TEAM + "    dee,Dee,clerk,UTC,09:00,17:00,1234567\n",
                              payments=HEADER + "\nnight,C1,bonus,9.00,2026-10-05T03:00:00Z,dee,admin,other,,,history,,,")
    # Monday 2026-10-05: entered at 22:10 and dated back inside the shift; entered at 11:00 and dated at 03:33
    entered(engine, "night-entry", datetime(2026, 10, 5, 16), datetime(2026, 10, 5, 22, 10), operator="dee")
    entered(engine, "day-entry", datetime(2026, 10, 5, 3, 33), datetime(2026, 10, 5, 11), operator="dee")
    (finding,) = runner.run(engine, "2026-10", RULES, ["outside_working_hours"]).findings
    # the night entry by the time it was made; imported history by the date its source wrote
    assert finding.payment_ids == (1, 2) and "#1 2026-10-05 03:00:00 +00:00, #2 2026-10-05 22:10:00 +00:00" in finding.explanation


def test_the_wait_for_approval_is_not_counted_as_dating(tmp_path, monkeypatch):
    engine = team_ledger(tmp_path)
    occurred = datetime(2026, 10, 2, 9, tzinfo=UTC)
    monkeypatch.setattr(approvals, "_now", lambda: occurred + timedelta(days=1))  # asked for the day after
    submission = approvals.submit(engine, RULES, account="C1", kind="deposit", amount="20000.00", operator="ann",
                                  occurred_at=occurred, method="bank_wire")
    monkeypatch.undo()
    assert submission.status == "pending"
    payment_id = approvals.approve(engine, submission.id, checker="bob")  # approved today, weeks later
    assert findings(engine, "back_dated_entry", "2026-10") == {}
    # the same entry made directly today would be named: the request's time is what is measured
    entered(engine, "direct", datetime(2026, 10, 2, 9), datetime.now(UTC).replace(tzinfo=None))
    assert list(findings(engine, "back_dated_entry", "2026-10")) == [payment_id + 1]


@pytest.mark.parametrize("when, message", [
    (datetime.now(UTC) + timedelta(days=40), r"is later than now .*time zone"),
    (datetime(1969, 12, 31, 23, 0, tzinfo=UTC), r"is before 1970, the first year the ledger handles"),
])
def test_an_import_dated_after_it_is_recorded_or_before_1970_is_refused_naming_the_line(tmp_path, when, message):
    engine = team_ledger(tmp_path)
    folder = write_ledger_files(tmp_path / "more", payments=HEADER + f"""
        past,C1,deposit,30.00,2026-10-05T10:00:00Z,web,web,gateway,ch_2,,,,,
        odd,C1,deposit,20.00,{when:%Y-%m-%dT%H:%M:%SZ},web,web,gateway,ch_1,,,,,""")
    with pytest.raises(ImportRejected, match=r"payments.csv:3: occurred_at .* " + message) as refused:
        csv_import.import_paths(engine, [folder], default_tz="UTC")
    assert len(refused.value.rejections) == 1
    with engine.connect() as connection:  # all or nothing: the good row waits for the file to be fixed
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.payments)) == 0


def test_a_record_dated_after_it_was_recorded_is_named_whatever_its_source(tmp_path):
    engine = team_ledger(tmp_path, """
        past,C1,deposit,30.00,2026-10-05T10:00:00Z,web,web,gateway,ch_2,,,,,
    """)
    entered(engine, "skewed", datetime(2026, 10, 9, 9, 4), datetime(2026, 10, 9, 9, 0))  # 4 minutes: a clock's skew
    # a row written behind the door, dated after it was recorded
    with sqlite3.connect(tmp_path / "ledger.sqlite") as connection:
        connection.execute("INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, "
                           "method, reference, memo, reason, approved_by, source, source_key, hash) SELECT account_id, "
                           "kind, amount, '2026-11-20 10:00:00.000000', '2026-10-20 10:00:00.000000', operator, channel, "
                           "method, reference, memo, reason, approved_by, source, 'ahead', hash FROM payments WHERE id = 1")
    (finding,) = findings(engine, "future_dated", "2026-11").values()
    assert finding.payment_ids == (3,) and finding.severity == "high"
    assert "dated 2026-11-20" in finding.explanation and "source " in finding.explanation
    assert findings(engine, "future_dated", "2026-10") == {}


POST = sa.text(
    "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, method, reference, "
    "memo, reason, approved_by, source, source_key, hash) VALUES ((SELECT id FROM accounts WHERE account = 'C1'), "
    "'bonus', 50000, :occurred, :recorded, 'ann', 'admin', 'other', '', '', 'goodwill', '', 'vosbench', :key, :hash)",
).bindparams(sa.bindparam("occurred", type_=tables.UtcTime), sa.bindparam("recorded", type_=tables.UtcTime))


def _post(engine, key: str, *, occurred: datetime, recorded: datetime) -> None:
    """A payments row written with plain SQL, dated as its writer chooses."""
    with engine.begin() as connection:
        connection.execute(POST, {"occurred": occurred, "recorded": recorded, "key": key, "hash": "0" * 64})
        carry_head(connection, "payments")


def test_on_a_server_a_login_cannot_choose_when_its_rows_were_written(team_url):
    now = datetime.now(UTC).replace(tzinfo=None)
    clerk = login_engine(team_url, "ann")
    if clerk.dialect.name == "sqlite":  # the file's holder can change anything: the audit's checks are what holds
        _post(clerk, "backdated", occurred=now - timedelta(days=40), recorded=now - timedelta(days=40))
        assert findings(clerk, "back_dated_entry", f"{now - timedelta(days=40):%Y-%m}") == {}
        return
    for key, occurred, recorded in [("recorded-back", now - timedelta(days=40), now - timedelta(days=39)),
                                    ("recorded-ahead", now, now + timedelta(hours=1)),
                                    ("dated-ahead", now + timedelta(minutes=30), now)]:
        with pytest.raises(sa.exc.DBAPIError, match="recorded now, by the clock of the database"):
            _post(clerk, key, occurred=occurred, recorded=recorded)
    _post(clerk, "on-time", occurred=now - timedelta(days=40), recorded=now)  # dated back, recorded now: kept ...
    (named,) = findings(clerk, "back_dated_entry", f"{now - timedelta(days=40):%Y-%m}").values()  # ... and named
    assert named.operator == "ann" and "40 day(s) earlier" in named.explanation
    # an approval request is entered now too: its time is what the dating check measures an approved entry from
    with pytest.raises(sa.exc.DBAPIError, match="a request is entered now, by the clock of the database"):
        with clerk.begin() as connection:
            connection.execute(tables.approval_requests.insert().values(
                requested_at=now - timedelta(days=39), maker="ann", account="C1", kind="deposit", amount=20_000 * 10_000,
                currency="USD", occurred_at=now - timedelta(days=40), channel="admin", method="cash", reference="",
                memo="", reason="", threshold=10_000 * 10_000))
    # the owner is not held to it: a copy keeps the times its rows were written at
    _post(database.make_engine(team_url), "copied", occurred=now - timedelta(days=40), recorded=now - timedelta(days=39))
