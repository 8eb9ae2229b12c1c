"""Finance's commands: accounting exports and customer statements.

``vosbench export accounting`` writes a month as files QuickBooks, Xero or Sage import
(:mod:`vosbench.outputs.accounting`); ``vosbench statement`` writes an account's
running-balance statement fit to send to its holder (:mod:`vosbench.outputs.statement`).
Each writes where ``--out`` says (default: a dated folder under ``reports/``) and prints
what it wrote.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vosbench.commands import options
from vosbench.core import money


def register(add) -> None:
    """Add ``export`` (with ``accounting``) to the ``vosbench`` command."""
    from vosbench.outputs.accounting.writer import TARGETS

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
    accounting.add_argument("--out", type=Path, metavar="DIR",
                            help="folder to write into (default: ./reports/<month>/accounting-<to>/)")


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
