"""Importing statement files: pick the reader, then append every line in one transaction, or none.

OFX/QFX, CAMT (camt.052, .053, .054) and SWIFT MT940/MT942 are recognized by their
content and read a piece at a time; CSV and XLSX need a mapping profile. What a reader had to bend for (a missing
balance, a byte-order mark, an over-long field cut to the column's size) comes back as
the file's warnings, once each, stored with the import. A line already in the ledger under its key (statement
account + line key) is skipped when it moves the same money, so re-importing a file, an
overlapping statement, or the month's camt.053 after the day's camt.054 notifications adds
nothing twice; what it tells otherwise (more text, a settled date) is said in a warning and
the first telling kept, since statement lines are never edited. Other money under the same
key is refused, naming both amounts. Every rejected row is reported with file, line and reason, and nothing of the
file is written.
"""

from __future__ import annotations

import contextlib
import functools
import operator
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench import __version__
from vosbench.core import money
from vosbench.core.money import MAX_MINOR
from vosbench.ledger import bulk_links, database, hashchain, tables
from vosbench.ledger.write_door import ImportRejected, Rejection, collector_paused
from vosbench.sources.bankfiles import camt, mt940, ofx, outgoing, profiles, reading, tabular
from vosbench.sources.bankfiles.lines import (
    ParsedStatement,
    StatementFileError,
    StatementLine,
    check_channel,
    fitted,
    without_zero_lines,
)

_T, _I, _W = tables.statement_lines, tables.statement_imports, tables.statement_import_warnings
_CACHE_KIB = 32 * 1024
_ROWS_PER_INSERT = 5_000
_KEYS_PER_QUERY = 5_000  # bound keys per lookup: below every dialect's limit, few statements to compile
_COLUMNS = ("import_id", "channel", "statement_account", "statement_id", "line_key", "posted_on", "value_on",
            "amount", "currency", "reference", "counterparty", "account_hint", "description", "raw")
"""The inserted columns of a statement line, in the order :func:`_row` gives their values."""
_COMPARED = ("posted_on", "value_on", "amount", "currency", "reference", "counterparty", "account_hint",
             "description")


@dataclass
class StatementImport:
    """What importing one file did."""

    file: str
    format: str
    channel: str
    statements: int
    added: int
    skipped: int
    import_id: int | None = None
    warnings: tuple[str, ...] = ()

    @property
    def outcome(self) -> str:
        """``imported`` when lines were added, else ``unchanged``."""
        return "imported" if self.added else "unchanged"


def read(path: Path, *, profile: str | None = None, channel: str | None = None,
         name: str | None = None) -> tuple[ParsedStatement, profiles.FeeSchedule]:
    """Parse ``path`` with the reader its content (or ``profile``) calls for: every line, in a list."""
    parsed, lines, fee = open_statement(path, profile=profile, channel=channel, name=name)
    parsed.lines = list(lines)
    return parsed, fee


