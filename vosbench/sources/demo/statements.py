"""The demo's statements: what the bank, the card gateway, the IVR platform and the wallet saw.

For the last months of the demo, every deposit, withdrawal and auto-recharge paid by a
way a statement covers becomes a line of that way's statement — a bank statement (OFX
for the first month, CAMT.053 v2 and v8 after), a gateway settlement CSV (net of its fee),
an IVR recharge log and a wallet export — written as real files and imported through
:mod:`vosbench.sources.bankfiles.importing`, like a user's. Most bank lines carry the wire's
reference; some carry only the bank's own id, as banks do.

Planted in the last month, and listed in the answer key under ``statements``:

- ``deposit_without_money``: a gateway deposit the gateway never settled (no line);
- ``money_without_deposit``: a bank credit nobody recorded;
- ``batched_credit``: one bank credit paying three wires recorded separately;
- ``fee_reduced_gateway_payment``: a gateway line without its charge id, net of the fee;
- ``wrong_account_deposit``: the planted wrong-account wire (anomaly A6) as the bank saw it,
  from the intended customer;
- ``duplicate_deposit_second_record``: the second record of the duplicated wire (anomaly
  A5) has no money of its own.

Reversed deposits and their reversals have no line: the money never came. The lines
are made only from what the ledger holds, after it is built, so the payments and their
hash chains are the same with or without statements.
"""

from __future__ import annotations

import csv
import random
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from vosbench.core.money import UNIT, format_money, to_decimal
from vosbench.ledger import tables
from vosbench.sources.bankfiles import importing, profiles
from vosbench.sources.demo.timeline import DemoMonth

STATEMENT_MONTHS = 3
STATEMENT_CURRENCY = "USD"
"""The bank account and gateway settle in USD: only the USD accounts' payments reach these statements."""
BANK_IBAN = "AE070331234567890123456"
BANK_OWN_ID_SHARE = 0.15
"""Share of bank lines that carry the bank's own id instead of the wire's reference."""
_P, _A = tables.payments, tables.accounts
_METHODS = {"bank_wire": "bank", "gateway": "gateway", "card": "gateway", "recharge_card": "ivr", "crypto": "crypto"}


@dataclass
class _Record:
    id: int
    account: str
    name: str
    kind: str
    amount: int
    method: str
    reference: str
    memo: str
    occurred_at: datetime  # naive UTC
    local_time: datetime  # in the ledger's time zone

    @property
    def local_day(self) -> date:
        return self.local_time.date()

    @property
    def channel(self) -> str:
        return _METHODS[self.method]


@dataclass
class _BankLine:
    posted_on: date
    amount: int
    bank_id: str
    reference: str
    counterparty: str
    description: str


def make_and_import(engine: Engine, months: list[DemoMonth], folder: Path, anomalies: list, seed: int,
                    timezone_name: str) -> dict:
    """Write the statements of the last months into ``folder``, import them, and return the answer-key section."""
    rng = random.Random(f"{seed}:statements")
    zone = ZoneInfo(timezone_name)
    chosen = months[-STATEMENT_MONTHS:]
    by_kind = {a.kind: a for a in anomalies}
    fee = profiles.load("gateway").fee
    planted: list[dict] = []
    files: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    for position, month in enumerate(chosen):
        records = _records(engine, month, zone)
        last = month is chosen[-1]
        skip_ids: set[int] = set()
        if last:
            duplicate = by_kind.get("duplicate_deposit")
            if duplicate and len(duplicate.payment_ids) == 2:
                skip_ids.add(duplicate.payment_ids[1])
                planted.append(_case("duplicate_deposit_second_record", "no_money", [duplicate.payment_ids[1]],
                                     f"second record of the wire duplicated by anomaly {duplicate.id}: the money "
                                     "came once"))
        bank = [r for r in records if r.channel == "bank" and r.id not in skip_ids]
        bank_lines = [_bank_line(r, rng) for r in bank]
        gateway = [r for r in records if r.channel == "gateway"]
        gateway_rows = [_gateway_row(r, fee) for r in gateway]
        if last:
            wrong = by_kind.get("wrong_account_deposit")
            planted += _plant_bank(rng, bank, bank_lines, records, engine, month, wrong)
            planted += _plant_gateway(rng, gateway, gateway_rows, fee)
        names = _write_month(folder, month, position, bank_lines, gateway_rows,
                             [r for r in records if r.channel == "ivr"], [r for r in records if r.channel == "crypto"])
        files += names
    for name in files:
        profile = {"gateway": "gateway", "ivr": "ivr-log", "crypto": "crypto"}.get(name.split("-")[0])
        importing.import_file(engine, folder / name, profile=profile,
                            imported_at=datetime.combine(chosen[-1].days[-1] + timedelta(days=1), datetime.min.time()))
    return {"months": [m.label for m in chosen], "files": files, "window_days": 3, "planted": planted}


