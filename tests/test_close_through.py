"""`vosbench close --through YYYY-MM`: every open month up to one, in order, each a close of its own with its receipt.

The ledger holds records in July, September and October 2026 (none in August, which
``close --month`` never asks for either); a supervisor and a clerk are registered, so
every close needs both people. Receipts are written in the current folder, here the
test's own.
"""

from __future__ import annotations

import json

import pytest
from ledger_text import ledger_from_text
from tamper_sql import behind_guards

from vosbench.commands import main
from vosbench.ledger import month_close

ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    C1,Acme Trading,customer,,0,USD,UTC
"""
PAYMENTS = """
    source_key,account,kind,amount,occurred_at,operator,channel,method
    p1,C1,deposit,100.00,2026-07-05T10:00:00Z,ann,admin,cash
    p2,C1,deposit,40.00,2026-09-06T10:00:00Z,ann,admin,cash
    p3,C1,deposit,5.00,2026-10-07T10:00:00Z,ann,admin,cash
"""
OPERATORS = """
    login,name,role,timezone,shift_start,shift_end,working_days
    ann,Ann Lee,clerk,UTC,09:00,17:00,12345
    sue,Sue Park,supervisor,UTC,08:00,16:00,12345
"""


@pytest.fixture
def db(tmp_path, monkeypatch) -> str:
    engine = ledger_from_text(tmp_path, accounts=ACCOUNTS, payments=PAYMENTS, operators=OPERATORS)
    engine.dispose()
    monkeypatch.chdir(tmp_path)  # receipts land here, never in the checkout
    return f"sqlite:///{tmp_path / 'ledger.sqlite'}"


def close(capsys, db: str, *argv: str) -> tuple[int, list[str], list[str]]:
    """Run ``vosbench close ARGV``: (exit code, stdout lines, stderr lines)."""
    code = main.main(["close", "--db", db, *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out.splitlines(), captured.err.splitlines()


def closed(db: str) -> list[str]:
    from vosbench.ledger import setup

    engine = setup.open_ledger(db)
    with engine.connect() as connection:
        months = sorted(month_close.closed_months(connection))
    engine.dispose()
    return months


def test_through_closes_each_open_month_in_order_with_its_own_receipt(db, tmp_path, capsys):
    code, out, err = close(capsys, db, "--month", "2026-10", "--by", "sue", "--second", "ann")
    assert code == 2 and "close 2026-07 first" in err[0] and "`vosbench close --through 2026-10`" in err[0]
    code, out, err = close(capsys, db, "--through", "2026-10", "--by", "sue", "--second", "ann")
    assert (code, err) == (0, [])
    assert [line.split(" (")[0] for line in out] == ["closed 2026-07", "closed 2026-09", "closed 2026-10"]
    assert closed(db) == ["2026-07", "2026-09", "2026-10"]
    from vosbench.ledger import setup

    engine = setup.open_ledger(db)
    with engine.connect() as connection:
        events = month_close.history(connection)
    engine.dispose()
    for event in events:  # each month's receipt is its close record's, as `close --month` writes it
        assert json.loads((tmp_path / f"close-{event.month}.json").read_text()) == event.receipt
        assert (event.action, event.by, event.second) == ("close", "sue", "ann")
    assert [event.receipt["closings"] for event in events] == [{"C1": 1000000}, {"C1": 1400000}, {"C1": 1450000}]
    assert not (tmp_path / "close-2026-08.json").exists()  # August holds no records: not asked for, not closed
    assert main.main(["verify", "--db", db, "--anchor", str(tmp_path / "close-2026-09.json")]) == 0
    capsys.readouterr()
    code, out, err = close(capsys, db, "--through", "2026-10", "--by", "sue", "--second", "ann")
    assert (code, out) == (2, []) and err == ["vosbench close: 2026-10 is already closed, and so is every month before "
                                              "it that holds records: nothing to close"]


def test_through_only_the_open_months_after_the_closed_ones(db, tmp_path, capsys):
    assert close(capsys, db, "--month", "2026-07", "--by", "sue", "--second", "ann")[0] == 0
    code, out, _ = close(capsys, db, "--through", "2026-09", "--by", "sue", "--second", "ann")
    assert code == 0 and [line.split(" (")[0] for line in out] == ["closed 2026-09"]
    assert closed(db) == ["2026-07", "2026-09"]


@pytest.mark.parametrize("people, message", [
    (("--by", "ann", "--second", "sue"), "'ann' is not a registered supervisor"),
    (("--by", "sue"), "a second registered operator, other than sue, must confirm it"),
    (("--by", "sue", "--second", "sue"), "a second person, other than sue"),
])
def test_through_applies_the_two_person_check_and_closes_nothing_it_refuses(db, capsys, people, message):
    code, out, err = close(capsys, db, "--through", "2026-10", *people)
    assert (code, out, len(err)) == (2, [], 1)
    assert err[0].startswith("vosbench close: closed nothing; 2026-07 did not close: ") and message in err[0]
    assert err[0].endswith("; 2026-09 to 2026-10 (2 months) not tried")
    assert closed(db) == []


def test_through_stops_at_the_first_month_that_cannot_close_and_says_which_closed(db, tmp_path, capsys):
    # a database that refuses the September close (as a server may, mid-run): the months before stay closed
    behind_guards(tmp_path / "ledger.sqlite",
                  "CREATE TRIGGER refuse_september BEFORE INSERT ON month_closes WHEN NEW.month = '2026-09' "
                  "BEGIN SELECT RAISE(ABORT, 'September is refused here'); END")
    code, out, err = close(capsys, db, "--through", "2026-10", "--by", "sue", "--second", "ann")
    assert code == 2 and [line.split(" (")[0] for line in out] == ["closed 2026-07"]
    assert err == ["vosbench close: closed 2026-07; 2026-09 did not close: September is refused here; "
                   "2026-10 not tried"]
    assert closed(db) == ["2026-07"]
    assert sorted(path.name for path in tmp_path.glob("close-*.json")) == ["close-2026-07.json"]


@pytest.mark.parametrize("argv, message", [
    (["--through", "2026-13"], "month '2026-13' is not a month; give it as 'YYYY-MM'"),
    (["--through", "2099-01"], "2099-01 has not ended yet"),
    (["--month", "2026-09", "--through", "2026-10"], "give --month YYYY-MM (one month) or --through YYYY-MM "
                                                     "(every open month up to it), not both"),
    ([], "give --month YYYY-MM (one month) or --through YYYY-MM (every open month up to it), one of them"),
    (["--through", ""], "--through is blank; give the month as YYYY-MM, e.g. --through 2026-10"),
    (["--through", "  "], "--through is blank"),
    (["--month", ""], "--month is blank"),
    (["--through", "2026-10", "--receipt", "r.json"], "--receipt names one file, and --through writes a receipt "
                                                      "per month"),
])
def test_hostile_input_gets_one_line_and_closes_nothing(db, tmp_path, capsys, argv, message):
    code, out, err = close(capsys, db, *argv, "--by", "sue", "--second", "ann")
    assert (code, out, len(err)) == (2, [], 1) and err[0].startswith("vosbench close: ") and message in err[0]
    assert closed(db) == [] and not list(tmp_path.glob("close-*.json")) and not (tmp_path / "r.json").exists()


def test_a_receipt_that_cannot_be_written_leaves_its_month_open_and_stops_there(db, capsys, monkeypatch):
    monkeypatch.chdir("/proc")  # no file can be made here, not even by root
    code, out, err = close(capsys, db, "--through", "2026-10", "--by", "sue", "--second", "ann")
    assert (code, out, len(err)) == (2, [], 1)
    assert err[0].startswith("vosbench close: closed nothing; 2026-07 did not close: close-2026-07.json: cannot be "
                             "written (")
    assert err[0].endswith("2026-07 was not closed: run `close --through` in a folder you may write in; "
                           "2026-09 to 2026-10 (2 months) not tried")
    assert closed(db) == []
