"""ISO 20022 CAMT.053 bank-to-customer statements, v2 (camt.053.001.02) to v8 and later.

Read with the standard library's XML parser, element by element in the document's own
namespace: no maintained Python CAMT reader was available that covers both v2 and v8
(the candidates on PyPI are young single-author projects), and the elements vosbench
needs have the same names in every version. Where v8 differs — the entry status is
``<Sts><Cd>BOOK</Cd></Sts>`` instead of ``<Sts>BOOK</Sts>``, a party's name sits under
``<Pty>`` — both forms are read. Python's expat refuses entity expansion bombs.

One booked entry (``Ntry``) is one statement line: that is the money the bank moved,
even when its details list several transactions (a batched credit). Pending and
information-only entries are not lines.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Literal, overload

from vosbench.core import money
from vosbench.ledger.write_door import Rejection
from vosbench.sources.bankfiles.lines import ParsedStatement, StatementFileError, StatementLine, sha256_of

_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})\}Document$")
SUPPORTED_VERSIONS = range(2, 14)
"""camt.053.001.02 … .13: the element names read here are the same in all of them."""


def looks_like_camt(head: bytes) -> bool:
    return b"camt.053" in head[:2000]


def parse(path: Path, *, channel: str = "bank", name: str | None = None) -> ParsedStatement:
    """Read every statement (``Stmt``) of a CAMT.053 file into lines."""
    raw = path.read_bytes()
    file = name or path.name
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as error:
        raise StatementFileError(f"{file}: not well-formed XML ({error}); export the statement again") from None
    found = _NAMESPACE.match(root.tag)
    if not found:
        raise StatementFileError(f"{file}: not a CAMT.053 statement (root element {root.tag}); expected "
                                 "Document in the urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN namespace")
    version = int(found.group(1))
    if version not in SUPPORTED_VERSIONS:
        raise StatementFileError(f"{file}: CAMT.053 version 001.{version:02d} is not supported; "
                                 f"vosbench reads 001.02 to 001.{SUPPORTED_VERSIONS[-1]:02d}")
    ns = {"c": root.tag[1:].split("}")[0]}
    statements = root.findall("c:BkToCstmrStmt/c:Stmt", ns)
    if not statements:
        raise StatementFileError(f"{file}: the CAMT.053 document holds no statement (BkToCstmrStmt/Stmt)")
    lines, rejections, number = [], [], 0
    for statement in statements:
        account = _text(statement, "c:Acct/c:Id/c:IBAN", ns) or _text(statement, "c:Acct/c:Id/c:Othr/c:Id", ns)
        currency = _text(statement, "c:Acct/c:Ccy", ns)
        statement_id = _text(statement, "c:Id", ns) or _text(statement, "c:ElctrncSeqNb", ns)
        for entry in statement.findall("c:Ntry", ns):
            number += 1
            status = _text(entry, "c:Sts/c:Cd", ns) or _text(entry, "c:Sts", ns)
            if status and status != "BOOK":
                continue
            try:
                lines.append(_line(entry, ns, account, statement_id, currency, number))
            except ValueError as error:
                rejections.append(Rejection(file, number, f"entry {number}: {error}"))
    return ParsedStatement(file, f"camt053.{version:02d}", channel, "camt053", lines, rejections,
                           sha256_of(raw), len(statements))


def _text(element, path: str, ns: dict) -> str:
    found = element.find(path, ns)
    return (found.text or "").strip() if found is not None and found.text else ""


@overload
def _date(element, path: str, ns: dict, what: str, *, required: Literal[True]) -> date: ...
@overload
def _date(element, path: str, ns: dict, what: str, *, required: bool) -> date | None: ...
def _date(element, path: str, ns: dict, what: str, *, required: bool) -> date | None:
    text = _text(element, f"{path}/c:Dt", ns) or _text(element, f"{path}/c:DtTm", ns)[:10]
    if not text:
        if required:
            raise ValueError(f"{what} is missing ({path.replace('c:', '')}/Dt or DtTm)")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date in the form YYYY-MM-DD") from None


def _line(entry, ns: dict, account: str, statement_id: str, currency: str, number: int) -> StatementLine:
    amount_element = entry.find("c:Amt", ns)
    if amount_element is None or not (amount_element.text or "").strip():
        raise ValueError("Amt is missing")
    amount = money.to_minor(amount_element.text.strip(), field="Amt")
    direction = _text(entry, "c:CdtDbtInd", ns)
    if direction not in ("CRDT", "DBIT"):
        raise ValueError(f"CdtDbtInd {direction!r} must be CRDT or DBIT")
    signed = amount if direction == "CRDT" else -amount
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)
    side = "Dbtr" if direction == "CRDT" else "Cdtr"  # the other party: who paid us, or whom we paid
    names = [_text(d, f"c:RltdPties/c:{side}/c:Nm", ns) or _text(d, f"c:RltdPties/c:{side}/c:Pty/c:Nm", ns)
             for d in details]
    remittance = [_text(d, "c:RmtInf/c:Ustrd", ns) for d in details]
    end_to_end = [r for r in (_text(d, "c:Refs/c:EndToEndId", ns) for d in details) if r and r != "NOTPROVIDED"]
    service_ref = _text(entry, "c:AcctSvcrRef", ns)
    entry_ref = _text(entry, "c:NtryRef", ns)
    reference = end_to_end[0] if len(end_to_end) == 1 else (service_ref or entry_ref)
    description = " / ".join(part for part in [_text(entry, "c:AddtlNtryInf", ns), *remittance] if part)
    key = service_ref or entry_ref
    raw = {"amt": amount_element.text.strip(), "ccy": amount_element.get("Ccy", ""), "cdtdbtind": direction,
           "acctsvcrref": service_ref, "ntryref": entry_ref, "end_to_end_ids": end_to_end,
           "names": [n for n in names if n], "remittance": [r for r in remittance if r]}
    return StatementLine(
        statement_account=account, statement_id=statement_id,
        posted_on=_date(entry, "c:BookgDt", ns, "booking date", required=True),
        value_on=_date(entry, "c:ValDt", ns, "value date", required=False),
        amount=signed, currency=amount_element.get("Ccy", "") or currency or "USD",
        reference=reference, counterparty=next((n for n in names if n), ""),
        description=description, raw=raw, line_key=f"ref:{key}" if key else "", line=number)
