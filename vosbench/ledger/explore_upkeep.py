"""The explore panel's derived tables kept in step with the ledger: the hooks the write paths call.

The account tree (:mod:`vosbench.ledger.account_tree`) follows every change of accounts;
the payment, account and amount rollups (:mod:`vosbench.ledger.payment_rollup`,
:mod:`vosbench.ledger.account_rollup`, :mod:`vosbench.ledger.amount_rollup`) every payment
appended, and are rebuilt for the rare changes that move records between their cells (a
purge; for the account rollup also an account moved under another parent). An account's
currency, which the cells are keyed by, never changes once it holds payments
(:func:`vosbench.ledger.guards.account_currency_guards`). Each hook runs in the caller's
transaction, so the derived rows commit or roll back with the records they describe; ``verify`` recomputes them all (:func:`mismatches`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from vosbench.ledger import account_rollup, account_tree, amount_rollup, coded_payments, payment_rollup, rollup_cells

DERIVED = ("account_tree", "payment_rollup", "account_rollup", "amount_rollup")
"""The tables this module keeps, in the order they are filled (the account rollup follows the tree)."""


def after_payments(payments: coded_payments.CodedPayments) -> None:
    """Payments were appended (coded once for every rollup)."""
    payment_rollup.add_payments(payments)
    account_rollup.add_payments(payments)
    amount_rollup.add_payments(payments)


def after_accounts(connection: sa.Connection) -> None:
    """Accounts were added or changed (a currency only where the account holds no payment: no cell moves)."""
    if account_tree.refresh(connection):
        account_rollup.rebuild(connection)


def after_purge(connection: sa.Connection) -> None:
    """Records were purged (a retention purge of an archived range)."""
    payment_rollup.rebuild(connection)
    account_rollup.rebuild(connection)
    amount_rollup.rebuild(connection)


def fill(connection: sa.Connection, names: Iterable[str] = DERIVED) -> None:
    """Fill the tables ``names`` from the ledger as it is (a ledger made before they existed)."""
    wanted = set(names)
    if "account_tree" in wanted:
        account_tree.refresh(connection)
    if "payment_rollup" in wanted:
        payment_rollup.rebuild(connection)
    if "account_rollup" in wanted:
        account_rollup.rebuild(connection)
    if "amount_rollup" in wanted:
        amount_rollup.rebuild(connection)


def mismatches(connection: sa.Connection) -> list[str]:
    """What ``verify`` reports when the kept tree or rollups differ from ones recomputed from the raw rows."""
    problems = []
    kept_tree, tree = account_tree.stored(connection), account_tree.recompute(connection)
    if kept_tree != tree:
        problems.append(f"the account tree kept for the explore panel disagrees with the accounts: "
                        f"{len(tree - kept_tree)} pairs missing, {len(kept_tree - tree)} extra")
    problems += rollup_cells.mismatches(payment_rollup.stored(connection), payment_rollup.recompute(connection),
                                        "the payment rollup")
    problems += account_rollup.mismatches(connection)
    problems += rollup_cells.mismatches(amount_rollup.stored(connection), amount_rollup.recompute(connection),
                                        "the amount rollup")
    return problems
