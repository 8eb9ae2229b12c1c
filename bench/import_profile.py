"""Benchmark of ``vosbench import``: records per second, and what each record costs, statement by statement.

    .venv/bin/python bench/import_profile.py [--payments 200000] [--accounts 10000] [--seed 18] [--runs 1]

Generates, deterministically from ``--seed``, the import files of ``bench/scale.py``
(``--payments`` payments over 24 months, about 1.09 charge rows per payment) into
``bench/results/import-<payments>-<accounts>/`` (kept and reused), imports accounts.csv
into a template ledger (``--timezone UTC``), then for each run copies the template and
times ``vosbench import payments.csv charges.csv`` in a child process, as a person runs
it. The child counts every SQL statement's time (a SQLAlchemy cursor listener) and the
inclusive time of the write path's phases (parsing awaited from the reader processes,
validation, chain linking, inserts, month totals, rollups, commits), so the tables show
a per-record cost profile: µs per record of each. A SELECT's time is counted up to its
first row (the driver steps through the rest as they are fetched, inside the phase that
reads them). The listener costs a little itself: records/s are those of the same run. Prints the machine's facts and the load; the
machine may be shared, so compare runs made back to back.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from run import RESULTS, machine  # bench/run.py: where results go and the machine's facts
from scale import generate  # bench/scale.py: the files of a large operator

_PHASES = (  # (module, attribute path) of each phase timed inclusively in the child
    ("vosbench.sources.csv_import", "_parts"),
    ("vosbench.ledger.write_door", "_validate_payments"),
    ("vosbench.ledger.write_door", "_validate_keyed"),
    ("vosbench.ledger.write_door", "_refuse_closed_months"),
    ("vosbench.ledger.hashchain", "ChainHead.link_all"),
    ("vosbench.ledger.write_door", "_insert"),
    ("vosbench.ledger.coded_payments", "CodedPayments.__init__"),
    ("vosbench.ledger.month_totals", "apply"),
    ("vosbench.ledger.payment_rollup", "add_payments"),
    ("vosbench.ledger.account_rollup", "add_payments"),
    ("vosbench.ledger.amount_rollup", "add_payments"),
    ("vosbench.ledger.text_index", "keep_up"),
    ("vosbench.ledger.database", "refresh_statistics"),
    ("sqlalchemy.engine.base", "Connection._commit_impl"),
)


def _timed_phases(phases: dict[str, list[float]]) -> None:
    """Wrap each phase of :data:`_PHASES` so that its inclusive time and calls are added to ``phases``."""
    import importlib

    for module_name, path in _PHASES:
        owner = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name)
        label = f"{module_name.rsplit('.', 1)[-1]}.{path}"
        if name == "_parts":  # a generator: the time is the writer's wait for each next part
            def waited(*args, __original=original, __label=label, **kwargs):
                parts = __original(*args, **kwargs)
                while True:
                    started = time.perf_counter()
                    part = next(parts, None)
                    phases[__label][0] += time.perf_counter() - started
                    phases[__label][1] += 1
                    if part is None:
                        return
                    yield part
            setattr(owner, name, waited)
            continue

        @functools.wraps(original)
        def timed(*args, __original=original, __label=label, **kwargs):
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                phases[__label][0] += time.perf_counter() - started
                phases[__label][1] += 1
        setattr(owner, name, timed)


def _statement_key(statement: str) -> str:
    """A statement shortened to what tells it apart (its start and its end), with the value lists folded."""
    text = re.sub(r"\s+", " ", statement)
    text = re.sub(r"(\?|%s|%\(\w+\)s)(, (\?|%s|%\(\w+\)s))+", r"\1, …", text)
    text = re.sub(r"(\(\?, …\))(, \(\?, …\))+", r"\1, …", text)
    return text if len(text) <= 110 else f"{text[:55]} … {text[-50:]}"


def child(url: str, files: list[str], out: str) -> None:
    """Run ``vosbench import FILES`` in this process, counting statements and phases; write them to ``out``."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from vosbench.commands.main import main as vosbench

    statements: dict[str, list] = defaultdict(lambda: [0.0, 0, 0])
    phases: dict[str, list] = defaultdict(lambda: [0.0, 0])

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["started"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        counted = statements[_statement_key(statement)]
        counted[0] += time.perf_counter() - conn.info["started"]
        counted[1] += 1
        counted[2] += len(parameters) if executemany else 1

    _timed_phases(phases)
    started, cpu = time.perf_counter(), time.process_time()
    code = vosbench(["import", *files, "--db", url])
    wall, writer_cpu = time.perf_counter() - started, time.process_time() - cpu
    readers = resource.getrusage(resource.RUSAGE_CHILDREN)
    Path(out).write_text(json.dumps({
        "code": code, "wall": wall, "writer_cpu": writer_cpu, "reader_cpu": readers.ru_utime + readers.ru_stime,
        "statements": statements, "phases": phases}))


def _template(folder: Path, payments: int, accounts: int, seed: int) -> tuple[Path, Path, dict]:
    """The generated files and a ledger holding their accounts, made once per shape and kept."""
    files, template = folder / "csv", folder / "accounts.sqlite"
    counts_file = folder / "counts.json"
    if not counts_file.exists():
        shutil.rmtree(folder, ignore_errors=True)
        started = time.perf_counter()
        counts = generate(files, payments, accounts, seed)
        vosbench = str(Path(sys.executable).with_name("vosbench"))
        subprocess.run([vosbench, "import", str(files / "accounts.csv"), "--timezone", "UTC",
                        "--db", f"sqlite:///{template}"], check=True, stdout=subprocess.DEVNULL)
        counts_file.write_text(json.dumps(counts))
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s into {files}", file=sys.stderr)
    return files, template, json.loads(counts_file.read_text())


def measure(files: Path, template: Path) -> dict:
    """One timed import of payments.csv and charges.csv into a copy of ``template``, in a child process."""
    with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
        ledger, out = Path(scratch) / "ledger.sqlite", Path(scratch) / "profile.json"
        shutil.copyfile(template, ledger)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", f"sqlite:///{ledger}", str(out),
                               str(files / "payments.csv"), str(files / "charges.csv")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0 or not out.exists():
            sys.exit(f"the import failed ({done.returncode}):\n{done.stderr[-3000:]}")
        profile = json.loads(out.read_text())
        if profile["code"] != 0:
            sys.exit(f"vosbench import exited {profile['code']}:\n{done.stderr[-3000:]}")
        profile.update(process_wall=elapsed, load=load, peak_mib=after.ru_maxrss / 1024,
                       cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                       ledger_mb=ledger.stat().st_size / 1e6)
    return profile


def report(profile: dict, counts: dict, runs: int) -> None:
    """The machine, the records per second and the cost of each statement and phase per record."""
    records = counts["payments"] + counts["charges"]
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'shape':>10}: {counts['accounts']:,} accounts, {counts['payments']:,} payments, "
          f"{counts['charges']:,} charge rows (account-days) over 24 months; {records:,} records")
    print(f"{'load':>10}: {profile['load']:.2f} (1-minute average as the run began); best of {runs} run(s)\n")
    print(f"vosbench import payments.csv charges.csv: {records / profile['process_wall']:,.0f} records/s "
          f"({profile['process_wall']:.2f} s wall as a process, {profile['wall']:.2f} s in main(); "
          f"CPU {profile['cpu']:.2f} s: writer {profile['writer_cpu']:.2f} s, readers {profile['reader_cpu']:.2f} s; "
          f"peak {profile['peak_mib']:,.0f} MiB; ledger {profile['ledger_mb']:,.0f} MB)\n")

    def table(title: str, rows: list[tuple[str, float, int, int | None]]) -> None:
        width = max(len(title), *(len(name) for name, *_ in rows))
        print(f"| {title:<{width}} | {'s':>7} | {'µs/rec':>7} | {'calls':>7} | {'rows':>9} |")
        print(f"|{'-' * (width + 2)}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 11}|")
        for name, seconds, calls, count in rows:
            shown = f"{count:>9,}" if count is not None else f"{'':>9}"
            print(f"| {name:<{width}} | {seconds:7.2f} | {seconds / records * 1e6:7.2f} | {calls:>7,} | {shown} |")
        print()

    phases = sorted(profile["phases"].items(), key=lambda item: -item[1][0])
    table("phase (inclusive; nested phases overlap)", [(name, s, calls, None) for name, (s, calls) in phases])
    statements = sorted(profile["statements"].items(), key=lambda item: -item[1][0])
    in_sql = sum(s for s, _, _ in profile["statements"].values())
    shown = [(name, s, calls, count) for name, (s, calls, count) in statements[:15]]
    rest = statements[15:]
    shown.append((f"({len(rest)} other statements)", sum(s for _, (s, _, _) in rest), sum(c for _, (_, c, _) in rest),
                  sum(n for _, (_, _, n) in rest)))
    shown.append(("all SQL", in_sql, sum(c for _, (_, c, _) in statements), sum(n for _, (_, _, n) in statements)))
    shown.append(("Python and the rest (main() wall − SQL)", profile["wall"] - in_sql, 1, None))
    table("SQL statement (time in the driver; a SELECT up to its first row)", shown)


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        url, out, *files = sys.argv[2:]
        child(url, files, out)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--runs", type=int, default=1, help="runs made; the fastest is shown")
    args = parser.parse_args()
    folder = RESULTS / f"import-{args.payments}-{args.accounts}-{args.seed}"
    files, template, counts = _template(folder, args.payments, args.accounts, args.seed)
    profiles = [measure(files, template) for _ in range(args.runs)]
    for index, profile in enumerate(profiles, start=1):
        records = counts["payments"] + counts["charges"]
        print(f"run {index}: {records / profile['process_wall']:,.0f} records/s, {profile['process_wall']:.2f} s wall, "
              f"{profile['cpu']:.2f} s CPU, load {profile['load']:.2f}", file=sys.stderr)
    report(min(profiles, key=lambda profile: profile["process_wall"]), counts, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