def _case(kind: str, status: str, payment_ids: list[int], detail: str, *, line_keys: Sequence[str] = (),
          rule: str = "") -> dict:
    return {"kind": kind, "expected_status": status, "expected_rule": rule, "payment_ids": sorted(payment_ids),
            "line_keys": list(line_keys), "detail": detail}


def _records(engine: Engine, month: DemoMonth, zone: ZoneInfo) -> list[_Record]:
    reversal = _P.alias("reversal")
    statement = (sa.select(_P.c.id, _A.c.account, _A.c.name, _P.c.kind, _P.c.amount, _P.c.method, _P.c.reference,
                           _P.c.memo, _P.c.occurred_at)
                 .select_from(_P.join(_A, _A.c.id == _P.c.account_id).outerjoin(reversal, reversal.c.reverses_id == _P.c.id))
                 .where(_P.c.occurred_at >= month.day_starts[0], _P.c.occurred_at < month.end,
                        _P.c.kind.in_(("deposit", "withdrawal", "auto_recharge")), _P.c.method.in_(list(_METHODS)),
                        _A.c.currency == STATEMENT_CURRENCY,
                        _P.c.reverses_id.is_(None), reversal.c.id.is_(None))
                 .order_by(_P.c.id))
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [_Record(r.id, r.account, r.name, r.kind, r.amount, r.method, r.reference, r.memo, r.occurred_at,
                    r.occurred_at.replace(tzinfo=UTC).astimezone(zone)) for r in rows]


def _bank_line(record: _Record, rng: random.Random) -> _BankLine:
    """The bank credits (or debits) a wire the day it is recorded or the day before."""
    posted = record.local_day - timedelta(days=rng.choice((0, 0, 1)))
    own_id = rng.random() < BANK_OWN_ID_SHARE or not record.reference.startswith("FT")
    bank_id = f"BNK{record.id:09d}" if own_id else record.reference
    return _BankLine(posted, record.amount, bank_id, "" if own_id else record.reference, record.name,
                     f"Wire ref. {record.account}" if record.amount > 0 else f"Transfer to {record.name}")


def _gateway_row(record: _Record, fee) -> dict:
    """The gateway's report of a charge: it keeps its fee, except on charges smaller than the fee."""
    charged = fee.fee(record.amount)
    net = record.amount - (charged if charged < record.amount else 0)
    return {"created_utc": f"{record.occurred_at:%Y-%m-%d %H:%M:%S}", "charge_id": record.reference,
            "customer_account": record.account, "card_holder": record.name.upper()[:26], "currency": STATEMENT_CURRENCY,
            "gross": str(to_decimal(record.amount)), "fee": str(to_decimal(record.amount - net)),
            "net": str(to_decimal(net)), "status": "succeeded",
            "description": "Auto-recharge" if record.kind == "auto_recharge" else "Portal top-up"}


