"""Benchmark: where `vosbench audit --month M` spends its time, phase by phase.

    .venv/bin/python bench/audit_phases.py --ledger bench/results/scale-1000000/ledger.sqlite --month 2026-06
        [--process] [--out DIR]

Runs what the audit notebook runs, in this process, and times each phase (wall and this
process's CPU, with that of the processes it started and waited for, such as verification's
chain re-hashing workers): the record sections' queries, the reconciliation, statement matching,
verification from the last close, each control check (with the controls' shared read),
provenance, the tables, every notebook view, the workbook and the PNG charts (Chromium's
own CPU is not this process's). An unscoped audit reads the month's records once (the controls'
frame) and makes its movements, top accounts and large payments from them: the per-section
query phases then stay empty. With ``--process`` it then runs `vosbench audit` as a command and
prints each notebook cell's time (papermill's) beside the command's wall time:
the rest is the kernel's start-up and the HTML conversion. Works on the ledger as given
(the audit only reads); the machine is shared, so read same-run ratios and say the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from run import machine, print_table  # bench/run.py: the machine facts and the table

PHASES: list[tuple[str, float, float]] = []


@contextmanager
def phase(name: str):
    """Time the block: wall, and the CPU of this process and of the processes it started and waited for."""
    wall, cpu = time.perf_counter(), _cpu()
    try:
        yield
    finally:
        PHASES.append((name, time.perf_counter() - wall, _cpu() - cpu))


def _cpu() -> float:
    """CPU seconds of this process and its waited-for children (verification re-hashes chains in workers)."""
    spent = os.times()
    return spent.user + spent.system + spent.children_user + spent.children_system


def timed_function(owner, attribute: str, name: str) -> None:
    """Replace ``owner.attribute`` by the same function timed as phase ``name``."""
    original: Callable = getattr(owner, attribute)

    def wrapper(*args, **kwargs):
        with phase(name):
            return original(*args, **kwargs)

    setattr(owner, attribute, wrapper)


def in_process(url: str, month: str, out: Path) -> None:
    """Compute, show and write the audit the way the notebook does, each phase timed."""
    with phase("imports (vosbench.outputs.audit, pandas, plotly, sqlalchemy)"):
        from vosbench.outputs import audit, charts

    from vosbench.analysis import reconcile
    from vosbench.controls import checks, context
    from vosbench.controls import runner as control_runner
    from vosbench.ledger import setup, verification
    from vosbench.outputs import export
    from vosbench.outputs import matching_section as statement_section
    from vosbench.outputs.provenance import Provenance

    for owner, attribute, name in [
        (audit, "query_movements", "query: movements"), (audit, "query_top_accounts", "query: top accounts"),
        (audit, "query_large_payments", "query: large payments"), (audit, "query_trend", "query: trend"),
        (audit, "count_active_accounts", "query: active accounts"),
        (context, "month_payments", "query: the month's records (context.month_payments)"),
        (audit, "_record_sections", "record sections from them (movements, top accounts, large payments)"),
        (reconcile, "reconcile", "reconciliation"),
        (statement_section, "compute", "statement matching"), (verification, "verify_month", "verification"),
        (context, "load", "controls: shared read (context.load)"),
        (control_runner.finding_notes, "latest", "controls: annotations"),
        (Provenance, "collect", "provenance"), (export, "write_xlsx", "write xlsx"),
        (export, "write_pngs", "write PNGs (kaleido)"),
    ]:
        timed_function(owner, attribute, name)
    for name in list(checks.CHECKS):
        timed_function_in(checks.CHECKS, name)
    with phase("open ledger"):
        engine = setup.open_ledger(url)
    with phase("MonthlyAudit.compute (total)"):
        result = audit.MonthlyAudit.compute(engine, month)
    with phase("tables (every sheet's frame)"):
        result.tables()
    with phase("notebook views (HTML tables) and figures"):
        charts.use_notebook_renderer()
        result.introduction()
        for cell in [("Summary",), ("Movements", "kind"), ("Movements", "channel"), ("Movements", "method"),
                     ("Large payments",), ("Top accounts",), ("Trend",), ("Reconciliation",), ("Results",),
                     ("Differences",), ("Statement matching",), ("Statement findings",), ("Breaks",),
                     ("Verification",), ("Fingerprint",), ("Controls",), ("Findings",), ("Provenance",)]:
            shown = result.view(cell[0], dimension=cell[1] if len(cell) > 1 else None)
            getattr(shown, "_repr_html_", getattr(shown, "_repr_markdown_", str))()
        for name in audit.FIGURE_NAMES:
            result.figure(name).to_html(include_plotlyjs=False)
    with phase("write_outputs (total)"):
        result.write_outputs(out)


def timed_function_in(registry: dict, name: str) -> None:
    """Time the registry's check ``name`` as a phase of its own."""
    original = registry[name]

    def wrapper(data):
        with phase(f"controls: {name}"):
            return original(data)

    registry[name] = wrapper


