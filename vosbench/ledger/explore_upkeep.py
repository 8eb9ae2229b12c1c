"""The explore panel's derived tables kept in step with the ledger: the hooks the write paths call.

The account tree (:mod:`vosbench.ledger.account_tree`) follows every change of accounts;
the payment rollup (:mod:`vosbench.ledger.payment_rollup`) every payment appended, and is
rebuilt for the rare changes that move records between its cells (an account's currency
changed, a purge). Each hook runs in the caller's transaction, so the derived rows commit
or roll back with the records they describe; ``verify`` recomputes both (:func:`mismatches`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from vosbench.ledger import account_tree, payment_rollup


def after_payments(connection: sa.Connection, account_ids: Sequence[int], times: Iterable[datetime],
                   kinds: Iterable[str], channels: Iterable[str], methods: Iterable[str], operators: Iterable[str],
                   amounts: Iterable[int]) -> None:
    """Payments were appended (columns, one value per payment in each)."""
    payment_rollup.add_payments(connection, account_ids, times, kinds, channels, methods, operators, amounts)


def after_accounts(connection: sa.Connection, *, currency_changed: bool) -> None:
    """Accounts were added or changed; ``currency_changed``: an existing account's currency is another now."""
    account_tree.refresh(connection)
    if currency_changed:
        payment_rollup.rebuild(connection)


def after_purge(connection: sa.Connection) -> None:
    """Records were purged (a retention purge of an archived range)."""
    payment_rollup.rebuild(connection)


def fill(connection: sa.Connection) -> None:
    """Fill both from the ledger as it is (a ledger made before they existed)."""
    account_tree.refresh(connection)
    payment_rollup.rebuild(connection)


def mismatches(connection: sa.Connection) -> list[str]:
    """What ``verify`` reports when the kept tree or rollup differs from one recomputed from the raw rows."""
    problems = []
    kept_tree, tree = account_tree.stored(connection), account_tree.recompute(connection)
    if kept_tree != tree:
        problems.append(f"the account tree kept for the explore panel disagrees with the accounts: "
                        f"{len(tree - kept_tree)} pairs missing, {len(kept_tree - tree)} extra")
    kept, rollup = payment_rollup.stored(connection), payment_rollup.recompute(connection)
    for key in sorted(set(kept) | set(rollup)):
        if kept.get(key) != rollup.get(key):
            problems.append(f"the payment rollup for {' '.join(word for word in key if word)} disagrees with the raw records "
                            f"(kept {kept.get(key)}, recomputed {rollup.get(key)})")
    return problems
