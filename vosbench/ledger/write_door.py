"""Appending batches to the ledger: validation against the store, chain, totals, provenance.

Every write — a single ``record``, a ``reverse``, a CSV import, the demo build — ends
in :func:`append_batch`: one transaction that appends every row of the batch or
nothing, and reports every rejected row with its line and reason. A row already
present under its natural key (payments: source + source key; charges: account +
day; snapshots: account + time; accounts: account number) is skipped when identical,
which makes imports idempotent, and rejected when it differs — except an account's
name, parent, credit limit or currency, whose change is appended as a new version (a currency only
while the account holds no payment, charge or balance: they are read in its currency).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import operator
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench import __version__
from vosbench.core import currencies
from vosbench.core.columns import Columns
from vosbench.core.errors import VosbenchError
from vosbench.core.hidden_text import blank
from vosbench.core.model import COMMISSION_ACCOUNT_KINDS, SIGN_RULES, AccountKind, Channel, Kind, Method
from vosbench.ledger import (
    account_numbers,
    coded_payments,
    database,
    explore_upkeep,
    guards,
    hashchain,
    listed_values,
    money_bounds,
    month_close,
    month_totals,
    prior_period,
    tables,
)


@dataclass(frozen=True)
class NewAccount:
    account: str
    name: str
    kind: AccountKind
    parent: str
    credit_limit: int
    currency: str
    timezone: str
    line: int = 0


class NewPayment(NamedTuple):
    """A payment record to append; ``occurred_at`` is naive UTC, amounts minor units.

    A named tuple, not a dataclass: a sync makes millions of them and hands them from its
    reader process to the writer, and a tuple is built and unpickled at a quarter of the cost.
    """

    source_key: str
    account: str
    kind: Kind
    amount: int
    occurred_at: datetime
    operator: str
    channel: Channel
    method: Method
    reference: str = ""
    memo: str = ""
    reason: str = ""
    balance_after: int | None = None
    reverses: str = ""  # source key (same source) of the record this one reverses …
    reverses_id: int | None = None  # … or its ledger id
    approved_by: str = ""
    line: int = 0


class PaymentColumns(Columns):
    """Payments as columns (:class:`vosbench.core.columns.Columns` of :class:`NewPayment`).

    How the write door holds a batch of payments, and what a bulk writer may hand it
    directly: a sync's reader process sends columns, and the door checks and writes them
    column by column.
    """

    __slots__ = ()
    row_type = NewPayment


class NewCharge(NamedTuple):
    """A day's charges of one account (a named tuple: cheap to build and to send between processes)."""

    account: str
    day: date
    call_fee: int
    agent_fee: int
    other_fee: int
    calls: int
    line: int = 0


class NewSnapshot(NamedTuple):
    """A balance as the source system reported it; ``as_of`` is naive UTC."""

    account: str
    as_of: datetime
    balance: int
    line: int = 0


