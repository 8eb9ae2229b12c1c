"""The explore panel's rollups and account tree answer exactly what the records say.

The count, per-kind totals and charts of a filter without accounts, operators, amounts or
text are read from the payment rollup (whole months, then the days left); those of accounts
or their subtrees over whole months, and their top accounts, from the account rollup; a
subtree from the kept account tree. Each answer is compared with one counted here from the raw records
(for random periods cut anywhere in a zone far from UTC, and random kinds, channels,
methods and currencies), and the kept tables with their recomputation after appends in any month order,
a move of a subtree and a change of currency. A skewed ledger (a few busy customers, texts to search)
has the top accounts, totals and charts of any mix of filters compared with the records counted one by one.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vosbench.analysis import explore
from vosbench.analysis.filters import PaymentFilter
from vosbench.core import periods
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import account_rollup, account_tree, amount_rollup, database, payment_rollup, setup, tables, verification, write_door

ZONE = "Asia/Kolkata"  # a half-hour offset: local days and months are cut away from UTC midnights
FIRST = date(2026, 1, 1)
DAYS = 100
TREE = (("R1", AccountKind.RESELLER, "", "USD"), ("A1", AccountKind.AGENT, "R1", "USD"),
        ("A2", AccountKind.AGENT, "R1", "USD"), ("C1", AccountKind.CUSTOMER, "A1", "USD"),
        ("C2", AccountKind.CUSTOMER, "A1", "USD"), ("C3", AccountKind.CUSTOMER, "A2", "USD"),
        ("C4", AccountKind.CUSTOMER, "", "EUR"))
CUSTOMERS = ("C1", "C2", "C3", "C4")
OPERATORS = ("ana", "bo", "cy")


def _accounts(rows=TREE) -> list[write_door.NewAccount]:
    return [write_door.NewAccount(account, account, kind, parent, 0, currency, ZONE)
            for account, kind, parent, currency in rows]


def _payments(seed: int, count: int, first_key: int = 0) -> list[write_door.NewPayment]:
    rng = random.Random(seed)
    rows = []
    for number in range(first_key, first_key + count):
        kind = rng.choice([Kind.DEPOSIT, Kind.BONUS, Kind.AUTO_RECHARGE, Kind.WITHDRAWAL])
        amount = rng.randint(1, 10**7) * (-1 if kind is Kind.WITHDRAWAL else 1)
        at = datetime(2026, 1, 1) + timedelta(minutes=rng.randint(0, DAYS * 24 * 60))
        rows.append(write_door.NewPayment(f"p{number}", rng.choice(CUSTOMERS), kind, amount, at, rng.choice(OPERATORS),
                                          rng.choice([Channel.WEB, Channel.API, Channel.ADMIN]),
                                          rng.choice([Method.CARD, Method.CASH, Method.CRYPTO])))
    return rows


@pytest.fixture(scope="module")
def ledger():
    with tempfile.TemporaryDirectory() as folder:
        engine = setup.open_ledger(f"sqlite:///{Path(folder) / 'ledger.sqlite'}", create=True, timezone=ZONE)
        write_door.append_batch(engine, "accounts", _accounts(), source="test", file="accounts")
        for part in range(3):  # batches that reach back into months already kept
            write_door.append_batch(engine, "payments", _payments(part, 150, part * 150), source="test",
                                    file=f"p{part}")
        yield engine
        engine.dispose()


def _records(engine) -> list[dict]:
    p, a = tables.payments, tables.current_accounts
    with engine.connect() as connection:
        rows = connection.execute(sa.select(p.c.occurred_at, p.c.kind, p.c.channel, p.c.method, p.c.operator, p.c.amount,
                                            p.c.reference, p.c.memo, a.c.currency, a.c.account)
                                  .join(a, a.c.id == p.c.account_id)).all()
    return [{**row._asdict(), "day": periods.local_day(row.occurred_at, ZONE)} for row in rows]


SUBTREES = {"R1": {"R1", "A1", "A2", "C1", "C2", "C3"}, "A1": {"A1", "C1", "C2"}, "A2": {"A2", "C3"},
            **{f"G{1 + side}": {f"G{1 + side}", *(f"K{index:03d}" for index in range(side, 200, 2))} for side in (0, 1)}}
"""Each agent's subtree, in :func:`ledger` and :func:`skewed` (its agent G1 holds the even customers, G2 the odd)."""


