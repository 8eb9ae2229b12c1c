"""The explore panel's queries over a matrix of filter combinations on a large, skewed ledger.

    .venv/bin/python bench/panel_matrix.py [--payments 1000000] [--sample 120] [--runs 3]
        [--only 'operator=rare'] [--cap 2000] [--plans] [--clock cpu] [--sql-only]

Builds bench/results/panel-<payments>.sqlite once (kept; deleted to rebuild) through the
real write door in columnar batches: 50,000 accounts (resellers > agents > customers; every
tenth customer in EUR, the rest in USD), a few hundred operators with a Zipf-like share of
the work, 40% deposits, amounts with a long (log-normal) tail, 24 months, a deterministic seed.
The text index is built as the batches land (vosbench.ledger.text_index.catch_up after each),
as an import does.

Then it enumerates the panel's filter dimensions — period (none, a month, a week, a
quarter), kind, channel, method, operator, account (one customer, an agent's subtree),
amount range, currency, text — takes a deterministic sample of their combinations (every
single dimension and every pair with a period, the rest drawn at random), and times, per
combination, what the panel runs: the count with the per-kind totals, the first page, the
second page (keyset-free OFFSET), and each chart (month by kind, channel × method, top
accounts). Prints the machine, p50/p95/max per query type, and the worst combinations.

``--only TEXT`` times only the combinations whose label holds every space-separated word of
TEXT (``--only 'period=month kind=deposit'``; ``--only 'no filter'``). ``--cap MS`` stops a
query that runs past MS milliseconds of the chosen clock (SQLite's progress handler) and counts
it as ``>=MS``, so a matrix with multi-second queries ends in minutes. ``--plans`` prints, for each query over the
target, the SQL statements it ran with SQLite's EXPLAIN QUERY PLAN of each. ``--clock cpu`` times
by this process's CPU time instead of the wall clock: on a shared, loaded machine the wall clock
counts the waits for a core too.

Before the matrix, the payment columns (:mod:`vosbench.analysis.payment_columns`) are brought up
to date and their build is timed on its own (wall and CPU time, the process's peak memory, their
size on disk; a build kept from an earlier run costs only its check). ``--sql-only`` times the
panel without them: SQL alone, the reference.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import resource
import sqlite3
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from run import RESULTS, machine  # bench/run.py: the results folder and the machine facts

from vosbench.analysis import explore, payment_columns
from vosbench.analysis.filters import PaymentFilter
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.core.money import UNIT
from vosbench.ledger import database, setup, tables, text_index, write_door

SEED = 20261202
ACCOUNTS = 50_000
RESELLERS, AGENTS = 40, 400
OPERATORS = 300
MONTHS = 24
FIRST_DAY = date(2024, 11, 1)
BATCH = 250_000
KIND_SHARE = {Kind.DEPOSIT: 0.40, Kind.WITHDRAWAL: 0.12, Kind.ADJUSTMENT: 0.06, Kind.BONUS: 0.07,
              Kind.COMMISSION: 0.05, Kind.AUTO_RECHARGE: 0.30}
CHANNEL_SHARE = {Channel.WEB: 0.35, Channel.API: 0.25, Channel.AUTOMATIC: 0.20, Channel.ADMIN: 0.12,
                 Channel.IVR: 0.05, Channel.IMPORT: 0.03}
METHOD_SHARE = {Method.CARD: 0.30, Method.GATEWAY: 0.25, Method.BANK_WIRE: 0.18, Method.RECHARGE_CARD: 0.10,
                Method.CRYPTO: 0.07, Method.CASH: 0.05, Method.OTHER: 0.05}
BANKS = ("Sunrise Bank", "Gulf Trust", "Meridian", "Atlas Pay", "Orion Card", "Northwind")
MEMOS = ("top-up via portal", "monthly plan", "refund of failed call credit", "promo credit", "agent payout",
         "auto recharge", "manual correction", "wire received", "card payment", "crypto deposit")


# --- the ledger ------------------------------------------------------------------------------------

def account_numbers() -> tuple[list[write_door.NewAccount], list[str], list[str]]:
    """Resellers, agents under them, customers under agents; (accounts, agent numbers, customer numbers).
    Every tenth customer is held in EUR, the rest in USD (the panel's currency filter has two to tell apart)."""
    rng = random.Random(SEED)
    accounts, agents, customers = [], [], []
    for r in range(1, RESELLERS + 1):
        accounts.append(write_door.NewAccount(f"R{r:04d}", f"Reseller {r}", AccountKind.RESELLER, "", 0, "USD",
                                              "Asia/Dubai"))
    for a in range(1, AGENTS + 1):
        agents.append(f"A{a:04d}")
        accounts.append(write_door.NewAccount(agents[-1], f"Agent {a}", AccountKind.AGENT,
                                              f"R{rng.randint(1, RESELLERS):04d}", 0, "USD", "Asia/Dubai"))
    for c in range(1, ACCOUNTS - RESELLERS - AGENTS + 1):
        customers.append(f"C{c:06d}")
        # agents' books are skewed too: a few agents hold many customers
        parent = agents[min(AGENTS - 1, int(rng.paretovariate(1.2)) - 1)] if rng.random() < 0.5 \
            else rng.choice(agents)
        accounts.append(write_door.NewAccount(customers[-1], f"Customer {c}", AccountKind.CUSTOMER, parent,
                                              0, "EUR" if c % 10 == 0 else "USD", "Asia/Dubai"))
    return accounts, agents, customers


def operator_names() -> list[str]:
    return [f"op{index:03d}" for index in range(OPERATORS)]


def _choice(rng: np.random.Generator, share: dict, size: int) -> np.ndarray:
    keys = list(share)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=np.array(list(share.values())))]


