"""Benchmark of ``vosbench import``: records per second, and what each record costs, phase by phase.

    .venv/bin/python bench/import_profile.py [--payments 1000000] [--accounts 50000] [--seed 18] [--runs 1]
                                             [--cprofile 25]

Generates, deterministically from ``--seed``, the import files of ``bench/scale.py``
(``--payments`` payments over 24 months, about 1.09 charge rows per payment) into
``bench/results/import-<payments>-<accounts>-<seed>/`` (kept and reused), imports accounts.csv
into a template ledger (``--timezone UTC``), then for each run copies the template and
times ``vosbench import payments.csv charges.csv`` in a child process, as a person runs it.

The child times the write path's phases exclusively (a phase called inside another is
taken out of the outer one's time), so the first table adds up: µs per record of reading
and parsing (the writer's wait for the worker processes, and the workers' own CPU beside
it), validation, canonical encoding, hashing and linking (the chain), inserting, month
totals, rollups, text index, index build, statistics, commit, and the rest of the writer's
time. A second table counts every SQL statement's time (a SQLAlchemy cursor listener; a
SELECT up to its first row). Each phase's wall and CPU time are shown: on a shared machine
the wall stretches with the load, the CPU much less. The timers wrap calls made a few times per
part, not per record; records/s are those of the same run.

``--cprofile N`` makes one more run under cProfile, in the writer and in each worker (a
worker dumps its profile after every part), and prints the N functions with the most own
time of each, in µs per record (the profiles are kept in the shape's folder, ``cprofile/``); profiling slows
the run, so its figures are shares, not speeds.
Prints the machine's facts and the load; the machine may be shared, so compare runs made back to back.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import pstats
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

CHAIN = "canonical encoding + hashing + linking"
PHASES: dict[str, tuple[tuple[str, str], ...]] = {  # phase → (module, attribute path) timed into it
    "read + parse (writer waits on workers)": (("vosbench.sources.csv_import", "_parts"),),
    "file sha256 (first pass)": (("vosbench.sources.csv_import", "file_sha256"),),
    "validate": (("vosbench.ledger.write_door", "_validate_payments"),
                 ("vosbench.ledger.write_door", "_validate_keyed"),
                 ("vosbench.ledger.write_door", "_refuse_overlong"),
                 ("vosbench.ledger.write_door", "_refuse_closed_months")),
    CHAIN: (("vosbench.ledger.hashchain", "ChainHead.link_all"),),
    "insert (rows, their triggers, keys)": (("vosbench.ledger.write_door", "_insert"),),
    "payments coded for totals/rollups": (("vosbench.ledger.coded_payments", "CodedPayments.__init__"),),
    "month totals (apply)": (("vosbench.ledger.month_totals", "apply"),),
    "explore upkeep (3 rollups)": (("vosbench.ledger.explore_upkeep", "after_payments"),),
    "text index": (("vosbench.ledger.text_index", "keep_up"),),
    "indexes built at the end": (("vosbench.ledger.database", "_build_indexes"),),
    "statistics (ANALYZE)": (("vosbench.ledger.database", "refresh_statistics"),),
    "commit": (("sqlalchemy.engine.base", "Connection._commit_impl"),),
}
"""The phases of the first table, in the order a record meets them."""

SPLIT_ROWS = 200_000
"""Stored rows of each chained table re-encoded and re-hashed after the import, to split the chain's cost."""


def chain_split(ledger: str) -> dict[str, float]:
    """Seconds the import's chain spent encoding and hashing, from the first :data:`SPLIT_ROWS` stored rows of each
    table encoded (:func:`vosbench.ledger.hashchain._encode`, what ``link_all`` hashes) and chained again, scaled to
    the table's rows. A per-call timer inside ``link_all`` would cost as much as the encoding itself."""
    import hashlib
    import sqlite3

    from vosbench.ledger import hashchain, tables

    split = {"encoding": 0.0, "hashing": 0.0}
    with sqlite3.connect(ledger) as connection:
        for name, rows in connection.execute("SELECT name, row_count FROM chain_heads WHERE name IN ('payments', "
                                             "'charges')").fetchall():
            columns = ", ".join(hashchain.chained_columns(tables.metadata.tables[name]))
            stored = connection.execute(f"SELECT {columns} FROM {name} ORDER BY id LIMIT {SPLIT_ROWS}").fetchall()
            if not stored:
                continue
            started = time.perf_counter()
            texts = list(map(hashchain._encode, stored))
            encoded = time.perf_counter()
            head, sha256 = hashchain.GENESIS, hashlib.sha256
            for text in texts:
                head = sha256((head + text).encode("utf-8")).hexdigest()
            hashed = time.perf_counter()
            split["encoding"] += (encoded - started) * rows / len(stored)
            split["hashing"] += (hashed - encoded) * rows / len(stored)
    return split

