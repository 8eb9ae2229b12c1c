"""Who may do what on a server ledger: the application's roles, their privileges, and operators' logins.

The triggers of :mod:`vosbench.ledger.guards` refuse edits of recorded rows; privileges
close what triggers cannot (MariaDB's TRUNCATE) and keep the guards themselves out of
reach, because only the owner of the tables (whoever ran ``vosbench server init``) may
change the schema. Three roles per ledger database, named after it so that two ledgers
on one server stay apart:

- ``<db>_writer`` (clerks, supervisors, syncs): SELECT and INSERT on every table but the owner's
  (:data:`OWNER_TABLES`: the retention purge's and the operators), UPDATE only on the figures the write door keeps
  up to date beside the journal (:data:`KEPT_UP_TABLES`), and DELETE only on those of them it replaces
  (:data:`REPLACED_TABLES`). No TRUNCATE, no DDL.
- ``<db>_auditor``: SELECT, and INSERT where auditors write (:data:`AUDITOR_TABLES`).
- ``<db>_reader`` (resellers, agents): SELECT only; on PostgreSQL of the tables, under
  row-level security, on MariaDB of the scoped views alone (:mod:`vosbench.ledger.scopes`).

An operator on a server is a database login that holds one of them
(:func:`create_login`); the ledger then records the login itself (:func:`current_login`).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from vosbench.ledger.database import StoreError
from vosbench.ledger.tables import metadata, views

KEPT_UP_TABLES = ("chain_heads", "account_months", "ledger_meta", "sync_state", "account_tree", "payment_rollup",
                  "account_rollup", "amount_rollup")
"""Derived figures and marks rewritten in the same transaction as an append: `verify` recomputes them."""

AUDITOR_TABLES = ("finding_annotations", "match_decisions", "saved_views")
"""Where an auditor's notes, matching decisions and shared views are appended."""

REPLACED_TABLES = ("ledger_meta", "sync_state", "account_tree", "account_rollup")
"""The kept-up tables whose rows a writer's path deletes to write them again: the text index's mark, a sync's current
mark, and an account tree's pairs and rollup after a supervisor moves an account. The rest (the month totals, the
chain heads, the payment and amount rollups) a writer only updates or adds to; the owner's purge and upgrade rebuild
them."""

_NOT_DELETED = [table for table in KEPT_UP_TABLES if table not in REPLACED_TABLES]
"""The kept-up tables the writers' role updates but may not delete from."""

OWNER_TABLES = ("archives", "purged_ranges", "operators")
"""Written by the owner alone, no role appends to them: the retention purge's records, and the operators (who holds
which role: registered with ``vosbench operators add``, connected as the owner). On MariaDB, whose writers' role
INSERTs into the whole database, a trigger refuses them (:func:`vosbench.ledger.guards._owner_only_rules`)."""

ROLE_KINDS = ("writer", "auditor", "reader")

OPERATOR_ROLES = {"clerk": "writer", "supervisor": "writer", "auditor": "auditor",
                  "reseller": "reader", "agent": "reader"}
"""An operator's role in the back office → the database role its login holds."""

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,47}")
_LOGIN = re.compile(r"[a-z][a-z0-9_.]{0,31}")
INSTALLER = "installer"
"""Who the seed of the approval thresholds is recorded as set by (:mod:`vosbench.ledger.thresholds`): never a login."""


_MYSQL_USER_EXISTS = 1396
"""MariaDB's error number for CREATE USER of a user that exists (ER_CANNOT_USER)."""


class RoleError(StoreError):
    """A login or database name vosbench cannot use as a server identity; the message says which and why."""


def database_name(connection: sa.Connection) -> str:
    """The name of the database the connection uses (what role names are made from)."""
    query = "SELECT current_database()" if connection.dialect.name == "postgresql" else "SELECT DATABASE()"
    name = connection.exec_driver_sql(query).scalar()
    if not name or not _NAME.fullmatch(name):
        raise RoleError(f"database name {name!r} cannot name roles; use lower-case letters, digits and _ (at most 48)")
    return name


