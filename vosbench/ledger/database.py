"""Connections to the ledger's database: the engine from a URL, per-dialect tuning, bulk writes, meta values.

The ledger's own facts (schema version, reporting time zone) live in ``ledger_meta``;
:func:`ledger_timezone` is how everything else learns the zone days and months are cut in.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core.errors import VosbenchError
from vosbench.ledger.hashchain import LINK_FUNCTION, link
from vosbench.ledger.tables import ledger_meta


class StoreError(VosbenchError, RuntimeError):
    """The ledger cannot be opened or created; the message says why and what to do."""


DATABASE_MODULES = ("sqlalchemy", "sqlite3", "psycopg", "pymysql")
"""Where the errors of the ledger's database come from (matched by module: no driver is imported to tell)."""


def explained(error: BaseException, url: str = "the --db URL") -> str | None:
    """One sentence for an error the ledger's database raised — what happened, in its own first line, and what to
    do — or None when ``error`` is not the database's. Every command and notebook page says it instead of a
    traceback (a damaged file, a lost server, a lock held too long, a value or a guard refused); ``url`` names
    where the reader gave the ledger's URL."""
    if not type(error).__module__.startswith(DATABASE_MODULES):
        return None
    # the database's own words, first line (PostgreSQL adds CONTEXT and HINT lines)
    reason = next(iter(str(getattr(error, "orig", None) or error).strip().splitlines()), "")
    if reason.startswith("database is locked"):  # SQLite's busy timeout ran out behind another writer
        return ("the ledger is busy: another command (an import, a close, an upgrade) has held it for longer than this "
                "one waits to write; what this one had not finished was not written: run it again when that one has "
                "finished")
    if isinstance(error, sa.exc.DataError):  # a value the column cannot hold
        return f"the ledger's database refused a value: {reason}; nothing was written: correct it and run again"
    if isinstance(error, sa.exc.IntegrityError):  # a guard or key of the ledger: the rule is in its words
        return f"the ledger's database refused: {reason}; nothing was written"
    if isinstance(error, sa.exc.OperationalError) and not _reached(error):
        return f"the ledger's database cannot be reached: {reason}; check {url} and that the server runs"
    return f"the ledger's database refused: {reason}; check {url} and run `vosbench verify` on it"


def _reached(error: BaseException) -> bool:
    """Whether a driver's error came from a database it had reached, not from failing to connect."""
    orig = getattr(error, "orig", None)
    state = getattr(orig, "sqlstate", False)  # psycopg: a server's answer carries its SQL state (None: none reached)
    if state is not False:
        return state is not None
    args = getattr(orig, "args", ())
    return not (args and args[0] in _MYSQL_UNREACHABLE)


_MYSQL_UNREACHABLE = (2002, 2003, 2005, 2006, 2013)
"""MariaDB client errors of a server not reached (no socket, refused, unknown host, gone, lost)."""



BUSY_TIMEOUT_MS = 30_000
"""How long an SQLite connection waits for another's write lock before it gives up ("database is locked")."""

CACHE_SIZE = -262144
"""SQLite's page cache per connection, as ``PRAGMA cache_size`` takes it (negative: KiB)."""

SORTING_CACHE_SIZE = -65536
"""The page cache while a deferred index is built: SQLite's sorter keeps runs as large as the cache in memory."""

MAPPED_BYTES = 2147418112
"""How much of a SQLite ledger a connection maps for reading (the most SQLite's builds allow)."""