def _chosen_accounts(f: PaymentFilter) -> set[str] | None:
    if not f.accounts:
        return None
    return {below for top in f.accounts for below in SUBTREES.get(top, {top})} if f.include_sub_accounts else set(f.accounts)


def _counted(records: list[dict], f: PaymentFilter, *keys: str) -> dict[tuple, tuple[int, int]]:
    """Count and sum per ``keys`` of the records ``f`` selects, counted in Python."""
    sums: dict[tuple, list[int]] = {}
    accounts = _chosen_accounts(f)
    for record in records:
        if ((accounts is not None and record["account"] not in accounts)
                or (f.start and record["day"] < f.start) or (f.end and record["day"] > f.end)
                or (f.kinds and record["kind"] not in f.kinds) or (f.channels and record["channel"] not in f.channels)
                or (f.methods and record["method"] not in f.methods)
                or (f.operators and record["operator"] not in f.operators)
                or (f.currencies and record["currency"] not in f.currencies)
                or (f.min_amount is not None and abs(record["amount"]) < f.min_amount)
                or (f.max_amount is not None and abs(record["amount"]) > f.max_amount)
                or (f.text and not any(f.text.lower() in record[name].lower() for name in ("reference", "memo")))):
            continue
        key = tuple(record["day"].isoformat()[:7] if name == "month" else record[name] for name in keys)
        entry = sums.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += record["amount"]
    return {key: (count, amount) for key, (count, amount) in sums.items()}


def _answered(frame, *keys: str) -> dict[tuple, tuple[int, int]]:
    return {tuple(row[name] for name in keys): (int(row["count"]), int(row["amount"])) for _, row in frame.iterrows()}


def _days(whole_months: list[date]):
    """No day, any day around the records', or a month's first or last day (whole months)."""
    return st.one_of(st.none(), st.integers(-3, DAYS + 3).map(lambda offset: FIRST + timedelta(days=offset)),
                     st.sampled_from(whole_months))


_FIRSTS = [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
_LASTS = [first - timedelta(days=1) for first in _FIRSTS[1:]] + [date(2026, 4, 30)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_days(_FIRSTS), _days(_LASTS), st.sets(st.sampled_from(["deposit", "bonus", "auto_recharge", "withdrawal"])),
       st.sets(st.sampled_from(["web", "api", "admin"])), st.sets(st.sampled_from(["card", "cash", "crypto"])),
       st.sets(st.sampled_from(OPERATORS)), st.sets(st.sampled_from(["USD", "EUR"])))
def test_rollup_answers_equal_the_records_counted_one_by_one(ledger, start, end, kinds, channels, methods, operators,
                                                             currencies):
    if start and end and start > end:
        start, end = end, start
    f = PaymentFilter(start=start, end=end, kinds=tuple(kinds), channels=tuple(channels), methods=tuple(methods),
                      operators=tuple(operators), currencies=tuple(currencies))
    whole_months = (start is None or start.day == 1) and (end is None or (end + timedelta(days=1)).day == 1)
    with ledger.connect() as connection:  # the rollup answers, not the records (operators: by whole months)
        assert (explore._rollup_conditions(connection, f, ZONE) is not None) == (not operators or whole_months)
    records = _records(ledger)
    assert _answered(explore.totals_by_kind(ledger, f), "kind", "currency") == _counted(records, f, "kind", "currency")
    assert _answered(explore.monthly_by_kind(ledger, f), "month", "kind") == _counted(records, f, "month", "kind")
    assert (_answered(explore.by_channel_method(ledger, f), "channel", "method")
            == _counted(records, f, "channel", "method"))


_BOUNDS = st.one_of(st.none(), st.sampled_from([step * 10**power - end for power in range(3, 8) for step in (1, 2, 5)
                                                for end in (0, 1)]), st.integers(1, 10**7))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_FIRSTS + [None]), st.sampled_from(_LASTS + [None]), _BOUNDS, _BOUNDS,
       st.sets(st.sampled_from(["deposit", "bonus", "auto_recharge", "withdrawal"])),
       st.sets(st.sampled_from(["web", "api", "admin"])), st.sets(st.sampled_from(["card", "cash", "crypto"])),
       st.sets(st.sampled_from(["USD", "EUR"])))
