"""The month's double-entry journal: every payment and every day's fees posted through the GL mapping.

Each entry is one movement in one currency: a payment record (its id in the memo and in
``payment_ids``, so every line traces back to the ledger) or one fee of one day for one
currency and account kind. Every entry has one debit and one credit line of the same
amount, so it balances by construction, stays balanced when a package's layout rounds
it to cents, and every currency balances on its own. :func:`imbalances` checks that
anyway, on the lines as written.
"""

from __future__ import annotations

import pandas as pd

from vosbench.core.money import exact_sum
from vosbench.outputs.accounting.mapping import FEES, GlMapping
from vosbench.outputs.accounting.movements import Movements

LINE_COLUMNS = ("entry", "date", "currency", "account_code", "account_name", "debit", "credit", "memo",
                "payment_ids", "source")
"""One row per journal line; ``debit``/``credit`` are int minor units (one of them zero)."""
MONEY_COLUMNS = ("debit", "credit")
_FEE_LABELS = {"call_fee": "call fees", "agent_fee": "agent fees", "other_fee": "other fees"}


def build(movements: Movements, mapping: GlMapping) -> pd.DataFrame:
    """The journal lines of ``movements``, entries in date order (a day's payments, then its fees)."""
    postings = [*_payment_postings(movements.payments, mapping), *_fee_postings(movements.charges, mapping)]
    postings.sort(key=lambda posting: (posting[0], posting[1]))
    rows = []
    for number, (day, _order, currency, debit, credit, amount, memo, payment_ids, source) in enumerate(postings, 1):
        entry = f"VB-{movements.period.label}-{number:05d}"
        for code, debit_amount, credit_amount in ((debit, amount, 0), (credit, 0, amount)):
            rows.append((entry, day, currency, code, mapping.name(code), debit_amount, credit_amount, memo,
                         payment_ids, source))
    lines = pd.DataFrame(rows, columns=list(LINE_COLUMNS))
    for column in MONEY_COLUMNS:
        lines[column] = lines[column].astype("int64")
    return lines


def _payment_postings(payments: pd.DataFrame, mapping: GlMapping):
    for row in payments.itertuples(index=False):
        amount = int(row.amount)
        if amount == 0:
            continue
        debit, credit = mapping.sides(mapping.kinds[row.kind], amount, method=row.method,
                                      account_kind=row.account_kind)
        yield (row.day, (0, int(row.id)), row.currency, debit, credit, abs(amount), _payment_memo(row),
               str(int(row.id)), "payment")


def _payment_memo(row) -> str:
    parts = [f"{row.kind} {row.account} {row.name}", f"{row.channel}/{row.method}", row.reference,
             f"payment {int(row.id)}"]
    if not pd.isna(row.reverses_id):
        parts.append(f"reverses payment {int(row.reverses_id)}")
    return " · ".join(part for part in parts if part)


def _fee_postings(charges: pd.DataFrame, mapping: GlMapping):
    for row in charges.itertuples(index=False):
        for order, fee in enumerate(FEES):
            amount = int(getattr(row, fee))
            if amount == 0:
                continue
            debit, credit = mapping.sides(mapping.charges[fee], amount, method=None, account_kind=row.account_kind)
            memo = (f"{_FEE_LABELS[fee]} of {row.day}: {int(row.accounts)} {row.account_kind} accounts, "
                    f"{int(row.calls)} calls")
            yield (row.day, (1, order, row.account_kind), row.currency, debit, credit, abs(amount), memo, "",
                   "charges")


def imbalances(lines: pd.DataFrame) -> list[str]:
    """Every entry and every currency whose debits and credits differ (empty: the journal balances)."""
    problems = []
    for (entry, currency), group in lines.groupby(["entry", "currency"], sort=True):
        if exact_sum(group["debit"]) != exact_sum(group["credit"]):
            problems.append(f"entry {entry} ({currency}) debits {exact_sum(group['debit'])} "
                            f"!= credits {exact_sum(group['credit'])}")
    if lines.groupby("entry")["currency"].nunique().gt(1).any():
        problems.append("an entry mixes currencies")
    for currency, group in lines.groupby("currency", sort=True):
        if exact_sum(group["debit"]) != exact_sum(group["credit"]):
            problems.append(f"currency {currency} debits != credits")
    return problems


def totals_by_currency(lines: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Per currency: (entries, total debits, total credits), minor units, summed exactly (past int64 too)."""
    return {currency: (group["entry"].nunique(), exact_sum(group["debit"]), exact_sum(group["credit"]))
            for currency, group in lines.groupby("currency", sort=True)}
