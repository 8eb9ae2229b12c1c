"""Creating and upgrading a ledger: tables, guards, chain heads and derived totals, in that order.

This sits above the tables, the hash chain and the month totals it sets up, so none of
them needs to import it back. Opening a ledger that is already current — what every
command does — needs only the tables and the chains' names: the guards, thresholds and
derived tables a new or older ledger is given are imported by the functions that give them,
so a command's start-up does not pay for loading them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core import periods
from vosbench.ledger import hashchain
from vosbench.ledger.database import StoreError, folder_named, get_meta, ledger_url, make_engine, set_meta
from vosbench.ledger.hashchain import CHAINED_TABLES, GENESIS, ROW_CHAINED_TABLES
from vosbench.ledger.tables import (
    CURRENT_ACCOUNTS_SQL,
    KIND_COUNT_COLUMNS,
    RETIRED_INDEXES,
    SCHEMA_VERSION,
    chain_heads,
    exact_text_on_mysql,
    ledger_meta,
    metadata,
)

if TYPE_CHECKING:
    from vosbench.ledger.guards import Guard
    from vosbench.ledger.policy import ControlSettings


def is_initialized(engine: Engine) -> bool:
    """True when the ledger's tables exist."""
    return sa.inspect(engine).has_table("ledger_meta")


def initialize(engine: Engine, *, timezone: str = "UTC", controls: ControlSettings | None = None) -> None:
    """Create the tables, guards and chain heads of an empty ledger (idempotent).

    A ledger without approval thresholds takes those of ``controls`` (default: the installation's
    parameters/controls.yaml), once: afterwards they are the ledger's own (:mod:`vosbench.ledger.thresholds`).
    """
    from vosbench.ledger import policy, sync_marks, thresholds
    from vosbench.ledger.guards import append_only_ddl

    try:
        periods.zone(timezone)  # a place's IANA zone: not 'localtime', whose days would follow the machine
    except periods.PeriodError as error:
        raise StoreError(str(error)) from None
    guards = append_only_ddl(engine.dialect.name)
    if engine.dialect.name in ("mysql", "mariadb"):
        exact_text_on_mysql()
    with engine.begin() as connection:
        metadata.create_all(connection)
        existing = set(connection.scalars(sa.select(ledger_meta.c.key)))
        for key, value in (("schema_version", SCHEMA_VERSION), ("timezone", timezone)):
            if key not in existing:
                connection.execute(ledger_meta.insert().values(key=key, value=value))
        heads = set(connection.scalars(sa.select(chain_heads.c.name)))
        for name in (*CHAINED_TABLES, *ROW_CHAINED_TABLES):
            if name not in heads:
                connection.execute(
                    chain_heads.insert().values(name=name, last_id=0, head_hash=GENESIS, row_count=0)
                )
                if name == "sync_marks":  # a ledger made before the marks had a history
                    sync_marks.seed(connection)
                if name in ROW_CHAINED_TABLES:  # rows of a ledger made before they were chained
                    hashchain.seal_rows(connection, name)
        for ddl in guards:
            connection.exec_driver_sql(ddl)
        connection.exec_driver_sql(view_ddl(connection.dialect.name))
        thresholds.seed(connection, lambda: policy.seed_settings() if controls is None else controls)
    if engine.dialect.name == "sqlite":  # kept in the file: readers go on beside a writer (see database._tune_sqlite)
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")


def view_ddl(dialect: str) -> str:
    """The statement that creates ``current_accounts`` if it is missing (idempotent on every dialect).

    On PostgreSQL the view reads as the login that queries it (``security_invoker``), so a
    scoped login's row-level security holds through it.
    """
    if dialect == "sqlite":
        return CURRENT_ACCOUNTS_SQL.replace("CREATE VIEW ", "CREATE VIEW IF NOT EXISTS ", 1)
    if dialect == "postgresql":
        return CURRENT_ACCOUNTS_SQL.replace("CREATE VIEW current_accounts AS",
                                            "CREATE OR REPLACE VIEW current_accounts WITH (security_invoker = true) AS", 1)
    return CURRENT_ACCOUNTS_SQL.replace("CREATE VIEW ", "CREATE OR REPLACE VIEW ", 1)


def _no_ledger(url: str) -> StoreError:
    return folder_named(url) or StoreError(f"no vosbench ledger at {url}; build the demo with `vosbench demo` "
                      "or import your data with `vosbench import PATH`")