def test_amount_rollup_answers_equal_the_records_counted_one_by_one(ledger, start, end, low, high, kinds, channels,
                                                                    methods, currencies):
    if start and end and start > end:
        start, end = end.replace(day=1), (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    if low is not None and high is not None and low > high:
        low, high = high, low
    f = PaymentFilter(start=start, end=end, min_amount=low, max_amount=high, kinds=tuple(kinds), channels=tuple(channels),
                      methods=tuple(methods), currencies=tuple(currencies))
    whole = amount_rollup.whole_buckets(low, high) if low is not None or high is not None else None
    with ledger.connect() as connection:  # the buckets a range covers whole from the rollup, its edges from the records
        assert (explore._amount_split(connection, f, ZONE) is not None) == (whole is not None)
    if low in (None, 0, 1000) and high == 49_999:  # a range between round figures has no edge piece
        assert whole == (low or 0, 50_000)
    records = _records(ledger)
    assert _answered(explore.totals_by_kind(ledger, f), "kind", "currency") == _counted(records, f, "kind", "currency")
    assert _answered(explore.monthly_by_kind(ledger, f), "month", "kind") == _counted(records, f, "month", "kind")
    assert (_answered(explore.by_channel_method(ledger, f), "channel", "method")
            == _counted(records, f, "channel", "method"))


def _top_counted(records: list[dict], f: PaymentFilter, n: int) -> list[tuple[str, int, int]]:
    """The top accounts of ``f`` counted in Python: (account, count, net), by money moved then account."""
    moved: dict[str, list[int]] = {}
    for record in records:
        if _counted([record], f, "kind"):
            entry = moved.setdefault(record["account"], [0, 0, 0])
            entry[0] += 1
            entry[1] += record["amount"]
            entry[2] += abs(record["amount"])
    ranked = sorted(moved.items(), key=lambda item: (-item[1][2], item[0]))[:n]
    return [(account, count, amount) for account, (count, amount, _) in ranked]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_FIRSTS + [None]), st.sampled_from(_LASTS + [None]),
       st.lists(st.sampled_from(["R1", "A1", "A2", "C1", "C3", "C4"]), min_size=1, max_size=3, unique=True),
       st.booleans(), st.sets(st.sampled_from(["deposit", "bonus", "auto_recharge", "withdrawal"])),
       st.sets(st.sampled_from(["web", "api", "admin"])), st.sets(st.sampled_from(["card", "cash", "crypto"])),
       st.sets(st.sampled_from(["USD", "EUR"])))