def payment_batch(rng: np.random.Generator, start: int, size: int, total: int, agents: list[str],
                  customers: list[str], operators: list[str]) -> write_door.PaymentColumns:
    """Payments ``start`` to ``start + size`` of ``total``, as the write door's columns."""
    kinds = _choice(rng, KIND_SHARE, size)
    # customers by a Zipf-like activity: a few accounts make many records
    holders = np.array(customers, dtype=object)[rng.integers(0, len(customers), size)]
    heavy = rng.random(size) < 0.3
    holders[heavy] = np.array(customers, dtype=object)[np.minimum(rng.zipf(1.5, heavy.sum()) - 1, len(customers) - 1)]
    commission = kinds == Kind.COMMISSION
    holders[commission] = np.array(agents, dtype=object)[rng.integers(0, len(agents), commission.sum())]
    cents = np.maximum(1, np.round(np.exp(rng.normal(3.2, 1.4, size)) * 100)).astype(np.int64)
    sign = np.where(np.isin(kinds, [Kind.WITHDRAWAL]), -1,
                    np.where((kinds == Kind.ADJUSTMENT) & (rng.random(size) < 0.5), -1, 1))
    amounts = (cents * (UNIT // 100) * sign).tolist()
    span = MONTHS * 30.4 * 86400
    # Records arrive in time order, as imports do (batch after batch), and later months
    # hold more of them (growth: a square-root spread of the span).
    share = np.sort(rng.uniform(start / total, (start + size) / total, size))
    offsets = np.sqrt(share) * span
    base = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day)
    times = [base + timedelta(seconds=float(s)) for s in offsets]
    who = np.array(operators, dtype=object)[np.minimum(rng.zipf(1.4, size) - 1, len(operators) - 1)]
    channels, methods = _choice(rng, CHANNEL_SHARE, size), _choice(rng, METHOD_SHARE, size)
    banks = np.array(BANKS, dtype=object)[rng.integers(0, len(BANKS), size)]
    memos = np.array(MEMOS, dtype=object)[rng.integers(0, len(MEMOS), size)]
    numbers = range(start, start + size)
    references = [f"{bank[:4].upper()}-{n:09d} {bank}" for n, bank in zip(numbers, banks, strict=True)]
    reasons = ["bench correction" if kind is Kind.ADJUSTMENT else "" for kind in kinds]
    empty = [""] * size
    return write_door.PaymentColumns([
        [f"P{n:010d}" for n in numbers], holders.tolist(), kinds.tolist(), amounts, times, who.tolist(),
        channels.tolist(), methods.tolist(), references, memos.tolist(), reasons, [None] * size, empty,
        [None] * size, empty, list(range(1, size + 1))])


def ensure_ledger(payments: int) -> Path:
    path = RESULTS / f"panel-{payments}.sqlite"
    if path.exists():
        return path
    RESULTS.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".building")
    accounts, agents, customers = account_numbers()
    if partial.exists():  # a build that was stopped goes on where it stopped (each batch has its own seed)
        engine = database.make_engine(f"sqlite:///{partial}")
        with engine.connect() as connection:
            first = connection.scalar(sa.select(sa.func.count()).select_from(tables.payments)) or 0
    else:
        engine = setup.open_ledger(f"sqlite:///{partial}", create=True, timezone="Asia/Dubai")
        write_door.append_batch(engine, "accounts", accounts, source="bench", file="accounts")
        first = 0
    operators = operator_names()
    started = time.perf_counter()
    # A bulk load, as a first sync does: the secondary indexes are built once at the end.
    with database.indexes_deferred(engine, tables.payments, True):
        for start in range(first, payments, BATCH):
            size = min(BATCH, payments - start)
            rng = np.random.default_rng([SEED, start])
            write_door.append_batch(engine, "payments",
                                    payment_batch(rng, start, size, payments, agents, customers, operators),
                                    source="bench", file=f"payments-{start}")
            text_index.catch_up(engine)  # as an import does: the first search finds the index built
            done = start + size
            print(f"  {done:,} payments, {(done - first) / (time.perf_counter() - started):,.0f}/s",
                  file=sys.stderr, flush=True)
    database.refresh_statistics(engine)  # as an import does
    print(f"  indexes built, {time.perf_counter() - started:,.0f} s in all", file=sys.stderr, flush=True)
    engine.dispose()
    partial.rename(path)
    return path


