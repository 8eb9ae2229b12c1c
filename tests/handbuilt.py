"""Helpers for the hand-built ledgers (tests/test_handbuilt_*.py): import their CSV text, read vosbench's answers.

Each hand-built ledger is a few dozen payments written out as the README's import files, with
every answer worked out independently (Decimal arithmetic from the README's definitions, not
vosbench's code) and spelled out in its test. These helpers only run the documented commands —
``vosbench import``, ``reconcile --format json``, ``query --format json`` — in process and hand
back what they print, so the tests compare the user-visible figures to the last digit.
"""

from __future__ import annotations

import contextlib
import io
import json
import textwrap
from decimal import Decimal
from pathlib import Path

from vosbench.commands import main

MONEY = ("opening", "deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge", "payments",
         "call_fee", "agent_fee", "other_fee", "charges", "expected_closing", "recorded_closing", "difference")
DETAIL = ("deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge", "call_fee", "agent_fee", "other_fee")


def run(*argv: str) -> str:
    """Run one ``vosbench`` command in process; fail the test on a non-zero exit, return what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main.main(list(argv))
    assert code == 0, f"vosbench {' '.join(argv)} exited {code}: {err.getvalue()}"
    return out.getvalue()


def build(folder: Path, timezone: str, files: dict[str, str]) -> str:
    """Write each file's dedented text into ``folder`` and import them in order; the ledger's URL."""
    folder.mkdir()
    url = f"sqlite:///{folder / 'ledger.sqlite'}"
    for name, text in files.items():
        path = folder / name
        path.write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
        run("import", "--db", url, "--timezone", timezone, str(path))
    return url


def imported(url: str, folder: Path, files: dict[str, str]) -> str:
    """Write ``files`` as they are into a new ``folder`` and import them in one command into ``url``; the URL."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    run("import", "--db", url, "--timezone", "UTC", *(str(folder / name) for name in files))
    return url


def reconciled(url: str, month: str, *options: str) -> dict:
    """``vosbench reconcile --month M --format json``: rows by account, and the totals per currency."""
    got = json.loads(run("reconcile", "--db", url, "--month", month, "--format", "json", *options))
    return {"rows": {row["account"]: row for row in got["rows"]}, "totals": got["totals"]}


def as_expected(row: dict) -> tuple:
    """A reconcile row in the tests' written-out shape: (opening, payments, charges, expected, reported,
    difference, classification, {the non-zero kinds and fees})."""
    detail = {name: row[name] for name in DETAIL if Decimal(row[name]) != 0}
    return (row["opening"], row["payments"], row["charges"], row["expected_closing"], row["recorded_closing"],
            row["difference"], row["classification"], detail)


def currency_totals(rows: dict, expected: dict[str, tuple]) -> dict[str, dict[str, str]]:
    """The per-currency sums of the written-out rows, worked out here from the expected values alone."""
    sums: dict[str, dict[str, Decimal]] = {}
    for account, (opening, payments, charges, closing, reported, difference, _, detail) in expected.items():
        figures = sums.setdefault(rows[account]["currency"], dict.fromkeys(MONEY, Decimal(0)))
        for name, value in (("opening", opening), ("payments", payments), ("charges", charges),
                            ("expected_closing", closing), ("recorded_closing", reported), ("difference", difference),
                            *detail.items()):
            figures[name] += Decimal(value or 0)
    return {currency: {name: f"{value:.4f}" for name, value in figures.items()} for currency, figures in sums.items()}


def query_totals(url: str, *options: str) -> tuple[int, dict[tuple[str, str], tuple[int, str]]]:
    """``vosbench query --format json``: the whole filter's count and (kind, currency) → (count, amount)."""
    got = json.loads(run("query", "--db", url, "--format", "json", *options))
    return got["total_count"], {(t["kind"], t["currency"]): (t["count"], t["amount"]) for t in got["totals_by_kind"]}