@dataclass(frozen=True)
class Rejection:
    """One row that was not taken, and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


class ImportRejected(VosbenchError, ValueError):
    """A batch had bad rows; nothing of it was written. ``rejections`` lists them all."""

    def __init__(self, rejections: list[Rejection], total: int | None = None):
        self.rejections = rejections
        self.total = total = max(total or 0, len(rejections))  # a streamed file keeps the first ones only
        shown = "\n  ".join(str(r) for r in rejections[:50])
        more = f"\n  … and {total - 50} more" if total > 50 else ""
        files = ", ".join(sorted({r.file for r in rejections}))
        super().__init__(
            f"{total} row(s) rejected; nothing from {files} was written. "
            f"Fix these rows and import again:\n  {shown}{more}"
        )


@dataclass
class BatchResult:
    """What one batch did: rows added (with their ledger ids) and identical rows skipped."""

    content: str
    file: str
    added: int = 0
    skipped: int = 0
    ids: list[int] = field(default_factory=list)
    batch_id: int | None = None


CLOCK_SKEW = timedelta(minutes=5)
"""How far past the moment it is recorded a record may be dated: machines' clocks differ a little, but a
payment that has not happened yet is no record (and one dated ahead would dodge the month it belongs to)."""

OFFSETS = (timedelta(hours=-12), timedelta(hours=14))
"""The UTC offsets any place on Earth keeps (Baker Island to Kiribati): an offset outside is a typo."""


def to_utc_naive(moment: datetime, *, field_name: str = "time") -> datetime:
    """Convert an aware datetime to the store's naive UTC; a naive one, or one whose offset no place keeps,
    is an error."""
    offset = moment.utcoffset() if moment.tzinfo is not None else None
    if offset is None:
        raise ValueError(
            f"{field_name}: {moment.isoformat()} has no time zone; give an offset or Z "
            "(e.g. 2026-10-05T14:30:00+04:00)"
        )
    if not OFFSETS[0] <= offset <= OFFSETS[1]:
        raise ValueError(f"{field_name}: {moment.isoformat()} has an offset no time zone uses; offsets run from "
                         "-12:00 to +14:00 (e.g. 2026-10-05T14:30:00+04:00)")
    return moment.astimezone(UTC).replace(tzinfo=None)


class _Batch:
    """What the validators of one batch share: the connection, known accounts, rejections."""

    def __init__(self, connection: sa.Connection, file: str, source: str, strict: bool, recorded_at: datetime,
                 earlier_batches: Collection[int] = (), collected_totals: month_totals.MonthDeltas | None = None):
        self.connection = connection
        self.recorded_at = recorded_at
        self.file = file
        self.source = source
        self.strict = strict
        # batches of the same file appended before this one in the same transaction (a file
        # streamed in parts): a row they hold is a repeat within the file, not an earlier import
        self.earlier_batches = earlier_batches
        # the month totals of a file streamed in parts, collected over its parts and kept by the caller
        # when the file ends (:func:`keep_month_totals`): a later month's closing shifts once, not once a part
        self.collected_totals = collected_totals
        self.rejections: list[Rejection] = []

    def kept_month_totals(self, deltas: month_totals.MonthDeltas) -> month_totals.MonthDeltas:
        """The month totals to keep with this batch: ``deltas``, or, when the caller collects a file's, none
        (they join the collected ones) until :data:`COLLECTED_CELLS` are collected, then all of those."""
        if self.collected_totals is None:
            return deltas
        self.collected_totals.add(deltas)
        if self.collected_totals.cells() < COLLECTED_CELLS:
            return month_totals.MonthDeltas()
        return self.collected_totals.taken()

    @functools.cached_property
    def accounts(self) -> dict[str, sa.Row]:
        """Every account's row, by account number (read when a validator needs more than ids)."""
        return {row.account: row for row in self.connection.execute(sa.select(tables.current_accounts))}

    @functools.cached_property
    def account_ids(self) -> dict[str, int]:
        """Account number → ledger id: all a batch of payments needs of most accounts (not to be changed)."""
        if "accounts" in self.__dict__:
            return {account: row.id for account, row in self.accounts.items()}
        return _account_ids(self.connection)

    def reject(self, line: int, reason: str) -> None:
        self.rejections.append(Rejection(self.file, line, reason))

    def account_id(self, row) -> int | None:
        known = self.account_ids.get(row.account)
        if known is None:
            self.reject(row.line, f"account {row.account!r} is unknown; add it to accounts.csv first")
        return known

    def account_ids_of(self, rows: Sequence) -> list[int | None]:
        """:meth:`account_id` of each row: a dict look-up per row, each unknown account rejected."""
        found = list(map(self.account_ids.get, map(operator.attrgetter("account"), rows)))
        if None in found:
            for row, account_id in zip(rows, found):
                if account_id is None:
                    self.account_id(row)
        return found

    def fetch_by(self, column: sa.Column, keys: Sequence, *where) -> dict:
        """Rows of ``column``'s table whose ``column`` is in ``keys``, fetched in chunks.

        Each chunk's keys are bound as one list (:func:`vosbench.ledger.listed_values.listed`), so
        the statement is the same for every chunk of a form and compiled once (SQLAlchemy's
        cache): building an IN list of literals costs more per key than the database's index lookup.
        """
        table, found = column.table, {}
        for form, bound in listed_values.chunks(keys, self.connection.dialect.name):
            statement = sa.select(table).where(listed_values.listed(column, "keys", form), *where)
            for row in self.connection.execute(statement, {"keys": bound}):
                found[row._mapping[column.name]] = row
        return found


_ACCOUNT_IDS = "vosbench.account_ids"
"""Where a connection keeps the account ids it read (:func:`_account_ids`) in its ``info``."""


def _account_ids(connection: sa.Connection) -> dict[str, int]:
    """Account number → ledger id, read once per transaction while no account is added.

    A file streamed in parts appends each part as a batch of one transaction, and each read
    the 50,000 accounts of a large operator anew (90 ms a part). Numbers and ids never
    change and accounts are only added (:func:`_write_accounts` forgets the ids it kept),
    so their count and newest id tell whether the kept ones are complete (a server may
    commit another session's ids out of order: the count sees one the newest id does not).
    """
    accounts = tables.accounts
    key = (connection.get_transaction(),
           *connection.execute(sa.select(sa.func.count(), sa.func.max(accounts.c.id))).one())
    kept = connection.info.get(_ACCOUNT_IDS)
    if kept is None or kept[0] != key:
        kept = connection.info[_ACCOUNT_IDS] = (
            key, dict(connection.execute(sa.select(accounts.c.account, accounts.c.id)).all()))
    return kept[1]


# --- accounts -------------------------------------------------------------------------------

