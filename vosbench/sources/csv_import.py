"""CSV import: ``accounts.csv``, ``payments.csv``, ``charges.csv``, ``balances.csv``, and the back
office's ``operators.csv``, ``operator_accounts.csv``, ``commission_rates.csv``.

Each file is parsed whole, every bad row is reported with file, line and reason, and
the file is appended all-or-nothing through :func:`vosbench.ledger.write_door.append_batch`.
Times are ISO-8601 with an offset or ``Z``; amounts are decimal text; ``amount`` is
signed from the account's point of view (+ raises the balance).
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine

from vosbench.core import money
from vosbench.core.errors import VosbenchError
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import backoffice, database, text_index
from vosbench.ledger.write_door import (
    BatchResult,
    NewAccount,
    NewCharge,
    NewPayment,
    NewSnapshot,
    Rejection,
    to_utc_naive,
)

# File name → (content, required columns, optional columns), in the order files are imported.
FORMATS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "accounts.csv": ("accounts", ("account", "name", "kind"),
                     ("parent", "credit_limit", "currency", "timezone")),
    "payments.csv": ("payments",
                     ("source_key", "account", "kind", "amount", "occurred_at", "operator", "channel", "method"),
                     ("reference", "memo", "reason", "balance_after", "reverses", "approved_by")),
    "charges.csv": ("charges", ("account", "day", "call_fee", "agent_fee", "other_fee", "calls"), ()),
    "balances.csv": ("balances", ("account", "as_of", "balance"), ()),
    # the back office (vosbench.ledger.backoffice), read by the controls
    "operators.csv": ("operators", ("login", "name", "shift_start", "shift_end", "working_days"),
                      ("role", "timezone")),
    "operator_accounts.csv": ("operator_accounts", ("login", "account"), ("relation",)),
    "commission_rates.csv": ("commission_rates", ("account", "rate"), ()),
}


class ImportFileError(VosbenchError, ValueError):
    """A file cannot be read as the format its name claims; nothing was imported from it."""


def parse_time(text: str, field: str) -> datetime:
    """ISO-8601 with an offset or Z, as naive UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not an ISO-8601 time such as 2026-10-05T14:30:00Z") from None
    return to_utc_naive(moment, field_name=field)