# --- the matrix -----------------------------------------------------------------------------------

def dimensions(agents: list[str], customers: list[str]) -> dict[str, list[tuple[str, dict]]]:
    """Each filter dimension's values (label, PaymentFilter fields); the first is 'not filtered'."""
    last = FIRST_DAY + timedelta(days=round(MONTHS * 30.4)) - timedelta(days=45)
    month = last.replace(day=1)
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    return {
        "period": [("-", {}), ("month", {"start": month, "end": month_end}),
                   ("week", {"start": month + timedelta(days=7), "end": month + timedelta(days=13)}),
                   ("quarter", {"start": quarter, "end": (quarter + timedelta(days=95)).replace(day=1)
                                - timedelta(days=1)})],
        "kind": [("-", {}), ("deposit", {"kinds": ("deposit",)}), ("withdrawal", {"kinds": ("withdrawal",)}),
                 ("deposit+bonus", {"kinds": ("deposit", "bonus")})],
        "channel": [("-", {}), ("web", {"channels": ("web",)}), ("ivr", {"channels": ("ivr",)})],
        "method": [("-", {}), ("card", {"methods": ("card",)}), ("crypto", {"methods": ("crypto",)})],
        "operator": [("-", {}), ("busiest", {"operators": ("op000",)}), ("rare", {"operators": ("op250",)})],
        "account": [("-", {}), ("customer", {"accounts": (customers[0],)}),
                    ("agent subtree", {"accounts": (agents[0],), "include_sub_accounts": True})],
        "amount": [("-", {}), (">=1,000", {"min_amount": 1_000 * UNIT}),
                   ("10-50", {"min_amount": 10 * UNIT, "max_amount": 50 * UNIT})],
        "currency": [("-", {}), ("EUR", {"currencies": ("EUR",)})],
        "text": [("-", {}), ("'refund'", {"text": "refund"}), ("'Sunrise'", {"text": "Sunrise"}),
                 ("'000123'", {"text": "000123"})],
    }


def combinations(dims: dict[str, list[tuple[str, dict]]], sample: int) -> list[tuple[str, PaymentFilter]]:
    """Every single dimension alone and with each period, then ``sample`` random combinations."""
    names = list(dims)
    chosen: dict[tuple, None] = {}
    for name in names:
        for index in range(1, len(dims[name])):
            for period in range(len(dims["period"])):
                picks = [0] * len(names)
                picks[names.index(name)] = index
                picks[0] = period if name != "period" else index
                chosen[tuple(picks)] = None
    everything = list(itertools.product(*(range(len(dims[name])) for name in names)))
    for picks in random.Random(SEED).sample(everything, min(sample, len(everything))):
        chosen[picks] = None
    result = []
    for picks in chosen:
        fields: dict = {}
        labels = []
        for name, index in zip(names, picks, strict=True):
            label, values = dims[name][index]
            fields.update(values)
            if index:
                labels.append(f"{name}={label}")
        result.append((" ".join(labels) or "no filter", PaymentFilter(**fields)))
    return result