def _validate_accounts(batch: _Batch, rows: Sequence[NewAccount]) -> tuple[list[NewAccount], int]:
    """New accounts, and known ones whose name, parent, credit limit or currency changed (a new version)."""
    new: dict[str, NewAccount] = {}
    skipped = 0
    # the write lock before the accounts are read: another importer's look-alike committed meanwhile is seen
    hashchain.lock_head(batch.connection, tables.accounts.name)
    number_of = {row.id: account for account, row in batch.accounts.items()}
    parents = {account: number_of.get(row.parent_id, "") for account, row in batch.accounts.items()}
    readers_take = {account_numbers.folded(account): account for account in batch.accounts}
    for row in rows:
        if row.account in new:
            batch.reject(row.line, f"account {row.account!r} appears twice in this file")
            continue
        if row.account not in batch.accounts:  # a new number: visible, and like no other account's
            problem = account_numbers.problem(row.account)
            like = readers_take.get(account_numbers.folded(row.account))
            if problem or like:
                batch.reject(row.line, problem or f"account number {row.account!r} reads as the existing account "
                                                  f"{like!r} (it differs only in letter case or look-alike letters); "
                                                  "use that account or another number")
                continue
            readers_take[account_numbers.folded(row.account)] = row.account
        parent = batch.accounts.get(row.parent) if row.parent else None
        parent_kind = parent.kind if parent is not None else (new[row.parent].kind.value if row.parent in new else None)
        if row.parent and parent_kind is None:
            batch.reject(row.line, f"parent {row.parent!r} is unknown; list the parent before its accounts")
            continue
        if parent_kind is not None and AccountKind(parent_kind) not in COMMISSION_ACCOUNT_KINDS:
            batch.reject(row.line, f"parent {row.parent!r} is a {parent_kind}; a parent must be an agent or reseller")
            continue
        if row.account == row.parent:
            batch.reject(row.line, f"account {row.account!r} cannot be its own parent")
            continue
        if row.currency not in currencies.DECIMALS:  # its money would be totalled, and approved, in no currency
            batch.reject(row.line, f"currency {row.currency!r} of account {row.account!r} is no ISO 4217 currency of "
                                   "money (metals, test, fund and unit-of-account codes are not); give one such as USD")
            continue
        known = batch.accounts.get(row.account)
        if known is not None:
            problem = _change_problem(known, row, parents) or _currency_problem(batch.connection, known, row)
            if problem == "same":
                skipped += 1
                continue
            if problem:
                batch.reject(row.line, problem)
                continue
            parents[row.account] = row.parent
        new[row.account] = row
    return list(new.values()), skipped


def _change_problem(known, row: NewAccount, parents: dict[str, str]) -> str | None:
    """'same' for an unchanged account, a rejection for a change no version may make, else None."""
    if (known.kind, known.timezone) != (row.kind.value, row.timezone):
        return (f"account {row.account!r} already exists as a {known.kind} in {known.timezone}; an account's "
                "kind and time zone never change (open a new account number instead)")
    if (known.name, known.credit_limit, known.currency, parents[row.account]) == (
            row.name, row.credit_limit, row.currency, row.parent):
        return "same"
    above = row.parent
    while above:  # the new parent must not sit below the account itself
        if above == row.account:
            return f"account {row.account!r} cannot move under {row.parent!r}, which sits below it"
        above = parents.get(above, "")
    return None


def _currency_problem(connection: sa.Connection, known, row: NewAccount) -> str | None:
    """A rejection for a new currency of an account that holds money, else None.

    Payments, charges and balances carry no currency of their own: they are read in their
    account's, so a USD account's deposits relabelled EUR would be added to EUR ones. The
    database refuses the same version (:func:`vosbench.ledger.guards.account_currency_guards`).
    """
    if row.currency == known.currency:
        return None
    held = []
    for name in guards.MONEY_TABLES:
        table = tables.metadata.tables[name]
        if connection.scalar(sa.select(sa.literal(1)).select_from(table).where(table.c.account_id == known.id).limit(1)):
            held.append(name.replace("_", " "))
    if not held:
        return None
    return (f"account {row.account!r} holds {' and '.join(held)} in {known.currency}: changing its currency to "
            f"{row.currency} would read them as {row.currency}; keep {known.currency}, or open a new account number "
            f"for {row.currency}")


def _write_accounts(batch: _Batch, rows: list[NewAccount], batch_id: int, recorded_at: datetime) -> list[int]:
    """Insert the new accounts, and a version for each changed one (who: the batch's source; when: now)."""
    batch.connection.info.pop(_ACCOUNT_IDS, None)
    ids = {account: row.id for account, row in batch.accounts.items()}
    changed = []
    for row in rows:  # a parent precedes its accounts (validated)
        if row.account in batch.accounts:
            changed.append(row)
            continue
        ids[row.account] = database.inserted_id(batch.connection.execute(tables.accounts.insert().values(
            account=row.account, name=row.name, kind=row.kind.value,
            parent_id=ids[row.parent] if row.parent else None, credit_limit=row.credit_limit,
            currency=row.currency, timezone=row.timezone, batch_id=batch_id)))
    if changed:
        batch.connection.execute(tables.account_versions.insert(), [
            {"account_id": ids[row.account], "name": row.name, "parent_id": ids[row.parent] if row.parent else None,
             "credit_limit": row.credit_limit, "currency": row.currency, "changed_by": batch.source,
             "changed_at": recorded_at, "batch_id": batch_id} for row in changed])
    explore_upkeep.after_accounts(batch.connection)
    return [ids[row.account] for row in rows]


# --- payments -------------------------------------------------------------------------------

def _payment_fields(row: NewPayment, account_id: int) -> tuple:
    return (account_id, row.kind.value, row.amount, row.occurred_at, row.operator, row.channel.value,
            row.method.value, row.reference, row.memo, row.reason, row.balance_after, row.approved_by)


def _stored_payment_fields(row) -> tuple:
    return (row.account_id, row.kind, row.amount, row.occurred_at, row.operator, row.channel,
            row.method, row.reference, row.memo, row.reason, row.balance_after, row.approved_by)