def role_name(connection: sa.Connection, kind: str) -> str:
    """``<db>_writer``, ``<db>_auditor`` or ``<db>_reader`` for this ledger's database."""
    if kind not in ROLE_KINDS:
        raise RoleError(f"role {kind!r} is unknown; use one of {', '.join(ROLE_KINDS)}")
    return f"{database_name(connection)}_{kind}"


def check_login(login: str) -> str:
    """``login`` if it can be a database login (lower case letters, digits, '_' and '.'), else RoleError."""
    if not _LOGIN.fullmatch(login):
        raise RoleError(f"login {login!r} cannot be a database login; use lower-case letters, digits, "
                        "'_' and '.', starting with a letter, at most 32 characters")
    if login == INSTALLER:  # the thresholds' seed is recorded under it: an operator of that name could pass for it
        raise RoleError(f"login {login!r} is reserved for the approval thresholds' first setting; choose another")
    return login


def _quote(connection: sa.Connection, name: str) -> str:
    return connection.dialect.identifier_preparer.quote_identifier(name)


def _literal(connection: sa.Connection, text: str) -> str:
    """A string literal in this dialect's quoting (DDL such as a password takes no bound values)."""
    return sa.literal(text, sa.String()).compile(dialect=connection.dialect,
                                                 compile_kwargs={"literal_binds": True}).string


def _execute(connection: sa.Connection, statement: str) -> None:
    """Run one DDL statement; drivers with %-placeholders would read a '%' in it (a host, a password) as one."""
    if connection.dialect.paramstyle in ("format", "pyformat"):
        statement = statement.replace("%", "%%")
    connection.exec_driver_sql(statement)


