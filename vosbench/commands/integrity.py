"""``vosbench verify``, ``close``, ``reopen`` and ``evidence``: what lets an outside auditor check that the ledger was not changed quietly.

``verify`` opens the ledger read-only (nothing is created, upgraded or repaired on the
way), checks the schema, the guards, every chain and the derived data, and prints each
problem with the table and record it concerns; with ``--anchor`` it also proves the
ledger still holds and extends what a receipt, an audit workbook or an evidence pack
saw. ``close`` records a month's chain heads and closings and writes its receipt (an
anchor to keep elsewhere; ``--through`` does so for every open month up to one, in
order); ``reopen`` needs a reason and a second person; ``evidence`` writes a month's
pack and checks one offline.
Exit 1 when anything is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

from vosbench.commands import options
from vosbench.commands.options import UsageError
from vosbench.core import config


def cmd_verify(args) -> int:
    from vosbench.ledger import anchor, readonly, verification

    if args.since_anchor and not args.anchor:
        raise anchor.AnchorError("--since-anchor verifies from an anchor on: give it with --anchor FILE")
    key = anchor.load_key(args.key_file)
    given = anchor.load(args.anchor) if args.anchor else None
    engine = readonly.open_read_only(config.resolve_db_url(options.db_url(args)))
    try:
        result = verification.verify(engine, anchor=given, key=key, from_anchor=args.since_anchor)
    finally:
        engine.dispose()
    if result.unmade:  # a reseller's or agent's login: every row outside its subtree would read as missing
        raise verification.StoreError(f"nothing verified: {result.unmade}")
    lines = _problem_lines(result)
    if args.format == "json":
        print(json.dumps({"ok": result.ok, "problems": lines, "not_checked": result.not_checked,
                          "notes": result.notes, "fingerprint": result.fingerprint}, indent=2))
    else:
        for name, head in result.fingerprint.items():
            print(f"{name}: {head['rows']} rows, chain head {head['head']}")
        shown = lines if args.all else lines[:50]
        for line in shown:
            print(f"FAILED {line}")
        if len(lines) > len(shown):
            print(f"FAILED … and {len(lines) - len(shown)} more (--all shows them)")
        for note in result.not_checked:
            print(f"NOT CHECKED {note}")
        for note in result.notes:
            print(f"NOTE {note}")
        print("ledger verified: schema and guards in place, every chain intact, derived data agrees "
              "with the records" if result.ok else f"ledger FAILED verification ({len(lines)} problems)")
    return options.EXIT_OK if result.ok else options.EXIT_FINDINGS


def _problem_lines(result) -> list[str]:
    """One line per problem: the check, then the table and record it concerns."""
    lines = [f"[{problem.check}] {problem.message}" for problem in result.problems]
    lines += [f"[hash chain] {broken.message}" for broken in result.breaks]
    lines += [f"[month totals] {mismatch}" for mismatch in result.total_mismatches]
    return lines


def cmd_close(args) -> int:
    from vosbench.ledger import anchor, month_close

    month, through = _close_target(args)
    if args.withdraw:
        return _withdrawn(args, month, "close", through=through)
    key = anchor.load_key(args.key_file)

    def keep(receipt: dict) -> None:
        """Write the receipt before the close commits: one that cannot be written leaves the month open."""
        path = args.receipt or Path(f"close-{receipt['month']}.json")
        try:
            path.write_text(json.dumps(receipt, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as error:
            fix = ("give a receipt file you may write (--receipt FILE) and close again" if through is None else
                   "run `close --through` in a folder you may write in")
            raise UsageError(f"{'--receipt ' if args.receipt else ''}{path}: cannot be written ({error.strerror}); "
                             f"{receipt['month']} was not closed: {fix}") from None

    ledger = options.open_ledger(args)
    try:
        if _requesting(ledger.engine, args, "close"):
            for label in month_close.months_through(ledger.engine, through) if through else [month]:
                _requested(month_close.request(ledger.engine, label, "close", by=args.by, second=args.second))
        elif through is None:
            _said(month_close.confirm(ledger.engine, month, "close", key=key, deliver=keep) if args.confirm else
                  month_close.close(ledger.engine, month, by=args.by, second=args.second, key=key, deliver=keep),
                  args.receipt)
        else:  # each month's receipt is kept before its close commits, and said as it closes
            for event in month_close.close_through(ledger.engine, through, by=args.by, second=args.second, key=key,
                                                   deliver=keep, confirming=args.confirm):
                _said(event, None)
    finally:
        ledger.close()
    return options.EXIT_OK


def _requesting(engine, args, action: str) -> bool:
    """True when this close or reopen is a request a second login confirms (a server, connected as an operator).

    With ``--confirm`` it is the confirmation: the requester and this login are recorded, so neither is named."""
    from vosbench.ledger import month_close

    if args.confirm:
        named = [flag for flag, value in (("--by", args.by), ("--second", args.second)) if value]
        if named:
            raise month_close.CloseError(f"--confirm records the supervisor who requested the {action} and your "
                                         f"login as the second person: leave {' and '.join(named)} out")
        return False
    with engine.connect() as connection:
        return month_close.confirming_login(connection) is not None


def _withdrawn(args, month: str, action: str, *, through: str | None = None) -> int:
    """Withdraw, under the connected login, the request waiting to ``action`` ``month`` (``--withdraw``), and say so."""
    from vosbench.ledger import month_close

    given = [flag for flag, value in (("--through", through), ("--by", args.by), ("--second", args.second),
                                      ("--confirm", args.confirm), ("--receipt", getattr(args, "receipt", None)),
                                      ("--key-file", args.key_file)) if value]
    if given:
        raise month_close.CloseError(f"--withdraw withdraws the {action} of one month (--month) that waits for "
                                     f"confirmation, under your own login, and records nothing else: leave "
                                     f"{' and '.join(given)} out")
    ledger = options.open_ledger(args)
    try:
        withdrawal = month_close.withdraw(ledger.engine, month, action, reason=getattr(args, "reason", None) or "")
    finally:
        ledger.close()
    print(f"withdrew the {action} of {withdrawal.month} waiting for confirmation (recorded as request {withdrawal.id}, "
          f"by {withdrawal.by}); a --confirm now finds nothing to confirm", flush=True)
    return options.EXIT_OK


def _requested(request) -> None:
    """Say that a close or reopen waits for a second login, and how that person confirms it."""
    print(f"requested the {request.action} of {request.month} (request {request.id}) as {request.by}; it is recorded "
          f"when another registered operator confirms it under their own login: "
          f"`vosbench {request.action} --month {request.month} --confirm`", flush=True)


def _close_target(args) -> tuple[str, str | None]:
    """(``--month``, None) or ('', ``--through``): exactly one of them, not blank; --receipt with --month only."""
    from vosbench.ledger.month_close import CloseError

    given = [(flag, value) for flag, value in (("--month", args.month), ("--through", args.through)) if value is not None]
    if len(given) != 1:
        raise CloseError("give --month YYYY-MM (one month) or --through YYYY-MM (every open month up to it), "
                         + ("not both" if given else "one of them"))
    flag, value = given[0]
    if not value.strip():
        raise CloseError(f"{flag} is blank; give the month as YYYY-MM, e.g. {flag} 2026-10")
    if args.through is not None and args.receipt is not None:
        raise CloseError("--receipt names one file, and --through writes a receipt per month (close-YYYY-MM.json in "
                         "the current folder); leave --receipt out, or close one month with --month")
    return (value, None) if flag == "--month" else ("", value)


def _said(event, path: Path | None) -> None:
    """Say that a month closed, where its receipt is (default ``close-YYYY-MM.json`` here) and how it is sealed."""
    receipt = path or Path(f"close-{event.month}.json")
    sealed = ("signed with the Ed25519 key" if "signature" in event.receipt else "sealed with the checkpoint key"
              if "hmac" in event.receipt else "not sealed (no checkpoint key)")
    print(f"closed {event.month} (close record {event.id}); receipt {receipt}, {sealed}: keep it outside the ledger "
          f"and check the ledger against it with `vosbench verify --anchor {receipt}`", flush=True)


def cmd_reopen(args) -> int:
    from vosbench.ledger import anchor, month_close

    if args.withdraw:
        return _withdrawn(args, args.month, "reopen")
    ledger = options.open_ledger(args)
    try:
        key = anchor.load_key(args.key_file)
        if _requesting(ledger.engine, args, "reopen"):
            _requested(month_close.request(ledger.engine, args.month, "reopen", by=args.by, second=args.second,
                                           reason=args.reason or ""))
            return options.EXIT_OK
        if args.confirm:
            if args.reason:
                raise month_close.CloseError("--confirm reopens for the reason given with the request: leave --reason out")
            event = month_close.confirm(ledger.engine, args.month, "reopen", key=key)
        else:
            event = month_close.reopen(ledger.engine, args.month, by=args.by, second=args.second,
                                       reason=args.reason or "", key=key)
    finally:
        ledger.close()
    print(f"reopened {event.month} (record {event.id}): {event.reason}")
    return options.EXIT_OK


def cmd_closes(args) -> int:
    from vosbench.ledger import month_close

    ledger = options.open_ledger(args)
    try:
        with ledger.engine.connect() as connection:
            lines = month_close.summary(connection)
    finally:
        ledger.close()
    for item, value in lines:
        print(f"{item}: {value}")
    if not lines:
        print("no month has been closed")
    return options.EXIT_OK


def cmd_keygen(args) -> int:
    import secrets

    from vosbench.ledger import signing

    if args.hmac:
        if args.hmac.exists():
            raise signing.SigningError(f"{args.hmac} exists already; a key is never overwritten (give another name)")
        args.hmac.touch(mode=0o600)
        args.hmac.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        print(f"HMAC checkpoint key written to {args.hmac} (readable by you only): keep it off the ledger's machine; "
              f"whoever holds it can both seal and check receipts")
        return options.EXIT_OK
    private = args.private or Path("vosbench-signing.pem")
    public = args.public or private.with_name(private.stem + ".pub.pem")
    key = signing.generate(private, public)
    print(f"Ed25519 key {key.key_id}: private key {private} (readable by you only; it signs close receipts, "
          f"evidence anchors and archive manifests with --key-file {private}), public key {public} "
          f"(give it to anyone who checks them: `vosbench verify --key-file {public}`)")
    return options.EXIT_OK


def cmd_account_history(args) -> int:
    from vosbench.core import money
    from vosbench.ledger import account_history

    ledger = options.open_ledger(args)
    try:
        with ledger.engine.connect() as connection:
            versions = account_history.history(connection, args.account)
    finally:
        ledger.close()
    if not versions:
        raise UsageError(f"account {args.account!r} is not in the ledger; give an account number as listed in "
                         "accounts.csv (accounts are matched on number, never on name)")
    for each in versions:
        when = f"{each.changed_at:%Y-%m-%d %H:%M} UTC" if each.changed_at else "when unknown"
        print(f"version {each.version} ({when}, by {each.changed_by or 'unknown'}): name {each.name!r}, "
              f"parent {each.parent or '-'}, credit limit {money.format_money(each.credit_limit)} {each.currency}")
    return options.EXIT_OK


def cmd_archive(args) -> int:
    from datetime import UTC, datetime

    from vosbench.core import periods
    from vosbench.ledger import anchor, archive, database
    from vosbench.outputs import archive_book

    key = anchor.load_key(args.key_file)
    if args.action == "verify":
        if not args.folder:
            raise archive.ArchiveError("archive verify: give the archive folder, e.g. `vosbench archive verify "
                                       "archives/before-2026-01`")
        if not Path(args.folder).is_dir():  # nothing to check: a wrong path, not an archive that failed its checks
            raise archive.ArchiveError(f"archive verify: {args.folder} "
                                       f"{'is a file, not a folder' if Path(args.folder).exists() else 'does not exist'}; "
                                       "give the folder `vosbench archive` wrote, e.g. archives/before-2026-01")
        problems = archive.verify_folder(args.folder, key)
        for problem in problems:
            print(f"FAILED {problem}")
        print(f"archive {args.folder} " + ("checks: every file, count, sum and chain link" if not problems
                                            else f"FAILED ({len(problems)} problems)"))
        return options.EXIT_FINDINGS if problems else options.EXIT_OK
    if (args.before is None) == (args.policy is None):
        raise archive.ArchiveError("archive: give --before YYYY-MM, or --policy [FILE] to follow the retention "
                                   "policy (parameters/retention.yaml)")
    if not (args.by or "").strip():
        raise archive.ArchiveError("archive: say who archives (--by LOGIN)")
    ledger = options.open_ledger(args)
    try:
        root = Path("archives")
        before = args.before
        if args.policy is not None:
            policy = archive.load_policy(Path(args.policy) if args.policy else None)
            with ledger.engine.connect() as connection:
                zone = database.ledger_timezone(connection)
            before, root = policy.before(periods.local_day(datetime.now(UTC).replace(tzinfo=None), zone)), \
                policy.archive_root
        folder = args.out or root / f"before-{before}"
        try:
            manifest = archive.write(ledger.engine, before, folder, by=args.by, key=key)
        except archive.NothingToArchive as nothing:
            if args.policy is None:
                raise
            print(f"nothing to archive: {nothing}")
            return options.EXIT_OK
        archive_book.write(folder)
        archive.add_file(folder, archive_book.BOOK, key)
        counts = ", ".join(f"{held['rows']:,} {name}" for name, held in manifest["tables"].items())
        print(f"archived {', '.join(manifest['months'])} to {folder} ({counts}; "
              f"{archive.folder_size(folder):,} bytes); reading it back …")
        removed = archive.purge(ledger.engine, folder, by=args.by, key=key)
        if args.compact:
            archive.compact(ledger.engine)
    finally:
        ledger.close()
    print(f"archive verified; {removed:,} records purged from the ledger, their months' totals and chain "
          f"links kept. Read them back with `vosbench query --archive {folder}`; check the archive anywhere "
          f"with `vosbench archive verify {folder}`")
    return options.EXIT_OK


def cmd_evidence(args) -> int:
    from vosbench.ledger import anchor
    from vosbench.outputs import evidence

    key = anchor.load_key(args.key_file)
    if args.action == "verify":
        if not args.pack:
            raise evidence.EvidenceError("evidence verify: give the pack, e.g. `vosbench evidence verify pack.zip`")
        check = evidence.verify(args.pack, key=key)
        for problem in check.problems:
            print(f"FAILED {problem}")
        counts = ", ".join(f"{count} {name}" for name, count in check.counts.items())
        sealed = "its anchor sealed and checked with the key" if check.sealed and key else (
            "its anchor sealed (no key given to check it)" if check.sealed else "its anchor not sealed")
        print(f"evidence pack of {check.month} holds {counts}; {sealed}; "
              + ("every file and record checks" if check.ok else f"FAILED ({len(check.problems)} problems)"))
        return options.EXIT_OK if check.ok else options.EXIT_FINDINGS
    if args.action or args.pack:
        raise evidence.EvidenceError("evidence: write a pack with `vosbench evidence --month YYYY-MM`, "
                                     "check one with `vosbench evidence verify PACK`")
    if not args.month:
        raise evidence.EvidenceError("evidence: say which month (--month YYYY-MM)")
    ledger = options.open_ledger(args)
    try:
        out = evidence.write(ledger.engine, args.month, args.out or Path(f"evidence-{args.month}.zip"),
                             report=args.report, key=key)
    finally:
        ledger.close()
    print(f"evidence pack written: {out}; check it anywhere with `vosbench evidence verify {out}`, "
          f"and a ledger against it with `vosbench verify --anchor {out}`")
    return options.EXIT_OK


def _tree(path: Path, key) -> dict:
    """The Merkle tree a close receipt holds (size and root), its seal checked when a key is given."""
    from vosbench.ledger import anchor

    receipt = anchor.load(path)
    document = receipt.document or {}
    tree = document.get("merkle", {}).get("payments")
    if not tree:
        raise anchor.AnchorError(f"{path} holds no Merkle root; give a close receipt (`vosbench close`)")
    trouble = anchor.seal_problem(document, key, receipt.source)
    if trouble:
        raise anchor.AnchorError(trouble)
    return tree


def cmd_proof(args) -> int:
    from vosbench.ledger import anchor, merkle

    key = anchor.load_key(args.key_file)
    tree = _tree(args.anchor, key)
    if args.action == "verify":
        return _verify_proof(args, tree, key)
    if args.consistency:
        return _write_consistency(args, tree, key)
    if args.payment is None:
        raise anchor.AnchorError("proof: say which payment (--payment ID), give an earlier receipt "
                                 "(--consistency OLD), or `proof verify PROOF`")
    ledger = options.open_ledger(args)
    try:
        with ledger.engine.connect() as connection:
            proof = merkle.payment_proof(connection, args.payment, int(tree["size"]))
    finally:
        ledger.close()
    if not proof:
        raise anchor.AnchorError(f"payment {args.payment} is not among the {tree['size']} {args.anchor} covers")
    if proof["root"] != tree["root"]:
        print(f"FAILED the ledger's first {tree['size']} payments no longer lead to the root {args.anchor} holds")
        return options.EXIT_FINDINGS
    trouble = merkle.check_proof(proof, tree["root"])  # a proof vouches for the record: it must hash to its link
    if trouble:
        print(f"FAILED {trouble}; no proof written, run `vosbench verify`")
        return options.EXIT_FINDINGS
    return _write_proof(proof, args.out or Path(f"proof-payment-{args.payment}.json"), args.anchor)


def _write_proof(proof: dict, out: Path, receipt: Path) -> int:
    from vosbench.ledger import hashchain

    out.write_text(json.dumps(proof, indent=2, default=hashchain.canonical_value) + "\n", encoding="utf-8")
    print(f"proof written: {out}; anyone with it and {receipt} checks it with "
          f"`vosbench proof verify {out} --anchor {receipt}`")
    return options.EXIT_OK


def _write_consistency(args, tree: dict, key) -> int:
    from vosbench.ledger import merkle

    old = _tree(args.consistency, key)
    old_size, new_size = int(old["size"]), int(tree["size"])
    if old_size > new_size:
        raise ValueError(f"--consistency {args.consistency} covers {old_size} payments, more than the "
                         f"{new_size} of {args.anchor}: give the earlier receipt with --consistency")
    ledger = options.open_ledger(args)
    try:
        with ledger.engine.connect() as connection:
            hashes = merkle.payment_hashes(connection, new_size)
    finally:
        ledger.close()
    for name, size, root in ((args.consistency, old_size, old["root"]), (args.anchor, new_size, tree["root"])):
        if merkle.root(hashes[:size]) != root:
            print(f"FAILED the ledger's first {size} payments no longer lead to the root {name} holds")
            return options.EXIT_FINDINGS
    proof = {"kind": "vosbench consistency proof", "old_size": old_size, "old_root": old["root"],
             "new_size": new_size, "new_root": tree["root"], "path": merkle.consistency_proof(hashes, old_size)}
    return _write_proof(proof, args.out or Path(f"proof-consistency-{old_size}-{new_size}.json"), args.anchor)


def _verify_proof(args, tree: dict, key) -> int:
    from vosbench.ledger import anchor, merkle

    if not args.proof:
        raise anchor.AnchorError("proof verify: give the proof file, e.g. `vosbench proof verify proof.json "
                                 "--anchor close-2026-09.json`")
    try:
        proof = json.loads(Path(args.proof).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise anchor.AnchorError(f"proof {args.proof} cannot be read ({error})") from None
    if isinstance(proof, dict) and proof.get("kind") == "vosbench consistency proof":
        trouble = _consistency_problem(proof, tree, _tree(args.consistency, key) if args.consistency else None)
        print(f"FAILED {trouble}" if trouble else
              f"the {proof['old_size']} payments under the earlier root are the first {proof['old_size']} of the "
              f"{proof['new_size']} under the root {args.anchor} holds ({len(proof['path'])} hashes checked)")
    else:
        trouble = merkle.check_proof(proof, tree["root"])
        print(f"FAILED {trouble}" if trouble else
              f"payment {proof['payment']} is record {proof['index'] + 1} of the {proof['size']} under the root "
              f"{args.anchor} holds ({len(proof['path'])} hashes checked)")
    return options.EXIT_FINDINGS if trouble else options.EXIT_OK


def _consistency_problem(proof: dict, tree: dict, old: dict | None) -> str | None:
    from vosbench.ledger import merkle

    try:
        if (proof["new_size"], proof["new_root"]) != (int(tree["size"]), tree["root"]):
            return "the proof ends in another tree than the anchor holds"
        if old is not None and (proof["old_size"], proof["old_root"]) != (int(old["size"]), old["root"]):
            return "the proof starts from another tree than the earlier receipt holds"
        if not merkle.verify_consistency(int(proof["old_size"]), int(proof["new_size"]), str(proof["old_root"]),
                                         str(proof["new_root"]), list(proof["path"])):
            return "the earlier tree is not a prefix of the later one: payments it covered were changed or removed"
    except (KeyError, TypeError, ValueError) as error:
        return f"the proof is incomplete or malformed ({error})"
    return None


def _key_option(sub) -> None:
    sub.add_argument("--key-file", type=Path, metavar="FILE",
                     help="checkpoint key: an HMAC key, or an Ed25519 key from `vosbench keygen` (private to sign, "
                          "public to check) (default: $VOSBENCH_ANCHOR_KEY, HMAC)")


def register(add) -> None:
    sub = add("verify", cmd_verify, "check the ledger read-only: schema, guards, hash chains, month totals, "
                                    "text index and month-close receipts; exit 1 if anything disagrees")
    options.add_format(sub, "table", "json")
    sub.add_argument("--all", action="store_true", help="list every problem (default: the first 50)")
    sub.add_argument("--anchor", type=Path, metavar="FILE",
                     help="also prove the ledger holds and extends what FILE saw: a close receipt (.json), "
                          "an audit workbook (.xlsx) or an evidence pack")
    sub.add_argument("--since-anchor", action="store_true",
                     help="trust the anchor and check only what was appended since (needs --anchor)")
    _key_option(sub)

    sub = add("close", cmd_close, "close a month, once every earlier month holding records is closed: record its "
                                  "chain heads and closings; records dated into it or before it are refused from then on")
    sub.add_argument("--month", metavar="YYYY-MM", help="the month to close")
    sub.add_argument("--through", metavar="YYYY-MM", help="close every open month up to and including this one, "
                                                          "oldest first, each with its own receipt; stop at the first "
                                                          "that cannot close")
    sub.add_argument("--by", metavar="LOGIN", help="the supervisor closing it (on a server: requesting it, as the "
                                                   "connected login)")
    sub.add_argument("--second", metavar="LOGIN", help="the second operator confirming it (not on a server, where the "
                                                       "second person confirms under their own login with --confirm)")
    sub.add_argument("--confirm", action="store_true",
                     help="on a server: confirm, under your own login, the close a supervisor requested")
    sub.add_argument("--withdraw", action="store_true",
                     help="on a server: withdraw the close of --month you requested (or, as the owner, anyone's) "
                          "while it waits for confirmation")
    sub.add_argument("--receipt", type=options.out_file, metavar="FILE", help="where to write the receipt "
                                                                   "(default: ./close-YYYY-MM.json)")
    _key_option(sub)

    sub = add("reopen", cmd_reopen, "reopen a closed month (latest first), for a reason, confirmed by a second person")
    sub.add_argument("--month", required=True, metavar="YYYY-MM")
    sub.add_argument("--by", metavar="LOGIN", help="the supervisor reopening it (on a server: requesting it)")
    sub.add_argument("--second", metavar="LOGIN", help="the second person (not on a server: see --confirm)")
    sub.add_argument("--reason", help="why it is reopened (shown in every later report)")
    sub.add_argument("--confirm", action="store_true",
                     help="on a server: confirm, under your own login, the reopen a supervisor requested")
    sub.add_argument("--withdraw", action="store_true",
                     help="on a server: withdraw the reopen of --month you requested (or, as the owner, anyone's) "
                          "while it waits for confirmation; --reason says why")
    _key_option(sub)

    add("closes", cmd_closes, "list every close and reopen of a month, oldest first")

    sub = add("archive", cmd_archive, "write closed months before a month to an archive folder (Parquet, xlsx, "
                                      "manifest), read it back, then purge them; or `archive verify DIR`")
    sub.add_argument("action", nargs="?", choices=["verify"], help="verify: check the archive DIR offline")
    sub.add_argument("folder", nargs="?", type=Path, metavar="DIR")
    sub.add_argument("--before", metavar="YYYY-MM", help="archive every record dated before this month")
    sub.add_argument("--policy", nargs="?", const="", metavar="FILE",
                     help="the month from the retention policy (default parameters/retention.yaml)")
    sub.add_argument("--by", metavar="LOGIN", help="who archives (recorded with the archive)")
    sub.add_argument("--out", type=options.out_folder, metavar="DIR", help="the archive folder (default: archives/before-YYYY-MM)")
    sub.add_argument("--compact", action="store_true", help="give the purged space back to the disk (VACUUM)")
    _key_option(sub)

    sub = add("keygen", cmd_keygen, "make a checkpoint key: an Ed25519 pair (private signs, public checks) "
                                    "or, with --hmac, a shared HMAC key")
    sub.add_argument("--private", type=Path, metavar="FILE", help="the private key (default ./vosbench-signing.pem)")
    sub.add_argument("--public", type=Path, metavar="FILE", help="the public key (default: beside it, .pub.pem)")
    sub.add_argument("--hmac", type=Path, metavar="FILE", help="write a random HMAC key to FILE instead")

    sub = add("account-history", cmd_account_history, "every version of an account's details: name, parent, "
                                                      "credit limit and currency, with who changed them and when")
    sub.add_argument("account", metavar="ACCOUNT")

    sub = add("proof", cmd_proof, "prove one payment is in what a close receipt saw (a Merkle path), or that an "
                                  "earlier receipt's tree is a prefix of it (--consistency OLD); "
                                  "`proof verify PROOF`: check one offline")
    sub.add_argument("action", nargs="?", choices=["verify"], help="verify: check the proof PROOF")
    sub.add_argument("proof", nargs="?", type=Path, metavar="PROOF")
    sub.add_argument("--anchor", type=Path, required=True, metavar="RECEIPT", help="the close receipt (.json)")
    sub.add_argument("--payment", type=options.record_id, metavar="ID")
    sub.add_argument("--consistency", type=Path, metavar="OLD_RECEIPT",
                     help="an earlier close receipt: prove its tree is a prefix of the anchor's (RFC 9162)")
    sub.add_argument("--out", type=options.out_file, metavar="FILE", help="where to write it (default: ./proof-payment-ID.json)")
    _key_option(sub)

    sub = add("evidence", cmd_evidence, "write a month's evidence pack (records, anchors, manifest), "
                                        "or `evidence verify PACK`: check one offline")
    sub.add_argument("action", nargs="?", choices=["verify"], help="verify: check the pack PACK")
    sub.add_argument("pack", nargs="?", type=Path, metavar="PACK")
    sub.add_argument("--month", metavar="YYYY-MM")
    sub.add_argument("--out", type=options.out_file, metavar="FILE", help="the pack to write (default: ./evidence-YYYY-MM.zip)")
    sub.add_argument("--report", type=Path, metavar="FILE", help="the month's audit workbook or HTML to include")
    _key_option(sub)
