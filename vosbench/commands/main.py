"""The ``vosbench`` command: a thin layer over the package.

Exit codes: 0 done; 1 the ledger failed a check (``verify``) or an audit notebook
failed; 2 bad input (the message says which input and how to fix it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vosbench import __version__
from vosbench.core import config, money

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


def _engine(args, *, create: bool = False):
    from vosbench.ledger import setup

    return setup.open_ledger(config.resolve_db_url(args.db), create=create)


def cmd_demo(args) -> int:
    from vosbench.sources import demo

    scale = demo.DemoScale(customers=args.customers, months=args.months, end_month=args.end_month,
                           payments_per_month=args.payments_per_month, seed=args.seed)
    url = config.resolve_db_url(args.db)
    key = demo.build_demo(url, scale, progress=not args.quiet)
    print(f"demo ledger built at {url} with {len(key['anomalies'])} planted anomalies "
          "(answer key stored in the ledger; `vosbench demo-key` prints it)")
    return EXIT_OK


def cmd_demo_key(args) -> int:
    from vosbench.sources import demo

    key = demo.answer_key(_engine(args))
    if key is None:
        print("this ledger was not built by `vosbench demo`; it has no answer key", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(key, indent=2))
    return EXIT_OK


def cmd_import(args) -> int:
    from vosbench.ledger import database, setup
    from vosbench.sources import csv_import

    if args.paths[0] == "vos3000-export":  # `vosbench import vos3000-export FILE...`
        from vosbench.commands.vos3000 import cmd_import_export

        return cmd_import_export(args, args.paths[1:])
    url = config.resolve_db_url(args.db)
    engine = setup.open_ledger(url, create=True, timezone=args.timezone)
    with engine.connect() as connection:
        ledger_tz = database.ledger_timezone(connection)
    for result in csv_import.import_each(engine, [Path(p) for p in args.paths], source=args.source,
                                       default_tz=ledger_tz):
        print(f"{result.file}: {result.added} added, {result.skipped} already present")
    return EXIT_OK


def cmd_verify(args) -> int:
    from vosbench.ledger import verification

    result = verification.verify(_engine(args))
    for name, head in result.fingerprint.items():
        print(f"{name}: {head['rows']} rows, chain head {head['head']}")
    for broken in result.breaks:
        print(f"BROKEN: {broken.message}")
    for mismatch in result.total_mismatches[:20]:
        print(f"TOTALS: {mismatch}")
    if len(result.total_mismatches) > 20:
        print(f"TOTALS: … and {len(result.total_mismatches) - 20} more")
    print("ledger verified: hash chains intact, month totals agree with the raw records"
          if result.ok else "ledger FAILED verification")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def cmd_reconcile(args) -> int:
    from vosbench.analysis import reconcile
    from vosbench.outputs import views

    result = reconcile.reconcile(_engine(args), args.month, timezone=args.timezone,
                                 account=args.account, subtree=args.subtree)
    frame = result.differences() if args.differences_only else result.accounts
    if args.format == "table":  # a terminal fits the balance identity; csv/json carry every column
        frame = frame[list(TABLE_COLUMNS)]
    views.print_frame(frame, reconcile.MONEY_COLUMNS, args.format, totals=result.totals())
    return EXIT_OK


TABLE_COLUMNS = ("account", "name", "opening", "payments", "charges", "expected_closing", "recorded_closing",
                 "difference", "classification")


def cmd_audit(args) -> int:
    from vosbench.outputs import report

    overrides = dict(_key_value(item) for item in args.param)
    try:
        outputs = report.run_audit(args.month, parameters_file=args.parameters_file, overrides=overrides,
                                   out_dir=args.out, db_url=args.db, progress=not args.quiet)
    except report.AuditFailed as error:
        print(f"audit failed: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    print(f"audit report for {args.month} written to {outputs.folder}")
    for path in [outputs.html, outputs.xlsx, outputs.notebook, *outputs.pngs]:
        print(f"  {path}")
    return EXIT_OK


def cmd_reverse(args) -> int:
    from vosbench.ledger import manual_entry

    payment_id = manual_entry.reverse(_engine(args), args.payment_id, reason=args.reason, operator=args.operator)
    print(f"recorded reversal {payment_id} of payment {args.payment_id}")
    return EXIT_OK


def cmd_info(args) -> int:
    from vosbench.ledger import database, hashchain, setup

    url = config.resolve_db_url(args.db)
    print(f"ledger: {url}{' (embedded default)' if config.is_default(url) else ''}")
    engine = setup.open_ledger(url)
    with engine.connect() as connection:
        print(f"time zone: {database.ledger_timezone(connection)}")
        for name, head in hashchain.fingerprint(connection).items():
            print(f"{name}: {head['rows']} rows, chain head {head['head'][:16]}…")
    return EXIT_OK


def cmd_query(args) -> int:
    from vosbench.analysis import explore
    from vosbench.analysis.filters import PaymentFilter
    from vosbench.outputs import views

    if args.format == "xlsx" and not args.out:
        raise ValueError("--format xlsx writes a file: add --out FILE.xlsx")
    if args.out and args.format not in ("csv", "xlsx"):
        raise ValueError(f"--out writes csv or xlsx: add --format csv or --format xlsx (not {args.format})")
    f = PaymentFilter.from_parameters({
        "start": args.start, "end": args.end, "timezone": args.timezone, "accounts": args.account,
        "include_sub_accounts": args.sub_accounts, "kinds": args.kind, "min_amount": args.min_amount,
        "max_amount": args.max_amount, "operators": args.operator, "channels": args.channel,
        "methods": args.method, "text": args.text})
    engine = _engine(args)
    with engine.connect() as connection:
        f.check(connection)
    if args.out:
        path = explore.export_result(engine, f, args.out, sort=args.sort, descending=args.descending)
        print(f"wrote every record of the filter to {path}")
        return EXIT_OK
    page = explore.query_page(engine, f, page=args.page, page_size=args.page_size, sort=args.sort,
                              descending=args.descending)
    if args.format == "json":
        json.dump({"filter": f.to_parameters(), "timezone": page.timezone, "total_count": page.total_count,
                   "page": page.page, "pages": page.pages, "page_size": page.page_size,
                   "totals_by_kind": views.records(views.displayable(page.totals_by_kind, ["amount"])),
                   "rows": views.records(views.displayable(page.rows, explore.MONEY_COLUMNS))},
                  sys.stdout, default=str, indent=2)
        print()
    elif args.format == "csv":
        views.print_frame(page.rows, explore.MONEY_COLUMNS, "csv")
    else:
        first = (page.page - 1) * page.page_size
        print(f"{page.total_count:,} payment records; page {page.page} of {page.pages} (rows {min(first + 1, page.total_count):,}"
              f"–{first + len(page.rows):,}), sorted by {page.sort} {'descending' if page.descending else 'ascending'}; "
              f"times in {page.timezone}")
        views.print_frame(page.rows, explore.MONEY_COLUMNS)
        print()
        views.print_frame(page.totals_by_kind, ["amount"], totals={"amount": int(page.totals_by_kind["amount"].sum())})
    return EXIT_OK


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"-p {text!r}: write parameters as key=value, e.g. -p month=2026-09")
    return key.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vosbench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"vosbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", metavar="URL", help=f"ledger URL (default: ${config.ENV_DB}, else the embedded "
                                                  "SQLite ledger)")

    def add(name, handler, help_text):
        sub = commands.add_parser(name, parents=[db], help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    sub = add("demo", cmd_demo, "build the deterministic demo ledger with planted anomalies")
    sub.add_argument("--customers", type=int, default=2000)
    sub.add_argument("--months", type=int, default=24)
    sub.add_argument("--end-month", default="2026-10")
    sub.add_argument("--payments-per-month", type=int, default=None,
                     help="total payment records per month (default: a realistic mix)")
    sub.add_argument("--seed", type=int, default=20261031)
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    add("demo-key", cmd_demo_key, "print the demo ledger's answer key (JSON)")

    sub = add("import", cmd_import, "import ledger and back-office CSV files (accounts.csv, payments.csv, …), "
                                    "or `import vos3000-export FILE...`: VOS3000 payment-record exports")
    sub.add_argument("paths", nargs="+", metavar="PATH", help="CSV files or folders holding them")
    sub.add_argument("--source", default="csv", help="name of the system the rows come from (idempotency key)")
    sub.add_argument("--timezone", default="UTC", help="reporting time zone of a NEW ledger (IANA name)")
    sub.add_argument("--headers", type=Path, metavar="YAML",
                     help="vos3000-export: header mapping (default: vosbench/vos3000/export-headers.yaml)")

    from vosbench.commands.vos3000 import add_sync_targets

    sub = commands.add_parser("sync", help="sync a source system into the ledger (vos3000-db, vos3000-api)")
    add_sync_targets(sub, db)

    add("verify", cmd_verify, "recompute the hash chains and month totals; exit 1 if anything disagrees")
    add("info", cmd_info, "show which ledger is used and its fingerprint")

    sub = add("reconcile", cmd_reconcile, "opening + payments − charges = closing, per account, for a month")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("--account", help="one account number")
    sub.add_argument("--subtree", metavar="ACCOUNT", help="an agent or reseller and everything below it")
    sub.add_argument("--timezone", help="reporting time zone (default: the ledger's)")
    sub.add_argument("--format", choices=("table", "csv", "json"), default="table")
    sub.add_argument("--differences-only", action="store_true")

    sub = add("query", cmd_query, "find payment records: the filter panel's filters as options")
    sub.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first local day (inclusive)")
    sub.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last local day (inclusive)")
    sub.add_argument("--account", action="append", default=[], help="account number (repeatable)")
    sub.add_argument("--sub-accounts", action="store_true", help="also every account below the given ones")
    sub.add_argument("--kind", action="append", default=[], help="transaction kind (repeatable)")
    sub.add_argument("--min-amount", metavar="DECIMAL", help="smallest |amount|, e.g. 100.00")
    sub.add_argument("--max-amount", metavar="DECIMAL", help="largest |amount|")
    sub.add_argument("--operator", action="append", default=[], help="operator (repeatable)")
    sub.add_argument("--channel", action="append", default=[], help="channel (repeatable)")
    sub.add_argument("--method", action="append", default=[], help="method (repeatable)")
    sub.add_argument("--text", default="", help="reference or memo contains (any case)")
    sub.add_argument("--timezone", default="", help="time zone the days are cut in (default: the ledger's)")
    sub.add_argument("--page", type=int, default=1)
    sub.add_argument("--page-size", type=int, default=50)
    sub.add_argument("--sort", default="occurred_at", help="column to sort by (ties: id)")
    order = sub.add_mutually_exclusive_group()
    order.add_argument("--desc", dest="descending", action="store_true", default=True, help="newest/largest first (default)")
    order.add_argument("--asc", dest="descending", action="store_false")
    sub.add_argument("--format", choices=("table", "csv", "xlsx", "json"), default="table")
    sub.add_argument("--out", type=Path, metavar="FILE", help="write every record (csv or xlsx) with the filter used")

    sub = add("audit", cmd_audit, "run the monthly audit notebook into a report folder")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("-f", "--parameters-file", type=Path, metavar="YAML")
    sub.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    sub.add_argument("--out", type=Path, metavar="DIR", help="report root (default: ./reports)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")

    from vosbench.commands import controls as controls_commands  # controls, approvals, findings (issue 5)

    controls_commands.add_parsers(add)
    sub = add("record", controls_commands.cmd_record, "record one payment (manual entry rules and approval "
                                                      "thresholds apply)")
    sub.add_argument("--account", required=True)
    sub.add_argument("--kind", required=True)
    sub.add_argument("--amount", required=True, help="decimal text, + raises the balance")
    sub.add_argument("--operator", required=True)
    sub.add_argument("--channel", default="admin")
    sub.add_argument("--method", default="other")
    sub.add_argument("--reference", default="")
    sub.add_argument("--memo", default="")
    sub.add_argument("--reason", default="")
    sub.add_argument("--at", help="ISO-8601 time with offset (default: now)")
    sub.add_argument("--controls", metavar="YAML", help="approval thresholds (default: parameters/controls.yaml)")

    sub = add("reverse", cmd_reverse, "record the offsetting reversal of a payment")
    sub.add_argument("payment_id", type=int)
    sub.add_argument("--reason", required=True)
    sub.add_argument("--operator", required=True)

    from vosbench.commands import statements as statements_cli  # statements, match, decide, find-payment

    statements_cli.add_commands(add)
    __import__("vosbench.commands.server", fromlist=["register"]).register(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    from vosbench.ledger import database, manual_entry, write_door

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return EXIT_OK
    except (ValueError, database.StoreError, write_door.ImportRejected, manual_entry.LedgerError, money.MoneyError) as error:
        print(f"vosbench {args.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