def as_process(url: str, month: str, out: Path) -> list[tuple[str, str, str]]:
    """Run `vosbench audit` as a command; its wall time and each notebook cell's (papermill's metadata)."""
    command = [str(Path(sys.executable).with_name("vosbench")), "audit", "--month", month, "--out", str(out),
               "--db", url]
    started, before = time.perf_counter(), os.times()
    done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, after = time.perf_counter() - started, os.times()
    if done.returncode not in (0, 1):  # 1: the audit ran and found the ledger failing a check
        sys.exit(f"vosbench audit failed ({done.returncode}):\n{done.stderr[-3000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    notebook = next(out.rglob("*.ipynb"))
    cells = json.loads(notebook.read_text())["cells"]
    timings = [(cell, cell["metadata"].get("papermill", {}).get("duration") or 0.0) for cell in cells
               if cell["cell_type"] == "code"]
    rows = [("`vosbench audit` as a command", f"{wall:.2f} s", f"{cpu:.2f} s CPU (it and its children)")]
    rows.append(("  notebook cells, summed", f"{sum(t for _, t in timings):.2f} s", "papermill's durations"))
    for cell, seconds in sorted(timings, key=lambda item: -item[1])[:8]:
        source = "".join(cell["source"]).strip().splitlines()
        rows.append((f"    {source[-1][:70] if source else '(empty)'}", f"{seconds:.2f} s", ""))
    return rows


def older_schema(url: str) -> str:
    """One line when the ledger's schema is older than this vosbench's (empty otherwise): opening it would upgrade it
    first (at 10M records, minutes of refilling the explore tables), and that would be timed as the audit's open."""
    from vosbench.ledger import database, readonly, setup

    engine = readonly.open_read_only(url)
    try:
        with engine.connect() as connection:
            version = database.get_meta(connection, "schema_version")
    finally:
        engine.dispose()
    if version is None or int(version) >= int(setup.SCHEMA_VERSION):
        return ""
    return (f"the ledger is schema {version}, this vosbench {setup.SCHEMA_VERSION}: opening it upgrades it first, which "
            f"would be timed as the audit's; upgrade it once with `.venv/bin/vosbench info --db {url}`, then run this again")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--process", action="store_true", help="also run `vosbench audit` as a command")
    parser.add_argument("--out", type=Path, help="folder for the outputs (default: a temporary one)")
    args = parser.parse_args()
    if not args.ledger.exists():
        print(f"no ledger at {args.ledger}; build one with `.venv/bin/python bench/scale.py --keep`", file=sys.stderr)
        return 2
    url = f"sqlite:///{args.ledger.resolve()}"
    older = older_schema(url)
    if older:
        print(older, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch)
        load = os.getloadavg()[0]
        in_process(url, args.month, out / "in-process")
        rows = [(name, f"{wall:.2f} s", f"{cpu:.2f} s CPU") for name, wall, cpu in PHASES]
        rows.append(("load average (1 min) before / after", f"{load:.1f} / {os.getloadavg()[0]:.1f}", ""))
        if args.process:
            rows += as_process(url, args.month, out / "command")
        print_table(rows, args.ledger)
    print(json.dumps(machine()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
