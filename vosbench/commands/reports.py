"""Commands that answer questions and write reports: reconcile, query, audit, notebooks."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import EXIT_FINDINGS, EXIT_NO_DATA, EXIT_OK, UsageError

RECONCILE_TABLE_COLUMNS = ("account", "name", "currency", "opening", "payments", "charges", "expected_closing",
                           "recorded_closing", "difference", "classification")
"""What a terminal fits of the balance identity; csv/json carry every column."""


def cmd_reconcile(args) -> int:
    import numpy as np

    from vosbench.analysis import reconcile
    from vosbench.core import timeshow
    from vosbench.outputs import views

    result = reconcile.reconcile(options.open_ledger(args).engine, args.month, timezone=args.timezone,
                                 account=args.account, subtree=args.subtree)
    rows = result.rows.differences() if args.differences_only else result.rows
    columns = dict(rows.columns)
    if args.format == "table":
        columns = {name: columns[name] for name in RECONCILE_TABLE_COLUMNS}
    else:  # when the balance was reported, in the month's zone with its offset, as every time vosbench shows
        columns["snapshot_as_of"] = np.array(timeshow.shown_texts(
            columns["snapshot_as_of"].astype("datetime64[us]").tolist(), result.period.timezone), dtype=object)
    # totals of the rows listed, per currency
    views.print_columns(columns, reconcile.MONEY_COLUMNS, args.format, missing=rows.missing(), totals=rows.totals())
    return EXIT_OK


def cmd_query(args) -> int:
    from vosbench.analysis import explore
    from vosbench.analysis.filters import PaymentFilter
    from vosbench.core import timeshow
    from vosbench.outputs import views

    if args.sub_accounts and not args.account:
        raise UsageError("--sub-accounts widens --account A to A's subtree: add --account A, or leave it out")
    if args.format == "xlsx" and not args.out:
        raise UsageError("--format xlsx writes a file: add --out FILE.xlsx")
    if args.out and args.format not in ("csv", "xlsx"):
        raise UsageError(f"--out writes csv or xlsx: add --format csv or --format xlsx (not {args.format})")
    if args.out and Path(args.out).suffix.lower() in (".csv", ".xlsx") and Path(args.out).suffix.lower() != f".{args.format}":
        raise UsageError(f"--out {args.out} ends in {Path(args.out).suffix.lower()} but --format is {args.format}: "
                         f"name it {Path(args.out).with_suffix('.' + args.format).name} or give --format "
                         f"{Path(args.out).suffix.lower()[1:]}")
    f = PaymentFilter.from_parameters({
        "start": args.start, "end": args.end, "timezone": args.timezone, "accounts": args.account,
        "include_sub_accounts": args.sub_accounts, "kinds": args.kind, "min_amount": args.min_amount,
        "max_amount": args.max_amount, "operators": args.operator, "channels": args.channel,
        "methods": args.method, "currencies": args.currency, "text": args.text})
    if args.archive:
        return _query_archive(args, f)
    engine = options.open_ledger(args).engine
    with engine.connect() as connection:
        f.check(connection)
    if args.out:  # every record, into a spreadsheet or CSV file: made from frames
        from vosbench.outputs import query_export

        path = query_export.export_result(engine, f, args.out, sort=args.sort, descending=args.descending)
        print(f"wrote every record of the filter to {path}")
        return EXIT_OK
    # a page for the terminal: printed from its rows as columns, without pandas or numpy
    page = explore.page_records(engine, f, page=args.page, page_size=args.page_size, sort=args.sort,
                                descending=args.descending, scanned=False)
    rows = views.rows_as_columns(explore.ROW_COLUMNS, page.rows)
    rows["occurred_at"] = timeshow.shown_texts(rows["occurred_at"], page.timezone)  # every time with its offset
    totals = views.rows_as_columns(explore.TOTALS_COLUMNS, page.totals)
    if args.format == "json":
        json.dump({"filter": f.to_parameters(), "timezone": page.timezone, "total_count": page.total_count,
                   "page": page.page, "pages": page.pages, "page_size": page.page_size,
                   "totals_by_kind": views.column_records(totals, ["amount"]),
                   "rows": views.column_records(rows, explore.MONEY_COLUMNS)},
                  sys.stdout, indent=2)
        print()
    elif args.format == "csv":
        views.print_columns(rows, explore.MONEY_COLUMNS, "csv")
    elif page.total_count == 0:
        print(f"no payment records match this filter (times in {page.timezone}): widen the dates or drop a filter")
    else:
        first = (page.page - 1) * page.page_size
        print(f"{page.total_count:,} payment record{'' if page.total_count == 1 else 's'}; page {page.page} of {page.pages} "
              f"(rows {min(first + 1, page.total_count):,}–{first + len(page.rows):,}), sorted by {page.sort} "
              f"{'descending' if page.descending else 'ascending'}; times in {page.timezone}")
        views.print_columns(rows, explore.MONEY_COLUMNS)
        print()
        views.print_columns(totals, ["amount"], totals=explore.totals_per_currency(page.totals))
    return EXIT_OK


def _query_archive(args, f) -> int:
    """The query's filter over a retention archive's records (no ledger needed)."""
    from vosbench.analysis import archive_query, explore
    from vosbench.outputs import query_export, views

    if args.out:
        raise UsageError("--archive prints the records it finds (--format table, csv or json); --out is for the ledger")
    rows, zone = archive_query.query(args.archive, f)
    rows = query_export.shown_times(rows, zone)
    if args.format == "json":
        json.dump({"archive": str(args.archive), "filter": f.to_parameters(), "timezone": zone,
                   "total_count": len(rows), "rows": views.records(views.displayable(rows, explore.MONEY_COLUMNS))},
                  sys.stdout, default=str, indent=2)
        print()
    elif args.format == "csv":
        views.print_frame(rows, explore.MONEY_COLUMNS, "csv")
    else:
        print(f"{len(rows):,} archived payment records in {args.archive}; times in {zone}")
        views.print_frame(rows, explore.MONEY_COLUMNS, cut=True)
    return EXIT_OK


def cmd_audit(args) -> int:
    from vosbench.outputs import report

    overrides = dict(options.key_value(item) for item in args.param)
    outputs = report.run_audit(args.month, parameters_file=args.parameters_file, overrides=overrides,
                               out_dir=args.out, db_url=options.db_url(args), progress=not args.quiet,
                               view=args.view or "")
    scope = f" (scoped by view {args.view})" if args.view else ""
    print(f"audit report for {outputs.month}{scope} written to {outputs.folder}")
    for path in [outputs.html, outputs.xlsx, outputs.notebook, *outputs.pngs]:
        print(f"  {path}")
    if outputs.failed_checks:
        count = len(outputs.failed_checks)
        print(f"the ledger FAILED verification ({count} check{'' if count == 1 else 's'}): "
              f"{'; '.join(outputs.failed_checks)[:600]}; run `vosbench verify` to see every record named",
              file=sys.stderr)
        return EXIT_FINDINGS
    if outputs.empty:
        print(f"{outputs.month} holds no payment records and no charges in this ledger: the report is empty",
              file=sys.stderr)
        return EXIT_NO_DATA
    return EXIT_OK


def cmd_notebooks(args) -> int:
    """Copy the shipped notebooks and their default parameters into a folder of the user's."""
    from vosbench.core import resources

    target = Path(args.folder).expanduser()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} is a file; give a folder to copy the notebooks into")
    copied = []
    for name in ("notebooks", "parameters"):
        source = resources.folder(name)
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in (".ipynb", ".yaml") and ".ipynb_checkpoints" not in path.parts:
                destination = target / (path.relative_to(source) if name == "notebooks"
                                        else Path("parameters") / path.relative_to(source))
                if destination.exists() and not args.force:
                    raise UsageError(f"{destination} exists; add --force to overwrite it, or pick another folder")
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, destination)
                copied.append(destination)
    print(f"copied {len(copied)} files into {target}; open them with `jupyter lab {target}`")
    return EXIT_OK


