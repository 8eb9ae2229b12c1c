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

MariaDB has no row-level security; scoped MariaDB logins are not provided yet.
"""

from __future__ import annotations

from vosbench.ledger.database import StoreError

BY_ACCOUNT = ("payments", "charges", "balance_snapshots", "account_months", "commission_rates",
              "operator_accounts")
"""Tables whose rows belong to an account (``account_id``)."""

OPEN = ("ledger_meta", "chain_heads", "import_batches")
"""What a scoped login may read whole: the ledger's facts, its fingerprint, batch provenance."""

HIDDEN = ("approval_requests", "approval_decisions", "statement_imports", "statement_lines",
          "statement_import_warnings", "match_decisions", "finding_annotations", "sync_state", "sync_flags",
          "sync_marks", "month_closes", "row_links")
"""The back office's queues, bank statements and notes, sync history, month closes (every account's
closing) and row links: nothing of them for a scoped login."""

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
    SELECT below.id FROM accounts below JOIN subtree ON below.parent_id = subtree.id
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


def scope_ddl(dialect: str) -> list[str]:
    """The statements that limit scoped logins to their subtree (idempotent)."""
    if dialect != "postgresql":
        raise StoreError(f"scoped logins (resellers, agents) need PostgreSQL's row-level security; "
                         f"{dialect} ledgers do not offer them yet")
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