def test_account_rollup_answers_equal_the_records_counted_one_by_one(ledger, start, end, accounts, subtrees, kinds,
                                                                     channels, methods, currencies):
    if start and end and start > end:
        start, end = end.replace(day=1), (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    f = PaymentFilter(start=start, end=end, accounts=tuple(accounts), include_sub_accounts=subtrees, kinds=tuple(kinds),
                      channels=tuple(channels), methods=tuple(methods), currencies=tuple(currencies))
    with ledger.connect() as connection:  # whole months of accounts (nested subtrees too): the account rollup answers
        assert explore._account_rollup_conditions(connection, f, ZONE) is not None
    records = _records(ledger)
    assert _answered(explore.totals_by_kind(ledger, f), "kind", "currency") == _counted(records, f, "kind", "currency")
    assert _answered(explore.monthly_by_kind(ledger, f), "month", "kind") == _counted(records, f, "month", "kind")
    assert (_answered(explore.by_channel_method(ledger, f), "channel", "method")
            == _counted(records, f, "channel", "method"))
    top = explore.top_accounts(ledger, f, n=3)
    assert list(zip(top["account"], top["count"], top["amount"], strict=True)) == _top_counted(records, f, 3)


@pytest.fixture(scope="module")
def skewed():
    """A ledger whose busiest customers make many of the records (as a real one's do): 200 customers under two
    agents, every tenth held in EUR, 3,000 records over three months, three in ten of them made by the k-th
    customer with a weight of 1/k^1.5, the others by anyone; with texts to search."""
    customers = [f"K{index:03d}" for index in range(200)]
    busy = [1 / (index + 1) ** 1.5 for index in range(len(customers))]
    rows = [("G1", AccountKind.AGENT, "", "USD"), ("G2", AccountKind.AGENT, "", "USD"),
            *((number, AccountKind.CUSTOMER, f"G{1 + index % 2}", "EUR" if index % 10 == 9 else "USD")
              for index, number in enumerate(customers))]
    rng = random.Random(11)
    payments = []
    for number in range(3_000):
        kind = rng.choice([Kind.DEPOSIT, Kind.BONUS, Kind.AUTO_RECHARGE, Kind.WITHDRAWAL])
        amount = rng.randint(1, 10**7) * (-1 if kind is Kind.WITHDRAWAL else 1)
        at = datetime(2026, 1, 1) + timedelta(minutes=rng.randint(0, 90 * 24 * 60))
        holder = rng.choices(customers, weights=busy)[0] if rng.random() < 0.3 else rng.choice(customers)
        payments.append(write_door.NewPayment(f"s{number}", holder, kind, amount, at, rng.choice(OPERATORS),
                                              rng.choice([Channel.WEB, Channel.API]), rng.choice([Method.CARD, Method.CASH]),
                                              reference=f"REF-{number:05d}", memo=rng.choice(["refund", "top-up", "Promo"])))
    with tempfile.TemporaryDirectory() as folder:
        engine = setup.open_ledger(f"sqlite:///{Path(folder) / 'skewed.sqlite'}", create=True, timezone=ZONE)
        write_door.append_batch(engine, "accounts", _accounts(rows), source="test", file="accounts")
        write_door.append_batch(engine, "payments", payments, source="test", file="payments")
        database.refresh_statistics(engine)  # as an import does: the planner weighs the tables as at scale
        yield engine
        engine.dispose()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.fixed_dictionaries({}, optional={
    "start": st.dates(date(2025, 12, 28), date(2026, 4, 3)), "end": st.dates(date(2025, 12, 28), date(2026, 4, 3)),
    "accounts": st.sampled_from([("K000",), ("G2",), ("K003", "K030")]), "include_sub_accounts": st.booleans(),
    "operators": st.sampled_from([("ana",), ("bo", "cy")]), "min_amount": st.sampled_from([10**6, 5 * 10**6]),
    "max_amount": st.sampled_from([6 * 10**6, 10**7]), "kinds": st.sampled_from([("deposit",), ("withdrawal", "bonus")]),
    "channels": st.sampled_from([("web",), ("api",)]), "methods": st.sampled_from([("card",), ("cash",)]),
    "currencies": st.sampled_from([("EUR",), ("USD",)]), "text": st.sampled_from(["refund", "REF-000", "promo"])}),
    st.integers(1, 12))
def test_top_accounts_of_any_filter_are_the_ones_counted_one_by_one(skewed, fields, n):
    if fields.get("start") and fields.get("end") and fields["start"] > fields["end"]:
        fields["start"], fields["end"] = fields["end"], fields["start"]
    f = PaymentFilter(**fields)
    records = _records(skewed)
    top = explore.top_accounts(skewed, f, n=n)
    assert list(zip(top["account"], top["count"], top["amount"], strict=True)) == _top_counted(records, f, n)
    assert _answered(explore.totals_by_kind(skewed, f), "kind", "currency") == _counted(records, f, "kind", "currency")
    assert _answered(explore.monthly_by_kind(skewed, f), "month", "kind") == _counted(records, f, "month", "kind")
    assert (_answered(explore.by_channel_method(skewed, f), "channel", "method")
            == _counted(records, f, "channel", "method"))


