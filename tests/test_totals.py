"""Kept month totals: whatever order batches arrive in, they equal a recomputation from raw rows.

Batches back-fill months under later ones, add to months already kept and open new ones,
so the closing shifts (:func:`vosbench.ledger.month_totals.apply`) are exercised in every combination.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

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