def open_ledger(url: str, *, create: bool = False, timezone: str = "UTC", controls: ControlSettings | None = None) -> Engine:
    """Open the ledger at ``url``; with ``create`` an empty one is set up if missing.

    ``controls``: the thresholds a new or migrated ledger without any takes (default parameters/controls.yaml).
    """
    parsed = ledger_url(url)
    if not create and parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).expanduser().is_file():  # nothing to open: no empty file or folder is made
        raise _no_ledger(url)
    engine = make_engine(url)
    if not is_initialized(engine):
        if not create:
            raise _no_ledger(url)
        initialize(engine, timezone=timezone, controls=controls)
    try:
        upgrade(engine, controls=controls)
    except (sa.exc.DBAPIError, StoreError) as error:
        older = _older_server_ledger(engine)
        if older is None:
            raise
        # the database's own words say what failed; a StoreError here is vosbench not seeing the guards it would replace
        refused = f" ({str(error.orig).strip().splitlines()[0]})" if isinstance(error, sa.exc.DBAPIError) else ""
        raise StoreError(f"the ledger is schema {older}, this vosbench {SCHEMA_VERSION}, and this login may not upgrade "
                         f"it{refused}; its owner upgrades it, its guards included, by opening it once with this "
                         "version: `vosbench info --db OWNER-URL`") from None
    return engine


def _older_server_ledger(engine: Engine) -> str | None:
    """The schema version of a server ledger older than this vosbench (None: current, or SQLite, whose file's holder
    upgrades it): a login other than its owner opening it cannot add its tables or guards."""
    if engine.dialect.name == "sqlite":
        return None
    with engine.connect() as connection:
        version = get_meta(connection, "schema_version")
    return version if version is not None and int(version) < int(SCHEMA_VERSION) else None


DERIVED_KEPT_SINCE = "7"
"""The schema version since which the explore tables (:data:`vosbench.ledger.explore_upkeep.DERIVED`) are kept as
this vosbench keeps them. An upgrade from an older schema fills them again from the records; one from this or a
later schema leaves them (filling them costs minutes at ten million records: a version that changes how one is
kept raises this)."""


def upgrade(engine: Engine, *, controls: ControlSettings | None = None) -> None:
    """Bring a ledger made by an earlier vosbench up to this one (a no-op when current).

    The tables it lacks are created with their guards and chain heads (existing ones are
    left as they are), and so are the indexes it lacks (schema 2 added the explore indexes
    on payments; a bulk sync killed in :func:`indexes_deferred` leaves some out). Schema 2
    also adds the per-kind record counts of ``account_months``, filled from the raw
    journal in the same transaction; schema 3 guards every audit table against
    replacement through any of its keys, links the rows they already hold, and adds the
    nullable ``reverses_id`` of ``approval_requests`` (a reversal waiting for approval);
    schema 4 adds account versions (empty: every account's first row is its current
    version until it changes) and the ``current_accounts`` view; schema 5 the guard
    refusing a new currency for an account that holds money (the versions already
    there stay as they are, for ``verify`` to check as before); schema 6 replaces the
    threshold guards with those that fail closed (:func:`vosbench.ledger.guards.threshold_guards`); schema 7
    adds the guards refusing an account in no currency of money (the accounts there stay as they are: a
    version of one, like any row the write door sends, must name a currency of money) or a negative charge and, on
    a server, those binding a person's row to the login inserting it (:func:`vosbench.ledger.guards.threshold_guards`,
    renewed) and keeping the ledger's settings to its owner; schema 8 the table of closed months' UTC instants
    (``month_spans``, filled for the months closed now, each cut in the zone its close receipt names) and the
    guards refusing a payment or charge dated into or before a closed month (the threshold guards renewed again);
    schema 9 those refusing a balance dated into or before a closed month and, on SQLite, a record dated by no time,
    on a server those keeping archives and purged ranges to the owner, a close request's withdrawal to its
    requester and a chain head moving only forward, and a server ledger's roles and scopes renewed
    (:func:`_renew_server_grants`); schema 10, on a server, the guard keeping the operators to the owner, and the
    roles renewed again; schema 11 drops the indexes no query needs (:data:`~vosbench.ledger.tables.RETIRED_INDEXES`).
    None of them refills the explore tables (:data:`DERIVED_KEPT_SINCE`).
    """
    with engine.connect() as connection:
        version = get_meta(connection, "schema_version")
    unchained = _unchained(engine)
    if version == SCHEMA_VERSION and not missing_tables(engine) and not missing_indexes(engine) and not unchained:
        return
    from vosbench.ledger import explore_upkeep, guards, month_close, month_totals

    if (version is not None and int(version) < 4 and engine.dialect.name == "sqlite") or unchained:
        _widen_guards(engine)
    elif version is not None and int(version) < 9:
        _widen_guards(engine, guards.threshold_guards(engine.dialect.name))
    unfilled = set(explore_upkeep.DERIVED) & missing_tables(engine)
    with engine.begin() as connection:  # before initialize links the rows: a row's linked text holds every column
        _add_optional_columns(connection)
    initialize(engine, controls=controls)  # timezone only applies to a new ledger: an existing one keeps its own
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            for index in table.indexes:
                # IF NOT EXISTS: an import running beside this one may be building the same index
                connection.execute(sa.schema.CreateIndex(index, if_not_exists=True))
        present = {column["name"] for column in sa.inspect(connection).get_columns("account_months")}
        added = [name for name in KIND_COUNT_COLUMNS if name not in present]
        for name in added:  # names from this module, never from input
            connection.exec_driver_sql(f"ALTER TABLE account_months ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0")
        if added:
            month_totals.fill_kind_counts(connection)
        kept_before = version is None or int(version) < int(DERIVED_KEPT_SINCE)
        if unfilled or kept_before:  # an older ledger's explore tables, filled from what it holds
            explore_upkeep.fill(connection, explore_upkeep.DERIVED if kept_before else unfilled)
        if version is not None and int(version) < 8:  # the months it closed, for the guards refusing records in them
            month_close.fill_spans(connection)
        if version is not None and int(version) < 10:
            _renew_server_grants(connection)
        if version is not None and int(version) < 11:
            _drop_retired_indexes(connection)
        set_meta(connection, "schema_version", SCHEMA_VERSION)


