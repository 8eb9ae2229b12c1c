"""``vosbench sync vos3000-db``: bring a VOS3000 database's money into the ledger.

Four streams, in this order, each through the ledger's one write door
(:func:`vosbench.ledger.write_door.append_batch`), each batch committed together with its
high-water mark (:mod:`vosbench.sources.vos3000.state`):

1. ``e_customer`` → accounts (agents: accounts that are someone's parent);
2. ``e_payhistory`` → payment records, in id chunks read and converted by a child
   process (:mod:`vosbench.sources.vos3000.payreader`); source key ``e_payhistory.id``;
   the signed movement from consecutive ``customermoney`` values where possible
   (:mod:`vosbench.sources.vos3000.signs`), else the mapping's rule;
3. charges per account and closed day (ledger time zone): ``fee`` of the calls that
   stopped that day summed per customer account, ``agentfee`` per agent account, from
   ``e_cdr`` and the daily ``e_cdr_YYYYMMDD`` tables (or ``e_reportcustomerfee``), and
   ``e_consumption.money`` as other fees. A day is synced once it has ended;
4. ``e_customer.money`` → a balance snapshot at sync time, when it changed.

Re-running adds nothing (marks, and the ledger's idempotent keys); killing a run leaves
whole chunks only, and the next run resumes after the last saved mark.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm import tqdm

from vosbench import __version__
from vosbench.core import periods
from vosbench.core.config import mask_url
from vosbench.core.model import COMMISSION_ACCOUNT_KINDS, AccountKind
from vosbench.ledger import database, hashchain, tables, text_index
from vosbench.ledger.write_door import NewAccount, NewCharge, NewSnapshot, PaymentColumns, collector_paused
from vosbench.sources.vos3000 import payreader, schema, source, state
from vosbench.sources.vos3000.convert import Converter, from_epoch_ms, to_epoch_ms
from vosbench.sources.vos3000.mapping import Mapping

ACCOUNTS, PAYMENTS, CHARGES, BALANCES = "e_customer", "e_payhistory", "charges", "e_customer.money"
CHUNK_SIZE = 100_000  # e_payhistory rows per batch: larger batches spread the month totals' cost thinner
MONEY_RULE = "double → shortest round-trip decimal text → 4 places, half-to-even (vosbench.core.money.from_double)"


@dataclass
class SyncReport:
    """What one sync did, for the command's summary."""

    source: str
    accounts_added: int = 0
    payment_rows_read: int = 0
    payments_added: int = 0
    payments_present: int = 0
    days: int = 0
    cdr_rows_read: int = 0
    charges_added: int = 0
    snapshots_added: int = 0
    flags: Counter = field(default_factory=Counter)

    def lines(self) -> list[str]:
        lines = [f"accounts: {self.accounts_added} added",
                 f"e_payhistory: {self.payment_rows_read} rows read, {self.payments_added} payments added, "
                 f"{self.payments_present} already present",
                 f"charges: {self.days} closed day(s), {self.cdr_rows_read} CDR rows read, "
                 f"{self.charges_added} account-days added",
                 f"balances: {self.snapshots_added} snapshot(s) of e_customer.money added"]
        if self.flags:
            shown = ", ".join(f"{code} {count}" for code, count in sorted(self.flags.items()))
            lines.append(f"flagged: {shown} (`--flags` prints them; table sync_flags keeps them)")
        return lines


