"""Commands of the controls and of maker-checker: controls, record, reverse, approvals, thresholds, findings."""

from __future__ import annotations

from vosbench.commands import options
from vosbench.commands.options import EXIT_FINDINGS, EXIT_OK
from vosbench.controls.findings import SEVERITIES, STATUSES

TABLE_COLUMNS = ("finding_id", "check", "severity", "accounts", "payment_ids", "status", "explanation")
"""What fits a terminal; csv/json carry every column."""
EXPLANATION_WIDTH = 110


def _engine(args):
    return options.open_ledger(args).engine


def cmd_controls(args) -> int:
    from vosbench.controls import runner
    from vosbench.ledger import policy as control_settings
    from vosbench.outputs import views

    result = runner.run(_engine(args), args.month, control_settings.load(args.controls), args.check or None)
    frame = result.frame()
    if args.format == "table":
        print(f"controls for {result.month}: {len(frame)} finding(s)")
        views.print_frame(result.counts(), ())
        for name, why in result.not_run.items():
            print(f"not run: {name} ({why})")
        print()
        shown = frame[list(TABLE_COLUMNS)].copy()
        shown["explanation"] = [text if len(text) <= EXPLANATION_WIDTH else text[:EXPLANATION_WIDTH - 1] + "…"
                                for text in shown["explanation"]]
        views.print_frame(shown, ())
    else:
        views.print_frame(frame, ("amount",), args.format)
    if args.fail_on:
        worst = SEVERITIES[: SEVERITIES.index(args.fail_on) + 1]
        failing = (frame["severity"].isin(worst)) & (frame["status"] != "explained")
        return EXIT_FINDINGS if failing.any() else EXIT_OK
    return EXIT_OK


def cmd_record(args) -> int:
    from vosbench.ledger import approvals
    from vosbench.ledger import policy as control_settings

    done = approvals.submit(
        _engine(args), control_settings.for_entries(args.controls), account=args.account, kind=args.kind,
        amount=args.amount, occurred_at=args.at, operator=args.operator, channel=args.channel,
        method=args.method, reference=args.reference, memo=args.memo, reason=args.reason)
    return _report(done, f"recorded payment {done.id}")


def cmd_reverse(args) -> int:
    from vosbench.ledger import approvals
    from vosbench.ledger import policy as control_settings

    done = approvals.submit_reversal(_engine(args), control_settings.for_entries(args.controls), args.payment_id,
                                     reason=args.reason, operator=args.operator)
    return _report(done, f"recorded reversal {done.id} of payment {args.payment_id}")


def _report(done, recorded: str) -> int:
    """Print what became of a manual entry: posted at once, or waiting for a supervisor, and why."""
    if done.status == "recorded":
        print(recorded)
    else:
        print(f"pending approval: request {done.id} ({done.why}); a supervisor approves it with "
              f"`vosbench approvals approve {done.id} --operator NAME`")
    return EXIT_OK


def cmd_approvals(args) -> int:
    from vosbench.ledger import approvals
    from vosbench.outputs import views

    engine = _engine(args)
    if args.action == "list":
        frame = approvals.requests(engine, pending_only=not args.all)
        views.print_frame(frame, ("amount", "threshold"), args.format)
    elif args.action == "approve":
        payment_id = approvals.approve(engine, args.request_id, checker=args.operator)
        print(f"approved request {args.request_id}: recorded payment {payment_id}")
    else:
        approvals.reject(engine, args.request_id, checker=args.operator, reason=args.reason)
        print(f"rejected request {args.request_id}")
    return EXIT_OK


def cmd_thresholds(args) -> int:
    from vosbench.core import money
    from vosbench.ledger import thresholds
    from vosbench.outputs import views

    engine = _engine(args)
    if args.action == "list":
        frame = thresholds.shown_history(engine)
        if not args.all:  # the newest setting of each pair: what is in force
            frame = frame.drop_duplicates(["currency", "kind"], keep="last").sort_values(["currency", "kind"])
        views.print_frame(frame, ("previous", "amount"), args.format)
        return EXIT_OK
    change = thresholds.set_threshold(engine, currency=args.currency, kind=args.kind, amount=args.amount,
                                      operator=args.operator, reason=args.reason)
    before = "none" if change.previous is None else money.format_money(change.previous)
    print(f"{change.currency} {change.kind} approval threshold: {before} → {money.format_money(change.amount)} "
          f"(set by {change.set_by})")
    return EXIT_OK


def cmd_findings(args) -> int:
    from vosbench.controls import annotations as finding_notes  # "annotations" alone reads as the __future__ feature
    from vosbench.outputs import views

    engine = _engine(args)
    if args.action == "annotate":
        finding_notes.annotate(engine, args.finding_id, month=args.month, status=args.status, note=args.note,
                               author=args.by, controls=args.controls)
        print(f"annotated {args.finding_id}: {args.status}")
    else:
        views.print_frame(finding_notes.history(engine, args.finding_id), (), args.format)
    return EXIT_OK


