"""The ledger's structure checked against what this vosbench installs: guards and schema.

A dropped or rewritten guard trigger lets later edits through without a trace, and a
foreign trigger on a guarded table can rewrite every row as it is inserted; a dropped
table or column changes what every query means. These checks read the database's own
catalogue and report each difference as a :class:`Problem`; they never repair anything
(that would hide the tampering they exist to show).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from vosbench.ledger import database, guards, tables


@dataclass(frozen=True)
class Problem:
    """One thing ``verify`` found wrong: which check, which table and record, and what."""

    check: str
    table: str
    row_id: int | None
    message: str


def guard_problems(connection: sa.Connection) -> list[Problem]:
    """Guards missing, altered or disabled, and foreign triggers on the guarded tables."""
    expected = guards.expected_guards(connection.dialect.name)
    present = guards.present_guards(connection)
    problems = []
    for guard in expected:
        what = f"guard {guard.name} on {guard.table}" if guard.table else f"guard function {guard.name}"
        found = present.get(guard.name)
        if found is None:
            problems.append(Problem("guards", guard.table, None,
                                    f"{what} is missing: the table accepts "
                                    "edits the ledger cannot see (dropped behind the workbench's back)"))
        elif found == guards.DISABLED + guard.catalogued:
            problems.append(Problem("guards", guard.table, None,
                                    f"{what} is disabled: the table accepts edits while it is off"))
        elif found != guard.catalogued:
            problems.append(Problem("guards", guard.table, None, f"{what} differs from the one vosbench installs"))
    installed = {guard.name for guard in expected}
    guarded = {guard.table for guard in expected}
    for name, table in _trigger_tables(connection).items():
        if name not in installed and table in guarded:
            problems.append(Problem("guards", table, None,
                                    f"trigger {name} on {table} is not one vosbench installs: "
                                    "it may change rows as they are written"))
    return problems


_TRIGGER_TABLES = {
    "sqlite": "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'",
    "postgresql": "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                  "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace",
    "mysql": "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
}


def _trigger_tables(connection: sa.Connection) -> dict[str, str]:
    dialect = "mysql" if connection.dialect.name == "mariadb" else connection.dialect.name
    return dict(connection.exec_driver_sql(_TRIGGER_TABLES[dialect]).all())


def schema_problems(connection: sa.Connection) -> list[Problem]:
    """Tables, columns and unique keys this version defines that the ledger lacks or has changed."""
    inspector = sa.inspect(connection)
    present_tables = set(inspector.get_table_names())
    problems = []
    version = database.get_meta(connection, "schema_version")
    if version != tables.SCHEMA_VERSION:
        problems.append(Problem("schema", "ledger_meta", None,
                                f"the ledger is schema {version}, this vosbench expects {tables.SCHEMA_VERSION}: "
                                "open it once with this version (e.g. `vosbench info`) to upgrade, then verify"))
    for table in tables.metadata.sorted_tables:
        if table.name not in present_tables:
            problems.append(Problem("schema", table.name, None, f"table {table.name} is missing (dropped?)"))
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        wanted = [column.name for column in table.columns]
        for name in wanted:
            if name not in columns:
                problems.append(Problem("schema", table.name, None, f"column {table.name}.{name} is missing"))
        for name in sorted(columns - set(wanted)):
            problems.append(Problem("schema", table.name, None,
                                    f"column {table.name}.{name} is not part of the ledger's schema"))
        problems += _key_problems(inspector, table)
    return problems + _view_problems(connection, inspector)


def _view_problems(connection: sa.Connection, inspector) -> list[Problem]:
    """The current-accounts view missing or redefined: every query would show other account details."""
    if "current_accounts" not in inspector.get_view_names():
        return [Problem("schema", "current_accounts", None,
                        "view current_accounts is missing: queries cannot read the accounts as they are now")]
    if connection.dialect.name == "sqlite":
        stored = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'view' AND name = 'current_accounts'").scalar()
        if stored != tables.CURRENT_ACCOUNTS_SQL:
            return [Problem("schema", "current_accounts", None,
                            "view current_accounts differs from the one vosbench installs: the account details "
                            "queries show are not the latest versions")]
    return []


def _key_problems(inspector, table: sa.Table) -> list[Problem]:
    """Unique keys the table must enforce (a dropped one lets a second record take the same key)."""
    enforced = {tuple(inspector.get_pk_constraint(table.name)["constrained_columns"])}
    enforced |= {tuple(key["column_names"]) for key in inspector.get_unique_constraints(table.name)}
    enforced |= {tuple(index["column_names"]) for index in inspector.get_indexes(table.name) if index["unique"]}
    return [Problem("schema", table.name, None,
                    f"{table.name} no longer enforces the unique key ({', '.join(key)})")
            for key in guards.unique_keys(table) if key not in enforced]


_STORED_FORM = {"datetime": "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]",
                "date": "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"}
"""The text SQLite holds for a time (naive UTC, to the microsecond) and a day, as a GLOB pattern."""
_SHOWN = 5
"""How many records of one table the stored-time check names before saying there are more."""


def odd_time_condition(table: sa.Table) -> sa.ColumnElement[bool]:
    """On SQLite: the test of a row of ``table`` holding a time or day in another form than the ledger writes.

    A chain hashes a time as the value it reads back, and ``2026-11-30T12:00:00`` reads back as
    the ledger's own ``2026-11-30 12:00:00.000000``; but SQL compares the stored text, so a month's
    filter would count such a row in another month while its hash still holds. Servers store times
    as typed values, which have one form. Verification tries it on each row in the read that
    re-hashes the row (:func:`vosbench.ledger.hashchain.verify_chain`'s ``flag``): no pass of its own.
    """
    return sa.or_(*(sa.and_(column.is_not(None), sa.not_(column.op("GLOB", is_comparison=True)(
        _STORED_FORM["datetime" if isinstance(column.type, sa.DateTime) else "date"])))
        for column in table.columns if isinstance(column.type, sa.DateTime | sa.Date)))


def odd_time_ids(connection: sa.Connection, name: str, after: int = 0) -> list[int]:
    """The first ids past ``after`` of the rows of ``name`` that :func:`odd_time_condition` holds for (SQLite), read
    on their own: for a chain whose re-hashing stopped at a row it could not take, before testing them all."""
    if connection.dialect.name != "sqlite":
        return []
    table = tables.metadata.tables[name]
    return list(connection.execute(sa.select(table.c.id).where(table.c.id > after, odd_time_condition(table))
                                   .order_by(table.c.id).limit(_SHOWN + 1)).scalars())


def odd_time_problems(name: str, found: list[int]) -> list[Problem]:
    """The problems of the rows of ``name`` (ids in order) found holding a time in another form: the first few named."""
    return [Problem("stored times", name, row_id, (
        f"{name} record {row_id} holds a time in a form the ledger never writes: it was written behind the "
        "ledger's back, and a month's figures may count it in another month")) for row_id in found[:_SHOWN]] + (
        [Problem("stored times", name, None, f"{name}: more records hold times in a form the ledger never writes")]
        if len(found) > _SHOWN else [])
