"""Whether each optional index pays: the queries that can use it, timed on copies of one ledger with and without it.

    .venv/bin/python bench/optional_indexes.py [--ledger bench/results/scale-1000000/ledger.sqlite] [--runs 5]

The ledger (default: the one ``bench/scale.py --payments 1000000 --keep`` leaves) is copied three times into
bench/results/ (git-ignored) and each copy opened once by this vosbench (which drops the indexes of
:data:`vosbench.ledger.tables.RETIRED_INDEXES` from an older ledger), then shaped:

- ``schema 10``: the retired indexes made again, as schema 10 had them;
- ``schema 11``: as this vosbench leaves it (the (kind, amount) index kept);
- ``no (kind, amount)``: ``ix_payments_kind_amount`` dropped too.

Every query an optional index can serve is then timed on each (the fastest of ``--runs`` after a warm-up, by this
process's CPU time, SQLite running in it; the copies take turns run by run, so a busy moment of the shared machine
falls on each): the explore panel's statements on its SQL path (the
payment columns switched off: a text search, or the columns still being built after a large import), its list of
operators and the filter's check of an operator, the trends of an operator, the movers, a month's reconciliation,
the controls, the kept month totals of a month (verify, explore's whole-month totals), the audit's twelve-month
trend and the finance dashboard's list of months. Each line names the indexes the query's plan used (SQLite's
EXPLAIN QUERY PLAN of each statement it ran), and the end gives each index's size (dbstat).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from run import RESULTS, machine  # bench/run.py: the results folder and the machine facts

from vosbench.analysis import explore, payment_columns, reconcile, trends
from vosbench.analysis.filters import FilterError, PaymentFilter
from vosbench.controls import checks
from vosbench.core.money import UNIT
from vosbench.ledger import database, month_totals, setup, tables
from vosbench.outputs import audit

SCHEMA_10 = {"ix_payments_operator_time": "CREATE INDEX ix_payments_operator_time ON payments "
                                          "(operator, occurred_at, kind, amount)",
             "ix_account_months_month": "CREATE INDEX ix_account_months_month ON account_months (month)"}
"""The retired indexes as schema 10 made them."""
SHAPES = {"schema 10": (list(SCHEMA_10.values()), []),
          "schema 11": ([], []),
          "no (kind, amount)": ([], ["ix_payments_kind_amount"])}
"""Each copy: the indexes made, and those dropped, after this vosbench opened it."""
WATCHED = (*SCHEMA_10, "ix_payments_kind_amount")
MONTH, FIRST, LAST = "2026-10", date(2026, 10, 1), date(2026, 10, 31)


def workload(engine) -> dict[str, Callable[[], object]]:
    """The queries an optional index can serve, by name."""
    october = {"start": FIRST, "end": LAST}
    filters = {"no filter": PaymentFilter(), "a month": PaymentFilter(**october),
               "a kind": PaymentFilter(kinds=("withdrawal",)),
               "a kind + amount >= 1,000": PaymentFilter(kinds=("deposit",), min_amount=1_000 * UNIT),
               "amount >= 5,000": PaymentFilter(min_amount=5_000 * UNIT),
               "an operator": PaymentFilter(operators=("system",)),
               "an operator + a month": PaymentFilter(operators=("system",), **october),
               "a reseller's subtree": PaymentFilter(accounts=("R0001",), include_sub_accounts=True),
               "text + a month": PaymentFilter(text="refund", **october)}
    queries: dict[str, Callable[[], object]] = {}
    for label, f in filters.items():
        for sort in ("occurred_at", "amount"):
            queries[f"explore page by {sort}: {label}"] = (
                lambda f=f, sort=sort: explore.page_records(engine, f, sort=sort))
        queries[f"explore top accounts: {label}"] = lambda f=f: explore.top_accounts(engine, f)
        queries[f"explore month by kind: {label}"] = lambda f=f: explore.monthly_by_kind(engine, f)

    def checked(f: PaymentFilter) -> None:
        with engine.connect() as connection:
            try:
                f.check(connection)
            except FilterError:
                pass

    def kept(action: Callable[[sa.Connection], object]) -> Callable[[], object]:
        def run() -> object:
            with engine.connect() as connection:
                return action(connection)
        return run

    dashboard = sa.select(tables.account_months.c.month).distinct().order_by(tables.account_months.c.month.desc())
    queries.update({
        "explore list of operators": lambda: explore.operators(engine),
        "filter check: an unknown operator": lambda: checked(PaymentFilter(operators=("nobody",))),
        "trend by kind of an operator, 24 months": lambda: trends.trend(engine, PaymentFilter(operators=("system",))),
        "trend by operator, 24 months": lambda: trends.trend(engine, PaymentFilter(), by="operator"),
        "trend by kind of an operator, a month by day": lambda: trends.trend(
            engine, PaymentFilter(operators=("system",), start=FIRST, end=LAST), grain="day"),
        "movers of a month": lambda: trends.movers(engine, MONTH),
        "reconcile a month": lambda: reconcile.reconcile(engine, MONTH),
        "controls of a month": lambda: checks.find(engine, MONTH),
        "kept month totals of a month (verify)": kept(lambda connection: month_totals.stored(connection, MONTH)),
        "audit: twelve-month trend": kept(lambda connection: audit.query_trend(connection, MONTH)),
        "finance dashboard: list of months": kept(lambda connection: list(connection.scalars(dashboard))),
    })
    return queries


def shaped_copy(source: Path, name: str, made: list[str], dropped: list[str]) -> Path:
    """A copy of ``source`` opened once by this vosbench, then with the ``made`` indexes built and ``dropped`` ones
    dropped (and its statistics refreshed, as an import leaves them)."""
    copy = RESULTS / f"optional-indexes-{name.replace(' ', '-').replace('(', '').replace(')', '').replace(',', '')}.sqlite"
    if not copy.exists():
        shutil.copyfile(source, copy)
    setup.open_ledger(f"sqlite:///{copy}").dispose()
    with sqlite3.connect(copy) as raw:
        for statement in made:
            raw.execute(statement.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
        for index in dropped:
            raw.execute(f"DROP INDEX IF EXISTS {index}")
        raw.execute("ANALYZE")
    return copy


def plan_indexes(engine, query: Callable[[], object]) -> set[str]:
    """Run ``query`` once (its warm-up) and give the watched indexes its statements' plans use."""
    statements: list[tuple[str, object]] = []

    def note(connection, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        query()
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    used: set[str] = set()
    with engine.connect() as connection:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            try:
                plan = " ".join(row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                             parameters))
            except sa.exc.DBAPIError:
                continue
            used |= {index for index in WATCHED if index in plan}
    return used