def _entry_controls_option(sub) -> None:
    """``--controls`` of a write: stricter approval thresholds only (the ledger's policy is never loosened)."""
    sub.add_argument("--controls", metavar="YAML", help="stricter approval thresholds: each may only lower "
                                                        "the ledger's (`vosbench thresholds list`)")


def register(add) -> None:
    sub = add("controls", cmd_controls, "run the audit controls on a month: findings with stable ids")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("--check", action="append", default=[], help="run only this check (repeatable)")
    options.add_format(sub)
    sub.add_argument("--controls", metavar="YAML", help="controls settings (default: parameters/controls.yaml)")
    sub.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 when a finding this severe or worse is not "
                                                           "marked explained")

    sub = add("approvals", cmd_approvals, "maker-checker: list, approve or reject pending entries")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    _listing(actions, "pending requests (--all: with decided ones)")
    approving = actions.add_parser("approve", parents=[options.shared_options()],
                                   help="post a request to the ledger (not by its maker)")
    approving.add_argument("request_id", type=options.record_id)
    approving.add_argument("--operator", required=True, help="who approves")
    rejecting = actions.add_parser("reject", parents=[options.shared_options()], help="refuse a request, with a reason")
    rejecting.add_argument("request_id", type=options.record_id)
    rejecting.add_argument("--operator", required=True, help="who rejects")
    rejecting.add_argument("--reason", required=True)

    sub = add("thresholds", cmd_thresholds, "the ledger's approval thresholds: list them, or set one (a supervisor)")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    _listing(actions, "the thresholds in force (--all: every setting, who set it, when and why)")
    setting = actions.add_parser("set", parents=[options.shared_options()],
                                 help="set the threshold of a currency's kind of entry (kept with who, when, why)")
    setting.add_argument("--currency", required=True, help="3 capital letters, e.g. USD")
    setting.add_argument("--kind", required=True, help="deposit, withdrawal, adjustment, bonus, commission, auto_recharge")
    setting.add_argument("--amount", required=True, help="decimal text above zero, e.g. 5000.00")
    setting.add_argument("--reason", default="", help="why (required when raising a threshold)")
    setting.add_argument("--operator", metavar="LOGIN", help="who sets it: a registered supervisor "
                                                            "(on a server ledger: your login, the default)")

    sub = add("findings", cmd_findings, "annotate a finding (open / explained / escalated) or show its notes")
    actions = sub.add_subparsers(dest="action", required=True, metavar="ACTION")
    noting = actions.add_parser("annotate", parents=[options.shared_options()],
                                help="append a status and note to a finding the month's controls find")
    noting.add_argument("finding_id")
    noting.add_argument("--month", required=True, metavar="YYYY-MM", help="the month whose findings it is one of")
    noting.add_argument("--controls", metavar="YAML", help="the controls settings it was found with "
                                                          "(default: parameters/controls.yaml)")
    noting.add_argument("--status", required=True, choices=STATUSES)
    noting.add_argument("--note", default="")
    noting.add_argument("--by", metavar="LOGIN", help="who annotates: a registered auditor or supervisor "
                                                      "(on a server ledger: your login, the default)")
    showing = actions.add_parser("history", parents=[options.shared_options()], help="every annotation of a finding")
    showing.add_argument("finding_id")
    options.add_format(showing)

    sub = add("record", cmd_record, "record one payment (manual entry rules and approval thresholds apply)")
    sub.add_argument("--account", required=True, type=options.account_number)
    sub.add_argument("--kind", required=True)
    sub.add_argument("--amount", required=True, help="decimal text, + raises the balance")
    sub.add_argument("--operator", required=True)
    sub.add_argument("--channel", default="admin")
    sub.add_argument("--method", default="other")
    sub.add_argument("--reference", default="")
    sub.add_argument("--memo", default="")
    sub.add_argument("--reason", default="")
    sub.add_argument("--at", type=options.instant, help="ISO-8601 time with offset (default: now)")
    _entry_controls_option(sub)

    sub = add("reverse", cmd_reverse, "record the offsetting reversal of a payment (approval thresholds apply)")
    sub.add_argument("payment_id", type=options.record_id)
    sub.add_argument("--reason", required=True)
    sub.add_argument("--operator", required=True)
    _entry_controls_option(sub)


def _listing(actions, help_text: str) -> None:
    """A ``list`` action with ``--all`` and the output formats."""
    listing = actions.add_parser("list", parents=[options.shared_options()], help=help_text)
    listing.add_argument("--all", action="store_true")
    options.add_format(listing)
