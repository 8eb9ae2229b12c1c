"""Writing a month's accounting export: the files for one package, into one folder.

``quickbooks``, ``xero`` and ``sage`` get bank feeds (one file per currency and clearing
account, cut where the package limits a file's rows) and, for QuickBooks and Xero,
the journal in their import layout, one file per currency. Every target also gets the
general journal (``journal-<month>.csv``), the exact record every package file is cut from.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from vosbench.core.errors import VosbenchError
from vosbench.outputs.accounting import TARGETS, journal, layouts
from vosbench.outputs.accounting import mapping as gl
from vosbench.outputs.accounting.movements import Movements, month_movements


class UnbalancedJournal(VosbenchError):
    """The journal did not balance (a mapping that posts both sides to one account cannot cause this, but a bug could)."""


@dataclass
class AccountingExport:
    """What an export wrote: the folder, the files, and per currency (entries, debits, credits) of the journal."""

    folder: Path
    target: str
    month: str
    files: list[Path] = field(default_factory=list)
    totals: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    empty: bool = False


def default_folder(month: str, target: str) -> Path:
    """Where an export goes without ``--out``: ``reports/<month>/accounting-<target>/`` under the current directory."""
    return Path.cwd() / "reports" / month / f"accounting-{target}"


def export_accounting(engine: Engine, month: str, target: str, *, mapping_file: Path | str | None = None,
                      out_dir: Path | None = None) -> AccountingExport:
    """Write ``month``'s export for ``target`` (one of :data:`TARGETS`); nothing is written for an empty month."""
    if target not in TARGETS:
        raise VosbenchError(f"accounting target {target!r} is unknown; use one of: {', '.join(TARGETS)}")
    mapping = gl.load(mapping_file)
    movements = month_movements(engine, month)
    label = movements.period.label
    folder = Path(out_dir) if out_dir else default_folder(label, target)
    result = AccountingExport(folder.resolve(), target, label)
    if movements.empty:
        result.empty = True
        return result
    lines = journal.build(movements, mapping)
    problems = journal.imbalances(lines)
    if problems:
        raise UnbalancedJournal("the journal does not balance: " + "; ".join(problems[:5]))
    result.totals = journal.totals_by_currency(lines)
    folder.mkdir(parents=True, exist_ok=True)
    result.files.append(_write(folder / f"journal-{label}.csv", lines, layouts.GENERAL_JOURNAL))
    if target == "journal":
        return result
    for (currency, code), records in bank_feed(movements, mapping).items():
        stem = f"{target}-bank-{label}-{currency}-{code}-{_slug(mapping.name(code))}"
        result.files += _write_cut(folder, stem, records, layouts.BANK_LAYOUTS[target])
    journal_layout = {"quickbooks": layouts.QUICKBOOKS_JOURNAL,
                      "xero": layouts.xero_journal(mapping.xero_tax_rate)}.get(target)
    if journal_layout is not None:
        for currency, currency_lines in lines.groupby("currency", sort=True):
            result.files += _write_cut(folder, f"{target}-journal-{label}-{currency}", currency_lines, journal_layout)
    return result


def bank_feed(movements: Movements, mapping: gl.GlMapping) -> dict[tuple[str, str], pd.DataFrame]:
    """The records that reached a bank or gateway, per (currency, clearing account code), in time order.

    Signed as a bank statement is: money in (a deposit) positive, money out (a withdrawal) negative.
    """
    paid = movements.payments
    if paid.empty:
        return {}
    cash = paid[paid["kind"].map(mapping.moves_cash) & (paid["amount"] != 0)].copy()
    cash["clearing"] = cash["method"].map(mapping.methods)
    cash["payee"] = cash["account"] + " " + cash["name"]
    cash["description"] = [" · ".join(part for part in (f"{kind} {account} {name}", reference, f"payment {pid}") if part)
                           for kind, account, name, reference, pid in
                           zip(cash["kind"], cash["account"], cash["name"], cash["reference"], cash["id"])]
    cash["reference"] = "payment " + cash["id"].astype(str)
    return {key: group.reset_index(drop=True) for key, group in cash.groupby(["currency", "clearing"], sort=True)}


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _write_cut(folder: Path, stem: str, frame: pd.DataFrame, layout: layouts.Layout) -> list[Path]:
    parts = layouts.chunks(frame, layout)
    if len(parts) == 1:
        return [_write(folder / f"{stem}.csv", parts[0], layout)]
    return [_write(folder / f"{stem}-part{number}.csv", part, layout) for number, part in enumerate(parts, 1)]


def _write(path: Path, frame: pd.DataFrame, layout: layouts.Layout) -> Path:
    """One CSV: the layout's header, then one row per record (RFC 4180: CRLF, quotes where needed)."""
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(layout.header)
        writer.writerows(layout.row(row) for row in frame.itertuples(index=False))
    return path
