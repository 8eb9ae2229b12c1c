"""The back office as reference data: operators, the accounts they manage, agents' commission rates.

The controls read these (working hours per operator, self-dealing, commission against
traffic); a real ledger brings them as ``operators.csv``, ``operator_accounts.csv`` and
``commission_rates.csv`` next to the ledger files. Rows are parsed here and appended
through :func:`vosbench.ledger.write_door.append_batch` like every other import: one transaction
per file, every bad row reported with its line and reason, identical rows skipped (so a
folder can be imported again). A row that differs from what is already configured is
rejected: reference data is not edited by import, so an audit already run keeps meaning
what it meant.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from vosbench.core.errors import VosbenchError
from vosbench.core.model import COMMISSION_ACCOUNT_KINDS, AccountKind
from vosbench.ledger import roles, tables, write_door

DEFAULT_ROLE = "operator"
DEFAULT_RELATION = "manages"


class OwnersOnly(VosbenchError, PermissionError):
    """A login other than a server ledger's owner tried to register operators; nothing of its file was written."""


@dataclass(frozen=True)
class NewOperator:
    login: str
    name: str
    role: str
    timezone: str
    shift_start: int  # minutes after local midnight
    shift_end: int  # before shift_start: the shift runs past midnight, into the next day
    working_days: str  # ISO weekdays, e.g. '12345'
    line: int = 0


@dataclass(frozen=True)
class NewManagedAccount:
    login: str
    account: str
    relation: str
    line: int = 0


@dataclass(frozen=True)
class NewRate:
    account: str
    rate: str  # decimal text, e.g. '0.035'
    line: int = 0


# --- parsing one CSV row --------------------------------------------------------------------------

def _minutes(text: str, field: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 24 or int(match[2]) > 59 or int(match[1]) * 60 + int(match[2]) > 24 * 60:
        raise ValueError(f"{field}: {text!r} is not a local time of day such as 09:00 or 17:30")
    return int(match[1]) * 60 + int(match[2])


def _required(cells: dict, *names: str) -> None:
    for name in names:
        if not cells[name].strip():
            raise ValueError(f"{name} is empty")


def parse_operator(cells: dict, line: int, default_tz: str) -> NewOperator:
    _required(cells, "login", "name")
    try:  # the same rule as `vosbench operators add`: a login that could never sign in is never an approver
        roles.check_login(cells["login"].strip())
    except roles.RoleError as error:
        raise ValueError(str(error)) from None
    zone = cells.get("timezone", "").strip() or default_tz
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: {zone!r} is not an IANA time zone such as Asia/Dubai") from None
    start, end = _minutes(cells["shift_start"], "shift_start"), _minutes(cells["shift_end"], "shift_end")
    if end == start:  # an end before the start is an overnight shift (22:00 to 06:00)
        raise ValueError(f"shift_end {cells['shift_end'].strip()} is shift_start; give a shift of less than a "
                         "day, 00:00 to 24:00 for the whole day, or an end before the start for a night shift")
    days = cells["working_days"].strip()
    if not re.fullmatch(r"[1-7]+", days) or len(set(days)) != len(days):
        raise ValueError(f"working_days: {days!r} is not ISO weekday digits, e.g. 12345 for Monday to Friday "
                         "or 123456 with Saturday")
    return NewOperator(login=cells["login"].strip(), name=cells["name"].strip(),
                       role=cells.get("role", "").strip() or DEFAULT_ROLE, timezone=zone, shift_start=start,
                       shift_end=end, working_days="".join(sorted(days)), line=line)


def parse_managed_account(cells: dict, line: int, _default_tz: str) -> NewManagedAccount:
    _required(cells, "login", "account")
    return NewManagedAccount(login=cells["login"].strip(), account=cells["account"].strip(),
                             relation=cells.get("relation", "").strip() or DEFAULT_RELATION, line=line)


def parse_rate(cells: dict, line: int, _default_tz: str) -> NewRate:
    _required(cells, "account", "rate")
    text = cells["rate"].strip()
    try:
        rate = Decimal(text)
    except InvalidOperation:
        rate = Decimal(-1)
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1) or "e" in text.lower():
        raise ValueError(f"rate: {text!r} is not a share between 0 and 1 as decimal text, e.g. 0.035 for 3.5%")
    return NewRate(account=cells["account"].strip(), rate=text, line=line)


# --- validating against the ledger and writing --------------------------------------------------

