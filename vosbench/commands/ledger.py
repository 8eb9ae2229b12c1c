"""Commands that build, fill and describe the ledger: demo, demo-key, import, info."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import EXIT_BAD_INPUT, EXIT_OK


def cmd_demo(args) -> int:
    from vosbench.core import config
    from vosbench.sources import demo

    scale = demo.DemoScale(customers=args.customers, months=args.months, end_month=args.end_month,
                           payments_per_month=args.payments_per_month, seed=args.seed,
                           currencies=tuple(code.strip().upper() for code in args.currencies.split(",") if code.strip()))
    url = config.resolve_db_url(options.db_url(args))
    key = demo.build_demo(url, scale, progress=not args.quiet)
    print(f"demo ledger built at {config.mask_url(url)} with {len(key['anomalies'])} planted anomalies "
          "(answer key stored in the ledger; `vosbench demo-key` prints it)")
    return EXIT_OK


def cmd_demo_key(args) -> int:
    from vosbench.sources import demo

    key = demo.answer_key(options.open_ledger(args).engine)
    if key is None:
        print("this ledger was not built by `vosbench demo`; it has no answer key", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(json.dumps(key, indent=2))
    return EXIT_OK


def cmd_import(args) -> int:
    from vosbench.sources import csv_import

    if args.paths[0] == "vos3000-export":  # `vosbench import vos3000-export FILE...`
        from vosbench.commands.vos3000 import import_exports

        return import_exports(args, args.paths[1:])
    ledger = options.open_ledger(args, create=True, timezone=args.timezone)
    for result in csv_import.import_each(ledger.engine, [Path(p) for p in args.paths], source=args.source,
                                         default_tz=ledger.timezone):
        print(f"{result.file}: {result.added} added, {result.skipped} already present")
    return EXIT_OK


def cmd_info(args) -> int:
    from vosbench.ledger import hashchain

    ledger = options.open_ledger(args)
    print(f"ledger: {ledger.shown_url}{' (embedded default)' if ledger.is_default else ''}")
    print(f"time zone: {ledger.timezone}")
    for name, head in ledger.fingerprint().items():
        print(f"{name}: {hashchain.describe_head(head, short=True)}")
    return EXIT_OK


def register(add) -> None:
    sub = add("demo", cmd_demo, "build the deterministic demo ledger with planted anomalies")
    sub.add_argument("--customers", type=int, default=2000)
    sub.add_argument("--months", type=int, default=24)
    sub.add_argument("--end-month", default="2026-10")
    sub.add_argument("--payments-per-month", type=int, default=None,
                     help="total payment records per month (default: a realistic mix)")
    sub.add_argument("--seed", type=int, default=20261031)
    sub.add_argument("--currencies", default="USD", metavar="CODES",
                     help="the accounts' currencies, e.g. USD,EUR,AED: each reseller's subtree holds one (USD first)")
    sub.add_argument("--quiet", action="store_true", help="no progress bar")
    add("demo-key", cmd_demo_key, "print the demo ledger's answer key (JSON)")

    sub = add("import", cmd_import, "import ledger and back-office CSV files (accounts.csv, payments.csv, …), "
                                    "or `import vos3000-export FILE...`: VOS3000 payment-record exports")
    sub.add_argument("paths", nargs="+", metavar="PATH", help="CSV files or folders holding them")
    sub.add_argument("--source", default="csv", help="name of the system the rows come from (idempotency key)")
    sub.add_argument("--timezone", default="UTC", help="reporting time zone of a NEW ledger (IANA name)")
    sub.add_argument("--headers", type=Path, metavar="YAML",
                     help="vos3000-export: header mapping (default: the shipped export-headers.yaml)")

    add("info", cmd_info, "show which ledger is used and its fingerprint")