class _Sync:
    """One run of the database sync: the streams share the ledger's accounts, marks and converter."""

    def __init__(self, ledger: Engine, vos: Engine, *, source_name: str, mapping: Mapping, chunk_size: int,
                 progress: bool, now: datetime, provenance: dict):
        self.ledger, self.vos, self.source, self.mapping = ledger, vos, source_name, mapping
        self.chunk_size, self.progress, self.now, self.provenance = chunk_size, progress, now, provenance
        self.report = SyncReport(source_name)
        self.converter = Converter()
        self.marks = state.marks(ledger, source_name)
        with ledger.connect() as connection:
            self.timezone = database.ledger_timezone(connection)
            self.known = {row.account: row.kind for row in connection.execute(
                sa.select(tables.accounts.c.account, tables.accounts.c.kind))}

    def _append(self, content: str, rows: Sequence | PaymentColumns, *, file: str, keep):
        # a sync brings what already happened on the switch: a payment of a closed month is a prior-period item
        return state.append_and_keep(self.ledger, content, rows, source=self.source, file=file, keep=keep,
                                     history=True)

    def _save(self, stream: str, mark: str, rows_read: int, raised: list[state.Flag]):
        self.report.flags.update(flag.code for flag in raised)
        return state.saver(self.source, stream, mark, rows_read, self.provenance, raised)

    def _inexact_flags(self, stream: str) -> list[state.Flag]:
        return [state.Flag(stream, item.source_key, "inexact_money", str(item))
                for item in self.converter.take_inexact()]

    # --- accounts ---------------------------------------------------------------------------

    def accounts(self) -> None:
        with self.vos.connect() as connection:
            rows = source.customers(connection, self.mapping.parent_column)
        raised = [state.Flag(ACCOUNTS, f"e_customer.id={row.id}", "account_missing",
                             "no account number (NULL): no record can name it; left out") for row in rows if not row.account]
        rows = [row for row in rows if row.account]
        by_id = {row.id: row for row in rows}
        parent_of = {row.id: row.parent_id for row in rows
                     if row.parent_id and row.parent_id in by_id and row.parent_id != row.id}
        agents = {by_id[parent].account for parent in parent_of.values()}
        new = []
        for row in sorted(rows, key=lambda r: (_depth(r.id, parent_of), r.id)):
            parent = by_id[parent_of[row.id]].account if row.id in parent_of else ""
            kind = AccountKind.AGENT if row.account in agents else AccountKind.CUSTOMER
            if row.limitmoney is None:  # the column is nullable in VOS3000 (DEFAULT NULL): no limit was ever set
                limit = 0
                raised.append(state.Flag(ACCOUNTS, row.account, "limit_missing",
                                         f"e_customer.id={row.id} has no limitmoney (NULL); read as no overdraft (0)"))
            else:
                limit = self.converter.minor(row.limitmoney, field="limitmoney", source_key=f"e_customer.id={row.id}")
            if parent and parent in self.known and AccountKind(self.known[parent]) not in COMMISSION_ACCOUNT_KINDS:
                raised.append(state.Flag(ACCOUNTS, row.account, "parent_not_agent",
                                         f"parent {parent} is a {self.known[parent]} in the ledger; kept without parent"))
                parent = ""
            if row.account in self.known and self.known[row.account] != kind.value:
                raised.append(state.Flag(ACCOUNTS, row.account, "account_changed",
                                         f"e_customer now makes it a {kind.value}; the ledger keeps the first"))
                continue
            # a known account is sent too: the write door skips it unchanged, or appends its new version
            new.append(NewAccount(row.account, row.name or row.account, kind, parent, abs(limit),
                                  self.mapping.currency, self.timezone, line=row.id))
            self.known[row.account] = kind.value
        raised += self._inexact_flags(ACCOUNTS)
        result = self._append("accounts", new, file="e_customer",
                              keep=self._save(ACCOUNTS, str(len(rows)), len(rows), raised))
        self.report.accounts_added += result.added

    def ensure_accounts(self, stream: str, names: dict[str, str]) -> None:
        """Add accounts a stream names that e_customer does not hold (deleted accounts), flagged."""
        missing = sorted(account for account in names if account and account not in self.known)
        if not missing:
            return
        rows = [NewAccount(account, names[account] or account, AccountKind.CUSTOMER, "", 0,
                           self.mapping.currency, self.timezone) for account in missing]
        raised = [state.Flag(stream, account, "account_not_in_e_customer",
                             f"{stream} names account {account}, which e_customer does not hold; "
                             "added as a customer without parent") for account in missing]
        self.report.flags.update(flag.code for flag in raised)
        result = self._append("accounts", rows, file=f"{stream} (accounts missing from e_customer)",
                              keep=state.flag_keeper(self.source, raised))
        self.report.accounts_added += result.added
        self.known.update({account: AccountKind.CUSTOMER.value for account in missing})

    # --- payment records ----------------------------------------------------------------------

    def payments(self) -> None:
        saved = self.marks.get(PAYMENTS)
        after, read = (int(saved.mark), saved.rows_read) if saved else (0, 0)
        with self.vos.connect() as connection:
            remaining = source.payments_after(connection, after)
        if not remaining:  # nothing new since the mark: no reader to start
            return
        with self.ledger.connect() as connection:
            present = hashchain.fingerprint(connection)["payments"]["rows"]
        # A child process reads and converts the next chunk while this one is written to the ledger;
        # a first sync (more than doubling the payments) builds their indexes once, at the end.
        deferred = remaining > 2 * present
        with tqdm(total=remaining, desc="e_payhistory", unit="row", disable=not self.progress) as bar, \
                database.indexes_deferred(self.ledger, tables.payments, defer=deferred):
            for chunk in payreader.chunks(self.vos.url, self.mapping, after, self.chunk_size):
                strangers = sorted(chunk.accounts - self.known.keys())
                if strangers:
                    with self.vos.connect() as connection:
                        self.ensure_accounts(PAYMENTS, source.payment_names(connection, strangers))
                read += chunk.rows_read
                result = self._append("payments", chunk.payments(),
                                      file=f"e_payhistory id {chunk.first_id}..{chunk.last_id}",
                                      keep=self._save(PAYMENTS, str(chunk.last_id), read, chunk.raised))
                self.report.payment_rows_read += chunk.rows_read
                self.report.payments_added += result.added
                self.report.payments_present += result.skipped
                text_index.keep_up(self.ledger)  # the chunk is searchable at once
                bar.update(chunk.rows_read)
            if deferred:
                bar.set_postfix_str("building the payments' indexes")
        database.refresh_statistics(self.ledger)

    # --- charges ------------------------------------------------------------------------------

    def charges(self) -> None:
        zone = ZoneInfo(self.timezone)
        last_closed = periods.local_day(self.now, zone.key) - timedelta(days=1)
        saved = self.marks.get(CHARGES)
        with self.vos.connect() as connection:
            if saved:
                first = date.fromisoformat(saved.mark) + timedelta(days=1)
            else:
                earliest = source.earliest_ms(connection, self.mapping.charges_from)
                if earliest is None:
                    return
                first = periods.local_day(from_epoch_ms(earliest), zone.key)
            tables = set(source.cdr_tables(connection)) if self.mapping.charges_from == "cdr" else set()
        days = [first + timedelta(days=n) for n in range((last_closed - first).days + 1)]
        read = saved.rows_read if saved else 0
        for day in tqdm(days, desc="charges", unit="day", disable=not self.progress):
            start_ms = to_epoch_ms(datetime.combine(day, time(), zone))
            end_ms = to_epoch_ms(datetime.combine(day + timedelta(days=1), time(), zone))
            with self.vos.connect() as connection:
                totals, names, count, raised, read_from = self._day_totals(connection, day, tables, start_ms, end_ms)
            self.ensure_accounts(CHARGES, names)
            rows = [NewCharge(account, day, *figures) for account, figures in sorted(totals.items())
                    if any(figures)]
            read += count
            save = self._save(CHARGES, day.isoformat(), read, raised)
            self.report.days += 1
            self.report.cdr_rows_read += count
            if not rows:  # nothing to append: only the mark moves
                with self.ledger.begin() as ledger:
                    save(ledger)
                continue
            result = self._append("charges", rows, file=f"charges {day} from {', '.join(read_from)}", keep=save)
            self.report.charges_added += result.added

    def _day_totals(self, connection, day: date, tables: set[str], start_ms: int, end_ms: int):
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # call, agent, other fee; calls
        names: dict[str, str] = {}
        convert, count, accountless = self.converter.minor, 0, 0
        read_from = []
        if self.mapping.charges_from == "cdr":
            seen: set[int] = set()
            nearby = [schema.daily_cdr_name(day + timedelta(days=n)) for n in (-1, 0, 1)]
            for table in [name for name in nearby if name in tables] + sorted(tables & {schema.ROLLING_CDR}):
                read_from.append(table)
                for flowno, customer, fee, agent, agentfee in source.cdr_fees(connection, table, start_ms, end_ms):
                    if flowno in seen:  # the same call in the rolling and a daily table
                        continue
                    seen.add(flowno)
                    count += 1
                    if not customer:  # a call VOS3000 put on no account (an unknown caller refused before billing)
                        if fee or agentfee:
                            raise ValueError(_no_account(f"{table}.flowno={flowno}", "customeraccount", fee or agentfee))
                        accountless += 1
                        continue
                    figures = totals[customer]
                    figures[0] += convert(fee, field="fee", source_key=f"{table}.flowno={flowno}")
                    figures[3] += 1
                    names.setdefault(customer, customer)
                    if agent and agentfee:
                        totals[agent][1] += convert(agentfee, field="agentfee", source_key=f"{table}.flowno={flowno}")
                        names.setdefault(agent, agent)
        else:
            read_from.append("e_reportcustomerfee")
            for row in source.reported_fees(connection, start_ms, end_ms):
                count += 1
                figures = totals[row.customeraccount]
                figures[0] += convert(row.fee, field="fee", source_key=f"e_reportcustomerfee.id={row.id}")
                figures[3] += row._mapping["count"]  # row.count is also the tuple method, to a type checker
                names.setdefault(row.customeraccount, row.customername)
        read_from.append("e_consumption")
        for row in source.consumptions(connection, start_ms, end_ms):
            if not row.account:
                if row.money:
                    raise ValueError(_no_account(f"e_consumption.id={row.id}", "account", row.money))
                accountless += 1
                continue
            totals[row.account][2] += convert(row.money, field="money", source_key=f"e_consumption.id={row.id}")
            names.setdefault(row.account, row.accountname)
        inexact = self.converter.take_inexact()
        raised = []
        if inexact:
            raised.append(state.Flag(CHARGES, day.isoformat(), "inexact_money",
                                     f"{len(inexact)} value(s) had more than 4 decimal places, each rounded "
                                     f"half-to-even before summing; first: {inexact[0]}"))
        if accountless:
            raised.append(state.Flag(CHARGES, day.isoformat(), "charge_without_account",
                                     f"{accountless} call(s) or deduction(s) of no account and no money left out"))
        return totals, names, count, raised, read_from

    # --- balances -----------------------------------------------------------------------------

    def balances(self) -> None:
        with self.vos.connect() as connection:
            customers = [row for row in source.customers(connection, self.mapping.parent_column) if row.account]
        # a balance left NULL is only not reported: no snapshot, flagged (the payments make the ledger's own)
        raised = [state.Flag(BALANCES, row.account, "balance_missing", f"e_customer.id={row.id} has no money (NULL); "
                             "no snapshot taken") for row in customers if row.money is None]
        reported = {row.account: self.converter.minor(row.money, field="money", source_key=f"e_customer.id={row.id}")
                    for row in customers if row.money is not None}
        rows = changed_balances(self.ledger, self.source, reported, self.now)
        raised += self._inexact_flags(BALANCES)
        result = self._append("balances", rows, file="e_customer.money",
                              keep=self._save(BALANCES, self.now.isoformat(sep=" "), len(reported), raised))
        self.report.snapshots_added += result.added