def test_a_subtree_is_every_account_under_the_chosen_one_at_any_depth(ledger):
    records = _records(ledger)
    for top, below in (("R1", {"R1", "A1", "A2", "C1", "C2", "C3"}), ("A1", {"A1", "C1", "C2"}), ("C4", {"C4"})):
        f = PaymentFilter(accounts=(top,), include_sub_accounts=True)
        expected = _counted([record for record in records if record["account"] in below], PaymentFilter(),
                            "kind", "currency")
        assert _answered(explore.totals_by_kind(ledger, f), "kind", "currency") == expected
        assert explore.query_page(ledger, f, page_size=1000).rows["account"].isin(below).all()


def test_the_account_rollup_follows_a_move_alone(tmp_path):
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone=ZONE)
    write_door.append_batch(engine, "accounts", _accounts(), source="test", file="accounts")
    write_door.append_batch(engine, "payments", _payments(5, 120), source="test", file="p")
    # C3 moves from A2 to A1 (same currency): A1's subtree now holds C3's records, A2's no longer
    write_door.append_batch(engine, "accounts", _accounts([("C3", AccountKind.CUSTOMER, "A1", "USD")]), source="test",
                            file="move")
    with engine.connect() as connection:
        assert account_rollup.mismatches(connection) == []
    records = _records(engine)
    for top, below in (("A1", {"A1", "C1", "C2", "C3"}), ("A2", {"A2"})):
        f = PaymentFilter(accounts=(top,), include_sub_accounts=True)
        assert (_answered(explore.totals_by_kind(engine, f), "kind", "currency")
                == _counted([record for record in records if record["account"] in below], PaymentFilter(), "kind",
                            "currency"))


def test_the_tree_kept_over_a_transaction_follows_an_account_moved_in_it(any_ledger_url, monkeypatch):
    """A file streamed in parts takes its accounts' ancestors from the whole tree, read once per transaction
    (account_tree.ancestors): an account moved in the same transaction moves the later parts' records with it."""
    monkeypatch.setattr(account_rollup, "WHOLE_TREE_FROM", 0)  # every batch takes the whole tree, as a bulk import's
    engine = setup.open_ledger(any_ledger_url, create=True, timezone=ZONE)
    with engine.connect() as connection, connection.begin():
        write_door.append_batch(engine, "accounts", _accounts(), source="test", file="accounts", connection=connection)
        write_door.append_batch(engine, "payments", _payments(5, 120), source="test", file="p1", connection=connection)
        write_door.append_batch(engine, "accounts", _accounts([("C3", AccountKind.CUSTOMER, "A1", "USD")]),
                                source="test", file="move", connection=connection)
        write_door.append_batch(engine, "payments", _payments(6, 120, 1000), source="test", file="p2",
                                connection=connection)
        kept = {(ancestor, account) for account, ancestors in account_tree.ancestors(connection).items()
                for ancestor in ancestors}
        assert kept == {(ancestor, account) for ancestor, account in account_tree.recompute(connection)
                        if ancestor != account}
    with engine.connect() as connection:
        assert account_rollup.mismatches(connection) == []


