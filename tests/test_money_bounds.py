"""The totals the ledger keeps never pass the largest amount it can hold, on every dialect.

Each amount fits a signed 64-bit column (:data:`vosbench.core.money.MAX_MINOR`), but a sum
of them need not: two deposits of 500 trillion into one account in one month. SQLite then
kept the month total as a REAL (a float), PostgreSQL and MariaDB raised an overflow. The
write door refuses such a batch whole with one line naming the account and month, and
SQLite's guards refuse a non-integer total from any writer.
"""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from tamper_sql import behind_guards

from vosbench.analysis import reconcile, trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.commands.main import main
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import money_bounds, readonly, setup, tables, verification, write_door

HALF = 500_000_000_000_000 * 10_000
"""500 trillion currency units in minor units: one fits a column, two do not."""
TOTALS = ("account_months", "payment_rollup", "account_rollup", "amount_rollup")


def _ledger(url: str):
    engine = setup.open_ledger(url, create=True, timezone="UTC")
    write_door.append_batch(engine, "accounts", [
        write_door.NewAccount("A1", "Agent", AccountKind.AGENT, "", 0, "USD", "UTC"),
        write_door.NewAccount("C1", "Cee", AccountKind.CUSTOMER, "A1", 0, "USD", "UTC"),
        write_door.NewAccount("C2", "Dee", AccountKind.CUSTOMER, "A1", 0, "USD", "UTC")], source="t", file="accounts.csv")
    return engine


def _deposit(key: str, account: str, day: datetime, amount: int = HALF) -> write_door.NewPayment:
    return write_door.NewPayment(key, account, Kind.DEPOSIT, amount, day, "ops", Channel.ADMIN, Method.CASH)


def _kept(engine) -> dict[str, list]:
    with engine.connect() as connection:
        return {name: sorted(map(tuple, connection.execute(sa.select(tables.metadata.tables[name])).all()), key=str)
                for name in TOTALS}


def _refused(engine, rows, file="payments.csv") -> str:
    with pytest.raises(money_bounds.TotalPastBound) as refusal:
        write_door.append_batch(engine, "payments", rows, source="t", file=file)
    message = str(refusal.value)
    assert "\n" not in message and file in message and "largest amount the ledger can hold" in message
    return message


def test_a_file_whose_month_total_would_pass_the_bound_is_refused_whole(any_ledger_url):
    engine = _ledger(any_ledger_url)
    message = _refused(engine, [_deposit("p1", "C1", datetime(2026, 10, 5)), _deposit("p2", "C1", datetime(2026, 10, 6)),
                                _deposit("small", "C2", datetime(2026, 10, 7), 10_000)])
    assert "C1" in message and "2026-10" in message and "deposit" in message
    with engine.connect() as connection:
        assert connection.scalar(sa.select(sa.func.count()).select_from(tables.payments)) == 0
    assert all(not rows for rows in _kept(engine).values())


def test_a_second_file_adding_to_kept_totals_is_refused_and_the_first_stays_exact(any_ledger_url):
    engine = _ledger(any_ledger_url)
    write_door.append_batch(engine, "payments", [_deposit("p1", "C1", datetime(2026, 10, 5))], source="t", file="first.csv")
    before = _kept(engine)
    message = _refused(engine, [_deposit("p2", "C1", datetime(2026, 10, 20))], file="second.csv")
    assert "C1" in message and "2026-10" in message
    assert _kept(engine) == before
    assert all(type(value) is int for rows in before.values() for row in rows for value in row if not isinstance(value, str))
    assert verification.verify(engine).ok


def test_a_closing_balance_past_the_bound_names_the_month_it_passes_in(any_ledger_url):
    engine = _ledger(any_ledger_url)
    write_door.append_batch(engine, "payments", [_deposit("oct", "C1", datetime(2026, 10, 5))], source="t", file="oct.csv")
    message = _refused(engine, [_deposit("nov", "C1", datetime(2026, 11, 5))], file="nov.csv")
    assert "C1" in message and "2026-11" in message and "closing" in message


def test_the_ledger_wide_month_of_two_accounts_past_the_bound_is_refused(any_ledger_url):
    engine = _ledger(any_ledger_url)
    message = _refused(engine, [_deposit("c1", "C1", datetime(2026, 10, 5)), _deposit("c2", "C2", datetime(2026, 10, 5))])
    assert "2026-10" in message  # each account's month fits; the ledger's month (and agent A1's subtree) do not


def test_charges_past_the_bound_are_refused(tmp_path):
    engine = _ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    day = [write_door.NewCharge("C1", datetime(2026, 10, day).date(), HALF, 0, 0, 1) for day in (5, 6)]
    with pytest.raises(money_bounds.TotalPastBound, match="account C1.s call_fee total of 2026-10"):
        write_door.append_batch(engine, "charges", day, source="t", file="charges.csv")


