"""``vosbench sync vos3000-api``: the same streams as the database sync, through the Web API.

For a range of local days (the ledger's time zone, which should be the switch's):
accounts (GetAllCustomers + GetCustomer; ``category`` 1 = agent, parent = ``agentAccount``),
payment records (GetPayHistory per account), charges per account and day
(GetReportCustomerFee daily totals + GetConsumption), and a balance snapshot of every
account's ``money``. The API gives payment records no id, so the source key is
``account/payTime/n`` (n counts records of the same account and millisecond). The
range's last day is saved as the mark with the charges of that day; the next run
without ``--from`` starts after it. Everything lands through ``append_batch``, so a
re-run of the same range adds nothing.

:func:`pay_deposit` records a deposit with the Pay call and then in the ledger
(channel api), only when confirmed.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm import tqdm

from vosbench import __version__
from vosbench.core import money, periods
from vosbench.core.errors import VosbenchError
from vosbench.core.model import AccountKind, Channel, Kind, Method
from vosbench.ledger import database, identity, policy, tables, thresholds
from vosbench.ledger.approvals import ApprovalError
from vosbench.ledger.policy import ControlSettings
from vosbench.ledger.write_door import NewAccount, NewCharge, NewPayment, append_batch
from vosbench.sources.vos3000 import convert, state
from vosbench.sources.vos3000.api import Client
from vosbench.sources.vos3000.convert import Converter, from_epoch_ms, to_epoch_ms
from vosbench.sources.vos3000.dbsync import MONEY_RULE, SyncReport, changed_balances
from vosbench.sources.vos3000.mapping import Mapping
from vosbench.sources.vos3000.records import PayRecord, PayRecords, to_payments

STREAM = "api"


def _day(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field} {text!r}: give a day as YYYY-MM-DD") from None


def sync_api(ledger: Engine, client: Client, *, mapping: Mapping, source_name: str = "vos3000-api",
             start: str | None = None, end: str | None = None, progress: bool = True,
             now: datetime | None = None) -> SyncReport:
    """Sync the days ``start``..``end`` (default: after the last mark .. yesterday)."""
    now = (now or datetime.now(UTC).replace(tzinfo=None)).replace(microsecond=0)
    with ledger.connect() as connection:
        zone_name = database.ledger_timezone(connection)
    zone = ZoneInfo(zone_name)
    saved = state.marks(ledger, source_name).get(STREAM)
    last = _day(end, "--to") or (periods.local_day(now, zone.key) - timedelta(days=1))
    first = _day(start, "--from") or (date.fromisoformat(saved.mark) + timedelta(days=1) if saved else None)
    if first is None:
        raise ValueError("--from is needed for the first sync of this source: give the first day, e.g. --from 2026-10-01")
    report = SyncReport(source_name)
    provenance = {"source_url": client.url, "money_rule": MONEY_RULE, "vosbench_version": __version__,
                  **mapping.provenance(), "charges_from": "GetReportCustomerFee + GetConsumption"}
    converter = Converter()
    briefs = client.all_customers()
    accounts = {brief["account"]: brief for brief in briefs}
    details = {info["account"]: info for info in client.customers(sorted(accounts))}
    raised: list[state.Flag] = []
    report.accounts_added = _accounts(ledger, details, mapping, zone_name, converter, source_name)
    if first <= last:
        begin = datetime.combine(first, time())
        finish = datetime.combine(last + timedelta(days=1), time())
        payments: list[NewPayment] = []
        for account in tqdm(sorted(accounts), desc="GetPayHistory", unit="account", disable=not progress):
            records = sorted(client.pay_history(begin, finish, account=account), key=lambda r: r["payTime"])
            payments += _payments(ledger, source_name, account, records, mapping, converter, raised)
        report.payment_rows_read = len(payments)
        result = state.append_and_keep(ledger, "payments", payments, source=source_name,
                                       file=f"GetPayHistory {first}..{last}", history=True,
                                       keep=state.flag_keeper(source_name, raised))
        report.payments_added, report.payments_present = result.added, result.skipped
        charges = _charges(client, sorted(accounts), first, last, begin, finish, zone, converter)
        report.days = (last - first).days + 1
        result = state.append_and_keep(ledger, "charges", charges, source=source_name,
                                       file=f"GetReportCustomerFee {first}..{last}",
                                       keep=state.saver(source_name, STREAM, last.isoformat(), len(charges),
                                                        provenance))
        report.charges_added = result.added
    # a balance the switch gives as null is only not reported: no snapshot, flagged (as the database sync does)
    unreported = [state.Flag(STREAM, account, "balance_missing", "GetAllCustomers gives no money (null); no snapshot "
                             "taken") for account, brief in accounts.items() if brief.get("money") is None]
    reported = {account: converter.minor(brief["money"], field="money", source_key=account)
                for account, brief in accounts.items() if brief.get("money") is not None}
    snapshots = changed_balances(ledger, source_name, reported, now)
    report.snapshots_added = append_batch(ledger, "balances", snapshots, source=source_name,
                                          file="GetAllCustomers money").added
    inexact = unreported + [state.Flag(STREAM, item.source_key, "inexact_money", str(item))
                            for item in converter.take_inexact()]
    if inexact:
        with ledger.begin() as connection:
            state.flag_keeper(source_name, inexact)(connection)
    report.flags.update(flag.code for flag in raised + inexact)
    return report


def _accounts(ledger, details: dict, mapping: Mapping, zone_name: str, converter: Converter, source_name: str) -> int:
    with ledger.connect() as connection:
        known = {account: kind for account, kind in connection.execute(
            sa.select(tables.accounts.c.account, tables.accounts.c.kind))}
    agents = {account for account, info in details.items() if int(info.get("category", 0)) == 1}

    def depth(account: str) -> int:
        seen, count = {account}, 0
        while (parent := details.get(account, {}).get("agentAccount")) in details and parent not in seen:
            seen.add(parent)
            account, count = parent, count + 1
        return count

    rows = []
    for account in sorted(details, key=lambda a: (depth(a), a)):
        kind = AccountKind.AGENT if account in agents else AccountKind.CUSTOMER
        if known.get(account, kind.value) != kind.value:  # a kind never changes: the ledger keeps the first
            continue
        info = details[account]  # a known account too: the door skips it unchanged, or appends its new version
        parent = info.get("agentAccount") or ""
        rows.append(NewAccount(
            account, info.get("name") or account, kind,
            # a limit given as null, like one not given, is no overdraft (the database sync reads its NULL so too)
            parent if parent in agents else "", abs(converter.minor(
                0.0 if info.get("limitMoney") is None else info["limitMoney"], field="limitMoney", source_key=account)),
            mapping.currency, zone_name))
    return append_batch(ledger, "accounts", rows, source=source_name, file="GetCustomer").added


def _payments(ledger, source_name: str, account: str, items: list[dict], mapping: Mapping,
              converter: Converter, raised: list[state.Flag]) -> list[NewPayment]:
    with ledger.connect() as connection:  # the balance after this source's last record of the account
        table, accounts = tables.payments, tables.accounts
        before = connection.scalar(
            sa.select(table.c.balance_after).join(accounts, accounts.c.id == table.c.account_id)
            .where(accounts.c.account == account, table.c.source == source_name,
                   table.c.occurred_at < from_epoch_ms(items[0]["payTime"]) if items else sa.false())
            .order_by(table.c.occurred_at.desc(), table.c.id.desc()).limit(1))
    records, same_ms = [], defaultdict[int, int](int)
    for item in items:
        n = same_ms[item["payTime"]]
        same_ms[item["payTime"]] += 1
        key = f"{account}/{item['payTime']}/{n}"
        records.append(PayRecord(key, account, converter.minor(item["fee"], field="fee", source_key=key),
                                 converter.minor(item["customerMoney"], field="customerMoney", source_key=key),
                                 int(item.get("type", 0)), int(item.get("payType", -1)),
                                 from_epoch_ms(item["payTime"]), "vos3000-api", item.get("memo") or ""))
    return to_payments(PayRecords.of(records), {account: before}, mapping, STREAM, raised).rows()


def _charges(client: Client, accounts: list[str], first: date, last: date, begin: datetime, finish: datetime,
             zone: ZoneInfo, converter: Converter) -> list[NewCharge]:
    totals: dict[tuple[str, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def local_day(ms: int) -> date:
        return periods.local_day(from_epoch_ms(ms), zone.key)

    for item in client.report_customer_fee(accounts, first, last):
        figures = totals[(item["account"], local_day(item["beginTime"]))]
        figures[0] += converter.minor(item["totalFee"], field="totalFee", source_key=item["account"])
        figures[3] += int(item.get("cdrCount", 0))
    for account in accounts:
        for item in client.consumption(begin, finish, account=account):
            figures = totals[(account, local_day(item["time"]))]
            figures[2] += converter.minor(item["money"], field="money", source_key=account)
    return [NewCharge(account, day, *figures) for (account, day), figures in sorted(totals.items())
            if any(figures) and first <= day <= last]


@dataclass(frozen=True)
class Deposit:
    """A deposit :func:`pay_deposit` recorded: its ledger id, and a warning about Pay's reply ("" if none)."""

    payment_id: int
    warning: str = ""


