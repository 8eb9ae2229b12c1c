"""CSV import: ``accounts.csv``, ``payments.csv``, ``charges.csv``, ``balances.csv``, and the back
office's ``operators.csv``, ``operator_accounts.csv``, ``commission_rates.csv``.

Every bad row is reported with file, line and reason, and each file is appended
all-or-nothing through :func:`vosbench.ledger.write_door.append_batch`. The journal's files
(payments, charges, balances) are streamed: cut into parts of :data:`PART_ROWS` records as
raw bytes, each part decoded and parsed by a worker process while the previous one is
checked, chained and inserted, every part appended in the one transaction of the file, so
memory stays bounded whatever the file's size and a file with any bad row still leaves nothing
behind. Times are ISO-8601 with an offset or ``Z``; amounts are decimal text; ``amount`` is
signed from the account's point of view (+ raises the balance).
"""

from __future__ import annotations

import collections
import contextlib
import csv
import hashlib
import io
import os
import pickle
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import Engine

from vosbench.core import money
from vosbench.core.errors import VosbenchError
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import backoffice, database, hashchain, month_totals, tables, text_index, write_door
from vosbench.ledger.write_door import (
    BatchResult,
    ImportRejected,
    NewAccount,
    NewCharge,
    NewPayment,
    NewSnapshot,
    PaymentColumns,
    Rejection,
    to_utc_naive,
)
from vosbench.sources import csv_text

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


_WHOLE = re.compile(r"[+-]?[0-9]+")
_WHOLE_COLUMN = re.compile(r"[^\S\n]*[0-9]+[^\S\n]*(?:\n[^\S\n]*[0-9]+[^\S\n]*)*")
"""A column of counts joined by line ends, each plain ASCII digits between spaces (a sign goes to the row parser)."""


