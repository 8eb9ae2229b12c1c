"""Verification of the whole ledger: every hash chain recomputed, every month total recomputed from raw rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import hashchain, month_totals, tables


@dataclass
class Verification:
    """What ``verify`` found: chain breaks and month totals that disagree with raw rows."""

    breaks: list[hashchain.ChainBreak] = field(default_factory=list)
    total_mismatches: list[str] = field(default_factory=list)
    fingerprint: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.breaks and not self.total_mismatches


def verify(engine: Engine) -> Verification:
    """Recompute every hash chain and every month total from the raw rows."""
    result = Verification()
    with engine.connect() as connection:
        for name in hashchain.CHAINED_TABLES:
            broken = hashchain.verify_chain(connection, name)
            if broken is not None:
                result.breaks.append(broken)
        recomputed = month_totals.recompute(connection)
        kept = month_totals.stored(connection)
        accounts = dict(connection.execute(sa.select(tables.accounts.c.id, tables.accounts.c.account)).all())
        for key in sorted(set(recomputed) | set(kept), key=lambda k: (k[1], k[0])):
            if recomputed.get(key) != kept.get(key):
                account_id, month = key
                result.total_mismatches.append(
                    f"month totals of {accounts.get(account_id, account_id)} for {month} disagree with "
                    f"the raw records (kept {kept.get(key)}, recomputed {recomputed.get(key)})")
        result.fingerprint = hashchain.fingerprint(connection)
    return result