def test_the_command_says_it_in_one_line(tmp_path, capsys):
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account,name,kind\nC1,Cee,customer\n", encoding="utf-8")
    (folder / "payments.csv").write_text(
        "source_key,account,kind,amount,occurred_at,operator,channel,method\n"
        "p1,C1,deposit,500000000000000,2026-10-05T10:00:00Z,ops,admin,cash\n"
        "p2,C1,deposit,500000000000000,2026-10-06T10:00:00Z,ops,admin,cash\n", encoding="utf-8")
    database = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    assert main(["import", str(folder), "--db", database]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and "C1" in error and "2026-10" in error and "Traceback" not in error


def _ledger_with_a_deposit(tmp_path) -> Path:
    """A SQLite ledger file holding one deposit of C1, closed: for SQL written behind the ledger's back."""
    path = tmp_path / "ledger.sqlite"
    engine = _ledger(f"sqlite:///{path}")
    write_door.append_batch(engine, "payments", [_deposit("p1", "C1", datetime(2026, 10, 5), 10_000)],
                            source="t", file="p.csv")
    engine.dispose()
    return path


def test_verify_names_a_non_integer_total_written_behind_the_ledger(tmp_path):
    """The totals are derived data: SQL behind the ledger's back can write anything into them, and verify says so."""
    path = _ledger_with_a_deposit(tmp_path)
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE account_months SET bonus = 0.5")
        raw.execute("UPDATE payment_rollup SET amount = amount + 0.5")
    problems = [str(problem) for problem in verification.verify(readonly.open_read_only(f"sqlite:///{path}")).problems]
    assert any("account_months" in problem and "bonus is 0.5, not an integer" in problem for problem in problems)
    assert any("payment_rollup" in problem and "not an integer" in problem for problem in problems)


NEARLY_ALL = 900_000_000_000_000 * 10_000
"""900 trillion units: within a column, but two of them are not."""
FIFTY = 50_000_000_000_000 * 10_000
"""50 trillion units: twenty of them pass 64 bits."""


def test_reconcile_and_trends_over_many_accounts_past_64_bits_stay_exact(any_ledger_url):
    engine = _ledger(any_ledger_url)
    write_door.append_batch(engine, "accounts", [write_door.NewAccount(f"M{number:02d}", "Many", AccountKind.CUSTOMER, "",
                                                                       0, "USD", "UTC") for number in range(20)],
                            source="t", file="many.csv")
    write_door.append_batch(engine, "payments", [  # ten a channel: every kept cell stays within the bound
        _deposit(f"m{number}", f"M{number:02d}", datetime(2026, 10, 1 + number), FIFTY)._replace(
            channel=(Channel.ADMIN, Channel.WEB)[number % 2]) for number in range(20)], source="t", file="p.csv")
    totals = reconcile.reconcile(engine, "2026-10").totals()["USD"]
    assert totals["deposit"] == totals["expected_closing"] == 20 * FIFTY  # exact, where int64 wrapped around
    shown = trends.trend(engine, PaymentFilter(start=date(2026, 10, 1), end=date(2026, 10, 31)), grain="month",
                         by="kind")
    assert shown.totals.set_index("bucket").loc["2026-10", "amount"] == 20 * FIFTY  # exact too, where it refused


def test_figures_whose_sums_pass_64_bits_are_exact_in_reconcile_and_refused_by_movers(any_ledger_url):
    engine = _ledger(any_ledger_url)
    write_door.append_batch(engine, "payments", [_deposit("c1", "C1", datetime(2026, 10, 5), NEARLY_ALL)],
                            source="t", file="p.csv")
    for day, fees in ((10, (NEARLY_ALL, 0)), (11, (0, NEARLY_ALL))):  # C1 ends the month at -900 trillion
        write_door.append_batch(engine, "charges", [write_door.NewCharge("C1", date(2026, 10, day), *fees, 0, 1)],
                                source="t", file=f"c{day}.csv")
    with pytest.raises(trends.TrendError, match="charges of the two months sum past the largest amount"):
        trends.movers(engine, "2026-10")  # its call and agent fees together pass 64 bits
    c1 = reconcile.reconcile(engine, "2026-10").accounts.set_index("account").loc["C1"]
    assert (c1["deposit"], c1["charges"], c1["expected_closing"]) == (NEARLY_ALL, 2 * NEARLY_ALL, -NEARLY_ALL)


def test_a_batch_whose_own_change_passes_64_bits_is_refused_alike_on_every_dialect(any_ledger_url):
    engine = _ledger(any_ledger_url)
    write_door.append_batch(engine, "payments", [_deposit("c1", "C1", datetime(2026, 10, 5), NEARLY_ALL)],
                            source="t", file="p.csv")
    with pytest.raises(money_bounds.TotalPastBound, match="account C1's balance moved by this batch of 2026-10"):
        write_door.append_batch(engine, "charges", [write_door.NewCharge("C1", date(2026, 10, 10), NEARLY_ALL,
                                                                        NEARLY_ALL, 0, 1)], source="t", file="c.csv")


def test_verify_names_a_record_holding_a_value_the_ledger_never_writes_instead_of_failing(tmp_path):
    """A kind in another case, inserted behind the ledger's back (the link function registered): verify says so."""
    path = _ledger_with_a_deposit(tmp_path)
    # the database refuses such a row now (its kind is not spelt as the ledger's): the guards are lifted for it
    behind_guards(path, "INSERT INTO payments (account_id, kind, amount, occurred_at, recorded_at, operator, channel, "
                        "method, reference, memo, reason, approved_by, source, source_key, hash) SELECT account_id, "
                        "'Deposit', amount, occurred_at, recorded_at, operator, channel, method, reference, memo, reason, "
                        "approved_by, 'behind', 'k2', hash FROM payments LIMIT 1", tables=("payments",))
    result = verification.verify(readonly.open_read_only(f"sqlite:///{path}"))
    assert not result.ok
    assert any("could not be computed: a row holds a value the ledger never writes (KeyError: 'Deposit')" in str(problem)
               for problem in result.problems)
