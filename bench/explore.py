"""Benchmarks for exploring payments: a filtered page, an account statement, the charts, trends.

    .venv/bin/python bench/explore.py [--payments 1000000] [--customers 5000] [--runs 20]

Reuses bench/results/ledger-<payments>.sqlite (the ledger bench/run.py builds) and builds
it with the demo when it is missing. Times the panel's three costly requests against their
targets — page + count + per-kind totals < 100 ms (median of --runs runs per filter), a
month's account statement < 200 ms, the monthly chart data over every record < 1 s, a month's
trend (three grains and splits, with both comparison periods) and movers < 100 ms — and prints
them with the machine's cores and memory. The first text search of a ledger builds the search
index (vosbench.ledger.text_index); it is timed once, when the ledger has no index yet.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta

from run import RESULTS, print_table  # bench/run.py: the same ledger and machine facts

from vosbench.analysis import account_statement, explore, trends
from vosbench.analysis.filters import PaymentFilter
from vosbench.core.money import UNIT
from vosbench.ledger import database, setup, text_index
from vosbench.sources import demo


def median_ms(action, runs: int) -> float:
    """Median wall time of ``runs`` calls after one warm-up call, in milliseconds."""
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def ensure_ledger(payments: int, customers: int, months: int) -> str:
    path = RESULTS / f"ledger-{payments}.sqlite"
    url = f"sqlite:///{path}"
    if not path.exists():
        RESULTS.mkdir(parents=True, exist_ok=True)
        print(f"building {path} ({payments:,} payments); this takes a while", file=sys.stderr)
        demo.build_demo(url, demo.DemoScale(customers=customers, months=months,
                                            payments_per_month=payments // months), progress=True)
    return url


def typical_filters(key: dict) -> dict[str, PaymentFilter]:
    """The filters an analyst runs most, on the demo's last month and its planted account."""
    year, month = map(int, key["scale"]["end_month"].split("-"))
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    planted = next(a for a in key["anomalies"] if a["kind"] == "balance_not_updated")["account"]
    agent = "A0001"
    return {
        "one month": PaymentFilter(start=first, end=last),
        "one account (all history)": PaymentFilter(accounts=(planted,)),
        "an agent's tree, one month": PaymentFilter(accounts=(agent,), include_sub_accounts=True, start=first, end=last),
        "one kind + amount range": PaymentFilter(kinds=("withdrawal",), min_amount=1_000 * UNIT, max_amount=50_000 * UNIT),
        "deposits 1,000–5,000": PaymentFilter(kinds=("deposit",), min_amount=1_000 * UNIT, max_amount=5_000 * UNIT),
        "one operator": PaymentFilter(operators=("amira.haddad",)),
        "text search, one month": PaymentFilter(text="refund", start=first, end=last),
        "text search, all history": PaymentFilter(text="refund"),
        "text search, a bank's wires": PaymentFilter(text="Wire from Sunrise"),
        "text search, common text (scan)": PaymentFilter(text="portal"),
        "no filter (first page)": PaymentFilter(),
    }


def first_search(engine) -> tuple[str, str, str]:
    """The first text search's time: it indexes every record (only measurable while there is no index)."""
    with engine.connect() as connection:
        indexed = database.get_meta(connection, text_index.MARK_KEY)
    if indexed is not None:
        return ("first text search (builds the index)", "—",
                f"index already built through payment {int(indexed):,} by an earlier run")
    started = time.perf_counter()
    explore.query_page(engine, PaymentFilter(text="refund"))
    seconds = time.perf_counter() - started
    with engine.connect() as connection:
        records = int(database.get_meta(connection, text_index.MARK_KEY))
    return ("first text search (builds the index)", f"{seconds:.1f} s",
            f"{records:,} records indexed, {seconds / records * 1e6:.1f} µs each; once per ledger")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000, help="payment records in the ledger")
    parser.add_argument("--customers", type=int, default=5_000, help="customers, when the ledger is built")
    parser.add_argument("--months", type=int, default=24, help="months, when the ledger is built")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per measure (median)")
    args = parser.parse_args()

    url = ensure_ledger(args.payments, args.customers, args.months)
    engine = setup.open_ledger(url)
    key = demo.answer_key(engine)
    rows: list[tuple[str, str, str]] = [first_search(engine)]
    for name, f in typical_filters(key).items():
        count = explore.query_page(engine, f).total_count
        ms = median_ms(lambda f=f: explore.query_page(engine, f), args.runs)
        rows.append((f"page + count + totals: {name}", f"{ms:.1f} ms", f"{count:,} records; target < 100 ms"))

    planted = next(a for a in key["anomalies"] if a["kind"] == "balance_not_updated")
    year, month = map(int, planted["month"].split("-"))
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    found = account_statement.account_statement(engine, planted["account"], first, last)
    ms = median_ms(lambda: account_statement.account_statement(engine, planted["account"], first, last), args.runs)
    rows.append((f"statement {planted['account']} {planted['month']}", f"{ms:.1f} ms",
                 f"{len(found.lines)} lines, {len(found.discrepancies)} discrepancies; target < 200 ms"))

    chart_runs = max(3, args.runs // 4)
    monthly = explore.monthly_by_kind(engine, PaymentFilter())
    ms = median_ms(lambda: explore.monthly_by_kind(engine, PaymentFilter()), chart_runs)
    rows.append(("monthly_by_kind, every record", f"{ms:.0f} ms",
                 f"{len(monthly)} month × kind rows, median of {chart_runs}; target < 1 s"))
    for name, chart in (("by_channel_method", explore.by_channel_method), ("top_accounts", explore.top_accounts)):
        ms = median_ms(lambda chart=chart: chart(engine, PaymentFilter()), chart_runs)
        rows.append((f"{name}, every record", f"{ms:.0f} ms", f"median of {chart_runs}; no target"))

    month_filter = PaymentFilter(start=first, end=last)
    for grain, by in (("month", "kind"), ("week", "subtree"), ("day", "channel")):
        ms = median_ms(lambda grain=grain, by=by: trends.trend(engine, month_filter, grain=grain, by=by), chart_runs)
        rows.append((f"trend {planted['month']} by {grain} and {by}", f"{ms:.0f} ms",
                     f"with the period before and a year before; median of {chart_runs}; target < 100 ms"))
    ms = median_ms(lambda: trends.movers(engine, planted["month"]), chart_runs)
    rows.append((f"movers of {planted['month']}", f"{ms:.0f} ms", f"median of {chart_runs}; target < 100 ms"))

    print_table(rows, RESULTS / f"ledger-{args.payments}.sqlite",
                f"measure (median of {args.runs} runs unless noted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