def _validate_payments(batch: _Batch, rows: Sequence[NewPayment] | PaymentColumns) -> tuple[PaymentColumns, int]:
    columns = rows if isinstance(rows, PaymentColumns) else PaymentColumns.of(rows)
    table = tables.payments
    # a source with no payments yet (a first import or sync) cannot hold any of the keys
    held = batch.connection.scalar(sa.select(table.c.id).where(table.c.source == batch.source).limit(1))
    existing = (batch.fetch_by(table.c.source_key, columns.source_key, table.c.source == batch.source)
                if held is not None else {})
    if _all_new_and_valid(batch, columns, existing):
        return columns, 0
    accepted, skipped = _validate_payment_rows(batch, columns.rows(), existing)
    return PaymentColumns.of(accepted), skipped


def _all_new_and_valid(batch: _Batch, columns: PaymentColumns, existing: dict) -> bool:
    """True when every payment is new and breaks no rule, checked column by column.

    The common case of a bulk append, at a fraction of the cost of a row-by-row check.
    Anything else (a key present or repeated, an unknown account, a reversal, a sign
    against its kind, …) answers False, and :func:`_validate_payment_rows` then says
    which row is wrong and why: it alone words the rules' rejections.
    """
    keys, kinds, amounts = columns.source_key, columns.kind, columns.amount
    if existing or not all(keys) or len(set(keys)) != len(keys) or 0 in amounts:
        return False
    if keys and (max(columns.occurred_at) > batch.recorded_at + CLOCK_SKEW
                 or min(columns.occurred_at).year < coded_payments.FIRST_YEAR):
        return False
    if any(columns.reverses) or any(columns.reverses_id) or not batch.account_ids.keys() >= set(columns.account):
        return False
    for kind, positive in {(kind, amount > 0) for kind, amount in zip(kinds, amounts)}:
        rule = SIGN_RULES[kind]
        if rule and positive != (rule > 0):
            return False
    present = set(kinds)
    if Kind.COMMISSION in present:
        paid = {account for account, kind in zip(columns.account, kinds) if kind is Kind.COMMISSION}
        if any(AccountKind(batch.accounts[account].kind) not in COMMISSION_ACCOUNT_KINDS for account in paid):
            return False
    if batch.strict and Kind.ADJUSTMENT in present:
        return not any(blank(reason) for kind, reason in zip(kinds, columns.reason) if kind is Kind.ADJUSTMENT)
    return True


def _validate_payment_rows(batch: _Batch, rows: list[NewPayment], existing: dict) -> tuple[list[NewPayment], int]:
    """Every row checked in turn: each rejected row gets its line and the rule it breaks."""
    table = tables.payments
    originals = batch.fetch_by(table.c.source_key, [r.reverses for r in rows if r.reverses],
                               table.c.source == batch.source)
    originals.update(batch.fetch_by(table.c.id, [r.reverses_id for r in rows if r.reverses_id]))
    already_reversed = set(batch.fetch_by(
        table.c.reverses_id, [r.id for r in originals.values()]))
    accepted: dict[str, NewPayment] = {}
    reversed_keys: set[str | int] = set()  # source keys and ledger ids
    seen: set[str] = set()
    skipped = 0
    for row in rows:
        if not row.source_key:
            batch.reject(row.line, "source_key is empty; every payment needs a key unique in its source")
            continue
        if row.source_key in seen:
            batch.reject(row.line, f"source_key {row.source_key!r} appears twice in this file")
            continue
        seen.add(row.source_key)
        account_id = batch.account_id(row)
        if account_id is None:
            continue
        if row.source_key in existing and existing[row.source_key].batch_id in batch.earlier_batches:
            batch.reject(row.line, f"source_key {row.source_key!r} appears twice in this file")
            continue
        if row.source_key in existing:
            if _stored_payment_fields(existing[row.source_key]) == _payment_fields(row, account_id):
                skipped += 1
            else:
                batch.reject(row.line, f"source_key {row.source_key!r} was already imported with other "
                                       "values; records are never edited: add a reversal and a new record")
            continue
        if row.amount == 0:
            batch.reject(row.line, "amount is zero; a payment record must move money")
            continue
        problem = _date_problem(batch, row.occurred_at)
        if problem:
            batch.reject(row.line, problem)
            continue
        target_key = row.reverses or row.reverses_id
        is_reversal = bool(target_key)
        problem = (_reversal_problem(batch, row, account_id, originals, already_reversed, accepted, reversed_keys)
                   if is_reversal else _sign_problem(batch, row))
        if problem:
            batch.reject(row.line, problem)
            continue
        if target_key:
            reversed_keys.add(target_key)
        accepted[row.source_key] = row
    return list(accepted.values()), skipped


def _date_problem(batch: _Batch, occurred_at: datetime) -> str | None:
    """Why a payment cannot be dated ``occurred_at`` (naive UTC), if it cannot."""
    if occurred_at > batch.recorded_at + CLOCK_SKEW:
        return (f"occurred_at {occurred_at:%Y-%m-%d %H:%M:%S} UTC is later than now ({batch.recorded_at:%Y-%m-%d %H:%M:%S} "
                "UTC): a payment that has not happened is no record; check the time zone the file's times are read in")
    if occurred_at.year < coded_payments.FIRST_YEAR:
        return (f"occurred_at {occurred_at:%Y-%m-%d %H:%M:%S} UTC is before {coded_payments.FIRST_YEAR}, the first year "
                "the ledger handles; check the date's century and format")
    return None