def open_statement(path: Path, *, profile: str | None = None, channel: str | None = None, name: str | None = None,
                   ) -> tuple[ParsedStatement, Iterator[StatementLine], profiles.FeeSchedule]:
    """The statement record of ``path`` and its lines as they are read, classified and fitted to the store.

    OFX, CAMT and MT940 are read a piece at a time; the record's rejections, warnings and
    counts are complete once every line has been taken.
    """
    if path.is_dir():
        raise StatementFileError(f"{path}: is a folder; give the statement file(s) in it")
    if not path.exists():
        raise StatementFileError(f"{path}: no such file")
    if not path.is_file():
        raise StatementFileError(f"{path}: is not a regular file (a device or a pipe); give a statement file")
    with path.open("rb") as source:
        head = source.read(4096)
    file = name or path.name
    structured = ofx.looks_like_ofx(head) or camt.looks_like_camt(head) or mt940.looks_like_mt940(head)
    chosen = profiles.load(profile) if profile else None
    if chosen is not None and chosen.reads == "table":
        if structured:
            raise StatementFileError(f"{file}: is an OFX/CAMT/MT940 statement; import it without --profile "
                                     "(or with a reads: statement profile for its rules)")
        parsed, lines = _listed(tabular.parse(path, chosen, name=file))
    elif chosen is not None and not structured:
        raise StatementFileError(f"{file}: profile {chosen.name} holds rules for OFX/CAMT/MT940 statements, and "
                                 "this file is none of them; give a CSV/XLSX profile")
    elif ofx.looks_like_ofx(head) or path.suffix.lower() in (".ofx", ".qfx"):
        parsed, lines = ofx.stream(path, name=file)
    elif camt.looks_like_camt(head) or path.suffix.lower() == ".xml":
        parsed, lines = camt.stream(path, name=file)
    elif mt940.looks_like_mt940(head) or path.suffix.lower() in (".sta", ".940", ".942", ".mt940"):
        parsed, lines = mt940.stream(path, name=file)
    else:
        raise StatementFileError(f"{file}: not OFX/QFX, CAMT or MT940; for a CSV or XLSX export give "
                                 f"--profile NAME (one of {', '.join(profiles.available())}) or a profile YAML")
    fee = chosen.fee if chosen is not None else profiles.FeeSchedule()
    if chosen is not None:
        parsed.channel = chosen.channel
        parsed.profile = chosen.name
    lines = outgoing.classify(lines, chosen.outgoing if chosen is not None else (),
                              bank_codes=chosen is None or chosen.reads == "statement")
    lines = fitted(without_zero_lines(lines, parsed.warnings), parsed.file, parsed.rejections, parsed.warnings)
    if channel:
        parsed.channel = check_channel(channel)
    return parsed, lines, fee


def _listed(parsed: ParsedStatement) -> tuple[ParsedStatement, Iterator[StatementLine]]:
    """A statement its reader read whole (CSV, XLSX: small files), as a record and its lines."""
    lines, parsed.lines = parsed.lines, []
    return parsed, iter(lines)


def import_file(engine: Engine, path: Path | str, *, profile: str | None = None, channel: str | None = None,
                name: str | None = None, imported_at: datetime | None = None) -> StatementImport:
    """Import one statement file all-or-nothing; raise :class:`ImportRejected` listing every bad row.

    The file is read a few thousand lines at a time (a large one by a second process, see
    :mod:`~vosbench.sources.bankfiles.reading`), each batch checked against the ledger as it
    comes. On SQLite the batch is appended at once, under the id the import's own record
    will have: that record counts the lines and is never edited, so it is written last, and
    the foreign keys are checked at the commit. Other databases check them at once, so there
    the rows are held until the record is written. A rejected line anywhere rolls it all back.
    When another import appends the same lines at the same moment and commits first, the
    database refuses this one's on their unique key: the file is then read once more, and
    finds them present. Any other refusal (a guard, a constraint) is the database's answer,
    raised at once.
    """
    path = Path(path)
    imported_at = imported_at or datetime.now(UTC).replace(tzinfo=None)
    try:
        return _import_once(engine, path, profile=profile, channel=channel, name=name, imported_at=imported_at)
    except sa.exc.IntegrityError as error:
        if not database.is_duplicate_key(error):
            raise
        # another import appended the same lines and committed while this one read: read again, they are present now
    try:
        return _import_once(engine, path, profile=profile, channel=channel, name=name, imported_at=imported_at)
    except sa.exc.IntegrityError as error:
        if not database.is_duplicate_key(error):
            raise
        reason = " ".join(str(error.orig).split())[:160]
        raise StatementFileError(f"{name or path.name}: the ledger refused its lines twice ({reason}); another import "
                                 "of the same statement may be running: import it again when it has ended") from None


