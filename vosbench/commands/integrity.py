"""``vosbench verify``: what an outside auditor runs to check that the ledger was not changed quietly.

It opens the ledger read-only (nothing is created, upgraded or repaired on the way),
checks the schema, the guards, every chain and the derived data, and prints each
problem with the table and record it concerns. Exit 1 when anything is wrong.
"""

from __future__ import annotations

import json

from vosbench.commands import options
from vosbench.core import config


def cmd_verify(args) -> int:
    from vosbench.ledger import readonly, verification

    engine = readonly.open_read_only(config.resolve_db_url(options.db_url(args)))
    try:
        result = verification.verify(engine)
    finally:
        engine.dispose()
    lines = _problem_lines(result)
    if args.format == "json":
        print(json.dumps({"ok": result.ok, "problems": lines, "not_checked": result.not_checked,
                          "fingerprint": result.fingerprint}, indent=2))
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
        print("ledger verified: schema and guards in place, every chain intact, derived data agrees "
              "with the records" if result.ok else f"ledger FAILED verification ({len(lines)} problems)")
    return options.EXIT_OK if result.ok else options.EXIT_FINDINGS


def _problem_lines(result) -> list[str]:
    """One line per problem: the check, then the table and record it concerns."""
    lines = [f"[{problem.check}] {problem.message}" for problem in result.problems]
    lines += [f"[hash chain] {broken.message}" for broken in result.breaks]
    lines += [f"[month totals] {mismatch}" for mismatch in result.total_mismatches]
    return lines


def register(add) -> None:
    sub = add("verify", cmd_verify, "check the ledger read-only: schema, guards, hash chains, month totals and "
                                    "text index; exit 1 if anything disagrees")
    options.add_format(sub, "table", "json")
    sub.add_argument("--all", action="store_true", help="list every problem (default: the first 50)")
