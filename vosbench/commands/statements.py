"""The statement commands: import and list statements, match a month, decide, find a payment."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import EXIT_BAD_INPUT, EXIT_OK
from vosbench.core.errors import VosbenchError


def _engine(args, *, create: bool = False):
    return options.open_ledger(args, create=create).engine


def cmd_statements(args) -> int:
    if args.action == "import":  # before pandas is loaded: an import needs none of it (-80 MiB, -0.7 s)
        return _import_files(_engine(args), args.files, profile=args.profile, channel=args.channel)
    import pandas as pd

    from vosbench.core import timeshow
    from vosbench.outputs import views
    from vosbench.sources.bankfiles import importing

    ledger = options.open_ledger(args)
    frame = pd.DataFrame(importing.imported(ledger.engine))
    if frame.empty:
        print("no statements imported yet; import one with `vosbench statements import FILE`")
        return EXIT_OK
    frame["imported_at"] = timeshow.shown_column(frame["imported_at"], ledger.timezone)  # stored UTC, shown with offset
    views.print_frame(frame, ["net"], args.format)
    return EXIT_OK


def _import_files(engine, files: list[str], *, profile: str | None, channel: str | None) -> int:
    """Import each file on its own: one refused file is reported and the next ones are still tried.

    Each file gets one line (imported, unchanged, or refused with the reason), its
    warnings and rejected rows beneath it, and a summary closes; the exit status is 2
    when any file was refused.
    """
    import sqlalchemy as sa

    from vosbench.sources.bankfiles import importing

    outcomes = {"imported": 0, "unchanged": 0, "refused": 0}
    warned = 0
    for file in files:
        name = Path(file).name
        try:
            result = importing.import_file(engine, Path(file), profile=profile, channel=channel)
        except (VosbenchError, ValueError) as error:  # StatementFileError, ImportRejected, ProfileError, MoneyError
            outcomes["refused"] += 1
            first, *rest = str(error).splitlines() or [""]
            for prefix in (f"{file}: ", f"{name}: "):
                first = first[len(prefix):] if first.startswith(prefix) else first
            print(f"{name}: refused: {first}", file=sys.stderr)
            for row in rest:
                print(row, file=sys.stderr)
            continue
        except OSError as error:
            outcomes["refused"] += 1
            print(f"{name}: refused: cannot be read ({error.strerror or error})", file=sys.stderr)
            continue
        except sa.exc.DBAPIError as error:  # nothing of the file was written (one transaction); the next is tried
            outcomes["refused"] += 1
            print(f"{name}: refused: the ledger's database refused it "
                  f"({' '.join(str(error.orig).split())[:200]}); nothing of it was written", file=sys.stderr)
            continue
        outcomes[result.outcome] += 1
        print(f"{result.file}: {result.format}, {result.channel}, {result.statements} statement(s): "
              f"{result.added} line(s) added, {result.skipped} already present: {result.outcome}")
        for warning in result.warnings:
            print(f"{result.file}: warning: {warning}")
        warned += bool(result.warnings and result.import_id is not None)
    kept = f"; {warned} read with warnings, kept with the import (`vosbench statements list`)" if warned else ""
    print(f"{len(files)} file(s): " + ", ".join(f"{count} {outcome}" for outcome, count in outcomes.items()) + kept)
    return EXIT_BAD_INPUT if outcomes["refused"] else EXIT_OK


def _outgoing_rules(profile: str | None) -> tuple:
    """The outgoing rules of ``profile`` (None: none) as matching applies them; a ValueError names a bad one."""
    if not profile:
        return ()
    from vosbench.sources.bankfiles import outgoing, profiles

    chosen = profiles.load(profile)
    if not chosen.outgoing:
        raise ValueError(f"--outgoing {profile}: the profile has no outgoing rules; give one that has (bank-outgoing)")
    return outgoing.for_matching(chosen.outgoing, f"--outgoing {profile}")


def cmd_match(args) -> int:
    from vosbench.analysis.matching import review
    from vosbench.analysis.matching.matcher import Settings
    from vosbench.outputs import views

    engine = _engine(args)
    run = review.run_month(engine, args.month, timezone=args.timezone,
                           settings=Settings(window_days=args.window_days, outgoing=_outgoing_rules(args.outgoing)))
    unreadable = [f"warning: {row.words()}" for row in run.unreadable]
    if args.propose or args.format == "csv":  # the output stays what it says it is: the warnings go to stderr
        for words in unreadable:
            print(words, file=sys.stderr)
    if args.propose:
        from vosbench.analysis.matching import propose

        proposals = propose.propose(engine, run)
        if proposals.empty and args.format == "table":
            print(f"no incoming statement line without a payment record in {args.month}")
            return EXIT_OK
        views.print_frame(proposals, ["amount"], args.format)
        return EXIT_OK
    items = run.items()
    if args.status:
        items = items[items["status"].isin(args.status)].reset_index(drop=True)
    skipped = [_unapplied_words(decision, clash) for decision, clash in run.unapplied]
    if args.format == "json":
        json.dump({"month": args.month, "channels": run.channels, "window_days": args.window_days,
                   "unapplied_decisions": skipped, "unreadable_decisions": unreadable,
                   "summary": views.records(views.displayable(run.summary(), ["statement_amount", "recorded_amount"])),
                   "items": views.records(views.displayable(items, review.MONEY_COLUMNS))},
                  sys.stdout, default=str, indent=2)
        print()
        return EXIT_OK
    if args.format == "csv":
        views.print_frame(items, review.MONEY_COLUMNS, "csv")
        return EXIT_OK
    if not run.channels:
        print(f"no statement lines posted around {args.month}; import statements with `vosbench statements import`")
        return EXIT_OK
    print(f"statement matching {args.month} ({run.period.timezone}); channels {', '.join(run.channels)}; "
          f"window {args.window_days} day(s)")
    views.print_frame(run.summary().drop(columns=["meaning"]), ["statement_amount", "recorded_amount"])
    for words in skipped + unreadable:
        print(words)
    shown = items if args.status or args.all else items[items["status"] != "matched"]
    if not shown.empty:
        print()
        views.print_frame(shown[["status", "rule", "line_ids", "posted_on", "statement_amount", "counterparty",
                                 "payment_ids", "accounts", "recorded_amount", "explanation"]], review.MONEY_COLUMNS)
    return EXIT_OK


def _unapplied_words(decision, clash) -> str:
    """One line for a decision the matcher skips (taken before such decisions were refused) and how to settle it."""
    def named(d) -> str:
        return f"decision {d.decision_id} ({d.action} of lines {_ids(d.line_ids)} with payment records " \
               f"{_ids(d.payment_ids)}, by {d.decided_by})"

    def undo(d) -> str:
        return f"`vosbench decide reject --lines {_ids(d.line_ids)} --payments {_ids(d.payment_ids)}`"

    return (f"not applied: {named(decision)}, because {named(clash)} holds the same items; withdraw it with "
            f"{undo(decision)}, or undo decision {clash.decision_id} with {undo(clash)} and decide again")


def _ids(ids) -> str:
    return ",".join(map(str, sorted(ids)))


def cmd_decide(args) -> int:
    from vosbench.analysis.matching import decisions

    if args.action == "history":
        from vosbench.core import timeshow
        from vosbench.outputs import views

        ledger = options.open_ledger(args)
        frame = decisions.history(ledger.engine)
        frame["decided_at"] = timeshow.shown_column(frame["decided_at"], ledger.timezone)  # stored UTC, with offset
        views.print_frame(frame, (), empty="no decisions recorded yet")
        return EXIT_OK
    engine = _engine(args)
    decision_id = decisions.record(engine, args.action, line_ids=args.lines or "",
                                   payment_ids=args.payments or "", decided_by=args.by, note=args.note)
    reported = "" if args.action == "reject" else \
        f", reported as {decisions.outcome(engine, args.lines, args.payments)}"
    print(f"decision {decision_id} recorded: {args.action} lines {args.lines} with payments {args.payments}; "
          f"it applies from the next `vosbench match`{reported}")
    return EXIT_OK


def cmd_find_payment(args) -> int:
    from vosbench.analysis.matching import find_payment
    from vosbench.outputs import views

    _check_window(args.date, args.days)
    found = find_payment.find_payment(_engine(args), args.amount, args.date, name=args.name, reference=args.reference,
                              days=args.days, limit=args.limit)
    if found.empty and args.format == "table":
        print("no statement line or payment record near that amount and date; widen --days")
        return EXIT_OK
    views.print_frame(found, find_payment.MONEY_COLUMNS, args.format)
    return EXIT_OK


def _check_window(on, days: int) -> None:
    """Refuse a ``--days`` window around ``--date`` that leaves the days vosbench works with (before any date arithmetic)."""
    from vosbench.core import periods

    if days > min((on - periods.FIRST_DAY).days, (periods.LAST_DAY - on).days):
        raise options.UsageError(f"--days {days} around --date {on}: the window must stay within "
                                 f"{periods.FIRST_DAY} to {periods.LAST_DAY}; give fewer days")


MAX_WINDOW_DAYS = 366
"""The widest ``match --window-days``: a year either way; wider pairs lines with records of another year."""


def _window_days(text: str) -> int:
    """``--window-days``: whole days from 0 to :data:`MAX_WINDOW_DAYS`."""
    days = options.whole_number(text)
    if days is None or days > MAX_WINDOW_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole days from 0 to {MAX_WINDOW_DAYS}, e.g. 3")
    return days


def _status(text: str) -> str:
    """``--status``: one of the matcher's statuses, never a typo that silently hides every item."""
    from vosbench.analysis.matching.matcher import STATUSES

    if text.strip() not in STATUSES:
        raise argparse.ArgumentTypeError(f"{text!r} is no status; give one of {', '.join(STATUSES)}")
    return text.strip()


