"""The ledger store: SQLAlchemy engine from a URL, table definitions, append-only guards.

Money columns are BIGINT minor units (see :mod:`vosbench.money`); times are naive
UTC datetimes; a charge ``day`` is a calendar date in the ledger's reporting time
zone. The database itself refuses UPDATE and DELETE on the journal tables, so an
edit can only happen behind the workbench's back — and the hash chain
(:mod:`vosbench.chain`) then detects it.
"""

from __future__ import annotations

import contextlib
import operator
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine

SCHEMA_VERSION = "2"  # 2: explore indexes on payments, per-kind counts in account_months

metadata = sa.MetaData()

Money = sa.BigInteger
UtcTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

ledger_meta = sa.Table(
    "ledger_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

import_batches = sa.Table(
    "import_batches",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("content", sa.String(32), nullable=False),  # accounts, payments, charges, balances
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("rows_added", sa.Integer, nullable=False),
    sa.Column("rows_skipped", sa.Integer, nullable=False),
    sa.Column("imported_at", UtcTime, nullable=False),
    sa.Column("vosbench_version", sa.String(32), nullable=False),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("accounts.id"), index=True),
    sa.Column("credit_limit", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
)

payments = sa.Table(
    "payments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("occurred_at", UtcTime, nullable=False),
    sa.Column("recorded_at", UtcTime, nullable=False),
    sa.Column("operator", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("memo", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("balance_after", Money),
    # UNIQUE: the database itself refuses a second reversal of the same record.
    sa.Column("reverses_id", sa.Integer, sa.ForeignKey("payments.id"), unique=True),
    sa.Column("approved_by", sa.String(64), nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("source_key", sa.String(255), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("source", "source_key", name="uq_payments_source_key"),
    sa.Index("ix_payments_account_time", "account_id", "occurred_at"),
    sa.Index("ix_payments_time", "occurred_at"),
    # The explore filters: a kind and amount range, and an operator with its per-kind totals
    # read from the index alone. Both grow at a few tails, so appends stay cheap.
    sa.Index("ix_payments_kind_amount", "kind", "amount"),
    sa.Index("ix_payments_operator_time", "operator", "occurred_at", "kind", "amount"),
)

charges = sa.Table(
    "charges",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("call_fee", Money, nullable=False),
    sa.Column("agent_fee", Money, nullable=False),
    sa.Column("other_fee", Money, nullable=False),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "day", name="uq_charges_account_day"),
    sa.Index("ix_charges_day", "day"),
)

balance_snapshots = sa.Table(
    "balance_snapshots",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("as_of", UtcTime, nullable=False),
    sa.Column("balance", Money, nullable=False),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("import_batches.id")),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "as_of", name="uq_snapshots_account_as_of"),
    sa.Index("ix_snapshots_as_of", "as_of"),
)

# Derived, kept in the same transaction as every append; `verify` recomputes it.
PAYMENT_KIND_COLUMNS = ("deposit", "withdrawal", "adjustment", "bonus", "commission", "auto_recharge")
MONTH_TOTAL_COLUMNS = (*PAYMENT_KIND_COLUMNS, "call_fee", "agent_fee", "other_fee")
KIND_COUNT_COLUMNS = tuple(f"{kind}_count" for kind in PAYMENT_KIND_COLUMNS)
"""Records per kind and month: with the sums they answer an unfiltered or month-aligned count."""
account_months = sa.Table(
    "account_months",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),  # YYYY-MM in the ledger's time zone
    *(sa.Column(name, Money, nullable=False, default=0) for name in MONTH_TOTAL_COLUMNS),
    sa.Column("calls", sa.Integer, nullable=False, default=0),
    sa.Column("payment_count", sa.Integer, nullable=False, default=0),
    sa.Column("closing", Money, nullable=False, default=0),
    # Last, so that a ledger of schema 1 gains them by ALTER TABLE in the same column order.
    *(sa.Column(name, sa.Integer, nullable=False, default=0) for name in KIND_COUNT_COLUMNS),
    sa.Index("ix_account_months_month", "month"),
)

chain_heads = sa.Table(
    "chain_heads",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("last_id", sa.Integer, nullable=False),
    sa.Column("head_hash", sa.String(64), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
)

# --- statements: bank, gateway, IVR and crypto records matched against payments (vosbench.statements) ---
statement_imports = sa.Table(
    "statement_imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("file_name", sa.String(512), nullable=False),
    sa.Column("file_sha256", sa.String(64), nullable=False),
    sa.Column("format", sa.String(16), nullable=False),  # ofx, camt053, csv, xlsx
    sa.Column("profile", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # bank, gateway, ivr, crypto
    # the source's fee schedule, from the profile: what it keeps of each payment
    sa.Column("fee_percent", sa.String(16), nullable=False),  # decimal text, e.g. '2.9'
    sa.Column("fee_fixed", Money, nullable=False),
    sa.Column("fee_tolerance", Money, nullable=False),
    sa.Column("statements", sa.Integer, nullable=False),
    sa.Column("lines_added", sa.Integer, nullable=False),
    sa.Column("lines_skipped", sa.Integer, nullable=False),
    sa.Column("imported_at", UtcTime, nullable=False),
    sa.Column("vosbench_version", sa.String(32), nullable=False),
)

statement_lines = sa.Table(
    "statement_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("statement_imports.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("statement_account", sa.String(128), nullable=False),  # IBAN, OFX ACCTID, profile's source
    sa.Column("statement_id", sa.String(128), nullable=False),
    sa.Column("line_key", sa.String(255), nullable=False),  # bank's transaction id, else a content hash
    sa.Column("posted_on", sa.Date, nullable=False),
    sa.Column("value_on", sa.Date),
    sa.Column("amount", Money, nullable=False),  # signed: + money in
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("counterparty", sa.String(255), nullable=False),
    sa.Column("account_hint", sa.String(64), nullable=False),  # a ledger account the source names, if any
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("raw", sa.Text, nullable=False),
    sa.UniqueConstraint("statement_account", "line_key", name="uq_statement_lines_key"),
    sa.Index("ix_statement_lines_posted", "posted_on"),
    sa.Index("ix_statement_lines_amount", "amount"),
)

match_decisions = sa.Table(
    "match_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("action", sa.String(16), nullable=False),  # confirm, reject, match
    sa.Column("line_ids", sa.String(512), nullable=False),  # comma-separated statement_lines ids
    sa.Column("payment_ids", sa.String(512), nullable=False),  # comma-separated payments ids
    sa.Column("decided_by", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
)

# --- controls (issue 5): who the operators are, agents' rates, maker-checker, finding notes ---
# Reference data the controls read: the back office as configured, not a journal.
operators = sa.Table(
    "operators",
    metadata,
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("shift_start", sa.Integer, nullable=False),  # minutes after local midnight
    sa.Column("shift_end", sa.Integer, nullable=False),
    sa.Column("working_days", sa.String(16), nullable=False),  # ISO weekdays, e.g. '12345'
)

operator_accounts = sa.Table(  # accounts an operator owns or manages (self-dealing check)
    "operator_accounts",
    metadata,
    sa.Column("login", sa.String(64), sa.ForeignKey("operators.login"), primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("relation", sa.String(64), nullable=False),
)

commission_rates = sa.Table(  # an agent's or reseller's configured rate on its sub-accounts' call fees
    "commission_rates",
    metadata,
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("rate", sa.String(16), nullable=False),  # decimal text, e.g. '0.035'
)

approval_requests = sa.Table(  # a manual entry above its threshold, waiting for a second operator
    "approval_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("requested_at", UtcTime, nullable=False),
    sa.Column("maker", sa.String(64), nullable=False),
    sa.Column("account", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("occurred_at", UtcTime, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("method", sa.String(16), nullable=False),
    sa.Column("reference", sa.String(255), nullable=False),
    sa.Column("memo", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("threshold", Money, nullable=False),
)

approval_decisions = sa.Table(
    "approval_decisions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # UNIQUE: a request is decided once.
    sa.Column("request_id", sa.Integer, sa.ForeignKey("approval_requests.id"), nullable=False, unique=True),
    sa.Column("decision", sa.String(16), nullable=False),  # approved, rejected
    sa.Column("checker", sa.String(64), nullable=False),
    sa.Column("decided_at", UtcTime, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("payment_id", sa.Integer, sa.ForeignKey("payments.id")),
)

finding_annotations = sa.Table(  # an auditor's status and note on a finding; the latest one counts
    "finding_annotations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", sa.String(32), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("annotated_at", UtcTime, nullable=False),
)

# Source syncs (vosbench.vos3000): how far each stream of a source has been read, saved in
# the same transaction as the rows it covers, and what the sync noticed on the way.
sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("source", sa.String(128), primary_key=True),
    sa.Column("stream", sa.String(64), primary_key=True),  # e.g. e_payhistory, charges
    sa.Column("mark", sa.String(64), nullable=False),  # high-water mark: last id, or last day
    sa.Column("rows_read", sa.BigInteger, nullable=False),
    sa.Column("updated_at", UtcTime, nullable=False),
    sa.Column("provenance", sa.Text, nullable=False),  # JSON: source URL (masked), choices, version
)

sync_flags = sa.Table(
    "sync_flags",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(128), nullable=False),
    sa.Column("stream", sa.String(64), nullable=False),
    sa.Column("source_key", sa.String(255), nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.UniqueConstraint("source", "stream", "source_key", "code", name="uq_sync_flags_key"),
)

APPEND_ONLY_TABLES = ("payments", "charges", "balance_snapshots", "import_batches",
                      "statement_imports", "statement_lines", "match_decisions",
                      "approval_requests", "approval_decisions", "finding_annotations")


class StoreError(RuntimeError):
    """The ledger cannot be opened or created; the message says why and what to do."""


def _sqlite_guards(table: str) -> list[str]:
    message = f"{table} is append-only: record a correction instead of editing"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
        # INSERT OR REPLACE deletes the old row without firing delete triggers; refuse the key.
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END",
    ]


def append_only_ddl(dialect: str) -> list[str]:
    """The statements that make the journal tables refuse UPDATE and DELETE."""
    if dialect == "sqlite":
        return [ddl for table in APPEND_ONLY_TABLES for ddl in _sqlite_guards(table)]
    raise StoreError(
        f"the append-only guard is not implemented for {dialect!r} yet; "
        "use an SQLite ledger (the default) until PostgreSQL/MariaDB support lands"
    )


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB: large appends stay in memory (+10% rate)
    cursor.execute("PRAGMA temp_store=MEMORY")
    # Checkpoint every 40 MB of WAL instead of 4 MB: a bulk append rewrites the same index
    # tails batch after batch, and checkpointing less often writes them once (-10% import time).
    cursor.execute("PRAGMA wal_autocheckpoint=10000")
    cursor.close()


def execute_many(connection: sa.Connection, statement, rows: list[dict]) -> None:
    """Run ``statement`` once for each parameter set of ``rows`` (dicts by bind name).

    On SQLite the statement is compiled once and the driver gets plain tuples, so the
    values must be ones it takes as they are (numbers and text): SQLAlchemy's processing
    of each parameter set costs more than SQLite's execution of a one-row statement
    (three times as much on the month totals of a bulk import). Other dialects take
    SQLAlchemy's usual path.
    """
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        connection.execute(statement, rows)
        return
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    order = compiled.positiontup
    values = operator.itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
    connection.exec_driver_sql(compiled.string, list(map(values, rows)))


def make_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite files the folder is created on demand."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise StoreError(
            f"ledger URL {url!r} is not a database URL ({error}); "
            "give one like sqlite:///path/ledger.sqlite or postgresql://user@host/db"
        ) from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _tune_sqlite)
    return engine


def is_initialized(engine: Engine) -> bool:
    """True when the ledger's tables exist."""
    return sa.inspect(engine).has_table("ledger_meta")


def initialize(engine: Engine, *, timezone: str = "UTC") -> None:
    """Create the tables, guards and chain heads of an empty ledger (idempotent)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreError(
            f"time zone {timezone!r} is unknown; give an IANA name such as 'UTC' or 'Asia/Dubai'"
        ) from None
    guards = append_only_ddl(engine.dialect.name)
    with engine.begin() as connection:
        metadata.create_all(connection)
        for ddl in guards:
            connection.exec_driver_sql(ddl)
        existing = set(connection.scalars(sa.select(ledger_meta.c.key)))
        for key, value in (("schema_version", SCHEMA_VERSION), ("timezone", timezone)):
            if key not in existing:
                connection.execute(ledger_meta.insert().values(key=key, value=value))
        heads = set(connection.scalars(sa.select(chain_heads.c.name)))
        from vosbench.chain import CHAINED_TABLES, GENESIS

        for name in CHAINED_TABLES:
            if name not in heads:
                connection.execute(
                    chain_heads.insert().values(name=name, last_id=0, head_hash=GENESIS, row_count=0)
                )


def open_ledger(url: str, *, create: bool = False, timezone: str = "UTC") -> Engine:
    """Open the ledger at ``url``; with ``create`` an empty one is set up if missing."""
    engine = make_engine(url)
    if not is_initialized(engine):
        if not create:
            raise StoreError(
                f"no vosbench ledger at {url}; build the demo with `vosbench demo` "
                "or import your data with `vosbench import PATH`"
            )
        initialize(engine, timezone=timezone)
    upgrade(engine)
    return engine


def upgrade(engine: Engine) -> None:
    """Bring a ledger made by an earlier vosbench up to this one (a no-op when current).

    The tables it lacks are created with their guards and chain heads (existing ones are
    left as they are), and so are the indexes it lacks (schema 2 added the explore indexes
    on payments; a bulk sync killed in :func:`indexes_deferred` leaves some out). Schema 2
    also adds the per-kind record counts of ``account_months``, filled from the raw
    journal in the same transaction.
    """
    with engine.connect() as connection:
        current = get_meta(connection, "schema_version") == SCHEMA_VERSION
    if current and not missing_tables(engine) and not missing_indexes(engine):
        return
    initialize(engine)  # timezone only applies to a new ledger: an existing one keeps its own
    from vosbench import totals

    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
        present = {column["name"] for column in sa.inspect(connection).get_columns("account_months")}
        added = [name for name in KIND_COUNT_COLUMNS if name not in present]
        for name in added:  # names from this module, never from input
            connection.exec_driver_sql(f"ALTER TABLE account_months ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0")
        if added:
            totals.fill_kind_counts(connection)
        set_meta(connection, "schema_version", SCHEMA_VERSION)


def missing_tables(engine: Engine) -> set[str]:
    """Tables this version defines that the ledger does not have yet."""
    return set(metadata.tables) - set(sa.inspect(engine).get_table_names())


def missing_indexes(engine: Engine) -> set[str]:
    """Indexes this version defines on the ledger's tables that the ledger does not have."""
    inspector = sa.inspect(engine)
    present = {index["name"] for name in inspector.get_table_names() for index in inspector.get_indexes(name)}
    return {index.name for table in metadata.tables.values() for index in table.indexes} - present


@contextlib.contextmanager
def indexes_deferred(engine: Engine, table: sa.Table, defer: bool) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for the length of a bulk append, then build them again.

    Building an index once over all rows costs less than keeping it up to date row by row
    when the append more than doubles the table (payments, measured at 1M rows: 5 µs per
    row to build the four indexes at the end against 6 to 7 to keep them on the way). The
    unique constraints stay, so keys are still checked on every insert. Readers see the
    same rows meanwhile, only slower. The indexes are built again however the block ends;
    if the process is killed inside it, :func:`upgrade` builds them when the ledger is next
    opened. ``defer`` False (or a dialect other than SQLite) leaves the indexes alone.
    """
    if not defer or engine.dialect.name != "sqlite":
        yield
        return
    with engine.begin() as connection:
        for index in table.indexes:
            index.drop(connection, checkfirst=True)
    try:
        yield
    finally:
        with engine.connect() as connection:
            # the sort runs spill to a temporary file, so memory stays bounded whatever the
            # table's size (and at 1M payments the build is a quarter faster than in memory)
            connection.exec_driver_sql("PRAGMA temp_store=FILE")
            for index in table.indexes:
                index.create(connection, checkfirst=True)
            connection.commit()
            connection.exec_driver_sql("PRAGMA temp_store=MEMORY")


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
    return get_meta(connection, "timezone", "UTC")
