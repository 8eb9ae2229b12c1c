"""Kept month totals: whatever order batches arrive in, they equal a recomputation from raw rows.

Batches back-fill months under later ones, add to months already kept and open new ones,
so the closing shifts (:func:`vosbench.ledger.month_totals.apply`) are exercised in every combination.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import month_totals, setup, write_door

ACCOUNTS = ("C1", "C2", "C3")
payment = st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, 7 * 30), st.integers(1, 10**8))
charge = st.tuples(st.sampled_from(ACCOUNTS), st.integers(0, 7 * 30), st.integers(0, 10**6))
batch = st.tuples(st.sampled_from(["payments", "charges"]), st.lists(st.tuples(payment, charge), max_size=6))


def _append(engine, content: str, drawn, serial: list[int]) -> None:
    rows = []
    for (account, offset, amount), (charge_account, charge_offset, fee) in drawn:
        serial[0] += 1
        if content == "payments":
            kind = (Kind.DEPOSIT, Kind.BONUS, Kind.AUTO_RECHARGE)[serial[0] % 3]  # per-kind counts too
            rows.append(write_door.NewPayment(f"k{serial[0]}", account, kind, amount,
                                           datetime(2026, 1, 1) + timedelta(days=offset, hours=serial[0] % 24),
                                           "ops", Channel.ADMIN, Method.CASH))
        else:
            rows.append(write_door.NewCharge(charge_account, date(2026, 1, 1) + timedelta(days=charge_offset),
                                          fee, 0, serial[0], 1))
    if content == "charges":  # one charge row per account and day
        rows = list({(row.account, row.day): row for row in rows}.values())
    if rows:
        write_door.append_batch(engine, content, rows, source="test", file=content)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(batch, min_size=1, max_size=6))
def test_kept_totals_equal_the_recomputed_ones_in_any_arrival_order(batches):
    with tempfile.TemporaryDirectory() as folder:
        engine = setup.open_ledger(f"sqlite:///{Path(folder) / 'ledger.sqlite'}", create=True, timezone="UTC")
        write_door.append_batch(engine, "accounts", [
            write_door.NewAccount(account, account, AccountKind.CUSTOMER, "", 0, "USD", "UTC") for account in ACCOUNTS],
            source="test", file="accounts")
        serial = [0]
        seen_days: set[tuple[str, date]] = set()
        for content, drawn in batches:
            if content == "charges":  # a day's charges are recorded once
                drawn = [(p, c) for p, c in drawn
                         if (c[0], date(2026, 1, 1) + timedelta(days=c[1])) not in seen_days]
                seen_days |= {(c[0], date(2026, 1, 1) + timedelta(days=c[1])) for _, c in drawn}
            _append(engine, content, drawn, serial)
        with engine.connect() as connection:
            assert month_totals.stored(connection) == month_totals.recompute(connection)
        engine.dispose()


def _back_filled(url: str) -> tuple:
    """A ledger of 40 accounts with a deposit in each of six months, then a batch of charges back-filling
    the first three months (every later closing shifts); the engine and the SQL statements SQLite ran for both
    batches (each row of an executemany counted)."""
    engine = setup.open_ledger(url, create=True, timezone="UTC")
    accounts = [f"C{index:02d}" for index in range(40)]
    write_door.append_batch(engine, "accounts", [
        write_door.NewAccount(account, account, AccountKind.CUSTOMER, "", 0, "USD", "UTC") for account in accounts],
        source="test", file="accounts")
    ran: list[str] = []
    if url.startswith("sqlite"):
        def traced(dbapi_connection, _record) -> None:
            dbapi_connection.set_trace_callback(ran.append)
        engine.dispose()
        sa.event.listen(engine, "connect", traced)
    write_door.append_batch(engine, "payments", [
        write_door.NewPayment(f"{account}-{month}", account, Kind.DEPOSIT, 10_000 * (month + 1),
                              datetime(2026, month, 10), "ops", Channel.ADMIN, Method.CASH)
        for account in accounts for month in range(1, 7)], source="test", file="payments")
    write_door.append_batch(engine, "charges", [
        write_door.NewCharge(account, date(2026, month, day), 100 * day, 10, 1, 2)
        for account in accounts for month in (1, 2, 3) for day in (3, 17)], source="test", file="charges")
    return engine, ran


def test_back_filled_months_shift_every_later_closing_on_every_dialect(any_ledger_url):
    engine, _ran = _back_filled(any_ledger_url)
    with engine.connect() as connection:
        kept = month_totals.stored(connection)
        assert kept == month_totals.recompute(connection)
    # each account: deposits of 20,000 to 70,000 in January to June, charged 2,022 in each of January to March
    assert {figures["closing"] for (_account, month), figures in kept.items() if month == "2026-06"} == {
        10_000 * (2 + 3 + 4 + 5 + 6 + 7) - 3 * (100 * (3 + 17) + 2 * 10 + 2 * 1)}


def test_a_batch_keeps_its_totals_in_a_few_statements_whatever_its_size(tmp_path):
    """Inside the savepoint the totals are kept under, SQLite journals each statement until the savepoint
    ends: a statement per account and month (or rollup cell) made the upkeep of a bulk import four to fifteen
    times dearer."""
    engine, ran = _back_filled(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    kept = ("account_months", "payment_rollup", "account_rollup", "amount_rollup")
    upkeep = [match.group(2) for statement in ran
              if (match := re.match(r"\s*(UPDATE|INSERT INTO) (\w+)\b", statement)) and match.group(2) in kept]
    # the payments: their months, new, and a statement per rollup; the charges: their months, and the later
    # months' closings
    assert {name: upkeep.count(name) for name in kept} == {"account_months": 3, "payment_rollup": 1,
                                                           "account_rollup": 1, "amount_rollup": 1}
    with engine.connect() as connection:
        assert month_totals.stored(connection) == month_totals.recompute(connection)


def test_accounts_set_against_their_stored_months_in_chunks_keep_the_same_totals(tmp_path, monkeypatch):
    """apply sets a batch's months against the stored ones :data:`month_totals.STORED_CHUNK` accounts at a time (a
    bulk import's 50,000 in ten reads): chunks cut anywhere in the accounts keep what one read keeps."""
    monkeypatch.setattr(month_totals, "STORED_CHUNK", 7)
    engine, _ran = _back_filled(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    with engine.connect() as connection:
        kept = month_totals.stored(connection)
        assert kept == month_totals.recompute(connection)
    assert {figures["closing"] for (_account, month), figures in kept.items() if month == "2026-06"} == {
        10_000 * (2 + 3 + 4 + 5 + 6 + 7) - 3 * (100 * (3 + 17) + 2 * 10 + 2 * 1)}