def test_kept_tree_and_rollup_follow_moves_and_currency_changes(tmp_path):
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone=ZONE)
    write_door.append_batch(engine, "accounts", _accounts((*TREE, ("C5", AccountKind.CUSTOMER, "A1", "USD"))),
                            source="test", file="accounts")
    write_door.append_batch(engine, "payments", _payments(7, 200), source="test", file="p")
    # C1 holds payments in USD: it keeps its currency (they would be read as EUR)
    with pytest.raises(write_door.ImportRejected, match="account 'C1' holds payments in USD"):
        write_door.append_batch(engine, "accounts", _accounts([("C1", AccountKind.CUSTOMER, "A1", "EUR")]),
                                source="test", file="euro")
    # A2's customers move with it under C4's new reseller; C5, with no payment yet, keeps its books in EUR
    moved = [("R2", AccountKind.RESELLER, "", "USD"), ("A2", AccountKind.AGENT, "R2", "USD"),
             ("C5", AccountKind.CUSTOMER, "A1", "EUR")]
    write_door.append_batch(engine, "accounts", _accounts(moved), source="test", file="moves")
    later = _payments(8, 50, 1000)  # C5's first payments come in EUR
    write_door.append_batch(engine, "payments", [p._replace(account="C5") if n % 3 == 0 else p for n, p in enumerate(later)],
                            source="test", file="later")
    with engine.connect() as connection:
        assert account_tree.stored(connection) == account_tree.recompute(connection)
        assert payment_rollup.stored(connection) == payment_rollup.recompute(connection)
        assert account_rollup.mismatches(connection) == []
        assert amount_rollup.stored(connection) == amount_rollup.recompute(connection)
        ids = dict(connection.execute(sa.select(tables.accounts.c.account, tables.accounts.c.id)).all())
        assert (ids["R2"], ids["C3"]) in account_tree.stored(connection)
        assert (ids["R1"], ids["C3"]) not in account_tree.stored(connection)
    assert verification.verify(engine).ok
    records = _records(engine)
    assert {record["currency"] for record in records if record["account"] == "C5"} == {"EUR"}
    euro = PaymentFilter(start=FIRST, end=FIRST + timedelta(days=40), kinds=("deposit",))
    assert _answered(explore.totals_by_kind(engine, euro), "kind", "currency") == _counted(records, euro, "kind",
                                                                                           "currency")


@pytest.mark.parametrize(("table", "where", "named"), [
    ("payment_rollup", {"grain": "M"}, "payment rollup"),
    ("account_rollup", {"part": "A"}, "account rollup"),  # an account's own cells
    ("account_rollup", {"part": "B"}, "account rollup"),  # a subtree's cells
    ("amount_rollup", {"bucket": 5_000_000}, "amount rollup"),
])
def test_verify_reports_a_rollup_that_drifts_from_the_records(tmp_path, table, where, named):
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone=ZONE)
    write_door.append_batch(engine, "accounts", _accounts(), source="test", file="accounts")
    write_door.append_batch(engine, "payments", _payments(9, 20), source="test", file="p")
    assert verification.verify(engine).ok
    tampered = tables.metadata.tables[table]
    with engine.begin() as connection:
        connection.execute(tampered.update().where(*(tampered.c[name] == value for name, value in where.items()))
                           .values(amount=tampered.c.amount + 1))
    result = verification.verify(engine)
    assert result.total_mismatches and all(named in mismatch for mismatch in result.total_mismatches)


@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("chosen", [{}, {"kinds": ("deposit", "bonus")}, {"accounts": ("R1",), "include_sub_accounts": True},
                                    {"channels": ("web",), "min_amount": 10**6}])
def test_pages_by_amount_read_kind_by_kind_hold_every_record_once_in_order(ledger, descending, chosen):
    f = PaymentFilter(**chosen)
    whole = explore.query_all(ledger, f, sort="amount", descending=descending)
    pages, page = [], 1
    while True:  # 450 records, pages of 20: the first pages are read kind by kind, the last ones sorted
        shown = explore.query_page(ledger, f, page=page, page_size=20, sort="amount", descending=descending)
        pages.extend(shown.rows["id"])
        if page >= shown.pages:
            break
        page += 1
    assert pages == list(whole["id"]) and len(whole) > 80


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(_FIRSTS + [None]), st.sampled_from(_LASTS + [None]),
       st.sets(st.sampled_from(["deposit", "bonus", "auto_recharge", "withdrawal"])),
       st.sets(st.sampled_from(["web", "api", "admin"])), st.sets(st.sampled_from(["card", "cash", "crypto"])))
