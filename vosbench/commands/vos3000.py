r"""The ``vosbench sync vos3000-db|vos3000-api`` and ``vosbench import vos3000-export`` commands.

A thin layer: parse options, open the ledger, call the sync, print its summary. Errors a
user can fix (a bad URL, an unreachable server, a bad mapping file, an API refusal) are
:class:`~vosbench.core.errors.VosbenchError`\ s: one message, exit 2.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import EXIT_OK, UsageError


def register(add) -> None:
    """``vosbench sync vos3000-db|vos3000-api`` (``import vos3000-export`` is a form of ``import``)."""
    sync = add("sync", None, "sync a source system into the ledger (vos3000-db, vos3000-api)")
    targets = sync.add_subparsers(dest="target", required=True, metavar="TARGET")
    common = argparse.ArgumentParser(add_help=False, parents=[options.shared_options()])
    common.add_argument("--mapping", type=Path, metavar="YAML",
                        help="code mapping (default: vosbench/sources/vos3000/mapping.yaml)")
    common.add_argument("--timezone", default="UTC",
                        help="reporting time zone of a NEW ledger; use the VOS3000 server's zone")
    common.add_argument("--quiet", action="store_true", help="no progress bar")
    common.add_argument("--flags", action="store_true", help="after syncing, print every flag kept for the source")

    db = targets.add_parser("vos3000-db", parents=[common], help="read a VOS3000 MySQL database",
                            description="Sync accounts, payment records, daily charges and balances from a "
                                        "VOS3000 MySQL database (read only).")
    db.add_argument("--source", required=True, metavar="URL", dest="source_url",
                    help="mysql+pymysql://user:password@host:3306/vos3000")
    db.add_argument("--source-name", default="vos3000", help="name the records are keyed under (default vos3000)")
    db.add_argument("--chunk-size", type=_rows, help="e_payhistory rows per committed batch (default 100000)")
    db.set_defaults(handler=cmd_sync_db)

    api = targets.add_parser("vos3000-api", parents=[common], help="read the VOS3000 Web API",
                             description="Sync accounts, payment records, daily charges and balances through "
                                         "the VOS3000 Web API; optionally record a deposit with Pay.")
    api.add_argument("--url", required=True, help="https://host:port of the VOS3000 Web API")
    api.add_argument("--from", dest="start", metavar="YYYY-MM-DD",
                     help="first day (default: where the last sync ended)")
    api.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day (default: yesterday)")
    api.add_argument("--source-name", default="vos3000-api")
    api.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
    api.add_argument("--retries", type=int, default=3, help="retries of a failed call, with backoff")
    api.add_argument("--rate", type=float, default=5.0, help="at most this many calls per second")
    api.add_argument("--window-days", type=int, default=7, help="longest interval asked in one call")
    api.add_argument("--pay", metavar="ACCOUNT", help="record a deposit to ACCOUNT with the Pay call")
    api.add_argument("--amount", help="with --pay: the deposit, decimal text such as 50.00")
    api.add_argument("--memo", default="", help="with --pay: memo sent to VOS3000")
    api.add_argument("--operator", default="", help="with --pay: who records it (kept in the ledger)")
    api.add_argument("--confirm", action="store_true", help="with --pay: really move the money on the switch")
    api.set_defaults(handler=cmd_sync_api)


def _ledger(args):
    return options.open_ledger(args, create=True, timezone=args.timezone).engine


def _show(report, ledger, args) -> int:
    """Print a sync's summary, and with ``--flags`` every flag kept for the source."""
    from vosbench.sources.vos3000 import state

    print("\n".join(report.lines()))
    if args.flags:
        for flag in state.flags(ledger, args.source_name):
            print(f"{flag.stream} {flag.source_key}: {flag.code}: {flag.detail}")
    return EXIT_OK


def _rows(text: str) -> int:
    """A positive number of rows, for argparse (which names the option in its error)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of rows; give one like 100000")
    return int(text)


def cmd_sync_db(args) -> int:
    from vosbench.sources.vos3000 import dbsync, mapping

    config = mapping.load(args.mapping)
    ledger = _ledger(args)
    report = dbsync.sync_database(ledger, args.source_url, mapping=config, source_name=args.source_name,
                                  chunk_size=dbsync.CHUNK_SIZE if args.chunk_size is None else args.chunk_size,
                                  progress=not args.quiet)
    return _show(report, ledger, args)


def cmd_sync_api(args) -> int:
    from vosbench.sources.vos3000 import api, apisync, mapping

    config = mapping.load(args.mapping)
    ledger = _ledger(args)
    client = api.Client(args.url, timeout=args.timeout, retries=args.retries, rate=args.rate,
                        window_days=args.window_days)
    if args.pay:
        if not args.confirm:
            raise UsageError("--pay moves real money on the switch: add --confirm to record this deposit")
        if not args.amount or not args.operator:
            raise UsageError("--pay needs --amount (e.g. 50.00) and --operator (who records it)")
        deposit = apisync.pay_deposit(ledger, client, args.pay, args.amount, operator=args.operator,
                                      memo=args.memo, source_name=args.source_name, confirm=True)
        if deposit.warning:
            print(f"warning: {deposit.warning}")
        print(f"deposit recorded on VOS3000 and in the ledger as payment {deposit.payment_id}")
        return EXIT_OK
    report = apisync.sync_api(ledger, client, mapping=config, source_name=args.source_name,
                              start=args.start, end=args.end, progress=not args.quiet)
    return _show(report, ledger, args)


def import_exports(args, files: list[str]) -> int:
    """``vosbench import vos3000-export FILE...``: payment-record exports (.xls, .xlsx, .csv)."""
    from vosbench.sources.vos3000 import client_exports, state

    if not files:
        raise UsageError("vos3000-export needs the exported file(s): vosbench import vos3000-export FILE")
    ledger = _ledger(args)
    source_name = "vos3000-export" if args.source == "csv" else args.source
    headers = client_exports.load_headers(args.headers)
    for path in files:
        result = client_exports.import_export(ledger, Path(path), headers=headers, source_name=source_name)
        flagged = Counter(flag.code for flag in state.flags(ledger, source_name)
                          if flag.source_key.startswith(f"{Path(path).name}:"))
        said = [words.format(count=flagged[code]) for code, words in _EXPORT_FLAGS.items() if flagged[code]]
        print(f"{path}: {result.added} added, {result.skipped} already present" + "".join(f"; {s}" for s in said))
    return EXIT_OK


_EXPORT_FLAGS = {
    "inexact_money": "{count} amount(s) with more than 4 decimal places rounded half-to-even, flagged inexact_money "
                     "with the value read",
    "zero_amount": "{count} row(s) that moved no money left out (not payments), flagged zero_amount",
    "ambiguous_time": "{count} time(s) in the hour the clocks went back that nothing placed, read as the first of "
                      "the two, flagged ambiguous_time",
}
"""What the import line says of each flag an export's rows raised: nothing vanishes without a word."""
