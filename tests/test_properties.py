"""Property tests: reconciliation totals are exact sums, and consistent balances never break.

Ledgers are generated in Asia/Dubai (UTC+4) around October 2026 and appended with typed
rows; the expected figures are worked out here with Decimal arithmetic and plain
datetime offsets, independently of vosbench's own period code.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vosbench.analysis import balance_continuity
from vosbench.analysis.reconcile import AGREES, reconcile
from vosbench.core import money, periods
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import setup, write_door

LEDGER_ZONE = "Asia/Dubai"
DUBAI = timedelta(hours=4)
WINDOW_START = datetime(2026, 9, 1)  # naive UTC; generated times fall in Sep 1 .. Nov 20
WINDOW_MINUTES = 80 * 24 * 60
CUSTOMERS = ("C1", "C2", "C3")
SIGNED_KINDS = {Kind.DEPOSIT: 1, Kind.BONUS: 1, Kind.AUTO_RECHARGE: 1, Kind.WITHDRAWAL: -1,
                Kind.ADJUSTMENT: 0}

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None,
                             suppress_health_check=[HealthCheck.too_slow])

amounts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=4)
fees = st.decimals(min_value=Decimal("0"), max_value=Decimal("300"), places=4)
instants = st.one_of(
    st.integers(0, WINDOW_MINUTES).map(lambda m: WINDOW_START + timedelta(minutes=m)),
    # whole hours, so records land exactly on day ends (20:00 UTC) and month bounds too
    st.integers(0, WINDOW_MINUTES // 60).map(lambda h: WINDOW_START + timedelta(hours=h)),
)


@st.composite
def payments(draw):
    kind = draw(st.sampled_from(sorted(SIGNED_KINDS, key=str)))
    sign = SIGNED_KINDS[kind] or draw(st.sampled_from([1, -1]))
    return draw(st.sampled_from(CUSTOMERS)), kind, sign * draw(amounts), draw(instants)


@st.composite
def charges(draw):
    day = date(2026, 9, 1) + timedelta(days=draw(st.integers(0, 79)))
    return draw(st.sampled_from(CUSTOMERS)), day, draw(fees), draw(fees), draw(fees)


charge_lists = st.lists(charges(), max_size=25, unique_by=lambda c: (c[0], c[1]))


def new_ledger(folder: str):
    engine = setup.open_ledger(f"sqlite:///{Path(folder) / 'ledger.sqlite'}", create=True, timezone=LEDGER_ZONE)
    write_door.append_batch(engine, "accounts", [
        write_door.NewAccount(name, name, AccountKind.CUSTOMER, "", 0, "USD", LEDGER_ZONE) for name in CUSTOMERS
    ], source="test", file="accounts")
    return engine


def append(engine, payment_rows, charge_rows, snapshot_rows=()):
    if payment_rows:
        write_door.append_batch(engine, "payments", payment_rows, source="test", file="payments")
    if charge_rows:
        write_door.append_batch(engine, "charges", [
            write_door.NewCharge(account, day, money.to_minor(call), money.to_minor(agent), money.to_minor(other), 1)
            for account, day, call, agent, other in charge_rows], source="test", file="charges")
    if snapshot_rows:
        write_door.append_batch(engine, "balances", list(snapshot_rows), source="test", file="balances")


def new_payment(index, account, kind, amount, occurred_at, balance_after=None):
    return write_door.NewPayment(f"p{index}", account, kind, money.to_minor(amount), occurred_at, "ops",
                              Channel.ADMIN, Method.CASH, balance_after=balance_after)


def day_end(day: date) -> datetime:
    """Dubai local midnight starting the next day, in naive UTC (no DST in Dubai)."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time()) - DUBAI


def month_bounds(zone: str) -> tuple[datetime, datetime]:
    def utc(moment: datetime) -> datetime:
        return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).replace(tzinfo=None)
    return utc(datetime(2026, 10, 1)), utc(datetime(2026, 11, 1))


@PROPERTY_SETTINGS
@given(payment_list=st.lists(payments(), max_size=25), charge_list=charge_lists,
       zone=st.sampled_from([LEDGER_ZONE, "UTC", "America/New_York"]))