def timed(engines: dict[str, sa.Engine], runs: int) -> dict[str, dict[str, tuple[float, set[str]]]]:
    """Per query, per shape: the fastest CPU time in ms of ``runs`` after a warm-up, and the watched indexes its
    statements' plans use. The shapes take turns run by run, so a busy moment of the shared machine falls on each."""
    workloads = {shape: workload(engine) for shape, engine in engines.items()}
    results: dict[str, dict[str, tuple[float, set[str]]]] = {}
    for name in workloads[next(iter(engines))]:
        used = {shape: plan_indexes(engines[shape], workloads[shape][name]) for shape in engines}
        best = dict.fromkeys(engines, float("inf"))
        for _ in range(runs):
            for shape in engines:
                started = time.process_time()
                workloads[shape][name]()
                best[shape] = min(best[shape], time.process_time() - started)
        results[name] = {shape: (best[shape] * 1000, used[shape]) for shape in engines}
        print(f"  {name}: " + ", ".join(f"{shape} {best[shape] * 1000:.1f} ms" for shape in engines),
              file=sys.stderr, flush=True)
    return results


def index_sizes(path: Path) -> dict[str, float]:
    """MB per watched index (dbstat)."""
    with sqlite3.connect(path) as raw:
        return {name: size / 1e6 for name, size in raw.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name") if name in WATCHED}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, default=RESULTS / "scale-1000000" / "ledger.sqlite")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per query (the fastest is kept)")
    args = parser.parse_args()
    if not args.ledger.exists():
        print(f"no ledger at {args.ledger}; make one with `bench/scale.py --payments 1000000 --keep`", file=sys.stderr)
        return 2
    engines = {}
    sizes: dict[str, float] = {}
    for shape, (made, dropped) in SHAPES.items():
        copy = shaped_copy(args.ledger, shape, made, dropped)
        sizes |= index_sizes(copy)
        engines[shape] = database.make_engine(f"sqlite:///{copy}")  # no upgrade: the shape stays as made
        payment_columns.switch_off(engines[shape])  # the SQL path: what answers while the columns are built
    measured = timed(engines, args.runs)
    for engine in engines.values():
        engine.dispose()

    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'ledger':>10}: {args.ledger} ({args.ledger.stat().st_size / 1e6:,.0f} MB)")
    print(f"{'load':>10}: {os.getloadavg()[0]:.1f} (1-minute load average at the end; the machine is shared)")
    print(f"{'runs':>10}: fastest of {args.runs} after a warm-up, CPU ms of this process (SQLite runs in it), the "
          "shapes taking turns; payment columns off (SQL alone)\n")
    shapes = list(SHAPES)
    width = max(len(name) for name in measured)
    print(f"{'query':<{width}}  " + "  ".join(f"{shape:>17}" for shape in shapes) + "  indexes used (schema 10)")
    for name, by_shape in measured.items():
        cells = "  ".join(f"{by_shape[shape][0]:>14.1f} ms" for shape in shapes)
        print(f"{name:<{width}}  {cells}  {', '.join(sorted(by_shape[shapes[0]][1])) or '-'}")
    print("\nsize of each index (MB, dbstat): " + ", ".join(f"{name} {size:,.1f}" for name, size in sorted(sizes.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