def _split_known(batch: write_door._Batch, rows: Sequence, key, stored: dict, values) -> tuple[list, int]:
    """Rows not yet configured; identical ones are skipped, differing or repeated ones rejected."""
    accepted, seen, skipped = [], set(), 0
    for row in rows:
        name = key(row)
        if name in seen:
            batch.reject(row.line, f"{name!r} appears twice in this file")
            continue
        seen.add(name)
        if name in stored:
            if stored[name] == values(row):
                skipped += 1
            else:
                batch.reject(row.line, f"{name!r} is already configured with other values; reference data is "
                                       "not changed by import (the ledger keeps the first)")
            continue
        accepted.append(row)
    return accepted, skipped


def _operator_values(row) -> tuple:
    return (row.name, row.role, row.timezone, row.shift_start, row.shift_end, row.working_days)


def validate_operators(batch: write_door._Batch, rows: Sequence[NewOperator]) -> tuple[list, int]:
    """The operators not yet registered (identical ones skipped); on a server only its owner registers one, as the
    database holds it too (:data:`vosbench.ledger.guards.OWNER_ONLY_REFUSALS`): a role is what every person's
    guard reads, so a clerk's file must not make a supervisor."""
    stored = {row.login: _operator_values(row) for row in batch.connection.execute(sa.select(tables.operators))}
    accepted, skipped = _split_known(batch, rows, lambda row: row.login, stored, _operator_values)
    if accepted and not roles.is_owner(batch.connection):
        new = ", ".join(row.login for row in accepted[:5]) + (" …" if len(accepted) > 5 else "")
        raise OwnersOnly(f"{batch.file}: registering operators ({new}) is the ledger owner's, not "
                         f"{roles.current_login(batch.connection)}'s; nothing of it was written. Connected as the "
                         "owner, run `vosbench operators add LOGIN --role ROLE` (or import this file)")
    return accepted, skipped


def write_operators(batch: write_door._Batch, rows: list[NewOperator], _batch_id: int, _at) -> list[int]:
    batch.connection.execute(tables.operators.insert(), [
        dict(login=r.login, name=r.name, role=r.role, timezone=r.timezone, shift_start=r.shift_start,
             shift_end=r.shift_end, working_days=r.working_days) for r in rows])
    return []  # reference rows have no ledger ids


def validate_managed_accounts(batch: write_door._Batch, rows: Sequence[NewManagedAccount]) -> tuple[list, int]:
    logins = set(batch.connection.scalars(sa.select(tables.operators.c.login)))
    table = tables.operator_accounts
    stored = {(row.login, row.account): (row.relation,) for row in batch.connection.execute(
        sa.select(table.c.login, tables.accounts.c.account, table.c.relation).join(tables.accounts))}
    known = []
    for row in rows:
        if row.login not in logins:
            batch.reject(row.line, f"operator {row.login!r} is unknown; add them to operators.csv first")
        elif batch.account_id(row) is not None:
            known.append(row)
    return _split_known(batch, known, lambda row: (row.login, row.account), stored, lambda row: (row.relation,))


def write_managed_accounts(batch: write_door._Batch, rows: list[NewManagedAccount], _batch_id: int, _at) -> list[int]:
    batch.connection.execute(tables.operator_accounts.insert(), [
        dict(login=r.login, account_id=batch.accounts[r.account].id, relation=r.relation) for r in rows])
    return []  # reference rows have no ledger ids


def validate_rates(batch: write_door._Batch, rows: Sequence[NewRate]) -> tuple[list, int]:
    stored = {row.account: (row.rate,) for row in batch.connection.execute(
        sa.select(tables.accounts.c.account, tables.commission_rates.c.rate).join(tables.accounts))}
    known = []
    for row in rows:
        if batch.account_id(row) is None:
            continue
        kind = AccountKind(batch.accounts[row.account].kind)
        if kind not in COMMISSION_ACCOUNT_KINDS:
            batch.reject(row.line, f"{row.account} is a {kind.value}; commission rates are for agents and resellers")
            continue
        known.append(row)
    return _split_known(batch, known, lambda row: row.account, stored, lambda row: (row.rate,))


def write_rates(batch: write_door._Batch, rows: list[NewRate], _batch_id: int, _at) -> list[int]:
    batch.connection.execute(tables.commission_rates.insert(), [
        dict(account_id=batch.accounts[r.account].id, rate=r.rate) for r in rows])
    return []  # reference rows have no ledger ids


HANDLERS: dict[str, tuple[Callable, Callable]] = {
    "operators": (validate_operators, write_operators),
    "operator_accounts": (validate_managed_accounts, write_managed_accounts),
    "commission_rates": (validate_rates, write_rates),
}
"""How the write door validates and writes each kind of back-office row."""


def append(engine, content: str, rows: Sequence, **options) -> write_door.BatchResult:
    """Append journal rows or back-office rows (``content`` in :data:`HANDLERS`) through the one write door."""
    return write_door.append_batch(engine, content, rows, handlers=HANDLERS.get(content), **options)