def test_reconciliation_totals_are_the_decimal_sums_of_the_inputs(payment_list, charge_list, zone):
    start, end = month_bounds(zone)
    expected = defaultdict(Decimal)
    for _, kind, amount, occurred_at in payment_list:
        if occurred_at < start:
            expected["opening"] += amount
        elif occurred_at < end:
            expected[kind.value] += amount
            expected["payments"] += amount
    for _, day, call, agent, other in charge_list:
        due = day_end(day)
        if due <= start:
            expected["opening"] -= call + agent + other
        elif due <= end:
            expected.update(call_fee=expected["call_fee"] + call, agent_fee=expected["agent_fee"] + agent,
                            other_fee=expected["other_fee"] + other,
                            charges=expected["charges"] + call + agent + other)
    expected["expected_closing"] = expected["opening"] + expected["payments"] - expected["charges"]

    with tempfile.TemporaryDirectory() as folder:
        engine = new_ledger(folder)
        append(engine, [new_payment(i, *p) for i, p in enumerate(payment_list)], charge_list)
        totals = reconcile(engine, "2026-10", timezone=zone).totals().get("USD", defaultdict(int))  # one currency
        engine.dispose()
    for column in ("opening", "payments", "charges", "expected_closing", "call_fee", "agent_fee",
                   "other_fee", *(kind.value for kind in SIGNED_KINDS)):
        assert money.to_decimal(totals[column]) == expected[column], column


@st.composite
def consistent_ledgers(draw):
    """Payments whose balance_after is what a correct source system would report, plus month-end balances."""
    payment_list = sorted(draw(st.lists(payments(), min_size=1, max_size=20)), key=lambda p: p[3])
    charge_list = draw(charge_lists)
    unknown = draw(st.lists(st.booleans(), min_size=len(payment_list), max_size=len(payment_list)))
    events = [(day_end(day), 0, account, -(call + agent + other)) for account, day, call, agent, other in charge_list]
    events += [(occurred_at, 1, account, amount) for account, _, amount, occurred_at in payment_list]
    october_end = month_bounds(LEDGER_ZONE)[1]
    balance, balances_after, snapshots = defaultdict(Decimal), [], defaultdict(Decimal)
    # A day's charges are due at its end, before a payment made at that very instant.
    for instant, is_payment, account, amount in sorted(events, key=lambda e: (e[0], e[1])):
        balance[account] += amount
        if is_payment:
            balances_after.append(balance[account])
        # The month-end balance: charges due by the end, payments made before it.
        if instant < october_end or (instant == october_end and not is_payment):
            snapshots[account] += amount
    rows = [new_payment(i, account, kind, amount, occurred_at,
                        None if hidden else money.to_minor(after))
            for i, ((account, kind, amount, occurred_at), after, hidden)
            in enumerate(zip(payment_list, balances_after, unknown))]
    return rows, charge_list, {name: snapshots[name] for name in CUSTOMERS}


@PROPERTY_SETTINGS
@given(ledger=consistent_ledgers(), pick=st.integers(0, 10**6),
       delta=st.integers(-10**8, 10**8).filter(bool))
def test_consistent_balances_never_break_and_one_perturbation_breaks_once(ledger, pick, delta):
    rows, charge_list, snapshots = ledger
    october = periods.month("2026-10", LEDGER_ZONE)
    month_end = [write_door.NewSnapshot(name, october.end, money.to_minor(balance))
                 for name, balance in snapshots.items()]
    with tempfile.TemporaryDirectory() as folder:
        engine = new_ledger(folder)
        append(engine, rows, charge_list, month_end)
        with engine.connect() as connection:
            assert balance_continuity.breaks(connection, october).empty
        result = reconcile(engine, "2026-10")
        assert (result.accounts["classification"] == AGREES).all()
        assert (result.accounts["expected_closing"] == result.accounts["recorded_closing"]).all()
        engine.dispose()

    # A record can be checked when a balance of its account is known before it, or the
    # account has no record before it at all (it opened at zero).
    checked = [i for i, row in enumerate(rows)
               if row.balance_after is not None and october.start <= row.occurred_at < october.end
               and (all(r.account != row.account for r in rows[:i])
                    or any(r.account == row.account and r.balance_after is not None for r in rows[:i]))]
    if not checked:
        return
    target = checked[pick % len(checked)]
    account = rows[target].account
    # The source system missed `delta` at the target record and carried on from there.
    perturbed = [row if i < target or row.account != account or row.balance_after is None
                 else row._replace(balance_after=row.balance_after + delta)
                 for i, row in enumerate(rows)]
    with tempfile.TemporaryDirectory() as folder:
        engine = new_ledger(folder)
        append(engine, perturbed, charge_list)
        with engine.connect() as connection:
            found = balance_continuity.breaks(connection, october)
        engine.dispose()
    assert found["payment_id"].tolist() == [target + 1]  # ledger ids follow the append order
    assert found["gap"].tolist() == [delta]