OTHER = "rest of the writer (batches, savepoints, glue)"


def _timed_phases(phases: dict[str, list[float]]) -> None:
    """Wrap each function of :data:`PHASES` so that its exclusive wall time, calls and CPU time are added to
    ``phases``."""
    import importlib

    # [start, CPU at start, wall and CPU spent in phases called inside] of each phase running
    stack: list[list[float]] = []

    def enter() -> None:
        stack.append([time.perf_counter(), time.process_time(), 0.0, 0.0])

    def leave(label: str) -> None:
        started, cpu, inner, inner_cpu = stack.pop()
        spent, spent_cpu = time.perf_counter() - started, time.process_time() - cpu
        counted = phases[label]
        counted[0] += spent - inner
        counted[1] += 1
        counted[2] += spent_cpu - inner_cpu
        if stack:
            stack[-1][2] += spent
            stack[-1][3] += spent_cpu

    for label, functions in PHASES.items():
        for module_name, path in functions:
            owner = importlib.import_module(module_name)
            *outer, name = path.split(".")
            for part in outer:
                owner = getattr(owner, part)
            original = getattr(owner, name)
            if name == "_parts":  # a generator: the time is the writer's wait for each next part
                @functools.wraps(original)
                def waited(*args, __original=original, __label=label, **kwargs):
                    parts = __original(*args, **kwargs)
                    while True:
                        enter()
                        part = next(parts, None)
                        leave(__label)
                        if part is None:
                            return
                        yield part
                replacement = waited
            else:
                @functools.wraps(original)
                def timed(*args, __original=original, __label=label, **kwargs):
                    enter()
                    try:
                        return __original(*args, **kwargs)
                    finally:
                        leave(__label)
                replacement = timed
            setattr(owner, name, replacement)
            _replace_handler(original, replacement)


def _replace_handler(original, replacement) -> None:
    """The write door's handlers hold its functions themselves: the timed one goes there too."""
    from vosbench.ledger import write_door

    for content, handlers in write_door._HANDLERS.items():
        write_door._HANDLERS[content] = tuple(replacement if handler is original else handler for handler in handlers)


def _profiled_workers(folder: str) -> None:
    """Profile each parsing worker: the pool's function, wrapped under its own name (the forked workers inherit
    it), runs under a profiler of the worker's, dumped to ``folder`` after every part."""
    from vosbench.sources import csv_import

    original = csv_import._pickled_part
    profiler: dict[int, cProfile.Profile] = {}

    @functools.wraps(original)
    def profiled(*arguments):
        own = profiler.setdefault(os.getpid(), cProfile.Profile())
        own.enable()
        try:
            return original(*arguments)
        finally:
            own.disable()
            own.dump_stats(os.path.join(folder, f"worker-{os.getpid()}.prof"))

    csv_import._pickled_part = profiled


def _statement_key(statement: str) -> str:
    """A statement shortened to what tells it apart (its start and its end), with the value lists folded."""
    text = re.sub(r"\s+", " ", statement)
    text = re.sub(r"(\?|%s|%\(\w+\)s)(, (\?|%s|%\(\w+\)s))+", r"\1, …", text)
    text = re.sub(r"(\(\?, …\))(, \(\?, …\))+", r"\1, …", text)
    return text if len(text) <= 110 else f"{text[:55]} … {text[-50:]}"


