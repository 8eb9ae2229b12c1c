"""An account's history: its first details and every later version, with who brought each change and when.

Accounts are append-only like every audit table: a change of name, parent, credit limit
or currency is a row of ``account_versions`` and the ``current_accounts`` view shows the
latest. This is what a report or ``vosbench account-history`` shows of the way there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from vosbench.ledger import tables


@dataclass(frozen=True)
class AccountVersion:
    """One version of an account's details (version 1 is the account as first recorded)."""

    version: int
    name: str
    parent: str
    credit_limit: int
    currency: str
    changed_by: str
    changed_at: datetime | None


def history(connection: sa.Connection, account: str) -> list[AccountVersion]:
    """Every version of ``account``, oldest first; empty when the ledger has no such account."""
    accounts, versions, batches = tables.accounts, tables.account_versions, tables.import_batches
    first = connection.execute(
        sa.select(accounts, batches.c.source, batches.c.imported_at)
        .outerjoin(batches, batches.c.id == accounts.c.batch_id).where(accounts.c.account == account)).first()
    if first is None:
        return []
    numbers = dict(connection.execute(sa.select(accounts.c.id, accounts.c.account)).all())
    found = [AccountVersion(1, first.name, numbers.get(first.parent_id, ""), first.credit_limit, first.currency,
                            first.source or "", first.imported_at)]
    for index, row in enumerate(connection.execute(
            sa.select(versions).where(versions.c.account_id == first.id).order_by(versions.c.id)), start=2):
        found.append(AccountVersion(index, row.name, numbers.get(row.parent_id, ""), row.credit_limit, row.currency,
                                    row.changed_by, row.changed_at))
    return found