def _import_once(engine: Engine, path: Path, *, profile: str | None, channel: str | None, name: str | None,
                 imported_at: datetime) -> StatementImport:
    """One attempt of :func:`import_file`, in one transaction."""

    def open_lines() -> tuple[ParsedStatement, Iterator[StatementLine], profiles.FeeSchedule]:
        return open_statement(path, profile=profile, channel=channel, name=name)

    # a CAMT import allocates millions of acyclic elements: the collector's passes were a quarter of its time
    with collector_paused(), engine.begin() as connection, _page_cache(connection, _CACHE_KIB):
        streams = connection.dialect.name == "sqlite"
        day = _day_as_text if streams else _day
        row = functools.partial(_row, day=day)
        with reading.reading(open_lines, row, size=path.stat().st_size if path.is_file() else 0) as statement:
            parsed = statement.parsed
            import_id = _next_import_id(connection) if streams else None
            held_rows: list[tuple] = []  # servers: the rows, until the import's record is written
            added, skipped, rejections = 0, 0, []
            seen: dict[tuple[str, str], tuple] = {}
            held: dict[str, bool] = {}
            retold: Counter = Counter()  # fields that lines already kept tell otherwise in this file
            with bulk_links.linked_in_batches(connection, _T.name) as linked:
                for numbers, rows in statement.batches():
                    new, skipped_here, rejected = _new_lines(connection, parsed.file, numbers, rows, seen, held, day,
                                                                  retold)
                    skipped += skipped_here
                    rejections += rejected
                    if statement.rejected or rejections:  # nothing more is written: the whole file is refused
                        continue
                    added += len(new)
                    if import_id is None:
                        held_rows += new
                    elif new:  # a batch already in the ledger lifts no trigger
                        linked(functools.partial(_append, connection, import_id, parsed.channel, new))
            parsed = statement.parsed  # complete now that every line has been read
        if parsed.rejections:
            raise ImportRejected(parsed.rejections)
        if rejections:
            raise ImportRejected(rejections)
        result = StatementImport(parsed.file, parsed.format, parsed.channel, parsed.statements, added, skipped,
                                 warnings=(*parsed.warnings, *([_retold_warning(retold)] if retold else ()),
                                           *_rules_not_applied(profile, skipped)))
        if added:
            result.import_id = database.inserted_id(connection.execute(_I.insert().values(
                **({"id": import_id} if import_id is not None else {}),
                file_name=parsed.file, file_sha256=parsed.sha256, format=parsed.format, profile=parsed.profile,
                channel=parsed.channel, fee_percent=str(statement.fee.percent), fee_fixed=statement.fee.fixed,
                fee_tolerance=statement.fee.tolerance, statements=parsed.statements, lines_added=added,
                lines_skipped=skipped, imported_at=imported_at, vosbench_version=__version__)))
            if result.warnings:  # kept with the import, chained like it: what the file was read in spite of
                connection.execute(_W.insert(), [dict(import_id=result.import_id, warning=warning.replace("\x00", ""))
                                                 for warning in result.warnings])
            _append(connection, result.import_id, parsed.channel, held_rows)
            _within_bound(connection, parsed.file)
    return result


def _within_bound(connection: sa.Connection, file: str) -> None:
    """Refuse the import (its transaction is rolled back) when the statement lines' amounts, this file's with the
    ledger's, add up past the largest amount the ledger holds: every sum the matching makes then stays exact.

    SQLite's SUM raises on an integer overflow; the servers sum into NUMERIC/DECIMAL.
    """
    try:
        total = connection.scalar(sa.select(sa.func.coalesce(sa.func.sum(sa.func.abs(_T.c.amount)), 0)))
    except sa.exc.DBAPIError:
        total = None
    if total is None or int(total) > MAX_MINOR:
        raise StatementFileError(f"{file}: its lines would take the statement lines' amounts past "
                                 f"{money.format_money(MAX_MINOR, 4)} in all, the largest amount the ledger can hold; "
                                 "check the amounts in the file")


def _next_import_id(connection: sa.Connection) -> int:
    """The id this import's record will have, with the ledger's write lock taken so that no other import takes it.

    Its lines are appended under this id before the record itself is written (last, when
    the counts are known): the foreign keys are checked at the commit instead of per row.
    """
    hashchain.lock_head(connection, _I.name)  # SQLite: the first write of the transaction locks the database
    connection.exec_driver_sql("PRAGMA defer_foreign_keys=ON")  # until the transaction ends
    return int(connection.execute(sa.select(sa.func.coalesce(sa.func.max(_I.c.id), 0))).scalar_one()) + 1