def register(add) -> None:
    sub = add("reconcile", cmd_reconcile, "opening + payments − charges = closing, per account, for a month")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("--account", type=options.account_number, help="one account number")
    sub.add_argument("--subtree", type=options.account_number, metavar="ACCOUNT",
                     help="an agent or reseller and everything below it")
    sub.add_argument("--timezone", help="reporting time zone (default: the ledger's)")
    options.add_format(sub)
    sub.add_argument("--differences-only", action="store_true")

    sub = add("query", cmd_query, "find payment records: the filter panel's filters as options")
    sub.add_argument("--from", dest="start", type=options.day, metavar="YYYY-MM-DD", help="first local day (inclusive)")
    sub.add_argument("--to", dest="end", type=options.day, metavar="YYYY-MM-DD", help="last local day (inclusive)")
    sub.add_argument("--account", action="append", default=[], type=options.account_number,
                     help="account number (repeatable)")
    sub.add_argument("--sub-accounts", action="store_true", help="also every account below the given ones")
    sub.add_argument("--kind", action="append", default=[], type=options.filter_word, help="transaction kind (repeatable)")
    sub.add_argument("--min-amount", type=options.amount_bound, metavar="DECIMAL", help="smallest |amount|, e.g. 100.00")
    sub.add_argument("--max-amount", type=options.amount_bound, metavar="DECIMAL", help="largest |amount|")
    sub.add_argument("--operator", action="append", default=[], type=options.filter_word, help="operator (repeatable)")
    sub.add_argument("--channel", action="append", default=[], type=options.filter_word, help="channel (repeatable)")
    sub.add_argument("--method", action="append", default=[], type=options.filter_word, help="method (repeatable)")
    sub.add_argument("--currency", action="append", default=[], type=options.filter_word, metavar="CODE",
                     help="records of the accounts held in this currency (repeatable)")
    sub.add_argument("--text", default="", help="reference or memo contains (any case)")
    sub.add_argument("--timezone", default="", help="time zone the days are cut in (default: the ledger's)")
    sub.add_argument("--page", type=int, default=1)
    sub.add_argument("--page-size", type=int, default=50)
    sub.add_argument("--sort", default="occurred_at", help="column to sort by (ties: id)")
    order = sub.add_mutually_exclusive_group()
    order.add_argument("--desc", dest="descending", action="store_true", default=True,
                       help="newest/largest first (default)")
    order.add_argument("--asc", dest="descending", action="store_false")
    options.add_format(sub, "table", "csv", "xlsx", "json")
    sub.add_argument("--out", type=options.out_file, metavar="FILE", help="write every record (csv or xlsx) with the filter used")
    sub.add_argument("--archive", type=Path, metavar="DIR", help="read the records of a retention archive "
                                                                "(`vosbench archive`) instead of the ledger")

    sub = add("audit", cmd_audit, "run the monthly audit notebook into a report folder")
    sub.add_argument("--month", metavar="YYYY-MM", help="the month audited (may be left out with a one-month --view)")
    sub.add_argument("--view", metavar="NAME|FILE", help="a saved view (its name, or a YAML file) scoping the "
                                                         "report's record sections")
    sub.add_argument("-f", "--parameters-file", type=Path, metavar="YAML")
    sub.add_argument("-p", "--param", action="append", default=[], metavar="KEY=VALUE")
    sub.add_argument("--out", type=options.out_folder, metavar="DIR", help="report root (default: ./reports)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")

    sub = add("notebooks", cmd_notebooks, "copy the notebooks and their default parameters into a folder")
    sub.add_argument("folder", metavar="DIR")
    sub.add_argument("--force", action="store_true", help="overwrite files already there")
