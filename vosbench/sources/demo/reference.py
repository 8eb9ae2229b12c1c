"""The demo's back office as the controls read it: operators, an account one of them manages, rates.

The operators' shifts and working days are the ones the simulation schedules manual
entries in (Monday–Friday, Saturdays for some, in the ledger's time zone); each agent's
and reseller's commission rate is the one the simulation pays with. One clerk is
recorded as managing a customer account that carries their family name (a relative's
call shop, as happens in small back offices) — whatever the simulation did on that
account, the self-dealing check sees it as it would in real data.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.ledger import tables
from vosbench.sources.demo import hierarchy as demo_hierarchy
from vosbench.sources.demo.hierarchy import Hierarchy
from vosbench.sources.demo.operators import OPERATORS
from vosbench.sources.demo.scale import DemoScale
from vosbench.sources.demo.timeline import WORKING_WEEKDAYS

SATURDAY = 6  # ISO weekday


def operator_rows(timezone: str) -> list[dict]:
    weekdays = "".join(str(day + 1) for day in WORKING_WEEKDAYS)
    return [{"login": op.login, "name": op.login.replace(".", " ").title(), "role": op.role, "timezone": timezone,
             "shift_start": op.starts * 60, "shift_end": op.ends * 60,
             "working_days": weekdays + (str(SATURDAY) if op.saturdays else "")} for op in OPERATORS]


def managed_accounts(people: Hierarchy) -> list[tuple[str, str]]:
    """(login, account): the first customer whose name holds an operator's family name, for the first such operator."""
    for op in OPERATORS:
        family = op.login.split(".")[-1].lower()
        for customer in people.customers:
            if family in customer.name.lower().split():
                return [(op.login, customer.account)]
    return []


def write(engine: Engine, people: Hierarchy) -> None:
    """Insert the reference rows (the accounts must already be in the ledger)."""
    with engine.begin() as connection:
        ids = dict(connection.execute(sa.select(tables.accounts.c.account, tables.accounts.c.id)).all())
        connection.execute(tables.operators.insert(), operator_rows(people.timezone))
        for login, account in managed_accounts(people):
            connection.execute(tables.operator_accounts.insert().values(
                login=login, account_id=ids[account], relation="manages (a relative's call shop)"))
        connection.execute(tables.commission_rates.insert(), [
            {"account_id": ids[owner.account], "rate": owner.commission_rate}
            for owner in people.commission_earners()])


def write_for_existing(engine: Engine, scale: dict, timezone: str) -> None:
    """Add the reference rows to a demo ledger built before they existed (from its answer key's scale)."""
    with engine.connect() as connection:
        present = connection.scalar(sa.select(sa.func.count()).select_from(tables.operators))
    if not present:
        write(engine, demo_hierarchy.generate(DemoScale(**scale), timezone))
