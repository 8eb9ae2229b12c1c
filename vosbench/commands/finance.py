"""Finance's commands: accounting exports, customer statements, the finance summary pack and dashboard.

``vosbench export accounting`` writes a month as files QuickBooks, Xero or Sage import
(:mod:`vosbench.outputs.accounting`); ``vosbench statement`` writes an account's
running-balance statement fit to send to its holder (:mod:`vosbench.outputs.customer_statement`);
``vosbench summary`` runs the finance summary notebook (:mod:`vosbench.outputs.finance`);
``vosbench dashboard`` serves :mod:`vosbench.ui.finance_dashboard` through Voilà.
Each writes where ``--out`` says (default: a dated folder under ``reports/``) and prints
what it wrote.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from vosbench.commands import options
from vosbench.core import money
from vosbench.core.errors import VosbenchError


class BadDate(VosbenchError):
    """A --from/--to that is not a calendar day."""


IDLE_KERNELS_CULLED = ("--MappingKernelManager.cull_interval=60", "--MappingKernelManager.cull_idle_timeout=600")
"""Voilà's options that shut down a kernel idle for 10 minutes with no page connected (one is started per page view)."""

def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise BadDate(f"{option} {text!r} is not a day; give it as YYYY-MM-DD, e.g. 2026-10-01") from None


def register(add) -> None:
    """Add ``export`` (with ``accounting``) to the ``vosbench`` command."""
    from vosbench.outputs.accounting import TARGETS

    export = add("export", _needs_what, "export a month for other systems: `export accounting`")
    what = export.add_subparsers(dest="what", metavar="WHAT")
    accounting = what.add_parser("accounting", parents=[options.shared_options()],
                                 help="bank feeds and a double-entry journal for QuickBooks, Xero or Sage",
                                 description="bank feeds and a double-entry journal for QuickBooks, Xero or Sage")
    accounting.set_defaults(handler=cmd_export_accounting)
    accounting.add_argument("--month", required=True, metavar="YYYY-MM")
    accounting.add_argument("--to", dest="target", required=True, choices=TARGETS,
                            help="the package whose import layouts to write; journal: the general journal only")
    accounting.add_argument("--mapping", type=Path, metavar="YAML",
                            help="GL mapping of kinds, methods and fees to accounts "
                                 "(default: parameters/gl-mapping.yaml)")
    accounting.add_argument("--out", type=options.out_folder, metavar="DIR",
                            help="folder to write into (default: ./reports/<month>/accounting-<to>/)")


    from vosbench.outputs import STATEMENT_FORMATS as FORMATS

    sub = add("statement", cmd_statement, "an account's running-balance statement to send its holder "
                                          "(PDF, xlsx or CSV); --subtree: one per account into a folder")
    scope = sub.add_mutually_exclusive_group(required=True)
    scope.add_argument("--account", type=options.account_number, metavar="ACCOUNT", help="one account number")
    scope.add_argument("--subtree", type=options.account_number, metavar="ACCOUNT",
                       help="an agent or reseller and every account below it")
    sub.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first local day")
    sub.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last local day (inclusive)")
    sub.add_argument("--format", choices=FORMATS, default="pdf")
    sub.add_argument("--out", type=options.out_folder, metavar="DIR",
                     help="folder to write into (default: ./reports/statements-<from>-<to>/)")


    sub = add("summary", cmd_summary, "the finance summary pack of a month: PDF, charts (PNG, SVG), HTML, xlsx")
    sub.add_argument("--month", metavar="YYYY-MM", help="the month summarized (may be left out with a one-month --view)")
    sub.add_argument("--view", metavar="NAME|FILE", help="a saved view (its name, or a YAML file) scoping the pack")
    sub.add_argument("--subtree", dest="subtrees", action="append", default=[], type=options.account_number,
                     metavar="ACCOUNT",
                     help="limit to a reseller's or agent's subtree (repeatable; default: every account)")
    sub.add_argument("--out", type=options.out_folder, metavar="DIR",
                     help="folder to write into (default: ./reports/<month>/finance-summary/)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")


    sub = add("dashboard", cmd_dashboard, "serve the finance dashboard (Voilà) locally and print its URL")
    sub.add_argument("--port", type=_port, default=0, help="port to listen on, 1-65535 (default: a free one)")


