"""Benchmark at an operator's scale, side by side with DuckDB over the same raw files.

    .venv/bin/python bench/scale.py --payments 1000000 [--accounts 50000] [--seed 18] [--skip-audit] [--keep]
                                    [--dialect sqlite|postgresql|mariadb]

Generates, deterministically from ``--seed``, the documented import files of a large
operator — ``--accounts`` accounts (resellers, agents, customers named by code such as
``ACC-000123``), ``--payments`` payment records over 24 months and about 1.09 charge rows
(account-days) per payment — into ``bench/results/scale-<payments>/``, imports them with
the ``vosbench import`` command and loads the same files into DuckDB. Then, in one run, it
times both on: the import (records/s and the child process's peak memory), the file size,
one month reconciled in process and as a process, the 24-month trend, an explore page
with its count, and ``vosbench audit`` end to end — on the ledger as imported (its whole
history verified) and again once the month before is closed, as an operator who audits
monthly has it (verified from that close on); the start-up of the terminal commands
(each run on a one-account ledger, so what is timed is the process, not the data); and
prints the ratios with the machine's facts. DuckDB is a benchmark-only dependency (``pip install -e .[bench]``).
With ``--dialect postgresql`` or ``mariadb`` the ledger is a database on a private server the
benchmark starts (as the tests do) and stops; its size is the database's, and the import's peak
memory is the importing process's alone (the server's is its own).
The machine is shared: only same-run ratios mean much.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import startup  # bench/startup.py: the terminal commands' start-up
from run import RESULTS, machine  # bench/run.py: where results go and the machine's facts

MONTHS = 24
END_MONTH = date(2026, 10, 1)  # the last month of the history
RESELLERS, AGENTS = 20, 400
KINDS = (("deposit", 78), ("withdrawal", 6), ("adjustment", 5), ("bonus", 5), ("auto_recharge", 6))
OPERATORS = ("amira.haddad", "omar.farouk", "fatima.saleh", "yusuf.nasser", "layla.khalil", "api", "system")
CHANNELS = ("admin", "web", "ivr", "api", "automatic")
METHODS = ("cash", "bank_wire", "card", "crypto", "recharge_card", "gateway")
TIME = "/usr/bin/time"


def first_month() -> date:
    year, month = divmod(END_MONTH.year * 12 + END_MONTH.month - 1 - (MONTHS - 1), 12)
    return date(year, month + 1, 1)


def month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10_000)
    return f"{sign}{whole}.{part:04d}"


def account_codes(count: int) -> list[tuple[str, str, str, str]]:
    """(account, name, kind, parent) in an order where every parent comes first."""
    rows = [(f"R{i:04d}", f"Reseller {i:04d}", "reseller", "") for i in range(1, RESELLERS + 1)]
    rows += [(f"A{i:05d}", f"Agent {i:05d}", "agent", f"R{(i % RESELLERS) + 1:04d}") for i in range(1, AGENTS + 1)]
    rows += [(f"C{i:06d}", f"ACC-{i:06d}", "customer", f"A{(i % AGENTS) + 1:05d}")
             for i in range(1, count - RESELLERS - AGENTS + 1)]
    return rows


def generate(folder: Path, payments: int, accounts: int, seed: int) -> dict[str, int]:
    """Write accounts.csv, payments.csv and charges.csv; return their row counts."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    directory = account_codes(accounts)
    with open(folder / "accounts.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("account", "name", "kind", "parent", "credit_limit", "currency"))
        writer.writerows((a, n, k, p, "0", "USD") for a, n, k, p in directory)
    customers = [row[0] for row in directory if row[2] == "customer"]
    start = datetime.combine(first_month(), datetime.min.time(), UTC)
    span = int((datetime.combine(_next_month(END_MONTH), datetime.min.time(), UTC) - start).total_seconds())
    kinds = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS], k=payments)
    instants = sorted(rng.randrange(span) for _ in range(payments))
    with open(folder / "payments.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("source_key", "account", "kind", "amount", "occurred_at", "operator", "channel",
                         "method", "reference", "memo", "reason"))
        for index, (kind, second) in enumerate(zip(kinds, instants), start=1):
            amount = rng.randrange(1_000, 5_000_000)
            if kind == "withdrawal" or (kind == "adjustment" and rng.random() < 0.5):
                amount = -amount
            at = start + timedelta(seconds=second, microseconds=rng.randrange(1_000_000))
            writer.writerow((f"P{index:09d}", rng.choice(customers), kind, _money(amount),
                             at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), rng.choice(OPERATORS), rng.choice(CHANNELS),
                             rng.choice(METHODS), f"REF{rng.randrange(10**8):08d}", "top-up",
                             "correction" if kind == "adjustment" else ""))
    days = (_next_month(END_MONTH) - first_month()).days
    charge_rows = min(int(payments * 1.09), len(customers) * days)
    cells = sorted(rng.sample(range(len(customers) * days), charge_rows))  # day-major: day * customers + account
    first_day = first_month()
    with open(folder / "charges.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(("account", "day", "call_fee", "agent_fee", "other_fee", "calls"))
        for cell in cells:
            day_index, account_index = divmod(cell, len(customers))
            fee = rng.randrange(100, 2_000_000)
            writer.writerow((customers[account_index], (first_day + timedelta(days=day_index)).isoformat(),
                             _money(fee), _money(fee // 10), _money(rng.randrange(0, 10_000)),
                             rng.randrange(1, 500)))
    return {"accounts": len(directory), "payments": payments, "charges": charge_rows}


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def measured(command: list[str], *, stdout=subprocess.DEVNULL) -> tuple[float, int]:
    """Run ``command`` under /usr/bin/time -v: (wall seconds, peak resident KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        done = subprocess.run([TIME, "-v", "-o", report.name, *command], stdout=stdout, stderr=subprocess.PIPE,
                              text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        peak = next(int(line.split(":")[1]) for line in report.read().splitlines()
                    if "Maximum resident set size" in line)
    return elapsed, peak


def best_of(action, runs: int = 3) -> float:
    """Best wall time of ``runs`` calls (after one warm-up): the least disturbed by the shared machine."""
    action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return min(samples)


# --- DuckDB over the raw files --------------------------------------------------------------------

DUCKDB_LOAD = """
CREATE TABLE accounts AS SELECT * FROM read_csv('{folder}/accounts.csv', header=true, all_varchar=true);
CREATE TABLE payments AS SELECT * FROM read_csv('{folder}/payments.csv', header=true, types={{
    'amount': 'DECIMAL(18,4)', 'occurred_at': 'TIMESTAMP'}});
CREATE TABLE charges AS SELECT * FROM read_csv('{folder}/charges.csv', header=true, types={{
    'day': 'DATE', 'call_fee': 'DECIMAL(18,4)', 'agent_fee': 'DECIMAL(18,4)', 'other_fee': 'DECIMAL(18,4)',
    'calls': 'INTEGER'}});
"""

DUCKDB_RECONCILE = """
WITH paid AS (
  SELECT account,
         sum(amount) FILTER (WHERE occurred_at < TIMESTAMP '{start}') AS before,
         sum(amount) FILTER (WHERE occurred_at >= TIMESTAMP '{start}' AND kind = 'deposit') AS deposit,
         sum(amount) FILTER (WHERE occurred_at >= TIMESTAMP '{start}' AND kind = 'withdrawal') AS withdrawal,
         sum(amount) FILTER (WHERE occurred_at >= TIMESTAMP '{start}' AND kind NOT IN ('deposit', 'withdrawal'))
           AS other
  FROM payments WHERE occurred_at < TIMESTAMP '{end}' GROUP BY account),
charged AS (
  SELECT account,
         sum(call_fee + agent_fee + other_fee) FILTER (WHERE day < DATE '{start}') AS before,
         sum(call_fee + agent_fee + other_fee) FILTER (WHERE day >= DATE '{start}') AS month
  FROM charges WHERE day < DATE '{end}' GROUP BY account)
SELECT a.account, coalesce(p.before, 0) - coalesce(c.before, 0) AS opening,
       coalesce(p.deposit, 0) AS deposit, coalesce(p.withdrawal, 0) AS withdrawal, coalesce(p.other, 0) AS other,
       coalesce(c.month, 0) AS charges,
       coalesce(p.before, 0) - coalesce(c.before, 0) + coalesce(p.deposit, 0) + coalesce(p.withdrawal, 0)
         + coalesce(p.other, 0) - coalesce(c.month, 0) AS closing
FROM accounts a LEFT JOIN paid p USING (account) LEFT JOIN charged c USING (account) ORDER BY a.account
"""

DUCKDB_TREND = """
SELECT date_trunc('month', occurred_at) AS month, kind, count(*), sum(amount)
FROM payments GROUP BY ALL ORDER BY ALL
"""

DUCKDB_PAGE = """
SELECT * FROM payments WHERE kind = 'deposit' AND amount BETWEEN 1000 AND 5000
ORDER BY occurred_at DESC LIMIT 50
"""
DUCKDB_COUNT = """
SELECT kind, count(*), sum(amount) FROM payments WHERE kind = 'deposit' AND amount BETWEEN 1000 AND 5000 GROUP BY kind
"""


def duckdb_script(path: Path, sql: str) -> list[str]:
    """A child process that opens the DuckDB file and runs ``sql`` (as a command would)."""
    return [sys.executable, "-c", f"import duckdb; c = duckdb.connect({str(path)!r}, read_only=True); "
                                  f"print(len(c.sql({sql!r}).fetchall()))"]


# --- where the ledger is kept ----------------------------------------------------------------------

def ledger_on_server(dialect: str, servers: contextlib.ExitStack) -> str:
    """The URL of a fresh database on a private server of ``dialect``, started now and stopped with ``servers``."""
    from vosbench.core.sandbox import LocalMariaDB, LocalPostgreSQL

    server = servers.enter_context(LocalPostgreSQL() if dialect == "postgresql" else LocalMariaDB())
    return server.create_database("scale")


def ledger_size(url: str) -> int:
    """Bytes the ledger takes: the SQLite file (with its write-ahead log), or the server's database."""
    import sqlalchemy as sa

    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        size = connection.scalar(sa.text(
            "SELECT pg_database_size(current_database())" if parsed.get_backend_name() == "postgresql" else
            "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = DATABASE()"))
    engine.dispose()
    return int(size)


# --- the run ------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--skip-audit", action="store_true", help="leave out `vosbench audit` end to end")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and ledgers")
    parser.add_argument("--dialect", choices=("sqlite", "postgresql", "mariadb"), default="sqlite",
                        help="where the ledger is kept: an SQLite file, or a private server started for the run")
    args = parser.parse_args()
    with contextlib.ExitStack() as servers:
        return run(args, servers)


def run(args: argparse.Namespace, servers: contextlib.ExitStack) -> int:
    """The benchmark of ``args``; a server it starts is stopped when ``servers`` closes."""
    try:
        import duckdb
    except ImportError:
        sys.exit("bench/scale.py compares with DuckDB: pip install -e '.[bench]'")

    folder = RESULTS / f"scale-{args.payments}"
    files = folder / "csv"
    ledger, duck = folder / "ledger.sqlite", folder / "raw.duckdb"
    if folder.exists():
        shutil.rmtree(folder)
    started = time.perf_counter()
    counts = generate(files, args.payments, args.accounts, args.seed)
    print(f"generated {counts} in {time.perf_counter() - started:.1f} s into {files}", file=sys.stderr)
    url = f"sqlite:///{ledger}" if args.dialect == "sqlite" else ledger_on_server(args.dialect, servers)

    def vosbench(*arguments: str) -> list[str]:
        return [str(Path(sys.executable).with_name("vosbench")), *arguments, "--db", url]

    rows: list[tuple[str, str, str, str]] = []

    def row(name: str, ours: float, theirs: float | None, unit: str, note: str = "") -> None:
        ratio = f"{ours / theirs:.2f}×" if theirs else "—"
        shown = (lambda v: f"{v:,.0f} {unit}") if unit in ("rec/s", "MiB", "MB") else (lambda v: f"{v:.3f} s")
        rows.append((name, shown(ours), shown(theirs) if theirs is not None else "—", f"{ratio}  {note}".rstrip()))
        print(f"  {' | '.join(rows[-1])}", file=sys.stderr, flush=True)  # a long run shows each measure as it lands

    records = counts["payments"] + counts["charges"]
    # the accounts first, untimed: the measure is the payments and charges
    measured(vosbench("import", str(files / "accounts.csv"), "--timezone", "UTC"))
    import_s, import_kib = measured(vosbench("import", str(files / "payments.csv"), str(files / "charges.csv")))
    load_s, load_kib = measured([sys.executable, "-c", "import duckdb; duckdb.connect("
                                 f"{str(duck)!r}).execute({DUCKDB_LOAD.format(folder=files)!r})"])
    row("import payments + charges", records / import_s, records / load_s, "rec/s",
        f"({records:,} records: {import_s:.1f} s vs {load_s:.1f} s; DuckDB neither validates nor hashes)")
    row("import peak memory", import_kib / 1024, load_kib / 1024, "MiB")
    row("file size" if args.dialect == "sqlite" else "database size", ledger_size(url) / 1e6,
        duck.stat().st_size / 1e6, "MB",
        f"(the CSV files: {sum(p.stat().st_size for p in files.iterdir()) / 1e6:,.0f} MB)")

    import sqlalchemy as sa

    from vosbench.analysis import explore, reconcile, trends
    from vosbench.analysis.filters import PaymentFilter
    from vosbench.core.money import UNIT

    engine = sa.create_engine(url)
    month_start, month_end = date(2026, 6, 1), date(2026, 7, 1)
    month = month_label(month_start)
    connection = duckdb.connect(str(duck), read_only=True)
    reconcile_sql = DUCKDB_RECONCILE.format(start=month_start, end=month_end)
    row("reconcile a month, in process", best_of(lambda: reconcile.reconcile(engine, month)),
        best_of(lambda: connection.sql(reconcile_sql).fetchall()), "s")
    ours_s, _ = measured(vosbench("reconcile", "--month", month, "--format", "csv"))
    theirs_s, _ = measured(duckdb_script(duck, reconcile_sql))
    row("reconcile a month, as a process", ours_s, theirs_s, "s")
    everything = PaymentFilter(start=first_month(), end=_next_month(END_MONTH) - timedelta(days=1))
    row("24-month trend by kind", best_of(lambda: trends.trend(engine, everything)),
        best_of(lambda: connection.sql(DUCKDB_TREND).fetchall()), "s",
        "(vosbench: with the previous period and last year beside it)")
    deposits = PaymentFilter(kinds=("deposit",), min_amount=1_000 * UNIT, max_amount=5_000 * UNIT)
    row("explore page + count", best_of(lambda: explore.query_page(engine, deposits)),
        best_of(lambda: (connection.sql(DUCKDB_PAGE).fetchall(), connection.sql(DUCKDB_COUNT).fetchall())), "s")
    connection.close()
    engine.dispose()
    if not args.skip_audit:
        audit_s, audit_kib = measured(vosbench("audit", "--month", month, "--out", str(folder / "reports")))
        row("`vosbench audit` end to end", audit_s, None, "s", f"(peak {audit_kib / 1024:,.0f} MiB; no month closed: "
                                                               "every chain re-hashed whole)")
        previous = month_label(month_start - timedelta(days=1))
        closing = first_month()
        while month_label(closing) <= previous:  # months close in order, the oldest first
            measured(vosbench("close", "--month", month_label(closing), "--by", "bench",
                              "--receipt", str(folder / f"close-{month_label(closing)}.json")))
            closing = _next_month(closing)
        audit_s, audit_kib = measured(vosbench("audit", "--month", month, "--out", str(folder / "reports-closed")))
        row("`vosbench audit`, previous month closed", audit_s, None, "s",
            f"(peak {audit_kib / 1024:,.0f} MiB; verified from the {previous} close on)")
    tiny = folder / "tiny"
    tiny.mkdir()
    for name, timing in startup.timings(startup.tiny_ledger(tiny, sys.executable), sys.executable, month).items():
        row(f"start-up: `vosbench {name}`", timing.wall, None, "s",
            f"(best of 5, one-account ledger; {timing.cpu:.3f} s CPU, bench/startup.py)")

    print()
    for key, value in {**machine(), "duckdb": duckdb.__version__}.items():
        print(f"{key:>10}: {value}")
    print(f"{'shape':>10}: {counts['accounts']:,} accounts, {counts['payments']:,} payments over {MONTHS} months, "
          f"{counts['charges']:,} charge rows (account-days); month {month}")
    print(f"{'ledger':>10}: {args.dialect}\n")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | {'vosbench':>14} | {'DuckDB':>14} | ratio |")
    print(f"|{'-' * (width + 2)}|{'-' * 16}|{'-' * 16}|---|")
    for name, ours_text, theirs_text, ratio in rows:
        print(f"| {name:<{width}} | {ours_text:>14} | {theirs_text:>14} | {ratio} |")
    if not args.keep:
        shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