class PaidNotRecorded(VosbenchError):
    """Pay moved the money on the switch but the ledger could not record it: it must not be paid again."""


def pay_deposit(ledger: Engine, client: Client, account: str, amount: str, *, operator: str, memo: str = "",
                source_name: str = "vos3000-api", confirm: bool = False,
                settings: ControlSettings | None = None) -> Deposit:
    """Record a deposit on VOS3000 (Pay) and then in the ledger (channel api).

    The amount is decimal text and goes to VOS3000 as plain decimal text (``1000``, ``12.5``:
    never a float or an exponent); Pay has no pay-mode field, so the method is ``gateway``.
    The ledger's record is the deposit that was sent — the amount is ours, not the reply's —
    and keeps the new balance VOS3000 reports as ``balance_after`` when it is readable (see
    :func:`_reply_balance`). The operator must be a registered one who may enter records (on
    a server: the login). A deposit at or above its approval threshold (the ledger's, which ``settings``
    may only lower) is refused before the switch is asked: the money would move
    before a supervisor could approve it. Once Pay has answered, any failure to record is a
    :class:`PaidNotRecorded` that says how to record it without paying again.
    """
    minor = money.to_minor(amount, field="--amount")
    if minor <= 0:
        raise ValueError(f"--amount {amount}: a deposit must be positive")
    with ledger.connect() as connection:
        operator = identity.acting_operator(connection, operator, allowed=identity.MAKERS, action="pays deposits")
        currency = connection.scalar(sa.select(tables.current_accounts.c.currency)
                                     .where(tables.current_accounts.c.account == account))
        threshold = (None if currency is None else
                     thresholds.threshold(connection, settings or policy.load(), currency, Kind.DEPOSIT.value))
    if currency is None:
        raise ValueError(f"--pay {account}: the account is not in the ledger; sync the accounts first")
    if threshold is not None and minor >= threshold:
        raise ApprovalError(f"--pay {account} --amount {amount}: {thresholds.why_held(currency, Kind.DEPOSIT.value, threshold)}"
                            "; it needs a supervisor's approval before money moves: pay it in VOS3000 once approved "
                            "and let the sync bring it in")
    moment = datetime.now(UTC).replace(tzinfo=None)
    info = client.pay(account, format(money.to_decimal(minor).normalize(), "f"), memo, confirm=confirm)
    balance, warning = _reply_balance(info)
    payment = NewPayment(source_key=f"pay/{account}/{to_epoch_ms(moment)}", account=account, kind=Kind.DEPOSIT,
                         amount=minor, occurred_at=moment, operator=operator, channel=Channel.API,
                         method=Method.GATEWAY, memo=memo, balance_after=balance)
    try:
        return Deposit(append_batch(ledger, "payments", [payment], source=source_name, file="Pay", strict=True).ids[0],
                       warning)
    except Exception as error:  # the money has moved: whatever failed, say so rather than invite a second Pay
        raise PaidNotRecorded(_not_recorded(payment, source_name, error)) from error


