"""Inline ledgers for tests: CSV text written to a folder and imported through the real door."""

from __future__ import annotations

import textwrap
from pathlib import Path

from vosbench.ledger import setup
from vosbench.sources import csv_import


def write_ledger_files(folder: Path, **files: str) -> Path:
    """Write ``accounts=…, payments=…`` CSV texts as accounts.csv, payments.csv, … in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.csv").write_text(textwrap.dedent(text).strip() + "\n", encoding="utf-8")
    return folder


def ledger_from_text(tmp_path: Path, timezone: str = "UTC", **files: str):
    """A real SQLite ledger in ``tmp_path`` holding the given CSV texts."""
    engine = setup.open_ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}", create=True, timezone=timezone)
    csv_import.import_paths(engine, [write_ledger_files(tmp_path / "in", **files)], default_tz=timezone)
    return engine


ACCOUNTS = """
    account,name,kind,parent,credit_limit,currency,timezone
    R1,North Reseller,reseller,,0,USD,UTC
    A1,Agent Alpha,agent,R1,0,USD,UTC
    C1,Acme Trading,customer,A1,50.00,USD,UTC
    C2,Acme Trading,customer,A1,0,USD,UTC
"""

TEAM = """
    login,name,role,timezone,shift_start,shift_end,working_days
    a,Ann A,clerk,UTC,00:00,24:00,1234567
    alice,Alice,clerk,UTC,00:00,24:00,1234567
    ann,Ann,clerk,UTC,00:00,24:00,1234567
    bob,Bob,supervisor,UTC,00:00,24:00,1234567
    cy,Cy,supervisor,UTC,00:00,24:00,1234567
"""
"""Registered operators for tests that record by hand: clerks enter, supervisors approve."""