def _sign_problem(batch: _Batch, row: NewPayment) -> str | None:
    rule = SIGN_RULES[row.kind]
    if rule and (row.amount > 0) != (rule > 0):
        direction = "positive (it raises the balance)" if rule > 0 else "negative (it lowers the balance)"
        return f"a {row.kind.value} amount must be {direction}"
    if row.kind is Kind.COMMISSION:
        account_kind = AccountKind(batch.accounts[row.account].kind)
        if account_kind not in COMMISSION_ACCOUNT_KINDS:
            return f"commission is paid to agent or reseller accounts; {row.account} is a {account_kind.value}"
    if batch.strict and row.kind is Kind.ADJUSTMENT and blank(row.reason):
        return "an adjustment needs a reason: say why the balance is being corrected"
    return None


def _reversal_problem(batch, row, account_id, originals, already_reversed, accepted, reversed_keys) -> str | None:
    target_key = row.reverses or row.reverses_id
    if target_key in originals:
        original = originals[target_key]
        if original.id in already_reversed:
            return f"record {target_key!r} is already reversed; a record can be reversed only once"
        target = (original.account_id, original.kind, original.amount)
    elif row.reverses in accepted:
        earlier = accepted[row.reverses]
        target = (batch.accounts[earlier.account].id, earlier.kind.value, earlier.amount)
    elif row.reverses_id:
        return f"payment {row.reverses_id} does not exist"
    else:
        return (f"reverses {row.reverses!r}, which is not a record of source {batch.source!r} "
                "nor an earlier row of this file")
    if target_key in reversed_keys:
        return f"record {target_key!r} is reversed twice in this file"
    if (account_id, row.kind.value, row.amount) != (target[0], target[1], -target[2]):
        return (f"a reversal must have the account and kind of {target_key!r} and exactly the "
                "negative of its amount")
    if batch.strict and blank(row.reason):
        return "a reversal needs a reason"
    return None


def _write_payments(batch: _Batch, rows: PaymentColumns, batch_id: int, recorded_at: datetime) -> list[int]:
    connection, table = batch.connection, tables.payments
    head = hashchain.lock_head(connection, "payments")
    # ids follow the chain head, so a reversal can name an earlier row of this batch
    first_id = head.last_id + 1
    reversed_keys = {key for key in rows.reverses if key}
    count, repeat = len(rows), itertools.repeat
    if reversed_keys or any(rows.reverses_id):
        ledger_ids = {key: row.id for key, row in batch.fetch_by(
            table.c.source_key, list(reversed_keys), table.c.source == batch.source).items()}
        ledger_ids.update((key, first_id + index) for index, key in enumerate(rows.source_key)
                          if key in reversed_keys)
        reverses_ids: Iterable[int | None] = [row_id or (ledger_ids[key] if key else None)
                        for row_id, key in zip(rows.reverses_id, rows.reverses)]
    else:
        reverses_ids = repeat(None, count)
    account_ids = list(map(batch.account_ids.__getitem__, rows.account))
    # payments' columns after id, in table order, built column by column; the str-valued
    # enums are stored and hashed as their text (they are str instances)
    times = list(map(hashchain.canonical_time, rows.occurred_at))  # as stored, hashed and coded for the rollups
    values = zip(account_ids, rows.kind, rows.amount, times,
                 repeat(hashchain.canonical_time(recorded_at), count), rows.operator, rows.channel, rows.method,
                 rows.reference, rows.memo, rows.reason, rows.balance_after, reverses_ids, rows.approved_by,
                 repeat(batch.source, count), rows.source_key, repeat(batch_id, count))
    linked = head.link_all(values)
    _insert(connection, table, linked)
    hashchain.save_head(connection, head)
    coded = coded_payments.CodedPayments(connection, account_ids, times, rows.kind, rows.channel,
                                         rows.method, rows.amount, rows.operator)
    deltas = month_totals.MonthDeltas()
    deltas.add_payment_sums(coded_payments.cells((coded.account, coded.month, coded.kind), (coded.amount, coded.records)))
    due = batch.kept_month_totals(deltas)
    # a refusal past the bound names the month total that passes it first (an account and month): those of
    # the whole file so far when its parts' are collected, else this batch's
    with money_bounds.kept_within(connection, batch.file, due or batch.collected_totals or deltas, coded):
        month_totals.apply(connection, due)
        explore_upkeep.after_payments(coded)
    return [record[0] for record in linked]


# --- charges and balance snapshots ------------------------------------------------------------

@dataclass(frozen=True)
class _Keyed:
    """How a per-account figure (a day's charges, a reported balance) is keyed and compared."""

    table: sa.Table
    key: str  # the column that, with the account, identifies a row
    figures: tuple[str, ...]  # the values that must agree when the row is already present
    what: str
    non_negative: tuple[str, ...]
    key_is_time: bool  # a UTC instant (else a calendar day)