def _reply_balance(info: dict) -> tuple[int | None, str]:
    """Pay's new balance (``infoPay.money``) in minor units, or None and a warning saying why not.

    The deposit is already on the switch when the reply is read, so a balance that is absent,
    not a number, or not exact at 4 places never stops the record: it is kept as missing, and
    the next sync's balance snapshot brings the switch's balance in.
    """
    value = info.get("money")
    try:
        if value is None:
            raise ValueError("infoPay.money: absent")
        return convert.exact_minor(value, field="infoPay.money"), ""
    except ValueError as error:
        return None, (f"VOS3000's reply to Pay has no readable new balance ({error}); the deposit is recorded "
                      "without a balance after, and the next `sync vos3000-api` brings the balance in")


def _not_recorded(payment: NewPayment, source_name: str, error: Exception) -> str:
    """The message of a deposit Pay took that the ledger could not record: do not pay again, record it by hand."""
    row = {"source_key": payment.source_key, "account": payment.account, "kind": payment.kind.value,
           "amount": str(money.to_decimal(payment.amount)), "occurred_at": f"{payment.occurred_at.isoformat()}Z",
           "operator": payment.operator, "channel": payment.channel.value, "method": payment.method.value,
           "memo": payment.memo, "balance_after": "" if payment.balance_after is None
           else str(money.to_decimal(payment.balance_after))}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return (f"VOS3000 HAS ALREADY TAKEN this deposit of {money.to_decimal(payment.amount)} to {payment.account} "
            f"(Pay answered), but the ledger could not record it: {getattr(error, 'orig', None) or error}. "
            f"Do NOT pay it again. Record it once the ledger is fixed: save these two lines as payments.csv and run "
            f"`vosbench import --source {source_name} payments.csv`:\n{text.getvalue()}")