def _append(connection: sa.Connection, import_id: int, channel: str, rows: list[tuple]) -> None:
    """Append statement lines (their values after ``import_id`` and ``channel``), a chunk of parameter sets at a time."""
    head = (import_id, channel)
    for start in range(0, len(rows), _ROWS_PER_INSERT):  # parameter sets made per chunk: memory stays flat
        database.execute_many(connection, _T.insert(), [head + row for row in rows[start:start + _ROWS_PER_INSERT]],
                              _COLUMNS)


@contextlib.contextmanager
def _page_cache(connection: sa.Connection, kibibytes: int) -> Iterator[None]:
    """SQLite's page cache of this connection bounded for the length of the block, then as it was.

    The ledger's connections keep a large cache for bulk appends of payments; a statement's
    lines are appended once, and there the cache filled with their pages would be most of
    the import's memory (a 100k-line statement: +100 MiB).
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    before = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    connection.exec_driver_sql(f"PRAGMA cache_size=-{int(kibibytes)}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={before}")


def _day(day: date | None) -> date | None:
    return day


def _day_as_text(day: date | None) -> str | None:
    """A day as SQLite's DATE column stores it: the driver is handed the text (see database.execute_many)."""
    return day.isoformat() if day is not None else None


def _row(line: StatementLine, day) -> tuple:
    """A line as the values of its row after ``import_id`` and ``channel`` (see :data:`_COLUMNS`): all it is kept as."""
    return (line.statement_account, line.statement_id, line.line_key, day(line.posted_on), day(line.value_on),
            line.amount, line.currency, line.reference, line.counterparty, line.account_hint, line.description,
            line.raw_text())


_ACCOUNT, _KEY = _COLUMNS.index("statement_account") - 2, _COLUMNS.index("line_key") - 2
_figures = operator.itemgetter(*(_COLUMNS.index(name) - 2 for name in _COMPARED))
"""A row's compared values, as a tuple (the row starts after ``import_id`` and ``channel``)."""
_money = operator.itemgetter(_COMPARED.index("amount"), _COMPARED.index("currency"))
"""The money of a line's compared figures: what the same transaction told again must repeat."""
_FIELD_NAMES = {"posted_on": "posted date", "value_on": "value date", "account_hint": "account hint"}


def _new_lines(connection: sa.Connection, file: str, numbers: list[int], rows: list[tuple],
               seen: dict[tuple[str, str], tuple], held: dict[str, bool], day, retold: Counter,
               ) -> tuple[list[tuple], int, list[Rejection]]:
    """Of a few thousand rows, those not yet in the ledger nor earlier in the file; those already there are skipped.

    ``numbers`` are the rows' places in the file, for messages. ``seen`` holds what the
    file's earlier lines said (their compared figures, by key) and is added to; ``held``
    whether the ledger holds any line of a statement account (asked once per account: the
    keys of an account it has never seen are not looked up). A stored line's figures are
    compared in the form its row is written in (``day`` gives a date's).

    A line under a key already taken is the same transaction when it moves the same money
    (amount and currency): banks tell a transaction again with more text or a settled date
    (a camt.054 notification, then the month's camt.053; an OFX download's pending name,
    then the posted one). It is skipped, the first telling kept, and each field it tells
    otherwise is counted in ``retold``. Other money under the same key is refused, naming both.
    """
    new: list[tuple] = []
    skipped, rejections = 0, []
    for start in range(0, len(rows), _KEYS_PER_QUERY):
        chunk = rows[start:start + _KEYS_PER_QUERY]
        existing: dict[tuple[str, str], Any] = {}
        for account in sorted({row[_ACCOUNT] for row in chunk}):
            if account not in held:
                held[account] = connection.execute(
                    sa.select(_T.c.id).where(_T.c.statement_account == account).limit(1)).first() is not None
            if not held[account]:
                continue
            keys = [row[_KEY] for row in chunk if row[_ACCOUNT] == account]
            for found in connection.execute(sa.select(_T.c.line_key, *(_T.c[name] for name in _COMPARED)).where(
                    _T.c.statement_account == account, _T.c.line_key.in_(keys))):
                existing[(account, found.line_key)] = found
        for number, row in zip(numbers[start:start + _KEYS_PER_QUERY], chunk):
            key = (row[_ACCOUNT], row[_KEY])
            earlier = seen.get(key)
            stored = existing.get(key) if existing else None
            figures = _figures(row)
            if earlier is None and stored is None:  # the common case: a new line, compared with nothing
                seen[key] = figures
                new.append(row)
                continue
            if earlier is not None:
                known = earlier
            else:
                assert stored is not None  # one of the two was found
                known = (day(stored.posted_on), day(stored.value_on), *stored[3:])
            if _money(figures) == _money(known):
                skipped += 1
                retold.update(name for name, here, kept in zip(_COMPARED, figures, known) if here != kept)
            else:
                where = "earlier in this file" if earlier is not None else "in the ledger"
                rejections.append(Rejection(file, number, (
                    f"transaction {row[_KEY]} of {row[_ACCOUNT]} is {where} as {_said(known)} and here as "
                    f"{_said(figures)}; statement lines are never edited: check which export is right")))
    return new, skipped, rejections