QUERIES = {
    "count + per-kind totals": lambda engine, f: explore.totals_by_kind(engine, f),
    "page 1 (50 rows, newest first)": lambda engine, f: explore.query_page(engine, f),
    "page 1 sorted by amount": lambda engine, f: explore.query_page(engine, f, sort="amount"),
    "chart: month by kind": lambda engine, f: explore.monthly_by_kind(engine, f),
    "chart: channel x method": lambda engine, f: explore.by_channel_method(engine, f),
    "chart: top accounts": lambda engine, f: explore.top_accounts(engine, f),
}
"""What the panel runs for a filter. ``query_page`` includes the count and totals (what one
click costs); 'count + per-kind totals' is that part alone."""


class Stopwatch:
    """Times the panel's queries on ``engine`` by ``clock``, stopping any statement still running ``cap_ms``
    (by the same clock) after its query began (0: never), and keeps the statements the last query ran (for their
    plans). (A cap of wall time on a loaded machine stopped queries that had spent a fifth of it on a core.)"""

    def __init__(self, engine: sa.Engine, cap_ms: float, clock=time.perf_counter):
        self.cap_ms, self.clock, self.deadline = cap_ms, clock, float("inf")
        self.statements: list[tuple[str, object]] = []
        sa.event.listen(engine, "connect", self._on_connect)
        sa.event.listen(engine, "before_cursor_execute", self._on_execute)
        engine.dispose()  # connections opened before have no progress handler

    def _on_connect(self, dbapi_connection, _record) -> None:
        if self.cap_ms:
            dbapi_connection.set_progress_handler(lambda: self.clock() > self.deadline, 20_000)

    def _on_execute(self, _connection, _cursor, statement, parameters, _context, _many) -> None:
        self.statements.append((statement, parameters))

    def once_ms(self, action) -> float:
        """One call in milliseconds; a call stopped at the cap counts as the cap."""
        self.statements = []
        counted = self.clock()
        self.deadline = counted + self.cap_ms / 1000 if self.cap_ms else float("inf")
        try:
            action()
        except sa.exc.OperationalError as error:
            if not isinstance(error.orig, sqlite3.OperationalError) or "interrupt" not in str(error.orig):
                raise
            return self.cap_ms
        finally:
            self.deadline = float("inf")
        return (self.clock() - counted) * 1000

    def best_ms(self, action, runs: int, slow_ms: float) -> float:
        """The fastest of ``runs`` calls after a warm-up call, in milliseconds; a warm-up slower than
        ``slow_ms`` is the measure itself (a query that slow needs no second decimal)."""
        first = self.once_ms(action)
        if first > slow_ms:
            return first
        return min(self.once_ms(action) for _ in range(runs))


