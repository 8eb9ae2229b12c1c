"""An account's history: its first details and every later version, with who brought each change and when.

Accounts are append-only like every audit table: a change of name, parent, credit limit
or currency is a row of ``account_versions`` and the ``current_accounts`` view shows the
latest. This is what a report or ``vosbench account-history`` shows of the way there,
and what a period's subtree is read from (:func:`tree_as_of`): the tree as it stood at the
period's end, not as it stands now.
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


@dataclass(frozen=True)
class TreeAsOf:
    """Every account's number and parent as the tree stood at one instant (ids; a parent None at the top).

    A period's subtree figures read the tree as it stood at the period's end, so that a
    closed month's report does not change when an account moves later: an account is in
    the subtree it sat in at that instant (a move the ledger recorded before the period
    ended counts for the whole period; one recorded after it, from the next period on).
    """

    numbers: dict[int, str]
    parents: dict[int, int | None]

    def members(self, root: str) -> list[tuple[int, str]] | None:
        """``root`` and every account below it at any depth as (id, number), parents before children
        (each level by number); None when the ledger has no account ``root``."""
        by_number = {number: account_id for account_id, number in self.numbers.items()}
        if root not in by_number:
            return None
        children: dict[int, list[tuple[str, int]]] = {}
        for child, parent in self.parents.items():
            if parent is not None:
                children.setdefault(parent, []).append((self.numbers[child], child))
        found, frontier, seen = [(by_number[root], root)], [by_number[root]], {by_number[root]}
        while frontier:  # the write door refuses cycles; `seen` still ends a loop written behind its back
            below = sorted(child for parent in frontier for child in children.get(parent, []) if child[1] not in seen)
            seen.update(child_id for _, child_id in below)
            found += [(child_id, number) for number, child_id in below]
            frontier = [child_id for _, child_id in below]
        return found

    def parent_numbers(self) -> dict[str, str]:
        """Every account's parent's number ('' at the top), by account number."""
        parents = {account_id: self.numbers.get(parent, "") if parent is not None else ""
                   for account_id, parent in self.parents.items()}
        return {number: parents[account_id] for account_id, number in self.numbers.items()}


def changed_since(connection: sa.Connection, instant: datetime) -> bool:
    """True when some account's details changed at or after ``instant`` (naive UTC): the tree then may not be the tree now."""
    versions = tables.account_versions
    return connection.scalar(sa.select(versions.c.id).where(versions.c.changed_at >= instant).limit(1)) is not None


def tree_as_of(connection: sa.Connection, instant: datetime) -> TreeAsOf:
    """The account tree as it stood at ``instant`` (naive UTC): each account's latest version changed before it.

    An account's first details hold until its first version; a version counts from the
    moment the ledger recorded it (``changed_at``: when an import or sync brought the
    change), which is what an earlier report saw. An account recorded after ``instant``
    keeps its first details (it holds no records of the period unless they were brought
    in with it, and then they belong where it was first placed).
    """
    accounts, versions = tables.accounts, tables.account_versions
    latest = (sa.select(versions.c.account_id, sa.func.max(versions.c.id).label("version_id"))
              .where(versions.c.changed_at < instant).group_by(versions.c.account_id).subquery("latest"))
    chosen = versions.alias("chosen")
    rows = connection.execute(
        sa.select(accounts.c.id, accounts.c.account, accounts.c.parent_id, chosen.c.id.label("version_id"),
                  chosen.c.parent_id.label("version_parent"))
        .outerjoin(latest, latest.c.account_id == accounts.c.id)
        .outerjoin(chosen, chosen.c.id == latest.c.version_id)).all()
    return TreeAsOf({row.id: row.account for row in rows},
                    {row.id: row.parent_id if row.version_id is None else row.version_parent for row in rows})