_CHARGES = _Keyed(tables.charges, "day", ("call_fee", "agent_fee", "other_fee", "calls"), "charges",
                  guards.CHARGE_COLUMNS, key_is_time=False)  # the database refuses a negative figure too
_SNAPSHOTS = _Keyed(tables.balance_snapshots, "as_of", ("balance",), "balance", (), key_is_time=True)


def _validate_keyed(batch: _Batch, rows: Sequence, spec: _Keyed) -> tuple[list, int]:
    table = spec.table
    key_of = operator.attrgetter(spec.key)
    # every non-negative figure at once (a tuple, or one value when there is one)
    checked_of = operator.attrgetter(*spec.non_negative) if spec.non_negative else (lambda _row: 0)
    keyed = [(row, account_id) for row, account_id in zip(rows, batch.account_ids_of(rows)) if account_id is not None]
    pairs = [(account_id, key_of(row)) for row, account_id in keyed]
    existing = {}
    if keyed:
        # the accounts bound as one list (a list of literals is compiled anew each time)
        low, high = min(key for _, key in pairs), max(key for _, key in pairs)
        wanted = sorted({account_id for account_id, _ in pairs})
        for form, accounts in listed_values.chunks(wanted, batch.connection.dialect.name):
            statement = sa.select(table).where(listed_values.listed(table.c.account_id, "accounts", form),
                                               table.c[spec.key].between(sa.bindparam("low"), sa.bindparam("high")))
            for stored in batch.connection.execute(statement, {"accounts": accounts, "low": low, "high": high}):
                existing[(stored.account_id, stored._mapping[spec.key])] = stored
    known, distinct = [row for row, _ in keyed], set(pairs)
    # the stored rows read are those of the part's accounts and days, not its pairs: a file's part whose first
    # day is the last of the part before reads that part's rows of the day, which are no repeat of these
    if existing.keys().isdisjoint(distinct) and len(distinct) == len(pairs) and all(
            min(map(operator.attrgetter(name), known), default=0) >= 0 for name in spec.non_negative):
        return known, 0  # each row new, once, with no negative figure: what the rows one by one would accept
    accepted, seen, skipped = [], set(), 0
    for row, account_id in keyed:
        key = (account_id, key_of(row))
        if key in seen:
            batch.reject(row.line, f"{spec.what} of {row.account} at {key[1]} appears twice in this file")
            continue
        seen.add(key)
        checked = checked_of(row)
        if min(checked) < 0 if isinstance(checked, tuple) else checked < 0:
            negative = [name for name in spec.non_negative if getattr(row, name) < 0]
            batch.reject(row.line, f"{spec.what} of {row.account} at {key[1]}: "
                                   f"{', '.join(negative)} cannot be negative")
            continue
        if key in existing and existing[key].batch_id in batch.earlier_batches:
            batch.reject(row.line, f"{spec.what} of {row.account} at {key[1]} appears twice in this file")
            continue
        if key in existing:
            if all(existing[key]._mapping[name] == getattr(row, name) for name in spec.figures):
                skipped += 1
            else:
                batch.reject(row.line, f"{spec.what} of {row.account} at {key[1]} is already recorded with "
                                       "other values; recorded figures are never edited")
            continue
        accepted.append(row)
    return accepted, skipped


def _write_keyed(batch: _Batch, rows: list, batch_id: int, spec: _Keyed) -> list[int]:
    head = hashchain.lock_head(batch.connection, spec.table.name)
    key_text = hashchain.canonical_time if spec.key_is_time else date.isoformat
    count, repeat = len(rows), itertools.repeat
    account_ids = list(map(batch.account_ids.__getitem__, map(operator.attrgetter("account"), rows)))
    keys = list(map(key_text, map(operator.attrgetter(spec.key), rows)))
    figures = [list(map(operator.attrgetter(name), rows)) for name in spec.figures]
    # the table's columns after id, in table order, built column by column
    linked = head.link_all(zip(account_ids, keys, *figures, repeat(batch.source, count), repeat(batch_id, count)))
    _insert(batch.connection, spec.table, linked)
    hashchain.save_head(batch.connection, head)
    if spec is _CHARGES:  # summed per account and month (a day's text begins with its YYYY-MM)
        deltas = month_totals.MonthDeltas()
        deltas.add_charge_sums(coded_payments.cells(
            (coded_payments.coded(account_ids), coded_payments.coded([day[:7] for day in keys])),
            list(map(coded_payments.exact, figures))))
        keep_month_totals(batch.connection, batch.file, batch.kept_month_totals(deltas))
    return [record[0] for record in linked]


COLLECTED_CELLS = 200_000
"""Month-total cells (an account's month, and kind) a file streamed in parts collects before they are kept: a
few tens of MB, whatever the file's size."""


def keep_month_totals(connection: sa.Connection, file: str, deltas: month_totals.MonthDeltas) -> None:
    """Fold ``deltas`` into the kept month totals, refused in words when one would pass the bound
    (:func:`vosbench.ledger.money_bounds.kept_within`)."""
    if deltas:
        with money_bounds.kept_within(connection, file, deltas):
            month_totals.apply(connection, deltas)