def register(add) -> None:
    sub = add("statements", cmd_statements, "import bank/gateway/IVR/crypto statements, or list those imported")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    importing = actions.add_parser("import", parents=[options.shared_options()],
                                   help="import statement files (all-or-nothing per file)")
    importing.add_argument("files", nargs="+", metavar="FILE",
                           help="OFX/QFX, CAMT (052/053/054) XML, MT940/MT942, or CSV/XLSX with --profile")
    importing.add_argument("--profile", help="mapping profile for CSV/XLSX: a shipped name (gateway, stripe-balance, "
                                             "paypal-activity, ivr-log, crypto, generic-bank-csv) or a YAML path; for "
                                             "OFX/CAMT/MT940: the rules telling money out that is not a customer's "
                                             "(bank-outgoing, or a YAML path)")
    importing.add_argument("--channel", help="bank, gateway, ivr or crypto (default: the format's or profile's)")
    listing = actions.add_parser("list", parents=[options.shared_options()], help="the statement files imported")
    options.add_format(listing)

    sub = add("match", cmd_match, "match a month's statement lines with the payment records")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("--timezone", help="reporting time zone (default: the ledger's)")
    sub.add_argument("--window-days", type=_window_days, default=3, help="how far apart a line and a record may be "
                                                                          f"dated: 0 to {MAX_WINDOW_DAYS} days")
    sub.add_argument("--status", action="append", default=[], type=_status,
                     help="only items of this status (repeatable): matched, amount_difference, wrong_account, "
                          "no_payment_record, no_money or outgoing")
    sub.add_argument("--outgoing", metavar="PROFILE",
                     help="apply this profile's outgoing rules (bank-outgoing, or a YAML path) to money out imported "
                          "without them: fees and own transfers are set aside, not listed as without a record")
    sub.add_argument("--all", action="store_true", help="table: list matched items too")
    sub.add_argument("--propose", action="store_true",
                     help="for each incoming line without a record: the account suggested and the `vosbench record` "
                          "command that posts the deposit (manual-entry rules and approval apply)")
    options.add_format(sub)

    sub = add("decide", cmd_decide, "record an analyst's decision on a pairing (append-only), or show them all")
    sub.add_argument("action", choices=("confirm", "reject", "match", "history"))
    sub.add_argument("--lines", type=options.id_list, metavar="IDS", help="statement line ids, e.g. 12,13")
    sub.add_argument("--payments", type=options.id_list, metavar="IDS", help="payment record ids, e.g. 345")
    sub.add_argument("--by", metavar="LOGIN", help="who decides: a registered clerk, supervisor or auditor "
                                                  "(on a server ledger: your login, the default)")
    sub.add_argument("--note", default="", help="why")

    sub = add("find-payment", cmd_find_payment, "find the statement lines and records of a payment someone made")
    sub.add_argument("--amount", required=True, help="decimal text, e.g. 250.00")
    sub.add_argument("--date", required=True, type=options.day, metavar="YYYY-MM-DD")
    sub.add_argument("--name", default="", help="payer or account name")
    sub.add_argument("--reference", default="", help="bank reference, charge id, card serial or tx hash")
    sub.add_argument("--days", type=int, default=7, help="days either side of --date")
    sub.add_argument("--limit", type=int, default=20)
    options.add_format(sub)