def parse_count(text: str, field: str) -> int:
    """A count written in plain digits, spaces around it aside: not ``1_000`` or another script's digits, which
    ``int`` also takes."""
    if not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f"{field}: {text!r} is not a whole number written in plain digits (0-9)")
    return int(text)


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
    balance_after = cells.get("balance_after", "")
    return NewPayment(
        source_key=cells["source_key"].strip(), account=cells["account"].strip(),
        kind=Kind.parse(cells["kind"], field="kind"), amount=money.to_minor(cells["amount"]),
        occurred_at=parse_time(cells["occurred_at"], "occurred_at"),
        operator=cells["operator"].strip(), channel=Channel.parse(cells["channel"], field="channel"),
        method=Method.parse(cells["method"], field="method"),
        reference=cells.get("reference", "").strip(), memo=cells.get("memo", "").strip(),
        reason=cells.get("reason", "").strip(),
        balance_after=money.to_minor(balance_after, field="balance_after") if balance_after.strip() else None,
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


def _utc_instant(text: str) -> datetime:
    """:func:`parse_time`'s value, cheaper for the common spelling that ends in ``Z`` (UTC already)."""
    text = text.strip()
    if len(text) >= 20 and text[-1] in "Zz":
        moment = datetime.fromisoformat(text[:-1])
        if moment.tzinfo is None:
            return moment
    return parse_time(text, "time")


def _stripped(cells: dict[str, tuple[str, ...]], name: str, count: int) -> list[str]:
    return list(map(str.strip, cells[name])) if name in cells else [""] * count


def _words(vocabulary: type[Kind] | type[Channel] | type[Method], texts: Sequence[str]) -> list:
    """``vocabulary.parse`` of every text of a column: one dict lookup each when all are spelt as stored."""
    found = list(map(vocabulary._value2member_map_.get, texts))
    return list(map(vocabulary.parse, texts)) if None in found else found


def _payment_columns(cells: dict[str, tuple[str, ...]], lines: list[int]) -> tuple:
    """:func:`_payment` column by column: the columns of :class:`PaymentColumns`."""
    count = len(lines)
    balances = [money.to_minor(text, field="balance_after") if text.strip() else None for text in cells["balance_after"]] \
        if "balance_after" in cells else [None] * count
    return (_stripped(cells, "source_key", count), _stripped(cells, "account", count),
            _words(Kind, cells["kind"]), money.column_to_minor(cells["amount"]),
            list(map(_utc_instant, cells["occurred_at"])), _stripped(cells, "operator", count),
            _words(Channel, cells["channel"]), _words(Method, cells["method"]),
            _stripped(cells, "reference", count), _stripped(cells, "memo", count), _stripped(cells, "reason", count),
            balances, _stripped(cells, "reverses", count), [None] * count, _stripped(cells, "approved_by", count),
            lines)


def _charge_columns(cells: dict[str, tuple[str, ...]], lines: list[int]) -> list[NewCharge]:
    """:func:`_charge` column by column."""
    return list(map(NewCharge, _stripped(cells, "account", len(lines)),
                    [date.fromisoformat(text.strip()) for text in cells["day"]],
                    money.column_to_minor(cells["call_fee"]), money.column_to_minor(cells["agent_fee"]),
                    money.column_to_minor(cells["other_fee"]), _counts(cells["calls"]), lines))


def _counts(column: tuple[str, ...]) -> list[int]:
    """:func:`parse_count` of a column, checked in one match; a ValueError sends the part to the row parser."""
    if not _WHOLE_COLUMN.fullmatch("\n".join(column)):
        raise ValueError("a count that is not plain digits")
    return list(map(int, column))


_COLUMN_PARSERS: dict[str, Callable] = {"payments": _payment_columns, "charges": _charge_columns}
"""The bulk contents parsed a column at a time: a function call per column, not a dict per row.
Any value they cannot take sends the part to the row-by-row parsers, which word every rejection."""

_PARSERS: dict[str, Callable] = {"accounts": _account, "payments": _payment, "charges": _charge,
                                 "balances": _snapshot, "operators": backoffice.parse_operator,
                                 "operator_accounts": backoffice.parse_managed_account,
                                 "commission_rates": backoffice.parse_rate}


@dataclass
class ParsedFile:
    content: str
    rows: Sequence
    rejections: list[Rejection]
    sha256: str


STREAMED = {"payments": tables.payments, "charges": tables.charges, "balances": tables.balance_snapshots}
"""The journal's contents, streamed in parts (the others are reference data: small, parsed whole)."""

PART_ROWS = 50_000
"""Rows per part of a streamed file: large enough that a part's statements are few, small enough
that the parts in flight hold a few tens of megabytes."""

POOLED_BYTES = 4_000_000
"""Files from this size on are parsed by worker processes (smaller ones hold about one part)."""

KEPT_REJECTIONS = 10_000
"""Rejected rows kept with their reasons (the rest are counted): a file of nothing but bad rows
must not fill memory with its rejections."""


def file_sha256(path: Path) -> str:
    """The file's sha256, read in blocks (a first pass, at disk speed, so that every part's batch names it)."""
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        while block := raw.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _records(path: Path, stream) -> tuple[str, tuple[str, ...], tuple[str, ...], Iterator[tuple[int, list[str]]]]:
    """The file's content, its header checked, and its records as (line it starts on, cells)."""
    if path.name not in FORMATS:
        raise ImportFileError(f"{path}: unknown file name; vosbench imports {', '.join(FORMATS)}")
    content, required, optional = FORMATS[path.name]
    reader = csv.reader(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 ({error}); save it as UTF-8 CSV") from None
    except csv.Error as error:
        raise ImportFileError(csv_text.quote_problem(path, 1, error)) from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise ImportFileError(f"{path}: column(s) {', '.join(repeated)} appear more than once in the header; which "
                              "one holds the values cannot be told: remove or rename the others")
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(f"{path}: missing column(s) {', '.join(missing)}; the header must name "
                              f"{', '.join(required)} (optional: {', '.join(optional) or 'none'})")
    unknown = [name for name in header if name not in required + optional]
    if unknown:
        raise ImportFileError(f"{path}: unknown column(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(required + optional)}")
    return content, tuple(header), required + optional, _decoded(path, reader)


def _decoded(path: Path | str, reader, first_line: int = 2) -> Iterator[tuple[int, list[str]]]:
    """(line it starts on, cells) of each record of a strict :mod:`csv` reader, the first on line ``first_line``; its
    errors worded with their fix. A record whose quoted cell holds line ends spans several lines: the next starts
    after them, as the reader counts lines (numbered by records, every later line was named too early)."""
    before = reader.line_num
    line = first_line
    try:
        for record in reader:
            yield line, record
            line = first_line + reader.line_num - before
    except UnicodeDecodeError as error:
        raise ImportFileError(f"{path}: not UTF-8 ({error}); save it as UTF-8 CSV") from None
    except csv.Error as error:
        raise ImportFileError(csv_text.quote_problem(path, line, error)) from None


def parse_part(content: str, file: str, header: tuple[str, ...], names: tuple[str, ...], lines: Sequence[int],
               records: list[list[str]], default_tz: str) -> tuple[Sequence, list[Rejection]]:
    """Typed rows and rejections of consecutive records (each starting on its line of ``lines``).

    Order-independent, so parts are parsed in worker processes; what it returns crosses
    back as plain tuples (payments as columns), which pickle at a fraction of objects' cost.
    """
    parser, width = _PARSERS[content], len(header)
    if content in _COLUMN_PARSERS and records and all(len(cells) == width for cells in records):
        try:
            parsed = _COLUMN_PARSERS[content](dict(zip(header, zip(*records))), list(lines))
        except ValueError:
            pass  # the rows below say which and why
        else:
            return parsed, []
    rows, rejections = [], []
    blank = dict.fromkeys(names, "")
    for line, cells in zip(lines, records):
        if not cells:  # a blank line, as csv.DictReader skips them
            continue
        shifted = csv_text.width_problem(len(cells), width)
        if shifted:  # a cell too few or too many: its values would be read under other headers
            rejections.append(Rejection(file, line, shifted))
            continue
        try:
            rows.append(parser({**blank, **dict(zip(header, cells))}, line, default_tz))
        except ValueError as error:
            rejections.append(Rejection(file, line, str(error)))
    if content == "payments":
        return PaymentColumns.of(rows).columns, rejections
    return rows, rejections


def _unzipped(numbered: Iterator[tuple[int, list[str]]]) -> tuple[list[int], list[list[str]]]:
    """The lines and the records of :func:`_decoded`'s pairs, apart."""
    lines: list[int] = []
    records: list[list[str]] = []
    for line, record in numbered:
        lines.append(line)
        records.append(record)
    return lines, records


def parse_file(path: Path, *, default_tz: str = "UTC") -> ParsedFile:
    """Read one CSV file whole into typed rows, collecting every bad row instead of stopping."""
    with open(path, "rb") as raw:
        content, header, names, records = _records(path, raw)
        lines, cells = _unzipped(records)
        rows, rejections = parse_part(content, path.name, header, names, lines, cells, default_tz)
    return ParsedFile(content, rows, rejections, file_sha256(path))


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
    for path in files:
        if not path.is_file():
            raise ImportFileError(f"{path}: is a folder or a device, not a CSV file; give the file itself")
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
        with database.unmapped(engine):  # memory stays bounded whatever the ledger's size
            if FORMATS.get(path.name, ("",))[0] in STREAMED:
                result = _stream(engine, path, source=source, default_tz=default_tz)
            else:
                parsed = parse_file(path, default_tz=default_tz)
                result = backoffice.append(engine, parsed.content, parsed.rows, source=source, file=path.name,
                                           file_sha256=parsed.sha256, parse_rejections=parsed.rejections)
            if result.content == "payments" and result.added:
                text_index.keep_up(engine)  # searchable at once: the first search builds nothing
                database.refresh_statistics(engine)
        yield result


def _header(path: Path, stream) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """The file's content and header, checked, read off the stream's first line (which it consumes)."""
    line = stream.readline()
    if b"\r" in line.rstrip(b"\r\n"):  # parts are cut at line feeds: such a file would read as one line
        raise ImportFileError(f"{path}: its lines end in a bare carriage return (CR, as old Mac tools wrote); "
                              "save it with LF or CRLF line ends and import again")
    content, header, names, _rest = _records(path, io.BytesIO(line))
    return content, header, names


def _raw_parts(stream) -> Iterator[tuple[bytes, int]]:
    """The rest of the file in parts of :data:`PART_ROWS` records, as bytes, each with its record count.

    Only record ends are looked for here — a line end outside quotes, by the parity of the
    quotes before it — so that the parsing itself (CSV cells, values) is done by the workers
    and no cell is built or pickled twice. Counts are as :mod:`csv` counts records, blank
    lines included, so that every part knows its first line number. The line ends and quotes
    of each block read are found in bulk (numpy), not line by line: this runs in the writer,
    beside which the workers parse.
    """
    import numpy as np

    buffer, part_start, scanned, record_end, count, quoted = b"", 0, 0, 0, 0, False
    while block := stream.read(1 << 22):
        buffer = buffer[part_start:] + block
        scanned, record_end, part_start = scanned - part_start, record_end - part_start, 0
        data = np.frombuffer(buffer, dtype=np.uint8)[scanned:]
        line_ends = np.flatnonzero(data == 10)
        if not len(line_ends):
            continue
        # quoted after each line end: the parity of the quotes since the last line end scanned, and before it
        quotes = np.searchsorted(np.flatnonzero(data == 34), line_ends)
        inside = (quotes % 2).astype(bool) ^ quoted
        ends = (scanned + line_ends[~inside] + 1).tolist()  # record ends, as offsets of the buffer
        scanned, quoted = scanned + int(line_ends[-1]) + 1, bool(inside[-1])
        if ends:
            record_end = ends[-1]
        taken = PART_ROWS - count
        while taken <= len(ends):
            yield buffer[part_start:ends[taken - 1]], PART_ROWS
            part_start = ends[taken - 1]
            taken += PART_ROWS
        count = len(ends) - (taken - PART_ROWS)
    if buffer[record_end:]:  # a last record without a line end (or with a quote left open)
        count += 1
    if count:
        yield buffer[part_start:], count


def parse_raw_part(content: str, path: str, header: tuple[str, ...], names: tuple[str, ...], first_line: int,
                   raw: bytes, count: int, default_tz: str) -> tuple[Sequence, list[Rejection]]:
    """:func:`parse_part` of a part still in bytes (``count`` records from line ``first_line``).

    Charges come back as columns (like payments): a tuple per row pickles at several times the cost.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = first_line + raw.count(b"\n", 0, error.start)
        raise ImportFileError(f"{path}: line {line} is not UTF-8 ({error.reason}: byte {raw[error.start]:#04x}); "
                              "save the file as UTF-8 CSV") from None
    lines, records = _unzipped(_decoded(path, csv.reader(io.StringIO(text, newline=""), strict=True), first_line))
    if len(records) != count:
        raise ImportFileError(_miscut(path, text, first_line))
    name = Path(path).name
    rows, rejections = parse_part(content, name, header, names, lines, records, default_tz)
    if content == "charges":
        return tuple(zip(*rows)) if rows else (), rejections
    return rows, rejections


def _miscut(path: str, text: str, first_line: int) -> str:
    """Why a part (from line ``first_line``) holds another number of records than its cut counted, and the fix.

    The cut counts records by line ends outside quotes. A carriage return alone inside a
    line ends a record for csv but not for the cut; a quote inside an unquoted cell (``5" screen``) is
    text for csv but opens a quoted cell for the cut. The line named is the first with either.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if "\r" in line.rstrip("\r"):
            return (f"{path}: line {first_line + index} holds a carriage return (CR) alone inside it, which ends a "
                    "record there; remove it, or save the file with LF or CRLF line ends, and import again")
        if line.count('"') % 2:
            return (f'{path}: line {first_line + index}: a quote (") inside an unquoted cell (or one opened and never '
                    'closed); quote the whole cell ("5"" screen") and import again')
    return (f'{path}: the records from line {first_line} to {first_line + len(lines) - 1} could not be told apart; '
            'check their quotes (") and line ends, and import again')


def _pickled_part(*arguments) -> bytes:
    """:func:`parse_raw_part` in a worker, its answer pickled there: the importer unpickles it itself (:func:`_parts`).

    The pool hands a worker's answer back through a thread of the importer, and what that
    thread unpickles is allocated in its own heap (glibc keeps one per thread) and freed from
    the importer's: the freed parts were not reused and the importer grew with the file
    (a 2M-payment file ended at 790 MiB anonymous memory). As bytes, the thread makes one block.
    """
    return pickle.dumps(parse_raw_part(*arguments), protocol=pickle.HIGHEST_PROTOCOL)


def _from_wire(content: str, rows: Sequence) -> Sequence | PaymentColumns:
    """A part's rows as the write door takes them, from what :func:`parse_raw_part` sent."""
    if content == "payments":
        return PaymentColumns(rows)
    if content == "charges":
        return list(map(NewCharge, *rows)) if rows else []
    return rows


def _worker_started(importer: int) -> None:
    """A parsing worker's start. Ctrl-C reaches every process of the terminal's group: a worker leaves it to the
    importer, which stops and rolls the file back (each worker printed a traceback of its own). A worker whose
    importer was killed ends itself (blocked on its queue, it waited for ever: two were found 19 minutes on)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_when_orphaned, args=(importer,), daemon=True).start()


def _end_when_orphaned(importer: int) -> None:
    """End this worker once its parent is no longer ``importer`` (the importer died; the worker was handed on)."""
    while os.getppid() == importer:
        time.sleep(1)
    os._exit(1)


def _parts(path: Path, stream, default_tz: str) -> Iterator[tuple[Sequence | PaymentColumns, list[Rejection]]]:
    """The file's parts parsed, in order, by worker processes a few parts ahead of the writer."""
    content, header, names = _header(path, stream)
    parts = _raw_parts(stream)
    arguments = (content, str(path), header, names)
    if path.stat().st_size < POOLED_BYTES:  # about one part: starting workers would cost more than they save
        first_line = 2
        for raw, count in parts:
            rows, bad = parse_raw_part(*arguments, first_line, raw, count, default_tz)
            first_line += raw.count(b"\n")  # the part's lines (a record may span several)
            yield _from_wire(content, rows), bad
        return
    workers = max(1, min(2, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, initializer=_worker_started, initargs=(os.getpid(),)) as pool:
        pending: collections.deque[Future] = collections.deque()
        first_line = 2
        while True:
            part = next(parts, None)
            if part is not None:
                raw, count = part
                pending.append(pool.submit(_pickled_part, *arguments, first_line, raw, count, default_tz))
                first_line += raw.count(b"\n")
            if pending and (len(pending) > workers or part is None):
                rows, bad = pickle.loads(pending.popleft().result())
                yield _from_wire(content, rows), bad
            elif part is None:
                return


STREAM_CACHE_KIB = 131_072
"""SQLite's page cache (KiB) of the connection a streamed file is appended through: half the ledger's usual
(:data:`vosbench.ledger.database.CACHE_SIZE`). The import's memory is the cache, the parts in flight and
what the write door builds of each; with the whole 256 MiB it peaked at 1,158 MiB for a 10M-payment file."""


@contextlib.contextmanager
def _bounded_memory(connection) -> Iterator[None]:
    """Around a streamed file's transaction on ``connection`` (begun inside the block): its SQLite page cache at
    :data:`STREAM_CACHE_KIB` and its temporary storage in files, both as they were after it (the connection
    goes back to the pool); other dialects keep their own.

    Each part's totals and rollups are kept under a savepoint (:mod:`vosbench.ledger.money_bounds`), whose
    journal holds the first image of every page they change; in memory (``temp_store=MEMORY``) it grew with
    the rollups' size, to 460 MiB in one part 13 minutes into a 10M-payment file. In a file it stays in the operating system's cache.
    SQLite takes the setting when a transaction begins and refuses to change it inside one: the pragmas go
    to the driver, before the transaction and after it.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    cache, temp_store = (driver.execute(f"PRAGMA {name}").fetchone()[0] for name in ("cache_size", "temp_store"))
    driver.execute(f"PRAGMA cache_size=-{STREAM_CACHE_KIB}")
    driver.execute("PRAGMA temp_store=FILE")
    try:
        yield
    except Exception:
        _set_pragmas(driver, cache, temp_store)
        raise
    except BaseException:
        # Ctrl-C: SQLAlchemy drops the connection with its transaction open, where the pragmas would wait on
        # the write lock it holds itself; the dropped connection is never used again
        raise
    _set_pragmas(driver, cache, temp_store)


def _set_pragmas(driver, cache: int, temp_store: int) -> None:
    driver.execute(f"PRAGMA cache_size={int(cache)}")
    driver.execute(f"PRAGMA temp_store={int(temp_store)}")


def _stream(engine: Engine, path: Path, *, source: str, default_tz: str) -> BatchResult:
    """Append one journal file part by part in one transaction: all of it, or nothing."""
    content = FORMATS[path.name][0]
    table = STREAMED[content]
    with engine.connect() as connection:
        present = hashchain.fingerprint(connection)[table.name]["rows"]
    # a file that more than doubles the table (at ~100 bytes a row) builds its indexes once, at the end
    deferred = path.stat().st_size // 100 > 2 * present
    total = BatchResult(content, path.name)
    rejections: list[Rejection] = []
    rejected = 0
    sha256 = file_sha256(path)
    with open(path, "rb") as raw, database.indexes_deferred(engine, table, defer=deferred), \
            write_door.collector_paused():
        with engine.connect() as connection, _bounded_memory(connection), connection.begin():
            earlier: list[int] = []
            totals = month_totals.MonthDeltas()  # the file's, kept once at its end: each closing shifts once
            for rows, bad in _parts(path, raw, default_tz):
                try:
                    result = write_door.append_batch(
                        engine, content, rows, source=source, file=path.name, file_sha256=sha256,
                        parse_rejections=bad, connection=connection, earlier_batches=earlier, collected_totals=totals)
                except ImportRejected as error:  # the rest is still read, so that every bad row is reported
                    rejected += error.total
                    rejections.extend(error.rejections[:KEPT_REJECTIONS - len(rejections)])
                    continue
                total.added += result.added
                total.skipped += result.skipped
                if result.batch_id is not None:
                    earlier.append(result.batch_id)
            if rejected:
                raise ImportRejected(rejections, total=rejected)
            write_door.keep_month_totals(connection, path.name, totals)
    return total


def import_paths(engine: Engine, paths: list[Path], *, source: str = "csv",
                 default_tz: str = "UTC") -> list[BatchResult]:
    """:func:`import_each`, collected."""
    return list(import_each(engine, paths, source=source, default_tz=default_tz))
