"""Which accounts sit under which: every (ancestor, account) pair of the current tree, kept as a table.

The explore panel's "include sub-accounts" selects an agent's or reseller's whole subtree.
Walked at query time, the tree costs a recursive join over ``current_accounts``, whose
parent is a computed column no index serves (minutes for an agent with 14,000 customers);
read from this closure it is one index range. The pairs are derived data: :func:`refresh`
brings them in line with the accounts after every change of accounts (in the same
transaction), and ``verify`` compares them with :func:`recompute`.
"""

from __future__ import annotations

import sqlalchemy as sa

from vosbench.ledger import database, tables

Pairs = set[tuple[int, int]]
"""(ancestor id, account id) pairs; every account is its own ancestor."""


def recompute(connection: sa.Connection) -> Pairs:
    """The closure of the accounts' current parents, from ``current_accounts``."""
    view = tables.current_accounts
    parent_of = dict(connection.execute(sa.select(view.c.id, view.c.parent_id)).all())
    pairs: Pairs = set()
    for account_id in parent_of:
        above: int | None = account_id
        seen = set()
        while above is not None and above not in seen:  # the write door refuses cycles; a loop still ends
            seen.add(above)
            pairs.add((above, account_id))
            above = parent_of.get(above)
    return pairs


def stored(connection: sa.Connection) -> Pairs:
    """The pairs as kept."""
    table = tables.account_tree
    return set(connection.execute(sa.select(table.c.ancestor_id, table.c.account_id)).all())


def refresh(connection: sa.Connection) -> bool:
    """Insert the pairs the current tree has and the table lacks; delete those it no longer has.

    New accounts add only their own pairs; a move under another parent changes the pairs of
    the moved subtree alone. Returns whether an account that was already kept moved (its
    pairs changed, not only new accounts' pairs added).
    """
    connection.info.pop(_WHOLE_TREE, None)
    wanted, kept = recompute(connection), stored(connection)
    table = tables.account_tree
    gone = [{"b_ancestor": ancestor, "b_account": account} for ancestor, account in kept - wanted]
    database.execute_many(connection, table.delete().where(table.c.ancestor_id == sa.bindparam("b_ancestor"),
                                                           table.c.account_id == sa.bindparam("b_account")), gone)
    database.execute_many(connection, table.insert(), [{"ancestor_id": ancestor, "account_id": account}
                                                       for ancestor, account in sorted(wanted - kept)])
    known = {account for _, account in kept}
    return bool(kept - wanted) or any(account in known for _, account in wanted - kept)


_WHOLE_TREE = "vosbench.account_tree"
"""Where a connection keeps the tree it read whole (:func:`ancestors`) in its ``info``."""


def ancestors(connection: sa.Connection) -> dict[int, list[int]]:
    """Every account's ancestors (those with any), read once per transaction while the tree stays as it was.

    The account rollup of a file streamed in parts (:mod:`vosbench.ledger.account_rollup`) needs
    them for every part, each a batch of the file's one transaction, and each read the whole tree
    anew (at 50,000 accounts about 100,000 pairs, 0.2 s a part). The pairs change
    with the accounts — an account added raises their count and newest id, a move under another
    parent adds a version: these tell whether the kept tree is still the tree, as for the write
    door's account ids — and when :func:`refresh` brings them in line (it forgets the kept ones).
    """
    accounts, versions = tables.accounts, tables.account_versions
    key = (connection.get_transaction(), *connection.execute(sa.select(*(
        sa.select(aggregate(table.c.id)).scalar_subquery()
        for table in (accounts, versions) for aggregate in (sa.func.count, sa.func.max)))).one())
    kept = connection.info.get(_WHOLE_TREE)
    if kept is None or kept[0] != key:
        tree, found = tables.account_tree, dict[int, list[int]]()
        for ancestor_id, account_id in connection.execute(
                sa.select(tree.c.ancestor_id, tree.c.account_id).where(tree.c.ancestor_id != tree.c.account_id)):
            found.setdefault(account_id, []).append(ancestor_id)
        kept = connection.info[_WHOLE_TREE] = (key, found)
    return kept[1]