def _tune_sqlite(dbapi_connection, _record) -> None:
    register_link(dbapi_connection, _record)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL (readers beside a writer) is kept in the file: set on a ledger only (a new one's is set once its tables
    # are made, :func:`vosbench.ledger.setup.initialize`), so a command pointed at some other database, which it
    # then refuses, leaves that file as it was
    if cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'").fetchone():
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA cache_size={CACHE_SIZE}")  # 256 MiB: large appends stay in memory (+10% rate)
    cursor.execute("PRAGMA temp_store=MEMORY")
    # Reads map the file (up to the 2 GiB SQLite's builds allow) rather than copy each page through a
    # read call: a page of 50 records sorted by amount walks thousands of records at random (30,000 of
    # them at 10M: a fifth of the time mapped; the explore benchmark, bench/panel_matrix.py).
    cursor.execute(f"PRAGMA mmap_size={MAPPED_BYTES}")
    # Checkpoint every 40 MB of WAL instead of 4 MB: a bulk append rewrites the same index
    # tails batch after batch, and checkpointing less often writes them once (-10% import time).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def register_link(dbapi_connection, _record) -> None:
    """The row-chain triggers' hash function: a connection without it cannot insert into a guarded table."""
    dbapi_connection.create_function(LINK_FUNCTION, 2, link, deterministic=True)


def execute_many(connection: sa.Connection, statement, rows: list, columns: tuple[str, ...] | None = None) -> None:
    """Run ``statement`` once for each parameter set of ``rows``: dicts by bind name, or tuples in ``columns``' order.

    On SQLite the statement is compiled once and the driver gets plain tuples, so the
    values must be ones it takes as they are (numbers and text): SQLAlchemy's processing
    of each parameter set costs more than SQLite's execution of a one-row statement
    (three times as much on the month totals of a bulk import). Tuples whose order is the
    compiled statement's are handed over as they are. Other dialects take SQLAlchemy's
    usual path.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, rows if columns is None else [dict(zip(columns, row)) for row in rows])
        return
    keys = list(rows[0] if columns is None else columns)
    compiled = statement.compile(dialect=connection.dialect, column_keys=keys)
    order = compiled.positiontup
    if columns is not None and list(order) == keys:
        connection.exec_driver_sql(compiled.string, rows)
        return
    places = order if columns is None else [keys.index(name) for name in order]
    values = operator.itemgetter(*places) if len(places) > 1 else lambda row: (row[places[0]],)
    connection.exec_driver_sql(compiled.string, list(map(values, rows)))


@contextlib.contextmanager
def staged(connection: sa.Connection, name: str, columns: tuple[str, ...], rows: list[tuple]) -> Iterator[sa.TableClause | None]:
    """On SQLite, ``rows`` (tuples in ``columns``' order) in a temporary table of this connection for the block's
    set statements to read (None when there are none); dropped after the block.

    The write door keeps a batch's totals under a savepoint (:mod:`vosbench.ledger.money_bounds`),
    and inside a savepoint SQLite keeps every statement's journal until the savepoint ends:
    a statement per row cost four to fifteen times one outside (measured on the month totals
    of a bulk import, growing with the batch). Plain inserts into a temporary table, which
    carries no index, constraint or trigger, and one set statement cost a row's work.
    """
    if not rows:
        yield None
        return
    # made afresh each time: the columns differ from batch to batch (a batch of charges moves other totals)
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS temp.staged_{name}")
    connection.exec_driver_sql(f"CREATE TEMP TABLE staged_{name} ({', '.join(columns)})")
    connection.exec_driver_sql(f"INSERT INTO temp.staged_{name} VALUES ({', '.join('?' * len(columns))})", rows)
    yield sa.table(f"staged_{name}", *map(sa.column, columns), schema="temp")
    connection.exec_driver_sql(f"DROP TABLE temp.staged_{name}")


def insert_many(connection: sa.Connection, statement: sa.Insert, rows: list[tuple], columns: tuple[str, ...]) -> None:
    """Run the INSERT (or upsert) ``statement`` for ``rows``, tuples in ``columns``' order: on SQLite as one statement.

    On SQLite the rows are :func:`staged` and one ``INSERT … SELECT`` (with the statement's
    ``ON CONFLICT`` clause) takes them all; other dialects run :func:`execute_many`.
    """
    if connection.dialect.name != "sqlite":
        execute_many(connection, statement, rows, columns)
        return
    with staged(connection, statement.table.name, columns, rows) as table:
        if table is not None:
            # WHERE, even a true one: without it SQLite would read an ON CONFLICT after FROM as a join's ON
            connection.execute(statement.from_select(columns, sa.select(*table.c).where(sa.true())))


_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}
"""The driver each server dialect gets when the URL names none (the ones vosbench installs)."""

_DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "pymysql": "pymysql"}


def kept_sum(dialect: str, kept: sa.ColumnElement, added: sa.ColumnElement) -> sa.ColumnElement:
    """``kept + added`` for a money total the ledger keeps, never a float.

    SQLite turns an integer sum past 64 bits into a REAL: here it raises "integer overflow"
    instead (the absolute value of the smallest integer), which the write door words
    (:mod:`vosbench.ledger.money_bounds`). The servers raise an overflow on their own. One
    expression per updated cell costs nothing beside the write; a trigger per row cost a
    fifth of an import.
    """
    total = kept + added
    if dialect != "sqlite":
        return total
    # constants as SQL text, not parameters: execute_many binds a statement's own columns only
    return sa.case((sa.func.typeof(total) == sa.literal_column("'integer'"), total),
                   else_=sa.func.abs(sa.literal_column("-9223372036854775807 - 1")))


def ledger_url(url: str) -> sa.URL:
    """``url`` parsed, or an error naming it and the forms a ledger URL takes."""
    try:
        return sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise StoreError(
            f"ledger URL {url!r} is not a database URL ({error}); give one like "
            "sqlite:///path/ledger.sqlite, postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db"
        ) from None


def folder_named(url: str) -> StoreError | None:
    """The error for a SQLite URL naming a folder, where a ledger file was meant (None for any other URL)."""
    parsed = ledger_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or not Path(parsed.database).expanduser().is_dir():
        return None
    folder = Path(parsed.database).expanduser().resolve()
    return StoreError(f"no vosbench ledger at {url}: {folder} is a folder; give the ledger file in it, "
                      f"e.g. sqlite:///{folder / 'ledger.sqlite'}")


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite files the folder is created on demand.

    ``postgresql://`` and ``mysql://`` (or ``mariadb://``) without a driver get the one
    vosbench installs (psycopg 3, PyMySQL), not SQLAlchemy's historical default.
    """
    parsed = ledger_url(url)
    backend = parsed.get_backend_name()
    if backend != "sqlite" and backend not in _DRIVERS:
        raise StoreError(f"ledger URL {parsed.render_as_string()!r}: vosbench keeps a ledger in SQLite, PostgreSQL or "
                         f"MariaDB/MySQL, not {backend}; give sqlite:///path/ledger.sqlite, "
                         "postgresql+psycopg://user@host/db or mysql+pymysql://user@host/db")
    if backend in _DRIVERS and "+" not in parsed.drivername:
        parsed = parsed.set(drivername=f"{backend}+{_DRIVERS[backend]}")
    if backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed, **_server_options(backend))
    except ModuleNotFoundError as error:
        package = _DRIVER_PACKAGES.get(error.name or "", error.name or parsed.drivername)
        raise StoreError(f"the database driver for {parsed.drivername} is not installed; "
                         f"install it with `pip install '{package}'`") from None
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError) as error:
        raise StoreError(f"ledger URL {parsed.render_as_string()!r} cannot be used: {error}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


def _server_options(backend: str) -> dict:
    """Engine options for a server: connections checked before use (a server restarts, SQLite does not)."""
    if backend == "sqlite":
        return {}
    # Writers lock a chain head and then read rows others committed meanwhile (month totals,
    # a request's decision): READ COMMITTED, PostgreSQL's default, is what MariaDB gets too.
    options: dict = {"pool_pre_ping": True, "isolation_level": "READ COMMITTED"}
    if backend == "postgresql":
        # psycopg prepares a statement run five times, and PostgreSQL may then keep one plan for it
        # made when the table was small: a bulk import's key lookups kept scanning a journal grown
        # since (seconds per batch). Unprepared, each is planned for the table as it is.
        options["connect_args"] = {"prepare_threshold": None}
    return options


def refresh_statistics(engine: Engine) -> None:
    """Give SQLite's planner fresh statistics of the payments when they grew by a tenth since the last.

    Without them it guesses, and on a large ledger guesses badly: it walks the (kind, amount)
    index to group a method's records and looks up every row (4.7 s where a scan takes 0.4 s,
    at 1M). Sampled statistics (``analysis_limit``) read the first rows of each index only, which
    for (kind, amount) are one kind: they mislead it as much, so the count is exact, and renewed
    only on growth (1.6 s at 1M records). Imports and syncs call it after appending; other
    databases keep their own.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        rows = connection.scalar(sa.select(sa.func.max(sa.column("id"))).select_from(sa.table("payments"))) or 0
        known = connection.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'payments' LIMIT 1").scalar() \
            if connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").scalar() else None
        if known is not None and rows <= int(str(known).split()[0]) * 1.1:
            return
        connection.exec_driver_sql("ANALYZE")
        connection.commit()


@contextlib.contextmanager
def indexes_deferred(engine: Engine, table: sa.Table, defer: bool) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for the length of a bulk append, then build them again.

    Building an index once over all rows costs less than keeping it up to date row by row
    when the append more than doubles the table (payments, measured at 1M rows: 5 µs per
    row to build the four indexes at the end against 6 to 7 to keep them on the way). The
    unique constraints stay, so keys are still checked on every insert. Readers see the
    same rows meanwhile, only slower. The indexes are built again when the block ends, by an
    error too; if it is interrupted (Ctrl-C) or the process is killed inside it, :func:`upgrade`
    builds them when the ledger is next opened. ``defer`` False (or a dialect other than SQLite)
    leaves the indexes alone.
    """
    if not defer or engine.dialect.name != "sqlite":
        yield
        return
    # IF [NOT] EXISTS: another importer of the same ledger may drop or build them at the same time
    with engine.begin() as connection:
        for index in table.indexes:
            connection.execute(sa.schema.DropIndex(index, if_exists=True))
    try:
        yield
    except Exception:
        _build_indexes(engine, table)
        raise
    except BaseException:
        # Ctrl-C: SQLAlchemy drops the append's connection unrolled, and it keeps the write lock until the
        # process ends, so a build now would wait for it and fail; the next open builds them
        raise
    _build_indexes(engine, table)


def _build_indexes(engine: Engine, table: sa.Table) -> None:
    """Build ``table``'s secondary indexes where they are missing (:func:`indexes_deferred`)."""
    with engine.connect() as connection:
        # the sort runs spill to a temporary file, so memory stays bounded whatever the
        # table's size (and at 1M payments the build is a quarter faster than in memory);
        # each run is as large as the page cache, which beside the cache itself held 520 MiB
        # at 2M payments: a quarter of the cache holds 130 MiB and builds as fast
        connection.exec_driver_sql("PRAGMA temp_store=FILE")
        connection.exec_driver_sql(f"PRAGMA cache_size={SORTING_CACHE_SIZE}")
        try:
            for index in table.indexes:
                connection.execute(sa.schema.CreateIndex(index, if_not_exists=True))
            connection.commit()
        finally:
            connection.exec_driver_sql(f"PRAGMA cache_size={CACHE_SIZE}")
            connection.exec_driver_sql("PRAGMA temp_store=MEMORY")



@contextlib.contextmanager
def unmapped(engine: Engine) -> Iterator[None]:
    """Connections taken from ``engine``'s pool inside the block read a SQLite file through SQLite's page cache
    (``cache_size``), not by mapping it.

    A page read through the map stays resident in the process until the map goes: a bulk
    import, which reads the whole journal after appending (its text index, its statistics),
    held as much of the file as it read — 450 MiB of a 1M-payment ledger, up to the 2 GiB
    mapped at 10M — where the page cache holds a bounded 256 MiB. Connections get their map
    back when returned to the pool. Other dialects map nothing.
    """
    if engine.dialect.name != "sqlite":
        yield
        return

    def sized(size: int):
        def pragma(dbapi_connection, *_record) -> None:
            if dbapi_connection is None:  # an invalidated connection, checked in closed
                return
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA mmap_size={size}")
            cursor.close()
        return pragma

    unmap, remap = sized(0), sized(MAPPED_BYTES)
    sa.event.listen(engine, "checkout", unmap)
    sa.event.listen(engine, "checkin", remap)
    try:
        yield
    finally:
        sa.event.remove(engine, "checkout", unmap)
        sa.event.remove(engine, "checkin", remap)


def get_meta(connection: sa.Connection, key: str, default: str | None = None) -> str | None:
    """One value from ``ledger_meta``."""
    value = connection.scalar(sa.select(ledger_meta.c.value).where(ledger_meta.c.key == key))
    return default if value is None else value


def set_meta(connection: sa.Connection, key: str, value: str) -> None:
    """Insert or replace one ``ledger_meta`` value (metadata, not a journal record)."""
    connection.execute(ledger_meta.delete().where(ledger_meta.c.key == key))
    connection.execute(ledger_meta.insert().values(key=key, value=value))


def ledger_timezone(connection: sa.Connection) -> str:
    """The IANA time zone the ledger cuts its days and months in."""
    zone = get_meta(connection, "timezone")
    return "UTC" if zone is None else zone


def inserted_id(result: sa.CursorResult) -> int:
    """The id the database gave the row a single-row ``insert()`` wrote."""
    # SQLAlchemy types the key Optional (it is None for a statement that wrote no row);
    # a single-row insert always has one, so a None here would be a broken statement
    key = result.inserted_primary_key
    if key is None:
        raise RuntimeError("the insert wrote no row, so it has no id")
    return key[0]


def is_duplicate_key(error: sa.exc.IntegrityError) -> bool:
    """Whether the database refused a row because its unique key is already present (a concurrent writer's row),
    not for a guard or another constraint: SQLite's UNIQUE/PRIMARY KEY failure, PostgreSQL's SQLSTATE 23505,
    MariaDB's error 1062."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":
        return True
    arguments = getattr(original, "args", None) or (None,)
    return arguments[0] == 1062 or any(text in str(original) for text in ("UNIQUE constraint failed",
                                                                          "PRIMARY KEY constraint failed"))