def _plant_bank(rng, bank: list[_Record], lines: list[_BankLine], records: list[_Record], engine: Engine,
                month: DemoMonth, wrong) -> list[dict]:
    planted = []
    if wrong is not None and wrong.payment_ids:
        index = next((i for i, r in enumerate(bank) if r.id == wrong.payment_ids[0]), None)
        if index is not None:
            record = bank[index]
            intended_name, intended_account = _intended(record.memo)
            lines[index] = _BankLine(record.local_day, record.amount, record.reference, record.reference,
                                     intended_name, f"Wire ref. {intended_account}")
            planted.append(_case("wrong_account_deposit", "wrong_account", [record.id],
                                 f"the bank shows {intended_name} ({intended_account}) paying "
                                 f"{format_money(record.amount)}; it was recorded on {record.account} "
                                 f"(anomaly {wrong.id})", line_keys=[f"ref:{record.reference}"], rule="reference"))
    taken = {p for case in planted for p in case["payment_ids"]} | set(wrong.payment_ids if wrong else [])
    amounts = defaultdict[int, int](int)
    for record in bank:
        amounts[record.amount] += 1
    # parts whose amount no other wire has, so that no single line could take one of them instead
    deposits = [(i, r) for i, r in enumerate(bank)
                if r.amount > 0 and r.id not in taken and r.kind == "deposit" and amounts[r.amount] == 1]
    deposits.sort(key=lambda item: (item[1].local_day, item[1].id))
    offset = rng.randrange(len(deposits)) if deposits else 0
    batched: set[int] = set()  # the lines the bulk credit replaces
    for start in [*range(offset, len(deposits) - 2), *range(0, min(offset, len(deposits) - 2))]:
        trio = deposits[start:start + 3]  # three wires paid within two days of each other
        days = [r.local_day for _, r in trio]
        total = sum(r.amount for _, r in trio)
        if (days[-1] - days[0]).days <= 2 and amounts[total] == 0 and len(trio) == 3:
            batched = {i for i, _ in trio}
            bank_id = f"BULK{trio[0][1].id:09d}"
            lines.append(_BankLine(days[-1], total, bank_id, "", "Gulf Pay Services LLC",
                                   "BULK CREDIT 3 TRANSFERS"))
            planted.append(_case("batched_credit", "matched", [r.id for _, r in trio],
                                 f"one credit of {format_money(total)} from a payment agent pays three wires "
                                 f"recorded separately ({', '.join(r.account for _, r in trio)})",
                                 line_keys=[f"ref:{bank_id}"], rule="batch"))
            break
    lines[:] = [line for i, line in enumerate(lines) if i not in batched]
    day = month.days[rng.randrange(5, len(month.days) - 5)]
    amount = rng.randrange(300, 2_000) * UNIT + 7_500
    bank_id = f"FT{day:%y}{day.timetuple().tm_yday:03d}9{rng.randrange(10**5):05d}"
    stranger = rng.choice([r for r in bank if r.amount > 0]).name
    lines.append(_BankLine(day, amount, bank_id, bank_id, stranger, "Payment for VoIP services"))
    planted.append(_case("money_without_deposit", "no_payment_record", [],
                         f"{stranger} wired {format_money(amount)} on {day}; no payment record shows it",
                         line_keys=[f"ref:{bank_id}"]))
    return planted


def _intended(memo: str) -> tuple[str, str]:
    """The payer's name and account in the wrong-account wire's memo: 'Wire from NAME, ref. ACCOUNT'."""
    text = memo.removeprefix("Wire from ")
    name, _, account = text.rpartition(", ref. ")
    return name, account


def _plant_gateway(rng, gateway: list[_Record], rows: list[dict], fee) -> list[dict]:
    deposits = [i for i, r in enumerate(gateway) if r.kind == "deposit" and r.amount >= 20 * UNIT]
    if not deposits:
        return []
    unsettled = rng.choice(deposits)
    others = [i for i in deposits if gateway[i].amount != gateway[unsettled].amount]  # else the fee rule could take either
    if not others:
        return []
    reduced = rng.choice(others)
    planted = [_case("deposit_without_money", "no_money", [gateway[unsettled].id],
                     f"web deposit of {format_money(gateway[unsettled].amount)} on {gateway[unsettled].account} "
                     "recorded, never settled by the gateway"),
               _case("fee_reduced_gateway_payment", "matched", [gateway[reduced].id],
                     f"the gateway settled {format_money(gateway[reduced].amount - fee.fee(gateway[reduced].amount))} "
                     f"for a {format_money(gateway[reduced].amount)} "
                     "deposit and lost the charge id: only the fee rule pairs them", rule="fee")]
    rows[reduced] = {**rows[reduced], "charge_id": ""}
    del rows[unsettled]
    return planted


# --- the files ------------------------------------------------------------------------------------

def _write_month(folder: Path, month: DemoMonth, position: int, bank: list[_BankLine], gateway: list[dict],
                 ivr: list[_Record], crypto: list[_Record]) -> list[str]:
    names = []
    bank.sort(key=lambda line: (line.posted_on, line.bank_id))
    if position == 0:
        names.append(_write_ofx(folder / f"bank-{month.label}.ofx", month, bank))
    else:
        version = "02" if position == 1 else "08"
        names.append(_write_camt(folder / f"bank-{month.label}.camt053-{version}.xml", month, bank, version))
    names.append(_write_csv(folder / f"gateway-{month.label}.csv", list(_gateway_columns()), gateway, ","))
    names.append(_write_csv(folder / f"ivr-{month.label}.csv", ["Time", "Caller account", "Card serial", "Face value",
                                                               "Result"],
                            [{"Time": f"{r.local_time:%d/%m/%Y %H:%M:%S}",
                              "Caller account": r.account, "Card serial": r.reference,
                              "Face value": str(to_decimal(r.amount)).replace(".", ","), "Result": "OK"} for r in ivr],
                            ";"))
    names.append(_write_csv(folder / f"crypto-{month.label}.csv", ["Date (UTC)", "TxHash", "From", "Amount",
                                                                  "Direction", "Memo", "Network"],
                            [{"Date (UTC)": f"{r.occurred_at:%Y-%m-%d %H:%M:%S}", "TxHash": r.reference,
                              "From": f"wallet of {r.account}",
                              "Amount": str(to_decimal(abs(r.amount))), "Direction": "IN" if r.amount > 0 else "OUT",
                              "Memo": r.account, "Network": r.memo.split(" ")[0]} for r in crypto], ","))
    return names


