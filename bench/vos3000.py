"""Benchmark: sync a large VOS3000 database from a local MariaDB into a fresh SQLite ledger.

    .venv/bin/python bench/vos3000.py [--payments 1000000] [--days 30] [--calls-per-day 100000]

Starts a private MariaDB (as the tests do), writes the generated VOS3000 dataset
(vosbench.sources.vos3000.generate), then runs the sync in a child process and times each stream:
payment rows/s, CDR rows/s (wall clock, and per CPU-second of the sync process, which
is what a shared machine cannot blur), the share spent in the ledger's write door
(journal.append_batch), the CPU of the sync's e_payhistory reader process, and the resident
memory of the sync and its reader sampled while it runs (peak, and at each quarter of the
payment stream). The resident memory includes SQLite's page cache of the ledger, which
store.py sets to 256 MiB: it grows until that cache is full.
Prints a table with the machine's cores and memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import machine  # noqa: E402  (the same machine facts as the other benchmarks)

from vosbench.core.sandbox import LocalMariaDB  # noqa: E402
from vosbench.ledger import setup  # noqa: E402
from vosbench.ledger.write_door import collector_paused  # noqa: E402
from vosbench.sources.vos3000 import dbsync, generate, mapping  # noqa: E402


def _rss_mib(pid: str) -> float:
    """Resident memory of one process (0 once it has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)


def _memory() -> tuple[float, float]:
    """Resident memory of this process (the sync) and of its children (its e_payhistory reader)."""
    try:
        children = [child for task in Path("/proc/self/task").iterdir()
                    for child in (task / "children").read_text().split()]
    except OSError:  # a thread ended between two looks
        children = []
    return _rss_mib("self"), sum(map(_rss_mib, children))


def child(url: str, ledger_url: str, chunk_size: int) -> None:
    """Run the sync stream by stream; print timings and memory samples as JSON."""
    samples: list[tuple[float, float, float]] = []  # (time, sync MiB, reader MiB)
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            samples.append((time.perf_counter(), *_memory()))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    write_door = [0.0]  # CPU seconds spent in journal.append_batch (the ledger's write door)
    append_batch = dbsync.state.append_batch

    def timed_append(*args, **kwargs):
        started = time.thread_time()
        try:
            return append_batch(*args, **kwargs)
        finally:
            write_door[0] += time.thread_time() - started

    dbsync.state.append_batch = timed_append
    ledger = setup.open_ledger(ledger_url, create=True, timezone="UTC")
    vos = dbsync.source.connect(url)
    sync = dbsync._Sync(ledger, vos, source_name="vos3000", mapping=mapping.load(), chunk_size=chunk_size,
                        progress=False, now=datetime(2027, 1, 1), provenance={})
    times, cpu, door, reader = {}, {}, {}, {}

    def children_cpu() -> float:  # of the child processes that ended: the e_payhistory reader
        now = os.times()
        return now.children_user + now.children_system

    with collector_paused():  # as dbsync.sync_database runs the streams
        for stream in ("accounts", "payments", "charges", "balances"):
            started, started_cpu, started_door = time.perf_counter(), time.process_time(), write_door[0]
            started_children = children_cpu()
            getattr(sync, stream)()
            times[stream] = (started, time.perf_counter())
            cpu[stream], door[stream] = time.process_time() - started_cpu, write_door[0] - started_door
            reader[stream] = children_cpu() - started_children
    stop.set()
    start, end = times["payments"]
    during = [(own, child) for at, own, child in samples if start <= at <= end]
    quarters = [during[min(len(during) - 1, int(len(during) * q))] for q in (0.25, 0.5, 0.75, 1.0)] if during else []
    print(json.dumps({"times": {k: b - a for k, (a, b) in times.items()}, "cpu": cpu, "door": door, "reader": reader,
                      "peak_rss": max(own + child for _, own, child in samples),
                      "payment_quarters_rss": quarters, "report": sync.report.lines()}))


def _cpu(result: dict, stream: str, rows: int, what: str) -> str:
    cpu, door = result["cpu"][stream], result["door"][stream]
    alone = f", {rows / door:,.0f} rows/s alone" if stream == "payments" and door else ""
    return f"{cpu:.1f} s = {rows / cpu:,.0f} {what} rows per CPU-second; of it append_batch {door:.1f} s ({door / cpu:.0%}{alone})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--calls-per-day", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--chunk-size", type=int, default=dbsync.CHUNK_SIZE)
    parser.add_argument("--child", nargs=2, metavar=("SOURCE_URL", "LEDGER_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, args.chunk_size)
        return
    spec = generate.DatasetSpec(agents=20, customers=args.customers, days=args.days, first_day=date(2026, 10, 1),
                                payments=args.payments, calls_per_day=args.calls_per_day)
    with LocalMariaDB() as server, tempfile.TemporaryDirectory() as folder:
        server.sql("CREATE DATABASE vos3000")
        started = time.perf_counter()
        written = generate.write_dataset(server.url("vos3000"), spec)
        generated = time.perf_counter() - started
        output = subprocess.run([sys.executable, __file__, "--chunk-size", str(args.chunk_size), "--child",
                                 server.url("vos3000"), f"sqlite:///{folder}/ledger.sqlite"],
                                check=True, stdout=subprocess.PIPE, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    times = result["times"]
    rows = [("machine", ", ".join(f"{k} {v}" for k, v in machine().items())),
            ("dataset", f"{written.payment_rows:,} e_payhistory rows, {args.days} daily CDR tables × "
                        f"{args.calls_per_day:,} rows ({written.cdr_rows:,}), {len(written.balances):,} accounts"),
            ("dataset written to MariaDB (LOAD DATA)", f"{generated:.1f} s"),
            ("sync e_payhistory (wall)", f"{times['payments']:.1f} s = {written.payment_rows / times['payments']:,.0f} payment rows/s"),
            ("sync e_payhistory (CPU of the sync)", _cpu(result, "payments", written.payment_rows, "payment")),
            ("CPU of its e_payhistory reader process", f"{result['reader']['payments']:.1f} s"),
            ("sync charges (wall)", f"{times['charges']:.1f} s = {written.cdr_rows / times['charges']:,.0f} CDR rows/s"),
            ("sync charges (CPU of the sync)", _cpu(result, "charges", written.cdr_rows, "CDR")),
            ("sync accounts + balances", f"{times['accounts'] + times['balances']:.1f} s"),
            ("peak memory of the sync (with its reader process)", f"{result['peak_rss']:.0f} MiB"),
            ("memory at 25/50/75/100% of e_payhistory (sync + reader)",
             " / ".join(f"{own:.0f} + {child:.0f}" for own, child in result["payment_quarters_rss"]) + " MiB")]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}} | value")
    print(f"{'-' * width}-|------")
    for name, value in rows:
        print(f"{name:<{width}} | {value}")
    print("\n".join(result["report"]))


if __name__ == "__main__":
    main()