def _port(text: str) -> int:
    """``--port``: a TCP port, 1-65535 (0: a free one), refused before a URL is announced."""
    port = options.whole_number(text)
    if port is None or port > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is no port; give a number from 1 to 65535, or leave --port out "
                                         "for a free one")
    return port


def _needs_what(args: argparse.Namespace) -> int:
    print("vosbench export: say what to export, e.g. `vosbench export accounting --month 2026-10 --to xero`")
    return options.EXIT_BAD_INPUT


def cmd_export_accounting(args: argparse.Namespace) -> int:
    from vosbench.outputs.accounting.writer import export_accounting

    with options.open_ledger(args) as ledger:
        result = export_accounting(ledger.engine, args.month, args.target, mapping_file=args.mapping,
                                   out_dir=args.out)
    if result.empty:
        print(f"no payment records or charges in {result.month}: nothing to export (nothing written)")
        return options.EXIT_NO_DATA
    print(f"{args.target} export of {result.month} written to {result.folder}")
    for path in result.files:
        print(f"  {path.name}")
    for currency, (entries, debits, credits) in result.totals.items():
        print(f"  journal {currency}: {entries} entries, debits {money.format_money(debits, 4)} = "
              f"credits {money.format_money(credits, 4)}")
    return options.EXIT_OK


def cmd_statement(args: argparse.Namespace) -> int:
    from vosbench.outputs import customer_statement

    start, end = _day(args.start, "--from"), _day(args.end, "--to")
    folder = (args.out or Path.cwd() / "reports" / f"statements-{start}-{end}").resolve()
    with options.open_ledger(args) as ledger:
        accounts = customer_statement.subtree(ledger.engine, args.subtree, end) if args.subtree else [args.account]
        written = []
        for account in accounts:
            document = customer_statement.build(ledger.engine, account, start, end)
            path = folder / customer_statement.file_name(account, start, end, args.format)
            written.append(customer_statement.write(document, path, args.format))
    print(f"{len(written)} statement{'s' if len(written) != 1 else ''} written to {folder}")
    for path in written:
        print(f"  {path.name}")
    return options.EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    from vosbench.outputs import report

    try:
        outputs = report.run_summary(args.month, subtrees=tuple(args.subtrees), out_dir=args.out,
                                     db_url=options.db_url(args), progress=not args.quiet, view=args.view or "")
    except report.AuditFailed as error:
        print(f"finance summary failed: {error}")
        return options.EXIT_FINDINGS
    print(f"finance summary for {outputs.month} written to {outputs.folder}")
    for path in [outputs.html, *outputs.files, outputs.notebook]:
        print(f"  {path.name}")
    if outputs.empty:
        print(f"{outputs.month} holds no payment records and no charges: the summary has nothing to report")
        return options.EXIT_NO_DATA
    return options.EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    import os
    import socket
    import subprocess
    import sys

    from vosbench.core import config, resources

    with options.open_ledger(args) as ledger:  # a missing ledger is named before a server starts
        url = ledger.url
    port = args.port
    if not port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    notebook = resources.notebook("finance_dashboard.ipynb")
    print(f"finance dashboard: http://127.0.0.1:{port}/ (Ctrl-C stops it)", flush=True)
    # a page closed without unloading leaves its kernel: shut down those idle 10 minutes with no page open
    server = subprocess.Popen([sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
                               f"--port={port}", *IDLE_KERNELS_CULLED], env={**os.environ, config.ENV_DB: url})
    try:
        return options.EXIT_OK if server.wait() == 0 else options.EXIT_FINDINGS
    except KeyboardInterrupt:
        server.terminate()
        server.wait()
        return options.EXIT_OK