def parse_day(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a date in the form YYYY-MM-DD") from None


def parse_count(text: str, field: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not a whole number") from None


def _account(cells: dict, line: int, default_tz: str) -> NewAccount:
    zone = cells.get("timezone", "").strip() or default_tz
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: {zone!r} is not an IANA time zone such as Asia/Dubai") from None
    currency = (cells.get("currency", "").strip() or "USD").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"currency: {currency!r} is not a three-letter ISO code such as USD")
    for name in ("account", "name"):
        if not cells[name].strip():
            raise ValueError(f"{name} is empty")
    limit = money.to_minor(cells.get("credit_limit", "").strip() or "0", field="credit_limit")
    if limit < 0:
        raise ValueError("credit_limit cannot be negative (it is how far the balance may go below zero)")
    return NewAccount(account=cells["account"].strip(), name=cells["name"].strip(),
                      kind=AccountKind.parse(cells["kind"], field="kind"),
                      parent=cells.get("parent", "").strip(), credit_limit=limit, currency=currency,
                      timezone=zone, line=line)


def _payment(cells: dict, line: int, _default_tz: str) -> NewPayment:
    balance_after = cells.get("balance_after", "").strip()
    return NewPayment(
        source_key=cells["source_key"].strip(), account=cells["account"].strip(),
        kind=Kind.parse(cells["kind"], field="kind"), amount=money.to_minor(cells["amount"]),
        occurred_at=parse_time(cells["occurred_at"], "occurred_at"),
        operator=cells["operator"].strip(), channel=Channel.parse(cells["channel"], field="channel"),
        method=Method.parse(cells["method"], field="method"),
        reference=cells.get("reference", "").strip(), memo=cells.get("memo", "").strip(),
        reason=cells.get("reason", "").strip(),
        balance_after=money.to_minor(balance_after, field="balance_after") if balance_after else None,
        reverses=cells.get("reverses", "").strip(), approved_by=cells.get("approved_by", "").strip(),
        line=line,
    )


def _charge(cells: dict, line: int, _default_tz: str) -> NewCharge:
    return NewCharge(account=cells["account"].strip(), day=parse_day(cells["day"], "day"),
                     call_fee=money.to_minor(cells["call_fee"], field="call_fee"),
                     agent_fee=money.to_minor(cells["agent_fee"], field="agent_fee"),
                     other_fee=money.to_minor(cells["other_fee"], field="other_fee"),
                     calls=parse_count(cells["calls"], "calls"), line=line)


def _snapshot(cells: dict, line: int, _default_tz: str) -> NewSnapshot:
    return NewSnapshot(account=cells["account"].strip(), as_of=parse_time(cells["as_of"], "as_of"),
                       balance=money.to_minor(cells["balance"], field="balance"), line=line)


_PARSERS: dict[str, Callable] = {"accounts": _account, "payments": _payment, "charges": _charge,
                                 "balances": _snapshot, "operators": backoffice.parse_operator,
                                 "operator_accounts": backoffice.parse_managed_account,
                                 "commission_rates": backoffice.parse_rate}


@dataclass
class ParsedFile:
    content: str
    rows: list
    rejections: list[Rejection]
    sha256: str


def parse_file(path: Path, *, default_tz: str = "UTC") -> ParsedFile:
    """Read one CSV file into typed rows, collecting every bad row instead of stopping."""
    if path.name not in FORMATS:
        raise ImportFileError(f"{path}: unknown file name; vosbench imports {', '.join(FORMATS)}")
    content, required, optional = FORMATS[path.name]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 ({error}); save it as UTF-8 CSV") from None
    reader = csv.DictReader(text.splitlines())
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(f"{path}: missing column(s) {', '.join(missing)}; the header must name "
                              f"{', '.join(required)} (optional: {', '.join(optional) or 'none'})")
    unknown = [name for name in header if name not in required + optional]
    if unknown:
        raise ImportFileError(f"{path}: unknown column(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(required + optional)}")
    reader.fieldnames = header
    rows, rejections = [], []
    for index, cells in enumerate(reader, start=2):
        if None in cells:
            rejections.append(Rejection(path.name, index, "more cells than header columns"))
            continue
        cells = {key: value or "" for key, value in cells.items()}
        try:
            rows.append(_PARSERS[content](cells, index, default_tz))
        except ValueError as error:
            rejections.append(Rejection(path.name, index, str(error)))
    return ParsedFile(content, rows, rejections, hashlib.sha256(raw).hexdigest())


def collect_files(paths: list[Path]) -> list[Path]:
    """The importable files among ``paths`` (folders expanded), in dependency order."""
    found: dict[str, Path] = {}
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in (path / name for name in FORMATS) if p.exists())
        elif path.exists():
            files.append(path)
        else:
            raise ImportFileError(f"{path}: no such file or folder")
    if not files:
        raise ImportFileError(f"no importable files in {', '.join(map(str, paths))}; expected "
                              f"{', '.join(FORMATS)}")
    order = list(FORMATS)
    for path in files:
        found.setdefault(str(path), path)
    return sorted(found.values(), key=lambda p: order.index(p.name) if p.name in FORMATS else -1)


def import_each(engine: Engine, paths: list[Path], *, source: str = "csv",
                default_tz: str = "UTC") -> Iterator[BatchResult]:
    """Import files (or folders of them) one by one, yielding each file's result as it lands.

    Files are taken in dependency order (accounts first); each is all-or-nothing and
    idempotent on its keys. A file with bad rows raises
    :class:`~vosbench.ledger.write_door.ImportRejected` listing all of them; files before it stay
    imported.
    """
    for path in collect_files(paths):
        parsed = parse_file(path, default_tz=default_tz)
        result = backoffice.append(engine, parsed.content, parsed.rows, source=source, file=path.name,
                                   file_sha256=parsed.sha256, parse_rejections=parsed.rejections)
        if result.content == "payments" and result.added:
            text_index.keep_up(engine)  # searchable at once: the first search builds nothing
            database.refresh_statistics(engine)
        yield result


def import_paths(engine: Engine, paths: list[Path], *, source: str = "csv",
                 default_tz: str = "UTC") -> list[BatchResult]:
    """:func:`import_each`, collected."""
    return list(import_each(engine, paths, source=source, default_tz=default_tz))