def _insert(connection: sa.Connection, table: sa.Table, rows: list[tuple]) -> None:
    """Insert linked rows (full tuples in column order, times as canonical text): COPY on PostgreSQL,
    multi-row INSERTs of the tuples as they are on MariaDB.

    On SQLite the driver gets them as they are — the text is SQLAlchemy's own storage
    format for times and days — because SQLAlchemy's per-row bind processing costs more
    than the insert itself. Large batches also lift the anti-REPLACE guard for the
    length of this transaction only: SQLite serializes writers and DDL is transactional,
    so no other connection ever sees the table without it, and these rows carry fresh
    ids from the locked chain head, so they cannot replace anything.
    """
    columns = [column.name for column in table.columns]
    dialect = connection.dialect.name
    if dialect == "postgresql" and not connection.scalar(
            sa.select(sa.func.row_security_active(table.name))):  # COPY is refused where a policy applies
        _copy(connection, table, columns, rows)
        return
    if dialect in ("mysql", "mariadb"):
        # MariaDB reads the canonical text of times and days as they are, so the tuples go
        # straight to the driver, which sends them as multi-row INSERTs (up to 1 MB each):
        # SQLAlchemy's per-row parameter processing would double the time the chain head is locked
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                                   f"VALUES ({', '.join(['%s'] * len(columns))})", rows)
        return
    if dialect != "sqlite":
        parse = {c.name: (datetime.fromisoformat if isinstance(c.type, sa.DateTime) else date.fromisoformat)
                 for c in table.columns if isinstance(c.type, (sa.DateTime, sa.Date))}
        values = [{name: parse[name](value) if name in parse and value is not None else value
                   for name, value in zip(columns, row)} for row in rows]
        for start in range(0, len(values), 20_000):
            connection.execute(table.insert(), values[start:start + 20_000])
        return
    lift_guard = len(rows) >= 5_000 and table.name in tables.APPEND_ONLY_TABLES
    if lift_guard:
        connection.exec_driver_sql(f"DROP TRIGGER {table.name}_no_replace")
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", rows)
    if lift_guard:
        for ddl in guards.append_only_ddl("sqlite"):
            connection.exec_driver_sql(ddl)


def _copy(connection: sa.Connection, table: sa.Table, columns: list[str], rows: list[tuple]) -> None:
    """PostgreSQL's bulk path: COPY the linked rows in, in the caller's transaction.

    The canonical text of times and days is what PostgreSQL's own input takes, so the rows
    go as they are and the stored values, hence the chain, are those of every other
    dialect; a statement per row costs five times as much (pipelined executemany). A login
    that row-level security applies to (:mod:`vosbench.ledger.scopes`) may not COPY: it inserts.
    """
    driver = connection.connection.driver_connection
    assert driver is not None  # a live connection always has its driver's
    cursor = driver.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@contextlib.contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector for a bulk write.

    A batch allocates millions of small acyclic objects (tuples, dicts) that reference
    counting frees anyway; with millions of parsed rows alive, the collector's repeated
    full scans cost more than the import itself (measured: +20% on a 3M-row import).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# --- the one entry point ------------------------------------------------------------------------

_HANDLERS: dict[str, tuple[Callable, Callable]] = {
    "accounts": (_validate_accounts, _write_accounts),
    "payments": (_validate_payments, _write_payments),
    "charges": (lambda b, rows: _validate_keyed(b, rows, _CHARGES),
                lambda b, rows, bid, _at: _write_keyed(b, rows, bid, _CHARGES)),
    "balances": (lambda b, rows: _validate_keyed(b, rows, _SNAPSHOTS),
                 lambda b, rows, bid, _at: _write_keyed(b, rows, bid, _SNAPSHOTS)),
}


_TEXT_TABLES = {"accounts": tables.accounts, "payments": tables.payments}
"""The contents whose rows carry text a person or a file chose, stored in columns of a set length."""


def _refuse_overlong(batch: _Batch, content: str, rows) -> None:
    """Reject each row whose text is longer than its column holds: PostgreSQL and MariaDB refuse it at the
    insert without naming the row, and SQLite keeps it, so a ledger could not be copied to a server
    (``vosbench copy``). Checked a column at a time (``max`` of the lengths), row by row only past a limit."""
    table = _TEXT_TABLES.get(content)
    if table is None or not len(rows):
        return
    columnar = isinstance(rows, PaymentColumns)
    lines = rows.line if columnar else [row.line for row in rows]
    for column in table.columns:
        limit = getattr(column.type, "length", None)
        values = getattr(rows, column.name, None) if columnar else [getattr(row, column.name, None) for row in rows]
        if limit is None or values is None or not isinstance(values[0], str) or max(map(len, values)) <= limit:
            continue
        for line, value in zip(lines, values):
            if len(value) > limit:
                batch.reject(line, f"{column.name} is {len(value):,} characters long; the ledger keeps at most {limit} "
                                   f"(as PostgreSQL and MariaDB do): shorten it")


_DATED: dict[str, Callable] = {  # (line, month) of each accepted row of a content that is dated
    "payments": lambda rows, keyer: zip(rows.line, map(keyer.of_instant, rows.occurred_at)),
    "charges": lambda rows, keyer: ((row.line, keyer.of_day(row.day)) for row in rows),
    "balances": lambda rows, keyer: ((row.line, keyer.of_instant(row.as_of)) for row in rows),
}