def child(url: str, files: list[str], out: str, profile_folder: str = "") -> None:
    """Run ``vosbench import FILES`` in this process, counting statements and phases (or, given
    ``profile_folder``, under cProfile, the workers' profiles beside it); write what was counted to ``out``."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from vosbench.commands.main import main as vosbench

    statements: dict[str, list] = defaultdict(lambda: [0.0, 0, 0])
    phases: dict[str, list] = defaultdict(lambda: [0.0, 0, 0.0])  # wall, calls, CPU
    profiler = None
    if profile_folder:
        _profiled_workers(profile_folder)
        profiler = cProfile.Profile()
    else:
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
    if profiler is not None:
        profiler.enable()
    code = vosbench(["import", *files, "--db", url])
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_folder, "writer.prof"))
    wall, writer_cpu = time.perf_counter() - started, time.process_time() - cpu
    readers = resource.getrusage(resource.RUSAGE_CHILDREN)
    split = {} if code or profiler is not None else chain_split(url.removeprefix("sqlite:///"))
    Path(out).write_text(json.dumps({
        "code": code, "wall": wall, "writer_cpu": writer_cpu, "reader_cpu": readers.ru_utime + readers.ru_stime,
        "statements": statements, "phases": phases, "split": split}))


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


def measure(files: Path, template: Path, profile_folder: str = "") -> dict:
    """One timed import of payments.csv and charges.csv into a copy of ``template``, in a child process."""
    with tempfile.TemporaryDirectory(dir=template.parent) as scratch:
        ledger, out = Path(scratch) / "ledger.sqlite", Path(scratch) / "profile.json"
        shutil.copyfile(template, ledger)
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", f"sqlite:///{ledger}", str(out), profile_folder,
                               str(files / "payments.csv"), str(files / "charges.csv")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0 or not out.exists():
            sys.exit(f"the import failed ({done.returncode}):\n{done.stderr[-3000:]}")
        profile = json.loads(out.read_text())
        if profile["code"] != 0:
            sys.exit(f"vosbench import exited {profile['code']}:\n{done.stderr[-3000:]}")
        profile.update(process_wall=elapsed, load=load, load_after=os.getloadavg()[0], peak_mib=after.ru_maxrss / 1024,
                       cpu=(after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                       ledger_mb=ledger.stat().st_size / 1e6)
    return profile


def report(profile: dict, counts: dict, runs: int) -> None:
    """The machine, the records per second and the cost of each phase and statement per record."""
    records = counts["payments"] + counts["charges"]
    for key, value in machine().items():
        print(f"{key:>10}: {value}")
    print(f"{'shape':>10}: {counts['accounts']:,} accounts, {counts['payments']:,} payments, "
          f"{counts['charges']:,} charge rows (account-days) over 24 months; {records:,} records")
    print(f"{'load':>10}: {profile['load']:.2f} as the run began, {profile['load_after']:.2f} as it ended "
          f"(1-minute average); best of {runs} run(s)\n")
    print(f"vosbench import payments.csv charges.csv: {records / profile['process_wall']:,.0f} records/s "
          f"({profile['process_wall']:.2f} s wall as a process, {profile['wall']:.2f} s in main(); "
          f"CPU {profile['cpu']:.2f} s: writer {profile['writer_cpu']:.2f} s, workers {profile['reader_cpu']:.2f} s; "
          f"peak {profile['peak_mib']:,.0f} MiB; ledger {profile['ledger_mb']:,.0f} MB)\n")

    def table(title: str, rows: list[tuple[str, float, int, int | None]]) -> None:
        width = max(len(title), *(len(name) for name, *_ in rows))
        print(f"| {title:<{width}} | {'s':>7} | {'µs/rec':>7} | {'calls':>7} | {'rows':>9} |")
        print(f"|{'-' * (width + 2)}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 11}|")
        for name, seconds, calls, count in rows:
            shown = f"{count:>9,}" if count is not None else f"{'':>9}"
            print(f"| {name:<{width}} | {seconds:7.2f} | {seconds / records * 1e6:7.2f} | {calls:>7,} | {shown} |")
        print()

    phases = profile["phases"]
    timed, timed_cpu = sum(counted[0] for counted in phases.values()), sum(counted[2] for counted in phases.values())
    split = profile.get("split") or {}
    title = "phase (exclusive; the writer, then the workers beside it)"
    lines = []
    for name in PHASES:
        wall, calls, cpu = phases.get(name, (0.0, 0, 0.0))
        lines.append((name, wall, cpu, calls))
        if name == CHAIN:
            lines.extend((f"  of which {part} (re-measured: {SPLIT_ROWS:,} rows a table)", split[part], split[part], 0)
                         for part in ("encoding", "hashing") if part in split)
    lines.append((OTHER, profile["wall"] - timed, profile["writer_cpu"] - timed_cpu, 1))
    lines.append(("the writer in all (main())", profile["wall"], profile["writer_cpu"], 1))
    lines.append(("workers: decode, CSV, values (CPU)", profile["reader_cpu"], profile["reader_cpu"], 1))
    width = max(len(title), *(len(name) for name, *_ in lines))
    print(f"| {title:<{width}} | {'wall s':>7} | {'µs/rec':>7} | {'CPU s':>7} | {'µs/rec':>7} | {'calls':>7} |")
    print(f"|{'-' * (width + 2)}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for name, wall, cpu, calls in lines:
        print(f"| {name:<{width}} | {wall:7.2f} | {wall / records * 1e6:7.2f} | {cpu:7.2f} | {cpu / records * 1e6:7.2f} "
              f"| {calls:>7,} |")
    print()
    statements = sorted(profile["statements"].items(), key=lambda item: -item[1][0])
    in_sql = sum(s for s, _, _ in profile["statements"].values())
    shown = [(name, s, calls, count) for name, (s, calls, count) in statements[:15]]
    rest = statements[15:]
    shown.append((f"({len(rest)} other statements)", sum(s for _, (s, _, _) in rest), sum(c for _, (_, c, _) in rest),
                  sum(n for _, (_, _, n) in rest)))
    shown.append(("all SQL", in_sql, sum(c for _, (_, c, _) in statements), sum(n for _, (_, _, n) in statements)))
    table("SQL statement (time in the driver; a SELECT up to its first row)", shown)


def report_cprofile(folder: Path, records: int, top: int) -> None:
    """The ``top`` functions by own time of the writer, and of the workers together, in µs per record."""
    workers = sorted(str(path) for path in folder.glob("worker-*.prof"))
    for title, paths in (("writer", [str(folder / "writer.prof")]), (f"{len(workers)} workers together", workers)):
        if not paths:
            continue
        stats = pstats.Stats(*paths)
        total = stats.total_tt  # type: ignore[attr-defined]  # pstats keeps it, typeshed does not say so
        print(f"cProfile, {title}: {total:.2f} s own time in all ({total / records * 1e6:.2f} µs/rec, "
              "inflated by the profiler)\n")
        print(f"| {'function (own time)':<88} | {'s':>7} | {'µs/rec':>7} | {'calls':>10} |")
        print(f"|{'-' * 90}|{'-' * 9}|{'-' * 9}|{'-' * 12}|")
        entries = sorted(stats.stats.items(), key=lambda item: -item[1][2])  # type: ignore[attr-defined]
        for (file, line, name), (_, calls, own, _cumulative, _callers) in entries[:top]:
            where = f"{name} ({Path(file).name}:{line})" if line else name
            where = where if len(where) <= 88 else where[:87] + "…"
            print(f"| {where:<88} | {own:7.2f} | {own / records * 1e6:7.2f} | {calls:>10,} |")
        print()


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        url, out, profile_folder, *files = sys.argv[2:]
        child(url, files, out, profile_folder)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--runs", type=int, default=1, help="runs made; the fastest is shown")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="one more run under cProfile: the N functions with the most own time")
    args = parser.parse_args()
    folder = RESULTS / f"import-{args.payments}-{args.accounts}-{args.seed}"
    files, template, counts = _template(folder, args.payments, args.accounts, args.seed)
    records = counts["payments"] + counts["charges"]
    profiles = [measure(files, template) for _ in range(args.runs)]
    for index, profile in enumerate(profiles, start=1):
        print(f"run {index}: {records / profile['process_wall']:,.0f} records/s, {profile['process_wall']:.2f} s wall, "
              f"{profile['cpu']:.2f} s CPU, load {profile['load']:.2f}", file=sys.stderr)
    report(min(profiles, key=lambda profile: profile["process_wall"]), counts, args.runs)
    if args.cprofile:
        kept = folder / "cprofile"  # the .prof files stay, for pstats or snakeviz
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir()
        measure(files, template, str(kept))
        report_cprofile(kept, records, args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