def _postgresql_ddl(connection: sa.Connection) -> list[str]:
    statements = []
    tables = list(metadata.tables)
    for kind in ROLE_KINDS:
        role = role_name(connection, kind)
        statements.append(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
                          f"THEN CREATE ROLE {role} NOLOGIN; END IF; END $$")
        statements.append(f"GRANT CONNECT ON DATABASE {database_name(connection)} TO {role}")
        statements.append(f"GRANT USAGE ON SCHEMA public TO {role}")
        statements.append(f"GRANT SELECT ON {', '.join([*tables, *views.tables])} TO {role}")
    writer, auditor = role_name(connection, "writer"), role_name(connection, "auditor")
    statements += [
        f"GRANT INSERT ON {', '.join(name for name in tables if name not in OWNER_TABLES)} TO {writer}",
        f"GRANT UPDATE ON {', '.join(KEPT_UP_TABLES)} TO {writer}",
        f"GRANT DELETE ON {', '.join(REPLACED_TABLES)} TO {writer}",
        # granted by a vosbench before schema 10 (operators, DELETE on every kept-up table)
        f"REVOKE INSERT ON {', '.join(OWNER_TABLES)} FROM {writer}",
        f"REVOKE DELETE ON {', '.join(_NOT_DELETED)} FROM {writer}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {writer}",
        f"GRANT INSERT ON {', '.join(AUDITOR_TABLES)} TO {auditor}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {auditor}",
        # the schema belongs to its owner: nobody else creates objects in it
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    return statements


def _mysql_ddl(connection: sa.Connection) -> list[str]:
    database = database_name(connection)
    statements = [f"CREATE ROLE IF NOT EXISTS {role_name(connection, kind)}" for kind in ROLE_KINDS]
    writer, auditor = role_name(connection, "writer"), role_name(connection, "auditor")
    # the reader gets nothing of the tables: the scoped views are all it reads
    statements += [
        f"GRANT SELECT, INSERT ON {database}.* TO {writer}",
        *(f"GRANT UPDATE ON {database}.{table} TO {writer}" for table in KEPT_UP_TABLES),
        *(f"GRANT DELETE ON {database}.{table} TO {writer}" for table in REPLACED_TABLES),
        # granted by a vosbench before schema 10 (after the GRANT above, so that each table has a grant to take it from)
        *(f"REVOKE DELETE ON {database}.{table} FROM {writer}" for table in _NOT_DELETED),
        f"GRANT SELECT ON {database}.* TO {auditor}",
        *(f"GRANT INSERT ON {database}.{table} TO {auditor}" for table in AUDITOR_TABLES),
    ]
    return statements


def role_ddl(connection: sa.Connection) -> list[str]:
    """The statements creating this ledger's roles and granting them their privileges (idempotent)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return _postgresql_ddl(connection)
    if dialect in ("mysql", "mariadb"):
        return _mysql_ddl(connection)
    raise RoleError(f"roles and logins exist on PostgreSQL and MariaDB ledgers only, not on {dialect}")


def create_roles(connection: sa.Connection) -> list[str]:
    """Create the roles and grant their privileges; the role names."""
    for statement in role_ddl(connection):
        _execute(connection, statement)
    return [role_name(connection, kind) for kind in ROLE_KINDS]


def create_login(connection: sa.Connection, login: str, password: str, kind: str) -> bool:
    """Give database login ``login`` role ``<db>_<kind>``, creating it with ``password`` where the server has none;
    True when it was created.

    A login the server has already (a person's, working on another ledger of the same server) keeps its password:
    it used to be reset without a word. The connected login, the ledger's owner, is never made an operator.
    """
    check_login(login)
    if login == current_login(connection):
        raise RoleError(f"login {login} is the one connected, the ledger's owner: the owner is no operator; register "
                        "the people who work on the ledger under logins of their own")
    if not password:
        raise RoleError(f"login {login}: an empty password is not allowed")
    role, secret = role_name(connection, kind), _literal(connection, password)
    if connection.dialect.name == "postgresql":
        user = _quote(connection, login)
        exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :login"), {"login": login})
        if not exists:
            _execute(connection, f"CREATE ROLE {user} LOGIN PASSWORD {secret}")
        _execute(connection, f"GRANT {role} TO {user}")
        return not exists
    user = f"{_literal(connection, login)}@'%'"
    created = True
    try:  # (a failed statement leaves a MariaDB transaction as it was: no savepoint needed, and DDL would end one)
        _execute(connection, f"CREATE USER {user} IDENTIFIED BY {secret}")
    except sa.exc.DBAPIError as error:
        if getattr(error.orig, "args", (None,))[0] != _MYSQL_USER_EXISTS:
            raise
        created = False
    _execute(connection, f"GRANT {role} TO {user}")
    _execute(connection, f"SET DEFAULT ROLE {role} FOR {user}")
    return created


_TABLE_OWNER = {
    "postgresql": "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass('operators')",
    # the definer of the guards, the login that made them: shown only to logins holding the TRIGGER privilege
    "mysql": "SELECT DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
             "AND EVENT_OBJECT_TABLE = 'operators' ORDER BY TRIGGER_NAME LIMIT 1",
}
"""The login that owns a server ledger: the owner of its tables (PostgreSQL), the definer of its guards (MariaDB)."""


def is_owner(connection: sa.Connection) -> bool:
    """True when the connection is the ledger's owner's, whom the server's owner-only guards let through (always on
    SQLite, which has no logins): the client asks it before writing what those guards would refuse anyone else."""
    dialect = "mysql" if connection.dialect.name == "mariadb" else connection.dialect.name
    if dialect not in _TABLE_OWNER:
        return True
    owner = connection.exec_driver_sql(_TABLE_OWNER[dialect]).scalar()
    return owner is not None and str(owner).rsplit("@", 1)[0] == current_login(connection)


def current_login(connection: sa.Connection) -> str | None:
    """The database login this connection acts as (None on SQLite, which has no logins)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return connection.exec_driver_sql("SELECT current_user").scalar()
    if dialect in ("mysql", "mariadb"):
        return str(connection.exec_driver_sql("SELECT CURRENT_USER()").scalar()).rsplit("@", 1)[0]
    return None