def _no_account(record: str, column: str, amount: float) -> str:
    """The one line refusing a charge that moves money but names no account (its ``column`` NULL or empty)."""
    return (f"{record}: charges {amount} but its {column} is empty (NULL), and the sync never guesses whose money it "
            "is: set the account on that record in VOS3000 and sync again (what came before it is kept)")


def changed_balances(ledger: Engine, source_name: str, reported: dict[str, int], as_of: datetime) -> list[NewSnapshot]:
    """Snapshots at ``as_of`` of the reported balances that differ from the source's last one
    (so a re-run, or a sync where nothing moved, adds none)."""
    snapshots = tables.balance_snapshots
    latest = (sa.select(snapshots.c.account_id, sa.func.max(snapshots.c.as_of).label("as_of"))
              .where(snapshots.c.source == source_name).group_by(snapshots.c.account_id).subquery())
    with ledger.connect() as connection:
        last = {row.account: row.balance for row in connection.execute(
            sa.select(tables.accounts.c.account, snapshots.c.balance)
            .join(snapshots, snapshots.c.account_id == tables.accounts.c.id)
            .join(latest, (latest.c.account_id == snapshots.c.account_id) & (latest.c.as_of == snapshots.c.as_of)))}
    return [NewSnapshot(account, as_of, balance) for account, balance in sorted(reported.items())
            if last.get(account) != balance]