def test_top_accounts_of_every_account_are_read_from_their_own_cells(ledger, start, end, kinds, channels, methods):
    if start and end and start > end:
        start, end = end.replace(day=1), (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    f = PaymentFilter(start=start, end=end, kinds=tuple(kinds), channels=tuple(channels), methods=tuple(methods))
    with ledger.connect() as connection:  # no account named: every account's own cells of the months
        assert explore._account_rollup_conditions(connection, f, ZONE, own=True) is not None
        assert explore._account_rollup_conditions(connection, f, ZONE) is None
    top = explore.top_accounts(ledger, f, n=3)
    assert list(zip(top["account"], top["count"], top["amount"], strict=True)) == _top_counted(_records(ledger), f, 3)


_MIXED = st.fixed_dictionaries({}, optional={
    "start": st.sampled_from([FIRST + timedelta(days=offset) for offset in (-2, 10, 31, 45)]),
    "end": st.sampled_from([FIRST + timedelta(days=offset) for offset in (50, 58, 89, 103)]),
    "accounts": st.sampled_from([("C1",), ("A1",), ("C3", "C4")]), "include_sub_accounts": st.booleans(),
    "operators": st.sampled_from([("ana",), ("bo", "cy")]), "min_amount": st.sampled_from([10**6, 5 * 10**6]),
    "max_amount": st.sampled_from([6 * 10**6, 10**7]), "kinds": st.sampled_from([("deposit",), ("withdrawal", "bonus")])})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_MIXED)
def test_whichever_index_drives_the_records_are_the_same(ledger, fields):
    f = PaymentFilter(**fields)
    expected = _counted(_records(ledger), f, "kind", "currency")
    p, a = tables.payments, tables.current_accounts
    with ledger.connect() as connection:
        assert explore._driver(connection, f, ZONE) in ("", *explore._DRIVER_COLUMNS)
        for driver in ("", *explore._DRIVER_COLUMNS):  # each driver leaves its own columns bare, wraps the others
            counted = connection.execute(
                sa.select(p.c.kind, a.c.currency, sa.func.count(), sa.func.sum(p.c.amount))
                .join(a, a.c.id == p.c.account_id).where(*explore.conditions(f, ZONE, "sqlite", driver=driver))
                .group_by(p.c.kind, a.c.currency)).all()
            assert {(kind, currency): (count, amount) for kind, currency, count, amount in counted} == expected
    assert _answered(explore.totals_by_kind(ledger, f), "kind", "currency") == expected
    assert _answered(explore.monthly_by_kind(ledger, f), "month", "kind") == _counted(_records(ledger), f, "month", "kind")
    whole = explore.query_all(ledger, f, sort="amount")
    for sort in ("amount", "occurred_at"):
        shown = explore.query_page(ledger, f, page_size=10, sort=sort)
        assert list(shown.rows["id"]) == list(explore.query_all(ledger, f, sort=sort)["id"][:10])
    assert shown.total_count == len(whole)


def test_an_amount_range_is_weighed_by_every_month_its_index_reads(ledger):
    """The (kind, amount) index holds no time: an amount range is read in every month, so a month whose
    records in the range are fewer than its records is still read by its time (a month's records of 10
    to 50 were read from the whole ledger's range: a second for its top accounts at 1M); a range covering a
    sliver of a bucket counts a sliver of the bucket's records."""
    f = PaymentFilter(start=date(2026, 2, 1), end=date(2026, 2, 28), max_amount=4 * 10**6)
    records = _records(ledger)
    in_month, in_range = _counted(records, replace(f, max_amount=None), "kind"), _counted(records, replace(f, start=None, end=None), "kind")
    month, month_in_range = sum(count for count, _ in in_month.values()), sum(count for count, _ in _counted(records, f, "kind").values())
    assert month_in_range < month < sum(count for count, _ in in_range.values())
    one_value = replace(f, min_amount=7 * 10**6, max_amount=7 * 10**6)  # a sliver of its bucket (5 to 10 million)
    with ledger.connect() as connection:
        assert explore._driver(connection, f, ZONE) == "period"
        assert explore._driver(connection, one_value, ZONE) == "amount"  # not every record of its bucket
    for chosen in (f, one_value):
        top = explore.top_accounts(ledger, chosen, n=3)
        assert list(zip(top["account"], top["count"], top["amount"], strict=True)) == _top_counted(records, chosen, 3)


