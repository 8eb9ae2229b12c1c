"""Scoped logins: a reseller or an agent sees its own subtree of accounts and nothing else, enforced by the server.

On PostgreSQL every table gets row-level security. Two functions, run with their
owner's rights so that they may read ``operators`` and ``accounts`` whoever calls them,
answer for the connected login (``session_user``):

- ``vosbench_sees_everything()``: true unless the login is a registered operator whose role
  is ``reseller:ACCOUNT`` or ``agent:ACCOUNT`` (clerks, supervisors, auditors, the owner);
- ``vosbench_visible_accounts()``: the ids of that ACCOUNT and of every account below it.

Each table's policy lets everyone who sees everything through untouched, and limits
scoped logins to their accounts' rows (payments, charges, balances, month totals, rates),
to their own operator row, and to nothing of the back office's queues, statements and
notes. Every query, export, reconciliation, statement and chart of such a login
therefore covers its subtree, whatever filter, account number or text it asks for: the
rows outside are not there for it. (The chains cannot be verified from a subtree:
``verify`` is for logins that see everything.)

MariaDB has no row-level security, so a scoped login reads a database of views instead,
``<ledger>_scope`` (:func:`views_database`), holding one view per table with the table's
own name and columns: vosbench works through it unchanged, with that database in the
login's URL. The views run with their definer's rights (``SQL SECURITY DEFINER``: the
owner who ran ``server init``) and filter by the login that is connected, which inside
such a view is ``USER()``, the client's, not ``CURRENT_USER()``, the definer. The scoped
logins' role may SELECT from these views and nothing else: the ledger's tables refuse
them outright. (A server with anonymous accounts could let a client claim a login's name
without its password; vosbench's servers have none, and a team's should not.)
"""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.ledger import roles, tables
from vosbench.ledger.database import StoreError

SCOPED_ROLES = ("reseller", "agent")
"""Operator roles limited to an account's subtree (``reseller:ACCOUNT``, ``agent:ACCOUNT``)."""

BY_ACCOUNT = ("payments", "charges", "balance_snapshots", "account_months", "commission_rates",
              "operator_accounts", "account_versions", "account_tree")
"""Tables whose rows belong to an account (``account_id``)."""

OPEN = ("ledger_meta",)
"""What a scoped login may read whole: the ledger's settings (its time zone, its schema version)."""

HIDDEN = ("chain_heads", "import_batches", "approval_requests", "approval_decisions", "statement_imports", "statement_lines",
          "statement_import_warnings", "match_decisions", "finding_annotations", "sync_state", "sync_flags",
          "sync_marks", "month_closes", "month_spans", "close_requests", "row_links", "prior_period_items", "archives",
          "purged_ranges", "saved_views", "payment_rollup", "account_rollup", "amount_rollup", "approval_thresholds")
"""The chain heads and import batches (each holds the whole ledger's row counts: every table's, every file's), the
back office's queues, bank statements and notes, sync history, month closes (every account's closing), row links,
the team's saved views and the whole ledger's payment, account and amount rollups (whose subtree rows sum accounts
above a scope too): nothing of them for a scoped login (whose totals are therefore counted from the records it sees,
and whose reports carry no fingerprint: the chains cannot be verified from a subtree)."""

_SEES_EVERYTHING = """
CREATE OR REPLACE FUNCTION vosbench_sees_everything() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT NOT EXISTS (SELECT 1 FROM operators WHERE login = session_user
                     AND split_part(role, ':', 1) IN ('reseller', 'agent'))
$$"""

_VISIBLE_ACCOUNTS = """
CREATE OR REPLACE FUNCTION vosbench_visible_accounts() RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  WITH RECURSIVE subtree(id) AS (
    SELECT accounts.id FROM accounts JOIN operators
      ON operators.login = session_user AND split_part(operators.role, ':', 1) IN ('reseller', 'agent')
     AND accounts.account = split_part(operators.role, ':', 2)
    UNION
    SELECT below.id FROM current_accounts below JOIN subtree ON below.parent_id = subtree.id
  )
  SELECT id FROM subtree
$$"""

_EVERYTHING = "(SELECT vosbench_sees_everything())"


def _policy(table: str, rows: str) -> list[str]:
    return [f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"DROP POLICY IF EXISTS vosbench_scope ON {table}",
            # USING limits what is read (and updated or deleted); WITH CHECK (true) leaves inserts
            # to the privileges: only roles that see everything may write at all.
            f"CREATE POLICY vosbench_scope ON {table} USING ({_EVERYTHING} OR {rows}) WITH CHECK (true)"]