def _depth(account_id: int, parent_of: dict[int, int]) -> int:
    """How many parents are above an account (a cycle stops the count)."""
    depth, seen = 0, {account_id}
    while account_id in parent_of and parent_of[account_id] not in seen:
        account_id = parent_of[account_id]
        seen.add(account_id)
        depth += 1
    return depth


def sync_database(ledger: Engine, source_url: str, *, mapping: Mapping, source_name: str = "vos3000",
                  chunk_size: int = CHUNK_SIZE, progress: bool = True, now: datetime | None = None) -> SyncReport:
    """Sync the VOS3000 database at ``source_url`` into ``ledger``; see the module docstring.

    ``now`` (naive UTC) is the sync's moment: days before its local day are closed, and
    the balance snapshot is taken at it.
    """
    if chunk_size < 1:
        raise ValueError(f"--chunk-size {chunk_size}: give a positive number of rows, e.g. 20000")
    vos = source.connect(source_url)
    now = (now or datetime.now(UTC).replace(tzinfo=None)).replace(microsecond=0)
    provenance = {"source_url": mask_url(source_url), "database": vos.url.database, "money_rule": MONEY_RULE,
                  "vosbench_version": __version__, **mapping.provenance()}
    try:
        # unpickling a chunk makes ~2M objects: the collector's scans cost 20%; the ledger is read unmapped, so
        # the pages a large sync reads back (its text index, its statistics) do not stay in memory
        with collector_paused(), database.unmapped(ledger):
            sync = _Sync(ledger, vos, source_name=source_name, mapping=mapping, chunk_size=chunk_size,
                         progress=progress, now=now, provenance=provenance)
            sync.accounts()
            sync.payments()
            sync.charges()
            sync.balances()
    finally:
        vos.dispose()
    return sync.report