def _refuse_closed_months(batch: _Batch, content: str, accepted, history: bool):
    """Refuse each record dated before the end of the latest closed month: that month's audit stands as it was
    closed, and so does its opening, which every earlier record makes (:mod:`vosbench.ledger.month_close`).

    A payment a sync of ``history`` brings for such a month is posted in the first open
    month instead (:mod:`vosbench.ledger.prior_period`). Returns the accepted rows and those moves.
    """
    if content not in _DATED or not len(accepted):
        return accepted, []
    closed = month_close.trusted_closed_months(batch.connection)
    through = month_close.closed_through(closed)
    if through is None:
        return accepted, []
    timezone = database.ledger_timezone(batch.connection)
    keyer = month_totals.MonthKeyer(timezone)
    dated = list(_DATED[content](accepted, keyer))
    if history and content == "payments" and any(month <= through for _line, month in dated):
        moved, moves = prior_period.post(accepted.rows(), [month for _line, month in dated], through, timezone)
        return PaymentColumns.of(moved), moves
    for line, month in dated:
        if month in closed:
            event = closed[month]
            batch.reject(line, f"{month} is closed (by {event.by} on {event.at:%Y-%m-%d}): record it in an open "
                               "month with a reference to the original, or have the month reopened "
                               f"({month_close.reopen_command(batch.connection, month)})")
        elif month < through:
            event = closed[through]
            batch.reject(line, f"{month} lies before {through}, which is closed (by {event.by} on {event.at:%Y-%m-%d}) "
                               f"and whose opening a record dated earlier would change: record it in an open month with a "
                               "reference to the original, or have the closed months reopened")
    return accepted, []


def append_batch(engine: Engine, content: str, rows: Sequence | PaymentColumns, *, source: str, file: str,
                 file_sha256: str = "", strict: bool = False, recorded_at: datetime | None = None,
                 parse_rejections: Sequence[Rejection] = (),
                 connection: sa.Connection | None = None,
                 handlers: tuple[Callable, Callable] | None = None, history: bool = False,
                 earlier_batches: Collection[int] = (), collected_totals: month_totals.MonthDeltas | None = None
                 ) -> BatchResult:
    """Append ``rows`` (all of one ``content``) in one transaction, or nothing.

    ``strict`` applies the rules of manual entry (an adjustment or reversal needs a
    reason); imports of records that already happened elsewhere are not strict, and
    controls flag what they break. ``recorded_at`` (UTC) defaults to now; the demo
    fixes it so that its chain is reproducible. ``parse_rejections`` (rows that could
    not even be read) are reported together with the rows refused here. ``connection``
    (in a transaction the caller began) makes the batch part of the caller's transaction,
    so that what the caller writes with it (a sync's high-water mark, an approval's
    decision) commits or rolls back together with the batch. ``handlers`` (validate,
    write) append rows other than the journal's own, under the same rules: the back
    office passes its own (:func:`vosbench.ledger.backoffice.append`). ``history`` marks a
    sync of what already happened at the source: its payments dated into a closed month are
    posted in the first open one as prior-period items instead of being refused.
    ``earlier_batches`` are the ids of the batches of the same file already appended in this
    transaction, when a file is streamed in parts: a row repeated from them is rejected as a
    repeat within the file. ``collected_totals`` (with ``connection``) collects the month totals
    of such a file's parts instead of keeping each part's: the caller keeps them
    (:func:`keep_month_totals`) before its transaction commits, and a batch keeps them itself
    once :data:`COLLECTED_CELLS` are collected.
    """
    validate, write = handlers or _HANDLERS[content]
    recorded_at = recorded_at or datetime.now(UTC).replace(tzinfo=None)
    transaction = contextlib.nullcontext(connection) if connection is not None else engine.begin()
    with collector_paused(), transaction as connection:
        batch = _Batch(connection, file, source, strict, recorded_at, earlier_batches, collected_totals)
        if content in _DATED:
            # Every dated writer waits on the payments head, as a month's close does, before it reads what is
            # stored: a close or another import of the same rows committed meanwhile is then seen (a file that had
            # read October open went on to write into it after its close; one that had read its keys absent was
            # refused by the database's unique key, not told they were already present). The payments head is
            # taken before the charges' or balances', in the order an archive's purge takes them.
            hashchain.lock_head(connection, "payments")
        if history and content == "payments":
            rows = prior_period.restore(connection, source, rows)
        accepted, skipped = validate(batch, rows)
        _refuse_overlong(batch, content, accepted)
        accepted, moves = _refuse_closed_months(batch, content, accepted, history)
        if batch.rejections or parse_rejections:
            raise ImportRejected(sorted([*parse_rejections, *batch.rejections], key=lambda r: r.line))
        result = BatchResult(content, file, added=len(accepted), skipped=skipped)
        if accepted:
            batch_id = database.inserted_id(connection.execute(tables.import_batches.insert().values(
                source=source, content=content, file_name=file, file_sha256=file_sha256,
                rows_added=len(accepted), rows_skipped=skipped, imported_at=recorded_at,
                vosbench_version=__version__)))
            result.ids = write(batch, accepted, batch_id, recorded_at)
            prior_period.record(connection, moves, result.ids)
            result.batch_id = batch_id
    return result
