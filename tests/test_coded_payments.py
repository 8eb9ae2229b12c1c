"""A batch's rollup cells summed in bulk equal a plain fold of its records, to the last minor unit.

:mod:`vosbench.ledger.coded_payments` codes a batch once and sums each rollup's cells with
numpy; here each rollup's cells are held to a record-by-record reference written without it:
local days cut by ``zoneinfo`` across the ledger zone's midnights, the accounts' ancestors
from the accounts file, amounts whose sums pass int64, an account the accounts view lacks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from ledger_text import ACCOUNTS, ledger_from_text

from vosbench.ledger import account_rollup, amount_rollup, coded_payments, hashchain, payment_rollup, tables

ZONE = "Asia/Dubai"
ANCESTORS = {"R1": (), "A1": ("R1",), "C1": ("A1", "R1"), "C2": ("A1", "R1")}
KINDS, CHANNELS, METHODS, OPERATORS = ("deposit", "withdrawal", "bonus"), ("admin", "web"), ("cash", "card"), ("ann", "bob")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    return ledger_from_text(tmp_path_factory.mktemp("coded"), timezone=ZONE, accounts=ACCOUNTS)


def batch(ids: dict[str, int], scale: int, count: int = 3_000) -> list[tuple]:
    """Payments (account id, naive UTC instant, kind, channel, method, operator, amount) around local midnights."""
    rng, start = random.Random(scale), datetime(2026, 9, 29, 19, 0)  # 23:00 in Dubai, the day before October
    return [(rng.choice([*ids.values(), 999]), start + timedelta(minutes=rng.randrange(4 * 24 * 60)),
             rng.choice(KINDS), rng.choice(CHANNELS), rng.choice(METHODS), rng.choice(OPERATORS),
             rng.choice((-1, 1)) * rng.randrange(1, scale)) for _ in range(count)]


def fold(cells: dict, key: tuple, values: tuple) -> None:
    cells[key] = [kept + value for kept, value in zip(cells.get(key, [0] * len(values)), values)]


def reference(ids: dict[str, int], rows: list[tuple]) -> tuple[dict, dict, dict]:
    """The payment, account and amount rollups' cells, record by record (account 999 is in no view: no cell)."""
    names = {account_id: name for name, account_id in ids.items()}
    payment, account, amount = {}, {}, {}
    for account_id, at, kind, channel, method, operator, value in rows:
        if account_id not in names:
            continue
        day = at.replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE)).date().isoformat()
        words = (kind, channel, method, "USD")
        for key in (("D", "", day, *words), ("M", "", day[:7], *words), ("O", operator, day[:7], *words)):
            fold(payment, key, (1, value))
        for owner, part in ((account_id, "A"), *((ids[above], "B") for above in ANCESTORS[names[account_id]])):
            fold(account, (owner, part, day[:7], *words), (1, value, abs(value)))
        bucket = max(bound for bound in amount_rollup.BOUNDS if bound <= abs(value))
        fold(amount, (day[:7], bucket, *words), (1, value))
    return payment, account, amount


@pytest.mark.parametrize("scale", [10**9, 2**62], ids=["int64 sums", "sums past int64"])
def test_bulk_cells_equal_a_record_by_record_fold(ledger, scale):
    with ledger.connect() as connection:
        ids = dict(connection.execute(sa.select(tables.accounts.c.account, tables.accounts.c.id)).all())
        rows = batch(ids, scale)
        account_ids, times, kinds, channels, methods, operators, amounts = zip(*rows)
        coded = coded_payments.CodedPayments(connection, account_ids, [hashchain.canonical_time(at) for at in times],
                                             kinds, channels, methods, amounts, operators)
        assert (coded.amount.dtype == object) == (scale == 2**62)
        payment, account, amount = reference(ids, rows)
        assert payment_rollup.cells(coded) == payment
        assert account_rollup.cells(coded) == account
        assert amount_rollup.cells(coded) == amount


@pytest.mark.parametrize(("zone", "instants", "days"), [
    ("Asia/Dubai", ["2026-12-31 19:59:59.999999", "2026-12-31 20:00:00.000000"], ["2026-12-31", "2027-01-01"]),
    ("America/Los_Angeles", ["2027-01-01 07:59:59.000000", "2027-01-01 08:00:00.000000"], ["2026-12-31", "2027-01-01"]),
    ("Asia/Dubai", ["1969-12-31 20:00:00.000000", "2100-12-31 19:59:59.000000"], ["1970-01-01", "2100-12-31"]),
])
def test_local_days_are_cut_at_the_zones_midnights_across_years(zone, instants, days):
    coded = coded_payments.local_days(zone, instants)
    assert coded.words[coded.codes].tolist() == days


@pytest.mark.parametrize("instant", ["2101-01-01 00:00:00.000000", "1969-12-31 19:59:59.000000", "2300-01-01 00:00:00.000000"])
def test_an_instant_outside_the_years_the_ledger_handles_is_named(ledger, instant):
    with ledger.connect() as connection, pytest.raises(ValueError, match=f"{instant} is outside the years 1970-2100"):
        coded_payments.CodedPayments(connection, [1], [instant], ["deposit"], ["admin"], ["cash"], [1], ["ann"])