def plans(engine: sa.Engine, statements: list[tuple[str, object]]) -> list[str]:
    """Each statement and SQLite's EXPLAIN QUERY PLAN of it, indented."""
    lines = []
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for statement, parameters in statements:
            lines.append("      " + " ".join(statement.split()))
            lines.append(f"        parameters: {parameters}")
            for row in cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters or ()):
                lines.append(f"        {row[0]:>4} {row[1]:>4}  {row[3]}")
    return lines


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000, help="payment records in the ledger")
    parser.add_argument("--sample", type=int, default=120, help="random combinations beyond the systematic ones")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per query (the fastest is kept)")
    parser.add_argument("--worst", type=int, default=12, help="slowest combinations listed")
    parser.add_argument("--target", type=float, default=100.0, help="target per query, ms")
    parser.add_argument("--build-only", action="store_true", help="build the ledger and stop")
    parser.add_argument("--max-combinations", type=int, default=0,
                        help="time only this many combinations (a deterministic pick; 0: all)")
    parser.add_argument("--only", default="", help="time only combinations whose label holds each of these words")
    parser.add_argument("--cap", type=float, default=0.0, help="stop a query after this many ms (0: never)")
    parser.add_argument("--plans", action="store_true", help="print the statements and plans of queries over target")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time by the wall clock, or by this process's CPU time (fairer on a loaded machine)")
    parser.add_argument("--sql-only", action="store_true", help="answer from SQL alone, without the payment columns")
    args = parser.parse_args()

    started = time.perf_counter()
    path = ensure_ledger(args.payments)
    built = time.perf_counter() - started
    if args.build_only:
        print(f"{path}: {args.payments:,} payments, built in {built:.0f} s")
        return 0
    engine = setup.open_ledger(f"sqlite:///{path}")
    database.refresh_statistics(engine)  # what an import leaves behind (a ledger built before had none)
    columns = "off (SQL alone)"
    if args.sql_only:
        payment_columns.switch_off(engine)
    else:
        wall, cpu = time.perf_counter(), time.process_time()
        payment_columns.refresh(engine)
        folder = payment_columns.cache_folder(engine)
        size = sum(path.stat().st_size for path in folder.rglob("*.npy"))
        columns = (f"brought up to date in {time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU; "
                   f"peak memory of the process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB; "
                   f"{size / 1e6:,.0f} MB on disk in {folder}")
    _, agents, customers = account_numbers()
    matrix = combinations(dimensions(agents, customers), args.sample)
    if args.max_combinations:
        matrix = [matrix[0], *random.Random(SEED).sample(matrix[1:], min(len(matrix) - 1, args.max_combinations - 1))]
    if args.only:
        matrix = [(label, f) for label, f in matrix if all(word in label.split() for word in args.only.split())]
    stopwatch = Stopwatch(engine, args.cap, time.process_time if args.clock == "cpu" else time.perf_counter)
    times: dict[str, list[tuple[float, str, int]]] = {name: [] for name in QUERIES}
    for label, f in matrix:
        counted: list[int] = []  # -1: the count itself ran past the cap
        stopwatch.once_ms(lambda f=f, counted=counted: counted.append(int(explore.totals_by_kind(engine, f)["count"].sum())))
        count = counted[0] if counted else -1
        for name, query in QUERIES.items():
            ms = stopwatch.best_ms(lambda query=query, f=f: query(engine, f), args.runs, 5 * args.target)
            times[name].append((ms, label, count))
            if args.plans and ms >= args.target:
                print(f"  {ms:>8.1f} ms  {name}  {label}", *plans(engine, stopwatch.statements), sep="\n", flush=True)
        print(f"  {label}: {count:,} records", file=sys.stderr, flush=True)

    print()
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'ledger':>10}: {path} ({path.stat().st_size / 1e6:,.0f} MB, {args.payments:,} payments"
          f"{f', built in {built:.0f} s' if built > 1 else ''})")
    print(f"{'columns':>10}: {columns}")
    print(f"{'clock':>10}: {'CPU time of this process (SQLite runs in it)' if args.clock == 'cpu' else 'wall time'}")
    print(f"{'matrix':>10}: {len(matrix)} filter combinations; fastest of {args.runs} runs each after a warm-up "
          f"(the warm-up alone when over {5 * args.target:.0f} ms); target < {args.target:.0f} ms")
    if args.cap:
        print(f"{'cap':>10}: a query stopped at {args.cap:.0f} ms ({args.clock}) counts as {args.cap:.0f} ms "
              "(it took at least that)")
    print(f"{'load':>10}: {os.getloadavg()[0]:.1f} (1-minute load average at the end; the machine is shared)\n")
    width = max(len(name) for name in QUERIES)
    for title, kept in (("every combination", lambda label: True),
                        ("combinations without a text filter", lambda label: "text=" not in label)):
        print(f"{title}:\n{'query':<{width}}  {'p50':>8}  {'p95':>8}  {'max':>8}  {'misses':>7}")
        for name, measured in times.items():
            values = [ms for ms, label, _ in measured if kept(label)]
            if not values:
                continue
            misses = sum(ms >= args.target for ms in values)
            print(f"{name:<{width}}  {percentile(values, .5):>6.1f}ms  {percentile(values, .95):>6.1f}ms  "
                  f"{max(values):>6.1f}ms  {misses:>3}/{len(values)}")
        print()
    for title, kept in (("", lambda label: True), (" without a text filter", lambda label: "text=" not in label)):
        print(f"slowest combinations{title} (of every query type):")
        worst = sorted(((ms, name, label, count) for name, measured in times.items() for ms, label, count in measured
                        if kept(label)), reverse=True)[:args.worst]
        for ms, name, label, count in worst:
            print(f"  {ms:>8.1f} ms  {name:<{width}}  {label}  ({count:,} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