def _gateway_columns():
    return ("created_utc", "charge_id", "customer_account", "card_holder", "currency", "gross", "fee", "net",
            "status", "description")


def _write_csv(path: Path, columns: list[str], rows: list[dict], delimiter: str) -> str:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path.name


def _sgml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _write_ofx(path: Path, month: DemoMonth, lines: list[_BankLine]) -> str:
    transactions = "\n".join(
        f"<STMTTRN><TRNTYPE>{'CREDIT' if l.amount > 0 else 'DEBIT'}<DTPOSTED>{l.posted_on:%Y%m%d}"
        f"<TRNAMT>{to_decimal(l.amount)}<FITID>{l.bank_id}<NAME>{_sgml(l.counterparty[:32])}"
        f"<MEMO>{_sgml(l.description)}</STMTTRN>" for l in lines)
    balance = sum(l.amount for l in lines)
    path.write_text(
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0"
        f"<SEVERITY>INFO</STATUS><DTSERVER>{month.days[-1]:%Y%m%d}235959<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\n"
        f"<STMTRS><CURDEF>{STATEMENT_CURRENCY}<BANKACCTFROM><BANKID>033<ACCTID>{BANK_IBAN[-10:]}<ACCTTYPE>CHECKING</BANKACCTFROM>\n"
        f"<BANKTRANLIST><DTSTART>{month.days[0]:%Y%m%d}<DTEND>{month.days[-1]:%Y%m%d}\n{transactions}\n"
        f"</BANKTRANLIST><LEDGERBAL><BALAMT>{to_decimal(balance)}<DTASOF>{month.days[-1]:%Y%m%d}</LEDGERBAL>\n"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n", encoding="ascii", errors="replace")
    return path.name


def _write_camt(path: Path, month: DemoMonth, lines: list[_BankLine], version: str) -> str:
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
    ET.register_namespace("", namespace)
    def q(tag: str) -> str:
        return f"{{{namespace}}}{tag}"

    def sub(parent, tag, text=None, **attributes):
        element = ET.SubElement(parent, q(tag), attributes)
        if text is not None:
            element.text = text
        return element

    document = ET.Element(q("Document"))
    root = sub(document, "BkToCstmrStmt")
    header = sub(root, "GrpHdr")
    sub(header, "MsgId", f"DEMO-{month.label}")
    sub(header, "CreDtTm", f"{month.days[-1] + timedelta(days=1)}T06:00:00")
    statement = sub(root, "Stmt")
    sub(statement, "Id", f"STMT-{month.label}")
    account = sub(statement, "Acct")
    sub(sub(account, "Id"), "IBAN", BANK_IBAN)
    sub(account, "Ccy", STATEMENT_CURRENCY)
    for line in lines:
        entry = sub(statement, "Ntry")
        sub(entry, "Amt", str(to_decimal(abs(line.amount))), Ccy=STATEMENT_CURRENCY)
        sub(entry, "CdtDbtInd", "CRDT" if line.amount > 0 else "DBIT")
        status = sub(entry, "Sts")
        if version == "02":
            status.text = "BOOK"
        else:
            sub(status, "Cd", "BOOK")
        sub(sub(entry, "BookgDt"), "Dt", line.posted_on.isoformat())
        sub(sub(entry, "ValDt"), "Dt", line.posted_on.isoformat())
        sub(entry, "AcctSvcrRef", line.bank_id)
        details = sub(sub(entry, "NtryDtls"), "TxDtls")
        sub(sub(details, "Refs"), "EndToEndId", line.reference or "NOTPROVIDED")
        party = sub(sub(details, "RltdPties"), "Dbtr" if line.amount > 0 else "Cdtr")
        sub(sub(party, "Pty") if version != "02" else party, "Nm", line.counterparty)
        sub(sub(details, "RmtInf"), "Ustrd", line.description)
    ET.ElementTree(document).write(path, encoding="UTF-8", xml_declaration=True)
    return path.name