def _said(figures: tuple) -> str:
    """A line's money, from its compared figures, as a message says it."""
    amount, currency = _money(figures)
    return f"{money.format_money(int(amount))} {currency}"


def _rules_not_applied(profile: str | None, skipped: int) -> list[str]:
    """The warning that ``profile``'s outgoing rules left the ``skipped`` lines already present as first imported."""
    if not (skipped and profile and profiles.load(profile).outgoing):
        return []
    return [f"{skipped} line(s) already present keep the classes of their first import (lines are never edited): "
            f"to set their money out apart by these rules, match with `vosbench match --month YYYY-MM --outgoing "
            f"{profile}`"]


def _retold_warning(retold: Counter) -> str:
    """The file's warning for lines skipped as already kept although they tell some fields otherwise."""
    fields = ", ".join(f"{_FIELD_NAMES.get(name, name)} ({count} line{'s' if count > 1 else ''})"
                       for name, count in sorted(retold.items()))
    return (f"lines already kept (same transaction id, amount and currency) are told here with another {fields}: "
            "the first telling is kept, since statement lines are never edited")


def imported(engine: Engine) -> list[dict]:
    """Every statement import with its date range, totals and warnings (joined by ' | '), oldest first."""
    with engine.connect() as connection:
        statement = (sa.select(_I.c.id, _I.c.file_name, _I.c.format, _I.c.profile, _I.c.channel, _I.c.statements,
                               _I.c.lines_added, _I.c.lines_skipped, _I.c.imported_at,
                               sa.func.min(_T.c.posted_on).label("first_day"),
                               sa.func.max(_T.c.posted_on).label("last_day"),
                               sa.cast(sa.func.coalesce(sa.func.sum(_T.c.amount), 0), sa.BigInteger).label("net"))
                     .select_from(_I.outerjoin(_T, _T.c.import_id == _I.c.id))
                     .group_by(*(c for c in _I.c if c.name in (
                         "id", "file_name", "format", "profile", "channel", "statements", "lines_added",
                         "lines_skipped", "imported_at"))).order_by(_I.c.id))
        rows = [dict(row._mapping) for row in connection.execute(statement)]
        warnings = import_warnings(connection)
    for row in rows:
        row["warnings"] = " | ".join(warnings.get(row["id"], ()))
    return rows


def import_warnings(connection: sa.Connection, import_ids: list[int] | None = None) -> dict[int, list[str]]:
    """The stored warnings per import id (of ``import_ids`` only, when given), in the order they were written."""
    statement = sa.select(_W.c.import_id, _W.c.warning).order_by(_W.c.id)
    if import_ids is not None:
        statement = statement.where(_W.c.import_id.in_(import_ids))
    found: dict[int, list[str]] = {}
    for row in connection.execute(statement):
        found.setdefault(row.import_id, []).append(row.warning)
    return found