def _postgresql_ddl() -> list[str]:
    visible = "(SELECT vosbench_visible_accounts())"
    statements = [_SEES_EVERYTHING, _VISIBLE_ACCOUNTS]
    for table in BY_ACCOUNT:
        statements += _policy(table, f"account_id IN {visible}")
    statements += _policy("accounts", f"id IN {visible}")
    statements += _policy("operators", "login = session_user")
    for table in OPEN:
        statements += _policy(table, "true")
    for table in HIDDEN:
        statements += _policy(table, "false")
    return statements


VIEWS_SUFFIX = "_scope"

_CONNECTED = "SUBSTRING_INDEX(USER(), '@', 1)"
"""The login of the client (USER(), not the view's definer): logins hold no '@' (:func:`roles.check_login`)."""


def views_database(ledger_database: str) -> str:
    """The MariaDB database of scoped views beside ledger database ``ledger_database``."""
    return f"{ledger_database}{VIEWS_SUFFIX}"


def _mysql_ddl(connection: sa.Connection) -> list[str]:
    ledger = roles.database_name(connection)
    views = views_database(ledger)
    visible = f"(SELECT id FROM {views}.vosbench_visible_accounts)"
    statements = [
        f"CREATE DATABASE IF NOT EXISTS {views}",
        f"GRANT SELECT ON {views}.* TO {roles.role_name(connection, 'reader')}",
        f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW {views}.vosbench_visible_accounts AS "
        f"WITH RECURSIVE subtree(id) AS ("
        f"SELECT accounts.id FROM {ledger}.accounts JOIN {ledger}.operators "
        f"ON operators.login = {_CONNECTED} AND SUBSTRING_INDEX(operators.role, ':', 1) IN ('reseller', 'agent') "
        f"AND accounts.account = SUBSTRING_INDEX(operators.role, ':', -1) "
        f"UNION SELECT below.id FROM {ledger}.current_accounts below JOIN subtree ON below.parent_id = subtree.id) "
        f"SELECT id FROM subtree",
    ]
    rows = {**dict.fromkeys(BY_ACCOUNT, f"account_id IN {visible}"), "accounts": f"id IN {visible}",
            "current_accounts": f"id IN {visible}",
            "operators": f"login = {_CONNECTED}", **dict.fromkeys(OPEN, "TRUE"), **dict.fromkeys(HIDDEN, "FALSE")}
    quote = connection.dialect.identifier_preparer.quote
    for name, table in [*tables.metadata.tables.items(), *tables.views.tables.items()]:
        columns = ", ".join(quote(column.name) for column in table.columns)  # `key` is a reserved word
        statements.append(f"CREATE OR REPLACE SQL SECURITY DEFINER VIEW {views}.{name} AS "
                          f"SELECT {columns} FROM {ledger}.{name} WHERE {rows[name]}")
    return statements


def scope_ddl(connection: sa.Connection) -> list[str]:
    """The statements that limit scoped logins to their subtree (idempotent)."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return _postgresql_ddl()
    if dialect in ("mysql", "mariadb"):
        return _mysql_ddl(connection)
    raise StoreError(f"scoped logins (resellers, agents) need a PostgreSQL or MariaDB server, not {dialect}")


def create_scopes(connection: sa.Connection) -> None:
    """Limit this server ledger's scoped logins to their subtrees (:func:`scope_ddl`; safe to run again)."""
    for statement in scope_ddl(connection):
        connection.exec_driver_sql(statement)


def in_force(connection: sa.Connection) -> bool:
    """True when ``server init`` has limited scoped logins on this server ledger (policies or views in place)."""
    if connection.dialect.name == "postgresql":
        return connection.scalar(sa.text("SELECT 1 FROM pg_proc WHERE proname = 'vosbench_visible_accounts'")) == 1
    views = views_database(roles.database_name(connection))
    return connection.scalar(sa.text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"),
                             {"name": views}) == 1


def scoped_role(connection: sa.Connection) -> str | None:
    """The connected login's role when it is a reseller's or an agent's (``reseller:R0001``), else None (SQLite has
    no logins). Such a login reads its subtree and none of :data:`HIDDEN`: a check of the whole ledger (its chains, its
    thresholds) cannot be made under it, and would find every other row missing."""
    login = roles.current_login(connection)
    if login is None:
        return None
    role = connection.scalar(sa.select(tables.operators.c.role).where(tables.operators.c.login == login))
    return role if role and role.partition(":")[0] in SCOPED_ROLES else None


def login_database(connection: sa.Connection, role: str) -> str:
    """The database a login of ``role`` names in its URL: the ledger's, or for a scoped MariaDB login its views'."""
    ledger = roles.database_name(connection)
    scoped = role.partition(":")[0] in SCOPED_ROLES
    return views_database(ledger) if scoped and connection.dialect.name in ("mysql", "mariadb") else ledger