def _renew_server_grants(connection: sa.Connection) -> None:
    """Give a server ledger that ``server init`` set up before schema 10 its roles' and scoped logins' present rights:
    the writers' role no longer appends archives, purged ranges (schema 9) or operators, nor deletes month totals,
    chain heads or the payment and amount rollups (schema 10), and resellers and agents no longer read the chain heads
    or import batches (schema 9: each holds the whole ledger's row counts). An SQLite ledger, or a server ledger never
    given roles, has none to renew."""
    from vosbench.ledger import roles, scopes

    if connection.dialect.name == "sqlite" or not scopes.in_force(connection):
        return
    roles.create_roles(connection)
    scopes.create_scopes(connection)


def _drop_retired_indexes(connection: sa.Connection) -> None:
    """Drop those of :data:`~vosbench.ledger.tables.RETIRED_INDEXES` the ledger has (schema 11).

    Asked of the catalogue first rather than ``DROP INDEX IF EXISTS``, which MySQL lacks; the names come
    from this module, never from input.
    """
    inspector = sa.inspect(connection)
    for table, names in RETIRED_INDEXES.items():
        present = {index["name"] for index in inspector.get_indexes(table)}
        for name in (name for name in names if name in present):
            on = f" ON {table}" if connection.dialect.name in ("mysql", "mariadb") else ""
            connection.exec_driver_sql(f"DROP INDEX {name}{on}")


def _unchained(engine: Engine) -> bool:
    """True for a server ledger made before its audit tables had row chains (it has no chain heads for them)."""
    if engine.dialect.name == "sqlite" or missing_tables(engine):
        return False
    with engine.connect() as connection:
        heads = set(connection.scalars(sa.select(chain_heads.c.name)))
    # none at all: a scoped login, whom the chain heads are hidden from (every ledger had those of the journal)
    return bool(heads) and not heads.issuperset(ROW_CHAINED_TABLES)


def _widen_guards(engine: Engine, renewed: list[Guard] | None = None) -> None:
    """Drop the guards a ledger before schema 4 (or a server ledger before row chains) has in an older
    form, for :func:`initialize` to recreate; only those of ``renewed`` when given (schema 6's threshold guards).

    Only on that upgrade: a guard altered later is left as it is, for ``verify`` to report.
    """
    from vosbench.ledger import guards

    with engine.begin() as connection:
        present = guards.present_guards(connection)
        for guard in renewed or guards.expected_guards(engine.dialect.name):
            if guard.table and guard.name in present and present[guard.name] != guard.catalogued:
                connection.exec_driver_sql(f"DROP TRIGGER {guard.name}" if engine.dialect.name != "postgresql"
                                           else f"DROP TRIGGER {guard.name} ON {guard.table}")


def missing_tables(engine: Engine) -> set[str]:
    """Tables this version defines that the ledger does not have yet.

    A scoped MariaDB login's database holds views of the same names instead
    (:mod:`vosbench.ledger.scopes`): those count as present.
    """
    inspector = sa.inspect(engine)
    return set(metadata.tables) - set(inspector.get_table_names()) - set(inspector.get_view_names())


def missing_indexes(engine: Engine) -> set[str]:
    """Indexes this version defines on the ledger's tables that the ledger does not have.

    Asked at every opening: on SQLite one read of its schema table answers it, where the inspector
    asks twice a table (the time of a small command's work).
    """
    if engine.dialect.name == "sqlite":
        schema = sa.table("sqlite_master", sa.column("type"), sa.column("name"))
        with engine.connect() as connection:
            found = connection.execute(sa.select(schema.c.type, schema.c.name)).all()
        tables = [name for kind, name in found if kind == "table"]
        present = {name for kind, name in found if kind == "index"}
    else:
        inspector = sa.inspect(engine)
        tables = inspector.get_table_names()  # views (a scoped login's) have no indexes of their own
        present = {index["name"] for name in tables for index in inspector.get_indexes(name)}
    # every index here has a name (the naming convention names those of index=True columns)
    defined: set[str] = {index.name for table in metadata.tables.values() for index in table.indexes
                         if index.name is not None and table.name in tables}
    return defined - present


def _add_optional_columns(connection: sa.Connection) -> None:
    """Give the tables the nullable columns this version added to them (schema 3: reversal requests)."""
    inspector = sa.inspect(connection)
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:  # created whole by initialize
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=connection.dialect)
                connection.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}")