@pytest.mark.parametrize("driver", ["", "accounts", "period", "amount"])
@pytest.mark.parametrize("walked", [(True, True), (False, False), (True, False), (False, True)])
def test_a_page_by_amount_walks_dense_kinds_and_sorts_the_sparse_ones_alike(ledger, driver, walked):
    f = PaymentFilter(start=FIRST + timedelta(days=5), end=FIRST + timedelta(days=80), accounts=("R1",),
                      include_sub_accounts=True, min_amount=2 * 10**6, kinds=("deposit", "withdrawal"))
    walks = dict(zip((Kind.DEPOSIT, Kind.WITHDRAWAL), walked, strict=True))
    whole = explore.query_all(ledger, f, sort="amount")
    with ledger.connect() as connection:
        for page in (1, 2):
            statement = explore._page_statement(f, ZONE, "sqlite", "amount", True, page=page, page_size=15, few=False,
                                                indexed=False, walks=walks, driver=driver)
            shown = [row.id for row in connection.execute(statement)]
            assert shown == list(whole["id"][(page - 1) * 15:page * 15]) and len(whole) > 30


def _plans(engine, action) -> list[list[str]]:
    """SQLite's plan of each statement ``action`` runs on ``engine`` (the plan's lines)."""
    statements: list[tuple[str, tuple]] = []

    def keep(_connection, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    with engine.connect() as connection:
        return [[row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)]
                for statement, parameters in statements if statement.lstrip().startswith("SELECT")]


def test_a_count_in_two_currencies_reads_the_records_then_their_accounts(skewed):
    """The per-kind totals of a ledger of two currencies look each chosen record's account up by its key: SQLite
    otherwise read every account, then its records through the account index (a text with no period at 1M
    records: over 2 s, where reading the records takes 0.3 s)."""
    f = PaymentFilter(text="refund")
    assert set(explore.totals_by_kind(skewed, f)["currency"]) == {"EUR", "USD"}
    counting = [plan for plan in _plans(skewed, lambda: explore.totals_by_kind(skewed, f))
                if any(line.startswith("SEARCH a USING INTEGER PRIMARY KEY") or line == "SCAN a" for line in plan)]
    assert len(counting) == 1 and counting[0][0] == "SCAN payments", counting


@pytest.mark.parametrize(("fields", "page_size", "walked"), [
    ({"accounts": ("G1",), "include_sub_accounts": True}, 100, True),  # half the records; every kind dense enough
    ({"start": date(2026, 2, 1), "end": date(2026, 2, 28), "currencies": ("EUR",)}, 15, False)])
def test_a_page_by_amount_walks_when_the_walks_meet_fewer_records_than_reading_first(skewed, fields, page_size, walked):
    """An agent's subtree holding half of each kind's records is walked in amount order even though no kind
    holds four pages of matches (reading the subtree first reads all its records); a month's few records of
    one currency are read first (in time order) and sorted. Either way the page is the records in order."""
    f = PaymentFilter(**fields)
    with skewed.connect() as connection:
        totals = explore._totals_by_kind(connection, f, ZONE)
        assert set(explore._amount_walks(connection, f, ZONE, totals, page_size).values()) == {walked}
    whole = explore.query_all(skewed, f, sort="amount")
    page = explore.query_page(skewed, f, sort="amount", page_size=page_size)
    assert list(page.rows["id"]) == list(whole["id"][:page_size])


@pytest.mark.parametrize("query", [explore.query_page, explore.monthly_by_kind, explore.by_channel_method,
                                   explore.top_accounts])
def test_records_an_amount_range_holds_fewest_of_are_read_through_the_kind_and_amount_index(skewed, query):
    """A subtree's records of large amounts, which the amount range holds fewer of: the page names every kind (none
    is chosen) and the charts read the credits and debits apart, so each kind's range of the (kind, amount) index
    is read (SQLite read every record for an OR of two ranges, and for any of them once the query grouped)."""
    f = PaymentFilter(accounts=("G1",), include_sub_accounts=True, min_amount=9_900_000)
    page = explore.query_page(skewed, f)
    assert 0 < page.total_count < explore.FEW_MATCHES * 50
    assert list(page.rows["id"]) == list(explore.query_all(skewed, f)["id"][:50])
    reading = [plan for plan in _plans(skewed, lambda: query(skewed, f)) if any("payments" in line for line in plan)]
    assert reading[-1:] and all(any("ix_payments_kind_amount" in line for line in plan) for plan in reading[-1:]), reading
